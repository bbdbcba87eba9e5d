// SPDX-License-Identifier: MIT
/* Packet parsing, refusals (RST / ICMP prohibited), ARP answers and the
 * pure-ACK merge rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ackthin.h"
#include "eth.h"
#include "pkt.h"
#include "reject.h"

static const uint8_t cli[4] = {10, 77, 0, 2}, srv[4] = {169, 254, 169, 254};

static void test_tcp_syn_rst(void **st)
{
	uint8_t syn[40], rst[SLE_REJECT_MAX];
	struct sle_pkt_info pi, ri;
	size_t n;

	/* A SYN from the client, built with the segment writer. */
	sle_tcp_segment(syn, 4, cli, 40000, srv, 80, 1000, 0, SLE_TCP_SYN);
	assert_true(sle_pkt_parse(syn, sizeof(syn), &pi));
	assert_int_equal(pi.family, 4);
	assert_int_equal(pi.proto, SLE_PROTO_TCP);
	assert_int_equal(pi.sport, 40000);
	assert_int_equal(pi.dport, 80);
	assert_int_equal(pi.tcp_seq, 1000);
	assert_int_equal(pi.tcp_flags, SLE_TCP_SYN);
	assert_int_equal(pi.payload_len, 0);
	/* its checksums are right: IP header and TCP with pseudo header */
	assert_int_equal(sle_csum_fold(sle_csum_add(0, syn, 20)), 0);
	assert_int_equal(
		sle_csum_fold(sle_csum_add(
			sle_csum_pseudo(4, cli, srv, SLE_PROTO_TCP, 20),
			syn + 20, 20)),
		0);

	n = sle_reject_build(syn, &pi, rst);
	assert_int_equal(n, 40);
	assert_true(sle_pkt_parse(rst, n, &ri));
	assert_memory_equal(ri.src, srv, 4);
	assert_memory_equal(ri.dst, cli, 4);
	assert_int_equal(ri.sport, 80);
	assert_int_equal(ri.dport, 40000);
	assert_int_equal(ri.tcp_flags, SLE_TCP_RST | SLE_TCP_ACK);
	assert_int_equal(ri.tcp_ack, 1001);
	assert_int_equal(ri.tcp_seq, 0);
	assert_int_equal(sle_csum_fold(sle_csum_add(0, rst, 20)), 0);
	assert_int_equal(
		sle_csum_fold(sle_csum_add(
			sle_csum_pseudo(4, srv, cli, SLE_PROTO_TCP, 20),
			rst + 20, 20)),
		0);

	/* a segment with ACK: RST takes its sequence from the ACK */
	sle_tcp_segment(syn, 4, cli, 40000, srv, 80, 5, 777, SLE_TCP_ACK);
	assert_true(sle_pkt_parse(syn, sizeof(syn), &pi));
	n = sle_reject_build(syn, &pi, rst);
	assert_true(sle_pkt_parse(rst, n, &ri));
	assert_int_equal(ri.tcp_flags, SLE_TCP_RST);
	assert_int_equal(ri.tcp_seq, 777);

	/* never a RST for a RST */
	sle_tcp_segment(syn, 4, cli, 40000, srv, 80, 5, 0, SLE_TCP_RST);
	assert_true(sle_pkt_parse(syn, sizeof(syn), &pi));
	assert_int_equal(sle_reject_build(syn, &pi, rst), 0);
}

/* UDP datagram 10.77.0.2:5000 -> 169.254.169.254:53 with 4 bytes */
static size_t udp_pkt(uint8_t *p)
{
	static const uint8_t hdr[] = {
		0x45, 0,  0,  32, 0x12, 0x34, 0,   0,	64,  17,   0,
		0,    10, 77, 0,  2,	169,  254, 169, 254, 0x13, 0x88,
		0,    53, 0,  12, 0,	0,    'a', 'b', 'c', 'd'};

	memcpy(p, hdr, sizeof(hdr));
	return sizeof(hdr);
}

static void test_udp_icmp_prohibited(void **st)
{
	uint8_t p[64], out[SLE_REJECT_MAX];
	struct sle_pkt_info pi, ri;
	size_t len = udp_pkt(p), n;

	assert_true(sle_pkt_parse(p, len, &pi));
	assert_int_equal(pi.proto, SLE_PROTO_UDP);
	assert_int_equal(pi.sport, 5000);
	assert_int_equal(pi.dport, 53);
	assert_int_equal(pi.payload_len, 4);
	n = sle_reject_build(p, &pi, out);
	assert_int_equal(n, 20 + 8 + 28);
	assert_true(sle_pkt_parse(out, n, &ri));
	assert_int_equal(ri.proto, SLE_PROTO_ICMP);
	assert_int_equal(ri.icmp_type, 3);
	assert_int_equal(out[21], 13); /* admin prohibited */
	assert_memory_equal(ri.src, srv, 4);
	assert_memory_equal(ri.dst, cli, 4);
	/* quotes the original header + 8 bytes */
	assert_memory_equal(out + 28, p, 28);
	assert_int_equal(sle_csum_fold(sle_csum_add(0, out, 20)), 0);
	assert_int_equal(sle_csum_fold(sle_csum_add(0, out + 20, n - 20)), 0);

	/* no ICMP error about an ICMP error */
	assert_int_equal(sle_reject_build(out, &ri, p), 0);
}

