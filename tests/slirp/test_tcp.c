// SPDX-License-Identifier: MIT
/* The TCP relay's pure parts: segments (options, checksums), window
 * scaling, sequence arithmetic, the RTO estimator, the congestion window,
 * and the state machine driven against a fake host socket. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"
#include "tcp.h"

static const uint8_t cli[4] = {10, 77, 0, 2}, srv[4] = {192, 0, 2, 1};

static bool csum_ok(const uint8_t *p, size_t n)
{
	struct sle_pkt_info pi;
	uint32_t l4;

	if (!sle_pkt_parse(p, n, &pi))
		return false;
	l4 = pi.total_len - pi.l3_len;
	if (pi.family == 4 && sle_csum_fold(sle_csum_add(0, p, 20)) != 0)
		return false;
	return sle_csum_fold(
		       sle_csum_add(sle_csum_pseudo(pi.family, pi.src, pi.dst,
						    SLE_PROTO_TCP, l4),
				    p + pi.l3_len, l4)) == 0;
}

static void test_segments(void **st)
{
	uint8_t pkt[SLE_TCP_HDR_MAX + 100], data[37];
	struct sle_tcp_opts o = {.mss = 1380, .wscale = 7, .sack_ok = true};
	struct sle_pkt_info pi;
	struct sle_tcp_seg s;
	uint8_t c6[16] = {0xfd, 0x77}, s6[16] = {0x20, 0x01, 0x0d, 0xb8};
	size_t n;

	n = sle_tcp_build(pkt, 4, srv, 80, cli, 40000, 5, 6,
			  SLE_TCP_SYN | SLE_TCP_ACK, 1000, &o, NULL, 0);
	assert_int_equal(n, 20 + 20 + 12);
	assert_true(csum_ok(pkt, n));
	assert_true(sle_pkt_parse(pkt, n, &pi));
	assert_true(sle_tcp_seg_parse(pkt, &pi, &s));
	assert_int_equal(s.seq, 5);
	assert_int_equal(s.ack, 6);
	assert_int_equal(s.wnd, 1000);
	assert_int_equal(s.flags, SLE_TCP_SYN | SLE_TCP_ACK);
	assert_int_equal(s.opt.mss, 1380);
	assert_int_equal(s.opt.wscale, 7);
	assert_true(s.opt.sack_ok);
	assert_int_equal(s.len, 0);

	/* IPv6 with payload */
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	c6[15] = 2;
	n = sle_tcp_build(pkt, 6, s6, 443, c6, 5000, 0xfffffff0u, 77,
			  SLE_TCP_ACK, 65535, NULL, data, sizeof(data));
	assert_int_equal(n, 40 + 20 + sizeof(data));
	assert_true(csum_ok(pkt, n));
	assert_true(sle_pkt_parse(pkt, n, &pi));
	assert_true(sle_tcp_seg_parse(pkt, &pi, &s));
	assert_int_equal(s.len, sizeof(data));
	assert_memory_equal(s.payload, data, sizeof(data));
	assert_int_equal(s.opt.wscale, -1);
	assert_int_equal(s.opt.mss, 0);

	/* bad option lists stop the walk, never read past the header */
	n = sle_tcp_build(pkt, 4, srv, 80, cli, 40000, 5, 6, SLE_TCP_SYN, 0, &o,
			  NULL, 0);
	pkt[40] = 2, pkt[41] = 40; /* MSS option claiming 40 bytes */
	assert_true(sle_pkt_parse(pkt, n, &pi));
	assert_true(sle_tcp_seg_parse(pkt, &pi, &s));
	assert_int_equal(s.opt.mss, 0);
	/* a data offset beyond the packet */
	pkt[32] = 0xf0;
	assert_false(sle_tcp_seg_parse(pkt, &pi, &s));
	/* window scale above 14 is taken as 14 (RFC 7323 2.3) */
	n = sle_tcp_build(pkt, 4, srv, 80, cli, 40000, 5, 6, SLE_TCP_SYN, 0,
			  &(struct sle_tcp_opts){.wscale = 20}, NULL, 0);
	assert_true(sle_pkt_parse(pkt, n, &pi));
	assert_true(sle_tcp_seg_parse(pkt, &pi, &s));
	assert_int_equal(s.opt.wscale, 14);
}

static void test_window_and_seq(void **st)
{
	assert_int_equal(sle_tcp_wnd_field(1000, 0), 1000);
	assert_int_equal(sle_tcp_wnd_field(100000, 0), 65535);
	assert_int_equal(sle_tcp_wnd_field(4u << 20, 7), (4u << 20) >> 7);
	assert_int_equal(sle_tcp_wnd_field(127, 7), 0);
	assert_int_equal(sle_tcp_wnd_field(SLE_TCP_WND_MAX * 2u, 7), 65535);
	assert_true(sle_seq_lt(0xfffffff0u, 5));
	assert_false(sle_seq_lt(5, 0xfffffff0u));
	assert_true(sle_seq_le(7, 7));
	assert_false(sle_seq_lt(7, 7));
}

static void test_sack_board(void **st)
{
	struct sle_sack_board b = {0};

	sle_sack_add(&b, 300, 400);
	sle_sack_add(&b, 100, 200);
	sle_sack_add(&b, 500, 600);
	assert_int_equal(b.n, 3);
	assert_int_equal(b.b[0].s, 100);
	assert_int_equal(b.b[2].e, 600);
	/* touching and overlapping blocks merge */
	sle_sack_add(&b, 200, 300);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.b[0].e, 400);
	sle_sack_add(&b, 350, 550);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.b[0].s, 100);
	assert_int_equal(b.b[0].e, 600);
	sle_sack_add(&b, 700, 800);
	assert_int_equal(b.n, 2);
	/* trimming at the cumulative ACK, across the wrap */
	sle_sack_trim(&b, 650);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.b[0].s, 700);
	memset(&b, 0, sizeof(b));
	sle_sack_add(&b, 0xfffffff0u, 0x10);
	sle_sack_trim(&b, 0);
	assert_int_equal(b.b[0].s, 0);
	assert_int_equal(b.n, 1);
	assert_int_equal(b.b[0].e, 0x10);
	/* full: the highest gives way to lower ones */
	memset(&b, 0, sizeof(b));
	for (uint32_t i = 0; i < SLE_SACK_MAX; i++)
		sle_sack_add(&b, 1000 + i * 10, 1005 + i * 10);
	sle_sack_add(&b, 10, 20);
	assert_int_equal(b.n, SLE_SACK_MAX);
	assert_int_equal(b.b[0].s, 10);
	/* the block that holds a sequence: edges, holes, both ends */
	assert_int_equal(sle_sack_find(b.b, b.n, 10), 0);
	assert_int_equal(sle_sack_find(b.b, b.n, 19), 0);
	assert_int_equal(sle_sack_find(b.b, b.n, 20), -1);
	assert_int_equal(sle_sack_find(b.b, b.n, 9), -1);
	assert_int_equal(sle_sack_find(b.b, b.n, 1004), 1);
	assert_int_equal(sle_sack_find(b.b, b.n, 1005), -1);
	assert_int_equal(sle_sack_find(b.b, b.n, 1000 + 126 * 10),
			 SLE_SACK_MAX - 1);
	assert_int_equal(sle_sack_find(b.b, b.n, 1000 + 127 * 10), -1);
	assert_int_equal(sle_sack_find(b.b, 0, 10), -1);
	/* across the wrap */
	memset(&b, 0, sizeof(b));
	sle_sack_add(&b, 0xfffffff0u, 0x10);
	sle_sack_add(&b, 0x20, 0x30);
	assert_int_equal(sle_sack_find(b.b, b.n, 0xfffffff8u), 0);
	assert_int_equal(sle_sack_find(b.b, b.n, 0x8), 0);
	assert_int_equal(sle_sack_find(b.b, b.n, 0x18), -1);
	assert_int_equal(sle_sack_find(b.b, b.n, 0x2f), 1);
}

/* The transmit log and RACK (RFC 8985): ten segments of 100 bytes sent
 * 1 ms apart; a SACK of a later one makes the earlier ones lost once a
 * round trip plus the reordering window has passed since they were sent;
 * a retransmission lost again is found one round trip after it went out
 * (once something sent after it was delivered). */
