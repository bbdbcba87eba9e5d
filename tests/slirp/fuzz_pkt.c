// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the egress packet code (slirp's, and the filter
 * shared with the raw-socket egress). Whatever a client
 * sends arrives here after decryption: it goes through the parser, the
 * filter, the flow table, the refusal builder and the pure-ACK rules, as
 * in stack.c; whatever slirp sends back (Ethernet frames) goes through the
 * ARP and NDP answers. Beyond "no crash, no sanitizer report", each answer
 * built must itself parse as the packet it claims to be.
 *
 * Input: one mode byte, then the packet or frame.
 *   bit 7: the bytes are a frame from slirp (ARP/NDP), else a client packet
 *   bit 6: the packet is also seen as slirp's answer (sle_flows_server)
 *   bit 5: expire the flow table afterwards
 *   bit 4: also check the packet as the raw-socket egress would (routed)
 *   bits 0-3: seconds the clock moves before this packet
 * Every TCP packet from a client also drives the TCP relay's state machine
 * (tcp.h) against a fake host socket: SYNs open connections (the host
 * connect completes at once), other segments go to their connection or
 * are answered with a RST; then, by bits 0-1 of the mode byte, the host
 * sends data, closes, or the retransmission timer fires. Every segment the
 * relay emits must parse, carry right checksums and go to the client.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ackthin.h"
#include "eth.h"
#include "filter.h"
#include "hostaddr.h"
#include "flows.h"
#include "pkt.h"
#include "reject.h"
#include "tcp.h"

/* the API on TCP 8000, as a host listener declares it */
static const struct sle_port api8000 = {SLE_PROTO_TCP, 8000};

#define must(c)                  \
	do {                     \
		if (!(c))        \
			abort(); \
	} while (0)

static struct sle_filter filt;
static struct sle_flows flows;
static struct sle_cidr deny, allow;
static struct sle_hostaddr local;
static double now;

/* pool 10.77.0.0/16 and fd77::/64 (slirp 10.77.0.1 / fd77::, DNS the
 * same / fd77::1), one deny and one allow CIDR, host addresses of both
 * families and an API port: every branch of the filter is reachable
 * (mode bit 4 checks the packet as the raw-socket egress does too). */
static void setup(void)
{
	static const uint8_t fam[3] = {4, 4, 6};
	uint8_t a[3][16] = {{10, 0, 0, 1}, {192, 0, 2, 9}};

	filt.pool = 0x0a4d0000;
	filt.pool_mask = 0xffff0000;
	filt.vhost = filt.dns = 0x0a4d0001;
	filt.has6 = true;
	must(sle_cidr_parse("fd77::/64", &filt.pool6));
	must(inet_pton(AF_INET6, "fd77::1", filt.dns6) == 1);
	must(inet_pton(AF_INET6, "fd77::", filt.vhost6) == 1);
	must(sle_cidr_parse("198.51.100.0/24", &deny));
	must(sle_cidr_parse("169.254.1.0/24", &allow));
	filt.deny = &deny;
	filt.n_deny = 1;
	filt.allow = &allow;
	filt.n_allow = 1;
	must(inet_pton(AF_INET6, "2001:db8::1", a[2]) == 1);
	local.nl = -1;
	must(sle_hostaddr_set(&local, 3, fam, (const uint8_t(*)[16])a) == 0);
	filt.local = &local;
	filt.protect = &api8000;
	filt.n_protect = 1;
	/* small limits, so refusals for the limits happen too */
	must(sle_flows_init(&flows, 64, 8, 16 * SLE_FLOW_TCP_COST, 30, 10) ==
	     0);
	flows.v6_base = filt.pool;
	memcpy(flows.pool6, filt.pool6.addr, 16);
}

/* ---------------------------------------------------- the TCP relay */

static struct sle_tcp relay;
static struct sle_flows rflows;
struct fsock {
	uint32_t rq_len; /* bytes the host sent, not yet acknowledged */
	bool eof;
};
static struct {
	uint32_t space;
	const uint8_t *want_dst; /* emitted packets go there */
	size_t want_len;
} hs;

