/* SPDX-License-Identifier: MIT */
/*
 * The relay's connections: opened by a client SYN, established when the
 * host connect completes, timers, resets, and the per-turn bookkeeping
 * (pending ACKs, the senders waiting for the next turn, freeing). See
 * tcp.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tcp.h"

int sle_tcp_init(struct sle_tcp *t, const struct sle_tcp_env *env, unsigned mtu,
		 uint64_t budget)
{
	memset(t, 0, sizeof(*t));
	t->env = *env;
	if (mtu < 1280)
		mtu = 1280;
	if (mtu > 65535)
		mtu = 65535;
	t->mss4 = (uint16_t)(mtu - 40);
	t->mss6 = (uint16_t)(mtu - 60);
	t->budget = budget;
	t->turn_left = SLE_TCP_TURN_SEGS;
	t->scratch_cap =
		SLE_TCP_PEEK_SEGS * t->mss4 + SLE_TCP_HDR_MAX + t->mss4;
	t->scratch = malloc(t->scratch_cap);
	return t->scratch ? 0 : -1;
}

static void free_grave(struct sle_tcp *t)
{
	struct sle_tcp_conn **pp = &t->starve, *last = NULL;

	/* the dead leave the waiting list before their memory goes */
	while (*pp) {
		if ((*pp)->state == SLE_TCP_DEAD) {
			*pp = (*pp)->starve_next;
			continue;
		}
		last = *pp;
		pp = &(*pp)->starve_next;
	}
	t->starve_tail = last;
	while (t->grave) {
		struct sle_tcp_conn *c = t->grave;

		t->grave = c->grave_next;
		free(c);
	}
}

void sle_tcp_free(struct sle_tcp *t)
{
	t->acks = NULL;
	free_grave(t);
	free(t->scratch);
	t->scratch = NULL;
}

static uint32_t mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h;
}

/* The RFC's 32-bit clock of 4 us ticks, wrapping. Through uint64_t: a
 * double beyond uint32_t's range converts with undefined behaviour, and
 * the loop's clock passes 2^32 ticks after under 5 hours. */
static uint32_t clock_4us(double now)
{
	double ticks = now * 250000.0;

	if (!(ticks > 0) || ticks >= 18446744073709551615.0)
		return 0;
	return (uint32_t)(uint64_t)ticks;
}

/* RFC 6528: a keyed hash of the connection plus a 4 us clock. */
static uint32_t make_iss(const struct sle_tcp *t, const struct sle_tcp_conn *c)
{
	uint32_t h = t->isn_key;

	for (int i = 0; i < 16; i++)
		h = mix(h ^ c->cli[i] ^ (uint32_t)c->dst[i] << 8);
	h = mix(h ^ ((uint32_t)c->cport << 16 | c->dport));
	return h + clock_4us(t->env.now(t->env.arg));
}

static void rst_syn(struct sle_tcp *t, const struct sle_pkt_info *pi,
		    uint32_t ack)
{
	uint8_t pkt[SLE_TCP_HDR_MAX];
	size_t n = sle_tcp_build(pkt, pi->family, pi->dst, pi->dport, pi->src,
				 pi->sport, 0, ack, SLE_TCP_RST | SLE_TCP_ACK,
				 0, NULL, NULL, 0);

	t->resets_to_client++;
	t->env.emit(t->env.arg, pkt, n);
}

