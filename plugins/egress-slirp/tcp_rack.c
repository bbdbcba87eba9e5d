/* SPDX-License-Identifier: MIT */
/*
 * The transmit log and RACK loss detection (RFC 8985) toward the client:
 * every data segment in flight with the time it was last sent, so that a
 * segment is declared lost when one sent after it has been delivered
 * (acknowledged or SACKed) and a round trip plus a reordering window has
 * passed since it went out. A lost retransmission is found the same way,
 * one round trip after it was sent, instead of by sweeping every hole
 * again. Pure, unit-tested (tests/slirp/test_tcp.c); see tcp.h.
 *
 * RFC 8985 walks the segments in the order they were sent. That order is
 * kept here as two queues, each already sorted by send time: the
 * original sends (the log itself, in sequence order, with a cursor that
 * only moves forward) and the retransmissions (a queue of references,
 * appended at each resend; a reference whose segment was resent again
 * or delivered since is stale and skipped: each segment counts its
 * sends, each reference names the send it was made for). Each ACK thus costs
 * time in proportion to what it changed, not to the number of segments in
 * flight.
 */
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

static uint32_t seg_end(const struct sle_txseg *e)
{
	return e->seq + e->len;
}

static struct sle_txseg *at(const struct sle_txlog *l, uint32_t i)
{
	return &l->s[(l->head + i) & (l->cap - 1)];
}

/* Sent after: later, or at the same time and further in sequence. */
static bool sent_after(double t1, uint32_t end1, double t2, uint32_t end2)
{
	return t1 > t2 || (t1 == t2 && sle_seq_lt(end2, end1));
}

void sle_txlog_free(struct sle_txlog *l)
{
	free(l->s);
	free(l->rtx.r);
	free(l->lost.r);
	memset(l, 0, sizeof(*l));
}

uint32_t sle_txlog_room(const struct sle_txlog *l)
{
	return SLE_TXLOG_MAX - l->n;
}

size_t sle_txlog_mem(const struct sle_txlog *l)
{
	return l->cap * sizeof(*l->s) +
	       (l->rtx.cap + l->lost.cap) * sizeof(struct sle_txref);
}

/* Double the ring (capacities are powers of two), unwrapping it. */
static bool grow(struct sle_txlog *l)
{
	uint32_t cap = l->cap ? l->cap * 2 : 64;
	struct sle_txseg *s;

	if (cap > SLE_TXLOG_MAX)
		return false;
	s = malloc(cap * sizeof(*s));
	if (!s)
		return false;
	for (uint32_t i = 0; i < l->n; i++)
		s[i] = *at(l, i);
	free(l->s);
	l->s = s;
	l->cap = cap;
	l->head = 0;
	return true;
}

struct sle_txseg *sle_txlog_find(const struct sle_txlog *l, uint32_t seq)
{
	uint32_t lo = 0, hi = l->n, base;

	if (!l->n)
		return NULL;
	base = at(l, 0)->seq;
	if (seq - base >= seg_end(at(l, l->n - 1)) - base)
		return NULL;
	/* the last entry starting at or before seq */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (at(l, mid)->seq - base <= seq - base)
			lo = mid;
		else
			hi = mid;
	}
	return at(l, lo);
}

int sle_txlog_sent(struct sle_txlog *l, uint32_t seq, uint32_t len, double now)
{
	struct sle_txseg *e;

	if (!len || len > UINT16_MAX || l->n == SLE_TXLOG_MAX)
		return -1;
	if (l->n && seg_end(at(l, l->n - 1)) != seq)
		return -1; /* new data continues the stream */
	if (l->n == l->cap && !grow(l))
		return -1;
	e = at(l, l->n++);
	e->seq = seq;
	e->len = (uint16_t)len;
	e->flags = 0;
	e->gen = 0;
	e->t = now;
	return 0;
}

/* --------------------------------------------------- reference queues */

static bool ref_live(const struct sle_txlog *l, const struct sle_txref *r,
		     uint8_t need)
{
	const struct sle_txseg *e = sle_txlog_find(l, r->seq);

	return e && e->seq == r->seq && e->gen == r->gen &&
	       !(e->flags & SLE_TX_SACKED) && (e->flags & SLE_TX_LOST) == need;
}

/* Room for one more reference; a full queue first drops its stale ones
 * (at most one reference per segment is live, so SLE_TXLOG_MAX always
 * suffices). False only without memory (the RTO still finds what is
 * forgotten then: it queues every segment not SACKed again). */
static bool q_room(struct sle_txlog *l, struct sle_txq *q, uint8_t need)
{
	uint32_t cap = q->cap ? q->cap * 2 : 64, k = 0;
	struct sle_txref *nr;

	if (q->n < q->cap)
		return true;
	if (cap > SLE_TXLOG_MAX)
		cap = SLE_TXLOG_MAX;
	nr = malloc(cap * sizeof(*nr));
	if (!nr)
		return false;
	for (uint32_t i = 0; i < q->n; i++) {
		const struct sle_txref *o = &q->r[(q->head + i) & (q->cap - 1)];

		if (q->cap < cap || ref_live(l, o, need))
			nr[k++] = *o;
	}
	free(q->r);
	q->r = nr;
	q->cap = cap;
	q->head = 0;
	q->n = k;
	return q->n < q->cap;
}

