/* The address pool: server takes the first host, no broadcast, wrap-around. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <evpn/plugin.h>

#include "pool.h"

static void test_small_pool(void **state)
{
	struct evpn_pool p;
	char a[16];

	assert_int_equal(evpn_pool_init(&p, "192.168.7.0/29"), EVPN_OK);
	assert_int_equal(evpn_pool_size(&p), 5); /* .2 .. .6 */
	for (int i = 2; i <= 6; i++) {
		char want[16];

		assert_true(evpn_pool_take(&p, a));
		snprintf(want, sizeof(want), "192.168.7.%d", i);
		assert_string_equal(a, want);
	}
	assert_false(evpn_pool_take(&p, a));
	assert_true(evpn_pool_mark(&p, "192.168.7.4/32", false));
	assert_true(evpn_pool_take(&p, a));
	assert_string_equal(a, "192.168.7.4");
	assert_false(evpn_pool_mark(&p, "192.168.7.1", true)); /* server */
	assert_false(evpn_pool_mark(&p, "192.168.7.7", true)); /* broadcast */
	assert_false(evpn_pool_mark(&p, "10.0.0.1", true));
	assert_false(evpn_pool_mark(&p, "garbage", true));
	evpn_pool_free(&p);
}

static void test_hint_and_marks(void **state)
{
	struct evpn_pool p;
	char a[16];

	assert_int_equal(evpn_pool_init(&p, "10.77.3.9/16"), EVPN_OK);
	for (int i = 2; i < 2 + 16; i++) {
		char ip[16];

		snprintf(ip, sizeof(ip), "10.77.0.%d", i);
		assert_true(evpn_pool_mark(&p, ip, true));
	}
	assert_true(evpn_pool_take(&p, a));
	assert_string_equal(a, "10.77.0.18");
	assert_int_equal(evpn_pool_size(&p), 65534 - 1);
	evpn_pool_free(&p);
}

static void test_bad(void **state)
{
	struct evpn_pool p;

	assert_int_not_equal(evpn_pool_init(&p, "fd00::/64"), EVPN_OK);
	assert_int_not_equal(evpn_pool_init(&p, "10.0.0.0/30"), EVPN_OK);
	assert_int_not_equal(evpn_pool_init(&p, "10.0.0.0/7"), EVPN_OK);
	assert_int_not_equal(evpn_pool_init(&p, "nope"), EVPN_OK);
}

/* network.pool6: each IPv4 client address pairs with pool6 + its offset. */
static void test_pool6_pairs(void **state)
{
	struct evpn_pool6 p6;
	char out[46];

	(void)state;
	assert_int_equal(evpn_pool6_init(&p6, NULL, "10.77.0.0/16"), EVPN_OK);
	assert_false(p6.enabled);
	assert_false(evpn_pool6_pair(&p6, "10.77.0.2/32", out));
	assert_int_equal(evpn_pool6_init(&p6, "", "10.77.0.0/16"), EVPN_OK);
	assert_false(p6.enabled);

	/* host bits of the given prefix are ignored, like for the IPv4 pool */
	assert_int_equal(evpn_pool6_init(&p6, "fd77:1::9/64", "10.77.0.0/16"),
			 EVPN_OK);
	assert_true(p6.enabled);
	assert_true(evpn_pool6_pair(&p6, "10.77.0.1", out));
	assert_string_equal(out, "fd77:1::1");
	assert_true(evpn_pool6_pair(&p6, "10.77.0.2/32", out));
	assert_string_equal(out, "fd77:1::2");
	assert_true(evpn_pool6_pair(&p6, "10.77.1.0/32", out));
	assert_string_equal(out, "fd77:1::100");
	assert_true(evpn_pool6_pair(&p6, "10.77.255.254", out));
	assert_string_equal(out, "fd77:1::fffe");
	assert_false(evpn_pool6_pair(&p6, "10.76.255.255", out));
	assert_false(evpn_pool6_pair(&p6, "fd77::2", out));

	/* the tightest prefix that still holds every offset of a /16 */
	assert_int_equal(evpn_pool6_init(&p6, "fd00:0:0:0:0:0:abcd:0/112",
					 "10.77.0.0/16"),
			 EVPN_OK);
	assert_true(evpn_pool6_pair(&p6, "10.77.3.4", out));
	assert_string_equal(out, "fd00::abcd:304");
}

static void test_pool6_bad(void **state)
{
	struct evpn_pool6 p6;

	(void)state;
	/* too small for a /16's offsets, not IPv6, not a CIDR */
	assert_int_not_equal(evpn_pool6_init(&p6, "fd00::/113", "10.77.0.0/16"),
			     EVPN_OK);
	assert_int_not_equal(evpn_pool6_init(&p6, "10.0.0.0/8", "10.77.0.0/16"),
			     EVPN_OK);
	assert_int_not_equal(evpn_pool6_init(&p6, "fd00::", "10.77.0.0/16"),
			     EVPN_OK);
	assert_int_not_equal(evpn_pool6_init(&p6, "nope", "10.77.0.0/16"),
			     EVPN_OK);
	assert_false(p6.enabled);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_pool),
		cmocka_unit_test(test_hint_and_marks),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_pool6_pairs),
		cmocka_unit_test(test_pool6_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