static void test_parse_rejects(void **st)
{
	uint8_t p[64];
	struct sle_pkt_info pi;
	size_t len = udp_pkt(p);

	assert_false(sle_pkt_parse(p, 19, &pi));
	assert_false(sle_pkt_parse(p, len - 1, &pi)); /* total length > len */
	p[0] = 0x44;				      /* IHL 16 < 20 */
	assert_false(sle_pkt_parse(p, len, &pi));
	p[0] = 0x55; /* version 5 */
	assert_false(sle_pkt_parse(p, len, &pi));
	udp_pkt(p);
	p[6] = 0x00;
	p[7] = 0x10; /* a later fragment: no ports */
	assert_true(sle_pkt_parse(p, len, &pi));
	assert_false(pi.first_frag);
	assert_int_equal(pi.dport, 0);
}

static void test_arp(void **st)
{
	/* slirp's request: who has 10.77.0.2? tell 10.77.0.1 */
	uint8_t req[SLE_ARP_FRAME_LEN] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x55, 10, 77, 0,
		1,    0x08, 0x06, 0,	1,    0x08, 0,	  6,	4,  0,	1,
		0x52, 0x55, 10,	  77,	0,    1,    10,	  77,	0,  1,	0,
		0,    0,    0,	  0,	0,    10,   77,	  0,	2};
	uint8_t rep[SLE_ARP_FRAME_LEN], ip[4], mac[6];
	static const uint8_t slirp_mac[6] = {0x52, 0x55, 10, 77, 0, 1};

	assert_true(sle_arp_answer(req, sizeof(req), rep, ip));
	assert_memory_equal(ip, cli, 4);
	sle_fake_mac(cli, mac);
	assert_int_equal(mac[0] & 3, 2); /* locally administered unicast */
	assert_memory_equal(rep, slirp_mac, 6);
	assert_memory_equal(rep + 6, mac, 6);
	assert_int_equal(sle_eth_type(rep), SLE_ETH_P_ARP);
	assert_int_equal(rep[21], 2); /* reply */
	assert_memory_equal(rep + 22, mac, 6);
	assert_memory_equal(rep + 28, cli, 4);
	assert_memory_equal(rep + 32, slirp_mac, 6);
	assert_memory_equal(rep + 38, req + 28, 4);
	/* a reply is not answered, nor a short frame */
	assert_false(sle_arp_answer(rep, sizeof(rep), req, ip));
	assert_false(sle_arp_answer(req, 30, rep, ip));
}

/* IPv6: a refused SYN gets a RST, a refused UDP datagram an ICMPv6
 * "administratively prohibited", both with valid checksums. */
static void test_ipv6_refusals(void **st)
{
	static const uint8_t c6[16] = {0xfd, 0x77, [15] = 2},
			     s6[16] = {0xfd, 0x00, 0x0e, 0xc2, [15] = 0x54};
	uint8_t syn[60], out[SLE_REJECT_MAX], udp[60];
	struct sle_pkt_info pi, ri;
	size_t n;

	(void)st;
	assert_int_equal(sle_tcp_segment(syn, 6, c6, 40000, s6, 80, 1000, 0,
					 SLE_TCP_SYN),
			 60);
	assert_true(sle_pkt_parse(syn, sizeof(syn), &pi));
	assert_int_equal(pi.family, 6);
	assert_int_equal(pi.proto, SLE_PROTO_TCP);
	assert_int_equal(sle_csum_fold(sle_csum_add(
				 sle_csum_pseudo(6, c6, s6, SLE_PROTO_TCP, 20),
				 syn + 40, 20)),
			 0);
	n = sle_reject_build(syn, &pi, out);
	assert_int_equal(n, 60);
	assert_true(sle_pkt_parse(out, n, &ri));
	assert_memory_equal(ri.src, s6, 16);
	assert_memory_equal(ri.dst, c6, 16);
	assert_int_equal(ri.tcp_flags, SLE_TCP_RST | SLE_TCP_ACK);
	assert_int_equal(ri.tcp_ack, 1001);
	assert_int_equal(sle_csum_fold(sle_csum_add(
				 sle_csum_pseudo(6, s6, c6, SLE_PROTO_TCP, 20),
				 out + 40, 20)),
			 0);

	/* UDP fd77::2:5000 -> fd00:ec2::54:53, 4 bytes */
	memset(udp, 0, sizeof(udp));
	udp[0] = 0x60;
	udp[5] = 12;
	udp[6] = SLE_PROTO_UDP;
	udp[7] = 64;
	memcpy(udp + 8, c6, 16);
	memcpy(udp + 24, s6, 16);
	udp[40] = 0x13, udp[41] = 0x88, udp[43] = 53, udp[45] = 12;
	memcpy(udp + 48, "abcd", 4);
	assert_true(sle_pkt_parse(udp, 52, &pi));
	n = sle_reject_build(udp, &pi, out);
	assert_int_equal(n, 48 + 52);
	assert_true(sle_pkt_parse(out, n, &ri));
	assert_int_equal(ri.proto, SLE_PROTO_ICMP6);
	assert_int_equal(ri.icmp_type, 1);
	assert_int_equal(out[41], 1); /* administratively prohibited */
	assert_memory_equal(out + 48, udp, 52);
	assert_int_equal(sle_csum_fold(sle_csum_add(
				 sle_csum_pseudo(6, s6, c6, SLE_PROTO_ICMP6,
						 (uint32_t)(n - 40)),
				 out + 40, n - 40)),
			 0);
	/* no ICMPv6 error about an ICMPv6 error */
	assert_int_equal(sle_reject_build(out, &ri, udp), 0);
}

