/* SPDX-License-Identifier: MIT */
/*
 * Which client packets may leave through the egress: one destination
 * policy for both egresses (slirp and raw-socket), decided per packet
 * before the packet goes anywhere. slirp would otherwise open a host
 * socket toward any address, and the kernel behind the raw-socket egress
 * would route or deliver it: to the host's loopback, the cloud metadata
 * service, the host's own services, other clients.
 *
 * Order of the rules (first match wins):
 *   1. slirp only: IPv6 without network.pool6, and protocols slirp does
 *      not carry (anything but TCP, UDP and ICMP echo): refused.
 *   2. Addresses inside the pool.
 *      slirp: they are slirp's own aliases. The DNS address answers
 *      TCP/UDP port 53 (forwarded to the host's resolvers) and ping, and
 *      nothing else; the server address answers ping. Anything else
 *      there (other clients, other ports) would be mapped by slirp to the
 *      host's 127.0.0.1: refused as "loopback" unless allow_loopback (and
 *      never the API's port). Network and broadcast: "special".
 *      raw-socket (routed): network and broadcast are "special"; the rest
 *      goes on below (the server address and the other clients are
 *      refused after `allow`).
 *   3. `deny` CIDRs: refused.
 *   4. The API's port (TCP) on any of the host's own addresses, and the
 *      server address: refused as "api", whatever `allow` says.
 *   5. raw-socket: the server address answers ping and DNS (TCP/UDP 53).
 *   6. `allow` CIDRs: passed (an operator opening a built-in refusal).
 *   7. raw-socket: the server address's other ports are "host", other
 *      clients "client".
 *   8. Built-in refusals: 127.0.0.0/8 (unless allow_loopback),
 *      169.254.0.0/16 (link-local, cloud metadata 169.254.169.254, ECS
 *      credentials 169.254.170.2), 0.0.0.0/8, multicast and reserved
 *      224.0.0.0/3, and every port of the host's own addresses ("host":
 *      the set in hostaddr.h, read again when an address comes or goes).
 *   9. Everything else passes.
 */
#ifndef SLE_FILTER_H
#define SLE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hostaddr.h"
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
	SLE_R_HOST,
	SLE_R_CLIENT,
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

/* A port the host listens on: proto is SLE_PROTO_TCP or SLE_PROTO_UDP. */
struct sle_port {
	uint8_t proto;
	uint16_t port;
};

struct sle_filter {
	struct sle_cidr *allow, *deny;
	size_t n_allow, n_deny;
	bool allow_loopback;
	/* false: slirp (pool addresses are slirp's aliases); true: the
	 * kernel routes the pool (raw-socket) */
	bool routed;
	uint32_t pool, pool_mask; /* host order */
	uint32_t vhost, dns;	  /* host order (routed: both the server) */
	/* with network.pool6 */
	bool has6;
	struct sle_cidr pool6;
	uint8_t vhost6[16], dns6[16];
	/* the host's own addresses (NULL: none known) */
	const struct sle_hostaddr *local;
	/* The host's own listeners to protect (the API, a stream listener;
	 * evpn_host.listener_add): refused as "api" on the host's addresses,
	 * whatever `allow` says. */
	const struct sle_port *protect;
	size_t n_protect;
};

/* "10.0.0.0/8", "fd00::/8", a bare address means a host route. */
bool sle_cidr_parse(const char *s, struct sle_cidr *out);
bool sle_cidr_match(const struct sle_cidr *c, int family, const uint8_t *a);

enum sle_reason sle_filter_check(const struct sle_filter *f,
				 const struct sle_pkt_info *pi);

#endif /* SLE_FILTER_H */
