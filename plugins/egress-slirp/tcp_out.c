/* SPDX-License-Identifier: MIT */
/*
 * Host -> client: data peeked from the host socket goes out in segments
 * up to min(client window, cwnd); acknowledged data is discarded from the
 * socket; losses are repaired by fast retransmit and the RTO. Every
 * segment carries our current ACK and window. See tcp.h.
 */
#include <errno.h>
#include <string.h>

#include "tcp.h"

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

uint32_t sle_tcp_rcv_wnd(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	uint32_t cap = c->rcv_wscale ? SLE_TCP_WND_MAX : 65535;
	uint32_t w = c->cli_fin ? 0 : t->env.sndspace(t->env.arg, c);
	uint32_t flight = c->snd_nxt - c->snd_una;
	uint64_t charge;

	if (w > cap)
		w = cap;
	if (t->budget) {
		uint64_t used =
			t->charged - c->charged + (t->base ? *t->base : 0);
		uint64_t avail = t->budget > used ? t->budget - used : 0;

		avail = avail > flight ? avail - flight : 0;
		if (w > avail)
			w = (uint32_t)avail;
	}
	/* never move the right edge back (RFC 9293 3.8.6) */
	if (sle_seq_lt(c->rcv_nxt + w, c->rcv_adv))
		w = c->rcv_adv - c->rcv_nxt;
	charge = (uint64_t)w + flight;
	t->charged = t->charged - c->charged + charge;
	c->charged = charge;
	return w;
}

void sle_tcp_send_flags(struct sle_tcp *t, struct sle_tcp_conn *c, uint32_t seq,
			uint8_t flags, const struct sle_tcp_opts *opt)
{
	uint8_t pkt[SLE_TCP_HDR_MAX];
	uint32_t w = 0;
	uint16_t field = 0;
	size_t n;

	if (!(flags & SLE_TCP_RST)) {
		w = sle_tcp_rcv_wnd(t, c);
		/* the SYN-ACK's window is never scaled */
		field = sle_tcp_wnd_field(
			w, (flags & SLE_TCP_SYN) ? 0 : c->rcv_wscale);
		w = (uint32_t)field
		    << ((flags & SLE_TCP_SYN) ? 0 : c->rcv_wscale);
		c->rcv_adv = c->rcv_nxt + w;
		if (w > c->rcv_wnd_max)
			c->rcv_wnd_max = w;
		c->ack_pending = false;
	}
	n = sle_tcp_build(pkt, c->family, c->dst, c->dport, c->cli, c->cport,
			  seq, (flags & SLE_TCP_ACK) ? c->rcv_nxt : 0, flags,
			  field, opt, NULL, 0);
	t->env.emit(t->env.arg, pkt, n);
}

void sle_tcp_send_ack(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	struct sle_tcp_opts o = {.wscale = -1};
	const struct sle_ooo *q;

	/* SACK blocks of what is kept beyond the hole, merged; the block of
	 * the latest segment first, then the lowest others (RFC 2018 4) */
	struct sle_sack_blk all[SLE_SACK_MAX];
	uint8_t n = 0, first = 0;

	if (c->sack_ok && !c->ooo_ranges_lossy) {
		/* kept merged as segments arrive: no walk of the list */
		sle_sack_trim(&c->ooo_ranges, c->rcv_nxt);
		n = c->ooo_ranges.n;
		memcpy(all, c->ooo_ranges.b, n * sizeof(all[0]));
	}
	for (q = c->ooo; c->sack_ok && c->ooo_ranges_lossy && q; q = q->next) {
		if (n && all[n - 1].e == q->seq) {
			all[n - 1].e = q->seq + q->len;
			continue;
		}
		if (n == SLE_SACK_MAX)
			break;
		all[n].s = q->seq;
		all[n].e = q->seq + q->len;
		n++;
	}
	for (uint8_t i = 0; i < n; i++)
		if (sle_seq_le(all[i].s, c->ooo_last) &&
		    sle_seq_lt(c->ooo_last, all[i].e))
			first = i;
	if (n)
		o.sack[o.nsack++] = all[first];
	for (uint8_t i = 0; i < n && o.nsack < 3; i++)
		if (i != first)
			o.sack[o.nsack++] = all[i];
	sle_tcp_send_flags(t, c, c->snd_nxt, SLE_TCP_ACK, o.nsack ? &o : NULL);
	/* the client has little window left: tell it when the socket
	 * drains (write readiness) */
	c->want_wupd =
		!c->cli_fin && c->rcv_adv - c->rcv_nxt < c->rcv_wnd_max / 2;
	if (c->want_wupd)
		t->env.wupd_timer(t->env.arg, c, SLE_TCP_WUPD_DELAY);
}

