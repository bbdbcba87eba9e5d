/* SPDX-License-Identifier: MIT */
/*
 * One public key, one user. The transport knows peers by public key, so a
 * second user with a key already in use would take over the first one's
 * peer (and deleting it would remove the first one's). Like an address, a
 * key is claimed with a create-only put, `public-keys/{hex of the key}` ->
 * client_id (hex: base64 has '/' and '+', which are not store-safe), made
 * after the id claim and before the user's records, so it holds across
 * instances sharing the store; deletion frees it.
 *
 * Users stored before keys were claimed get their claim at the next full
 * load (a store without `meta/public-key-claims` is always fully loaded
 * once). Two of them with one key: the one holding the claim, else the
 * older one, is served; the other is reported and not served, and none of
 * its records is touched, so an operator can delete or re-create it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "users_int.h"

#define CLAIMS_MARK "meta/public-key-claims"
#define PREFIX "public-keys/"

void users_key_claim_name(const uint8_t pub[EVPN_KEY_LEN], char out[96])
{
	char hex[EVPN_KEY_HEX_LEN + 1];

	sodium_bin2hex(hex, sizeof(hex), pub, EVPN_KEY_LEN);
	snprintf(out, 96, PREFIX "%s", hex);
}

int users_claim_key(struct evpn_users *u, const char *id,
		    const uint8_t pub[EVPN_KEY_LEN])
{
	char key[96];

	users_key_claim_name(pub, key);
	return u->st->put(u->sts, key, id, strlen(id), EVPN_STORE_CREATE);
}

bool users_key_in_use_locked(const struct evpn_users *u,
			     const uint8_t pub[EVPN_KEY_LEN])
{
	for (size_t i = 0; i < u->n; i++)
		if (memcmp(u->recs[i].pub, pub, EVPN_KEY_LEN) == 0)
			return true;
	return false;
}

bool users_key_claims_marked(struct evpn_users *u, int *err)
{
	char *v = NULL;
	size_t len;
	int r = u->st->get(u->sts, CLAIMS_MARK, &v, &len);

	*err = r == EVPN_ERR_NOTFOUND ? EVPN_OK : r;
	if (r != EVPN_OK)
		return false;
	u->st->free_value(u->sts, v, len);
	return true;
}

static int claims_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct users_key_claims *c = arg;
	struct users_key_claim *k;
	size_t bl;

	if (strncmp(key, PREFIX, strlen(PREFIX)) != 0 ||
	    strlen(key) >= sizeof(k->name))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct users_key_claim *p = realloc(c->c, cap * sizeof(*p));

		if (!p) {
			c->oom = true;
			return 1;
		}
		c->c = p;
		c->cap = cap;
	}
	k = &c->c[c->n++];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", key);
	snprintf(k->owner, sizeof(k->owner), "%.*s", (int)len, value);
	k->valid = sodium_hex2bin(k->pub, EVPN_KEY_LEN, key + strlen(PREFIX),
				  strlen(key + strlen(PREFIX)), NULL, &bl,
				  NULL) == 0 &&
		   bl == EVPN_KEY_LEN &&
		   strlen(key) == strlen(PREFIX) + EVPN_KEY_HEX_LEN;
	return 0;
}

int users_key_claims_list(struct evpn_users *u, struct users_key_claims *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = u->st->list(u->sts, PREFIX, claims_cb, out);
	if (r == EVPN_OK && out->oom)
		r = EVPN_ERR_NOMEM;
	return r;
}

void users_key_claims_free(struct users_key_claims *c)
{
	free(c->c);
	memset(c, 0, sizeof(*c));
}

static const struct user_rec *sort_base;

/* by key, then the older first, then by id: the order that decides */
static int by_key(const void *a, const void *b)
{
	const struct user_rec *x = &sort_base[*(const size_t *)a],
			      *y = &sort_base[*(const size_t *)b];
	int c = memcmp(x->pub, y->pub, EVPN_KEY_LEN);

	if (!c)
		c = strcmp(x->u.created_at, y->u.created_at);
	return c ? c : strcmp(x->u.client_id, y->u.client_id);
}

static int claim_cmp(const void *a, const void *b)
{
	const struct users_key_claim *x = a, *y = b;

	if (x->valid != y->valid)
		return x->valid ? -1 : 1;
	return memcmp(x->pub, y->pub, EVPN_KEY_LEN);
}

