/* SPDX-License-Identifier: MIT */
/* Rate limits: the text form and the token bucket (fake clock). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "rate.h"

static uint64_t parsed(const char *s)
{
	uint64_t v = 12345;

	assert_int_equal(rate_parse(s, &v), 0);
	return v;
}

static void test_parse_units(void **state)
{
	(void)state;
	assert_int_equal(parsed("20mbit"), 20000000ULL);
	assert_int_equal(parsed("20Mbit"), 20000000ULL);
	assert_int_equal(parsed("500kbit"), 500000ULL);
	assert_int_equal(parsed("1gbit"), 1000000000ULL);
	assert_int_equal(parsed("1.5mbit"), 1500000ULL);
	assert_int_equal(parsed("10mbps"), 10000000ULL);
	assert_int_equal(parsed("2MB/s"), 16000000ULL);
	assert_int_equal(parsed("125KB/s"), 1000000ULL);
	assert_int_equal(parsed("64000"), 64000ULL);
	assert_int_equal(parsed("8000bit"), RATE_MIN_BPS);
	assert_int_equal(parsed("100gbit"), RATE_MAX_BPS);
	/* 0 in any unit: no limit */
	assert_int_equal(parsed("0"), 0);
	assert_int_equal(parsed("0mbit"), 0);
}

static void test_parse_rejects(void **state)
{
	static const char *const bad[] = {"",
					  "mbit",
					  "-1mbit",
					  "20 megabit",
					  "20mbits",
					  "20xbit",
					  "1.mbit",
					  ".5mbit",
					  "1.5.1mbit",
					  "7999bit",
					  "101gbit",
					  "1e6",
					  "20mbit ",
					  "0x10",
					  "1.0000000001gbit",
					  "0.5bit",
					  "18446744073709551616",
					  "99999999999999999999mbit"};
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 42;
		if (rate_parse(bad[i], &v) != -1)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(v, 0);
	}
	assert_int_equal(rate_parse(NULL, &v), -1);
}

static void test_format(void **state)
{
	char b[32];
	static const struct {
		uint64_t bps;
		const char *s;
	} c[] = {{0, "0"},
		 {20000000, "20mbit"},
		 {500000, "500kbit"},
		 {1000000000, "1gbit"},
		 {1500000, "1.5mbit"},
		 {16000000, "16mbit"},
		 {8001, "8.001kbit"},
		 {1234567, "1234.567kbit"},
		 {8000001, "8000.001kbit"},
		 {100000007, "100000.007kbit"}};

	(void)state;
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint64_t back;

		rate_format(c[i].bps, b, sizeof(b));
		assert_string_equal(b, c[i].s);
		assert_int_equal(rate_parse(b, &back), 0);
		assert_int_equal(back, c[i].bps);
	}
}

/* Offer `offered` bits/s of len-byte packets for `secs` on a fake clock:
 * the bytes that pass. */
static double run(struct tbf *b, double offered, size_t len, double secs,
		  double *max_excess, uint64_t bps)
{
	double gap = (double)len * 8 / offered, passed = 0;

	*max_excess = 0;
	for (double t = 0; t < secs; t += gap) {
		double allowed = tbf_burst_for(bps) + t * (double)bps / 8;

		if (tbf_take(b, len, t))
			passed += (double)len;
		/* at no moment more than the burst plus what the rate
		 * earned: nothing is held back to be sent later */
		if (passed - allowed > *max_excess)
			*max_excess = passed - allowed;
	}
	return passed;
}

static void test_bucket_rate(void **state)
{
	struct tbf b = {0};
	double excess, passed;

	(void)state;
	tbf_set(&b, 20000000, 0);
	/* twice the rate for 10 s: the rate's bytes plus one burst */
	passed = run(&b, 40e6, 1420, 10, &excess, 20000000);
	assert_true(excess <= 0);
	assert_true(passed >= 10 * 2.5e6);
	assert_true(passed <= 10 * 2.5e6 + tbf_burst_for(20000000));
	/* under the rate everything passes */
	memset(&b, 0, sizeof(b));
	tbf_set(&b, 20000000, 0);
	passed = run(&b, 15e6, 1420, 10, &excess, 20000000);
	assert_true(passed >= 10 * 15e6 / 8 - 1420);
}

static void test_bucket_burst(void **state)
{
	struct tbf b = {0};
	size_t n = 0;

	(void)state;
	/* 20 mbit/s: 100 ms of it is 250,000 bytes; at 1 mbit/s the 64 KiB
	 * floor */
	assert_true(tbf_burst_for(20000000) == 250000);
	assert_true(tbf_burst_for(1000000) == 65536);
	tbf_set(&b, 20000000, 5);
	/* a full bucket: one burst at once, then nothing at the same time */
	while (tbf_take(&b, 1000, 5))
		n++;
	assert_int_equal(n, 250);
	assert_false(tbf_take(&b, 1, 5));
	/* 1 ms later: 2,500 bytes earned */
	assert_true(tbf_take(&b, 2500, 5.001));
	assert_false(tbf_take(&b, 100, 5.001));
	/* idle for long: the bucket holds one burst, not more */
	n = 0;
	while (tbf_take(&b, 1000, 100))
		n++;
	assert_int_equal(n, 250);
	/* a clock that steps back refills nothing */
	assert_false(tbf_take(&b, 1000, 50));
	/* when a packet will fit: 2,500 bytes take 1 ms at 20 mbit/s */
	tbf_set(&b, 20000000, 200);
	while (tbf_take(&b, 1000, 200))
		;
	assert_true(fabs(tbf_when(&b, 1000 + (size_t)b.tokens) - 200.0004) <
		    1e-9);
	assert_true(tbf_take(&b, 1000, 200.0004));
	assert_true(tbf_when(&b, 10) > 200.0004);
	assert_true(tbf_when(&b, 1000000) == HUGE_VAL); /* > burst */
}

static void test_bucket_change(void **state)
{
	struct tbf b = {0};

	(void)state;
	/* no limit: everything passes */
	assert_true(tbf_take(&b, 1u << 30, 0));
	tbf_set(&b, 20000000, 0);
	assert_true(tbf_take(&b, 100000, 0));
	/* lowered: the tokens are capped at the new, smaller burst */
	tbf_set(&b, 1000000, 0);
	assert_true(b.tokens == 65536);
	assert_true(tbf_take(&b, 65000, 0));
	assert_false(tbf_take(&b, 1000, 0));
	/* 1 s at 1 mbit/s earns 125,000 bytes, capped at 64 KiB */
	assert_true(tbf_take(&b, 65536, 1));
	/* removed: no limit again */
	tbf_set(&b, 0, 1);
	assert_true(tbf_take(&b, 1u << 30, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_units),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_bucket_rate),
		cmocka_unit_test(test_bucket_burst),
		cmocka_unit_test(test_bucket_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
