/* SPDX-License-Identifier: MIT */
/* Internet checksums and big-endian fields, for gso.c and gro.c. */
#ifndef EVPN_RAW_CSUM_H
#define EVPN_RAW_CSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * One's-complement sums in native byte order (RFC 1071: the result, stored
 * natively, is right on the wire). Regions summed separately must each
 * start at an even offset of the checksummed data.
 */
static inline uint64_t sum_bytes(uint64_t s, const uint8_t *p, size_t n)
{
	uint32_t w;
	uint16_t h;

	while (n >= 4) {
		memcpy(&w, p, 4);
		s += w;
		p += 4;
		n -= 4;
	}
	if (n >= 2) {
		memcpy(&h, p, 2);
		s += h;
		p += 2;
		n -= 2;
	}
	if (n) {
		h = 0;
		memcpy(&h, p, 1);
		s += h;
	}
	return s;
}

static inline uint16_t fold(uint64_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

static inline void put_csum(uint8_t *at, uint64_t s)
{
	uint16_t c = (uint16_t)~fold(s);

	memcpy(at, &c, 2);
}

static inline void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