static void test_rack(void **st)
{
	struct sle_txlog l = {0};
	struct sle_sack_board b = {0};
	struct sle_txseg *e;
	double wait;

	assert_int_equal(sle_txlog_flight(&l, 1000), 0);
	for (uint32_t i = 0; i < 10; i++)
		assert_int_equal(
			sle_txlog_sent(&l, 1000 + i * 100, 100, i * 0.001), 0);
	assert_int_equal(sle_txlog_flight(&l, 1000), 1000);
	/* new data continues the stream */
	assert_int_equal(sle_txlog_sent(&l, 5000, 100, 0.01), -1);
	/* nothing delivered: nothing to judge by */
	assert_int_equal(sle_rack_detect(&l, false, 0.05, 1.0, &wait), 0);
	assert_true(wait < 0);

	/* segment 3 SACKed at 50 ms: its round trip 47 ms */
	sle_txlog_sack(&l, &b, 1300, 1400, 0.050);
	sle_sack_add(&b, 1300, 1400);
	assert_int_equal(l.sacked, 100);
	assert_true(fabs(l.rack_rtt - 0.047) < 1e-9);
	/* 0-2 were sent before it, but the window (min RTT / 4) is open */
	assert_int_equal(sle_rack_detect(&l, false, 0.05, 0.050, &wait), 0);
	assert_true(fabs(wait - (0.047 + 0.047 / 4 - 0.050)) < 1e-9);
	/* a repeated block changes nothing */
	sle_txlog_sack(&l, &b, 1300, 1400, 0.055);
	assert_int_equal(l.sacked, 100);
	assert_true(fabs(l.rack_rtt - 0.047) < 1e-9);
	/* at 60 ms segments 0 and 1 are lost, 2 not yet; 4-9 were sent
	 * after the one delivered: not judged */
	assert_int_equal(sle_rack_detect(&l, false, 0.05, 0.060, &wait), 2);
	assert_int_equal(l.lost_bytes, 200);
	assert_true(wait > 0 && wait < 0.001);
	/* resent oldest first */
	e = sle_txlog_next_lost(&l);
	assert_non_null(e);
	assert_int_equal(e->seq, 1000);
	sle_txlog_resent(&l, e, 0.060);
	assert_int_equal(l.lost_bytes, 100);
	e = sle_txlog_next_lost(&l);
	assert_int_equal(e->seq, 1100);
	sle_txlog_resent(&l, e, 0.061);
	assert_null(sle_txlog_next_lost(&l));
	/* new data at 65 ms, SACKed at 115 ms with 4 and 5: in recovery
	 * without reordering the window is 0; both resends (60, 61 ms) and
	 * every original sent before 65 ms and not SACKed are lost */
	assert_int_equal(sle_txlog_sent(&l, 2000, 100, 0.065), 0);
	sle_txlog_sack(&l, &b, 1400, 1600, 0.100);
	sle_sack_add(&b, 1400, 1600);
	sle_txlog_sack(&l, &b, 2000, 2100, 0.115);
	sle_sack_add(&b, 2000, 2100);
	assert_true(fabs(l.rack_t - 0.065) < 1e-9);
	assert_int_equal(sle_rack_detect(&l, true, 0.05, 0.115, &wait),
			 2 + 1 + 4);
	assert_int_equal(l.lost_bytes, 700);
	assert_int_equal(sle_txlog_next_lost(&l)->seq,
			 1200); /* order declared */
	/* the cumulative ACK takes lost and SACKed segments alike */
	sle_txlog_ack(&l, 1550, 0.120);
	assert_int_equal(l.lost_bytes, 400); /* 6-9: 1600-2000 */
	assert_int_equal(l.sacked, 50 + 100);
	assert_int_equal(sle_txlog_next_lost(&l)->seq, 1600);
	e = sle_txlog_find(&l, 1550);
	assert_int_equal(e->seq, 1550);
	assert_int_equal(e->len, 50);
	/* in flight: to the end of the last segment, SACKed or lost alike */
	assert_int_equal(sle_txlog_flight(&l, 1550), 2100 - 1550);
	sle_txlog_free(&l);
}

/* Every segment declared lost stays findable until it is resent: after a
 * timeout empties and refills the lost queue (one declared lost before
 * it was once skipped, and the download stalled at its tail until the
 * connection was reset), and after an ACK that ends inside it. */
static void test_lost_stays_queued(void **st)
{
	struct sle_txlog l = {0};
	struct sle_txseg *e;

	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(sle_txlog_sent(&l, i * 100, 100, 1.0), 0);
	sle_txlog_mark_lost(&l, sle_txlog_find(&l, 200));
	sle_txlog_lose_all(&l, false);
	assert_int_equal(l.lost_bytes, 400);
	for (uint32_t i = 0; i < 4; i++) {
		e = sle_txlog_next_lost(&l);
		assert_non_null(e);
		assert_int_equal(e->seq, i * 100);
		sle_txlog_resent(&l, e, 2.0);
	}
	assert_null(sle_txlog_next_lost(&l));
	assert_int_equal(l.lost_bytes, 0);
	/* lost, then acknowledged halfway: the rest is still resent */
	sle_txlog_lose_all(&l, false);
	sle_txlog_ack(&l, 150, 3.0);
	e = sle_txlog_next_lost(&l);
	assert_non_null(e);
	assert_int_equal(e->seq, 150);
	assert_int_equal(e->len, 50);
	assert_int_equal(l.lost_bytes, 250);
	sle_txlog_free(&l);
}

/* A retransmission acknowledged sooner than any round trip seen was the
 * original's ACK: it says nothing of when the resend arrived (RFC 8985
 * 6.2 step 2). Reordering seen (an original delivered below the highest
 * delivered) keeps the window open even in recovery. */
static void test_rack_ambiguous_and_reorder(void **st)
{
	struct sle_txlog l = {0};
	struct sle_sack_board b = {0};
	double wait;

	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(sle_txlog_sent(&l, i * 100, 100, i * 0.001),
				 0);
	sle_txlog_sack(&l, &b, 200, 300, 0.040); /* min RTT 38 ms */
	sle_sack_add(&b, 200, 300);
	sle_txlog_mark_lost(&l, sle_txlog_find(&l, 0));
	sle_txlog_resent(&l, sle_txlog_find(&l, 0), 0.041);
	sle_txlog_ack(&l, 100, 0.042); /* 1 ms after the resend */
	assert_true(fabs(l.rack_t - 0.002) < 1e-9);
	assert_false(l.reord);
	/* segment 1 arrives after 2 was delivered: reordering */
	sle_txlog_sack(&l, &b, 100, 200, 0.043);
	assert_true(l.reord);
	sle_txlog_sack(&l, &b, 500, 600, 0.050); /* rtt 45 ms */
	/* in recovery, the window is still min RTT / 4 */
	assert_int_equal(sle_rack_detect(&l, true, 0.04, 0.050, &wait), 0);
	assert_true(wait > 0);
	assert_int_equal(sle_rack_detect(&l, true, 0.04, 0.060, &wait), 2);
	sle_txlog_free(&l);
}

/* The log is bounded and survives sequence wrap; a timeout declares
 * everything not SACKed lost (or everything, when SACKs are forgotten). */
static void test_txlog_limits(void **st)
{
	struct sle_txlog l = {0};
	struct sle_sack_board b = {0};
	uint32_t base = 0xffffff00u, i;

	for (i = 0; i < SLE_TXLOG_MAX; i++)
		assert_int_equal(sle_txlog_sent(&l, base + i * 10, 10, 1.0), 0);
	assert_int_equal(sle_txlog_room(&l), 0);
	assert_int_equal(sle_txlog_sent(&l, base + i * 10, 10, 1.0), -1);
	assert_int_equal(sle_txlog_find(&l, 5)->seq, base + 260);
	assert_null(sle_txlog_find(&l, base - 1));
	assert_null(sle_txlog_find(&l, base + SLE_TXLOG_MAX * 10));
	sle_txlog_ack(&l, base + 100, 1.1);
	assert_int_equal(sle_txlog_room(&l), 10);
	sle_txlog_sack(&l, &b, base + 200, base + 300, 1.1);
	sle_txlog_lose_all(&l, false);
	assert_int_equal(l.lost_bytes, (SLE_TXLOG_MAX - 10) * 10 - 100);
	assert_int_equal(sle_txlog_next_lost(&l)->seq, base + 100);
	sle_txlog_lose_all(&l, true);
	assert_int_equal(l.sacked, 0);
	assert_int_equal(l.lost_bytes, (SLE_TXLOG_MAX - 10) * 10);
	sle_txlog_free(&l);
}

/* At 20 % loss in bursts a window of thousands of segments has hundreds
 * of holes: the scoreboard keeps 128 blocks (16 left the higher holes
 * unknown until the lower ones were repaired). */
static void test_sack_board_size(void **st)
{
	struct sle_sack_board b = {0};

	for (uint32_t i = 0; i < 100; i++)
		sle_sack_add(&b, 1000 + i * 20, 1010 + i * 20);
	assert_int_equal(b.n, 100);
	assert_int_equal(b.b[0].e, 1010);
	assert_int_equal(b.b[99].s, 1000 + 99 * 20);
}

