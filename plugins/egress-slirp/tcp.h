/* SPDX-License-Identifier: MIT */
/*
 * The TCP relay (`tcp: relay`): client TCP terminated here and relayed to
 * ordinary host sockets, instead of through libslirp (which has no window
 * scaling, so one flow carries at most 64 KiB per round trip of the
 * client's link). UDP, ICMP echo, DNS forwarding and TCP to the pool's own
 * addresses (the DNS forwarder) stay with slirp.
 *
 * Design: no TCP stack of our own. Each client connection is paired with
 * one nonblocking host socket; the relay keeps just enough state to speak
 * TCP to the client (sequence numbers, windows, timers) and leaves
 * everything toward the host to the kernel.
 *
 *  - Handshake. A client SYN (after the destination policy and the flow
 *    limits) creates a connection and a nonblocking connect(). Only when
 *    the host side is connected does the client get its SYN-ACK, with our
 *    MSS (tunnel MTU - 40 / - 60), window scale SLE_TCP_WSCALE and
 *    SACK-permitted when the client offered them. A failed connect
 *    (refused, unreachable, timeout) answers the client a RST at once.
 *
 *  - Buffers. Each direction has one queue in user space, bounded by the
 *    window it backs and charged to the memory budget:
 *    host -> client, the bytes read from the socket that the client has
 *    not acknowledged yet (sequence snd_una is its first byte, so byte
 *    snd_una + k is at offset k: retransmissions read from there); client
 *    -> host, the bytes the client sent that the socket did not take yet
 *    (at most SLE_TCP_SNDQ_MAX). Why not leave the data in the kernel's
 *    socket queues and MSG_PEEK it, as passt does: measured here, a
 *    socket that is only peeked never grows its receive buffer
 *    (autotuning counts bytes read), and an unprivileged process cannot
 *    raise it past net.core.rmem_max (208 KiB by default, also on
 *    Fargate) - the relay was then no faster than slirp at 50-100 ms. The
 *    state machine is written against peek/discard (struct sle_tcp_env),
 *    so either backing works.
 *
 *  - Client -> host. A segment that starts at rcv_nxt is handed to the
 *    socket side; rcv_nxt advances by what it accepted, and only that is
 *    acknowledged (the rest is resent by the client). Segments after a
 *    hole are kept (within the window, at most SLE_TCP_OOO_MAX: a window
 *    of full segments, appended in O(1)) and answered with a duplicate
 *    ACK that carries SACK blocks of what is kept (merged as it
 *    arrives), so the client resends only the holes; they are written
 *    once the hole is filled. A SACK-permitted client gets one such ACK
 *    per batch of its packets, with up to four blocks in the order they
 *    changed (the latest first: a block is repeated after newer holes
 *    open above it); one without SACK a duplicate ACK per segment.
 *    The window we advertise is the free
 *    room of the queue toward the socket, never shrinking the right edge
 *    already advertised, cut by the memory budget. When the client is
 *    left with less than half the largest window we offered, a window
 *    update follows as the queue drains (write readiness, and a re-check
 *    every SLE_TCP_WUPD_DELAY). A client FIN, once everything before it
 *    was taken, becomes shutdown(SHUT_WR) after the queue drained.
 *
 *  - Host -> client. Segments go out from offset snd_nxt - snd_una, up to
 *    min(client window, cwnd, SLE_TCP_INFLIGHT_MAX) in flight; a client
 *    ACK drops the acknowledged bytes. EOF after the last byte becomes
 *    our FIN. Sockets are watched edge-triggered (one epoll set of the
 *    relay): new bytes are an event; more is read at each ACK.
 *    Loss recovery toward the client: RTO per RFC 6298 (SRTT/RTTVAR,
 *    1 s initial, 200 ms floor, doubling backoff, Karn's rule). Every
 *    data segment in flight is logged with the time it was last sent
 *    (tcp_rack.c), and RACK (RFC 8985) declares a segment lost once one
 *    sent after it was delivered (acknowledged or SACKed, RFC 2018) and
 *    a round trip plus a reordering window (a quarter of the smallest
 *    round trip; none in recovery while the client showed no
 *    reordering) has passed since it went out; the reorder timer
 *    catches the rest. A lost retransmission is thus found one round
 *    trip after it was sent, and only it is sent again. Lost segments
 *    are resent before new data, paced like it, within the window less
 *    the pipe (RFC 6675: what is in flight, less what was SACKed or
 *    declared lost); the first resend of a recovery goes at once.
 *    Without SACK information, the third duplicate ACK and each partial
 *    ACK declare the segment at snd_una lost (RFC 5681, NewReno RFC
 *    6582). A timeout declares everything not SACKed lost.
 *    The window (tcp_bbr.c, tcp_cubic.c): BBR by default (rate and
 *    window from the measured delivery rate and round trip, loss does
 *    not shrink them: what a client behind WireGuard mostly loses is
 *    bursts at its own UDP socket, not the path's queue), or CUBIC
 *    (RFC 9438) with `tcp_cc: cubic`; initial window 10 segments.
 *
 *  - Close. FIN both ways as above (half-close works both ways). A client
 *    RST closes the socket with SO_LINGER 0 (the host gets a RST); a host
 *    RST or any socket error sends the client a RST. Both FINs exchanged
 *    and acknowledged: the connection and its flow are gone at once (no
 *    TIME_WAIT here; the host socket keeps the kernel's).
 *
 *  - Back-pressure. Segments toward the client are paced: each connection
 *    sends at most BBR's pacing rate (gain x the delivery rate), or with
 *    CUBIC cwnd/SRTT times a gain (2 in slow start, 1.25 after),
 *    in bursts of SLE_TCP_PACE_BURST of sending, so a window opening by
 *    megabytes does not leave as one burst that a queue on the way
 *    (the client's UDP socket, a router) drops. They leave through the
 *    egress's batches to the transport. Each loop turn may emit
 * SLE_TCP_TURN_SEGS data segments in total; a connection that still had window
 * left when the budget ran out is queued (round robin) and served at the next
 *    turn, which the loop then runs without blocking. A multi-megabyte
 *    window thus never becomes one burst that the transport drops.
 *
 *  - Limits. The flow table (flows.h) admits the SYN (max_flows,
 *    max_flows_per_peer, memory_budget) and expires idle connections
 *    (reset both ways). The memory budget also bounds what the windows
 *    commit: each connection is charged the window it advertised to the
 *    client (what its queue toward the socket may have to hold) plus what
 *    is in flight toward it (held in its queue from the socket); windows
 *    are cut so that the sum, with the flow table's own charges, stays
 *    within the budget.
 *
 * The state machine (tcp_in.c, tcp_out.c, tcp_cc.c, tcp_seg.c) is pure:
 * every socket, timer and output operation goes through struct
 * sle_tcp_env, which tcp_sock.c implements with real sockets and the
 * tests with fakes.
 */
