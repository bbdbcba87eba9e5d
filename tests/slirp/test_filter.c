// SPDX-License-Identifier: MIT
/* The egress destination filter shared by slirp and raw-socket: built-in
 * refusals, the pool's aliases (slirp) or routed pool (raw-socket),
 * allow/deny, the host's own addresses and the API's port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <unistd.h>

#include "filter.h"

/* the API on TCP 8000, as a host listener declares it */
static const struct sle_port api8000 = {SLE_PROTO_TCP, 8000};

/* pool 10.77.0.0/16, server 10.77.0.1 (also DNS) */
static struct sle_filter base(void)
{
	struct sle_filter f;

	memset(&f, 0, sizeof(f));
	f.pool = 0x0a4d0000;
	f.pool_mask = 0xffff0000;
	f.vhost = 0x0a4d0001;
	f.dns = 0x0a4d0001;
	return f;
}

static struct sle_pkt_info pkt(uint8_t proto, uint32_t dst, uint16_t dport)
{
	struct sle_pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.family = 4;
	pi.proto = proto;
	pi.first_frag = true;
	pi.src[0] = 10, pi.src[1] = 77, pi.src[2] = 0, pi.src[3] = 2;
	pi.dst[0] = (uint8_t)(dst >> 24);
	pi.dst[1] = (uint8_t)(dst >> 16);
	pi.dst[2] = (uint8_t)(dst >> 8);
	pi.dst[3] = (uint8_t)dst;
	pi.sport = 40000;
	pi.dport = dport;
	if (proto == SLE_PROTO_ICMP)
		pi.icmp_type = 8;
	return pi;
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

static void test_builtin(void **st)
{
	struct sle_filter f = base();
	struct sle_pkt_info p;

	p = pkt(SLE_PROTO_TCP, IP(93, 184, 216, 34), 443);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_UDP, IP(1, 1, 1, 1), 53);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_ICMP, IP(8, 8, 8, 8), 7);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_TCP, IP(169, 254, 169, 254), 80);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LINKLOCAL);
	p = pkt(SLE_PROTO_TCP, IP(169, 254, 170, 2), 80);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LINKLOCAL);
	p = pkt(SLE_PROTO_UDP, IP(169, 254, 169, 253), 53);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LINKLOCAL);
	p = pkt(SLE_PROTO_TCP, IP(127, 0, 0, 1), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LOOPBACK);
	p = pkt(SLE_PROTO_TCP, IP(127, 1, 2, 3), 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LOOPBACK);
	p = pkt(SLE_PROTO_UDP, IP(224, 0, 0, 251), 5353);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_SPECIAL);
	p = pkt(SLE_PROTO_UDP, IP(255, 255, 255, 255), 67);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_SPECIAL);
	p = pkt(SLE_PROTO_UDP, IP(0, 0, 0, 0), 67);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_SPECIAL);
	p = pkt(47 /* GRE */, IP(1, 2, 3, 4), 0);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_PROTO);
	p = pkt(SLE_PROTO_ICMP, IP(1, 2, 3, 4), 0);
	p.icmp_type = 13; /* timestamp: slirp does not carry it */
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_PROTO);
	/* without network.pool6 IPv6 is not carried */
	p = pkt(SLE_PROTO_TCP, IP(1, 2, 3, 4), 80);
	p.family = 6;
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_IPV6);
}

/* IPv6 with pool6 fd77::/64: slirp's address fd77::, DNS fd77::1 */
static struct sle_pkt_info pkt6(uint8_t proto, const char *dst, uint16_t dport)
{
	struct sle_pkt_info pi = pkt(proto, 0, dport);

	pi.family = 6;
	memset(pi.src, 0, 16);
	pi.src[0] = 0xfd, pi.src[1] = 0x77, pi.src[15] = 2;
	assert_int_equal(inet_pton(AF_INET6, dst, pi.dst), 1);
	if (proto == SLE_PROTO_ICMP6)
		pi.icmp_type = 128;
	return pi;
}

