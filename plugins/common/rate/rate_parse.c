/* SPDX-License-Identifier: MIT */
/* Rate limits as text: "20mbit" <-> 20000000 bits per second. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "rate.h"

static const struct {
	const char *unit;
	uint64_t mult; /* bits per second per unit */
} units[] = {
	{"", 1},
	{"bit", 1},
	{"bps", 1},
	{"kbit", 1000ULL},
	{"kbps", 1000ULL},
	{"mbit", 1000ULL * 1000},
	{"mbps", 1000ULL * 1000},
	{"gbit", 1000ULL * 1000 * 1000},
	{"gbps", 1000ULL * 1000 * 1000},
	{"b/s", 8},
	{"kb/s", 8ULL * 1000},
	{"mb/s", 8ULL * 1000 * 1000},
	{"gb/s", 8ULL * 1000 * 1000 * 1000},
};

int rate_parse(const char *s, uint64_t *bps)
{
	uint64_t whole = 0, frac = 0, scale = 1;
	const char *p = s;

	*bps = 0;
	if (!s)
		return -1;
	while (*p == ' ')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > RATE_MAX_BPS)
			return -1;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		/* up to 9 decimals: "1.000000001gbit" is exact */
		for (; isdigit((unsigned char)*p); p++) {
			if (scale >= 1000000000ULL)
				return -1;
			frac = frac * 10 + (uint64_t)(*p - '0');
			scale *= 10;
		}
	}
	while (*p == ' ')
		p++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t m = units[i].mult, v;

		if (strcasecmp(p, units[i].unit) != 0)
			continue;
		/* whole <= 1e11 and m <= 8e9 could overflow: check first */
		if (whole && m > RATE_MAX_BPS / whole)
			return -1;
		v = whole * m;
		/* frac < scale <= 1e9 and m <= 8e9: the product fits */
		if (frac) {
			if ((frac * m) % scale)
				return -1; /* finer than one bit per second */
			v += frac * m / scale;
		}
		if (v != 0 && (v < RATE_MIN_BPS || v > RATE_MAX_BPS))
			return -1;
		*bps = v;
		return 0;
	}
	return -1;
}

void rate_format(uint64_t bps, char *out, size_t outlen)
{
	static const struct {
		const char *unit;
		uint64_t div;
	} f[] = {{"gbit", 1000000000ULL},
		 {"mbit", 1000000ULL},
		 {"kbit", 1000ULL}};

	if (bps == 0) {
		snprintf(out, outlen, "0");
		return;
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		uint64_t w = bps / f[i].div, r = bps % f[i].div, d = f[i].div;

		if (!w)
			continue;
		/* whole, or with up to 3 decimals when that is exact */
		for (int digits = 0; digits <= 3; digits++, d /= 10) {
			if (r % d)
				continue;
			if (!digits)
				snprintf(out, outlen, "%llu%s",
					 (unsigned long long)w, f[i].unit);
			else
				snprintf(out, outlen, "%llu.%0*llu%s",
					 (unsigned long long)w, digits,
					 (unsigned long long)(r / d),
					 f[i].unit);
			return;
		}
	}
	snprintf(out, outlen, "%llubit", (unsigned long long)bps);
}
