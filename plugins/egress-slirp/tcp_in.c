/* SPDX-License-Identifier: MIT */
/*
 * Client -> host: the segments of a client connection. In-order data is
 * written to the host socket and acknowledged as far as the socket took
 * it; out-of-order data is kept (within the window) and reported with
 * SACK blocks in a duplicate ACK. The handshake, RST and FIN handling.
 * See tcp.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

void sle_tcp_ooo_free(struct sle_tcp_conn *c)
{
	while (c->ooo) {
		struct sle_ooo *q = c->ooo;

		c->ooo = q->next;
		free(q);
	}
	c->ooo_tail = NULL;
	c->ooo_bytes = 0;
	c->ooo_n = 0;
	c->ooo_ranges.n = 0;
	c->ooo_ranges_lossy = false;
	c->sack_nrecent = 0;
}

/* seq was just kept: its block goes first in the next ACKs, the others
 * that changed lately after it (one entry per block). */
static void sack_note(struct sle_tcp_conn *c, uint32_t seq)
{
	int i = sle_sack_find(c->ooo_ranges.b, c->ooo_ranges.n, seq);
	const struct sle_sack_blk *b = i < 0 ? NULL : &c->ooo_ranges.b[i];
	uint32_t keep[SLE_TCP_SACK_BLOCKS];
	uint8_t n = 0;

	keep[n++] = seq;
	for (uint8_t k = 0; k < c->sack_nrecent && n < SLE_TCP_SACK_BLOCKS; k++)
		if (!b || !sle_sack_has(b, c->sack_recent[k]))
			keep[n++] = c->sack_recent[k]; /* not merged into b */
	memcpy(c->sack_recent, keep, n * sizeof(keep[0]));
	c->sack_nrecent = n;
}

/* Keep a segment that lies after a hole (sorted; overlaps with what is
 * kept are trimmed away). */
static void ooo_keep(struct sle_tcp_conn *c, uint32_t seq, const uint8_t *p,
		     uint32_t len)
{
	struct sle_ooo **pp = &c->ooo, *q;
	uint32_t end = seq + len;

	if (c->ooo_n >= SLE_TCP_OOO_MAX || sle_seq_le(c->rcv_adv, seq))
		return;
	if (sle_seq_lt(c->rcv_adv, end)) /* beyond the window: cut */
		end = c->rcv_adv;
	/* the usual case, a run after a hole: after the last one kept
	 * (walking from the head each time made a run of n cost n^2) */
	if (c->ooo_tail && sle_seq_le(c->ooo_tail->seq + c->ooo_tail->len, seq))
		pp = &c->ooo_tail->next;
	while (*pp && sle_seq_le((*pp)->seq + (*pp)->len, seq))
		pp = &(*pp)->next;
	if (*pp && sle_seq_le((*pp)->seq, seq)) {
		/* starts inside a kept one: keep only what follows it */
		uint32_t kept_end = (*pp)->seq + (*pp)->len;

		if (sle_seq_le(end, kept_end))
			return;
		p += kept_end - seq;
		seq = kept_end;
		pp = &(*pp)->next;
	}
	if (*pp && sle_seq_lt((*pp)->seq, end))
		end = (*pp)->seq; /* up to the next kept one */
	if (!sle_seq_lt(seq, end))
		return;
	len = end - seq;
	q = malloc(sizeof(*q) + len);
	if (!q)
		return;
	q->seq = seq;
	q->len = len;
	memcpy(q->data, p, len);
	q->next = *pp;
	*pp = q;
	if (!q->next)
		c->ooo_tail = q;
	c->ooo_bytes += len;
	c->ooo_n++;
	if (c->ooo_ranges.n == SLE_SACK_MAX)
		c->ooo_ranges_lossy = true; /* a range may be left out */
	sle_sack_add(&c->ooo_ranges, seq, end);
}

/* Write in-order bytes; false when the socket side took less (or
 * failed: then c is dead). */
static bool deliver(struct sle_tcp *t, struct sle_tcp_conn *c, const uint8_t *p,
		    uint32_t len)
{
	ssize_t n = t->env.write(t->env.arg, c, p, len);

	if (n == -EAGAIN)
		n = 0;
	if (n < 0) {
		sle_tcp_kill(t, c, true, true);
		return false;
	}
	c->rcv_nxt += (uint32_t)n;
	return (uint32_t)n == len;
}

