/* SPDX-License-Identifier: MIT */
/*
 * The users service (include/evpn/users.h): the resident users, reads,
 * status changes and deletes, and the ops table. Creating a user is
 * users_create.c, the transport's side users_peers.c, construction and the
 * maintenance thread users_life.c, loads users_load.c.
 *
 * Concurrency: the in-memory cache is guarded by one mutex that is never
 * held across store I/O, so concurrent requests proceed in parallel. The
 * store's create-only puts are the source of truth for uniqueness, and
 * `status` is the commit mark (users_create.c).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rate.h"
#include "users_int.h"

/* The vtable's digest size and the digest the service computes agree. */
_Static_assert(EVPN_HASH_LEN == crypto_hash_sha256_BYTES,
	       "EVPN_HASH_LEN is a SHA-256 digest");
_Static_assert(EVPN_KEY_B64_SIZE ==
		       sodium_base64_ENCODED_LEN(
			       EVPN_KEY_LEN, sodium_base64_VARIANT_ORIGINAL),
	       "EVPN_KEY_B64_SIZE holds a key's base64 text and its NUL");

static int rec_cmp(const void *key, const void *elem)
{
	return strcmp((const char *)key,
		      ((const struct user_slot *)elem)->client_id);
}

struct user_slot *users_find_locked(struct evpn_users *u, const char *id)
{
	if (!u->n)
		return NULL;
	return bsearch(id, u->recs, u->n, sizeof(*u->recs), rec_cmp);
}