#ifndef SLE_TCP_H
#define SLE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pkt.h"

#define SLE_TCP_WSCALE 7 /* our window scale: up to 8 MiB */
#define SLE_TCP_WND_MAX ((65535u << SLE_TCP_WSCALE))
#define SLE_TCP_INIT_CWND 10 /* segments (RFC 6928) */
#define SLE_TCP_RTO_INIT 1.0
#define SLE_TCP_RTO_MIN 0.2
#define SLE_TCP_RTO_MAX 60.0
#define SLE_TCP_MAX_RETRIES 10	 /* RTOs in a row before a reset */
#define SLE_TCP_TURN_SEGS 256	 /* data segments per loop turn */
#define SLE_TCP_PEEK_SEGS 64	 /* segments per peek */
#define SLE_TCP_PACE_SS 2.0	 /* pacing gain in slow start */
#define SLE_TCP_PACE_CA 1.25	 /* ... in congestion avoidance */
#define SLE_TCP_PACE_BURST 0.002 /* s of sending a burst may hold */
/* out-of-order segments kept per connection: a window's worth (8 MiB of
 * full segments), so one burst lost early in a window of megabytes costs
 * the client the burst only, not everything after the first 1,024 */
#define SLE_TCP_OOO_MAX 8192
#define SLE_TCP_SNDQ_MAX (4u << 20) /* client data the socket has not taken */
#define SLE_TCP_INFLIGHT_MAX (8u << 20) /* toward a client, unacknowledged */
#define SLE_TCP_HDR_MAX (40 + 60)
#define SLE_TCP_WUPD_DELAY 0.005 /* s between window re-checks */
/* a tail loss probe waits this much beyond 2 SRTT for one segment in
 * flight (the client may delay its ACK), 2 ms for more (RFC 8985 7.2) */
