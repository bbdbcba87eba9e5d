/* SPDX-License-Identifier: MIT */
/*
 * Just enough IP parsing for the egress: what a packet is, where it goes,
 * and the Internet checksum. Pure functions, no state (unit-tested).
 */
#ifndef SLE_PKT_H
#define SLE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLE_PROTO_ICMP 1
#define SLE_PROTO_TCP 6
#define SLE_PROTO_UDP 17
#define SLE_PROTO_ICMP6 58

#define SLE_TCP_FIN 0x01
#define SLE_TCP_SYN 0x02
#define SLE_TCP_RST 0x04
#define SLE_TCP_ACK 0x10

struct sle_pkt_info {
	uint8_t family; /* 4 or 6 */
	uint8_t proto;	/* transport protocol */
	uint8_t tcp_flags;
	bool first_frag; /* carries the transport header (offset 0) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport; /* host order; ICMP echo: id in both */
	uint16_t l3_len;       /* IP header length */
	uint16_t total_len;    /* from the IP header */
	uint32_t tcp_seq, tcp_ack;
	uint16_t payload_len; /* bytes after the transport header */
	uint8_t icmp_type;
};

/* Parse an IP packet. False when it is not a well-formed IPv4/IPv6 packet
 * (too short, bad lengths, bad version). */
bool sle_pkt_parse(const uint8_t *p, size_t len, struct sle_pkt_info *out);

/* One's complement sum, to be folded by sle_csum_fold. */
uint32_t sle_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t sle_csum_fold(uint32_t sum);
/* Pseudo-header sum for TCP/UDP/ICMPv6 over IPv4 (family 4) or IPv6. */
uint32_t sle_csum_pseudo(int family, const uint8_t *src, const uint8_t *dst,
			 uint8_t proto, uint32_t len);

static inline uint32_t sle_v4(const uint8_t *a)
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
	       (uint32_t)a[2] << 8 | a[3];
}

#endif /* SLE_PKT_H */
