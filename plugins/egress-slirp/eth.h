/* SPDX-License-Identifier: MIT */
/*
 * The Ethernet side of slirp. slirp is a "guest NIC": it speaks Ethernet
 * frames and learns where guests are through ARP. Our clients are not on an
 * Ethernet, so each gets a stable fake MAC derived from its IPv4 address,
 * and slirp's ARP requests are answered on the spot. Pure functions.
 */
#ifndef SLE_ETH_H
#define SLE_ETH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLE_ETH_HLEN 14
#define SLE_ETH_P_IP 0x0800
#define SLE_ETH_P_ARP 0x0806
#define SLE_ETH_P_IPV6 0x86dd
#define SLE_ARP_FRAME_LEN 42
#define SLE_NA_FRAME_LEN (SLE_ETH_HLEN + 40 + 32)

/* 02:45:a.b.c.d: locally administered unicast, unique per client. */
void sle_fake_mac(const uint8_t ip[4], uint8_t mac[6]);

/* Write an Ethernet header in front of an IP packet (frame must have room
 * for SLE_ETH_HLEN bytes before the packet). */
void sle_eth_header(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6],
		    uint16_t type);

uint16_t sle_eth_type(const uint8_t *frame);

/* If `frame` is an ARP request, write the reply for its target address,
 * with the fake MAC of that address, into reply (SLE_ARP_FRAME_LEN bytes)
 * and return true. The target IP is returned in *target. */
bool sle_arp_answer(const uint8_t *frame, size_t len, uint8_t *reply,
		    uint8_t target[4]);

/* The same for IPv6: if `frame` is a neighbour solicitation (ICMPv6 135)
 * from slirp, write the neighbour advertisement for its target, from that
 * target's fake MAC (made of its last 4 bytes), into reply
 * (SLE_NA_FRAME_LEN bytes) and return true. */
bool sle_ndp_answer(const uint8_t *frame, size_t len, uint8_t *reply);

#endif /* SLE_ETH_H */
