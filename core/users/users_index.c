/* SPDX-License-Identifier: MIT */
/*
 * A compact index of the users: one record per user, `peers/{id}`, holding
 * what a start-up needs (public key, address, status, times, key hash) as
 * JSON. The per-field records of docs/store-layout.md stay the source of
 * truth; the index exists because SSM returns at most 10 parameters per list
 * call and a user has 5-6 of them: 1,000 users cost ~600 list calls to load
 * from the fields but ~100 from the index.
 *
 * Ordering keeps it safe: create writes the index record after `status`
 * (the commit mark) and before answering, delete removes it first. So an
 * acknowledged user is always in the index and the index never names a
 * user that is not committed. A crash between `status` and the index
 * leaves a user only a full load sees; full loads (start-up without the
 * index, SIGHUP, every users.reconcile_interval) repair the index and mark
 * it complete with `meta/peers-index`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "users_int.h"

#define INDEX_MARK "meta/peers-index"

static char *rec_json(const struct user_rec *r)
{
	char hash[crypto_hash_sha256_BYTES * 2 + 1] = "";
	json_t *o;
	char *s;

	if (r->has_hash)
		sodium_bin2hex(hash, sizeof(hash), r->key_hash,
			       crypto_hash_sha256_BYTES);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "public_key",
		      r->u.public_key, "address", r->u.address, "status",
		      evpn_user_status_name(r->u.status), "created_at",
		      r->u.created_at, "api_key_hash", hash);
	if (!o)
		return NULL;
	if ((r->u.expires_at[0] &&
	     json_object_set_new(o, "expires_at",
				 json_string(r->u.expires_at)) != 0) ||
	    (r->has_rate &&
	     json_object_set_new(o, "rate_limit",
				 json_integer((json_int_t)r->rate_bps)) != 0)) {
		json_decref(o);
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

int users_index_put(struct evpn_users *u, const struct user_rec *r)
{
	char key[160], *v = rec_json(r);
	int rc;

	if (!v)
		return EVPN_ERR_NOMEM;
	snprintf(key, sizeof(key), "peers/%s", r->u.client_id);
	rc = u->st->put(u->sts, key, v, strlen(v), 0);
	free(v);
	return rc;
}

int users_index_del(struct evpn_users *u, const char *id)
{
	char key[160];

	snprintf(key, sizeof(key), "peers/%s", id);
	return u->st->del(u->sts, key);
}

static bool str_field(json_t *o, const char *k, char *out, size_t len,
		      bool required)
{
	json_t *v = json_object_get(o, k);

	if (!v)
		return !required;
	if (!json_is_string(v) || strlen(json_string_value(v)) >= len)
		return false;
	snprintf(out, len, "%s", json_string_value(v));
	return true;
}

static bool parse_rec(const char *id, const char *value, size_t len,
		      struct user_rec *r)
{
	json_t *o = json_loadb(value, len, 0, NULL);
	char hash[65] = "", status[16] = "";
	json_t *rate;
	size_t bl;
	bool ok;

	memset(r, 0, sizeof(*r));
	if (!o || !json_is_object(o) || strlen(id) > EVPN_CLIENT_ID_MAX) {
		json_decref(o);
		return false;
	}
	snprintf(r->u.client_id, sizeof(r->u.client_id), "%s", id);
	ok = str_field(o, "public_key", r->u.public_key,
		       sizeof(r->u.public_key), true) &&
	     str_field(o, "address", r->u.address, sizeof(r->u.address),
		       true) &&
	     str_field(o, "status", status, sizeof(status), true) &&
	     str_field(o, "created_at", r->u.created_at,
		       sizeof(r->u.created_at), true) &&
	     str_field(o, "expires_at", r->u.expires_at,
		       sizeof(r->u.expires_at), false) &&
	     str_field(o, "api_key_hash", hash, sizeof(hash), false);
	/* a limit of the user's own; absent: users.rate_limit's */
	rate = json_object_get(o, "rate_limit");
	if (json_is_integer(rate) && json_integer_value(rate) >= 0) {
		r->has_rate = true;
		r->rate_bps = (uint64_t)json_integer_value(rate);
	}
	json_decref(o);
	if (!ok || !evpn_b64_key(r->u.public_key, r->pub))
		return false;
	r->u.status = evpn_user_status_parse(status);
	if (!r->u.status) /* neither "active" nor "inactive" */
		return false;
	r->has_hash =
		hash[0] &&
		sodium_hex2bin(r->key_hash, crypto_hash_sha256_BYTES, hash,
			       strlen(hash), NULL, &bl, NULL) == 0 &&
		bl == crypto_hash_sha256_BYTES;
	if (r->u.expires_at[0] &&
	    !evpn_parse_rfc3339(r->u.expires_at, &r->expires))
		r->expires = 0;
	return true;
}