static void test_ipv6(void **st)
{
	struct sle_filter f = base();
	struct sle_pkt_info p;
	static const struct {
		uint8_t proto;
		const char *dst;
		uint16_t port;
		enum sle_reason want;
	} cases[] = {
		{SLE_PROTO_TCP, "2001:db8::80", 443, SLE_PASS},
		{SLE_PROTO_UDP, "2001:db8::53", 53, SLE_PASS},
		{SLE_PROTO_UDP, "fd77::1", 53, SLE_PASS}, /* the DNS address */
		{SLE_PROTO_TCP, "fd77::1", 53, SLE_PASS},
		{SLE_PROTO_ICMP6, "fd77::1", 0,
		 SLE_PASS}, /* answered by slirp */
		{SLE_PROTO_ICMP6, "fd77::", 0, SLE_PASS},
		{SLE_PROTO_TCP, "fd77::1", 8000, SLE_R_LOOPBACK},
		{SLE_PROTO_TCP, "fd77::", 22, SLE_R_LOOPBACK},
		{SLE_PROTO_TCP, "fd77::9", 22, SLE_R_SPECIAL}, /* a client */
		{SLE_PROTO_ICMP6, "2001:db8::1", 0, SLE_R_PROTO},
		{47, "2001:db8::1", 0, SLE_R_PROTO},
		{SLE_PROTO_TCP, "::1", 8000, SLE_R_LOOPBACK},
		{SLE_PROTO_TCP, "::", 80, SLE_R_SPECIAL},
		{SLE_PROTO_TCP, "::ffff:127.0.0.1", 80, SLE_R_SPECIAL},
		{SLE_PROTO_TCP, "::ffff:169.254.169.254", 80, SLE_R_SPECIAL},
		{SLE_PROTO_TCP, "::127.0.0.1", 80, SLE_R_SPECIAL},
		{SLE_PROTO_UDP, "ff02::fb", 5353, SLE_R_SPECIAL},
		{SLE_PROTO_TCP, "fe80::1", 80, SLE_R_LINKLOCAL},
		{SLE_PROTO_TCP, "fd00:ec2::254", 80, SLE_R_LINKLOCAL},
		{SLE_PROTO_TCP, "2001:db8:dead::1", 80, SLE_R_DENY},
		/* allow opens an exception in a built-in refusal */
		{SLE_PROTO_TCP, "fe80::443", 443, SLE_PASS},
	};
	struct sle_cidr deny, allow;

	(void)st;
	assert_true(sle_cidr_parse("2001:db8:dead::/48", &deny));
	assert_true(sle_cidr_parse("fe80::443/128", &allow));
	f.deny = &deny;
	f.n_deny = 1;
	f.allow = &allow;
	f.n_allow = 1;
	f.has6 = true;
	assert_true(sle_cidr_parse("fd77::/64", &f.pool6));
	assert_int_equal(inet_pton(AF_INET6, "fd77::1", f.dns6), 1);
	assert_int_equal(inet_pton(AF_INET6, "fd77::", f.vhost6), 1);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		p = pkt6(cases[i].proto, cases[i].dst, cases[i].port);
		if (sle_filter_check(&f, &p) != cases[i].want)
			fail_msg("%s port %u: %s, want %s", cases[i].dst,
				 cases[i].port,
				 sle_reason_name(sle_filter_check(&f, &p)),
				 sle_reason_name(cases[i].want));
	}
	/* allow_loopback opens the pool aliases' other ports, not echo */
	f.allow_loopback = true;
	p = pkt6(SLE_PROTO_TCP, "fd77::1", 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt6(SLE_PROTO_TCP, "::1", 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
}

static void test_pool_aliases(void **st)
{
	struct sle_filter f = base();
	struct sle_pkt_info p;

	p = pkt(SLE_PROTO_UDP, IP(10, 77, 0, 1), 53);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_TCP, IP(10, 77, 0, 1), 53);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_ICMP, IP(10, 77, 0, 1), 1);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	/* any other port of the server would be the host's 127.0.0.1 */
	p = pkt(SLE_PROTO_TCP, IP(10, 77, 0, 1), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LOOPBACK);
	/* other clients, too */
	p = pkt(SLE_PROTO_TCP, IP(10, 77, 3, 9), 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LOOPBACK);
	p = pkt(SLE_PROTO_ICMP, IP(10, 77, 3, 9), 1);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LOOPBACK);
	p = pkt(SLE_PROTO_UDP, IP(10, 77, 255, 255), 9);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_SPECIAL);
	/* allow_loopback opens the mapping, but ping stays local and the
	 * DNS address only ever answers DNS */
	f.allow_loopback = true;
	p = pkt(SLE_PROTO_TCP, IP(10, 77, 0, 1), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LOOPBACK);
	p = pkt(SLE_PROTO_TCP, IP(10, 77, 0, 9), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_TCP, IP(127, 0, 0, 1), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	/* a separate DNS address: the server then only answers ping */
	f = base();
	f.dns = IP(10, 77, 0, 3);
	p = pkt(SLE_PROTO_UDP, IP(10, 77, 0, 1), 53);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LOOPBACK);
	p = pkt(SLE_PROTO_UDP, IP(10, 77, 0, 3), 53);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_ICMP, IP(10, 77, 0, 1), 0);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
}

