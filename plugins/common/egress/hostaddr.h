/* SPDX-License-Identifier: MIT */
/*
 * The host's own addresses (every interface, both families), as the
 * egress filter needs them per packet: a client must not reach the host's
 * services through the egress, whatever address it names and whenever
 * that address appeared.
 *
 * The set is read with getifaddrs() and read again when the kernel says an
 * address came or went: a NETLINK_ROUTE socket joined to the IPv4 and IPv6
 * address groups (unprivileged) is drained without blocking before each
 * batch of client packets (sle_hostaddr_refresh), so an address added
 * before a packet arrives is known when that packet is checked. Without
 * that socket (netlink refused by a sandbox) the set is read again at most
 * every SLE_HOSTADDR_POLL seconds. No fixed cap: the arrays grow to what
 * the host has. Lookups are binary searches.
 */
#ifndef SLE_HOSTADDR_H
#define SLE_HOSTADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SLE_HOSTADDR_POLL 1.0

struct sle_hostaddr {
	uint32_t *v4;	   /* sorted, host order */
	uint8_t (*v6)[16]; /* sorted (memcmp) */
	size_t n4, n6;
	int nl;		  /* netlink socket, -1 without */
	bool stale;	  /* read again at the next refresh */
	double next;	  /* without netlink: when to read again */
	uint64_t reloads; /* times the set was read (tests, debug) */
};

/* Opens the netlink socket (when it can) and reads the set once. Returns
 * 0, or -1 when the first read failed (the set is then empty and read
 * again at the next refresh). */
int sle_hostaddr_open(struct sle_hostaddr *h);
void sle_hostaddr_close(struct sle_hostaddr *h);

/* Before a batch: read the set again when the kernel announced a change
 * (or, without netlink, when SLE_HOSTADDR_POLL has passed since `now`). A
 * failed read keeps the previous set and is retried next time. */
void sle_hostaddr_refresh(struct sle_hostaddr *h, double now);

/* Replace the set with n addresses (family 4: 4 bytes in network order at
 * each addr; 6: 16 bytes). The pure part of a read, for the unit tests.
 * Returns 0 or -1 (no memory; the previous set stays). */
int sle_hostaddr_set(struct sle_hostaddr *h, size_t n, const uint8_t *family,
		     const uint8_t (*addr)[16]);

/* Is a (family 4: 4 bytes, 6: 16 bytes, network order) one of them? */
bool sle_hostaddr_has(const struct sle_hostaddr *h, int family,
		      const uint8_t *a);

#endif /* SLE_HOSTADDR_H */
