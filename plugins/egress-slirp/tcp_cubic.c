/* SPDX-License-Identifier: MIT */
/*
 * The relay's congestion window toward the client: slow start as RFC 5681,
 * recovery as RFC 6582 / 6675 (tcp_out.c), growth and reduction by CUBIC
 * (RFC 9438). Pure.
 *
 * Why CUBIC and not Reno: a client behind WireGuard drops bursts at its
 * UDP socket when its reader falls behind; Reno halves at each such event
 * and then grows one segment per round trip, so at 50 ms a flow that lost
 * once at 300 Mbit/s crawled back at ~0.2 Mbit/s per second (measured: a
 * flat 125 Mbit/s for the rest of a test). CUBIC gives back 0.3 of the
 * window only and regrows in time, not in round trips (K seconds to the
 * old window whatever the RTT).
 */
#include <math.h>

#include "tcp.h"

/* RFC 9438 4.3: the Reno-friendly additive increase for beta 0.7 */
#define ALPHA_CUBIC (3.0 * (1 - SLE_CUBIC_BETA) / (1 + SLE_CUBIC_BETA))

void sle_cc_init(struct sle_cc *c, uint32_t mss)
{
	c->mss = mss;
	c->cwnd = SLE_TCP_INIT_CWND * mss;
	c->ssthresh = UINT32_MAX;
	c->recover = 0;
	c->recovering = false;
	c->dupacks = 0;
	c->epoch = false;
	c->t_epoch = c->k = c->w_max = c->w_est = 0;
}

static void set_cwnd(struct sle_cc *c, double bytes)
{
	double cap = (double)SLE_TCP_WND_MAX * 2;

	if (bytes > cap)
		bytes = cap;
	if (bytes < c->mss)
		bytes = c->mss;
	c->cwnd = (uint32_t)bytes;
}

/* RFC 9438 4.2 */
static double w_cubic(const struct sle_cc *c, double t)
{
	double d = t - c->k;

	return SLE_CUBIC_C * d * d * d + c->w_max;
}

void sle_cc_acked(struct sle_cc *c, uint32_t acked, double now, double srtt)
{
	double w = (double)c->cwnd / c->mss, segs = (double)acked / c->mss;
	double t, target;

	if (c->cwnd < c->ssthresh) {
		/* slow start: by what was acknowledged (stretch ACKs from
		 * clients behind GRO acknowledge many segments at once) */
		set_cwnd(c, (double)c->cwnd + acked);
		return;
	}
	if (!c->epoch) {
		/* a congestion avoidance stage begins (4.2): K from the
		 * window before the last reduction; none yet, or already
		 * beyond it: the convex part at once (K = 0), as Linux */
		c->epoch = true;
		c->t_epoch = now;
		c->w_est = w;
		if (c->w_max > w) {
			c->k = cbrt((c->w_max - w) / SLE_CUBIC_C);
		} else {
			c->k = 0;
			c->w_max = w;
		}
	}
	t = now - c->t_epoch;
	/* 4.3: where Reno would be; alpha 1 once past W_max */
	c->w_est += (c->w_est < c->w_max ? ALPHA_CUBIC : 1.0) * segs / w;
	if (w_cubic(c, t) < c->w_est) {
		set_cwnd(c, c->w_est * c->mss);
		return;
	}
	/* 4.4 / 4.5: toward W_cubic one RTT ahead, at most 1.5 x per RTT */
	target = w_cubic(c, t + srtt);
	if (target < w)
		target = w;
	if (target > 1.5 * w)
		target = 1.5 * w;
	set_cwnd(c, (double)c->cwnd + (target - w) * segs / w * c->mss);
}

/* 4.6 / 4.7: a congestion event; returns the new ssthresh */
static uint32_t reduce(struct sle_cc *c, uint32_t flight)
{
	/* the window actually used (a flow limited by the client's window
	 * or the application has less in flight than cwnd) */
	uint32_t used = flight < c->cwnd ? flight : c->cwnd;
	double w = (double)used / c->mss;
	double s = used * SLE_CUBIC_BETA;

	/* fast convergence: below the previous W_max, give way */
	c->w_max = w < c->w_max ? w * (1 + SLE_CUBIC_BETA) / 2 : w;
	c->epoch = false;
	if (s < 2.0 * c->mss)
		s = 2.0 * c->mss;
	return (uint32_t)s;
}

void sle_cc_fast(struct sle_cc *c, uint32_t flight, uint32_t snd_max)
{
	c->ssthresh = reduce(c, flight);
	c->cwnd = c->ssthresh + 3 * c->mss; /* NewReno's inflation */
	c->recover = snd_max;
	c->recovering = true;
}

void sle_cc_timeout(struct sle_cc *c, uint32_t flight)
{
	/* 4.8: as a congestion event, then slow start from one segment */
	c->ssthresh = reduce(c, flight);
	c->cwnd = c->mss;
	c->recovering = false;
	c->dupacks = 0;
}