static void test_lists(void **st)
{
	struct sle_filter f = base();
	struct sle_cidr allow[1], deny[2];
	struct sle_pkt_info p;

	assert_true(sle_cidr_parse("169.254.170.2/32", &allow[0]));
	assert_true(sle_cidr_parse("192.0.2.0/24", &deny[0]));
	assert_true(sle_cidr_parse("198.51.100.7", &deny[1]));
	f.allow = allow;
	f.n_allow = 1;
	f.deny = deny;
	f.n_deny = 2;
	p = pkt(SLE_PROTO_TCP, IP(169, 254, 170, 2), 80);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_TCP, IP(169, 254, 169, 254), 80);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LINKLOCAL);
	p = pkt(SLE_PROTO_TCP, IP(192, 0, 2, 200), 80);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_DENY);
	p = pkt(SLE_PROTO_TCP, IP(198, 51, 100, 7), 80);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_DENY);
	p = pkt(SLE_PROTO_TCP, IP(198, 51, 100, 8), 80);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
}

/* The host's own addresses: 172.31.5.6, 192.0.2.9 and 2001:db8:5::6. */
static struct sle_hostaddr local_set(void)
{
	struct sle_hostaddr h = {.nl = -1};
	static const uint8_t fam[3] = {4, 4, 6};
	uint8_t a[3][16] = {{172, 31, 5, 6}, {192, 0, 2, 9}};

	assert_int_equal(inet_pton(AF_INET6, "2001:db8:5::6", a[2]), 1);
	assert_int_equal(sle_hostaddr_set(&h, 3, fam, (const uint8_t(*)[16])a),
			 0);
	return h;
}