/* The hole is filled: what was kept after it goes out too. */
static void ooo_drain(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	while (c->ooo && sle_seq_le(c->ooo->seq, c->rcv_nxt)) {
		struct sle_ooo *q = c->ooo;
		uint32_t skip = c->rcv_nxt - q->seq;

		if (skip < q->len &&
		    !deliver(t, c, q->data + skip, q->len - skip))
			return; /* socket full (the rest waits) or dead */
		c->ooo = q->next;
		if (c->ooo_tail == q)
			c->ooo_tail = NULL;
		c->ooo_bytes -= q->len;
		c->ooo_n--;
		free(q);
	}
	if (!c->ooo)
		sle_tcp_ooo_free(c); /* nothing kept: no ranges, no recent */
	else
		sle_sack_trim(&c->ooo_ranges, c->rcv_nxt);
}

/* A hole is open. Without SACK each segment gets its duplicate ACK at
 * once (the client's fast retransmit counts them). With SACK one ACK per
 * batch of client packets is enough, as a receiver with GRO sends one per
 * merged packet: its blocks name the latest data first and repeat those
 * that changed just before. An ACK for every segment after a hole - in a
 * lossy window of megabytes, nearly all of them - doubled the packets
 * toward the client; its WireGuard socket overflowed, whole runs of ACKs
 * were lost, and the client resent data held here (measured at 20 ms and
 * 1 % loss: 7 % of the datagrams toward it dropped, a third of its
 * resends spurious). */
static void ack_hole(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	if (c->sack_ok)
		sle_tcp_queue_ack(t, c);
	else
		sle_tcp_send_ack(t, c);
}

static void data_in(struct sle_tcp *t, struct sle_tcp_conn *c,
		    const struct sle_tcp_seg *s)
{
	const uint8_t *p = s->payload;
	uint32_t len = s->len, skip;
	bool fin = s->flags & SLE_TCP_FIN;

	if (c->cli_fin) {
		sle_tcp_queue_ack(t, c);
		return;
	}
	if (sle_seq_lt(c->rcv_nxt, s->seq)) {
		/* a hole before it: kept, the duplicate ACK says where */
		t->ooo_drops++;
		if (len) {
			ooo_keep(c, s->seq, p, len);
			sack_note(c, s->seq);
		}
		ack_hole(t, c);
		return;
	}
	skip = c->rcv_nxt - s->seq;
	if (skip && len) {
		/* data received before: said at once, as a D-SACK block */
		c->dsack.s = s->seq;
		c->dsack.e = s->seq + (skip < len ? skip : len);
		c->dsack_set = true;
		t->duplicates++;
	}
	if (skip > len || (skip == len && !fin)) {
		/* all old: a retransmission */
		if (c->dsack_set)
			sle_tcp_send_ack(t, c);
		else
			sle_tcp_queue_ack(t, c);
		return;
	}
	p += skip;
	len -= skip;
	if (len && !deliver(t, c, p, len)) {
		if (c->state == SLE_TCP_DEAD)
			return;
		fin = false; /* the rest comes again */
	} else if (c->ooo) {
		ooo_drain(t, c);
		if (c->state == SLE_TCP_DEAD)
			return;
		if (c->ooo)
			fin = false;
	}
	if (fin) {
		t->env.shutdown_wr(t->env.arg, c);
		c->rcv_nxt++;
		c->cli_fin = true;
	}
	if (c->ooo)
		ack_hole(t, c);
	else
		sle_tcp_queue_ack(t, c);
}

static void established(struct sle_tcp *t, struct sle_tcp_conn *c,
			const struct sle_tcp_seg *s)
{
	c->state = SLE_TCP_ESTABLISHED;
	c->snd_una = c->iss + 1;
	c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
	c->retries = 0;
	if (c->timing)
		sle_rtt_sample(&c->rtt, t->env.now(t->env.arg) - c->rtt_t0);
	c->timing = false;
	sle_tcp_arm(t, c);
}