#define SLE_TCP_PTO_DELACK 0.2
#define SLE_TCP_PTO_SLACK 0.002

/* ---------------------------------------------------------- pure parts */

static inline bool sle_seq_lt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}
static inline bool sle_seq_le(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) <= 0;
}

struct sle_sack_blk {
	uint32_t s, e; /* [s, e) */
};
static inline bool sle_sack_has(const struct sle_sack_blk *b, uint32_t seq)
{
	return sle_seq_le(b->s, seq) && sle_seq_lt(seq, b->e);
}
/* The most SACK blocks one TCP option carries without timestamps (40
 * bytes of options): what we parse, and what our ACKs send. */
#define SLE_TCP_SACK_BLOCKS 4

struct sle_tcp_opts {
	uint16_t mss;  /* 0: absent */
	int8_t wscale; /* -1: absent */
	bool sack_ok;  /* SACK-permitted */
	uint8_t nsack; /* SACK blocks in sack[] */
	struct sle_sack_blk sack[SLE_TCP_SACK_BLOCKS];
};

/* What the client reported it holds beyond snd_una (RFC 2018 blocks,
 * merged, sorted by sequence; the highest give way when full). 128: at
 * 20 % loss in bursts a window of thousands of segments has hundreds of
 * holes, and 16 blocks left the higher ones unknown (measured at 20 ms:
 * 170 -> 174-243 Mbit/s down). */
#define SLE_SACK_MAX 128
struct sle_sack_board {
	struct sle_sack_blk b[SLE_SACK_MAX];
	uint8_t n;
};
void sle_sack_add(struct sle_sack_board *sb, uint32_t s, uint32_t e);
/* The index of the block of b[0..n-1] (sorted, disjoint) that holds seq,
 * or -1. */
int sle_sack_find(const struct sle_sack_blk *b, uint8_t n, uint32_t seq);
/* Forget what lies below una. */
void sle_sack_trim(struct sle_sack_board *sb, uint32_t una);
/* The transmit log (tcp_rack.c): each data segment in flight toward the
 * client, in sequence order, with when it was last sent; RACK (RFC 8985)
 * declares a segment lost once one sent after it was delivered and a
 * round trip plus a reordering window has passed. At most SLE_TXLOG_MAX
 * segments (a full window of full-size segments; a connection with a tiny
 * MSS sends less at a time rather than logging more). */
