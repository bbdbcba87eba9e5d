/* SPDX-License-Identifier: MIT */
/*
 * BBR congestion control (after draft-cardwell-iccrg-bbr-congestion-
 * control, version 1, and Linux's tcp_bbr.c) for the relay's host ->
 * client direction. Pure.
 *
 * Why BBR: measured with scripts/bench-egress, the loss a relayed flow
 * meets is mostly not congestion but the client's UDP socket overflowing
 * for a few milliseconds when its WireGuard reader is not scheduled
 * (bursts of 1-3 % of the datagrams even at a third of the rate the path
 * carries). A loss-based sender (Reno, CUBIC) takes each such burst for
 * congestion and backs off, and at 50-100 ms regrows too slowly to carry
 * more than a fraction of the path (CUBIC: a flat ~120 Mbit/s where the
 * kernel's BBR carried ~300). BBR sets its rate from what is delivered,
 * so loss that is not from the path's queue does not slow it.
 *
 * The model (section 4 of the draft):
 *  - delivery rate samples (draft-cheng-iccrg-delivery-rate-estimation):
 *    a send mark (sent_t, the bytes delivered so far and when) every
 *    cwnd/16 bytes of new data; when an ACK (or SACK) delivers a mark's
 *    end, rate = bytes delivered since / max(send interval, ACK
 *    interval). Samples sent while the sender had no data (application
 *    limited) only raise the estimate.
 *  - BtlBw: the max sample of the last 10 rounds; RTprop: the min RTT
 *    of the last 10 s (from the same marks).
 *  - STARTUP (gain 2/ln 2) until BtlBw grew < 25 % in 3 rounds, DRAIN
 *    until in flight <= BDP, PROBE_BW cycling the pacing gain over
 *    1.25, 0.75, 1 x6 (one RTprop each), PROBE_RTT (cwnd 4 segments
 *    for 200 ms) when RTprop was not refreshed for 10 s.
 *  - cwnd = cwnd_gain x BDP + 3 segments (cwnd_gain 2 in PROBE_BW),
 *    approached by what each ACK delivered, plus (once the pipe is
 *    full) what ACKs that come in bunches delivered beyond BtlBw x the
 *    time (Linux's extra_acked, at most 100 ms of BtlBw): a wireguard-go
 *    client acknowledges in batches, and at a round trip of a
 *    millisecond 2 BDP would not cover one batch.
 * Loss recovery stays with tcp_out.c (SACK holes resent, RTO); a loss
 * does not change the model. After an RTO the window restarts from one
 * segment and grows back by what is delivered.
 */
#include <string.h>

#include "tcp.h"

#define HIGH_GAIN 2.885 /* 2 / ln 2: doubles the rate each round */
#define RTPROP_WIN 10.0 /* s */
#define PROBE_RTT_TIME 0.2
#define MIN_CWND_SEGS 4

static const double cycle_gain[8] = {1.25, 0.75, 1, 1, 1, 1, 1, 1};

void sle_bbr_init(struct sle_bbr *b)
{
	memset(b, 0, sizeof(*b));
	b->mode = SLE_BBR_STARTUP;
	b->pacing_gain = b->cwnd_gain = HIGH_GAIN;
}

void sle_bbr_sent(struct sle_bbr *b, uint32_t end, uint32_t pipe, uint32_t cwnd,
		  double now)
{
	struct sle_bbr_mark *m;
	uint32_t gap = cwnd / 16;

	if (!pipe) /* nothing in flight: the intervals start now */
		b->first_sent_t = b->delivered_t = now;
	if (b->mn) {
		const struct sle_bbr_mark *last =
			&b->m[(b->mhead + b->mn - 1) % SLE_BBR_MARKS];

		if (b->mn == SLE_BBR_MARKS || end - last->end < gap)
			return;
	}
	m = &b->m[(b->mhead + b->mn) % SLE_BBR_MARKS];
	b->mn++;
	m->end = end;
	m->delivered = b->delivered;
	m->delivered_t = b->delivered_t;
	m->first_sent_t = b->first_sent_t;
	m->sent_t = now;
	m->app_limited = b->delivered < b->app_limited_until;
}

void sle_bbr_app_limited(struct sle_bbr *b, uint32_t pipe)
{
	b->app_limited_until = b->delivered + (pipe ? pipe : 1);
}

