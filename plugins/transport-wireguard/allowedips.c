// SPDX-License-Identifier: MIT
#include "allowedips.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * Each node holds a prefix (key masked to cidr bits). Children of a node
 * have longer prefixes that extend it; child[b] continues with bit b at
 * position node->cidr. Nodes without a peer exist only to branch.
 */
struct wg_aip_node {
	struct wg_aip_node *child[2];
	void *peer;
	uint8_t cidr;
	uint8_t key[16];
};

static int bit_at(const uint8_t *key, unsigned i)
{
	return (key[i / 8] >> (7 - (i % 8))) & 1;
}

static void mask_key(uint8_t *out, const uint8_t *in, unsigned cidr,
		     unsigned bytes)
{
	unsigned i;

	memset(out, 0, 16);
	for (i = 0; i < bytes; i++) {
		if (cidr >= 8 * (i + 1))
			out[i] = in[i];
		else if (cidr > 8 * i)
			out[i] = in[i] & (uint8_t)(0xff00u >> (cidr - 8 * i));
	}
}

static unsigned common_bits(const uint8_t *a, const uint8_t *b, unsigned max)
{
	unsigned i = 0;

	while (i < max && bit_at(a, i) == bit_at(b, i))
		i++;
	return i;
}

void wg_aip_init(struct wg_allowedips *t)
{
	memset(t, 0, sizeof(*t));
}

static void free_tree(struct wg_aip_node *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
	free(n);
}

void wg_aip_free(struct wg_allowedips *t)
{
	free_tree(t->root4);
	free_tree(t->root6);
	wg_aip_init(t);
}

static struct wg_aip_node **root_of(struct wg_allowedips *t, int family,
				    unsigned *bits)
{
	if (family == AF_INET) {
		*bits = 32;
		return &t->root4;
	}
	if (family == AF_INET6) {
		*bits = 128;
		return &t->root6;
	}
	return NULL;
}

static struct wg_aip_node *new_node(const uint8_t *key, uint8_t cidr,
				    void *peer)
{
	struct wg_aip_node *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	memcpy(n->key, key, 16);
	n->cidr = cidr;
	n->peer = peer;
	return n;
}

int wg_aip_insert(struct wg_allowedips *t, int family, const uint8_t *addr,
		  uint8_t cidr, void *peer)
{
	struct wg_aip_node **slot, *node, *leaf, *branch;
	uint8_t key[16];
	unsigned bits, common;

	slot = root_of(t, family, &bits);
	if (!slot || cidr > bits || !peer)
		return EVPN_ERR_INVAL;
	mask_key(key, addr, cidr, bits / 8);

	for (;;) {
		node = *slot;
		if (!node) {
			leaf = new_node(key, cidr, peer);
			if (!leaf)
				return EVPN_ERR_NOMEM;
			*slot = leaf;
			t->count++;
			return EVPN_OK;
		}
		common = common_bits(node->key, key,
				     node->cidr < cidr ? node->cidr : cidr);
		if (common == node->cidr && node->cidr == cidr) {
			if (!node->peer)
				t->count++;
			node->peer = peer;
			return EVPN_OK;
		}
		if (common == node->cidr) {
			slot = &node->child[bit_at(key, node->cidr)];
			continue;
		}
		leaf = new_node(key, cidr, peer);
		if (!leaf)
			return EVPN_ERR_NOMEM;
		if (common == cidr) {
			/* The new prefix contains the node: it goes above. */
			leaf->child[bit_at(node->key, cidr)] = node;
			*slot = leaf;
		} else {
			uint8_t bkey[16];

			mask_key(bkey, key, common, bits / 8);
			branch = new_node(bkey, (uint8_t)common, NULL);
			if (!branch) {
				free(leaf);
				return EVPN_ERR_NOMEM;
			}
			branch->child[bit_at(key, common)] = leaf;
			branch->child[bit_at(node->key, common)] = node;
			*slot = branch;
		}
		t->count++;
		return EVPN_OK;
	}
}