#define SLE_TXLOG_MAX 8192
#define SLE_TX_SACKED 1u
#define SLE_TX_RETRANS 2u /* resent at least once */
#define SLE_TX_LOST 4u	  /* declared lost, not resent since */
struct sle_txseg {
	double t; /* last sent */
	uint32_t seq;
	uint16_t len;
	uint8_t flags;
	uint8_t gen; /* times sent, wrapping */
};
struct sle_txref { /* a segment as it was when sent the gen-th time */
	uint32_t seq;
	uint8_t gen;
};
struct sle_txq {
	struct sle_txref *r;
	uint32_t cap, head, n;
};
struct sle_txlog {
	struct sle_txseg *s; /* ring of cap (a power of two) */
	uint32_t cap, head, n;
	uint32_t scan;	     /* first original send RACK has not settled */
	struct sle_txq rtx;  /* retransmissions, in the order sent */
	struct sle_txq lost; /* declared lost, to resend, oldest first */
	uint32_t sacked, sacked_n, lost_bytes;
	/* RACK (RFC 8985 6.1): the most recently sent delivered segment */
	double rack_t, rack_rtt, min_rtt;
	uint32_t rack_end, fack; /* fack: highest end delivered */
	bool fack_set, reord;
};
void sle_txlog_free(struct sle_txlog *l);
/* Segments that may still be logged. */
uint32_t sle_txlog_room(const struct sle_txlog *l);
/* Bytes of memory the log holds (charged to the memory budget). */
size_t sle_txlog_mem(const struct sle_txlog *l);
/* New data [seq, seq + len) sent at now: 0, or -1 when it cannot be
 * logged (full, out of memory, not contiguous); then do not send it. */
int sle_txlog_sent(struct sle_txlog *l, uint32_t seq, uint32_t len, double now)
	__attribute__((warn_unused_result));
/* The segment holding seq, or NULL. */
struct sle_txseg *sle_txlog_find(const struct sle_txlog *l, uint32_t seq);
/* A cumulative ACK: segments below una leave the log (delivered). */
void sle_txlog_ack(struct sle_txlog *l, uint32_t una, double now);
/* A SACK block [s, e): segments wholly inside it and not inside a block
 * of known (the scoreboard before this ACK) are delivered. */
void sle_txlog_sack(struct sle_txlog *l, const struct sle_sack_board *known,
		    uint32_t s, uint32_t e, double now);
/* Declare e lost (queued for resending). */
void sle_txlog_mark_lost(struct sle_txlog *l, struct sle_txseg *e);
/* A retransmission timeout: every segment not SACKed (or every one,
 * when the client's SACKs are no longer trusted) is lost. */
void sle_txlog_lose_all(struct sle_txlog *l, bool forget_sacks);
/* The last segment in flight, or NULL. */
struct sle_txseg *sle_txlog_last(const struct sle_txlog *l);
/* Data in flight above una: to the end of the last segment logged.
 * Every data segment sent is logged, and nothing else is (a SYN or FIN
 * is not), so no caller has to subtract them. */
uint32_t sle_txlog_flight(const struct sle_txlog *l, uint32_t una);
/* The next lost segment to resend (the oldest declared), or NULL. */
struct sle_txseg *sle_txlog_next_lost(struct sle_txlog *l);
/* e resent at now. */
void sle_txlog_resent(struct sle_txlog *l, struct sle_txseg *e, double now);
/* RACK's loss detection (RFC 8985 6.2 step 5): the number of segments
 * newly declared lost; *wait: seconds until another may be (the reorder
 * timer), or < 0 when none waits. */
uint32_t sle_rack_detect(struct sle_txlog *l, bool recovering, double srtt,
			 double now, double *wait);

/* The TCP header of a parsed packet (pi from sle_pkt_parse, proto TCP,
 * first fragment): window field, payload, options. False when the header
 * does not fit the packet. */
struct sle_tcp_seg {
	uint32_t seq, ack;
	uint16_t wnd;
	uint8_t flags;
	const uint8_t *payload;
	uint32_t len;
	struct sle_tcp_opts opt;
};
bool sle_tcp_seg_parse(const uint8_t *ip, const struct sle_pkt_info *pi,
		       struct sle_tcp_seg *out);

/* Build an IP+TCP segment into out (room for SLE_TCP_HDR_MAX + plen):
 * src:sport -> dst:dport; with syn options (mss, wscale >= 0, sack_ok)
 * when opt is not NULL. Returns the packet length. */
