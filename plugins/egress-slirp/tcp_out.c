/* SPDX-License-Identifier: MIT */
/*
 * Host -> client: data peeked from the host socket goes out in segments
 * up to min(client window, cwnd); acknowledged data is discarded from the
 * socket; losses are repaired by fast retransmit and the RTO. Every
 * segment carries our current ACK and window. See tcp.h.
 */
#include <errno.h>

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
	/* the bytes in flight toward the client are held in our queue, and
	 * their transmit log beside them */
	uint64_t held = (uint64_t)flight + sle_txlog_mem(&c->tx), charge;

	if (w > cap)
		w = cap;
	if (t->budget) {
		uint64_t used =
			t->charged - c->charged + (t->base ? *t->base : 0);
		uint64_t avail = t->budget > used ? t->budget - used : 0;

		avail = avail > held ? avail - held : 0;
		if (w > avail)
			w = (uint32_t)avail;
	}
	/* never move the right edge back (RFC 9293 3.8.6) */
	if (sle_seq_lt(c->rcv_nxt + w, c->rcv_adv))
		w = c->rcv_adv - c->rcv_nxt;
	charge = (uint64_t)w + held;
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

	/* SACK blocks of what is kept beyond the hole, merged: the blocks
	 * that changed last first, the latest one's first of all (RFC 2018
	 * 4: a block is repeated in the next ACKs, so a lost ACK costs the
	 * client nothing and, with many holes, no block it was told of
	 * drops out of the reports while newer data arrives above it -
	 * reporting the lowest blocks instead made the client resend
	 * segments held here), then the lowest others */
	struct sle_sack_blk walk[SLE_SACK_MAX];
	const struct sle_sack_blk *all = walk;
	bool used[SLE_SACK_MAX] = {false};
	uint8_t n = 0;

	if (c->sack_ok && !c->ooo_ranges_lossy) {
		/* kept merged as segments arrive: no walk of the list */
		sle_sack_trim(&c->ooo_ranges, c->rcv_nxt);
		all = c->ooo_ranges.b;
		n = c->ooo_ranges.n;
	}
	for (q = c->ooo; c->sack_ok && c->ooo_ranges_lossy && q; q = q->next) {
		if (n && walk[n - 1].e == q->seq) {
			walk[n - 1].e = q->seq + q->len;
			continue;
		}
		if (n == SLE_SACK_MAX)
			break;
		walk[n].s = q->seq;
		walk[n].e = q->seq + q->len;
		n++;
	}
	if (c->dsack_set && c->sack_ok) /* RFC 2883: the duplicate first */
		o.sack[o.nsack++] = c->dsack;
	c->dsack_set = false;
	for (uint8_t k = 0;
	     k < c->sack_nrecent && o.nsack < SLE_TCP_SACK_BLOCKS; k++) {
		int i = sle_sack_find(all, n, c->sack_recent[k]);

		if (i >= 0 && !used[i]) {
			used[i] = true;
			o.sack[o.nsack++] = all[i];
		}
	}
	for (uint8_t i = 0; i < n && o.nsack < SLE_TCP_SACK_BLOCKS; i++)
		if (!used[i])
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
	double after = c->rtt.rto, pto;

	c->pto = false;
	if (c->state != SLE_TCP_SYN_RCVD && c->snd_nxt == c->snd_una &&
	    !c->persist) {
		t->env.timer(t->env.arg, c, -1);
		return;
	}
	/* RFC 8985 7.2: a tail loss probe two round trips after the last
	 * ACK, when SACK can tell what it finds and no recovery is on */
	if (c->state == SLE_TCP_ESTABLISHED && c->sack_ok && c->rtt.have &&
	    c->tx.n && !c->tlp_out && !c->cc.recovering && !c->rto_recovering) {
		pto = 2 * c->rtt.srtt +
		      (c->tx.n == 1 ? SLE_TCP_PTO_DELACK : SLE_TCP_PTO_SLACK);
		if (pto < after) {
			after = pto;
			c->pto = true;
		}
	}
	t->env.timer(t->env.arg, c, after);
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

/* Resend the lost segment e. False when the connection died. */
static bool resend(struct sle_tcp *t, struct sle_tcp_conn *c,
		   struct sle_txseg *e)
{
	uint32_t seq = e->seq;
	ssize_t n;