void sle_tcp_queue_ack(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	c->ack_pending = true;
	if (c->ack_due)
		return;
	c->ack_due = true;
	c->ack_next = t->acks;
	t->acks = c;
}

/* One data segment at seq with len bytes at buf. */
static void send_data(struct sle_tcp *t, struct sle_tcp_conn *c, uint32_t seq,
		      const uint8_t *buf, uint32_t len, bool psh)
{
	uint8_t *pkt = t->scratch + t->scratch_cap - SLE_TCP_HDR_MAX - c->mss;
	uint32_t w = sle_tcp_rcv_wnd(t, c);
	uint16_t field = sle_tcp_wnd_field(w, c->rcv_wscale);
	size_t n;

	c->rcv_adv = c->rcv_nxt + ((uint32_t)field << c->rcv_wscale);
	c->ack_pending = false;
	n = sle_tcp_build(pkt, c->family, c->dst, c->dport, c->cli, c->cport,
			  seq, c->rcv_nxt,
			  (uint8_t)(SLE_TCP_ACK | (psh ? 0x08 : 0)), field,
			  NULL, buf, len);
	t->env.emit(t->env.arg, pkt, n);
}

/* The end of what may be sent: the stream's end when EOF was seen. */
static uint32_t data_end_room(const struct sle_tcp_conn *c, uint32_t room)
{
	if (c->eof)
		room = min32(room, c->eof_seq - c->snd_nxt);
	return room;
}

void sle_tcp_arm(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	if (c->state == SLE_TCP_SYN_RCVD || c->snd_nxt != c->snd_una ||
	    c->persist)
		t->env.timer(t->env.arg, c, c->rtt.rto);
	else
		t->env.timer(t->env.arg, c, -1);
}

static void starve(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	if (c->starved)
		return;
	c->starved = true;
	c->starve_next = NULL;
	if (t->starve_tail)
		t->starve_tail->starve_next = c;
	else
		t->starve = c;
	t->starve_tail = c;
}

static void send_fin(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	bool idle = c->snd_nxt == c->snd_una;

	sle_tcp_send_flags(t, c, c->snd_nxt, SLE_TCP_FIN | SLE_TCP_ACK, NULL);
	c->snd_nxt++;
	if (sle_seq_lt(c->snd_max, c->snd_nxt))
		c->snd_max = c->snd_nxt;
	if (idle)
		sle_tcp_arm(t, c);
}

/* bytes/s: BBR's own rate, or cwnd per SRTT times the gain */
static double pace_rate(const struct sle_tcp_conn *c)
{
	if (c->use_bbr)
		return sle_bbr_pacing_rate(&c->bbr, &c->cc, c->rtt.srtt);
	return (double)c->cc.cwnd / c->rtt.srtt *
	       (c->cc.cwnd < c->cc.ssthresh ? SLE_TCP_PACE_SS
					    : SLE_TCP_PACE_CA);
}