size_t sle_tcp_build(uint8_t *out, int family, const uint8_t *src,
		     uint16_t sport, const uint8_t *dst, uint16_t dport,
		     uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		     const struct sle_tcp_opts *opt, const uint8_t *payload,
		     size_t plen);

/* The 16-bit window field for a window of wnd bytes at scale shift
 * (rounded down, saturated at 65535). */
uint16_t sle_tcp_wnd_field(uint32_t wnd, uint8_t shift);

/* RFC 6298 estimator. */
struct sle_rtt {
	double srtt, rttvar, rto;
	bool have;
};
void sle_rtt_init(struct sle_rtt *r);
void sle_rtt_sample(struct sle_rtt *r, double rtt);
void sle_rtt_backoff(struct sle_rtt *r);

/* Congestion window (bytes): slow start and recovery per RFC 5681 /
 * 6582, growth and reduction per CUBIC (RFC 9438), tcp_cubic.c. */
#define SLE_CUBIC_BETA 0.7 /* RFC 9438 4.6: multiplicative decrease */
#define SLE_CUBIC_C 0.4	   /* RFC 9438 5: segments / s^3 */
struct sle_cc {
	uint32_t cwnd, ssthresh, mss;
	uint32_t recover; /* snd_max when recovery began */
	bool recovering;
	uint8_t dupacks;
	/* CUBIC's state, in segments and seconds (RFC 9438 4.1) */
	bool epoch;	   /* a congestion avoidance stage began at t_epoch */
	double t_epoch, k; /* K: when W_cubic is back at w_max */
	double w_max;	   /* window before the last reduction, 0: none */
	double w_est;	   /* Reno-friendly estimate (4.3) */
};
void sle_cc_init(struct sle_cc *c, uint32_t mss);
/* acked new bytes (not in recovery) at time now, smoothed RTT srtt */
void sle_cc_acked(struct sle_cc *c, uint32_t acked, double now, double srtt);
/* loss detected by 3 dup ACKs, flight in bytes */
void sle_cc_fast(struct sle_cc *c, uint32_t flight, uint32_t snd_max);
/* retransmission timeout */
void sle_cc_timeout(struct sle_cc *c, uint32_t flight);

/* BBR (tcp_bbr.c): a sender that sets its rate and window from a model
 * of the path (the bottleneck's delivery rate and the round trip without
 * queue), not from losses. The relay's default congestion control. */
#define SLE_BBR_MARKS 32 /* send marks per connection (rate samples) */
enum { SLE_BBR_STARTUP, SLE_BBR_DRAIN, SLE_BBR_PROBE_BW, SLE_BBR_PROBE_RTT };
struct sle_bbr_mark { /* the state when the data up to end was sent */
	uint32_t end;
	bool app_limited;
	uint64_t delivered;
	double delivered_t, first_sent_t, sent_t;
};
struct sle_bbr {
	uint8_t mode, cycle, full_cnt;
	bool filled;
	double bw;	     /* bytes/s: the max of bw_round[] */
	double bw_round[10]; /* the best sample of each of the last rounds */
	uint64_t round, next_round_delivered, delivered, app_limited_until;
	double delivered_t, first_sent_t;
	double min_rtt, min_rtt_t; /* s; 0: none yet */
	double full_bw, cycle_t, probe_rtt_done_t;
	double pacing_gain, cwnd_gain;
	uint32_t prior_cwnd;
	/* ACK aggregation (Linux's extra_acked): bytes delivered in this
	 * epoch beyond bw x its time; the max of two 5-round windows */
	double ack_epoch_t;
	uint64_t ack_epoch_acked;
	uint32_t extra_acked[2];
	uint8_t extra_idx, extra_rounds;
	uint8_t mhead, mn;
	struct sle_bbr_mark m[SLE_BBR_MARKS];
};
void sle_bbr_init(struct sle_bbr *b);
/* New data sent up to end at now; pipe: bytes in flight before it,
 * cwnd: the window (marks are spaced by a fraction of it). */