static void test_rtt(void **st)
{
	struct sle_rtt r;

	sle_rtt_init(&r);
	assert_true(r.rto == SLE_TCP_RTO_INIT);
	sle_rtt_sample(&r, 0.1);
	/* first: srtt = R, rttvar = R/2, rto = R + 4 * R/2 */
	assert_true(r.srtt > 0.0999 && r.srtt < 0.1001);
	assert_true(r.rto > 0.2999 && r.rto < 0.3001);
	sle_rtt_sample(&r, 0.1);
	assert_true(r.rttvar < 0.05);
	sle_rtt_backoff(&r);
	assert_true(r.rto > 0.4);
	for (int i = 0; i < 20; i++)
		sle_rtt_backoff(&r);
	assert_true(r.rto == SLE_TCP_RTO_MAX);
	/* floor */
	sle_rtt_init(&r);
	sle_rtt_sample(&r, 0.0001);
	assert_true(r.rto == SLE_TCP_RTO_MIN);
}

static void test_cc(void **st)
{
	struct sle_cc c;

	sle_cc_init(&c, 1000);
	assert_int_equal(c.cwnd, 10000);
	sle_cc_acked(&c, 5000, 1.0, 0.05); /* slow start */
	assert_int_equal(c.cwnd, 15000);
	/* a congestion event: ssthresh = cwnd x beta_cubic (RFC 9438 4.6),
	 * the window it happened at remembered as W_max */
	sle_cc_fast(&c, 20000, 12345);
	assert_int_equal(c.ssthresh, 10500);
	assert_int_equal(c.cwnd, 13500); /* + 3 MSS without SACK */
	assert_true(c.w_max > 14.99 && c.w_max < 15.01);
	assert_true(c.recovering);
	assert_int_equal(c.recover, 12345);
	/* another one below W_max: fast convergence (RFC 9438 4.7) */
	c.recovering = false;
	c.cwnd = 12000;
	sle_cc_fast(&c, 20000, 12345);
	assert_true(c.w_max > 12 * 0.85 - 0.01 && c.w_max < 12 * 0.85 + 0.01);
	assert_int_equal(c.ssthresh, 8400);
	sle_cc_timeout(&c, 2000);
	assert_int_equal(c.cwnd, 1000);
	assert_int_equal(c.ssthresh, 2000); /* at least 2 segments */
}

/* RFC 9438 4.2: after a loss at W_max segments, congestion avoidance
 * follows W_cubic(t) = C (t - K)^3 + W_max with K = cbrt(W_max (1 -
 * beta) / C): back at W_max after K seconds whatever the RTT, where Reno
 * (one segment per RTT) would take (1 - beta) W_max round trips. */
static void test_cubic_growth(void **st)
{
	const double rtt = 0.05, mss = 1000, wmax = 1000; /* segments */
	const double k = cbrt(wmax * (1 - 0.7) / 0.4);	  /* 9.09 s */
	struct sle_cc c;
	double now = 10, t;

	sle_cc_init(&c, (uint32_t)mss);
	c.cwnd = (uint32_t)(wmax * mss);
	c.ssthresh = c.cwnd / 2; /* in congestion avoidance */
	sle_cc_fast(&c, c.cwnd, 0);
	assert_int_equal(c.ssthresh, (uint32_t)(0.7 * wmax * mss));
	/* recovery over: cwnd = ssthresh, a new epoch at the next ACK */
	c.recovering = false;
	c.cwnd = c.ssthresh;
	/* a window acknowledged per round trip, one segment per ACK */
	for (t = 0; t < k + 1e-9; t += rtt) {
		uint32_t n = c.cwnd / c.mss;

		for (uint32_t i = 0; i < n; i++)
			sle_cc_acked(&c, c.mss, now + t + rtt * i / n, rtt);
		if (t > 1 - 1e-9 && t < 1 + rtt - 1e-9) {
			double w = 0.4 * pow(t + rtt - k, 3) + wmax; /* 788 */

			/* Reno would be at 720 */
			assert_true(c.cwnd / mss > w * 0.97);
			assert_true(c.cwnd / mss < w * 1.03);
		}
	}
	assert_true(c.cwnd / mss > wmax * 0.97);
	assert_true(c.cwnd / mss < wmax * 1.03);
}

/* ------------------------------------------------- a fake host socket */

#define RQ_CAP (1u << 20)

static struct fake {
	uint8_t rq[RQ_CAP]; /* receive queue (host -> client) */
	uint32_t rq_len;
	bool eof;
	int peek_err, connect_ret;
	uint8_t wq[RQ_CAP]; /* what was written (client -> host) */
	uint32_t wq_len, space;
	bool shut_wr, released, rst;
	double timer, now;
	int nout;
	uint8_t out[256][1500]; /* emitted packets */
	size_t outlen[256];
	struct sle_tcp_conn *conn;
} * F;

static double f_now(void *a)
{
	return F->now;
}
static int f_connect(void *a, struct sle_tcp_conn *c)
{
	F->conn = c;
	return F->connect_ret;
}
static ssize_t f_write(void *a, struct sle_tcp_conn *c, const uint8_t *p,
		       size_t n)
{
	if (n > F->space)
		n = F->space;
	if (!n)
		return -EAGAIN;
	memcpy(F->wq + F->wq_len, p, n);
	F->wq_len += (uint32_t)n;
	F->space -= (uint32_t)n;
	return (ssize_t)n;
}
static ssize_t f_peek(void *a, struct sle_tcp_conn *c, uint32_t off,
		      uint8_t *buf, size_t n)
{
	if (F->peek_err)
		return F->peek_err;
	if (off >= F->rq_len)
		return F->eof ? 0 : -EAGAIN;
	if (n > F->rq_len - off)
		n = F->rq_len - off;
	memcpy(buf, F->rq + off, n);
	return (ssize_t)n;
}
static void f_discard(void *a, struct sle_tcp_conn *c, uint32_t n)
{
	assert_true(n <= F->rq_len);
	memmove(F->rq, F->rq + n, F->rq_len - n);
	F->rq_len -= n;
}
static void f_shutdown(void *a, struct sle_tcp_conn *c)
{
	F->shut_wr = true;
}
static uint32_t f_space(void *a, struct sle_tcp_conn *c)
{
	return F->space;
}
static void f_watch(void *a, struct sle_tcp_conn *c, bool rd, bool wr)
{
}
static void f_timer(void *a, struct sle_tcp_conn *c, double after)
{
	F->timer = after;
}
static void f_wupd(void *a, struct sle_tcp_conn *c, double after)
{
}
static void f_release(void *a, struct sle_tcp_conn *c, bool rst)
{
	F->released = true;
	F->rst = rst;
}
static void f_emit(void *a, const uint8_t *ip, size_t len)
{
	assert_true(len <= 1500);
	assert_true(csum_ok(ip, len));
	if (F->nout < 256) {
		memcpy(F->out[F->nout], ip, len);
		F->outlen[F->nout] = len;
	}
	F->nout++;
}

static const struct sle_tcp_env fenv = {
	.now = f_now,
	.connect = f_connect,
	.write = f_write,
	.peek = f_peek,
	.discard = f_discard,
	.shutdown_wr = f_shutdown,
	.sndspace = f_space,
	.watch = f_watch,
	.timer = f_timer,
	.wupd_timer = f_wupd,
	.release = f_release,
	.emit = f_emit,
};

static struct sle_tcp T;

static int setup(void **st)
{
	F = calloc(1, sizeof(*F));
	assert_non_null(F);
	F->space = 256 * 1024;
	F->now = 100;
	assert_int_equal(sle_tcp_init(&T, &fenv, 1420, 0), 0);
	T.isn_key = 42;
	return 0;
}

static int teardown(void **st)
{
	if (F->conn && F->conn->state != SLE_TCP_DEAD)
		sle_tcp_kill(&T, F->conn, false, false);
	sle_tcp_flush(&T);
	sle_tcp_free(&T);
	free(F);
	return 0;
}

/* A client segment from cli:40000 to srv:80. */
static void client(struct sle_tcp_conn *c, uint32_t seq, uint32_t ack,
		   uint8_t flags, uint16_t wnd, const uint8_t *data, size_t len,
		   const struct sle_tcp_opts *o)
{
	uint8_t pkt[SLE_TCP_HDR_MAX + 1500];
	struct sle_pkt_info pi;
	size_t n = sle_tcp_build(pkt, 4, cli, 40000, srv, 80, seq, ack, flags,
				 wnd, o, data, len);

	assert_true(sle_pkt_parse(pkt, n, &pi));
	if (c)
		sle_tcp_input(&T, c, pkt, &pi);
	else
		F->conn = sle_tcp_open(&T, pkt, &pi);
}

static struct sle_tcp_seg out(int i)
{
	struct sle_pkt_info pi;
	struct sle_tcp_seg s;

	assert_true(i < F->nout);
	assert_true(sle_pkt_parse(F->out[i], F->outlen[i], &pi));
	assert_memory_equal(pi.src, srv, 4);
	assert_memory_equal(pi.dst, cli, 4);
	assert_true(sle_tcp_seg_parse(F->out[i], &pi, &s));
	return s;
}

/* Handshake: SYN (MSS 1460, wscale 8, SACK), connect done, SYN-ACK,
 * ACK. Returns the connection; the client's next seq is 1001. */