static double bdp(const struct sle_bbr *b)
{
	return b->bw * b->min_rtt;
}

static void new_round_bw(struct sle_bbr *b, double rate, bool app_limited)
{
	double *slot = &b->bw_round[b->round % 10];

	if (rate > *slot && (!app_limited || rate >= b->bw))
		*slot = rate;
	b->bw = 0;
	for (int i = 0; i < 10; i++)
		if (b->bw_round[i] > b->bw)
			b->bw = b->bw_round[i];
}

static void enter_probe_bw(struct sle_bbr *b, double now)
{
	b->mode = SLE_BBR_PROBE_BW;
	b->cwnd_gain = 2;
	b->cycle = 2; /* a gain-1 phase: the probe comes after it */
	b->cycle_t = now;
	b->pacing_gain = cycle_gain[b->cycle];
}

static void modes(struct sle_bbr *b, struct sle_cc *c, uint32_t pipe,
		  bool round_start, bool app_limited, bool expired, double now)
{
	/* STARTUP: the pipe is full once BtlBw stopped growing by 25 % */
	if (!b->filled && round_start && !app_limited) {
		if (b->bw >= b->full_bw * 1.25) {
			b->full_bw = b->bw;
			b->full_cnt = 0;
		} else if (++b->full_cnt >= 3) {
			b->filled = true;
		}
	}
	if (b->mode == SLE_BBR_STARTUP && b->filled) {
		b->mode = SLE_BBR_DRAIN;
		b->pacing_gain = 1 / HIGH_GAIN;
		b->cwnd_gain = HIGH_GAIN;
	}
	if (b->mode == SLE_BBR_DRAIN && pipe <= bdp(b))
		enter_probe_bw(b, now);
	if (b->mode == SLE_BBR_PROBE_BW) {
		bool next = now - b->cycle_t > b->min_rtt;

		/* the probe lasts until it put its 1.25 BDP in flight; the
		 * drain after it ends early once the queue is gone */
		if (b->pacing_gain > 1)
			next = next && pipe >= 1.25 * bdp(b);
		else if (b->pacing_gain < 1)
			next = next || pipe <= bdp(b);
		if (next) {
			b->cycle = (uint8_t)((b->cycle + 1) % 8);
			b->cycle_t = now;
			b->pacing_gain = cycle_gain[b->cycle];
		}
	}
	/* PROBE_RTT: RTprop not seen again for 10 s: drain to 4 segments
	 * for 200 ms to measure it */
	if (b->mode != SLE_BBR_PROBE_RTT && expired) {
		b->mode = SLE_BBR_PROBE_RTT;
		b->pacing_gain = b->cwnd_gain = 1;
		b->prior_cwnd = c->cwnd;
		b->probe_rtt_done_t = 0;
	}
	if (b->mode == SLE_BBR_PROBE_RTT) {
		if (!b->probe_rtt_done_t && pipe <= MIN_CWND_SEGS * c->mss)
			b->probe_rtt_done_t = now + PROBE_RTT_TIME;
		if (b->probe_rtt_done_t && now > b->probe_rtt_done_t) {
			b->min_rtt_t = now;
			if (c->cwnd < b->prior_cwnd)
				c->cwnd = b->prior_cwnd;
			if (b->filled) {
				enter_probe_bw(b, now);
			} else {
				b->mode = SLE_BBR_STARTUP;
				b->pacing_gain = b->cwnd_gain = HIGH_GAIN;
			}
		}
	}
}

/* Linux's bbr_update_ack_aggregation */
static void ack_aggregation(struct sle_bbr *b, const struct sle_cc *c,
			    uint32_t newly, bool round_start, double now)
{
	double expected = b->bw * (now - b->ack_epoch_t);
	double extra;

	if (!newly || !b->bw)
		return;
	if (round_start && ++b->extra_rounds >= 5) {
		b->extra_rounds = 0;
		b->extra_idx ^= 1;
		b->extra_acked[b->extra_idx] = 0;
	}
	/* the ACKs caught up with the rate (or a megabyte): a new epoch */
	if ((double)b->ack_epoch_acked <= expected ||
	    b->ack_epoch_acked + newly >= (1u << 20)) {
		b->ack_epoch_acked = 0;
		b->ack_epoch_t = now;
		expected = 0;
	}
	b->ack_epoch_acked += newly;
	extra = (double)b->ack_epoch_acked - expected;
	if (extra > c->cwnd)
		extra = c->cwnd;
	if (extra > b->extra_acked[b->extra_idx])
		b->extra_acked[b->extra_idx] = (uint32_t)extra;
}

