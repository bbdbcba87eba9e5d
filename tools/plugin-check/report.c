/* SPDX-License-Identifier: MIT */
/* One line per check: "ok   - kind: what", "FAIL - kind: what (why)". */
#include <stdarg.h>
#include <stdio.h>

#include "check.h"

static void line(struct ck *c, const char *tag, const char *fmt, va_list ap)
	EVPN_PRINTF(3, 0);

static void line(struct ck *c, const char *tag, const char *fmt, va_list ap)
{
	printf("%-4s - %s: ", tag, c->prefix ? c->prefix : "check");
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

bool ck_ok(struct ck *c, bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line(c, cond ? "ok" : "FAIL", fmt, ap);
	va_end(ap);
	if (cond)
		c->passed++;
	else
		c->failed++;
	return cond;
}

void ck_skip(struct ck *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line(c, "skip", fmt, ap);
	va_end(ap);
	c->skipped++;
}

bool ck_rc(struct ck *c, int rc, int want, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (rc == want)
		return ck_ok(c, true, "%s", what);
	return ck_ok(c, false, "%s (got %d %s, want %d %s)", what, rc,
		     evpn_strerror(rc), want, evpn_strerror(want));
}
