// SPDX-License-Identifier: MIT
/*
 * Finding things by a number: peers by public key and by handle (two hash
 * tables of intrusive lists), and handshakes and sessions by the receiver
 * index the other side puts in every message (the index table).
 */
#include <stdlib.h>
#include <string.h>

#include "wg.h"

/* Bucket of a public key in d->peer_buckets. */
static uint32_t key_bucket(const uint8_t key[WG_KEY_LEN])
{
	uint32_t h;

	/* Public keys are uniformly random: a slice of one is a hash. */
	memcpy(&h, key + 8, sizeof(h));
	return h & (WG_PEER_BUCKETS - 1);
}

/* Bucket of a peer handle in d->handle_buckets. */
static uint32_t handle_bucket(uint32_t handle)
{
	/* Handles are handed out in sequence: their low bits spread. */
	return handle & (WG_PEER_BUCKETS - 1);
}

/* Bucket of a receiver index in d->index. */
static uint32_t index_bucket(uint32_t idx)
{
	/* Indices are random, their low bits are a fine hash. */
	return idx & (WG_INDEX_BUCKETS - 1);
}

int wg_peerlookup_init(struct wg_device *d)
{
	unsigned i;

	d->peer_buckets = calloc(WG_PEER_BUCKETS, sizeof(*d->peer_buckets));
	d->handle_buckets = calloc(WG_PEER_BUCKETS, sizeof(*d->handle_buckets));
	d->index = calloc(WG_INDEX_BUCKETS, sizeof(*d->index));
	if (!d->peer_buckets || !d->handle_buckets || !d->index)
		return EVPN_ERR_NOMEM;
	for (i = 0; i < WG_PEER_BUCKETS; i++) {
		wg_list_init(&d->peer_buckets[i]);
		wg_list_init(&d->handle_buckets[i]);
	}
	return EVPN_OK;
}

void wg_peerlookup_free(struct wg_device *d)
{
	free(d->peer_buckets);
	free(d->handle_buckets);
	free(d->index);
	d->peer_buckets = d->handle_buckets = NULL;
	d->index = NULL;
}

/* ---------------------------------------------------------------- peers */

struct wg_peer *wg_device_peer_find(struct wg_device *d,
				    const uint8_t key[WG_KEY_LEN])
{
	struct wg_list *head = &d->peer_buckets[key_bucket(key)], *pos;

	wg_list_for_each(pos, head)
	{
		struct wg_peer *p =
			wg_list_entry(pos, struct wg_peer, key_link);

		if (!memcmp(p->public_key, key, WG_KEY_LEN))
			return p;
	}
	return NULL;
}

struct wg_peer *wg_peer_by_handle(struct wg_device *d, uint32_t handle)
{
	struct wg_list *head = &d->handle_buckets[handle_bucket(handle)], *pos;

	wg_list_for_each(pos, head)
	{
		struct wg_peer *p =
			wg_list_entry(pos, struct wg_peer, handle_link);

		if (p->handle == handle)
			return p;
	}
	return NULL;
}

void wg_peer_hash_add(struct wg_device *d, struct wg_peer *p)
{
	wg_list_add(&d->peer_buckets[key_bucket(p->public_key)], &p->key_link);
	wg_list_add(&d->handle_buckets[handle_bucket(p->handle)],
		    &p->handle_link);
}

void wg_peer_hash_del(struct wg_peer *p)
{
	if (wg_list_linked(&p->key_link))
		wg_list_del(&p->key_link);
	if (wg_list_linked(&p->handle_link))
		wg_list_del(&p->handle_link);
}

/* ---------------------------------------------------------------- index */

void wg_index_insert(struct wg_device *d, struct wg_index_entry *e,
		     struct wg_peer *p, uint8_t kind)
{
	uint32_t b = index_bucket(e->index);

	e->peer = p;
	e->kind = kind;
	e->next = d->index[b];
	d->index[b] = e;
	e->hashed = true;
}

void wg_index_remove(struct wg_device *d, struct wg_index_entry *e)
{
	struct wg_index_entry **pp;

	if (!e->hashed)
		return;
	for (pp = &d->index[index_bucket(e->index)]; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	e->hashed = false;
	e->next = NULL;
}

struct wg_index_entry *wg_index_find(struct wg_device *d, uint32_t index)
{
	struct wg_index_entry *e;

	for (e = d->index[index_bucket(index)]; e; e = e->next)
		if (e->index == index)
			return e;
	return NULL;
}