struct sle_tcp_conn *sle_tcp_open(struct sle_tcp *t, const uint8_t *ip,
				  const struct sle_pkt_info *pi)
{
	struct sle_tcp_seg s;
	struct sle_tcp_conn *c;
	size_t al = pi->family == 6 ? 16 : 4;
	uint16_t ours = pi->family == 6 ? t->mss6 : t->mss4;
	int r;

	if (!sle_tcp_seg_parse(ip, pi, &s) ||
	    (s.flags & (SLE_TCP_SYN | SLE_TCP_ACK | SLE_TCP_RST |
			SLE_TCP_FIN)) != SLE_TCP_SYN)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c) {
		rst_syn(t, pi, s.seq + 1);
		return NULL;
	}
	c->family = pi->family;
	memcpy(c->cli, pi->src, al);
	memcpy(c->dst, pi->dst, al);
	c->cport = pi->sport;
	c->dport = pi->dport;
	c->irs = s.seq;
	c->rcv_nxt = s.seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->mss = s.opt.mss ? s.opt.mss : 536;
	if (c->mss > ours)
		c->mss = ours;
	if (c->mss < 64)
		c->mss = 64;
	if (s.opt.wscale >= 0) {
		c->snd_wscale = (uint8_t)s.opt.wscale;
		c->rcv_wscale = SLE_TCP_WSCALE;
	}
	c->sack_ok = s.opt.sack_ok;
	c->snd_wnd = s.wnd;
	c->iss = make_iss(t, c);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	sle_cc_init(&c->cc, c->mss);
	c->use_bbr = t->bbr;
	if (c->use_bbr)
		sle_bbr_init(&c->bbr);
	sle_rtt_init(&c->rtt);
	c->state = SLE_TCP_CONNECTING;
	r = t->env.connect(t->env.arg, c);
	if (r < 0) {
		t->connect_failed++;
		rst_syn(t, pi, c->rcv_nxt);
		free(c);
		return NULL;
	}
	t->n_conns++;
	sle_tcp_update_watch(t, c);
	return c;
}

void sle_tcp_kill(struct sle_tcp *t, struct sle_tcp_conn *c, bool rst_client,
		  bool rst_host)
{
	if (c->state == SLE_TCP_DEAD)
		return;
	if (rst_client) {
		uint8_t pkt[SLE_TCP_HDR_MAX];
		size_t n;

		if (c->state == SLE_TCP_CONNECTING)
			n = sle_tcp_build(pkt, c->family, c->dst, c->dport,
					  c->cli, c->cport, 0, c->rcv_nxt,
					  SLE_TCP_RST | SLE_TCP_ACK, 0, NULL,
					  NULL, 0);
		else
			n = sle_tcp_build(pkt, c->family, c->dst, c->dport,
					  c->cli, c->cport, c->snd_nxt, 0,
					  SLE_TCP_RST, 0, NULL, NULL, 0);
		t->resets_to_client++;
		t->env.emit(t->env.arg, pkt, n);
	}
	t->charged -= c->charged;
	c->charged = 0;
	sle_tcp_ooo_free(c);
	sle_txlog_free(&c->tx);
	t->env.release(t->env.arg, c, rst_host);
	c->state = SLE_TCP_DEAD;
	c->grave_next = t->grave;
	t->grave = c;
}

static void send_synack(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	struct sle_tcp_opts o = {.mss = c->family == 6 ? t->mss6 : t->mss4,
				 .wscale = -1,
				 .sack_ok = c->sack_ok};

	if (c->rcv_wscale)
		o.wscale = (int8_t)c->rcv_wscale;
	sle_tcp_send_flags(t, c, c->iss, SLE_TCP_SYN | SLE_TCP_ACK, &o);
}

void sle_tcp_sock_event(struct sle_tcp *t, struct sle_tcp_conn *c, bool rd,
			bool wr, int err)
{
	if (c->state == SLE_TCP_DEAD)
		return;
	if (c->state == SLE_TCP_CONNECTING) {
		if (err) {
			t->connect_failed++;
			sle_tcp_kill(t, c, true, false);
			return;
		}
		if (!wr)
			return;
		c->state = SLE_TCP_SYN_RCVD;
		send_synack(t, c);
		c->snd_nxt = c->snd_max = c->iss + 1;
		c->timing = true;
		c->rtt_t0 = t->env.now(t->env.arg);
		sle_tcp_arm(t, c);
		sle_tcp_update_watch(t, c);
		return;
	}
	if (err) {
		sle_tcp_kill(t, c, true, true);
		return;
	}
	if (wr && c->want_wupd && c->state == SLE_TCP_ESTABLISHED)
		sle_tcp_wupd(t, c);
	if (rd && c->state == SLE_TCP_ESTABLISHED)
		sle_tcp_push(t, c);
}