uint32_t sle_tcp_pace_room(struct sle_tcp_conn *c, double now)
{
	double rate, cap;

	if (!c->rtt.have || c->rtt.srtt <= 0)
		return UINT32_MAX;
	rate = pace_rate(c);
	cap = rate * SLE_TCP_PACE_BURST;
	if (cap < 16.0 * c->mss)
		cap = 16.0 * c->mss;
	if (now > c->pace_t)
		c->pace_tokens += (now - c->pace_t) * rate;
	c->pace_t = now;
	if (c->pace_tokens > cap)
		c->pace_tokens = cap;
	return c->pace_tokens > 0 ? (uint32_t)c->pace_tokens : 0;
}

/* Paced out: when the next segment may go. */
static void pace_wait(struct sle_tcp *t, struct sle_tcp_conn *c, uint32_t have)
{
	double rate = pace_rate(c);
	double after = ((double)c->mss - have) / rate;

	t->env.wupd_timer(t->env.arg, c, after > 0.0005 ? after : 0.0005);
}

void sle_tcp_push(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	while (c->state == SLE_TCP_ESTABLISHED) {
		/* SACKed bytes have left the network, and so have holes
		 * with DupThresh segments SACKed above them that were not
		 * resent yet (RFC 6675 "pipe"): after a burst lost at the
		 * client's socket new data keeps flowing while the holes
		 * are repaired */
		uint32_t sacked = sle_sack_bytes(&c->sack);
		uint32_t flight = c->snd_nxt - c->snd_una;
		uint32_t gone =
			sacked +
			(c->sack.n && !c->rto_recovering
				 ? sle_sack_lost(&c->sack, c->snd_una,
						 c->cc.recovering ? c->rtx_next
								  : c->snd_una,
						 c->snd_nxt, 3u * c->mss)
				 : 0);
		uint32_t pipe = flight > gone ? flight - gone : 0;
		uint32_t wnd = min32(min32(c->snd_wnd, c->cc.cwnd),
				     SLE_TCP_INFLIGHT_MAX);
		uint32_t room = wnd > pipe ? wnd - pipe : 0, want, off;
		bool fresh = c->snd_nxt == c->snd_max;
		ssize_t n;

		if (c->eof && c->snd_nxt == c->eof_seq) {
			send_fin(t, c);
			break;
		}
		if (c->eof && sle_seq_lt(c->eof_seq, c->snd_nxt))
			break; /* FIN out */
		/* the client's window bounds the sequence space, SACKed
		 * or not */
		if (c->snd_wnd > flight)
			room = min32(room, c->snd_wnd - flight);
		else
			room = 0;
		room = data_end_room(c, room);
		/* after a timeout (go-back): what the client SACKed is not
		 * sent again; send up to the next SACKed block */
		if (c->sack.n && sle_seq_lt(c->snd_nxt, c->snd_max)) {
			uint32_t hs, he;

			if (!sle_sack_hole(&c->sack, c->snd_nxt, &hs, &he)) {
				c->snd_nxt = c->snd_max; /* all SACKed */
				continue;
			}
			if (hs != c->snd_nxt) {
				c->snd_nxt = hs;
				continue;
			}
			room = min32(room, he - hs);
		}
		/* sender silly-window avoidance: no runt while data flies */
		if (!room || (room < c->mss && flight)) {
			if (!c->snd_wnd && !flight && !c->persist) {
				c->persist = true;
				sle_tcp_arm(t, c);
			}
			break;
		}
		if (!t->turn_left) {
			starve(t, c);
			break;
		}
		/* the memory budget: no new data while the windows and the
		 * data in flight of all connections fill it (retransmissions
		 * and a connection with nothing in flight still go) */
		if (t->budget && flight && fresh &&
		    t->charged + (t->base ? *t->base : 0) >= t->budget)
			break;
		{
			uint32_t pr =
				sle_tcp_pace_room(c, t->env.now(t->env.arg));

			if (pr < c->mss && pr < room) {
				pace_wait(t, c, pr);
				break;
			}
			room = min32(room, pr);
		}
		want = (room + c->mss - 1) / c->mss;
		if (want > SLE_TCP_PEEK_SEGS)
			want = SLE_TCP_PEEK_SEGS;
		if (want > t->turn_left)
			want = t->turn_left;
		want = min32(want * c->mss, room);
		n = t->env.peek(t->env.arg, c, flight, t->scratch, want);
		if (n == -EAGAIN) {
			/* window left, no data: the rate measured now says
			 * little about the path */
			if (c->use_bbr)
				sle_bbr_app_limited(&c->bbr, pipe);
			break;
		}
		if (n < 0) {
			sle_tcp_kill(t, c, true, true);
			return;
		}
		if (n == 0) {
			c->eof = true;
			c->eof_seq = c->snd_nxt;
			continue;
		}
		c->persist = false;
		c->pace_tokens -= (double)n;
		for (off = 0; off < (uint32_t)n;) {
			uint32_t len = min32(c->mss, (uint32_t)n - off);

			send_data(t, c, c->snd_nxt, t->scratch + off, len,
				  off + len == (uint32_t)n);
			c->snd_nxt += len;
			off += len;
			if (t->turn_left)
				t->turn_left--;
		}
		if (sle_seq_lt(c->snd_max, c->snd_nxt))
			c->snd_max = c->snd_nxt;
		if (fresh && c->use_bbr)
			sle_bbr_sent(&c->bbr, c->snd_nxt, pipe, c->cc.cwnd,
				     t->env.now(t->env.arg));
		if (fresh && !c->timing) {
			c->timing = true;
			c->rtt_seq = c->snd_nxt;
			c->rtt_t0 = t->env.now(t->env.arg);
		}
		if (!flight)
			sle_tcp_arm(t, c);
		if ((uint32_t)n < want) {
			if (c->use_bbr)
				sle_bbr_app_limited(&c->bbr,
						    pipe + (uint32_t)n);
			break; /* the socket has nothing more for now */
		}
	}
	sle_tcp_update_watch(t, c);
}