int users_insert_locked(struct evpn_users *u, const struct user_rec *r)
{
	size_t lo = 0, hi = u->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(u->recs[mid].client_id, r->u.client_id);

		if (c == 0) {
			users_slot_pack(&u->recs[mid], r);
			return EVPN_OK;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (u->n == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 64;
		struct user_slot *p = realloc(u->recs, cap * sizeof(*p));

		if (!p)
			return EVPN_ERR_NOMEM;
		u->recs = p;
		u->cap = cap;
	}
	memmove(&u->recs[lo + 1], &u->recs[lo], (u->n - lo) * sizeof(*u->recs));
	users_slot_pack(&u->recs[lo], r);
	u->n++;
	return EVPN_OK;
}

void users_remove_locked(struct evpn_users *u, const char *id)
{
	struct user_slot *r = users_find_locked(u, id);
	size_t i;

	if (!r)
		return;
	i = (size_t)(r - u->recs);
	memmove(&u->recs[i], &u->recs[i + 1], (u->n - i - 1) * sizeof(*r));
	u->n--;
}

void evpn_metrics_gauge_users(struct evpn_users *u)
{
	size_t n;

	pthread_mutex_lock(&u->mu);
	n = u->n;
	pthread_mutex_unlock(&u->mu);
	u->host->metric_set(u->m_users, (int64_t)n);
}

void users_set_err(struct evpn_users_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = code;
	err->reason[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------ read & change */

static int u_get(void *self, const char *id, struct evpn_user *out)
{
	struct evpn_users *u = self;
	struct user_slot *s;
	struct user_rec r;

	pthread_mutex_lock(&u->mu);
	s = users_find_locked(u, id);
	if (s)
		users_slot_unpack(u, s, &r);
	pthread_mutex_unlock(&u->mu);
	if (!s)
		return EVPN_ERR_NOTFOUND;
	*out = r.u;
	return EVPN_OK;
}

static int u_list(void *self, evpn_users_list_cb cb, void *arg)
{
	struct evpn_users *u = self;
	struct user_slot *copy;
	size_t n;

	/* Copy under the lock, call back without it. */
	pthread_mutex_lock(&u->mu);
	n = u->n;
	copy = malloc((n ? n : 1) * sizeof(*copy));
	if (copy && n)
		memcpy(copy, u->recs, n * sizeof(*copy));
	pthread_mutex_unlock(&u->mu);
	if (!copy)
		return EVPN_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		struct user_rec r;

		users_slot_unpack(u, &copy[i], &r);
		if (cb(arg, &r.u) != 0)
			break;
	}
	free(copy);
	return EVPN_OK;
}

/* A copy of a user's record, taken under the lock. */
static int snapshot(struct evpn_users *u, const char *id, struct user_rec *out,
		    struct evpn_users_error *err)
{
	struct user_slot *r;

	pthread_mutex_lock(&u->mu);
	r = users_find_locked(u, id);
	if (r)
		users_slot_unpack(u, r, out);
	pthread_mutex_unlock(&u->mu);
	if (!r) {
		users_set_err(err, EVPN_ERR_NOTFOUND, "no user '%s'", id);
		return EVPN_ERR_NOTFOUND;
	}
	return EVPN_OK;
}

int users_store_failed(struct evpn_users_error *err, int rc)
{
	users_set_err(err, EVPN_ERR_UNAVAILABLE, "the store failed: %s",
		      evpn_strerror(rc));
	return EVPN_ERR_UNAVAILABLE;
}

static int set_status_stored(struct evpn_users *u, struct user_rec *rec,
			     enum evpn_user_status st,
			     enum evpn_user_status was,
			     struct evpn_users_error *err)
{
	const char *id = rec->u.client_id;
	struct user_rec copy = *rec;
	struct user_slot *r;
	bool active = st == EVPN_USER_ACTIVE;
	int rc;

	rc = users_put(u, id, "status", evpn_user_status_name(st), 0);
	if (rc != EVPN_OK)
		return users_store_failed(err, rc);
	copy.u.status = st;
	rc = users_index_put(u, &copy);
	if (rc != EVPN_OK) {
		/* The caller is told it failed: put the old status back, so a
		 * reload does not apply the change after all (best effort; a
		 * full load makes index and status agree again). */
		if (users_put(u, id, "status", evpn_user_status_name(was), 0) !=
		    EVPN_OK)
			evpn_warn(u->host,
				  "user '%s': status is %s in the store but "
				  "the change was reported as failed",
				  id, evpn_user_status_name(st));
		return users_store_failed(err, rc);
	}
	pthread_mutex_lock(&u->mu);
	r = users_find_locked(u, id);
	if (r) {
		r->active = active;
		users_slot_unpack(u, r, &copy);
	}
	pthread_mutex_unlock(&u->mu);
	copy.u.status = st;
	users_push_peer(u, &copy, false);
	users_bump_generation(u);
	*rec = copy;
	return EVPN_OK;
}

static int u_set_status(void *self, const char *id, bool active,
			struct evpn_user *out, struct evpn_users_error *err)
{
	struct evpn_users *u = self;
	struct user_rec copy;
	enum evpn_user_status st =
		active ? EVPN_USER_ACTIVE : EVPN_USER_INACTIVE;
	int rc;

	rc = snapshot(u, id, &copy, err);
	if (rc != EVPN_OK)
		return rc;
	users_change_begin(u, id);
	rc = set_status_stored(u, &copy, st, copy.u.status, err);
	users_change_end(u, id);
	if (rc != EVPN_OK)
		return rc;
	if (out)
		*out = copy.u;
	evpn_info(u->host, "user '%s' is now %s", id,
		  evpn_user_status_name(st));
	return EVPN_OK;
}

/* Write (or, for the default, remove) users/{id}/allowed-ips. */
static int put_allowed(struct evpn_users *u, const char *id, const char *v)
{
	char key[160];
	int rc;

	if (strcmp(v, EVPN_ALLOWED_IPS_DEFAULT) != 0) {
		rc = users_put(u, id, "allowed-ips", v, 0);
	} else {
		snprintf(key, sizeof(key), "users/%s/allowed-ips", id);
		rc = u->st->del(u->sts, key);
	}
	users_cache_invalidate(u);
	return rc == EVPN_ERR_NOTFOUND ? EVPN_OK : rc;
}

/* PATCH: validate everything first, then the split tunnel, then the status
 * (which the transport acts on). A status write that fails puts the old
 * split tunnel back, so a failed request changes nothing (best effort). */
int users_op_update(void *self, const char *id,
		    const struct evpn_user_update *req, struct evpn_user *out,
		    struct evpn_users_error *err)
{
	struct evpn_users *u = self;
	char allowed[EVPN_ALLOWED_IPS_MAX], old[EVPN_ALLOWED_IPS_MAX];
	enum evpn_user_status was;
	bool set_quota = EVPN_HAS_FIELD(req, reset_usage) && req->set_quota;
	bool reset = EVPN_HAS_FIELD(req, reset_usage) && req->reset_usage;
	bool set_status = req->set_status, active = req->active;
	bool set_rate =
		EVPN_HAS_FIELD(req, rate_limit_bps) && req->set_rate_limit;
	uint64_t old_rate = EVPN_RATE_LIMIT_DEFAULT;
	struct user_rec copy;
	int rc;

	if (!EVPN_HAS_FIELD(req, allowed_ips)) {
		users_set_err(err, EVPN_ERR_INVAL, "update: bad request size");
		return EVPN_ERR_INVAL;
	}
	if (set_rate && req->rate_limit_bps != EVPN_RATE_LIMIT_DEFAULT &&
	    req->rate_limit_bps &&
	    (req->rate_limit_bps < RATE_MIN_BPS ||
	     req->rate_limit_bps > RATE_MAX_BPS)) {
		users_set_err(err, EVPN_ERR_INVAL,
			      "rate_limit must be 0 (none) or between 8kbit "
			      "and 100gbit");
		return EVPN_ERR_INVAL;
	}
	if (req->allowed_ips &&
	    users_allowed_check(req->allowed_ips, allowed, err) != EVPN_OK)
		return EVPN_ERR_INVAL;
	rc = snapshot(u, id, &copy, err);
	if (rc != EVPN_OK)
		return rc;
	was = copy.u.status;
	users_change_begin(u, id);
	if (req->allowed_ips) {
		rc = users_allowed_read(u, id, old);
		if (rc == EVPN_OK)
			rc = put_allowed(u, id, allowed);
		if (rc != EVPN_OK) {
			rc = users_store_failed(err, rc);
			goto out;
		}
	}
	if (set_rate) {
		if (copy.has_rate)
			old_rate = copy.rate_bps;
		/* before the status: its index write then keeps the limit */
		rc = users_rate_update(u, &copy, req->rate_limit_bps, err);
		if (rc != EVPN_OK)
			goto out;
	}
	if (set_quota || reset) {
		struct evpn_user_quota q = {.size = sizeof(q)};

		rc = set_quota ? users_quota_write(u, id, req->quota_bytes)
			       : EVPN_OK;
		if (rc == EVPN_OK && reset)
			rc = users_quota_reset(u, id);
		if (rc == EVPN_OK)
			rc = users_op_quota(u, id, &q);
		if (rc != EVPN_OK) {
			rc = users_store_failed(err, rc);
			goto out;
		}
		/* made inactive by the quota and now under it: active again
		 * (unless this request says otherwise) */
		if (!set_status && strcmp(q.reason, "quota") == 0 &&
		    (!q.quota_bytes || q.used_bytes < q.quota_bytes)) {
			set_status = true;
			active = true;
		}
	}
	if (set_status) {
		rc = set_status_stored(u, &copy,
				       active ? EVPN_USER_ACTIVE
					      : EVPN_USER_INACTIVE,
				       was, err);
		if (rc != EVPN_OK && req->allowed_ips &&
		    put_allowed(u, id, old) != EVPN_OK)
			evpn_warn(u->host,
				  "user '%s': allowed-ips changed although the "
				  "request failed",
				  id);
		if (rc != EVPN_OK && set_rate &&
		    users_rate_update(u, &copy, old_rate, NULL) != EVPN_OK)
			evpn_warn(u->host,
				  "user '%s': rate-limit changed although the "
				  "request failed",
				  id);
		/* the status is the operator's now, not the quota's */
		if (rc == EVPN_OK && users_quota_clear_reason(u, id) != EVPN_OK)
			evpn_warn(u->host, "user '%s': could not clear reason",
				  id);
	}
out:
	users_change_end(u, id);
	if (rc != EVPN_OK)
		return rc;
	if (out)
		*out = copy.u;
	evpn_info(u->host, "user '%s' updated%s%s%s%s%s%s", id,
		  set_status ? ": now " : "",
		  set_status ? evpn_user_status_name(copy.u.status) : "",
		  req->allowed_ips ? " (allowed_ips changed)" : "",
		  set_quota ? " (quota changed)" : "",
		  set_rate ? " (rate limit changed)" : "",
		  reset ? " (usage reset)" : "");
	return EVPN_OK;
}

int users_set_status_internal(struct evpn_users *u, const char *id, bool active,
			      struct evpn_users_error *err)
{
	return u_set_status(u, id, active, NULL, err);
}

static int remove_stored(struct evpn_users *u, const struct user_rec *rec,
			 struct evpn_users_error *err)
{
	const char *id = rec->u.client_id;
	struct user_rec copy = *rec;
	char key[160];
	int rc;

	/* Un-commit first: once the index record and status are gone the
	 * user is not served here or on any instance that reloads, whatever
	 * happens next. */
	rc = users_index_del(u, id);
	if (rc != EVPN_OK && rc != EVPN_ERR_NOTFOUND)
		return users_store_failed(err, rc);
	snprintf(key, sizeof(key), "users/%s/status", id);
	rc = u->st->del(u->sts, key);
	if (rc != EVPN_OK && rc != EVPN_ERR_NOTFOUND)
		return users_store_failed(err, rc);
	pthread_mutex_lock(&u->mu);
	users_remove_locked(u, id);
	pthread_mutex_unlock(&u->mu);
	users_push_peer(u, &copy, true);
	users_delete_records(u, id, copy.u.address, copy.pub);
	users_bump_generation(u);
	pthread_mutex_lock(&u->mu);
	evpn_pool_mark(&u->pool, copy.u.address, false);
	pthread_mutex_unlock(&u->mu);
	evpn_metrics_gauge_users(u);
	return EVPN_OK;
}

int users_remove_internal(struct evpn_users *u, const char *id, const char *why,
			  struct evpn_users_error *err)
{
	struct user_rec copy;
	int rc;

	rc = snapshot(u, id, &copy, err);
	if (rc != EVPN_OK)
		return rc;
	users_change_begin(u, id);
	rc = remove_stored(u, &copy, err);
	users_change_end(u, id);
	if (rc == EVPN_OK)
		evpn_info(u->host, "deleted user '%s'%s", id, why ? why : "");
	return rc;
}

static int u_remove(void *self, const char *id, struct evpn_users_error *err)
{
	struct evpn_users *u = self;
	int r = users_remove_internal(u, id, NULL, err);

	if (r == EVPN_OK)
		u->host->metric_add(u->m_deleted, 1);
	return r;
}

static int u_render_config(void *self, const char *id, char **out)
{
	struct evpn_users *u = self;
	struct user_slot *r;
	struct user_rec rec;
	char pub[EVPN_KEY_B64_SIZE], allowed[EVPN_ALLOWED_IPS_MAX];
	int rc;

	pthread_mutex_lock(&u->mu);
	r = users_find_locked(u, id);
	if (r) {
		users_slot_unpack(u, r, &rec);
		memcpy(pub, u->server_pub_b64, sizeof(pub));
	}
	pthread_mutex_unlock(&u->mu);
	if (!r)
		return EVPN_ERR_NOTFOUND;
	rc = users_allowed_read(u, id, allowed);
	if (rc != EVPN_OK)
		return rc;
	*out = evpn_render_wg_config(u->host->network, pub, &rec.u, NULL,
				     allowed);
	return *out ? EVPN_OK : EVPN_ERR_NOMEM;
}

static int u_find_by_key_hash(void *self, const uint8_t hash[EVPN_HASH_LEN],
			      char *client_id)
{
	struct evpn_users *u = self;
	int found = -1;

	/* Scan everything, comparing in constant time, so the time taken
	 * says nothing about which user (if any) matched. */
	pthread_mutex_lock(&u->mu);
	for (size_t i = 0; i < u->n; i++)
		if (u->recs[i].has_hash &&
		    sodium_memcmp(u->recs[i].key_hash, hash,
				  crypto_hash_sha256_BYTES) == 0)
			found = (int)i;
	if (found >= 0)
		snprintf(client_id, EVPN_CLIENT_ID_MAX + 1, "%s",
			 u->recs[found].client_id);
	pthread_mutex_unlock(&u->mu);
	return found >= 0 ? EVPN_OK : EVPN_ERR_NOTFOUND;
}

static int u_health(void *self)
{
	struct evpn_users *u = self;

	return u->st->ping(u->sts) == EVPN_OK ? EVPN_OK : EVPN_ERR_UNAVAILABLE;
}

static uint32_t u_count(void *self)
{
	struct evpn_users *u = self;
	uint32_t n;

	pthread_mutex_lock(&u->mu);
	n = (uint32_t)u->n;
	pthread_mutex_unlock(&u->mu);
	return n;
}

static int u_master_key_hash(void *self, uint8_t hash[EVPN_HASH_LEN])
{
	struct evpn_users *u = self;

	if (!u->has_master)
		return EVPN_ERR_NOTFOUND;
	memcpy(hash, u->master_hash, crypto_hash_sha256_BYTES);
	return EVPN_OK;
}

const struct evpn_users_ops evpn_users_ops_impl = {
	.size = sizeof(struct evpn_users_ops),
	.create = users_op_create,
	.release = users_op_release,
	.get = u_get,
	.list = u_list,
	.set_status = u_set_status,
	.remove = u_remove,
	.render_config = u_render_config,
	.peer_stats = users_op_peer_stats,
	.find_by_key_hash = u_find_by_key_hash,
	.health = u_health,
	.count = u_count,
	.master_key_hash = u_master_key_hash,
	.update = users_op_update,
	.allowed_ips = users_op_allowed_ips,
	.audit = users_op_audit,
	.audit_list = users_op_audit_list,
	.link_create = users_op_link_create,
	.link_redeem = users_op_link_redeem,
	.create_more = users_op_create_more,
	.quota = users_op_quota,
	.rate_limit = users_op_rate_limit,
};
