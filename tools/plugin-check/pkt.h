/* SPDX-License-Identifier: MIT */
/* IPv4 packets for the egress harness: build a client's, read a reply. */
#ifndef EVPN_CHECK_PKT_H
#define EVPN_CHECK_PKT_H

#include <stddef.h>
#include <stdint.h>

#define CK_TCP_FIN 0x01
#define CK_TCP_SYN 0x02
#define CK_TCP_RST 0x04
#define CK_TCP_PSH 0x08
#define CK_TCP_ACK 0x10

struct ck_ip {
	uint8_t src[4], dst[4];
};

/* Each returns the packet length written into out (>= 1500 bytes). */
size_t ck_pkt_icmp_echo(uint8_t *out, const struct ck_ip *a, uint16_t id,
			uint16_t seq, const void *payload, size_t len);
size_t ck_pkt_udp(uint8_t *out, const struct ck_ip *a, uint16_t sport,
		  uint16_t dport, const void *payload, size_t len);
size_t ck_pkt_tcp(uint8_t *out, const struct ck_ip *a, uint16_t sport,
		  uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		  const void *payload, size_t len);

/* A parsed reply (IPv4 only). */
struct ck_reply {
	uint8_t proto;
	uint8_t src[4], dst[4];
	uint16_t sport, dport; /* UDP/TCP */
	uint8_t type, code;    /* ICMP */
	uint16_t id, seq;      /* ICMP echo */
	uint8_t flags;	       /* TCP */
	uint32_t tseq, tack;   /* TCP */
	const uint8_t *payload;
	size_t plen;
	/* ICMP errors: the quoted packet's protocol and destination port */
	uint8_t q_proto;
	uint16_t q_dport;
};

/* 0 when p is a well-formed IPv4 packet (header checksum right). */
int ck_pkt_parse(const uint8_t *p, size_t len, struct ck_reply *r);

#endif