static double r_now(void *a)
{
	return now;
}
static int r_connect(void *a, struct sle_tcp_conn *c)
{
	if (c->dport == 9)
		return -111; /* port 9: refused at once */
	c->sock = calloc(1, sizeof(struct fsock));
	return c->sock ? 0 : -12;
}
static ssize_t r_write(void *a, struct sle_tcp_conn *c, const uint8_t *p,
		       size_t n)
{
	if (n > hs.space)
		n = hs.space;
	return n ? (ssize_t)n : -11;
}
static ssize_t r_peek(void *a, struct sle_tcp_conn *c, uint32_t off,
		      uint8_t *buf, size_t n)
{
	struct fsock *k = c->sock;

	if (off >= k->rq_len)
		return k->eof ? 0 : -11;
	if (n > k->rq_len - off)
		n = k->rq_len - off;
	memset(buf, 'z', n);
	return (ssize_t)n;
}
static void r_discard(void *a, struct sle_tcp_conn *c, uint32_t n)
{
	struct fsock *k = c->sock;

	must(n <= k->rq_len);
	k->rq_len -= n;
}
static void r_shutdown(void *a, struct sle_tcp_conn *c)
{
}
static uint32_t r_space(void *a, struct sle_tcp_conn *c)
{
	return hs.space;
}
static void r_watch(void *a, struct sle_tcp_conn *c, bool rd, bool wr)
{
}
static void r_timer(void *a, struct sle_tcp_conn *c, double after)
{
}
static void r_release(void *a, struct sle_tcp_conn *c, bool rst)
{
	struct sle_flow *fl = c->owner;

	free(c->sock);
	c->sock = NULL;
	if (fl) {
		fl->owner = NULL;
		sle_flows_del(&rflows, fl);
		c->owner = NULL;
	}
}
static void r_emit(void *a, const uint8_t *ip, size_t len)
{
	struct sle_pkt_info pi;
	uint32_t l4;

	must(sle_pkt_parse(ip, len, &pi));
	must(pi.proto == SLE_PROTO_TCP && pi.total_len == len);
	l4 = pi.total_len - pi.l3_len;
	if (pi.family == 4)
		must(sle_csum_fold(sle_csum_add(0, ip, 20)) == 0);
	must(sle_csum_fold(
		     sle_csum_add(sle_csum_pseudo(pi.family, pi.src, pi.dst,
						  SLE_PROTO_TCP, l4),
				  ip + pi.l3_len, l4)) == 0);
	if (hs.want_dst)
		must(!memcmp(pi.dst, hs.want_dst, hs.want_len));
}

static const struct sle_tcp_env renv = {
	.now = r_now,
	.connect = r_connect,
	.write = r_write,
	.peek = r_peek,
	.discard = r_discard,
	.shutdown_wr = r_shutdown,
	.sndspace = r_space,
	.watch = r_watch,
	.timer = r_timer,
	.wupd_timer = r_timer,
	.release = r_release,
	.emit = r_emit,
};

static void relay_setup(void)
{
	must(sle_flows_init(&rflows, 64, 8, 0, 30, 10) == 0);
	rflows.v6_base = filt.pool;
	memcpy(rflows.pool6, filt.pool6.addr, 16);
	must(sle_tcp_init(&relay, &renv, 1420, 1 << 20) == 0);
	relay.base = &rflows.mem;
	hs.space = 200000;
}

static void relay_packet(const uint8_t *p, const struct sle_pkt_info *pi,
			 uint8_t mode)
{
	struct sle_flow *fl;
	struct sle_tcp_conn *c = NULL;

	if (pi->proto != SLE_PROTO_TCP || !pi->first_frag)
		return;
	hs.want_dst = pi->src;
	hs.want_len = pi->family == 6 ? 16 : 4;
	fl = sle_flows_find(&rflows, pi);
	if (fl && fl->owner) {
		c = fl->owner;
		sle_tcp_input(&relay, c, p, pi);
	} else if ((pi->tcp_flags & (SLE_TCP_SYN | SLE_TCP_ACK | SLE_TCP_RST |
				     SLE_TCP_FIN)) == SLE_TCP_SYN) {
		if (fl)
			sle_flows_del(&rflows, fl);
		if (sle_flows_client_get(&rflows, pi, now, &fl) == SLE_PASS &&
		    fl) {
			c = sle_tcp_open(&relay, p, pi);
			if (c) {
				c->owner = fl;
				fl->owner = c;
				sle_tcp_sock_event(&relay, c, false, true, 0);
			} else {
				sle_flows_del(&rflows, fl);
			}
		}
	} else {
		sle_tcp_no_conn(&relay, p, pi);
	}
	if (c && c->state != SLE_TCP_DEAD) {
		hs.want_dst = c->cli; /* host events answer c's client */
		switch (mode & 3) {
		case 1:
			((struct fsock *)c->sock)->rq_len +=
				4000 + (mode & 0x0c) * 1000;
			sle_tcp_sock_event(&relay, c, true, false, 0);
			break;
		case 2:
			((struct fsock *)c->sock)->eof = true;
			sle_tcp_sock_event(&relay, c, true, false, 0);
			break;
		case 3: sle_tcp_timeout(&relay, c); break;
		default: break;
		}
	}
	if (mode & 0x20)
		sle_tcp_turn(&relay);
	sle_tcp_flush(&relay);
	hs.want_dst = NULL;
}