static void q_push(struct sle_txlog *l, struct sle_txq *q,
		   const struct sle_txref *r, uint8_t need)
{
	if (q_room(l, q, need))
		q->r[(q->head + q->n++) & (q->cap - 1)] = *r;
}

/* The same at the front: the first segment in flight goes first. */
static void q_push_front(struct sle_txlog *l, struct sle_txq *q,
			 const struct sle_txref *r, uint8_t need)
{
	if (!q_room(l, q, need))
		return;
	q->head = (q->head - 1) & (q->cap - 1);
	q->r[q->head] = *r;
	q->n++;
}

static const struct sle_txref *q_front(const struct sle_txq *q)
{
	return q->n ? &q->r[q->head] : NULL;
}

static void q_pop(struct sle_txq *q)
{
	q->head = (q->head + 1) & (q->cap - 1);
	q->n--;
}

/* ------------------------------------------------------- delivery */

static void unlose(struct sle_txlog *l, struct sle_txseg *e)
{
	if (e->flags & SLE_TX_LOST) {
		e->flags &= (uint8_t)~SLE_TX_LOST;
		l->lost_bytes -= e->len;
	}
}

/* e was delivered now: RFC 8985 6.2 steps 1-3 (RACK's most recently
 * sent delivered segment, its round trip, reordering seen). */
static void delivered(struct sle_txlog *l, struct sle_txseg *e, double now)
{
	double rtt = now - e->t;

	unlose(l, e);
	/* a retransmission acknowledged sooner than any round trip seen:
	 * the ACK is for the original (step 2) */
	if ((e->flags & SLE_TX_RETRANS) && l->min_rtt > 0 && rtt < l->min_rtt)
		return;
	if (l->min_rtt <= 0 || rtt < l->min_rtt)
		l->min_rtt = rtt;
	if (sent_after(e->t, seg_end(e), l->rack_t, l->rack_end)) {
		l->rack_t = e->t;
		l->rack_end = seg_end(e);
		l->rack_rtt = rtt;
	}
	if (!(e->flags & SLE_TX_RETRANS) && l->fack_set &&
	    sle_seq_lt(seg_end(e), l->fack))
		l->reord = true;
	if (!l->fack_set || sle_seq_lt(l->fack, seg_end(e))) {
		l->fack = seg_end(e);
		l->fack_set = true;
	}
}

void sle_txlog_ack(struct sle_txlog *l, uint32_t una, double now)
{
	while (l->n) {
		struct sle_txseg *e = at(l, 0);

		if (sle_seq_le(seg_end(e), una)) {
			if (e->flags & SLE_TX_SACKED) {
				l->sacked -= e->len;
				l->sacked_n--;
			} else {
				delivered(l, e, now);
			}
			l->head = (l->head + 1) & (l->cap - 1);
			l->n--;
			if (l->scan)
				l->scan--;
			continue;
		}
		if (sle_seq_lt(e->seq, una)) {
			/* partly acknowledged: what is left stays in flight */
			uint16_t cut = (uint16_t)(una - e->seq);

			struct sle_txref r;

			if (e->flags & SLE_TX_SACKED)
				l->sacked -= cut;
			if (e->flags & SLE_TX_LOST)
				l->lost_bytes -= cut;
			e->seq = una;
			e->len = (uint16_t)(e->len - cut);
			/* its references named the old start: renew them, or
			 * a lost segment would never be resent */
			r.seq = una;
			r.gen = e->gen;
			if (e->flags & SLE_TX_LOST)
				q_push_front(l, &l->lost, &r, SLE_TX_LOST);
			else if ((e->flags & SLE_TX_RETRANS) &&
				 !(e->flags & SLE_TX_SACKED))
				q_push(l, &l->rtx, &r, 0);
		}
		break;
	}
}

/* Entries wholly inside [s, e) that were not SACKed yet. */
static void sack_range(struct sle_txlog *l, uint32_t s, uint32_t e, double now)
{
	struct sle_txseg *x = sle_txlog_find(l, s);
	uint32_t i;

	if (!x)
		return;
	i = ((uint32_t)(x - l->s) - l->head) & (l->cap - 1);
	for (; i < l->n; i++) {
		x = at(l, i);
		if (!sle_seq_lt(x->seq, e))
			break;
		if (sle_seq_lt(x->seq, s) || sle_seq_lt(e, seg_end(x)) ||
		    (x->flags & SLE_TX_SACKED))
			continue;
		delivered(l, x, now);
		x->flags |= SLE_TX_SACKED;
		l->sacked += x->len;
		l->sacked_n++;
	}
}

void sle_txlog_sack(struct sle_txlog *l, const struct sle_sack_board *known,
		    uint32_t s, uint32_t e, double now)
{
	/* only the parts the scoreboard does not hold yet: a block the
	 * client repeats in every ACK costs nothing after the first */
	for (uint8_t i = 0; i < known->n && sle_seq_lt(s, e); i++) {
		const struct sle_sack_blk *b = &known->b[i];

		if (sle_seq_le(b->e, s))
			continue;
		if (sle_seq_le(e, b->s))
			break;
		if (sle_seq_lt(s, b->s))
			sack_range(l, s, b->s, now);
		s = b->e;
	}
	if (sle_seq_lt(s, e))
		sack_range(l, s, e, now);
}