void sle_bbr_sent(struct sle_bbr *b, uint32_t end, uint32_t pipe, uint32_t cwnd,
		  double now);
/* The sender had window left but no data: samples until what is in
 * flight now is delivered do not lower the estimate. */
void sle_bbr_app_limited(struct sle_bbr *b, uint32_t pipe);
/* An ACK: newly bytes newly delivered (acknowledged or SACKed), high the
 * highest byte delivered, pipe in flight after it. Sets c->cwnd. */
void sle_bbr_ack(struct sle_bbr *b, struct sle_cc *c, uint32_t newly,
		 uint32_t high, uint32_t pipe, double now);
/* A retransmission timeout: one segment, regrown from the model. */
void sle_bbr_timeout(struct sle_bbr *b, struct sle_cc *c);
/* Pacing rate, bytes/s (srtt: before the first sample). */
double sle_bbr_pacing_rate(const struct sle_bbr *b, const struct sle_cc *c,
			   double srtt);

/* ------------------------------------------------------- the relay */

struct sle_tcp_conn;

/* A client segment that arrived after a hole, kept until the hole is
 * filled (at most SLE_TCP_OOO_MAX of them, within the window). */
struct sle_ooo {
	struct sle_ooo *next;
	uint32_t seq, len;
	uint8_t data[];
};

/* What the state machine needs from the outside (tcp_sock.c). */
struct sle_tcp_env {
	void *arg;
	double (*now)(void *arg);
	/* start a nonblocking connect: 0, or a negative errno when it failed
	 * at once */
	int (*connect)(void *arg, struct sle_tcp_conn *c);
	/* bytes accepted (>= 0), or a negative errno (-EAGAIN: none) */
	ssize_t (*write)(void *arg, struct sle_tcp_conn *c, const uint8_t *p,
			 size_t n);
	/* copy up to n bytes at offset off of the receive queue: bytes, 0
	 * at EOF, -EAGAIN when nothing is there yet, or a negative errno */
	ssize_t (*peek)(void *arg, struct sle_tcp_conn *c, uint32_t off,
			uint8_t *buf, size_t n);
	/* drop n bytes from the head of the receive queue */
	void (*discard)(void *arg, struct sle_tcp_conn *c, uint32_t n);
	void (*shutdown_wr)(void *arg, struct sle_tcp_conn *c);
	/* free space in the send queue, bytes */
	uint32_t (*sndspace)(void *arg, struct sle_tcp_conn *c);
	/* interest in socket readiness */
	void (*watch)(void *arg, struct sle_tcp_conn *c, bool rd, bool wr);
	/* (re)arm the connection's timer; after < 0 stops it */
	void (*timer)(void *arg, struct sle_tcp_conn *c, double after);
	/* the same for its short timer (sle_tcp_tick: window updates and
	 * pacing); an earlier request wins over a later one */
	void (*wupd_timer)(void *arg, struct sle_tcp_conn *c, double after);
	/* close the socket (rst: abortively) and forget the flow; the
	 * connection's memory is freed by the relay afterwards */
	void (*release)(void *arg, struct sle_tcp_conn *c, bool rst);
	/* one IP packet toward the client */
	void (*emit)(void *arg, const uint8_t *ip, size_t len);
};

enum sle_tcp_state {
	SLE_TCP_CONNECTING, /* SYN seen, host connect in progress */
	SLE_TCP_SYN_RCVD,   /* SYN-ACK sent */
	SLE_TCP_ESTABLISHED,
	SLE_TCP_DEAD,
};

struct sle_tcp_conn {
	void *sock;  /* owned by the env (fd, io, timer) */
	void *owner; /* the flow table entry (env) */
	uint8_t family, state;
	uint8_t cli[16], dst[16];
	uint16_t cport, dport;