static struct sle_tcp_conn *handshake(uint16_t cwnd_field)
{
	struct sle_tcp_opts o = {.mss = 1460, .wscale = 8, .sack_ok = true};
	struct sle_tcp_conn *c;
	struct sle_tcp_seg s;

	client(NULL, 1000, 0, SLE_TCP_SYN, 65535, NULL, 0, &o);
	c = F->conn;
	assert_non_null(c);
	assert_int_equal(F->nout, 0); /* nothing before the host connects */
	sle_tcp_sock_event(&T, c, false, true, 0);
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.flags, SLE_TCP_SYN | SLE_TCP_ACK);
	assert_int_equal(s.ack, 1001);
	assert_int_equal(s.opt.mss, 1380); /* MTU 1420 - 40 */
	assert_int_equal(s.opt.wscale, SLE_TCP_WSCALE);
	assert_true(s.opt.sack_ok);
	assert_true(F->timer > 0); /* SYN-ACK retransmission armed */
	F->now += 0.05;
	client(c, 1001, s.seq + 1, SLE_TCP_ACK, cwnd_field, NULL, 0, NULL);
	assert_int_equal(c->state, SLE_TCP_ESTABLISHED);
	/* the handshake's round trip is the first RTT sample */
	assert_true(c->rtt.have);
	F->nout = 0;
	return c;
}

/* A loop clock past 2^32 ticks of 4 us (4.8 h of uptime, here 116 days):
 * the initial sequence number's clock wraps instead of converting an
 * out-of-range double (undefined; UBSan stops the test). */
static void test_iss_late_clock(void **st)
{
	struct sle_tcp_seg s;

	F->now = 1e7;
	client(NULL, 1000, 0, SLE_TCP_SYN, 65535, NULL, 0, NULL);
	assert_non_null(F->conn);
	sle_tcp_sock_event(&T, F->conn, false, true, 0); /* connected */
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.flags, SLE_TCP_SYN | SLE_TCP_ACK);
	assert_int_equal(s.ack, 1001);
}

static void test_connect_refused(void **st)
{
	struct sle_tcp_seg s;

	/* immediate failure: RST at once, no connection */
	F->connect_ret = -ECONNREFUSED;
	client(NULL, 1000, 0, SLE_TCP_SYN, 65535, NULL, 0, NULL);
	assert_null(F->conn);
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.flags, SLE_TCP_RST | SLE_TCP_ACK);
	assert_int_equal(s.ack, 1001);
	/* failure reported by the socket later: RST too */
	F->connect_ret = 0;
	F->nout = 0;
	client(NULL, 2000, 0, SLE_TCP_SYN, 65535, NULL, 0, NULL);
	assert_non_null(F->conn);
	sle_tcp_sock_event(&T, F->conn, false, true, -ECONNREFUSED);
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.flags, SLE_TCP_RST | SLE_TCP_ACK);
	assert_int_equal(s.ack, 2001);
	assert_true(F->released);
	assert_int_equal(T.connect_failed, 2);
}

static void test_upload(void **st)
{
	struct sle_tcp_conn *c = handshake(1000);
	uint8_t d[1380];
	struct sle_tcp_seg s;

	memset(d, 'a', sizeof(d));
	/* in order: written, acknowledged at the end of the batch */
	client(c, 1001, c->iss + 1, SLE_TCP_ACK, 1000, d, sizeof(d), NULL);
	assert_int_equal(F->wq_len, sizeof(d));
	assert_int_equal(F->nout, 0);
	sle_tcp_flush(&T);
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.ack, 1001 + 1380);
	/* the window is the socket's free space, scaled by 7 */
	assert_int_equal(s.wnd, (256 * 1024 - 1380) >> 7);
	/* out of order: kept, a duplicate ACK with its SACK block at the end
	 * of the batch (the client is SACK-permitted) */
	F->nout = 0;
	client(c, 1001 + 2 * 1380, c->iss + 1, SLE_TCP_ACK, 1000, d, sizeof(d),
	       NULL);
	assert_int_equal(F->wq_len, sizeof(d));
	assert_int_equal(F->nout, 0);
	sle_tcp_flush(&T);
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.ack, 1001 + 1380);
	assert_int_equal(s.opt.nsack, 1);
	assert_int_equal(s.opt.sack[0].s, 1001 + 2 * 1380);
	assert_int_equal(s.opt.sack[0].e, 1001 + 3 * 1380);
	assert_int_equal(T.ooo_drops, 1);
	/* a socket that takes only part: only that is acknowledged */
	F->space = 100;
	F->nout = 0;
	client(c, 1001 + 1380, c->iss + 1, SLE_TCP_ACK, 1000, d, sizeof(d),
	       NULL);
	sle_tcp_flush(&T);
	assert_int_equal(F->wq_len, 1380 + 100);
	assert_int_equal(out(F->nout - 1).ack, 1001 + 1380 + 100);
	/* the resent rest, overlapping what was taken, is trimmed; the hole
	 * is filled, so the kept segment follows */
	F->space = 1 << 20;
	F->nout = 0;
	client(c, 1001 + 1380, c->iss + 1, SLE_TCP_ACK, 1000, d, sizeof(d),
	       NULL);
	assert_int_equal(F->wq_len, 3 * 1380);
	assert_null(c->ooo);
	sle_tcp_flush(&T);
	s = out(F->nout - 1);
	assert_int_equal(s.ack, 1001 + 3 * 1380);
	/* the 100 bytes sent again are named as a duplicate (RFC 2883) */
	assert_int_equal(s.opt.nsack, 1);
	assert_int_equal(s.opt.sack[0].s, 1001 + 1380);
	assert_int_equal(s.opt.sack[0].e, 1001 + 1380 + 100);
	/* FIN: shutdown(SHUT_WR), acknowledged */
	F->nout = 0;
	client(c, 1001 + 3 * 1380, c->iss + 1, SLE_TCP_ACK | SLE_TCP_FIN, 1000,
	       NULL, 0, NULL);
	assert_true(F->shut_wr);
	sle_tcp_flush(&T);
	assert_int_equal(out(F->nout - 1).ack, 1001 + 3 * 1380 + 1);
	assert_false(F->released); /* half-closed: the host may still send */
	/* host EOF: our FIN; its ACK closes the connection */
	F->eof = true;
	F->nout = 0;
	sle_tcp_sock_event(&T, c, true, false, 0);
	s = out(F->nout - 1);
	assert_true(s.flags & SLE_TCP_FIN);
	client(c, 1001 + 3 * 1380 + 1, s.seq + 1, SLE_TCP_ACK, 1000, NULL, 0,
	       NULL);
	assert_true(F->released);
	assert_false(F->rst);
}

static void test_download(void **st)
{
	/* client window 1000 << 8 = 256000 bytes */
	struct sle_tcp_conn *c = handshake(1000);
	uint32_t una = c->iss + 1, i;
	struct sle_tcp_seg s;

	for (i = 0; i < 200000; i++)
		F->rq[i] = (uint8_t)(i * 7);
	F->rq_len = 200000;
	sle_tcp_sock_event(&T, c, true, false, 0);
	/* initial cwnd: 10 segments of 1380 */
	assert_int_equal(F->nout, 10);
	for (i = 0; i < 10; i++) {
		s = out((int)i);
		assert_int_equal(s.seq, una + i * 1380);
		assert_int_equal(s.len, 1380);
		assert_int_equal(s.ack, 1001);
		assert_memory_equal(s.payload, F->rq + i * 1380, 1380);
	}
	assert_true(F->timer > 0);
	/* an ACK of 2 segments: they leave the socket, cwnd grows */
	F->nout = 0;
	client(c, 1001, una + 2760, SLE_TCP_ACK, 1000, NULL, 0, NULL);
	assert_int_equal(F->rq_len, 200000 - 2760);
	assert_int_equal(c->snd_una, una + 2760);
	/* 2 acked + 2 cwnd growth: 4 more segments */
	assert_int_equal(F->nout, 4);
	/* three duplicate ACKs: the first missing segment again */
	F->nout = 0;
	for (i = 0; i < 3; i++)
		client(c, 1001, una + 2760, SLE_TCP_ACK, 1000, NULL, 0, NULL);
	assert_int_equal(T.fast_retransmits, 1);
	assert_true(F->nout >= 1);
	s = out(0);
	assert_int_equal(s.seq, una + 2760);
	assert_memory_equal(s.payload, F->rq, 1380);
	assert_true(c->cc.recovering);
	/* partial ACK: the next hole */
	F->nout = 0;
	client(c, 1001, una + 2 * 2760, SLE_TCP_ACK, 1000, NULL, 0, NULL);
	s = out(0);
	assert_int_equal(s.seq, una + 2 * 2760);
	/* RTO: back to snd_una, one segment, backoff */
	F->nout = 0;
	{
		double rto = c->rtt.rto;

		F->now += rto; /* the timer's wait refilled the pacing */
		sle_tcp_timeout(&T, c);
		assert_true(c->rtt.rto >= 2 * rto - 1e-9 ||
			    c->rtt.rto == SLE_TCP_RTO_MAX);
	}
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.seq, una + 2 * 2760);
	assert_int_equal(c->cc.cwnd, 1380);
	/* the host resets: the client gets a RST */
	F->peek_err = -ECONNRESET;
	F->nout = 0;
	client(c, 1001, una + 3 * 2760, SLE_TCP_ACK, 1000, NULL, 0, NULL);
	s = out(F->nout - 1);
	assert_int_equal(s.flags, SLE_TCP_RST);
	assert_true(F->released);
}

