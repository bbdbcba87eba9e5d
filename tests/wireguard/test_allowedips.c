// SPDX-License-Identifier: MIT
/* Allowed-IPs trie: longest-prefix match for IPv4 and IPv6. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "allowedips.h"

static int A, B, C, D; /* peers: only their addresses matter */

static void ins(struct wg_allowedips *t, const char *ip, int cidr, void *p)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, ip, a), 1);
	assert_int_equal(wg_aip_insert(t, fam, a, (uint8_t)cidr, p), 0);
}

static void *look(struct wg_allowedips *t, const char *ip)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, ip, a), 1);
	return wg_aip_lookup(t, fam, a);
}

static int rem(struct wg_allowedips *t, const char *ip, int cidr)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, ip, a), 1);
	return wg_aip_remove(t, fam, a, (uint8_t)cidr);
}

static int rem_if(struct wg_allowedips *t, const char *ip, int cidr, void *p)
{
	uint8_t a[16];
	int fam = strchr(ip, ':') ? AF_INET6 : AF_INET;

	assert_int_equal(inet_pton(fam, ip, a), 1);
	return wg_aip_remove_if(t, fam, a, (uint8_t)cidr, p);
}

/* A peer removes only the prefixes it still holds: one taken over by
 * another peer stays. */
static void test_remove_if(void **state)
{
	struct wg_allowedips t;

	(void)state;
	wg_aip_init(&t);
	ins(&t, "10.0.0.2", 32, &A);
	ins(&t, "10.0.0.3", 32, &B);
	ins(&t, "10.0.0.0", 24, &C);
	ins(&t, "fd00::2", 128, &A);
	ins(&t, "10.0.0.2", 32, &D); /* taken over */
	assert_int_equal(rem_if(&t, "10.0.0.2", 32, &A), EVPN_ERR_NOTFOUND);
	assert_ptr_equal(look(&t, "10.0.0.2"), &D);
	assert_int_equal(rem_if(&t, "fd00::2", 128, &A), 0);
	assert_null(look(&t, "fd00::2"));
	assert_int_equal(rem_if(&t, "10.0.0.3", 32, &B), 0);
	assert_ptr_equal(look(&t, "10.0.0.3"), &C); /* the /24 remains */
	assert_int_equal(rem_if(&t, "10.0.0.2", 32, &D), 0);
	assert_ptr_equal(look(&t, "10.0.0.2"), &C);
	assert_int_equal(t.count, 1);
	wg_aip_free(&t);
}

static void test_v4_lpm(void **state)
{
	struct wg_allowedips t;

	wg_aip_init(&t);
	assert_null(look(&t, "10.0.0.1"));
	ins(&t, "10.0.0.0", 8, &A);
	ins(&t, "10.1.0.0", 16, &B);
	ins(&t, "10.1.2.3", 32, &C);
	ins(&t, "0.0.0.0", 0, &D);
	assert_ptr_equal(look(&t, "10.9.9.9"), &A);
	assert_ptr_equal(look(&t, "10.1.9.9"), &B);
	assert_ptr_equal(look(&t, "10.1.2.3"), &C);
	assert_ptr_equal(look(&t, "10.1.2.4"), &B);
	assert_ptr_equal(look(&t, "192.168.1.1"), &D);
	assert_int_equal(t.count, 4);
	/* host bits are ignored; re-insert replaces the owner */
	ins(&t, "10.1.77.77", 16, &C);
	assert_ptr_equal(look(&t, "10.1.9.9"), &C);
	assert_int_equal(t.count, 4);
	/* removing the /16 falls back to the /8 */
	assert_int_equal(rem(&t, "10.1.0.0", 16), 0);
	assert_ptr_equal(look(&t, "10.1.9.9"), &A);
	assert_ptr_equal(look(&t, "10.1.2.3"), &C);
	assert_int_equal(rem(&t, "10.1.0.0", 16), -3);
	assert_int_equal(rem(&t, "0.0.0.0", 0), 0);
	assert_null(look(&t, "192.168.1.1"));
	assert_int_equal(t.count, 2);
	wg_aip_free(&t);
}

static void test_v4_siblings(void **state)
{
	struct wg_allowedips t;
	char ip[32];
	int i;

	wg_aip_init(&t);
	/* many /32 hosts of one /24, as a VPN pool looks */
	for (i = 1; i < 255; i++) {
		snprintf(ip, sizeof(ip), "10.77.0.%d", i);
		ins(&t, ip, 32, (i & 1) ? (void *)&A : (void *)&B);
	}
	for (i = 1; i < 255; i++) {
		snprintf(ip, sizeof(ip), "10.77.0.%d", i);
		assert_ptr_equal(look(&t, ip), (i & 1) ? &A : &B);
	}
	assert_null(look(&t, "10.77.0.0"));
	assert_null(look(&t, "10.77.0.255"));
	assert_null(look(&t, "10.77.1.1"));
	/* removing one peer's entries leaves the other's */
	wg_aip_remove_peer(&t, &A);
	assert_int_equal(t.count, 127);
	for (i = 1; i < 255; i++) {
		snprintf(ip, sizeof(ip), "10.77.0.%d", i);
		if (i & 1)
			assert_null(look(&t, ip));
		else
			assert_ptr_equal(look(&t, ip), &B);
	}
	wg_aip_remove_peer(&t, &B);
	assert_int_equal(t.count, 0);
	assert_null(t.root4);
	wg_aip_free(&t);
}