/* slirp's neighbour solicitation for fd77::2 gets an advertisement from
 * the fake MAC of that address, which slirp accepts (checksum, fields). */
static void test_ndp(void **st)
{
	static const uint8_t slirp_mac[6] = {0x52, 0x55, 0x0a, 0x4d, 0, 1};
	uint8_t ns[SLE_ETH_HLEN + 40 + 32], na[SLE_NA_FRAME_LEN], mac[6];
	uint8_t *ip = ns + SLE_ETH_HLEN, *icmp = ip + 40;
	static const uint8_t target[16] = {0xfd, 0x77, [15] = 2};
	static const uint8_t vhost6[16] = {0xfd, 0x77};
	uint32_t sum;
	uint16_t c;

	(void)st;
	memset(ns, 0, sizeof(ns));
	sle_eth_header(ns, (const uint8_t[6]){0x33, 0x33, 0xff, 0, 0, 2},
		       slirp_mac, SLE_ETH_P_IPV6);
	ip[0] = 0x60;
	ip[5] = 32;
	ip[6] = SLE_PROTO_ICMP6;
	ip[7] = 255;
	memcpy(ip + 8, vhost6, 16);
	ip[24] = 0xff, ip[25] = 0x02, ip[35] = 1, ip[36] = 0xff, ip[39] = 2;
	icmp[0] = 135;
	memcpy(icmp + 8, target, 16);
	icmp[24] = 1, icmp[25] = 1;
	memcpy(icmp + 26, slirp_mac, 6);
	assert_true(sle_ndp_answer(ns, sizeof(ns), na));
	sle_fake_mac(target + 12, mac);
	assert_memory_equal(na, slirp_mac, 6);
	assert_memory_equal(na + 6, mac, 6);
	assert_int_equal(sle_eth_type(na), SLE_ETH_P_IPV6);
	ip = na + SLE_ETH_HLEN;
	icmp = ip + 40;
	assert_int_equal(ip[7], 255);
	assert_memory_equal(ip + 8, target, 16);
	assert_memory_equal(ip + 24, vhost6, 16);
	assert_int_equal(icmp[0], 136);
	assert_int_equal(icmp[4], 0x60); /* solicited + override */
	assert_memory_equal(icmp + 8, target, 16);
	assert_int_equal(icmp[24], 2);
	assert_memory_equal(icmp + 26, mac, 6);
	sum = sle_csum_pseudo(6, ip + 8, ip + 24, SLE_PROTO_ICMP6, 32);
	c = sle_csum_fold(sle_csum_add(sum, icmp, 32));
	assert_int_equal(c, 0);
	/* an advertisement, a short frame, hop limit < 255: not answered */
	assert_false(sle_ndp_answer(na, sizeof(na), ns));
	ns[SLE_ETH_HLEN + 7] = 64;
	assert_false(sle_ndp_answer(ns, sizeof(ns), na));
	ns[SLE_ETH_HLEN + 7] = 255;
	assert_false(sle_ndp_answer(ns, SLE_ETH_HLEN + 50, na));
	/* duplicate address detection (from ::) is no question about a
	 * client */
	memset(ns + SLE_ETH_HLEN + 8, 0, 16);
	assert_false(sle_ndp_answer(ns, sizeof(ns), na));
}

/* ack: an ACK from srv:80 to cli:40000 acknowledging n, built with the
 * segment writer; pure reports whether it may be merged. */