/* With SACK: the holes below the highest SACKed byte are resent, two per
 * ACK, and SACKed bytes no longer count as in flight. */
static void test_sack_recovery(void **st)
{
	struct sle_tcp_conn *c = handshake(1000);
	uint32_t una = c->iss + 1;
	struct sle_tcp_opts o = {.wscale = -1, .nsack = 1};
	struct sle_tcp_seg s;

	F->rq_len = 200000;
	sle_tcp_sock_event(&T, c, true, false, 0);
	assert_int_equal(F->nout, 10);
	/* segments 0 and 2 lost: the client holds 1 and 3..9 */
	F->nout = 0;
	o.sack[0].s = una + 1380;
	o.sack[0].e = una + 2 * 1380;
	client(c, 1001, una, SLE_TCP_ACK, 1000, NULL, 0, &o);
	o.sack[0].s = una + 3 * 1380;
	o.sack[0].e = una + 10 * 1380;
	client(c, 1001, una, SLE_TCP_ACK, 1000, NULL, 0, &o);
	/* 8 segments SACKed: recovery without waiting for 3 dup ACKs */
	assert_true(c->cc.recovering);
	assert_int_equal(T.fast_retransmits, 1);
	/* the two holes resent (SACKed data leaves room for new data too:
	 * the first duplicate ACK already sent one new segment) */
	{
		bool h0 = false, h2 = false;

		for (int i = 0; i < F->nout; i++) {
			s = out(i);
			h0 |= s.seq == una;
			h2 |= s.seq == una + 2 * 1380;
			assert_true(s.seq != una + 1380); /* never SACKed */
		}
		assert_true(h0 && h2);
	}
}

/* A flow limited by the client's window does not grow cwnd past it. */
static void test_cwnd_capped(void **st)
{
	struct sle_tcp_conn *c = handshake(100); /* 25,600 bytes */

	F->rq_len = 200000;
	F->now += 1;
	sle_tcp_sock_event(&T, c, true, false, 0);
	assert_int_equal(F->nout, 10);
	client(c, 1001, c->iss + 1 + 13800, SLE_TCP_ACK, 100, NULL, 0, NULL);
	assert_int_equal(c->cc.cwnd, 25600);
}

/* Pacing: no more than cwnd/SRTT x gain; the rest when time has passed. */
static void test_pacing(void **st)
{
	struct sle_tcp_conn *c = handshake(65535); /* SRTT 50 ms */
	int first;

	F->rq_len = RQ_CAP;
	c->cc.cwnd = 100 * 1380;
	c->cc.ssthresh = 1; /* congestion avoidance: gain 1.25 */
	c->pace_tokens = 0;
	c->pace_t = F->now;
	/* 4 ms at 100 segments per 50 ms x 1.25: 10 segments */
	F->now += 0.004;
	sle_tcp_sock_event(&T, c, true, false, 0);
	first = F->nout;
	assert_true(first >= 9 && first <= 11);
	/* nothing more without time */
	sle_tcp_wupd(&T, c);
	assert_int_equal(F->nout, first);
	F->now += 0.004;
	sle_tcp_wupd(&T, c);
	assert_true(F->nout >= 2 * first - 1 && F->nout <= 2 * first + 1);
	/* a burst is capped at SLE_TCP_PACE_BURST (or 16 segments) */
	F->now += 10;
	F->nout = 0;
	sle_tcp_wupd(&T, c);
	assert_true(F->nout <= 16);
}

static void test_client_rst_and_budget(void **st)
{
	struct sle_tcp_conn *c = handshake(1000);

	/* a RST out of the window is ignored (RFC 5961) */
	client(c, 999999, 0, SLE_TCP_RST, 0, NULL, 0, NULL);
	assert_false(F->released);
	/* at rcv_nxt: the host socket is reset */
	client(c, 1001, 0, SLE_TCP_RST, 0, NULL, 0, NULL);
	assert_true(F->released);
	assert_true(F->rst);
	sle_tcp_flush(&T);

	/* the per-turn segment budget holds a sender back */
	F->released = false;
	c = handshake(65535);
	c->cc.cwnd = 1u << 30;
	F->rq_len = RQ_CAP;
	F->now += 1; /* pacing: a second's worth of tokens */
	T.turn_left = 5;
	sle_tcp_sock_event(&T, c, true, false, 0);
	assert_int_equal(F->nout, 5);
	assert_true(c->starved);
	F->nout = 0;
	T.turn_left = 0;
	assert_true(sle_tcp_turn(&T)); /* a fresh budget, spent again */
	assert_int_equal(F->nout, SLE_TCP_TURN_SEGS);
}

/* n segments of 100 bytes, each after a hole of 100: 1201, 1401, ... */
static void keep_after_holes(struct sle_tcp_conn *c, uint32_t n)
{
	uint8_t d[100];

	memset(d, 'k', sizeof(d));
	for (uint32_t k = 1; k <= n; k++)
		client(c, 1001 + 200 * k, c->iss + 1, SLE_TCP_ACK, 1000, d,
		       sizeof(d), NULL);
}

/* Four ranges kept after holes: the duplicate ACK reports the latest
 * segment's block first, then the others that changed last (RFC 2018 4),
 * four in all (no timestamps). */
static void test_sack_blocks_out(void **st)
{
	struct sle_tcp_conn *c = handshake(1000);
	uint8_t d[100];
	struct sle_tcp_seg s;

	memset(d, 'b', sizeof(d));
	keep_after_holes(c, 4); /* kept: 1201, 1401, 1601, then 1801 last */
	/* one ACK for the batch, not one per segment */
	assert_int_equal(F->nout, 0);
	sle_tcp_flush(&T);
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.ack, 1001);
	assert_int_equal(s.opt.nsack, 4);
	assert_int_equal(s.opt.sack[0].s, 1001 + 800); /* the latest */
	assert_int_equal(s.opt.sack[0].e, 1001 + 900);
	assert_int_equal(s.opt.sack[1].s, 1001 + 600);
	assert_int_equal(s.opt.sack[2].s, 1001 + 400);
	assert_int_equal(s.opt.sack[3].s, 1001 + 200);
	/* the hole filled: everything kept is written, in order */
	F->nout = 0;
	client(c, 1001, c->iss + 1, SLE_TCP_ACK, 1000, d, 100, NULL);
	client(c, 1101, c->iss + 1, SLE_TCP_ACK, 1000, d, 100, NULL);
	assert_int_equal(F->wq_len, 300);
	client(c, 1301, c->iss + 1, SLE_TCP_ACK, 1000, d, 100, NULL);
	client(c, 1501, c->iss + 1, SLE_TCP_ACK, 1000, d, 100, NULL);
	client(c, 1701, c->iss + 1, SLE_TCP_ACK, 1000, d, 100, NULL);
	assert_int_equal(F->wq_len, 900);
	assert_null(c->ooo);
	assert_int_equal(c->rcv_nxt, 1901);
}

/* A batch of one client segment of len bytes at seq: the ACK it gets. */
static struct sle_tcp_seg batch_ack(struct sle_tcp_conn *c, uint32_t seq,
				    uint32_t len)
{
	uint8_t d[200];

	assert_true(len <= sizeof(d));
	memset(d, 'r', sizeof(d));
	F->nout = 0;
	client(c, seq, c->iss + 1, SLE_TCP_ACK, 1000, d, len, NULL);
	sle_tcp_flush(&T);
	assert_int_equal(F->nout, 1);
	return out(0);
}

/* The SACK blocks of s start at starts[0..n-1], in that order. */
static void assert_block_starts(const struct sle_tcp_seg *s, uint8_t n,
				const uint32_t *starts)
{
	assert_int_equal(s->opt.nsack, n);
	for (uint8_t i = 0; i < n; i++)
		assert_int_equal(s->opt.sack[i].s, starts[i]);
}

/* Blocks in the order they changed (RFC 2018 4): a block the client was
 * told of is repeated after newer holes open above it, so ACKs lost on
 * the way cost nothing. Reporting the lowest blocks instead let a middle
 * block drop out of every ACK, and the client resent data held here. */