	/* client -> host */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge advertised */
	uint8_t rcv_wscale;		/* ours, 0 without scaling */
	bool cli_fin;			/* client's FIN taken (SHUT_WR done) */
	struct sle_ooo *ooo;		/* out-of-order data, by sequence */
	struct sle_ooo *ooo_tail;	/* its last segment (appends: O(1)) */
	uint32_t ooo_bytes;
	uint16_t ooo_n;
	/* a segment of each of the blocks that changed last, the latest
	 * first: the order our SACK blocks go out in (RFC 2018 4), so a
	 * block is repeated in the ACKs after the one that reported it and
	 * an ACK lost on the way costs the client nothing */
	uint32_t sack_recent[SLE_TCP_SACK_BLOCKS];
	uint8_t sack_nrecent;
	/* the ranges kept, merged (the SACK blocks we report without walking
	 * the list); lossy once more than SLE_SACK_MAX ranges were kept */
	struct sle_sack_board ooo_ranges;
	bool ooo_ranges_lossy;
	bool want_wupd;	  /* window was short: update on space */
	bool ack_due;	  /* on the ACK list */
	bool ack_pending; /* an ACK must go out */
	/* RFC 2883: a segment that carried data already received, reported
	 * as the first SACK block of the next ACK (so the client's loss
	 * recovery learns its retransmission was spurious) */
	bool dsack_set;
	struct sle_sack_blk dsack;
	uint32_t rcv_wnd_max; /* largest window advertised */

	/* host -> client */
	uint32_t iss, snd_una, snd_nxt, snd_max;
	uint32_t snd_wnd; /* client's window, bytes */
	uint8_t snd_wscale;
	bool sack_ok;
	uint16_t mss; /* segment size toward the client */
	bool eof;     /* host EOF: the stream ends at eof_seq */
	uint32_t eof_seq;
	bool fin_acked;
	struct sle_cc cc;
	bool use_bbr; /* BBR sets cc.cwnd, not CUBIC */
	struct sle_bbr bbr;
	uint64_t delivered_seen; /* acked + SACKed bytes, highest seen */
	struct sle_sack_board sack;
	struct sle_txlog tx;  /* segments in flight, RACK */
	double rec_t;	      /* when this recovery began */
	bool rtx_now;	      /* resend the next lost one whatever the pipe */
	uint32_t rto_recover; /* no fast recovery below this after an RTO */
	bool rto_recovering;
	struct sle_rtt rtt;
	bool timing;
	uint32_t rtt_seq;
	double rtt_t0;
	uint8_t retries;
	bool rd, wr; /* watch interest as last set */
	bool starved;
	bool persist; /* data waits for a zero window: probe on timeout */
	bool pto;     /* the timer is a tail loss probe's, not the RTO */
	bool tlp_out; /* a probe is out, nothing delivered since */
	double pace_tokens, pace_t; /* bytes, and when they were counted */

	uint64_t charged; /* memory-budget charge, bytes */
	struct sle_tcp_conn *ack_next, *starve_next, *grave_next;
};

struct sle_tcp {
	struct sle_tcp_env env;
	uint16_t mss4, mss6; /* ours, from the tunnel MTU */
	uint64_t budget;     /* bytes the windows may commit, 0: none */
	uint64_t charged;
	const uint64_t *base; /* also taken from the budget (flow table) */
	uint32_t isn_key;     /* secret for initial sequence numbers */
	bool bbr;	      /* new connections use BBR (else CUBIC) */
	uint32_t turn_left;   /* data segments left in this loop turn */
	uint8_t *scratch;     /* SLE_TCP_PEEK_SEGS * mss + headers */
	uint32_t scratch_cap;
	struct sle_tcp_conn *acks, *starve, *starve_tail, *grave;
	/* counters */
	uint64_t n_conns, retransmits, fast_retransmits, timeouts, ooo_drops,
		resets_to_client, connect_failed, tail_probes, duplicates;
};

