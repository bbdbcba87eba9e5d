/* SPDX-License-Identifier: MIT */
/*
 * Allowed IPs: a path-compressed binary trie per address family mapping
 * prefixes to peers. Lookup returns the peer of the longest matching prefix
 * (cryptokey routing, whitepaper section 2).
 */
#ifndef WG_ALLOWEDIPS_H
#define WG_ALLOWEDIPS_H

#include <stddef.h>
#include <stdint.h>

#include <evpn/plugin.h>

struct wg_aip_node;

struct wg_allowedips {
	struct wg_aip_node *root4;
	struct wg_aip_node *root6;
	size_t count; /* prefixes stored */
};

void wg_aip_init(struct wg_allowedips *t);
void wg_aip_free(struct wg_allowedips *t);
/* Insert or replace: a prefix maps to one peer; `addr` is 4 or 16 bytes in
 * network order, host bits are ignored. */
int wg_aip_insert(struct wg_allowedips *t, int family, const uint8_t *addr,
		  uint8_t cidr, void *peer) EVPN_WUR;
/* Remove one exact prefix (whatever peer it maps to); 0 or NOTFOUND. */
int wg_aip_remove(struct wg_allowedips *t, int family, const uint8_t *addr,
		  uint8_t cidr);
/* Remove one exact prefix only if it still maps to `peer` (an insert for
 * another peer may have taken it over): O(prefix length), no walk. */
int wg_aip_remove_if(struct wg_allowedips *t, int family, const uint8_t *addr,
		     uint8_t cidr, const void *peer);
/* Remove every prefix of a peer: walks the whole trie (tests; the device
 * removes a peer's own prefixes with wg_aip_remove_if). */
void wg_aip_remove_peer(struct wg_allowedips *t, void *peer);
void *wg_aip_lookup(const struct wg_allowedips *t, int family,
		    const uint8_t *addr);
/* Calls fn for each prefix of a peer (for UAPI and stats). */
void wg_aip_foreach_peer(const struct wg_allowedips *t, void *peer,
			 void (*fn)(void *arg, int family, const uint8_t *addr,
				    uint8_t cidr),
			 void *arg);

#endif
