/* SPDX-License-Identifier: MIT */
/*
 * Which client packets may reach slirp. Decided per packet BEFORE slirp
 * sees it, because slirp would otherwise open a host socket toward any
 * address, including the host's loopback and the cloud metadata service.
 *
 * Order of the rules (first match wins):
 *   1. IPv6, and protocols slirp does not carry (anything but TCP, UDP
 *      and ICMP echo): refused.
 *   2. Addresses inside the pool: slirp treats them as its own aliases.
 *      The DNS address answers TCP/UDP port 53 (forwarded to the host's
 *      resolvers) and ping, and nothing else; the server address answers
 *      ping. Anything else there (other clients, other ports) would be
 *      mapped by slirp to the host's 127.0.0.1: refused as "loopback"
 *      unless allow_loopback. The network and broadcast addresses are
 *      refused ("special").
 *   3. `deny` CIDRs: refused.
 *   4. `allow` CIDRs: passed (an operator opening a built-in refusal).
 *   5. Built-in refusals: 127.0.0.0/8 (unless allow_loopback),
 *      169.254.0.0/16 (link-local, cloud metadata 169.254.169.254, ECS
 *      credentials 169.254.170.2), 0.0.0.0/8, multicast and reserved
 *      224.0.0.0/3, and the server's own API listener (TCP address:port).
 *   6. Everything else passes.
 */
#ifndef SLE_FILTER_H
#define SLE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

enum sle_reason {
	SLE_PASS = 0,
	SLE_R_MALFORMED,
	SLE_R_IPV6,
	SLE_R_PROTO,
	SLE_R_LOOPBACK,
	SLE_R_LINKLOCAL,
	SLE_R_SPECIAL,
	SLE_R_API,
	SLE_R_DENY,
	SLE_R_FLOWS,
	SLE_R_PEER_FLOWS,
	SLE_R_MEMORY,
	SLE_R__COUNT
};

const char *sle_reason_name(enum sle_reason r);

struct sle_cidr {
	uint8_t family; /* 4 or 6 */
	uint8_t prefix;
	uint8_t addr[16];
};

#define SLE_MAX_API 32

struct sle_filter {
	struct sle_cidr *allow, *deny;
	size_t n_allow, n_deny;
	bool allow_loopback;
	uint32_t pool, pool_mask; /* host order */
	uint32_t vhost, dns;	  /* host order */
	/* with network.pool6 */
	bool has6;
	struct sle_cidr pool6;
	uint8_t vhost6[16], dns6[16];
	struct {
		uint8_t family;	  /* 4 or 6 */
		uint8_t addr[16]; /* network order: 4 or 16 bytes */
		uint16_t port;
	} api[SLE_MAX_API];
	size_t n_api;
};

/* "10.0.0.0/8", "fd00::/8", a bare address means a host route. */
bool sle_cidr_parse(const char *s, struct sle_cidr *out);
bool sle_cidr_match(const struct sle_cidr *c, int family, const uint8_t *a);

/* Add one TCP address:port of the server's API to refuse: family 4 with
 * 4 bytes of addr, or 6 with 16 (network order). */
void sle_filter_add_api(struct sle_filter *f, int family, const uint8_t *addr,
			uint16_t port);

/* Is pi TCP to one of the API addresses added? */
bool sle_filter_is_api(const struct sle_filter *f,
		       const struct sle_pkt_info *pi);

enum sle_reason sle_filter_check(const struct sle_filter *f,
				 const struct sle_pkt_info *pi);

#endif /* SLE_FILTER_H */