/* Resend len bytes (at most one segment) at seq. */
static void resend(struct sle_tcp *t, struct sle_tcp_conn *c, uint32_t seq,
		   uint32_t len)
{
	ssize_t n;

	t->retransmits++;
	c->timing = false; /* Karn */
	n = t->env.peek(t->env.arg, c, seq - c->snd_una, t->scratch, len);
	if (n < 0 && n != -EAGAIN) {
		sle_tcp_kill(t, c, true, true);
		return;
	}
	if (n > 0)
		send_data(t, c, seq, t->scratch, (uint32_t)n, true);
	/* the head resent: the timer runs from now (as Linux does), or a
	 * hole lost twice at 100 ms (resent again after 1.25 SRTT, known
	 * 2.25 SRTT after the first resend) outlasts a 200 ms RTO, and the
	 * timeout sends everything not SACKed again from one segment */
	if (n > 0 && seq == c->snd_una)
		sle_tcp_arm(t, c);
}

/* In recovery: resend the next holes (SACK), or the segment at snd_una
 * once per ACK that advanced or began recovery (NewReno). */
static void repair(struct sle_tcp *t, struct sle_tcp_conn *c, bool una_hole)
{
	uint32_t end = c->eof ? c->eof_seq : c->snd_max, hs, he;
	int sent = 0;

	while (sent < SLE_TCP_RTX_PER_ACK && c->state != SLE_TCP_DEAD) {
		uint32_t from = sle_seq_lt(c->rtx_next, c->snd_una)
					? c->snd_una
					: c->rtx_next;
		uint32_t len;

		if (!sle_sack_hole(&c->sack, from, &hs, &he))
			break;
		if (!sle_seq_lt(hs, end))
			break;
		len = min32(min32(c->mss, he - hs), end - hs);
		resend(t, c, hs, len);
		c->rtx_next = hs + len;
		sent++;
	}
	/* the segment at snd_una, unless this recovery resent it already */
	if (sent || !una_hole || c->state == SLE_TCP_DEAD ||
	    sle_seq_lt(c->snd_una, c->rtx_next))
		return;
	if (sle_seq_lt(c->snd_una, end)) {
		uint32_t len = min32(c->mss, end - c->snd_una);

		resend(t, c, c->snd_una, len);
		if (sle_seq_lt(c->rtx_next, c->snd_una + len))
			c->rtx_next = c->snd_una + len;
	} else if (c->eof && sle_seq_lt(c->eof_seq, c->snd_max)) {
		t->retransmits++;
		sle_tcp_send_flags(t, c, c->eof_seq, SLE_TCP_FIN | SLE_TCP_ACK,
				   NULL);
	}
}

