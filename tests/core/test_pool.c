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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_pool),
		cmocka_unit_test(test_hint_and_marks),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
