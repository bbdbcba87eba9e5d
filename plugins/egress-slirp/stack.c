/* SPDX-License-Identifier: MIT */
/*
 * The libslirp instance and the two packet paths.
 *
 * Client -> internet: each IP packet from the transport is parsed, checked
 * by the filter and the flow limits (refusals are answered with a TCP RST
 * or an ICMP "administratively prohibited" and counted), then wrapped in an
 * Ethernet frame and handed to slirp_input().
 *
 * Internet -> client: slirp calls send_packet() with Ethernet frames. IPv4
 * frames are unwrapped and queued; the queue goes to the transport in
 * batches (when full, and at the end of every slirp call). ARP requests are
 * slirp asking where a client is: its table has only 16 entries, so with
 * more clients it asks again and again. Each request is answered at once,
 * re-entrantly, by feeding the reply back through slirp_input() from inside
 * send_packet(). That is safe in libslirp 4.7: an ARP reply only updates
 * the ARP table (arp_input -> arp_table_add) and never outputs or re-enters
 * if_start(). The packet that caused the request stays queued in slirp;
 * it is sent by the next if_start(), which slirp_pollfds_poll() runs at its
 * end: s->kick makes the loop's next PREPARE arm a zero timeout so that
 * happens in the very next loop iteration instead of up to a second later.
 *
 * slirp acknowledges every uploaded segment at once; a pure ACK that a
 * later one of the same batch makes redundant is dropped (ackthin.h).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eth.h"
#include "pkt.h"
#include "sle.h"

static const uint8_t client_side_mac[6] = {0x02, 0x45, 0, 0, 0, 1};

/* ------------------------------------------------------ toward transport */

void sle_flush(struct sle *s)
{
	struct evpn_pkt_batch b = {.pkts = s->opkts};
	uint64_t bytes = 0;
	uint32_t k = 0;

	if (!s->on)
		return;
	/* counted here, not when queued: merged ACKs never leave, and
	 * nothing leaves before a transport is attached */
	for (uint32_t i = 0; i < s->on; i++) {
		if (!s->opkts[i].len)
			continue;
		bytes += s->opkts[i].len;
		s->opkts[k++] = s->opkts[i];
	}
	b.n = k;
	s->on = 0;
	if (!s->attached)
		return;
	s->host->metric_add(s->m_pkts_in, k);
	s->host->metric_add(s->m_bytes_in, bytes);
	s->to_transport.deliver(s->to_transport.self, &b);
}

int sle_out(struct sle *s, const uint8_t *ip, uint32_t len)
{
	struct evpn_pkt *p;

	if (len > s->slot) {
		s->host->metric_add(s->m_dropped_big, 1);
		return -1;
	}
	if (s->on == SLE_BATCH)
		sle_flush(s);
	p = &s->opkts[s->on];
	p->data = s->obuf + (size_t)s->on * s->slot;
	memcpy(p->data, ip, len);
	p->len = len;
	p->cap = s->slot;
	p->peer = 0;
	p->flags = 0;
	s->oack[s->on].family = 0;
	return (int)s->on++;
}

/* A new pure ACK a is about to be queued: earlier ones of its connection
 * in this batch say nothing it does not, so they are dropped. */
static void merge_acks(struct sle *s, const struct sle_ack *a)
{
	for (uint32_t i = 0; i < s->on; i++) {
		if (!s->oack[i].family || !sle_ack_supersedes(a, &s->oack[i]))
			continue;
		s->oack[i].family = 0;
		s->opkts[i].len = 0;
		s->host->metric_add(s->m_acks_merged, 1);
	}
}

/* --------------------------------------------------- slirp's callbacks */

/* An IP packet slirp sends to a client: its flow is refreshed, and it
 * goes to the transport. */