static bool pure_ack(uint8_t *seg, int family, uint32_t n, uint8_t flags,
		     struct sle_ack *a)
{
	static const uint8_t c6[16] = {0xfd, 0x77, [15] = 2};
	static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	struct sle_pkt_info pi;
	size_t len;

	len = family == 4
		      ? sle_tcp_segment(seg, 4, srv, 80, cli, 40000, 7, n,
					flags)
		      : sle_tcp_segment(seg, 6, s6, 80, c6, 40000, 7, n, flags);
	assert_true(sle_pkt_parse(seg, len, &pi));
	return sle_ack_pure(seg, len, &pi, a);
}

static void test_ack_merge(void **st)
{
	uint8_t seg[80] = {0};
	struct sle_ack a, b, c, x;
	struct sle_pkt_info pi;

	(void)st;
	assert_true(pure_ack(seg, 4, 1000, SLE_TCP_ACK, &a));
	assert_true(pure_ack(seg, 4, 2000, SLE_TCP_ACK, &b));
	/* a later, higher acknowledgement makes the earlier one redundant */
	assert_true(sle_ack_supersedes(&b, &a));
	assert_false(sle_ack_supersedes(&a, &b));
	/* a duplicate ACK is never merged: it signals loss */
	assert_true(pure_ack(seg, 4, 2000, SLE_TCP_ACK, &c));
	assert_false(sle_ack_supersedes(&c, &b));
	/* sequence space wraps */
	assert_true(pure_ack(seg, 4, 0xfffffff0u, SLE_TCP_ACK, &a));
	assert_true(pure_ack(seg, 4, 0x10, SLE_TCP_ACK, &b));
	assert_true(sle_ack_supersedes(&b, &a));
	/* another connection, or the other direction, is not merged */
	x = b;
	x.dport = 40001;
	assert_false(sle_ack_supersedes(&x, &a));
	x = b;
	memcpy(x.src, a.dst, sizeof(x.src));
	memcpy(x.dst, a.src, sizeof(x.dst));
	assert_false(sle_ack_supersedes(&x, &a));
	/* IPv6 pure ACKs merge among themselves, never with IPv4 */
	assert_true(pure_ack(seg, 6, 0x20, SLE_TCP_ACK, &c));
	assert_int_equal(c.family, 6);
	assert_false(sle_ack_supersedes(&c, &a));
	assert_true(pure_ack(seg, 6, 0x30, SLE_TCP_ACK, &x));
	assert_true(sle_ack_supersedes(&x, &c));

	/* not pure: other flags */
	assert_false(pure_ack(seg, 4, 3000, SLE_TCP_ACK | SLE_TCP_FIN, &x));
	assert_int_equal(x.family, 0);
	assert_false(pure_ack(seg, 4, 3000, SLE_TCP_ACK | 0x08, &x)); /* PSH */
	assert_false(pure_ack(seg, 4, 3000, SLE_TCP_ACK | 0x40, &x)); /* ECE */
	assert_false(pure_ack(seg, 4, 3000, SLE_TCP_RST | SLE_TCP_ACK, &x));
	assert_false(pure_ack(seg, 6, 3000, SLE_TCP_SYN | SLE_TCP_ACK, &x));
	/* not pure: data after the header (the IP length says 41 bytes) */
	sle_tcp_segment(seg, 4, srv, 80, cli, 40000, 7, 3000, SLE_TCP_ACK);
	seg[3] = 41;
	assert_true(sle_pkt_parse(seg, 41, &pi));
	assert_false(sle_ack_pure(seg, 41, &pi, &x));
	/* not pure: TCP options (data offset 6) */
	sle_tcp_segment(seg, 4, srv, 80, cli, 40000, 7, 3000, SLE_TCP_ACK);
	seg[3] = 44;
	seg[32] = 6 << 4;
	assert_true(sle_pkt_parse(seg, 44, &pi));
	assert_false(sle_ack_pure(seg, 44, &pi, &x));
	/* not pure: an IPv4 fragment (more fragments) */
	sle_tcp_segment(seg, 4, srv, 80, cli, 40000, 7, 3000, SLE_TCP_ACK);
	seg[6] |= 0x20;
	assert_true(sle_pkt_parse(seg, 40, &pi));
	assert_false(sle_ack_pure(seg, 40, &pi, &x));
	/* not TCP at all */
	pi.proto = SLE_PROTO_UDP;
	assert_false(sle_ack_pure(seg, 40, &pi, &x));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_syn_rst),
		cmocka_unit_test(test_udp_icmp_prohibited),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_arp),
		cmocka_unit_test(test_ipv6_refusals),
		cmocka_unit_test(test_ndp),
		cmocka_unit_test(test_ack_merge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