static void enter_recovery(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	/* after a timeout, its go-back repairs first (RFC 6582 4.1) */
	if (c->rto_recovering)
		return;
	c->rtx_t = t->env.now(t->env.arg);
	if (c->use_bbr) { /* the model, not the loss, sets the window */
		c->cc.recover = c->snd_max;
		c->cc.recovering = true;
	} else {
		sle_cc_fast(&c->cc, flight, c->snd_max);
		if (c->sack_ok) /* the scoreboard's pipe replaces inflation */
			c->cc.cwnd = c->cc.ssthresh;
	}
	c->rtx_next = c->snd_una;
	t->fast_retransmits++;
	repair(t, c, true);
}

/* What this ACK delivered, for BBR's model: bytes acknowledged or SACKed
 * beyond the most seen before (SACK blocks forgotten at the end of a
 * recovery come back as acknowledged bytes, not counted twice). */
static void bbr_ack(struct sle_tcp *t, struct sle_tcp_conn *c, uint32_t ack)
{
	uint32_t sacked = sle_sack_bytes(&c->sack);
	uint64_t now_d = (uint64_t)(c->snd_una - c->iss - 1) + sacked;
	uint32_t newly = 0, high = ack, flight = c->snd_nxt - c->snd_una;

	if (now_d > c->delivered_seen) {
		newly = (uint32_t)(now_d - c->delivered_seen);
		c->delivered_seen = now_d;
	}
	if (c->sack.n && sle_seq_lt(high, c->sack.b[c->sack.n - 1].e))
		high = c->sack.b[c->sack.n - 1].e;
	sle_bbr_ack(&c->bbr, &c->cc, newly, high,
		    flight > sacked ? flight - sacked : 0,
		    t->env.now(t->env.arg));
}

