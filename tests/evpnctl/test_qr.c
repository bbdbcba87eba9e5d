// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qr.h"

#define UP "\xe2\x96\x80"
#define LO "\xe2\x96\x84"
#define FULL "\xe2\x96\x88"

static char *render(const unsigned char *m, int width, int margin, bool invert)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(evpnctl_qr_render(m, width, margin, invert, f), 0);
	fclose(f);
	return buf;
}

/* A 2x2 matrix: dark at (0,0) and (1,1); libqrencode's other bits are
 * ignored (only bit 0 means dark). */
static const unsigned char m2[] = {0x81, 0xfe, 0x00, 0x01};

static void test_half_blocks(void **state)
{
	char *s = render(m2, 2, 0, false);

	/* light modules are drawn: column 0 has the top dark, the bottom
	 * light -> lower half; column 1 the reverse -> upper half */
	assert_string_equal(s, LO UP "\n");
	free(s);
	s = render(m2, 2, 0, true);
	assert_string_equal(s, UP LO "\n");
	free(s);
}

static void test_margin_and_odd_rows(void **state)
{
	/* margin 1 around 2x2 = 4x4: 2 text rows of 4 characters */
	char *s = render(m2, 2, 1, false);

	assert_string_equal(s, FULL UP FULL FULL "\n" FULL FULL LO FULL "\n");
	free(s);
	/* 1x1 dark module, no margin: one text row, bottom outside */
	s = render((const unsigned char[]){1}, 1, 0, true);
	assert_string_equal(s, UP "\n");
	free(s);
	assert_int_equal(evpnctl_qr_render(m2, 0, 0, false, stdout), -1);
}

static void test_encode(void **state)
{
	char *buf = NULL;
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(
		evpnctl_qr_print("[Interface]\nPrivateKey = x\n", false, f), 0);
	fclose(f);
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	/* version 2 (25 modules) + 2*2 margin = 29 rows -> 15 text rows */
	assert_int_equal(lines, 15);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half_blocks),
		cmocka_unit_test(test_margin_and_odd_rows),
		cmocka_unit_test(test_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
