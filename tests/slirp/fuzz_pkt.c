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
	if (mode & 0x20)
		sle_flows_expire(&flows, now + 1000, expired, NULL);
	free(p);
	return 0;
}