static struct users_key_claim *find_claim(struct users_key_claims *c,
					  const uint8_t pub[EVPN_KEY_LEN])
{
	struct users_key_claim key = {.valid = true};

	if (!c || !c->n)
		return NULL;
	memcpy(key.pub, pub, EVPN_KEY_LEN);
	return bsearch(&key, c->c, c->n, sizeof(*c->c), claim_cmp);
}

/* Make sure `winner` holds its key's claim (best effort). */
static bool claim_for(struct evpn_users *u, const struct user_rec *winner,
		      struct users_key_claim *k,
		      bool (*creating)(void *, const char *), void *arg)
{
	int r;

	if (k) {
		k->used = true;
		if (strcmp(k->owner, winner->u.client_id) == 0)
			return true;
		if (creating(arg, k->owner) || users_touched(u, k->owner)) {
			evpn_warn(u->host,
				  "user '%s' is being created with the public "
				  "key of user '%s'; the next full load keeps "
				  "the one holding the key's claim",
				  k->owner, winner->u.client_id);
			return true;
		}
		/* a stale claim: its owner is gone */
		r = u->st->del(u->sts, k->name);
		if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
			return false;
	}
	if (users_touched(u, winner->u.client_id))
		return true; /* being deleted or changed here right now */
	r = users_claim_key(u, winner->u.client_id, winner->pub);
	return r == EVPN_OK || r == EVPN_ERR_EXISTS;
}

/*
 * After a load built recs (sorted by id): keep one user per public key and,
 * with claims (a full load), give every served user its key's claim and
 * sweep claims nobody holds. The users not served are moved to
 * held[*nheld] (the caller's array, room for *nrec) so their address claims
 * stay. Returns true when every claim is in place.
 */
bool users_key_claims_settle(struct evpn_users *u, struct user_rec *recs,
			     size_t *nrec, struct user_rec *held, size_t *nheld,
			     struct users_key_claims *claims,
			     bool (*creating)(void *, const char *), void *arg)
{
	size_t n = *nrec, m = 0, *order;
	bool *drop, all = true;

	*nheld = 0;
	if (!n && !claims)
		return true;
	order = malloc((n ? n : 1) * sizeof(*order));
	drop = calloc(n ? n : 1, sizeof(*drop));
	if (!order || !drop) {
		free(order);
		free(drop);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	if (claims && claims->n)
		qsort(claims->c, claims->n, sizeof(*claims->c), claim_cmp);
	sort_base = recs; /* loads run one at a time (load_mu) */
	if (n)
		qsort(order, n, sizeof(*order), by_key);
	for (size_t i = 0; i < n;) {
		size_t j = i, w = order[i];
		struct users_key_claim *k;

		while (j < n &&
		       !memcmp(recs[order[j]].pub, recs[w].pub, EVPN_KEY_LEN))
			j++;
		k = find_claim(claims, recs[w].pub);
		for (size_t g = i; k && g < j; g++)
			if (!strcmp(recs[order[g]].u.client_id, k->owner))
				w = order[g];
		for (size_t g = i; g < j; g++) {
			if (order[g] == w)
				continue;
			drop[order[g]] = true;
			evpn_error(u->host,
				   "users '%s' and '%s' have the same public "
				   "key: '%s' is not served (delete it, or "
				   "create it again with its own key)",
				   recs[w].u.client_id,
				   recs[order[g]].u.client_id,
				   recs[order[g]].u.client_id);
		}
		if (claims && !claim_for(u, &recs[w], k, creating, arg))
			all = false;
		i = j;
	}
	/* claims nobody served holds: orphans of crashes, malformed names */
	for (size_t i = 0; claims && i < claims->n; i++) {
		struct users_key_claim *k = &claims->c[i];
		int r;

		if (k->used || creating(arg, k->owner) ||
		    users_touched(u, k->owner))
			continue;
		r = u->st->del(u->sts, k->name);
		if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
			all = false;
	}
	for (size_t i = 0; i < n; i++) {
		if (drop[i])
			held[(*nheld)++] = recs[i];
		else
			recs[m++] = recs[i];
	}
	*nrec = m;
	free(order);
	free(drop);
	if (claims && all &&
	    u->st->put(u->sts, CLAIMS_MARK, "1", 1, 0) != EVPN_OK)
		all = false;
	return all;
}
