/* SPDX-License-Identifier: MIT */
/* Retransmission timer (RFC 6298) and congestion window (RFC 5681, NewReno
 * recovery RFC 6582) of the relay's host -> client direction. Pure. */
#include "tcp.h"

void sle_rtt_init(struct sle_rtt *r)
{
	r->srtt = r->rttvar = 0;
	r->rto = SLE_TCP_RTO_INIT;
	r->have = false;
}

void sle_rtt_sample(struct sle_rtt *r, double rtt)
{
	if (rtt < 0)
		return;
	if (!r->have) {
		r->srtt = rtt;
		r->rttvar = rtt / 2;
		r->have = true;
	} else {
		double d = r->srtt - rtt;

		r->rttvar = 0.75 * r->rttvar + 0.25 * (d < 0 ? -d : d);
		r->srtt = 0.875 * r->srtt + 0.125 * rtt;
	}
	/* RFC 6298 (2.3) with G = 1 ms, then the floor (2.4: 1 s is the
	 * RFC's; 200 ms is what Linux uses, fine for a relay whose timer
	 * runs on the real clock) and the ceiling (2.5) */
	r->rto = r->srtt + (4 * r->rttvar > 0.001 ? 4 * r->rttvar : 0.001);
	if (r->rto < SLE_TCP_RTO_MIN)
		r->rto = SLE_TCP_RTO_MIN;
	if (r->rto > SLE_TCP_RTO_MAX)
		r->rto = SLE_TCP_RTO_MAX;
}

void sle_rtt_backoff(struct sle_rtt *r)
{
	r->rto *= 2;
	if (r->rto > SLE_TCP_RTO_MAX)
		r->rto = SLE_TCP_RTO_MAX;
}

void sle_cc_init(struct sle_cc *c, uint32_t mss)
{
	c->mss = mss;
	c->cwnd = SLE_TCP_INIT_CWND * mss;
	c->ssthresh = UINT32_MAX;
	c->recover = 0;
	c->recovering = false;
	c->dupacks = 0;
}

void sle_cc_acked(struct sle_cc *c, uint32_t acked)
{
	uint64_t w;

	/* slow start: by what was acknowledged (stretch ACKs from clients
	 * behind GRO acknowledge many segments at once) */
	if (c->cwnd < c->ssthresh)
		w = (uint64_t)c->cwnd + acked;
	else /* congestion avoidance: about one MSS per window */
		w = (uint64_t)c->cwnd +
		    ((uint64_t)c->mss * c->mss / c->cwnd
			     ? (uint64_t)c->mss * c->mss / c->cwnd
			     : 1);
	c->cwnd = w > SLE_TCP_WND_MAX * 2u ? SLE_TCP_WND_MAX * 2u : (uint32_t)w;
}

static uint32_t half_flight(const struct sle_cc *c, uint32_t flight)
{
	uint32_t h = flight / 2;

	return h > 2 * c->mss ? h : 2 * c->mss;
}

void sle_cc_fast(struct sle_cc *c, uint32_t flight, uint32_t snd_max)
{
	c->ssthresh = half_flight(c, flight);
	c->cwnd = c->ssthresh + 3 * c->mss;
	c->recover = snd_max;
	c->recovering = true;
}

void sle_cc_timeout(struct sle_cc *c, uint32_t flight)
{
	c->ssthresh = half_flight(c, flight);
	c->cwnd = c->mss;
	c->recovering = false;
	c->dupacks = 0;
}