static void relay_expired(const struct sle_flow *fl, void *arg)
{
	if (fl->owner)
		sle_tcp_expire(&relay, fl->owner);
}

static void expired(const struct sle_flow *fl, void *arg)
{
	uint8_t cli[16];

	(void)arg;
	if (fl->k.family == 6)
		sle_flow_client6(&flows, fl, cli);
}

static void frame_from_slirp(const uint8_t *f, size_t len)
{
	uint8_t reply[SLE_NA_FRAME_LEN + SLE_ARP_FRAME_LEN], target[4];
	struct sle_pkt_info pi;

	if (len >= SLE_ETH_HLEN)
		(void)sle_eth_type(f);
	if (sle_arp_answer(f, len, reply, target))
		must(sle_eth_type(reply) == SLE_ETH_P_ARP);
	if (sle_ndp_answer(f, len, reply)) {
		must(sle_eth_type(reply) == SLE_ETH_P_IPV6);
		must(sle_pkt_parse(reply + SLE_ETH_HLEN,
				   SLE_NA_FRAME_LEN - SLE_ETH_HLEN, &pi));
		must(pi.family == 6 && pi.proto == SLE_PROTO_ICMP6);
	}
}

static void packet_from_client(const uint8_t *p, size_t len, uint8_t mode)
{
	struct sle_pkt_info pi, ri;
	struct sle_ack a;
	enum sle_reason r;

	if (!sle_pkt_parse(p, len, &pi))
		return;
	must(pi.total_len <= len && pi.l3_len <= pi.total_len);
	if (mode & 0x10) {
		struct sle_filter routed = filt;

		routed.routed = true;
		memcpy(routed.vhost6, routed.dns6, 16);
		must(sle_reason_name(sle_filter_check(&routed, &pi)) != NULL);
	}
	r = sle_filter_check(&filt, &pi);
	must(sle_reason_name(r) != NULL);
	if (r == SLE_PASS)
		r = sle_flows_client(&flows, &pi, now);
	if (r != SLE_PASS) {
		uint8_t out[SLE_REJECT_MAX];
		size_t n = sle_reject_build(p, &pi, out);

		must(n <= SLE_REJECT_MAX);
		if (n) {
			/* the refusal goes back to the packet's source */
			must(sle_pkt_parse(out, n, &ri));
			must(ri.family == pi.family);
			must(!memcmp(ri.dst, pi.src, pi.family == 6 ? 16 : 4));
		}
	}
	if (mode & 0x40)
		sle_flows_server(&flows, &pi, now);
	relay_packet(p, &pi, mode);
	if (sle_ack_pure(p, len, &pi, &a)) {
		must(pi.proto == SLE_PROTO_TCP && pi.payload_len == 0);
		must(a.family == pi.family && a.ack == pi.tcp_ack);
		must(!sle_ack_supersedes(&a, &a)); /* never its own dupe */
	} else {
		must(a.family == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	uint8_t mode, *p;

	if (!ready) {
		setup();
		relay_setup();
		ready = true;
	}
	if (size < 1)
		return 0;
	mode = data[0];
	/* an exact-size copy: ASan sees any read past the end */
	p = malloc(size - 1 ? size - 1 : 1);
	if (!p)
		return 0;
	memcpy(p, data + 1, size - 1);
	now += mode & 0x0f;
	if (mode & 0x80)
		frame_from_slirp(p, size - 1);
	else
		packet_from_client(p, size - 1, mode);
	if (mode & 0x20) {
		sle_flows_expire(&flows, now + 1000, expired, NULL);
		sle_flows_expire(&rflows, now + 1000, relay_expired, NULL);
		sle_tcp_flush(&relay);
	}
	free(p);
	return 0;
}
