// SPDX-License-Identifier: MIT
/* Flow limits: totals, per peer, memory budget, idle expiry, TCP close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flows.h"

static struct sle_pkt_info flow(uint8_t proto, uint8_t cli_last, uint16_t sport,
				uint8_t flags)
{
	struct sle_pkt_info pi;

	memset(&pi, 0, sizeof(pi));
	pi.family = 4;
	pi.proto = proto;
	pi.first_frag = true;
	pi.src[0] = 10, pi.src[1] = 77, pi.src[2] = 0, pi.src[3] = cli_last;
	pi.dst[0] = 192, pi.dst[1] = 0, pi.dst[2] = 2, pi.dst[3] = 1;
	pi.sport = sport;
	pi.dport = 80;
	pi.tcp_flags = flags;
	pi.tcp_seq = 100;
	return pi;
}

static struct sle_pkt_info reverse(const struct sle_pkt_info *c, uint8_t fl)
{
	struct sle_pkt_info r = *c;

	memcpy(r.src, c->dst, 4);
	memcpy(r.dst, c->src, 4);
	r.sport = c->dport;
	r.dport = c->sport;
	r.tcp_flags = fl;
	r.tcp_seq = 5000;
	return r;
}

static void test_limits(void **st)
{
	struct sle_flows f;
	struct sle_pkt_info p;

	assert_int_equal(sle_flows_init(&f, 4, 2, 0, 100, 10), 0);
	p = flow(SLE_PROTO_TCP, 2, 1000, SLE_TCP_SYN);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	/* the same flow again is not new */
	assert_int_equal(sle_flows_client(&f, &p, 1), SLE_PASS);
	p = flow(SLE_PROTO_UDP, 2, 1001, 0);
	assert_int_equal(sle_flows_client(&f, &p, 1), SLE_PASS);
	assert_int_equal(sle_flows_peer_count(&f, 0x0a4d0002), 2);
	/* third flow of peer .2 */
	p = flow(SLE_PROTO_UDP, 2, 1002, 0);
	assert_int_equal(sle_flows_client(&f, &p, 1), SLE_R_PEER_FLOWS);
	/* existing ones keep working */
	p = flow(SLE_PROTO_UDP, 2, 1001, 0);
	assert_int_equal(sle_flows_client(&f, &p, 2), SLE_PASS);
	p = flow(SLE_PROTO_UDP, 3, 1000, 0);
	assert_int_equal(sle_flows_client(&f, &p, 1), SLE_PASS);
	p = flow(SLE_PROTO_UDP, 3, 1001, 0);
	assert_int_equal(sle_flows_client(&f, &p, 1), SLE_PASS);
	p = flow(SLE_PROTO_UDP, 4, 1000, 0);
	assert_int_equal(sle_flows_client(&f, &p, 1), SLE_R_FLOWS);
	assert_int_equal(f.n, 4);
	/* a TCP segment of an unknown connection is not a new flow */
	p = flow(SLE_PROTO_TCP, 4, 1000, SLE_TCP_ACK);
	assert_int_equal(sle_flows_client(&f, &p, 1), SLE_PASS);
	assert_int_equal(f.n, 4);
	sle_flows_free(&f);
}

static int expired_tcp;

static void on_expire(const struct sle_flow *fl, void *arg)
{
	if (fl->k.proto == SLE_PROTO_TCP) {
		expired_tcp++;
		assert_int_equal(fl->cli_nxt, 101 + 10);
		assert_int_equal(fl->srv_nxt, 5001);
	}
}

static void test_expiry(void **st)
{
	struct sle_flows f;
	struct sle_pkt_info p, r;

	assert_int_equal(sle_flows_init(&f, 16, 0, 0, 100, 10), 0);
	p = flow(SLE_PROTO_TCP, 2, 1000, SLE_TCP_SYN);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	r = reverse(&p, SLE_TCP_SYN | SLE_TCP_ACK);
	sle_flows_server(&f, &r, 0);
	p.tcp_flags = SLE_TCP_ACK;
	p.tcp_seq = 101;
	p.payload_len = 10;
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	p = flow(SLE_PROTO_UDP, 2, 2000, 0);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	assert_int_equal(f.n, 2);
	/* the UDP flow idles out first, then the TCP one (reset) */
	sle_flows_expire(&f, 11, on_expire, NULL);
	assert_int_equal(f.n, 1);
	assert_int_equal(expired_tcp, 0);
	/* a reply refreshes the TCP flow */
	sle_flows_server(&f, &r, 50);
	sle_flows_expire(&f, 120, on_expire, NULL);
	assert_int_equal(f.n, 1);
	sle_flows_expire(&f, 151, on_expire, NULL);
	assert_int_equal(f.n, 0);
	assert_int_equal(expired_tcp, 1);
	assert_int_equal(sle_flows_peer_count(&f, 0x0a4d0002), 0);
	sle_flows_free(&f);
}

