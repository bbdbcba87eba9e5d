/* SPDX-License-Identifier: MIT */
/*
 * Refusals a client notices at once instead of a silent hang: a TCP RST
 * for TCP, an ICMP "communication administratively prohibited"
 * (type 3 code 13) for everything else. Pure functions (unit-tested).
 */
#ifndef SLE_REJECT_H
#define SLE_REJECT_H

#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

/* Largest reply sle_reject_build writes. */
#define SLE_REJECT_MAX 128

/* Write the refusal of packet `p` (parsed as `pi`) into out (at least
 * SLE_REJECT_MAX bytes). Returns its length, or 0 when no refusal must be
 * sent (a RST, an ICMP error, a non-first fragment, IPv6). */
size_t sle_reject_build(const uint8_t *p, const struct sle_pkt_info *pi,
			uint8_t *out);

/* A bare TCP segment with the given flags from src:sport to dst:dport
 * (IPv4, 40 bytes, checksums filled). */
size_t sle_tcp_segment(uint8_t *out, int family, const uint8_t *src,
		       uint16_t sport, const uint8_t *dst, uint16_t dport,
		       uint32_t seq, uint32_t ack, uint8_t flags);

void sle_ip4_csum(uint8_t *ip, size_t hl);

#endif /* SLE_REJECT_H */
