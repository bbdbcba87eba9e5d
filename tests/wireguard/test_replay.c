// SPDX-License-Identifier: MIT
/* The Linux module's counter self-test (selftest/counter.c), case by case,
 * against our RFC 6479 window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "replay.h"

static struct wg_replay r;
static unsigned test_num;

#define T_INIT wg_replay_init(&r)
#define T_LIM (WG_REPLAY_WINDOW + 1)
#define REJ WG_REJECT_AFTER_MESSAGES
#define T(n, v)                                                           \
	do {                                                              \
		++test_num;                                               \
		if (wg_replay_check(&r, (n)) != (v))                      \
			fail_msg("counter case %u (n=%llu) expected %d",  \
				 test_num, (unsigned long long)(n), (v)); \
	} while (0)

static void test_window_size(void **state)
{
	/* The issue asks for at least 2048 packets of reordering. */
	assert_true(WG_REPLAY_WINDOW >= 2048);
}

static void test_kernel_sequence(void **state)
{
	test_num = 0;
	T_INIT;
	/*  1 */ T(0, true);
	/*  2 */ T(1, true);
	/*  3 */ T(1, false);
	/*  4 */ T(9, true);
	/*  5 */ T(8, true);
	/*  6 */ T(7, true);
	/*  7 */ T(7, false);
	/*  8 */ T(T_LIM, true);
	/*  9 */ T(T_LIM - 1, true);
	/* 10 */ T(T_LIM - 1, false);
	/* 11 */ T(T_LIM - 2, true);
	/* 12 */ T(2, true);
	/* 13 */ T(2, false);
	/* 14 */ T(T_LIM + 16, true);
	/* 15 */ T(3, false);
	/* 16 */ T(T_LIM + 16, false);
	/* 17 */ T(T_LIM * 4, true);
	/* 18 */ T(T_LIM * 4 - (T_LIM - 1), true);
	/* 19 */ T(10, false);
	/* 20 */ T(T_LIM * 4 - T_LIM, false);
	/* 21 */ T(T_LIM * 4 - (T_LIM + 1), false);
	/* 22 */ T(T_LIM * 4 - (T_LIM - 2), true);
	/* 23 */ T(T_LIM * 4 + 1 - T_LIM, false);
	/* 24 */ T(0, false);
	/* 25 */ T(REJ, false);
	/* 26 */ T(REJ - 1, true);
	/* 27 */ T(REJ, false);
	/* 28 */ T(REJ - 1, false);
	/* 29 */ T(REJ - 2, true);
	/* 30 */ T(REJ + 1, false);
	/* 31 */ T(REJ + 2, false);
	/* 32 */ T(REJ - 2, false);
	/* 33 */ T(REJ - 3, true);
	/* 34 */ T(0, false);
}

static void test_kernel_bulk(void **state)
{
	uint64_t i;

	T_INIT;
	for (i = 1; i <= WG_REPLAY_WINDOW; ++i)
		T(i, true);
	T(0, true);
	T(0, false);

	T_INIT;
	for (i = 2; i <= WG_REPLAY_WINDOW + 1; ++i)
		T(i, true);
	T(1, true);
	T(0, false);

	T_INIT;
	for (i = WG_REPLAY_WINDOW + 1; i-- > 0;)
		T(i, true);

	T_INIT;
	for (i = WG_REPLAY_WINDOW + 2; i-- > 1;)
		T(i, true);
	T(0, false);

	T_INIT;
	for (i = WG_REPLAY_WINDOW + 1; i-- > 1;)
		T(i, true);
	T(WG_REPLAY_WINDOW + 1, true);
	T(0, false);

	T_INIT;
	for (i = WG_REPLAY_WINDOW + 1; i-- > 1;)
		T(i, true);
	T(0, true);
	T(WG_REPLAY_WINDOW + 1, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_size),
		cmocka_unit_test(test_kernel_sequence),
		cmocka_unit_test(test_kernel_bulk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