static void from_slirp(struct sle *s, const uint8_t *ip, size_t len)
{
	struct sle_pkt_info pi;
	struct sle_ack a = {0};
	int at;

	if (sle_pkt_parse(ip, len, &pi)) {
		sle_flows_server(&s->flows, &pi, s->host->now(s->host));
		if (sle_ack_pure(ip, len, &pi, &a))
			merge_acks(s, &a);
	}
	at = sle_out(s, ip, (uint32_t)len);
	if (at >= 0)
		s->oack[at] = a;
}

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct sle *s = opaque;
	const uint8_t *f = buf;
	uint8_t reply[SLE_NA_FRAME_LEN], target[4];
	const uint8_t *na_target = reply + SLE_ETH_HLEN + 48;

	if (len < SLE_ETH_HLEN)
		return (ssize_t)len;
	switch (sle_eth_type(f)) {
	case SLE_ETH_P_ARP:
		if (sle_arp_answer(f, len, reply, target)) {
			s->host->metric_add(s->m_arp, 1);
			slirp_input(s->slirp, reply, SLE_ARP_FRAME_LEN);
			s->kick = true;
		}
		break;
	case SLE_ETH_P_IPV6:
		/* slirp's neighbour solicitations are answered at once, like
		 * ARP (its NDP table has 16 entries too), but never for its
		 * own addresses; its router advertisements and other
		 * multicast stay here. */
		if (sle_ndp_answer(f, len, reply)) {
			if (memcmp(na_target, &s->net6, 16) != 0 &&
			    memcmp(na_target, &s->dns6, 16) != 0) {
				s->host->metric_add(s->m_arp, 1);
				slirp_input(s->slirp, reply, SLE_NA_FRAME_LEN);
				s->kick = true;
			}
			break;
		}
		if (len >= SLE_ETH_HLEN + 40 && f[SLE_ETH_HLEN + 24] != 0xff)
			from_slirp(s, f + SLE_ETH_HLEN, len - SLE_ETH_HLEN);
		break;
	case SLE_ETH_P_IP:
		from_slirp(s, f + SLE_ETH_HLEN, len - SLE_ETH_HLEN);
		break;
	default: break;
	}
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct sle *s = opaque;

	evpn_debug(s->host, "slirp: guest error: %s", msg);
}

static int64_t cb_clock_ns(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct sle_timer {
	struct sle *s;
	struct evpn_timer *t;
	SlirpTimerCb cb;
	void *cb_opaque;
	SlirpTimerId id;
	bool by_id;
};

static void timer_fire(struct evpn_timer *t, void *arg)
{
	struct sle_timer *st = arg;

	if (st->by_id)
		slirp_handle_timer(st->s->slirp, st->id, st->cb_opaque);
	else
		st->cb(st->cb_opaque);
	sle_flush(st->s);
}

static struct sle_timer *timer_alloc(struct sle *s)
{
	struct sle_timer *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->s = s;
	st->t = s->host->timer_new(s->host, timer_fire, st);
	if (!st->t) {
		free(st);
		return NULL;
	}
	return st;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct sle_timer *st = timer_alloc(opaque);

	if (st) {
		st->cb = cb;
		st->cb_opaque = cb_opaque;
	}
	return st;
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
	struct sle_timer *st = timer_alloc(opaque);

	if (st) {
		st->by_id = true;
		st->id = id;
		st->cb_opaque = cb_opaque;
	}
	return st;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct sle_timer *st = timer;

	if (!st)
		return;
	st->s->host->timer_free(st->t);
	free(st);
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct sle_timer *st = timer;
	double after =
		(double)expire_ms / 1e3 - (double)cb_clock_ns(NULL) / 1e9;

	st->s->host->timer_arm(st->t, after > 0 ? after : 0, 0);
}

static void cb_register_fd(int fd, void *opaque)
{
	/* Watches are made from slirp_pollfds_fill() in loop.c. */
}

static void cb_unregister_fd(int fd, void *opaque)
{
	sle_loop_unregister_fd(opaque, fd);
}

static void cb_notify(void *opaque)
{
	struct sle *s = opaque;

	s->kick = true;
}

static const SlirpCb sle_callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_ns,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_fd,
	.unregister_poll_fd = cb_unregister_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* ------------------------------------------------------ toward slirp */

static void to_slirp(struct sle *s, const uint8_t *ip, uint32_t len)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t mac[6];

	if (len + SLE_ETH_HLEN > s->frame_cap) {
		s->host->metric_add(s->m_dropped_big, 1);
		return;
	}
	/* The destination MAC does not matter to slirp; the source is the
	 * client's fake MAC so that slirp's view stays consistent. */
	if (len >= 20 && ip[0] >> 4 == 4)
		sle_fake_mac(ip + 12, mac);
	else if (len >= 40 && ip[0] >> 4 == 6)
		sle_fake_mac(ip + 8 + 12, mac); /* as sle_ndp_answer */
	else
		memcpy(mac, client_side_mac, 6);
	sle_eth_header(s->frame, bcast, mac,
		       ip[0] >> 4 == 6 ? SLE_ETH_P_IPV6 : SLE_ETH_P_IP);
	memcpy(s->frame + SLE_ETH_HLEN, ip, len);
	slirp_input(s->slirp, s->frame, (int)(len + SLE_ETH_HLEN));
}