/* Both FINs exchanged and acknowledged: gone. */
static void maybe_done(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	if (c->state != SLE_TCP_DEAD && c->cli_fin && c->fin_acked) {
		if (c->ack_pending)
			sle_tcp_send_ack(t, c);
		sle_tcp_kill(t, c, false, false);
	}
}

void sle_tcp_input(struct sle_tcp *t, struct sle_tcp_conn *c, const uint8_t *ip,
		   const struct sle_pkt_info *pi)
{
	struct sle_tcp_seg s;
	size_t al = c->family == 6 ? 16 : 4;

	if (c->state == SLE_TCP_DEAD || !sle_tcp_seg_parse(ip, pi, &s))
		return;
	/* the flow table keys an IPv6 client by its pool offset: the exact
	 * addresses must match too, or this is no segment of c */
	if (pi->family != c->family || memcmp(pi->src, c->cli, al) ||
	    memcmp(pi->dst, c->dst, al)) {
		sle_tcp_no_conn(t, ip, pi);
		return;
	}
	if (s.flags & SLE_TCP_RST) {
		/* RFC 5961: only a RST at rcv_nxt (or in the window, for a
		 * connection not yet established) resets */
		if (s.seq == c->rcv_nxt ||
		    (c->state != SLE_TCP_ESTABLISHED &&
		     sle_seq_le(c->irs, s.seq)) ||
		    (sle_seq_lt(c->rcv_nxt, s.seq) &&
		     sle_seq_lt(s.seq, c->rcv_adv)))
			sle_tcp_kill(t, c, false, true);
		return;
	}
	if (s.flags & SLE_TCP_SYN) {
		if (c->state == SLE_TCP_SYN_RCVD && s.seq == c->irs) {
			struct sle_tcp_opts o = {
				.mss = c->family == 6 ? t->mss6 : t->mss4,
				.wscale = -1,
				.sack_ok = c->sack_ok};

			if (c->rcv_wscale)
				o.wscale = (int8_t)c->rcv_wscale;
			sle_tcp_send_flags(t, c, c->iss,
					   SLE_TCP_SYN | SLE_TCP_ACK, &o);
		} else if (c->state == SLE_TCP_ESTABLISHED) {
			sle_tcp_queue_ack(t, c); /* challenge ACK */
		}
		return;
	}
	if (c->state == SLE_TCP_CONNECTING || !(s.flags & SLE_TCP_ACK))
		return;
	if (c->state == SLE_TCP_SYN_RCVD) {
		if (s.ack != c->iss + 1) {
			uint8_t pkt[SLE_TCP_HDR_MAX];
			size_t n =
				sle_tcp_build(pkt, c->family, c->dst, c->dport,
					      c->cli, c->cport, s.ack, 0,
					      SLE_TCP_RST, 0, NULL, NULL, 0);

			t->env.emit(t->env.arg, pkt, n);
			return;
		}
		established(t, c, &s);
	}
	sle_tcp_on_ack(t, c, &s);
	if (c->state == SLE_TCP_DEAD)
		return;
	if (s.len || (s.flags & SLE_TCP_FIN))
		data_in(t, c, &s);
	if (c->state == SLE_TCP_DEAD)
		return;
	maybe_done(t, c);
	sle_tcp_update_watch(t, c);
}

void sle_tcp_no_conn(struct sle_tcp *t, const uint8_t *ip,
		     const struct sle_pkt_info *pi)
{
	struct sle_tcp_seg s;
	uint8_t pkt[SLE_TCP_HDR_MAX];
	size_t n;

	if (!sle_tcp_seg_parse(ip, pi, &s) || (s.flags & SLE_TCP_RST))
		return;
	if (s.flags & SLE_TCP_ACK)
		n = sle_tcp_build(pkt, pi->family, pi->dst, pi->dport, pi->src,
				  pi->sport, s.ack, 0, SLE_TCP_RST, 0, NULL,
				  NULL, 0);
	else
		n = sle_tcp_build(pkt, pi->family, pi->dst, pi->dport, pi->src,
				  pi->sport, 0,
				  s.seq + s.len + !!(s.flags & SLE_TCP_SYN) +
					  !!(s.flags & SLE_TCP_FIN),
				  SLE_TCP_RST | SLE_TCP_ACK, 0, NULL, NULL, 0);
	t->resets_to_client++;
	t->env.emit(t->env.arg, pkt, n);
}
