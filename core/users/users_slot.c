/* SPDX-License-Identifier: MIT */
/*
 * The users service's resident records (struct user_slot): packing a full
 * record into one, unpacking it for a request, and installing a freshly
 * loaded set in place of the old one (telling the transport what changed).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users_int.h"

void users_slot_pack(struct user_slot *s, const struct user_rec *r)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->client_id, r->u.client_id, sizeof(s->client_id));
	memcpy(s->pub, r->pub, sizeof(s->pub));
	memcpy(s->key_hash, r->key_hash, sizeof(s->key_hash));
	s->has_hash = r->has_hash;
	if (!evpn_parse_rfc3339(r->u.created_at, &s->created))
		s->created = 0;
	s->expires = r->expires;
	/* Loads and creates only keep users whose address is an IPv4 /32 of
	 * the pool (the pool marks it); anything else stays 0.0.0.0. */
	if (!evpn_pool_parse(r->u.address, &s->addr4))
		s->addr4 = 0;
	s->active = r->u.status == EVPN_USER_ACTIVE;
	s->has_rate = r->has_rate;
	s->rate_bps = r->has_rate ? r->rate_bps : 0;
}

/* The IPv6 address paired with the IPv4 one (host order); "" without
 * network.pool6. */
static void fill_address6(const struct evpn_users *u, uint32_t addr4,
			  struct user_rec *r)
{
	char ip6[INET6_ADDRSTRLEN];

	r->u.address6[0] = '\0';
	if (evpn_pool6_pair_addr(&u->pool6, addr4, ip6))
		snprintf(r->u.address6, sizeof(r->u.address6), "%s/128", ip6);
}

void users_fill_address6(const struct evpn_users *u, struct user_rec *r)
{
	uint32_t a;

	if (evpn_pool_parse(r->u.address, &a))
		fill_address6(u, a, r);
	else
		r->u.address6[0] = '\0';
}

void users_slot_unpack(const struct evpn_users *u, const struct user_slot *s,
		       struct user_rec *r)
{
	char ip[16];

	memset(r, 0, sizeof(*r));
	memcpy(r->u.client_id, s->client_id, sizeof(s->client_id));
	r->u.status = s->active ? EVPN_USER_ACTIVE : EVPN_USER_INACTIVE;
	evpn_rfc3339(s->created, r->u.created_at);
	if (s->expires)
		evpn_rfc3339(s->expires, r->u.expires_at);
	evpn_pool_format(s->addr4, ip);
	snprintf(r->u.address, sizeof(r->u.address), "%s/32", ip);
	fill_address6(u, s->addr4, r);
	evpn_key_b64(s->pub, r->u.public_key);
	memcpy(r->pub, s->pub, sizeof(r->pub));
	memcpy(r->key_hash, s->key_hash, sizeof(r->key_hash));
	r->has_hash = s->has_hash;
	r->expires = s->expires;
	r->has_rate = s->has_rate;
	r->rate_bps = s->rate_bps;
}

static void push_slot(struct evpn_users *u, const struct user_slot *s,
		      bool remove)
{
	struct user_rec r;

	users_slot_unpack(u, s, &r);
	users_push_peer(u, &r, remove);
}

/* Tell the transport what a reload changed (both arrays sorted by id). */
static void push_diff(struct evpn_users *u, const struct user_slot *old,
		      size_t nold, const struct user_slot *cur, size_t ncur)
{
	size_t i = 0, j = 0;

	while (i < nold || j < ncur) {
		int c = i == nold ? 1
			: j == ncur
				? -1
				: strcmp(old[i].client_id, cur[j].client_id);

		if (c < 0) {
			push_slot(u, &old[i++], true);
		} else if (c > 0) {
			push_slot(u, &cur[j++], false);
		} else {
			bool new_key = memcmp(old[i].pub, cur[j].pub,
					      EVPN_KEY_LEN) != 0;

			if (new_key)
				push_slot(u, &old[i], true);
			/* a limit changed on another instance applies here
			 * at once */
			if (new_key || old[i].active != cur[j].active ||
			    old[i].addr4 != cur[j].addr4 ||
			    users_rate_of(u, old[i].has_rate,
					  old[i].rate_bps) !=
				    users_rate_of(u, cur[j].has_rate,
						  cur[j].rate_bps))
				push_slot(u, &cur[j], false);
			i++;
			j++;
		}
	}
}

/* Outside the lock: a loaded set in resident form (*out NULL when n is 0). */
int users_slots_pack(const struct user_rec *recs, size_t n,
		     struct user_slot **out)
{
	*out = NULL;
	if (!n)
		return EVPN_OK;
	*out = malloc(n * sizeof(**out));
	if (!*out)
		return EVPN_ERR_NOMEM;
	for (size_t i = 0; i < n; i++)
		users_slot_pack(&(*out)[i], &recs[i]);
	return EVPN_OK;
}

/* Replace the resident set (sorted by id) with slots, which it takes. */
void users_install_locked(struct evpn_users *u, struct user_slot *slots,
			  size_t n)
{
	if (u->live)
		push_diff(u, u->recs, u->n, slots, n);
	free(u->recs);
	u->recs = slots;
	u->n = u->cap = n;
	/* a load: what other instances changed is read again */
	users_cache_invalidate(u);
}