void sle_tcp_on_ack(struct sle_tcp *t, struct sle_tcp_conn *c,
		    const struct sle_tcp_seg *s)
{
	uint32_t wnd = (uint32_t)s->wnd << c->snd_wscale;
	uint32_t flight = c->snd_max - c->snd_una;
	bool sacked_more = false;

	if (sle_seq_lt(c->snd_max, s->ack)) {
		/* acknowledges what was never sent */
		sle_tcp_queue_ack(t, c);
		return;
	}
	for (uint8_t i = 0; c->sack_ok && i < s->opt.nsack; i++) {
		const struct sle_sack_blk *b = &s->opt.sack[i];

		/* only blocks of data sent and not yet acknowledged (a
		 * D-SACK below the ACK is ignored) */
		if (sle_seq_lt(s->ack, b->s) && sle_seq_lt(b->s, b->e) &&
		    sle_seq_le(b->e, c->snd_max)) {
			sle_sack_add(&c->sack, b->s, b->e);
			sacked_more = true;
		}
	}
	if (sle_seq_lt(c->snd_una, s->ack)) {
		uint32_t acked = s->ack - c->snd_una;
		uint32_t data = acked;

		if (c->eof && sle_seq_lt(c->eof_seq, s->ack)) {
			c->fin_acked = true;
			data = c->eof_seq - c->snd_una;
		}
		if (data)
			t->env.discard(t->env.arg, c, data);
		c->snd_una = s->ack;
		sle_sack_trim(&c->sack, c->snd_una);
		if (c->rto_recovering && sle_seq_le(c->rto_recover, c->snd_una))
			c->rto_recovering = false;
		if (sle_seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->retries = 0;
		if (c->timing && sle_seq_le(c->rtt_seq, s->ack)) {
			sle_rtt_sample(&c->rtt,
				       t->env.now(t->env.arg) - c->rtt_t0);
			c->timing = false;
		}
		c->snd_wnd = wnd;
		c->persist = false;
		c->cc.dupacks = 0;
		if (c->cc.recovering) {
			if (sle_seq_le(c->cc.recover, s->ack)) {
				if (!c->use_bbr)
					c->cc.cwnd = c->cc.ssthresh;
				c->cc.recovering = false;
				c->sack.n = 0;
			} else {
				/* partial ACK: the next hole (RFC 6582) */
				c->rtx_t = t->env.now(t->env.arg);
				if (!c->sack_ok && !c->use_bbr)
					c->cc.cwnd = c->cc.cwnd > acked
							     ? c->cc.cwnd -
								       acked +
								       c->cc.mss
							     : c->cc.mss;
				repair(t, c, true);
				if (c->state == SLE_TCP_DEAD)
					return;
			}
		} else {
			if (!c->use_bbr)
				sle_cc_acked(&c->cc, acked,
					     t->env.now(t->env.arg),
					     c->rtt.have ? c->rtt.srtt : 0);
			/* a window-limited flow does not grow cwnd past the
			 * client's window (RFC 7661's idea): a cwnd far above
			 * what is ever in flight would unpace the sending */
			if (!c->use_bbr && c->cc.cwnd > c->snd_wnd &&
			    c->snd_wnd > SLE_TCP_INIT_CWND * c->cc.mss)
				c->cc.cwnd = c->snd_wnd;
			if (sle_sack_bytes(&c->sack) >= 3u * c->cc.mss) {
				enter_recovery(t, c);
				if (c->state == SLE_TCP_DEAD)
					return;
			}
		}
		sle_tcp_arm(t, c);
	} else if (s->ack == c->snd_una && !s->len &&
		   !(s->flags & (SLE_TCP_SYN | SLE_TCP_FIN)) && flight &&
		   (wnd == c->snd_wnd || sacked_more)) {
		c->snd_wnd = wnd;
		c->cc.dupacks++;
		if (c->cc.recovering) {
			double now = t->env.now(t->env.arg);

			if (!c->sack_ok && !c->use_bbr)
				c->cc.cwnd += c->cc.mss;
			/* holes resent a round trip ago and still not
			 * acknowledged while SACKs keep coming: lost again,
			 * resend them (instead of waiting for the RTO) */
			if (c->sack_ok &&
			    now - c->rtx_t > c->rtt.srtt * 1.25 + 0.005) {
				c->rtx_next = c->snd_una;
				c->rtx_t = now;
				repair(t, c, true);
			} else {
				repair(t, c, false);
			}
		} else if (c->cc.dupacks >= 3 ||
			   sle_sack_bytes(&c->sack) >= 3u * c->cc.mss) {
			enter_recovery(t, c);
		}
		if (c->state == SLE_TCP_DEAD)
			return;
	} else {
		c->snd_wnd = wnd;
	}
	if (c->use_bbr)
		bbr_ack(t, c, s->ack);
	sle_tcp_push(t, c);
}

void sle_tcp_update_watch(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	uint32_t flight = c->snd_nxt - c->snd_una;
	uint32_t wnd = min32(c->snd_wnd, c->cc.cwnd);
	bool rd = c->state == SLE_TCP_ESTABLISHED && !c->eof && !c->starved &&
		  wnd > flight && (wnd - flight >= c->mss || !flight);
	bool wr = c->state == SLE_TCP_CONNECTING ||
		  (c->state == SLE_TCP_ESTABLISHED && c->want_wupd);

	if (c->state == SLE_TCP_DEAD || (rd == c->rd && wr == c->wr))
		return;
	c->rd = rd;
	c->wr = wr;
	t->env.watch(t->env.arg, c, rd, wr);
}