static void test_sack_blocks_recent(void **st)
{
	struct sle_tcp_conn *c = handshake(1000);
	struct sle_tcp_seg s;

	keep_after_holes(c, 6); /* 1201, 1401, ... 2201 */
	/* more data into the second-lowest block (a part of its hole that
	 * arrived late): it goes first, then the latest others */
	s = batch_ack(c, 1501, 50);
	assert_int_equal(s.ack, 1001);
	assert_block_starts(&s, 4, (const uint32_t[]){1401, 2201, 2001, 1801});
	assert_int_equal(s.opt.sack[0].e, 1551);
	/* a block merged with its neighbour is reported once, first */
	s = batch_ack(c, 2101, 100);
	assert_block_starts(&s, 4, (const uint32_t[]){2001, 1401, 1801, 1201});
	assert_int_equal(s.opt.sack[0].e, 2301);
	/* the hole below filled: blocks below the ACK are gone from the
	 * reports, the rest keep their order */
	s = batch_ack(c, 1001, 200);
	assert_int_equal(s.ack, 1301);
	assert_block_starts(&s, 4, (const uint32_t[]){2001, 1401, 1801, 1601});
}

/* A client that did not offer SACK counts duplicate ACKs for its fast
 * retransmit: each segment after a hole gets its own, at once. */
static void test_dupacks_without_sack(void **st)
{
	struct sle_tcp_opts o = {.mss = 1460, .wscale = 8};
	struct sle_tcp_conn *c;
	struct sle_tcp_seg s;
	uint8_t d[100];

	memset(d, 'n', sizeof(d));
	client(NULL, 1000, 0, SLE_TCP_SYN, 65535, NULL, 0, &o);
	c = F->conn;
	assert_non_null(c);
	sle_tcp_sock_event(&T, c, false, true, 0);
	s = out(0);
	assert_false(s.opt.sack_ok);
	client(c, 1001, s.seq + 1, SLE_TCP_ACK, 1000, NULL, 0, NULL);
	assert_int_equal(c->state, SLE_TCP_ESTABLISHED);
	F->nout = 0;
	for (uint32_t k = 1; k <= 3; k++)
		client(c, 1001 + 100 * k, c->iss + 1, SLE_TCP_ACK, 1000, d,
		       sizeof(d), NULL);
	assert_int_equal(F->nout, 3);
	for (int i = 0; i < 3; i++) {
		s = out(i);
		assert_int_equal(s.ack, 1001);
		assert_int_equal(s.opt.nsack, 0);
	}
}

/* A long run after one hole (a burst lost on the way while the client's
 * window is megabytes): every segment within the window is kept and
 * reported, not only the first SLE_TCP_OOO_MAX of old (1,024), so the
 * client resends the hole and nothing else. */
static void test_ooo_long_run(void **st)
{
	struct sle_tcp_conn *c = handshake(1000);
	uint8_t d[100];
	struct sle_tcp_seg s;
	uint32_t k, n = 2000; /* 200,000 bytes within the 256 KiB window */

	memset(d, 'c', sizeof(d));
	client(c, 1001, c->iss + 1, SLE_TCP_ACK, 1000, d, 100, NULL);
	sle_tcp_flush(&T); /* the window edge is advertised */
	for (k = 0; k < n; k++) {
		F->nout = 0; /* only the latest duplicate ACK is looked at */
		client(c, 1201 + 100 * k, c->iss + 1, SLE_TCP_ACK, 1000, d, 100,
		       NULL);
		sle_tcp_flush(&T);
	}
	assert_int_equal(c->ooo_n, n);
	s = out(F->nout - 1);
	assert_int_equal(s.ack, 1101);
	assert_int_equal(s.opt.nsack, 1);
	assert_int_equal(s.opt.sack[0].s, 1201);
	assert_int_equal(s.opt.sack[0].e, 1201 + 100 * n);
	/* the hole filled: all of it written, in order */
	F->nout = 0;
	client(c, 1101, c->iss + 1, SLE_TCP_ACK, 1000, d, 100, NULL);
	assert_int_equal(F->wq_len, 200 + 100 * n);
	assert_null(c->ooo);
	assert_int_equal(c->rcv_nxt, 1201 + 100 * n);
	sle_tcp_flush(&T);
	s = out(F->nout - 1);
	assert_int_equal(s.ack, 1201 + 100 * n);
	assert_int_equal(s.opt.nsack, 0);
}

/* BBR against a simulated path: a bottleneck of rate bytes/s with a
 * queue in front of it (unbounded), rtt of propagation; the sender sends
 * 1000-byte segments as its pacing rate and window allow, the bottleneck
 * serves them in order, each is acknowledged rtt after it was served
 * (nothing delivered for every loss_every-th, 0: none). Ends with the
 * queue and the path as they are (static: across calls). */
#define SIM_N 65536
static struct {
	uint32_t end[SIM_N]; /* queued at the bottleneck */
	uint32_t qhead, qn;
	uint32_t aend[SIM_N]; /* served, acknowledged at adue */
	double adue[SIM_N];
	uint32_t ahead, an, seq, una, k;
	double tokens, served;
	double agg; /* s: ACKs come in bunches this far apart (0: not) */
} S;

static void bbr_sim(struct sle_bbr *b, struct sle_cc *c, double *now,
		    double secs, double rate, double rtt, int loss_every)
{
	if (!S.seq)
		S.seq = S.una = 1;
	for (double t = 0; t < secs; t += 0.0005) {
		*now += 0.0005;
		S.tokens += sle_bbr_pacing_rate(b, c, rtt) * 0.0005;
		if (S.tokens > 16000)
			S.tokens = 16000;
		while (S.tokens >= 1000 && S.seq - S.una + 1000 <= c->cwnd &&
		       S.qn < SIM_N) {
			sle_bbr_sent(b, S.seq + 1000, S.seq - S.una, c->cwnd,
				     *now);
			S.seq += 1000;
			S.end[(S.qhead + S.qn++) % SIM_N] = S.seq;
			S.tokens -= 1000;
		}
		S.served += rate * 0.0005;
		while (S.served >= 1000 && S.qn && S.an < SIM_N) {
			S.aend[(S.ahead + S.an) % SIM_N] = S.end[S.qhead];
			S.adue[(S.ahead + S.an++) % SIM_N] = *now + rtt;
			S.qhead = (S.qhead + 1) % SIM_N;
			S.qn--;
			S.served -= 1000;
		}
		if (!S.qn && S.served > 1000)
			S.served = 1000; /* an idle link saves nothing up */
		if (S.agg && fmod(*now, S.agg) > 0.0005 - 1e-9)
			continue; /* the ACKs wait for the next bunch */
		while (S.an && S.adue[S.ahead] <= *now + 1e-9) {
			bool lost = loss_every && ++S.k % loss_every == 0;

			S.una = S.aend[S.ahead];
			S.ahead = (S.ahead + 1) % SIM_N;
			S.an--;
			sle_bbr_ack(b, c, lost ? 0 : 1000, S.una, S.seq - S.una,
				    *now);
		}
	}
}

/* BBR: the bottleneck rate and the round trip are measured; STARTUP ends
 * when the rate stops growing, and in PROBE_BW the window is 2 BDP (+ 3
 * segments) with the pacing gain cycling over 1.25 / 0.75 / 1. */
static void test_bbr_model(void **st)
{
	struct sle_bbr b;
	struct sle_cc c;
	double now = 100, rate = 10e6, rtt = 0.05; /* 80 Mbit/s, 50 ms */
	bool hi = false, lo = false;

	memset(&S, 0, sizeof(S));
	sle_cc_init(&c, 1000);
	sle_bbr_init(&b);
	bbr_sim(&b, &c, &now, 2.0, rate, rtt, 0);
	assert_true(b.filled);
	assert_int_equal(b.mode, SLE_BBR_PROBE_BW);
	assert_true(b.bw > rate * 0.95 && b.bw < rate * 1.05);
	assert_true(b.min_rtt > rtt - 0.002 && b.min_rtt < rtt + 0.002);
	assert_true(c.cwnd > 2 * rate * rtt * 0.95 + 3000);
	assert_true(c.cwnd < 2 * rate * rtt * 1.05 + 3000);
	for (int i = 0; i < 20; i++) {
		bbr_sim(&b, &c, &now, 0.05, rate, rtt, 0);
		hi |= b.pacing_gain > 1.2;
		lo |= b.pacing_gain < 0.8;
	}
	assert_true(hi && lo);
	assert_true(sle_bbr_pacing_rate(&b, &c, rtt) >= 0.75 * rate * 0.95);
}

/* Loss that is not the path's (here every 30th ACK delivers nothing, 3 %)
 * leaves the rate and the window where the path put them; a loss-based
 * window (CUBIC) gives away 30 % at each such event. */
static void test_bbr_loss_blind(void **st)
{
	struct sle_bbr b;
	struct sle_cc c;
	double now = 100, rate = 10e6, rtt = 0.05;

	memset(&S, 0, sizeof(S));
	sle_cc_init(&c, 1000);
	sle_bbr_init(&b);
	bbr_sim(&b, &c, &now, 3.0, rate, rtt, 30);
	assert_int_equal(b.mode, SLE_BBR_PROBE_BW);
	assert_true(b.bw > rate * 0.9);
	assert_true(c.cwnd > 2 * rate * rtt * 0.9);
}

