/* SPDX-License-Identifier: MIT */
/* Turn an ICMP / ICMPv6 echo request into its reply in place (test egress
 * helpers). Returns false for anything else. */
#ifndef WG_TEST_ICMP_ECHO_H
#define WG_TEST_ICMP_ECHO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	return sum;
}

static inline bool icmp_echo_reply(uint8_t *p, uint32_t len)
{
	uint8_t tmp[16];
	uint32_t sum;
	uint16_t c;
	size_t hl;

	if (len >= 20 && p[0] >> 4 == 4) {
		hl = (size_t)(p[0] & 15) * 4;
		if (p[9] != 1 || len < hl + 8 || p[hl] != 8)
			return false;
		memcpy(tmp, p + 12, 4);
		memcpy(p + 12, p + 16, 4);
		memcpy(p + 16, tmp, 4);
		p[hl] = 0;
		p[hl + 2] = p[hl + 3] = 0;
		c = csum_fold(csum_add(0, p + hl, len - hl));
		p[hl + 2] = (uint8_t)(c >> 8);
		p[hl + 3] = (uint8_t)c;
		return true; /* IP checksum is unchanged by the swap */
	}
	if (len >= 48 && p[0] >> 4 == 6) {
		if (p[6] != 58 || p[40] != 128)
			return false;
		memcpy(tmp, p + 8, 16);
		memcpy(p + 8, p + 24, 16);
		memcpy(p + 24, tmp, 16);
		p[40] = 129;
		p[42] = p[43] = 0;
		sum = csum_add(0, p + 8, 32);
		sum += len - 40;
		sum += 58;
		sum = csum_add(sum, p + 40, len - 40);
		c = csum_fold(sum);
		p[42] = (uint8_t)(c >> 8);
		p[43] = (uint8_t)c;
		return true;
	}
	return false;
}

#endif