static void test_close_and_budget(void **st)
{
	struct sle_flows f;
	struct sle_pkt_info p, r;

	assert_int_equal(
		sle_flows_init(&f, 16, 0,
			       2 * SLE_FLOW_TCP_COST + SLE_FLOW_DGRAM_COST, 100,
			       10),
		0);
	p = flow(SLE_PROTO_TCP, 2, 1, SLE_TCP_SYN);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	p = flow(SLE_PROTO_TCP, 2, 2, SLE_TCP_SYN);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	p = flow(SLE_PROTO_TCP, 2, 3, SLE_TCP_SYN);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_R_MEMORY);
	p = flow(SLE_PROTO_UDP, 2, 3, 0);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	/* FIN both ways: forgotten after the linger, without a reset */
	p = flow(SLE_PROTO_TCP, 2, 1, SLE_TCP_FIN | SLE_TCP_ACK);
	assert_int_equal(sle_flows_client(&f, &p, 1), SLE_PASS);
	r = reverse(&p, SLE_TCP_FIN | SLE_TCP_ACK);
	sle_flows_server(&f, &r, 1);
	/* RST from slirp: forgotten at the next sweep */
	r = reverse(&p, SLE_TCP_RST);
	r.dport = 2;
	sle_flows_server(&f, &r, 1);
	expired_tcp = 0;
	sle_flows_expire(&f, 2, on_expire, NULL);
	assert_int_equal(f.n, 2); /* UDP + the FIN'd one */
	sle_flows_expire(&f, 1 + SLE_FLOW_CLOSED_LINGER, on_expire, NULL);
	assert_int_equal(f.n, 0); /* the UDP one idled out too */
	assert_int_equal(expired_tcp, 0);
	assert_int_equal(f.mem, 0);
	/* budget free again */
	p = flow(SLE_PROTO_TCP, 2, 3, SLE_TCP_SYN);
	assert_int_equal(sle_flows_client(&f, &p, 20), SLE_PASS);
	sle_flows_free(&f);
}

/* IPv6 flows: keyed by the full addresses, counted for the client's
 * IPv4 address (pool6 fd77:0:0:1::/64 paired with 10.77.0.0/16), and the
 * expiry callback can rebuild the client's IPv6 address. */
static struct sle_pkt_info flow6(uint8_t cli_last, uint8_t dst_last,
				 uint16_t sport)
{
	struct sle_pkt_info pi = flow(SLE_PROTO_TCP, 0, sport, SLE_TCP_SYN);
	static const uint8_t c[16] = {0xfd, 0x77, 0, 0, 0, 0, 0, 1},
			     d[16] = {0x20, 0x01, 0x0d, 0xb8};

	pi.family = 6;
	memcpy(pi.src, c, 16);
	pi.src[15] = cli_last;
	memcpy(pi.dst, d, 16);
	pi.dst[15] = dst_last;
	return pi;
}

static uint8_t expired6[16];

static void on_expire6(const struct sle_flow *fl, void *arg)
{
	assert_int_equal(fl->k.family, 6);
	sle_flow_client6(arg, fl, expired6);
}

static void test_ipv6(void **st)
{
	struct sle_flows f;
	struct sle_pkt_info p, r;

	(void)st;
	assert_int_equal(sle_flows_init(&f, 16, 3, 0, 100, 10), 0);
	f.v6_base = 0x0a4d0000;
	f.pool6[0] = 0xfd, f.pool6[1] = 0x77, f.pool6[7] = 1;
	/* same ports, different destinations: two flows */
	p = flow6(2, 1, 1000);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	p = flow6(2, 2, 1000);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	assert_int_equal(f.n, 2);
	/* fd77:0:0:1::2 is 10.77.0.2: its IPv4 flow is the third of 3 */
	assert_int_equal(sle_flows_peer_count(&f, 0x0a4d0002), 2);
	p = flow(SLE_PROTO_TCP, 2, 1000, SLE_TCP_SYN);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	p = flow6(2, 3, 1000);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_R_PEER_FLOWS);
	/* another client is not affected */
	p = flow6(3, 3, 1000);
	assert_int_equal(sle_flows_client(&f, &p, 0), SLE_PASS);
	/* slirp's answer refreshes the flow; it idles out later */
	r = reverse(&p, SLE_TCP_SYN | SLE_TCP_ACK);
	memcpy(r.src, p.dst, 16);
	memcpy(r.dst, p.src, 16);
	sle_flows_server(&f, &r, 50);
	sle_flows_expire(&f, 120, NULL, NULL); /* the others: idle since 0 */
	assert_int_equal(f.n, 1);
	sle_flows_expire(&f, 151, on_expire6, &f);
	assert_int_equal(f.n, 0);
	assert_memory_equal(expired6, p.src, 16);
	sle_flows_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_close_and_budget),
		cmocka_unit_test(test_ipv6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