struct index_collect {
	struct evpn_users *u;
	struct user_rec *recs;
	size_t n, cap;
	bool oom;
};

static int index_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct index_collect *c = arg;
	const char *id = key + 6;

	if (strncmp(key, "peers/", 6) != 0 || strchr(id, '/'))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct user_rec *p = realloc(c->recs, cap * sizeof(*p));

		if (!p) {
			c->oom = true;
			return 1;
		}
		c->recs = p;
		c->cap = cap;
	}
	if (parse_rec(id, value, len, &c->recs[c->n]))
		c->n++;
	else
		evpn_warn(c->u->host,
			  "index record peers/%s is malformed: skipped until "
			  "the next full load repairs it",
			  id);
	return 0;
}

/* All users from the index, when the index is known complete. */
int users_index_load(struct evpn_users *u, struct user_rec **recs, size_t *n,
		     bool *complete)
{
	struct index_collect c = {.u = u};
	char *v = NULL;
	size_t len;
	int r;

	*recs = NULL;
	*n = 0;
	*complete = false;
	r = u->st->get(u->sts, INDEX_MARK, &v, &len);
	if (r == EVPN_ERR_NOTFOUND)
		return EVPN_OK;
	if (r != EVPN_OK)
		return r;
	u->st->free_value(u->sts, v, len);
	r = u->st->list(u->sts, "peers/", index_cb, &c);
	if (r == EVPN_OK && c.oom)
		r = EVPN_ERR_NOMEM;
	if (r != EVPN_OK) {
		free(c.recs);
		return r;
	}
	*recs = c.recs;
	*n = c.n;
	*complete = true;
	return EVPN_OK;
}

struct index_ent {
	char id[EVPN_CLIENT_ID_MAX + 1];
	char *json;
};

struct index_ids {
	struct index_ent *e;
	size_t n, cap;
	bool oom;
};

static int ids_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct index_ids *c = arg;

	if (strncmp(key, "peers/", 6) != 0 || strchr(key + 6, '/') ||
	    strlen(key + 6) > EVPN_CLIENT_ID_MAX)
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct index_ent *p = realloc(c->e, cap * sizeof(*p));

		if (!p) {
			c->oom = true;
			return 1;
		}
		c->e = p;
		c->cap = cap;
	}
	snprintf(c->e[c->n].id, sizeof(c->e->id), "%s", key + 6);
	c->e[c->n].json = strndup(value, len);
	if (!c->e[c->n].json) {
		c->oom = true;
		return 1;
	}
	c->n++;
	return 0;
}

static int ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct index_ent *)a)->id,
		      ((const struct index_ent *)b)->id);
}

static int rec_cmp_id(const void *key, const void *elem)
{
	return strcmp((const char *)key,
		      ((const struct user_rec *)elem)->u.client_id);
}

/* After a full load: make the index match the users (recs sorted by id),
 * then mark it complete. Best effort: a failure leaves the mark unset, so
 * the next start-up does a full load again. */
void users_index_repair(struct evpn_users *u, const struct user_rec *recs,
			size_t n)
{
	struct index_ids c = {0};
	size_t fixed = 0, dropped = 0;
	int r;

	r = u->st->list(u->sts, "peers/", ids_cb, &c);
	if (r != EVPN_OK || c.oom)
		goto out;
	if (c.n)
		qsort(c.e, c.n, sizeof(*c.e), ent_cmp);
	for (size_t i = 0; i < n; i++) {
		struct index_ent key, *have;
		char *want = rec_json(&recs[i]);

		/* changed here while we loaded: its own writes keep the
		 * index right, ours would be stale */
		if (users_touched(u, recs[i].u.client_id)) {
			free(want);
			continue;
		}
		snprintf(key.id, sizeof(key.id), "%s", recs[i].u.client_id);
		have = c.n ? bsearch(&key, c.e, c.n, sizeof(*c.e), ent_cmp)
			   : NULL;
		if (want && have && strcmp(have->json, want) == 0) {
			free(want);
			continue;
		}
		free(want);
		if (users_index_put(u, &recs[i]) != EVPN_OK)
			goto out;
		fixed++;
	}
	for (size_t j = 0; j < c.n; j++) {
		if (n && bsearch(c.e[j].id, recs, n, sizeof(*recs), rec_cmp_id))
			continue;
		if (users_touched(u, c.e[j].id))
			continue;
		r = users_index_del(u, c.e[j].id);
		if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
			goto out;
		dropped++;
	}
	if (u->st->put(u->sts, INDEX_MARK, "1", 1, 0) != EVPN_OK)
		goto out;
	if (fixed || dropped)
		evpn_info(u->host,
			  "user index repaired (%zu written, %zu dropped)",
			  fixed, dropped);
out:
	for (size_t j = 0; j < c.n; j++)
		free(c.e[j].json);
	free(c.e);
}