/* Drop peerless nodes that no longer branch. */
static void prune(struct wg_aip_node **slot)
{
	struct wg_aip_node *n = *slot;

	if (!n || n->peer)
		return;
	if (!n->child[0] || !n->child[1]) {
		*slot = n->child[0] ? n->child[0] : n->child[1];
		free(n);
	}
}

static size_t remove_peer_rec(struct wg_aip_node **slot, void *peer)
{
	struct wg_aip_node *n = *slot;
	size_t removed = 0;

	if (!n)
		return 0;
	removed += remove_peer_rec(&n->child[0], peer);
	removed += remove_peer_rec(&n->child[1], peer);
	if (n->peer == peer) {
		n->peer = NULL;
		removed++;
	}
	prune(slot);
	return removed;
}

void wg_aip_remove_peer(struct wg_allowedips *t, void *peer)
{
	t->count -= remove_peer_rec(&t->root4, peer);
	t->count -= remove_peer_rec(&t->root6, peer);
}

static int remove_rec(struct wg_aip_node **slot, const uint8_t *key,
		      unsigned cidr, const void *only)
{
	struct wg_aip_node *n = *slot;
	int rc;

	if (!n || n->cidr > cidr || common_bits(n->key, key, n->cidr) < n->cidr)
		return EVPN_ERR_NOTFOUND;
	if (n->cidr == cidr) {
		if (!n->peer || (only && n->peer != only))
			return EVPN_ERR_NOTFOUND;
		n->peer = NULL;
		prune(slot);
		return EVPN_OK;
	}
	rc = remove_rec(&n->child[bit_at(key, n->cidr)], key, cidr, only);
	if (rc == EVPN_OK)
		prune(slot);
	return rc;
}

static int remove_prefix(struct wg_allowedips *t, int family,
			 const uint8_t *addr, uint8_t cidr, const void *only)
{
	struct wg_aip_node **slot;
	uint8_t key[16];
	unsigned bits;
	int rc;

	slot = root_of(t, family, &bits);
	if (!slot || cidr > bits)
		return EVPN_ERR_INVAL;
	mask_key(key, addr, cidr, bits / 8);
	rc = remove_rec(slot, key, cidr, only);
	if (rc == EVPN_OK)
		t->count--;
	return rc;
}

int wg_aip_remove(struct wg_allowedips *t, int family, const uint8_t *addr,
		  uint8_t cidr)
{
	return remove_prefix(t, family, addr, cidr, NULL);
}

int wg_aip_remove_if(struct wg_allowedips *t, int family, const uint8_t *addr,
		     uint8_t cidr, const void *peer)
{
	return remove_prefix(t, family, addr, cidr, peer);
}

void *wg_aip_lookup(const struct wg_allowedips *t, int family,
		    const uint8_t *addr)
{
	const struct wg_aip_node *n;
	unsigned bits;
	void *best = NULL;

	if (family == AF_INET) {
		n = t->root4;
		bits = 32;
	} else if (family == AF_INET6) {
		n = t->root6;
		bits = 128;
	} else {
		return NULL;
	}
	while (n) {
		if (common_bits(n->key, addr, n->cidr) < n->cidr)
			break;
		if (n->peer)
			best = n->peer;
		if (n->cidr >= bits)
			break;
		n = n->child[bit_at(addr, n->cidr)];
	}
	return best;
}

static void foreach_rec(const struct wg_aip_node *n, int family, void *peer,
			void (*fn)(void *, int, const uint8_t *, uint8_t),
			void *arg)
{
	if (!n)
		return;
	if (n->peer == peer)
		fn(arg, family, n->key, n->cidr);
	foreach_rec(n->child[0], family, peer, fn, arg);
	foreach_rec(n->child[1], family, peer, fn, arg);
}

void wg_aip_foreach_peer(const struct wg_allowedips *t, void *peer,
			 void (*fn)(void *arg, int family, const uint8_t *addr,
				    uint8_t cidr),
			 void *arg)
{
	foreach_rec(t->root4, AF_INET, peer, fn, arg);
	foreach_rec(t->root6, AF_INET6, peer, fn, arg);
}