/* ACKs that come in bunches (a client that acknowledges every 4 ms, at a
 * 1 ms round trip): the window covers the bunches too (Linux's
 * extra_acked). Without that, 2 BDP + 3 segments is less than one bunch:
 * the rate samples, the estimate and the window shrink each other down
 * to a few segments (measured: 4 % of the path; with it: 60 %, the rest
 * is PROBE_BW's 1 ms probes blurred by the 4 ms bunches). */
static void test_bbr_ack_aggregation(void **st)
{
	struct sle_bbr b;
	struct sle_cc c;
	double now = 100, rate = 50e6; /* 400 Mbit/s */
	uint32_t una0;

	memset(&S, 0, sizeof(S));
	S.agg = 0.004;
	sle_cc_init(&c, 1000);
	sle_bbr_init(&b);
	bbr_sim(&b, &c, &now, 2.0, rate, 0.001, 0);
	una0 = S.una;
	bbr_sim(&b, &c, &now, 1.0, rate, 0.001, 0);
	assert_true(S.una - una0 > 0.5 * rate);
	assert_true(c.cwnd > 2 * b.bw * 0.001 + b.bw * 0.003);
}

/* No round trip as short as RTprop for 10 s: PROBE_RTT, the window down
 * to 4 segments for 200 ms, then back to PROBE_BW with the old window. */
static void test_bbr_probe_rtt(void **st)
{
	struct sle_bbr b;
	struct sle_cc c;
	double now = 100, rate = 10e6, t0;
	uint32_t before;

	memset(&S, 0, sizeof(S));
	sle_cc_init(&c, 1000);
	sle_bbr_init(&b);
	bbr_sim(&b, &c, &now, 2.0, rate, 0.05, 0);
	before = c.cwnd;
	t0 = b.min_rtt_t;
	/* the path's delay grows to 60 ms: no sample refreshes RTprop */
	while (b.mode != SLE_BBR_PROBE_RTT && now < t0 + 12)
		bbr_sim(&b, &c, &now, 0.01, rate, 0.06, 0);
	assert_int_equal(b.mode, SLE_BBR_PROBE_RTT);
	assert_true(now > t0 + 10 && now < t0 + 10.2);
	assert_int_equal(c.cwnd, 4000);
	/* 200 ms at 4 segments once the flight got there, then back */
	bbr_sim(&b, &c, &now, 0.15, rate, 0.06, 0);
	assert_int_equal(b.mode, SLE_BBR_PROBE_RTT);
	bbr_sim(&b, &c, &now, 0.5, rate, 0.06, 0);
	assert_int_equal(b.mode, SLE_BBR_PROBE_BW);
	assert_true(b.min_rtt > 0.059 && b.min_rtt < 0.061);
	assert_true(c.cwnd >= before * 0.9);
}

/* The relay with BBR: a loss does not cut the window (CUBIC's would be
 * 0.7 x), and the segments go out paced at the model's rate. */
static void test_bbr_relay(void **st)
{
	struct sle_tcp_conn *c;
	struct sle_tcp_opts o = {.wscale = -1, .nsack = 1};
	uint32_t una, cwnd;

	T.bbr = true;
	c = handshake(65535);
	assert_true(c->use_bbr);
	una = c->iss + 1;
	F->rq_len = 200000;
	sle_tcp_sock_event(&T, c, true, false, 0);
	assert_int_equal(F->nout, 10);
	/* segment 0 lost, 1..9 SACKed: recovery, the hole resent */
	F->nout = 0;
	F->now += 0.05;
	cwnd = c->cc.cwnd;
	o.sack[0].s = una + 1380;
	o.sack[0].e = una + 10 * 1380;
	client(c, 1001, una, SLE_TCP_ACK, 65535, NULL, 0, &o);
	assert_true(c->cc.recovering);
	assert_true(F->nout >= 1);
	assert_int_equal(out(0).seq, una);
	/* 9 segments delivered: the window grew by them (STARTUP), not cut */
	assert_true(c->cc.cwnd >= cwnd);
	assert_int_equal(c->bbr.delivered, 9 * 1380);
}

/* Three segments lost, seven SACKed above them: the lost ones leave the
 * pipe (RFC 6675), so new data fills the whole window while they are
 * resent, instead of the window less three segments. */
static void test_pipe_without_lost(void **st)
{
	struct sle_tcp_conn *c;
	struct sle_tcp_opts o = {.wscale = -1, .nsack = 1};
	uint32_t una, fresh = 0, resent = 0;

	T.bbr = true; /* the window is not cut by the loss */
	c = handshake(65535);
	una = c->iss + 1;
	F->rq_len = 200000;
	sle_tcp_sock_event(&T, c, true, false, 0);
	assert_int_equal(F->nout, 10);
	F->nout = 0;
	F->now += 0.05;
	o.sack[0].s = una + 3 * 1380;
	o.sack[0].e = una + 10 * 1380;
	client(c, 1001, una, SLE_TCP_ACK, 65535, NULL, 0, &o);
	/* cwnd 17 segments (10 + 7 delivered) */
	assert_int_equal(c->cc.cwnd, 17 * 1380);
	for (int i = 0; i < F->nout; i++) {
		fresh += out(i).seq >= una + 10 * 1380;
		resent += out(i).seq < una + 3 * 1380;
	}
	/* the three holes (sent before what was SACKed, a round trip ago)
	 * are lost and resent first; lost segments are not in the pipe, so
	 * new data fills the rest of the pacing burst (16 segments; cwnd
	 * allows 17): 13, where counting them would leave 11 */
	assert_int_equal(resent, 3);
	assert_int_equal(fresh, 13);
}

/* Resending the segment at snd_una restarts the retransmission timer (as
 * Linux does): at a 100 ms round trip a hole lost again is found one
 * round trip after its resend and acknowledged two after it, past an RTO
 * of 200 ms, and a timeout then sends everything again from one segment. */
static void test_rto_rearmed_by_head_resend(void **st)
{
	struct sle_tcp_conn *c = handshake(65535);
	struct sle_tcp_opts o = {.wscale = -1, .nsack = 1};
	uint32_t una = c->iss + 1;

	F->rq_len = 200000;
	sle_tcp_sock_event(&T, c, true, false, 0);
	F->now += 0.05;
	F->timer = -2;
	o.sack[0].s = una + 1380;
	o.sack[0].e = una + 5 * 1380;
	client(c, 1001, una, SLE_TCP_ACK, 65535, NULL, 0, &o);
	assert_true(c->cc.recovering);
	assert_int_equal(out(0).seq, una); /* the head resent */
	assert_true(F->timer == c->rtt.rto);
}

/* The relay resends a hole once per round trip, not at every ACK: SACKs
 * of segments sent before the resend say nothing of it; one sent after
 * it, delivered while the hole is still missing, makes it lost again. */
static void test_rack_relay(void **st)
{
	struct sle_tcp_conn *c;
	struct sle_tcp_opts o = {.wscale = -1, .nsack = 1};
	uint32_t una, first;

	T.bbr = true;
	c = handshake(65535); /* SRTT 50 ms */
	una = c->iss + 1;
	F->rq_len = 200000;
	sle_tcp_sock_event(&T, c, true, false, 0);
	assert_int_equal(F->nout, 10);
	/* segment 0 lost, 1..9 SACKed one by one a round trip later */
	F->now += 0.05;
	for (uint32_t i = 1; i < 10; i++) {
		o.sack[0].s = una + 1380;
		o.sack[0].e = una + (i + 1) * 1380;
		F->nout = 0;
		client(c, 1001, una, SLE_TCP_ACK, 65535, NULL, 0, &o);
		F->now += 0.0005;
	}
	/* resent once, not once per ACK */
	assert_int_equal(T.retransmits, 1);
	first = c->snd_nxt; /* new data went out after the resend */
	assert_true(first > una + 10 * 1380);
	/* the new data SACKed within the round trip of the resend: the
	 * resend is not judged lost yet (reorder timer instead) */
	F->now += 0.01;
	o.sack[0].e = una + 12 * 1380;
	client(c, 1001, una, SLE_TCP_ACK, 65535, NULL, 0, &o);
	assert_int_equal(T.retransmits, 1);
	/* a round trip after the resend, data sent after it is delivered
	 * and the hole is still missing: lost again, resent once more */
	F->now += 0.05;
	o.sack[0].e = first;
	client(c, 1001, una, SLE_TCP_ACK, 65535, NULL, 0, &o);
	assert_int_equal(T.retransmits, 2);
	client(c, 1001, una, SLE_TCP_ACK, 65535, NULL, 0, &o);
	assert_int_equal(T.retransmits, 2);
	/* the hole arrives: everything acknowledged up to what was SACKed */
	client(c, 1001, first, SLE_TCP_ACK, 65535, NULL, 0, NULL);
	assert_int_equal(c->snd_una, first);
	assert_int_equal(c->tx.lost_bytes, 0);
	assert_int_equal(c->tx.sacked, 0);
}