static void refuse(struct sle *s, const uint8_t *ip,
		   const struct sle_pkt_info *pi, enum sle_reason r)
{
	uint8_t rep[SLE_REJECT_MAX];
	size_t n = sle_policy_refuse(&s->pol, ip, pi, r, rep);

	if (n)
		sle_out(s, rep, (uint32_t)n);
}

/* With the TCP relay: client TCP to anything but the pool's own
 * addresses (slirp's DNS forwarder, and the loopback aliases when
 * allow_loopback) goes to the relay. */
static bool relayed(const struct sle *s, const struct sle_pkt_info *pi)
{
	const struct sle_filter *f = &s->pol.filter;

	if (pi->proto != SLE_PROTO_TCP || !pi->first_frag)
		return false;
	if (pi->family == 4)
		return (sle_v4(pi->dst) & f->pool_mask) != f->pool;
	return !f->has6 || !sle_cidr_match(&f->pool6, 6, pi->dst);
}

void sle_send(void *self, const struct evpn_pkt_batch *batch)
{
	struct sle *s = self;
	double now;

	if (!s->slirp)
		return;
	sle_policy_begin(&s->pol);
	now = s->host->now(s->host);
	for (uint32_t i = 0; i < batch->n; i++) {
		const struct evpn_pkt *p = &batch->pkts[i];
		struct sle_pkt_info pi;
		enum sle_reason r;

		if (!sle_pkt_parse(p->data, p->len, &pi)) {
			refuse(s, p->data, &pi, SLE_R_MALFORMED);
			continue;
		}
		r = sle_filter_check(&s->pol.filter, &pi);
		if (r == SLE_PASS && s->tcp && relayed(s, &pi)) {
			s->host->metric_add(s->m_pkts_out, 1);
			s->host->metric_add(s->m_bytes_out, pi.total_len);
			sle_tcp_packet(s, p->data, &pi, now);
			continue;
		}
		if (r == SLE_PASS)
			r = sle_flows_client(&s->flows, &pi, now);
		if (r != SLE_PASS) {
			refuse(s, p->data, &pi, r);
			continue;
		}
		s->host->metric_add(s->m_pkts_out, 1);
		s->host->metric_add(s->m_bytes_out, pi.total_len);
		to_slirp(s, p->data, pi.total_len);
	}
	if (s->tcp)
		sle_tcp_done(s);
	sle_flush(s);
}

/* An idle TCP flow is forgotten: reset both sides, so that slirp closes
 * its host socket and the client knows. */
