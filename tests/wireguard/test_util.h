/* SPDX-License-Identifier: MIT */
/* Small helpers shared by the WireGuard unit tests. */
#ifndef WG_TEST_UTIL_H
#define WG_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline size_t unhex(uint8_t *out, const char *hexstr)
{
	size_t n = 0;
	unsigned v;

	while (hexstr[0] && hexstr[1]) {
		sscanf(hexstr, "%2x", &v);
		out[n++] = (uint8_t)v;
		hexstr += 2;
	}
	return n;
}

static inline void tohex(char *out, const uint8_t *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * n] = 0;
}

#endif