int sle_tcp_init(struct sle_tcp *t, const struct sle_tcp_env *env, unsigned mtu,
		 uint64_t budget);
void sle_tcp_free(struct sle_tcp *t);

/* A client SYN for a new flow (pi parsed, policy passed): the connection,
 * or NULL (the client got a RST or the SYN was not acceptable). */
struct sle_tcp_conn *sle_tcp_open(struct sle_tcp *t, const uint8_t *ip,
				  const struct sle_pkt_info *pi);
/* A segment from the client for c. */
void sle_tcp_input(struct sle_tcp *t, struct sle_tcp_conn *c, const uint8_t *ip,
		   const struct sle_pkt_info *pi);
/* A segment for no connection: answered with a RST (unless it is one). */
void sle_tcp_no_conn(struct sle_tcp *t, const uint8_t *ip,
		     const struct sle_pkt_info *pi);
/* Socket events: err (negative errno) for a failure or connect result,
 * readable / writable readiness. */
void sle_tcp_sock_event(struct sle_tcp *t, struct sle_tcp_conn *c, bool rd,
			bool wr, int err);
void sle_tcp_timeout(struct sle_tcp *t, struct sle_tcp_conn *c);
/* The short timer: a window update when the client had little window
 * left and there is room now; the next paced segments. */
void sle_tcp_wupd(struct sle_tcp *t, struct sle_tcp_conn *c);
/* Pacing (pure): bytes c may send now at time now; refills its tokens at
 * cwnd/srtt times SLE_TCP_PACE_SS (slow start) or SLE_TCP_PACE_CA. */
uint32_t sle_tcp_pace_room(struct sle_tcp_conn *c, double now);
/* Idle expiry: reset both sides; the flow entry is the caller's to drop
 * (release is told through c->owner = NULL). */
void sle_tcp_expire(struct sle_tcp *t, struct sle_tcp_conn *c);
/* End of a batch / loop turn: pending ACKs out, dead connections freed. */
void sle_tcp_flush(struct sle_tcp *t);
/* Start of a loop turn: fresh budget, queued senders served. Returns true
 * when some are still waiting (the loop must not block). */
bool sle_tcp_turn(struct sle_tcp *t);

/* internal (tcp_in.c <-> tcp_out.c) */
void sle_tcp_send_ack(struct sle_tcp *t, struct sle_tcp_conn *c);
void sle_tcp_queue_ack(struct sle_tcp *t, struct sle_tcp_conn *c);
void sle_tcp_ooo_free(struct sle_tcp_conn *c);
void sle_tcp_send_flags(struct sle_tcp *t, struct sle_tcp_conn *c, uint32_t seq,
			uint8_t flags, const struct sle_tcp_opts *opt);
void sle_tcp_push(struct sle_tcp *t, struct sle_tcp_conn *c);
void sle_tcp_on_ack(struct sle_tcp *t, struct sle_tcp_conn *c,
		    const struct sle_tcp_seg *s);
void sle_tcp_kill(struct sle_tcp *t, struct sle_tcp_conn *c, bool rst_client,
		  bool rst_host);
void sle_tcp_update_watch(struct sle_tcp *t, struct sle_tcp_conn *c);
uint32_t sle_tcp_rcv_wnd(struct sle_tcp *t, struct sle_tcp_conn *c);
void sle_tcp_arm(struct sle_tcp *t, struct sle_tcp_conn *c);
/* RACK's loss detection now, its reorder timer, recovery on a loss */
void sle_tcp_rack(struct sle_tcp *t, struct sle_tcp_conn *c);
/* The probe timeout fired: the last segment again (RFC 8985 7.3), so
 * that a loss at the tail of a flight is reported by SACK and repaired
 * by RACK instead of waiting for the RTO. */
void sle_tcp_tail_probe(struct sle_tcp *t, struct sle_tcp_conn *c);

#endif /* SLE_TCP_H */