/* ------------------------------------------------------- loss */

void sle_txlog_mark_lost(struct sle_txlog *l, struct sle_txseg *e)
{
	struct sle_txref r = {.seq = e->seq, .gen = e->gen};

	if (e->flags & (SLE_TX_SACKED | SLE_TX_LOST))
		return;
	e->flags |= SLE_TX_LOST;
	l->lost_bytes += e->len;
	q_push(l, &l->lost, &r, SLE_TX_LOST);
}

void sle_txlog_lose_all(struct sle_txlog *l, bool forget_sacks)
{
	l->rtx.n = l->lost.n = 0;
	l->scan = l->n;
	for (uint32_t i = 0; i < l->n; i++) {
		struct sle_txseg *e = at(l, i);

		if (forget_sacks && (e->flags & SLE_TX_SACKED)) {
			e->flags &= (uint8_t)~SLE_TX_SACKED;
			l->sacked -= e->len;
			l->sacked_n--;
		}
		/* queued anew: one already lost lost its place in the queue
		 * just emptied (and would never be resent) */
		unlose(l, e);
		sle_txlog_mark_lost(l, e);
	}
}

struct sle_txseg *sle_txlog_last(const struct sle_txlog *l)
{
	return l->n ? at(l, l->n - 1) : NULL;
}

uint32_t sle_txlog_flight(const struct sle_txlog *l, uint32_t una)
{
	const struct sle_txseg *e = sle_txlog_last(l);
	uint32_t end = e ? e->seq + e->len : una;

	return sle_seq_lt(una, end) ? end - una : 0;
}

struct sle_txseg *sle_txlog_next_lost(struct sle_txlog *l)
{
	const struct sle_txref *r;

	while ((r = q_front(&l->lost))) {
		if (ref_live(l, r, SLE_TX_LOST))
			return sle_txlog_find(l, r->seq);
		q_pop(&l->lost);
	}
	return NULL;
}

void sle_txlog_resent(struct sle_txlog *l, struct sle_txseg *e, double now)
{
	const struct sle_txref *f = q_front(&l->lost);
	struct sle_txref r;

	if (f && f->seq == e->seq)
		q_pop(&l->lost);
	unlose(l, e);
	e->flags |= SLE_TX_RETRANS;
	e->t = now;
	e->gen++;
	r.seq = e->seq;
	r.gen = e->gen;
	q_push(l, &l->rtx, &r, 0);
}

/* RFC 8985 6.2 step 4: no reordering window while repairing losses a
 * client without reordering has shown (its SACKs are then exact), else
 * a quarter of the smallest round trip, at most SRTT. */
static double reo_wnd(const struct sle_txlog *l, bool recovering, double srtt)
{
	double w = l->min_rtt / 4;

	if (!l->reord && (recovering || l->sacked_n >= 3))
		return 0;
	return srtt > 0 && w > srtt ? srtt : w;
}

/* One candidate sent at t ending at end: -1 not (yet) eligible, 0 lost,
 * else 1 with *wait lowered to when it will be. */
static int judge(const struct sle_txlog *l, double t, uint32_t end, double reo,
		 double now, double *wait)
{
	double left;

	if (!sent_after(l->rack_t, l->rack_end, t, end))
		return -1;
	left = t + l->rack_rtt + reo - now;
	if (left <= 0)
		return 0;
	if (*wait < 0 || left < *wait)
		*wait = left;
	return 1;
}

uint32_t sle_rack_detect(struct sle_txlog *l, bool recovering, double srtt,
			 double now, double *wait)
{
	double reo = reo_wnd(l, recovering, srtt);
	const struct sle_txref *r;
	uint32_t lost = 0;

	*wait = -1;
	if (!l->fack_set)
		return 0; /* nothing delivered yet */
	/* original sends, oldest first */
	while (l->scan < l->n) {
		struct sle_txseg *e = at(l, l->scan);
		int j;

		if (e->flags & (SLE_TX_SACKED | SLE_TX_RETRANS | SLE_TX_LOST)) {
			l->scan++; /* delivered, or followed elsewhere */
			continue;
		}
		j = judge(l, e->t, seg_end(e), reo, now, wait);
		if (j)
			break;
		sle_txlog_mark_lost(l, e);
		lost++;
		l->scan++;
	}
	/* retransmissions, oldest first */
	while ((r = q_front(&l->rtx))) {
		struct sle_txseg *e;
		int j;

		if (!ref_live(l, r, 0)) {
			q_pop(&l->rtx);
			continue;
		}
		e = sle_txlog_find(l, r->seq);
		j = judge(l, e->t, seg_end(e), reo, now, wait);
		if (j)
			break;
		q_pop(&l->rtx);
		sle_txlog_mark_lost(l, e);
		lost++;
	}
	return lost;
}