static void test_v6(void **state)
{
	struct wg_allowedips t;

	wg_aip_init(&t);
	ins(&t, "fd00::", 8, &A);
	ins(&t, "fd00:77::", 64, &B);
	ins(&t, "fd00:77::2", 128, &C);
	ins(&t, "::", 0, &D);
	ins(&t, "10.0.0.0", 8, &C); /* families are separate */
	assert_ptr_equal(look(&t, "fd12::1"), &A);
	assert_ptr_equal(look(&t, "fd00:77::5"), &B);
	assert_ptr_equal(look(&t, "fd00:77::2"), &C);
	assert_ptr_equal(look(&t, "2001:db8::1"), &D);
	assert_ptr_equal(look(&t, "10.1.1.1"), &C);
	assert_null(look(&t, "11.1.1.1"));
	wg_aip_remove_peer(&t, &C);
	assert_ptr_equal(look(&t, "fd00:77::2"), &B);
	assert_null(look(&t, "10.1.1.1"));
	assert_int_equal(t.count, 3);
	wg_aip_free(&t);
}

static void test_invalid(void **state)
{
	struct wg_allowedips t;
	uint8_t a[16] = {0};

	wg_aip_init(&t);
	assert_int_not_equal(wg_aip_insert(&t, AF_INET, a, 33, &A), 0);
	assert_int_not_equal(wg_aip_insert(&t, AF_INET6, a, 129, &A), 0);
	assert_int_not_equal(wg_aip_insert(&t, AF_UNIX, a, 1, &A), 0);
	assert_int_not_equal(wg_aip_insert(&t, AF_INET, a, 8, NULL), 0);
	assert_null(wg_aip_lookup(&t, AF_UNIX, a));
	wg_aip_free(&t);
}

/* Compare against a brute-force list on random prefixes. */
static void test_random_vs_bruteforce(void **state)
{
	enum { N = 400, Q = 4000 };
	static uint32_t net[N];
	static int len[N];
	static void *who[N];
	static int peers[8];
	struct wg_allowedips t;
	int i, j, best;
	uint32_t q, mask;
	uint8_t a[4];

	srand(1234);
	wg_aip_init(&t);
	for (i = 0; i < N; i++) {
		len[i] = rand() % 33;
		mask = len[i] ? ~0u << (32 - len[i]) : 0;
		net[i] = ((uint32_t)rand() << 1 ^ (uint32_t)rand()) & mask;
		/* cluster in 10/8 so prefixes overlap */
		if (len[i] >= 8)
			net[i] = (net[i] & ~0xff000000u) | 0x0a000000u;
		who[i] = &peers[rand() % 8];
		a[0] = (uint8_t)(net[i] >> 24);
		a[1] = (uint8_t)(net[i] >> 16);
		a[2] = (uint8_t)(net[i] >> 8);
		a[3] = (uint8_t)net[i];
		assert_int_equal(
			wg_aip_insert(&t, AF_INET, a, (uint8_t)len[i], who[i]),
			0);
	}
	for (j = 0; j < Q; j++) {
		q = (uint32_t)rand() << 1 ^ (uint32_t)rand();
		if (j & 1)
			q = (q & ~0xff000000u) | 0x0a000000u;
		best = -1;
		/* later inserts of the same prefix replace earlier ones */
		for (i = 0; i < N; i++) {
			mask = len[i] ? ~0u << (32 - len[i]) : 0;
			if ((q & mask) == net[i] &&
			    (best < 0 || len[i] >= len[best]))
				best = i;
		}
		a[0] = (uint8_t)(q >> 24);
		a[1] = (uint8_t)(q >> 16);
		a[2] = (uint8_t)(q >> 8);
		a[3] = (uint8_t)q;
		if (best < 0)
			assert_null(wg_aip_lookup(&t, AF_INET, a));
		else
			assert_ptr_equal(wg_aip_lookup(&t, AF_INET, a),
					 who[best]);
	}
	for (i = 0; i < 8; i++)
		wg_aip_remove_peer(&t, &peers[i]);
	assert_int_equal(t.count, 0);
	assert_null(t.root4);
	wg_aip_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v4_lpm),
		cmocka_unit_test(test_v4_siblings),
		cmocka_unit_test(test_v6),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_random_vs_bruteforce),
		cmocka_unit_test(test_remove_if),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