	t->retransmits++;
	c->timing = false; /* Karn */
	n = t->env.peek(t->env.arg, c, seq - c->snd_una, t->scratch, e->len);
	if (n < 0 && n != -EAGAIN) {
		sle_tcp_kill(t, c, true, true);
		return false;
	}
	sle_txlog_resent(&c->tx, e, t->env.now(t->env.arg));
	if (n > 0)
		send_data(t, c, seq, t->scratch, (uint32_t)n, true);
	/* the head resent: the timer runs from now (as Linux does), or a
	 * hole lost twice at 100 ms (found one round trip after its first
	 * resend) outlasts a 200 ms RTO, and the timeout sends everything
	 * not SACKed again from one segment */
	if (n > 0 && seq == c->snd_una)
		sle_tcp_arm(t, c);
	return true;
}

void sle_tcp_tail_probe(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	struct sle_txseg *e = sle_txlog_last(&c->tx);

	c->pto = false;
	c->tlp_out = true;
	if (e) {
		t->tail_probes++;
		if (!resend(t, c, e))
			return;
	}
	sle_tcp_arm(t, c); /* the RTO now */
}

void sle_tcp_push(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	while (c->state == SLE_TCP_ESTABLISHED) {
		/* RFC 6675's pipe, with RACK's verdicts: SACKed segments and
		 * those declared lost (not resent yet) have left the
		 * network, so after a burst lost at the client's socket new
		 * data keeps flowing while the holes are repaired */
		/* data only, from the log: a FIN out counted as a byte in
		 * flight once kept a one-segment window after a timeout at
		 * the end of a download from ever resending (a stall) */
		uint32_t flight = c->snd_nxt - c->snd_una;
		uint32_t data = sle_txlog_flight(&c->tx, c->snd_una);
		uint32_t gone = c->tx.sacked + c->tx.lost_bytes;
		uint32_t pipe = data > gone ? data - gone : 0;
		uint32_t wnd = min32(min32(c->snd_wnd, c->cc.cwnd),
				     SLE_TCP_INFLIGHT_MAX);
		uint32_t room = wnd > pipe ? wnd - pipe : 0, want, off;
		struct sle_txseg *lost = sle_txlog_next_lost(&c->tx);
		double now = t->env.now(t->env.arg);
		ssize_t n;

		if (lost) {
			/* repairs before new data, paced like it */
			uint32_t pr;

			/* the first resend of a recovery goes at once (RFC
			 * 6675 step 4.2, RFC 6582 on a partial ACK) */
			if (room < lost->len && pipe && !c->rtx_now)
				break;
			if (!t->turn_left) {
				starve(t, c);
				break;
			}
			pr = sle_tcp_pace_room(c, now);
			if (pr < lost->len) {
				pace_wait(t, c, pr);
				break;
			}
			c->pace_tokens -= lost->len;
			c->rtx_now = false;
			t->turn_left--;
			if (!resend(t, c, lost))
				return;
			continue;
		}
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
		if (t->budget && flight &&
		    t->charged + (t->base ? *t->base : 0) >= t->budget)
			break;
		{
			uint32_t pr = sle_tcp_pace_room(c, now);

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
		/* every segment in flight is logged (tiny MSS: fewer) */
		if (want > sle_txlog_room(&c->tx))
			want = sle_txlog_room(&c->tx);
		if (!want)
			break;
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
		for (off = 0; off < (uint32_t)n;) {
			uint32_t len = min32(c->mss, (uint32_t)n - off);

			if (sle_txlog_sent(&c->tx, c->snd_nxt, len, now) < 0)
				break; /* out of memory: the rest waits */
			send_data(t, c, c->snd_nxt, t->scratch + off, len,
				  off + len == (uint32_t)n);
			c->snd_nxt += len;
			off += len;
			if (t->turn_left)
				t->turn_left--;
		}
		if (!off)
			break;
		c->pace_tokens -= (double)off;
		if (sle_seq_lt(c->snd_max, c->snd_nxt))
			c->snd_max = c->snd_nxt;
		if (c->use_bbr)
			sle_bbr_sent(&c->bbr, c->snd_nxt, pipe, c->cc.cwnd,
				     now);
		if (!c->timing) {
			c->timing = true;
			c->rtt_seq = c->snd_nxt;
			c->rtt_t0 = now;
		}
		if (!flight)
			sle_tcp_arm(t, c);
		if (off < want) {
			if (c->use_bbr)
				sle_bbr_app_limited(&c->bbr, pipe + off);
			break; /* the socket has nothing more for now */
		}
	}
	sle_tcp_update_watch(t, c);
}

static void enter_recovery(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	/* after a timeout, its repairs come first (RFC 6582 4.1) */
	if (c->rto_recovering)
		return;
	c->rec_t = t->env.now(t->env.arg);
	if (c->use_bbr) { /* the model, not the loss, sets the window */
		c->cc.recover = c->snd_max;
		c->cc.recovering = true;
	} else {
		sle_cc_fast(&c->cc, flight, c->snd_max);
		if (c->sack_ok) /* the scoreboard's pipe replaces inflation */
			c->cc.cwnd = c->cc.ssthresh;
	}
	c->rtx_now = true;
	t->fast_retransmits++;
}

void sle_tcp_rack(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	double wait;

	sle_rack_detect(&c->tx, c->cc.recovering, c->rtt.have ? c->rtt.srtt : 0,
			t->env.now(t->env.arg), &wait);
	if (wait >= 0) /* the reorder timer */
		t->env.wupd_timer(t->env.arg, c, wait > 0.0002 ? wait : 0.0002);
	if (c->tx.lost_bytes && !c->cc.recovering)
		enter_recovery(t, c);
}

/* No SACK information: the segment at snd_una is lost (the third
 * duplicate ACK, RFC 5681; a partial ACK, RFC 6582), unless this
 * recovery resent it already. */
static void head_lost(struct sle_tcp_conn *c)
{
	struct sle_txseg *e = sle_txlog_find(&c->tx, c->snd_una);

	if (e && !((e->flags & SLE_TX_RETRANS) && c->cc.recovering &&
		   e->t >= c->rec_t)) {
		sle_txlog_mark_lost(&c->tx, e);
		c->rtx_now = true;
	}
}

/* What this ACK delivered, for BBR's model: bytes acknowledged or SACKed
 * beyond the most seen before. SACKed bytes are the log's count (kept
 * per ACK), not a sum over the scoreboard. */
static void bbr_ack(struct sle_tcp *t, struct sle_tcp_conn *c, uint32_t ack)
{
	uint32_t sacked = c->tx.sacked;
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
	double now = t->env.now(t->env.arg);
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
			sle_txlog_sack(&c->tx, &c->sack, b->s, b->e, now);
			sle_sack_add(&c->sack, b->s, b->e);
			sacked_more = true;
			c->tlp_out = false;
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
		c->tlp_out = false;
		sle_txlog_ack(&c->tx, c->snd_una, now);
		sle_sack_trim(&c->sack, c->snd_una);
		if (c->rto_recovering && sle_seq_le(c->rto_recover, c->snd_una))
			c->rto_recovering = false;
		if (sle_seq_lt(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		c->retries = 0;
		if (c->timing && sle_seq_le(c->rtt_seq, s->ack)) {
			sle_rtt_sample(&c->rtt, now - c->rtt_t0);
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
			} else if (!c->sack.n) {
				/* partial ACK (RFC 6582) */
				if (!c->sack_ok && !c->use_bbr)
					c->cc.cwnd = c->cc.cwnd > acked
							     ? c->cc.cwnd -
								       acked +
								       c->cc.mss
							     : c->cc.mss;
				head_lost(c);
			}
		} else {
			if (!c->use_bbr)
				sle_cc_acked(&c->cc, acked, now,
					     c->rtt.have ? c->rtt.srtt : 0);
			/* a window-limited flow does not grow cwnd past the
			 * client's window (RFC 7661's idea): a cwnd far above
			 * what is ever in flight would unpace the sending */
			if (!c->use_bbr && c->cc.cwnd > c->snd_wnd &&
			    c->snd_wnd > SLE_TCP_INIT_CWND * c->cc.mss)
				c->cc.cwnd = c->snd_wnd;
		}
		sle_tcp_arm(t, c);
	} else if (s->ack == c->snd_una && !s->len &&
		   !(s->flags & (SLE_TCP_SYN | SLE_TCP_FIN)) && flight &&
		   (wnd == c->snd_wnd || sacked_more)) {
		c->snd_wnd = wnd;
		c->cc.dupacks++;
		if (c->cc.recovering && !c->sack_ok && !c->use_bbr)
			c->cc.cwnd += c->cc.mss;
		if (c->cc.dupacks == 3 && !c->sack.n) {
			head_lost(c);
		} else if (c->cc.dupacks == 3 && c->eof &&
			   c->snd_una == c->eof_seq &&
			   sle_seq_lt(c->eof_seq, c->snd_max)) {
			/* only the FIN is missing */
			t->retransmits++;
			sle_tcp_send_flags(t, c, c->eof_seq,
					   SLE_TCP_FIN | SLE_TCP_ACK, NULL);
		}
	} else {
		c->snd_wnd = wnd;
	}
	sle_tcp_rack(t, c);
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