static void test_host(void **st)
{
	struct sle_filter f = base();
	struct sle_hostaddr h = local_set();
	struct sle_cidr allow;
	struct sle_pkt_info p;

	(void)st;
	f.local = &h;
	f.protect = &api8000;
	f.n_protect = 1;
	/* every port and protocol of a host address */
	p = pkt(SLE_PROTO_TCP, IP(172, 31, 5, 6), 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_HOST);
	p = pkt(SLE_PROTO_UDP, IP(192, 0, 2, 9), 53);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_HOST);
	p = pkt(SLE_PROTO_ICMP, IP(192, 0, 2, 9), 1);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_HOST);
	p = pkt(SLE_PROTO_TCP, IP(192, 0, 2, 10), 22); /* a neighbour */
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	/* the API's port: "api", on every host address */
	p = pkt(SLE_PROTO_TCP, IP(172, 31, 5, 6), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	p = pkt(SLE_PROTO_TCP, IP(192, 0, 2, 9), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	p = pkt(SLE_PROTO_UDP, IP(192, 0, 2, 9), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_HOST);
	p = pkt(SLE_PROTO_TCP, IP(192, 0, 2, 10), 8000); /* elsewhere */
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	/* allow opens the address, never the API's port, nor a later
	 * fragment of TCP there (no port to see) */
	assert_true(sle_cidr_parse("172.31.5.6/32", &allow));
	f.allow = &allow;
	f.n_allow = 1;
	p = pkt(SLE_PROTO_TCP, IP(172, 31, 5, 6), 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_TCP, IP(172, 31, 5, 6), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	p = pkt(SLE_PROTO_TCP, IP(172, 31, 5, 6), 0);
	p.first_frag = false;
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	/* every declared listener is protected, by protocol: a second one
	 * (a stream listener on TCP 443, a UDP one on 9000) stays closed
	 * where allow opened the address; other ports of it open */
	{
		const struct sle_port two[] = {{SLE_PROTO_TCP, 8000},
					       {SLE_PROTO_TCP, 443},
					       {SLE_PROTO_UDP, 9000}};

		f.protect = two;
		f.n_protect = 3;
		p = pkt(SLE_PROTO_TCP, IP(172, 31, 5, 6), 443);
		assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
		p = pkt(SLE_PROTO_UDP, IP(172, 31, 5, 6), 9000);
		assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
		p = pkt(SLE_PROTO_TCP, IP(172, 31, 5, 6), 9000);
		assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
		p = pkt(SLE_PROTO_UDP, IP(172, 31, 5, 6), 443);
		assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
		p = pkt(SLE_PROTO_UDP, IP(172, 31, 5, 6), 0);
		p.first_frag = false; /* a UDP listener: no port to see */
		assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
		f.protect = &api8000;
		f.n_protect = 1;
	}
	/* the loopback (where a wildcard or 127.0.0.1 API listens) keeps
	 * the API's port closed even with allow_loopback, also through
	 * the pool addresses slirp maps to 127.0.0.1 */
	f.allow_loopback = true;
	p = pkt(SLE_PROTO_TCP, IP(127, 0, 0, 1), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	p = pkt(SLE_PROTO_TCP, IP(127, 0, 0, 1), 8001);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_TCP, IP(10, 77, 0, 9), 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	p = pkt(SLE_PROTO_TCP, IP(10, 77, 0, 9), 8001);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	/* IPv6 (with pool6) */
	f = base();
	f.local = &h;
	f.protect = &api8000;
	f.n_protect = 1;
	f.has6 = true;
	assert_true(sle_cidr_parse("fd77::/64", &f.pool6));
	p = pkt6(SLE_PROTO_TCP, "2001:db8:5::6", 443);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_HOST);
	p = pkt6(SLE_PROTO_TCP, "2001:db8:5::6", 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	p = pkt6(SLE_PROTO_TCP, "2001:db8:5::7", 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	/* the same bytes in the other family are not the host */
	p = pkt6(SLE_PROTO_TCP, "ac1f:506::", 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt(SLE_PROTO_TCP, IP(0x20, 0x01, 0x0d, 0xb8), 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	/* no API: the port is nothing special */
	f.n_protect = 0;
	p = pkt6(SLE_PROTO_TCP, "2001:db8:5::6", 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_HOST);
	sle_hostaddr_close(&h);
}

/* raw-socket: the kernel routes the pool; the device holds 10.77.0.1
 * (also a host address) and fd77::1. */
static void test_routed(void **st)
{
	struct sle_filter f = base();
	struct sle_hostaddr h = local_set();
	struct sle_cidr allow[2];
	struct sle_pkt_info p;
	static const struct {
		uint8_t proto;
		uint32_t dst;
		uint16_t port;
		enum sle_reason want, allowed;
	} cases[] = {
		{SLE_PROTO_TCP, IP(93, 184, 216, 34), 443, SLE_PASS, SLE_PASS},
		{47, IP(93, 184, 216, 34), 0, SLE_PASS, SLE_PASS}, /* GRE */
		{SLE_PROTO_ICMP, IP(10, 77, 0, 1), 1, SLE_PASS, SLE_PASS},
		{SLE_PROTO_UDP, IP(10, 77, 0, 1), 53, SLE_PASS, SLE_PASS},
		{SLE_PROTO_TCP, IP(10, 77, 0, 1), 53, SLE_PASS, SLE_PASS},
		{SLE_PROTO_TCP, IP(10, 77, 0, 1), 22, SLE_R_HOST, SLE_PASS},
		{SLE_PROTO_TCP, IP(10, 77, 0, 1), 8000, SLE_R_API, SLE_R_API},
		{SLE_PROTO_TCP, IP(10, 77, 3, 9), 22, SLE_R_CLIENT, SLE_PASS},
		{SLE_PROTO_ICMP, IP(10, 77, 3, 9), 1, SLE_R_CLIENT, SLE_PASS},
		{SLE_PROTO_UDP, IP(10, 77, 255, 255), 9, SLE_R_SPECIAL,
		 SLE_R_SPECIAL},
		{SLE_PROTO_UDP, IP(10, 77, 0, 0), 9, SLE_R_SPECIAL,
		 SLE_R_SPECIAL},
		{SLE_PROTO_TCP, IP(169, 254, 169, 254), 80, SLE_R_LINKLOCAL,
		 SLE_PASS},
		{SLE_PROTO_TCP, IP(127, 0, 0, 1), 22, SLE_R_LOOPBACK,
		 SLE_R_LOOPBACK},
		{SLE_PROTO_TCP, IP(172, 31, 5, 6), 22, SLE_R_HOST, SLE_R_HOST},
		{SLE_PROTO_TCP, IP(172, 31, 5, 6), 8000, SLE_R_API, SLE_R_API},
		{SLE_PROTO_UDP, IP(224, 0, 0, 251), 5353, SLE_R_SPECIAL,
		 SLE_R_SPECIAL},
	};

	(void)st;
	f.routed = true;
	f.local = &h;
	f.protect = &api8000;
	f.n_protect = 1;
	for (int round = 0; round < 2; round++) {
		if (round) {
			/* allow the pool (clients and the server's other
			 * ports) and the metadata address */
			assert_true(sle_cidr_parse("10.77.0.0/16", &allow[0]));
			assert_true(
				sle_cidr_parse("169.254.169.254", &allow[1]));
			f.allow = allow;
			f.n_allow = 2;
		}
		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			enum sle_reason want =
				round ? cases[i].allowed : cases[i].want;

			p = pkt(cases[i].proto, cases[i].dst, cases[i].port);
			if (sle_filter_check(&f, &p) != want)
				fail_msg("case %zu (allow: %d): %s, want %s", i,
					 round,
					 sle_reason_name(
						 sle_filter_check(&f, &p)),
					 sle_reason_name(want));
		}
	}
	/* deny wins over everything after it */
	assert_true(sle_cidr_parse("10.77.3.0/24", &allow[1]));
	f.deny = &allow[1];
	f.n_deny = 1;
	p = pkt(SLE_PROTO_TCP, IP(10, 77, 3, 9), 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_DENY);

	/* IPv6 */
	f = base();
	f.routed = true;
	f.local = &h;
	f.protect = &api8000;
	f.n_protect = 1;
	p = pkt6(SLE_PROTO_TCP, "2001:db8::80", 443);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_IPV6); /* no pool6 */
	f.has6 = true;
	assert_true(sle_cidr_parse("fd77::/64", &f.pool6));
	assert_int_equal(inet_pton(AF_INET6, "fd77::1", f.dns6), 1);
	memcpy(f.vhost6, f.dns6, 16);
	p = pkt6(SLE_PROTO_TCP, "2001:db8::80", 443);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt6(SLE_PROTO_ICMP6, "2001:db8::80", 0); /* the kernel routes it */
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt6(SLE_PROTO_ICMP6, "fd77::1", 0);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt6(SLE_PROTO_UDP, "fd77::1", 53);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt6(SLE_PROTO_TCP, "fd77::1", 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_HOST);
	p = pkt6(SLE_PROTO_TCP, "fd77::1", 8000);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	p = pkt6(SLE_PROTO_TCP, "fd77::9", 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_CLIENT);
	p = pkt6(SLE_PROTO_TCP, "fd77::", 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_SPECIAL);
	p = pkt6(SLE_PROTO_TCP, "fd00:ec2::254", 80);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LINKLOCAL);
	p = pkt6(SLE_PROTO_TCP, "::1", 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_LOOPBACK);
	p = pkt6(SLE_PROTO_TCP, "2001:db8:5::6", 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_HOST);
	/* an extension header hides the port: allowed host address or
	 * not, it may be the API */
	assert_true(sle_cidr_parse("2001:db8:5::6/128", &allow[0]));
	f.allow = allow;
	f.n_allow = 1;
	p = pkt6(SLE_PROTO_TCP, "2001:db8:5::6", 22);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	p = pkt6(60, "2001:db8:5::6", 0);
	assert_int_equal(sle_filter_check(&f, &p), SLE_R_API);
	p = pkt6(60, "2001:db8::80", 0);
	assert_int_equal(sle_filter_check(&f, &p), SLE_PASS);
	sle_hostaddr_close(&h);
}

/* The set itself: no cap, duplicates folded, both families apart, and a
 * real read of this machine's addresses finds the loopback. */
static void test_hostaddr(void **st)
{
	enum { N = 5000 };
	struct sle_hostaddr h = {.nl = -1};
	static uint8_t fam[N], a[N][16];
	uint8_t q[16] = {0};

	(void)st;
	for (int i = 0; i < N; i++) {
		fam[i] = i % 2 ? 4 : 6;
		a[i][0] = 10;
		a[i][1] = (uint8_t)(i >> 8);
		a[i][2] = (uint8_t)i;
		a[i][3] = 1;
		if (fam[i] == 6)
			a[i][15] = 7;
	}
	memcpy(a[N - 1], a[N - 3], 16); /* a duplicate */
	assert_int_equal(sle_hostaddr_set(&h, N, fam, (const uint8_t(*)[16])a),
			 0);
	assert_int_equal(h.n4, N / 2 - 1);
	assert_int_equal(h.n6, N / 2);
	for (int i = 0; i < N; i++)
		assert_true(sle_hostaddr_has(&h, fam[i], a[i]));
	memcpy(q, a[1], 4); /* an IPv4 address asked as IPv6 */
	assert_false(sle_hostaddr_has(&h, 6, q));
	q[0] = 11;
	assert_false(sle_hostaddr_has(&h, 4, q));
	assert_false(sle_hostaddr_has(NULL, 4, q));
	assert_false(sle_hostaddr_has(&h, 5, a[0]));
	/* empty */
	assert_int_equal(sle_hostaddr_set(&h, 0, fam, NULL), 0);
	assert_false(sle_hostaddr_has(&h, 4, a[1]));
	sle_hostaddr_close(&h);

	/* this machine: 127.0.0.1 is on lo, the set is read again when
	 * asked (a closed netlink socket means "poll") */
	assert_int_equal(sle_hostaddr_open(&h), 0);
	q[0] = 127, q[1] = 0, q[2] = 0, q[3] = 1;
	assert_true(sle_hostaddr_has(&h, 4, q));
	assert_int_equal(h.reloads, 1);
	sle_hostaddr_refresh(&h, 0); /* no event: nothing read */
	assert_int_equal(h.reloads, 1);
	if (h.nl >= 0)
		close(h.nl);
	h.nl = -1;
	sle_hostaddr_refresh(&h, 100);
	assert_int_equal(h.reloads, 2);
	sle_hostaddr_refresh(&h, 100.5); /* within SLE_HOSTADDR_POLL */
	assert_int_equal(h.reloads, 2);
	sle_hostaddr_refresh(&h, 101.5);
	assert_int_equal(h.reloads, 3);
	assert_true(sle_hostaddr_has(&h, 4, q));
	sle_hostaddr_close(&h);
}

static void test_cidr(void **st)
{
	struct sle_cidr c;
	uint8_t a[16] = {10, 1, 2, 3};

	assert_true(sle_cidr_parse("10.0.0.0/8", &c));
	assert_true(sle_cidr_match(&c, 4, a));
	assert_true(sle_cidr_parse("10.1.2.0/23", &c));
	assert_true(sle_cidr_match(&c, 4, a));
	assert_true(sle_cidr_parse("10.1.4.0/23", &c));
	assert_false(sle_cidr_match(&c, 4, a));
	assert_true(sle_cidr_parse("0.0.0.0/0", &c));
	assert_true(sle_cidr_match(&c, 4, a));
	assert_false(sle_cidr_match(&c, 6, a));
	assert_true(sle_cidr_parse("fd00::/8", &c));
	assert_int_equal(c.family, 6);
	assert_false(sle_cidr_parse("10.0.0.0/33", &c));
	assert_false(sle_cidr_parse("10.0.0/8", &c));
	assert_false(sle_cidr_parse("10.0.0.0/", &c));
	assert_false(sle_cidr_parse("", &c));
	assert_string_equal(sle_reason_name(SLE_R_LINKLOCAL), "link_local");
	assert_string_equal(sle_reason_name(SLE_R_HOST), "host");
	assert_string_equal(sle_reason_name(SLE_R_CLIENT), "client");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin),
		cmocka_unit_test(test_pool_aliases),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_host),
		cmocka_unit_test(test_routed),
		cmocka_unit_test(test_hostaddr),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
