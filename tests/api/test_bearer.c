/* SPDX-License-Identifier: MIT */
/* auth:bearer: header parsing and the failure-throttling table (time is
 * injected, so lockouts are tested without sleeping). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "bearer_parse.h"
#include "throttle.h"

static void ok(const char *hdr, const char *want)
{
	const char *tok;
	size_t len;

	assert_int_equal(bearer_parse(hdr, &tok, &len), BEARER_OK);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(tok, want, len);
}

static void bad(const char *hdr, enum bearer_status want)
{
	const char *tok = "x";
	size_t len = 1;

	assert_int_equal(bearer_parse(hdr, &tok, &len), want);
	assert_null(tok);
	assert_int_equal(len, 0);
}

static void test_parse(void **state)
{
	char big[BEARER_TOKEN_MAX + 16];

	ok("Bearer abc", "abc");
	ok("bearer abc", "abc");
	ok("BEARER abc", "abc");
	ok("  Bearer \t abc  \t", "abc");
	ok("Bearer "
	   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	ok("Bearer a+b/c=", "a+b/c=");

	bad(NULL, BEARER_MISSING);
	bad("", BEARER_MISSING);
	bad("   ", BEARER_MISSING);
	bad("Bearer", BEARER_MALFORMED);
	bad("Bearer ", BEARER_MALFORMED);
	bad("Bearerabc", BEARER_MALFORMED);
	bad("Basic dXNlcjpwYXNz", BEARER_MALFORMED);
	bad("Token abc", BEARER_MALFORMED);
	bad("Bearer abc def", BEARER_MALFORMED);
	bad("Bearer ab\x01", BEARER_MALFORMED);
	bad("Bearer ab\xc3\xa9", BEARER_MALFORMED);

	strcpy(big, "Bearer ");
	memset(big + 7, 'a', BEARER_TOKEN_MAX);
	big[7 + BEARER_TOKEN_MAX] = '\0';
	ok(big, big + 7);
	strcat(big, "a");
	bad(big, BEARER_MALFORMED);
}

static void test_lockout(void **state)
{
	struct bearer_throttle t;
	unsigned ra = 99;
	double now = 1000;

	assert_int_equal(bearer_throttle_init(&t, 64, 3, 60, 30), EVPN_OK);
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.1", now, &ra),
			 EVPN_OK);
	assert_int_equal(ra, 0);
	bearer_throttle_fail(&t, "10.0.0.1", now);
	bearer_throttle_fail(&t, "10.0.0.1", now + 1);
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.1", now + 2, &ra),
			 EVPN_OK);
	bearer_throttle_fail(&t, "10.0.0.1", now + 2); /* 3rd: locked */
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.1", now + 2, &ra),
			 EVPN_ERR_AGAIN);
	assert_int_equal(ra, 30);
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.1", now + 12.5, &ra),
			 EVPN_ERR_AGAIN);
	assert_int_equal(ra, 20); /* rounded up */
	/* failures during the lockout do not extend it */
	bearer_throttle_fail(&t, "10.0.0.1", now + 20);
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.1", now + 31.9, &ra),
			 EVPN_ERR_AGAIN);
	assert_int_equal(ra, 1);
	/* another address is not affected */
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.2", now + 5, &ra),
			 EVPN_OK);
	/* lockout over: allowed again, and counting starts afresh */
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.1", now + 32, &ra),
			 EVPN_OK);
	bearer_throttle_fail(&t, "10.0.0.1", now + 33);
	bearer_throttle_fail(&t, "10.0.0.1", now + 34);
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.1", now + 35, &ra),
			 EVPN_OK);
	bearer_throttle_fail(&t, "10.0.0.1", now + 35);
	assert_int_equal(bearer_throttle_check(&t, "10.0.0.1", now + 35, &ra),
			 EVPN_ERR_AGAIN);
	bearer_throttle_free(&t);
}

static void test_window(void **state)
{
	struct bearer_throttle t;
	unsigned ra;

	assert_int_equal(bearer_throttle_init(&t, 64, 3, 10, 30), EVPN_OK);
	/* failures spread wider than the window never lock */
	for (int i = 0; i < 10; i++) {
		bearer_throttle_fail(&t, "a", i * 6.0);
		assert_int_equal(bearer_throttle_check(&t, "a", i * 6.0, &ra),
				 EVPN_OK);
	}
	assert_int_equal(bearer_throttle_count(&t, 54), 1);
	assert_int_equal(bearer_throttle_count(&t, 1000), 0);
	bearer_throttle_free(&t);
}

static void test_bounded(void **state)
{
	struct bearer_throttle t;
	char addr[32];
	unsigned ra;

	assert_int_equal(bearer_throttle_init(&t, 32, 2, 60, 60), EVPN_OK);
	/* lock one address, then flood with many others (one failure each) */
	bearer_throttle_fail(&t, "victim", 0);
	bearer_throttle_fail(&t, "victim", 0);
	for (int i = 0; i < 5000; i++) {
		snprintf(addr, sizeof(addr), "198.51.100.%d/%d", i % 256, i);
		bearer_throttle_fail(&t, addr, 1);
	}
	/* the table never grows */
	assert_true(bearer_throttle_count(&t, 1) <= 32);
	/* unlocked entries are evicted before locked ones */
	assert_int_equal(bearer_throttle_check(&t, "victim", 2, &ra),
			 EVPN_ERR_AGAIN);
	bearer_throttle_free(&t);

	assert_int_equal(bearer_throttle_init(&t, 64, 0, 60, 60),
			 EVPN_ERR_INVAL);
	assert_int_equal(bearer_throttle_init(&t, 64, 1, 0, 60),
			 EVPN_ERR_INVAL);
}

struct worker {
	struct bearer_throttle *t;
	int id;
	int locked;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	char addr[32];
	unsigned ra;

	for (int i = 0; i < 20000; i++) {
		snprintf(addr, sizeof(addr), "10.%d.%d.1", w->id, i % 50);
		bearer_throttle_fail(w->t, addr, i * 0.001);
		if (bearer_throttle_check(w->t, addr, i * 0.001, &ra) ==
		    EVPN_ERR_AGAIN)
			w->locked++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct bearer_throttle t;
	pthread_t th[4];
	struct worker w[4];
	unsigned ra;

	assert_int_equal(bearer_throttle_init(&t, 4096, 5, 60, 60), EVPN_OK);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.t = &t, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, hammer, &w[i]),
				 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 4; i++)
		assert_true(w[i].locked > 0);
	/* 4 threads x 50 addresses, each failed far more than 5 times */
	assert_int_equal(bearer_throttle_count(&t, 20), 200);
	assert_int_equal(bearer_throttle_check(&t, "10.3.49.1", 20, &ra),
			 EVPN_ERR_AGAIN);
	bearer_throttle_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),	cmocka_unit_test(test_lockout),
		cmocka_unit_test(test_window),	cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