/* A loss at the tail of a flight: no later segment is delivered to show
 * it, so two round trips after the last ACK the probe timer sends the
 * last segment again (RFC 8985 7), well before the RTO; then the RTO. */
static void test_tail_probe(void **st)
{
	struct sle_tcp_conn *c = handshake(65535);
	uint32_t una = c->iss + 1;
	double pto;

	F->rq_len = 10 * 1380; /* nothing after these */
	sle_tcp_sock_event(&T, c, true, false, 0);
	assert_int_equal(F->nout, 10);
	F->now += 0.05;
	client(c, 1001, una + 8 * 1380, SLE_TCP_ACK, 65535, NULL, 0, NULL);
	pto = F->timer;
	assert_true(c->pto);
	assert_true(pto < c->rtt.rto);
	assert_true(fabs(pto - (2 * c->rtt.srtt + SLE_TCP_PTO_SLACK)) < 1e-9);
	F->nout = 0;
	F->now += pto;
	sle_tcp_timeout(&T, c);
	assert_int_equal(F->nout, 1);
	assert_int_equal(out(0).seq, una + 9 * 1380);
	assert_int_equal(T.tail_probes, 1);
	assert_int_equal(T.timeouts, 0);
	assert_false(c->pto);
	assert_true(F->timer == c->rtt.rto); /* one probe, then the RTO */
	/* its SACK shows segment 8 missing: RACK resends it at once */
	F->nout = 0;
	F->now += 0.05;
	client(c, 1001, una + 8 * 1380, SLE_TCP_ACK, 65535, NULL, 0,
	       &(struct sle_tcp_opts){
		       .wscale = -1,
		       .nsack = 1,
		       .sack = {{una + 9 * 1380, una + 10 * 1380}}});
	assert_int_equal(F->nout, 1);
	assert_int_equal(out(0).seq, una + 8 * 1380);
	assert_int_equal(T.timeouts, 0);
}

/* A timeout at the end of a download, its FIN already out: the window
 * of one segment still resends the first lost one (the FIN, counted in
 * the pipe, once left it one byte short: the transfer stalled at its
 * tail until the client gave up). */
static void test_timeout_after_fin(void **st)
{
	struct sle_tcp_conn *c;
	uint32_t una;

	T.bbr = true;
	c = handshake(65535);
	una = c->iss + 1;
	F->rq_len = 3 * 1380;
	F->eof = true;
	sle_tcp_sock_event(&T, c, true, false, 0);
	sle_tcp_sock_event(&T, c, true, false, 0); /* the EOF */
	assert_int_equal(F->nout, 4);		   /* 3 segments and the FIN */
	assert_int_equal(out(3).flags & SLE_TCP_FIN, SLE_TCP_FIN);
	F->now += c->rtt.rto;
	sle_tcp_timeout(&T, c); /* nothing came back: the tail probe */
	assert_int_equal(T.tail_probes, 1);
	F->nout = 0;
	F->now += c->rtt.rto;
	sle_tcp_timeout(&T, c); /* still nothing: the RTO */
	assert_int_equal(T.timeouts, 1);
	assert_int_equal(F->nout, 1);
	assert_int_equal(out(0).seq, una);
	assert_int_equal(out(0).len, 1380);
	/* acknowledged: the next one goes */
	F->nout = 0;
	F->now += 0.05;
	client(c, 1001, una + 1380, SLE_TCP_ACK, 65535, NULL, 0, NULL);
	assert_true(F->nout >= 1);
	assert_int_equal(out(0).seq, una + 1380);
}

/* RFC 2883: data the client sends again that was already received is
 * acknowledged at once, with a D-SACK block naming it first, so the
 * client's loss recovery learns the retransmission was spurious. */
static void test_dsack(void **st)
{
	struct sle_tcp_conn *c = handshake(1000);
	uint8_t d[1380];
	struct sle_tcp_seg s;

	memset(d, 'b', sizeof(d));
	client(c, 1001, c->iss + 1, SLE_TCP_ACK, 1000, d, sizeof(d), NULL);
	sle_tcp_flush(&T);
	F->nout = 0;
	/* the same segment again: nothing written twice, an ACK at once */
	client(c, 1001, c->iss + 1, SLE_TCP_ACK, 1000, d, sizeof(d), NULL);
	assert_int_equal(F->wq_len, sizeof(d));
	assert_int_equal(F->nout, 1);
	s = out(0);
	assert_int_equal(s.ack, 1001 + 1380);
	assert_int_equal(s.opt.nsack, 1);
	assert_int_equal(s.opt.sack[0].s, 1001);
	assert_int_equal(s.opt.sack[0].e, 1001 + 1380);
	assert_int_equal(T.duplicates, 1);
	/* half old, half new: the old half reported, the new half taken */
	F->nout = 0;
	client(c, 1001 + 690, c->iss + 1, SLE_TCP_ACK, 1000, d, sizeof(d),
	       NULL);
	assert_int_equal(F->wq_len, 1380 + 690);
	sle_tcp_flush(&T);
	s = out(F->nout - 1);
	assert_int_equal(s.ack, 1001 + 1380 + 690);
	assert_int_equal(s.opt.sack[0].s, 1001 + 690);
	assert_int_equal(s.opt.sack[0].e, 1001 + 1380);
	/* reported once: the next ACK has no D-SACK */
	F->nout = 0;
	client(c, 1001 + 2070, c->iss + 1, SLE_TCP_ACK, 1000, d, 10, NULL);
	sle_tcp_flush(&T);
	assert_int_equal(out(F->nout - 1).opt.nsack, 0);
}

/* A segment whose addresses are not the connection's (the flow table
 * keys IPv6 clients by their pool offset only) is not the connection's:
 * the sender gets a RST, the connection is untouched. */
static void test_foreign_segment(void **st)
{
	struct sle_tcp_conn *c = handshake(1000);
	static const uint8_t other[4] = {10, 77, 9, 2};
	uint8_t pkt[SLE_TCP_HDR_MAX];
	struct sle_pkt_info pi;
	size_t n = sle_tcp_build(pkt, 4, other, 40000, srv, 80, 1001,
				 c->iss + 1, SLE_TCP_RST, 0, NULL, NULL, 0);

	assert_true(sle_pkt_parse(pkt, n, &pi));
	sle_tcp_input(&T, c, pkt, &pi);
	assert_false(F->released);
	n = sle_tcp_build(pkt, 4, other, 40000, srv, 80, 1001, c->iss + 1,
			  SLE_TCP_ACK, 10, NULL, NULL, 0);
	assert_true(sle_pkt_parse(pkt, n, &pi));
	sle_tcp_input(&T, c, pkt, &pi);
	assert_int_equal(F->nout, 1);
	assert_memory_equal(F->out[0] + 16, other, 4);
	assert_int_equal(c->state, SLE_TCP_ESTABLISHED);
}

static void test_unknown_segment(void **st)
{
	uint8_t pkt[SLE_TCP_HDR_MAX];
	struct sle_pkt_info pi;
	size_t n = sle_tcp_build(pkt, 4, cli, 40000, srv, 80, 7, 1234,
				 SLE_TCP_ACK, 100, NULL, NULL, 0);

	assert_true(sle_pkt_parse(pkt, n, &pi));
	sle_tcp_no_conn(&T, pkt, &pi);
	assert_int_equal(F->nout, 1);
	assert_int_equal(out(0).flags, SLE_TCP_RST);
	assert_int_equal(out(0).seq, 1234);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_window_and_seq),
		cmocka_unit_test(test_sack_board),
		cmocka_unit_test(test_rack),
		cmocka_unit_test(test_rack_ambiguous_and_reorder),
		cmocka_unit_test(test_txlog_limits),
		cmocka_unit_test(test_lost_stays_queued),
		cmocka_unit_test(test_sack_board_size),
		cmocka_unit_test(test_rtt),
		cmocka_unit_test(test_cc),
		cmocka_unit_test(test_cubic_growth),
		cmocka_unit_test(test_bbr_model),
		cmocka_unit_test(test_bbr_loss_blind),
		cmocka_unit_test(test_bbr_probe_rtt),
		cmocka_unit_test(test_bbr_ack_aggregation),
		cmocka_unit_test_setup_teardown(test_iss_late_clock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_connect_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_upload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_download, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sack_recovery, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pacing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cwnd_capped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_rst_and_budget,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_segment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_foreign_segment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_sack_blocks_recent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dupacks_without_sack,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ooo_long_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_bbr_relay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pipe_without_lost, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rack_relay, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tail_probe, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_dsack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_after_fin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_rto_rearmed_by_head_resend,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