static void expire_one(const struct sle_flow *fl, void *arg)
{
	struct sle *s = arg;
	uint8_t seg[60], cli[16], dst[16];
	size_t n;

	if (fl->k.proto != SLE_PROTO_TCP)
		return;
	if (fl->owner) {
		sle_tcp_expire(s->tcp, fl->owner);
		s->host->metric_add(s->m_flows_expired, 1);
		return;
	}
	if (fl->k.family == 6) {
		sle_flow_client6(&s->flows, fl, cli);
		memcpy(dst, fl->k.dst6, 16);
	} else {
		for (int i = 0; i < 4; i++) {
			cli[i] = (uint8_t)(fl->k.cli >> (24 - 8 * i));
			dst[i] = (uint8_t)(fl->k.dst >> (24 - 8 * i));
		}
	}
	n = sle_tcp_segment(seg, fl->k.family, cli, fl->k.cport, dst,
			    fl->k.dport, fl->cli_nxt, 0, SLE_TCP_RST);
	to_slirp(s, seg, (uint32_t)n);
	if (fl->srv_seen) {
		n = sle_tcp_segment(seg, fl->k.family, dst, fl->k.dport, cli,
				    fl->k.cport, fl->srv_nxt, 0, SLE_TCP_RST);
		sle_out(s, seg, (uint32_t)n);
	}
	s->host->metric_add(s->m_flows_expired, 1);
}

void sle_expire(struct evpn_timer *t, void *arg)
{
	struct sle *s = arg;

	if (!s->slirp)
		return;
	sle_flows_expire(&s->flows, s->host->now(s->host), expire_one, s);
	s->host->metric_set(s->m_flows, s->flows.n);
	if (s->tcp)
		sle_tcp_done(s);
	sle_flush(s);
}

/* ------------------------------------------------------ lifecycle */

int sle_stack_start(struct sle *s)
{
	SlirpConfig cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.version = 4;
	cfg.restricted = 0;
	cfg.in_enabled = true;
	/* The pool is slirp's "virtual network": every client address is
	 * on-link. slirp's own address (vhost) is the pool's network address,
	 * not the server address: slirp's sotranslate_in() does not rewrite
	 * the source of replies on sockets whose peer is vhost, so with
	 * vnameserver == vhost the answers to UDP DNS queries would come from
	 * the real resolver's address and clients would drop them. Clients
	 * never use vhost (the filter refuses the network address); they see
	 * the server address as the DNS forwarder (and it answers ping). */
	cfg.vnetwork = s->net;
	cfg.vnetmask = s->mask;
	cfg.vhost = s->net;
	cfg.in6_enabled = s->has6;
	if (s->has6) {
		/* As for IPv4: slirp's own address is the network address
		 * and the DNS forwarder the server's address (pool6 + 1). */
		cfg.vprefix_addr6 = s->net6;
		cfg.vprefix_len = (uint8_t)s->prefix6;
		cfg.vhost6 = s->net6;
		cfg.vnameserver6 = s->dns6;
	}
	cfg.vdhcp_start.s_addr = htonl(ntohl(s->net.s_addr) + 2);
	cfg.vnameserver = s->dns;
	cfg.if_mtu = s->mtu;
	cfg.if_mru = s->mtu;
	cfg.disable_host_loopback = !s->allow_loopback;
	cfg.enable_emu = false;
	cfg.disable_dns = false;
	cfg.disable_dhcp = true;

	s->slot = s->mtu + 256;
	s->obuf = malloc((size_t)s->slot * SLE_BATCH);
	s->frame_cap = s->mtu + 64 + SLE_ETH_HLEN;
	if (s->frame_cap < 65536 + SLE_ETH_HLEN)
		s->frame_cap = 65536 + SLE_ETH_HLEN; /* reassembled input */
	s->frame = malloc(s->frame_cap);
	if (!s->obuf || !s->frame)
		goto fail;
	s->slirp = slirp_new(&cfg, &sle_callbacks, s);
	if (!s->slirp) {
		evpn_error(s->host, "slirp_new failed");
		goto fail;
	}
	return EVPN_OK;
fail:
	free(s->obuf);
	free(s->frame);
	s->obuf = s->frame = NULL;
	return EVPN_ERR_NOMEM;
}

void sle_stack_stop(struct sle *s)
{
	if (s->slirp) {
		slirp_cleanup(s->slirp);
		s->slirp = NULL;
	}
	s->on = 0;
	free(s->obuf);
	free(s->frame);
	s->obuf = s->frame = NULL;
}