void sle_tcp_wupd(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	uint32_t before = c->rcv_adv - c->rcv_nxt;

	if (c->state != SLE_TCP_ESTABLISHED)
		return;
	sle_tcp_rack(t, c); /* the reorder timer */
	sle_tcp_push(t, c); /* paced segments due */
	if (c->state != SLE_TCP_ESTABLISHED || !c->want_wupd)
		return;
	/* only worth a packet when the window grew by a segment or more */
	if (sle_tcp_rcv_wnd(t, c) >= before + c->mss)
		sle_tcp_send_ack(t, c);
	else
		t->env.wupd_timer(t->env.arg, c, SLE_TCP_WUPD_DELAY);
	sle_tcp_update_watch(t, c);
}

void sle_tcp_timeout(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	if (c->state == SLE_TCP_DEAD || c->state == SLE_TCP_CONNECTING)
		return;
	if (c->pto) {
		sle_tcp_tail_probe(t, c);
		return;
	}
	if (++c->retries > SLE_TCP_MAX_RETRIES) {
		sle_tcp_kill(t, c, true, true);
		return;
	}
	sle_rtt_backoff(&c->rtt);
	c->timing = false;
	t->timeouts++;
	if (c->state == SLE_TCP_SYN_RCVD) {
		t->retransmits++;
		send_synack(t, c);
		sle_tcp_arm(t, c);
		return;
	}
	if (flight) {
		/* everything not SACKed is lost, resent from one segment */
		/* a second timeout of the same data halves no further */
		if (c->use_bbr)
			sle_bbr_timeout(&c->bbr, &c->cc);
		else if (!c->rto_recovering)
			sle_cc_timeout(&c->cc, flight);
		else
			c->cc.cwnd = c->cc.mss;
		c->rto_recovering = true;
		c->rto_recover = c->snd_max;
		c->cc.recovering = false;
		c->cc.dupacks = 0;
		/* the scoreboard stays: what the client SACKed is skipped
		 * (a client that reneged gets it at the next timeout) */
		if (c->retries > 1)
			c->sack.n = 0;
		sle_txlog_lose_all(&c->tx, c->retries > 1);
		if (c->eof && c->snd_una == c->eof_seq) {
			/* only the FIN is missing */
			t->retransmits++;
			sle_tcp_send_flags(t, c, c->eof_seq,
					   SLE_TCP_FIN | SLE_TCP_ACK, NULL);
		}
	} else if (c->persist) {
		/* zero window probe: one byte beyond the window */
		ssize_t n = t->env.peek(t->env.arg, c, 0, t->scratch, 1);

		if (n > 0) {
			uint32_t w = c->snd_wnd;

			c->snd_wnd = 1;
			c->persist = false;
			sle_tcp_push(t, c);
			c->snd_wnd = w;
		}
	}
	sle_tcp_arm(t, c);
	sle_tcp_push(t, c);
}

void sle_tcp_expire(struct sle_tcp *t, struct sle_tcp_conn *c)
{
	c->owner = NULL;
	sle_tcp_kill(t, c, true, true);
}

void sle_tcp_flush(struct sle_tcp *t)
{
	while (t->acks) {
		struct sle_tcp_conn *c = t->acks;

		t->acks = c->ack_next;
		c->ack_due = false;
		if (c->state != SLE_TCP_DEAD && c->ack_pending)
			sle_tcp_send_ack(t, c);
	}
	free_grave(t);
}

bool sle_tcp_turn(struct sle_tcp *t)
{
	struct sle_tcp_conn *c = t->starve;

	t->turn_left = SLE_TCP_TURN_SEGS;
	t->starve = t->starve_tail = NULL;
	while (c) {
		struct sle_tcp_conn *next = c->starve_next;

		c->starved = false;
		if (c->state != SLE_TCP_DEAD)
			sle_tcp_push(t, c);
		c = next;
	}
	return t->starve != NULL;
}