static void set_cwnd(struct sle_bbr *b, struct sle_cc *c, uint32_t newly)
{
	uint64_t target = (uint64_t)(b->cwnd_gain * bdp(b)) + 3u * c->mss;

	if (b->filled) {
		uint32_t agg = b->extra_acked[0] > b->extra_acked[1]
				       ? b->extra_acked[0]
				       : b->extra_acked[1];

		if (agg > b->bw * 0.1)
			agg = (uint32_t)(b->bw * 0.1);
		target += agg;
	}
	uint64_t w = c->cwnd;
	uint64_t min = (uint64_t)MIN_CWND_SEGS * c->mss;

	if (b->mode == SLE_BBR_PROBE_RTT) {
		c->cwnd = (uint32_t)min;
		return;
	}
	if (!b->bw) /* no model yet: slow start */
		w += newly;
	else if (b->filled)
		w = w + newly < target ? w + newly : target;
	else if (w < target || b->delivered < SLE_TCP_INIT_CWND * c->mss)
		w += newly;
	if (w < min)
		w = min;
	if (w > 2u * SLE_TCP_WND_MAX)
		w = 2u * SLE_TCP_WND_MAX;
	c->cwnd = (uint32_t)w;
}

void sle_bbr_ack(struct sle_bbr *b, struct sle_cc *c, uint32_t newly,
		 uint32_t high, uint32_t pipe, double now)
{
	struct sle_bbr_mark m = {0};
	bool have = false, round_start = false;
	bool expired = b->min_rtt_t && now - b->min_rtt_t > RTPROP_WIN;

	if (newly) {
		b->delivered += newly;
		b->delivered_t = now;
	}
	if (b->delivered >= b->app_limited_until)
		b->app_limited_until = 0;
	/* the newest mark this ACK delivered */
	while (b->mn && sle_seq_le(b->m[b->mhead].end, high)) {
		m = b->m[b->mhead];
		have = true;
		b->mhead = (uint8_t)((b->mhead + 1) % SLE_BBR_MARKS);
		b->mn--;
	}
	if (have) {
		double send_iv = m.sent_t - m.first_sent_t;
		double ack_iv = now - m.delivered_t;
		double iv = send_iv > ack_iv ? send_iv : ack_iv;
		double rtt = now - m.sent_t;

		b->first_sent_t = m.sent_t;
		/* RTprop: the min, or any sample once the min is 10 s old
		 * (modes() then probes for it, as Linux does) */
		if (rtt > 0 && (!b->min_rtt || rtt <= b->min_rtt || expired)) {
			b->min_rtt = rtt;
			b->min_rtt_t = now;
		}
		if (m.delivered >= b->next_round_delivered) {
			b->next_round_delivered = b->delivered;
			b->round++;
			b->bw_round[b->round % 10] = 0;
			round_start = true;
		}
		/* shorter than RTprop: inflated by ACKs that came in a
		 * bunch (the draft's rule) */
		if (iv > 0 && iv >= b->min_rtt)
			new_round_bw(b,
				     (double)(b->delivered - m.delivered) / iv,
				     m.app_limited);
	}
	ack_aggregation(b, c, newly, round_start, now);
	if (b->min_rtt > 0)
		modes(b, c, pipe, round_start, m.app_limited, expired, now);
	set_cwnd(b, c, newly);
}

void sle_bbr_timeout(struct sle_bbr *b, struct sle_cc *c)
{
	b->prior_cwnd = c->cwnd;
	c->cwnd = c->mss;
	b->mn = 0; /* marks of data the go-back sends again */
}

double sle_bbr_pacing_rate(const struct sle_bbr *b, const struct sle_cc *c,
			   double srtt)
{
	if (b->bw > 0)
		return b->pacing_gain * b->bw;
	/* before a sample: the initial window per round trip */
	return b->pacing_gain * c->cwnd / (srtt > 0 ? srtt : 0.001);
}
