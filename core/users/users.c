/* SPDX-License-Identifier: MIT */
/*
 * The users service (include/evpn/users.h).
 *
 * Concurrency: the in-memory cache is guarded by one mutex that is never
 * held across store I/O, so concurrent creates proceed in parallel. The
 * store's create-only puts are the source of truth for uniqueness: the
 * client_id is claimed by creating users/{id}/created-at, the address by
 * creating addresses/{ip}. `status` is written last and is the commit mark.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "config_impl.h"
#include "log.h"
#include "users_int.h"

#define MAX_TTL (366LL * 86400)

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

static void set_err(struct evpn_users_error *err, int code, const char *fmt,
		    ...) EVPN_PRINTF(3, 4);
static void set_err(struct evpn_users_error *err, int code, const char *fmt,
		    ...)
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

/* ------------------------------------------------- live peer changes */

struct peer_change {
	struct evpn_users *u;
	bool remove;
	bool enabled;
	uint8_t pub[32];
	char id[EVPN_CLIENT_ID_MAX + 1];
	struct evpn_cidr allowed[2]; /* the IPv4 /32, the IPv6 /128 if any */
	uint32_t n_allowed;
};

static void apply_peer_change(void *arg)
{
	struct peer_change *pc = arg;
	const struct evpn_host *h = pc->u->host;
	const struct evpn_transport_ops *t;
	struct evpn_ref ref;
	int r;

	if (h->get_plugin(h, EVPN_KIND_TRANSPORT, &ref) != EVPN_OK)
		goto out;
	t = ref.vtable;
	if (pc->remove) {
		r = t->peer_remove(ref.self, pc->pub);
		if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
			evpn_warn(h, "transport: removing peer '%s': %s",
				  pc->id, evpn_strerror(r));
	} else {
		struct evpn_peer_config pcfg = {
			.size = sizeof(pcfg),
			.id = pc->id,
			.allowed_ips = pc->allowed,
			.n_allowed_ips = pc->n_allowed,
			.enabled = pc->enabled,
		};

		memcpy(pcfg.public_key, pc->pub, 32);
		r = t->peer_upsert(ref.self, &pcfg);
		if (r != EVPN_OK)
			evpn_warn(h, "transport: adding peer '%s': %s", pc->id,
				  evpn_strerror(r));
	}
out:
	free(pc);
}

static void fill_change(struct peer_change *pc, struct evpn_users *u,
			const struct user_rec *r, bool remove)
{
	unsigned char a[16];
	unsigned prefix;
	int fam;

	pc->u = u;
	pc->remove = remove;
	pc->enabled = strcmp(r->u.status, "active") == 0;
	memcpy(pc->pub, r->pub, 32);
	snprintf(pc->id, sizeof(pc->id), "%s", r->u.client_id);
	pc->n_allowed = 0;
	for (int i = 0; i < 2; i++) {
		const char *cidr = i ? r->u.address6 : r->u.address;
		struct evpn_cidr *c = &pc->allowed[pc->n_allowed];

		if (!evpn_parse_cidr(cidr, &fam, a, &prefix))
			continue;
		c->family = (uint8_t)fam;
		c->prefix = (uint8_t)prefix;
		memcpy(c->addr, a, 16);
		pc->n_allowed++;
	}
}

void users_push_peer(struct evpn_users *u, const struct user_rec *r,
		     bool remove)
{
	struct peer_change *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return;
	fill_change(pc, u, r, remove);
	if (u->host->on_loop(u->host)) {
		apply_peer_change(pc);
		return;
	}
	if (u->host->post(u->host, apply_peer_change, pc) != EVPN_OK)
		free(pc);
}

int evpn_users_attach_transport(struct evpn_users *u)
{
	const struct evpn_host *h = u->host;
	const struct evpn_transport_ops *t;
	struct evpn_ref ref;
	int r;

	if (h->get_plugin(h, EVPN_KIND_TRANSPORT, &ref) != EVPN_OK)
		return EVPN_OK;
	t = ref.vtable;
	pthread_mutex_lock(&u->mu);
	if (!u->has_server_key) {
		pthread_mutex_unlock(&u->mu);
		return EVPN_ERR_NOTFOUND;
	}
	r = t->set_private_key(ref.self, u->server_priv);
	u->live = true;
	for (size_t i = 0; r == EVPN_OK && i < u->n; i++) {
		struct peer_change pc;
		struct evpn_peer_config pcfg = {.size = sizeof(pcfg)};
		struct user_rec rec;

		users_slot_unpack(u, &u->recs[i], &rec);
		fill_change(&pc, u, &rec, false);
		memcpy(pcfg.public_key, pc.pub, 32);
		pcfg.id = u->recs[i].client_id;
		pcfg.allowed_ips = pc.allowed;
		pcfg.n_allowed_ips = pc.n_allowed;
		pcfg.enabled = pc.enabled;
		r = t->peer_upsert(ref.self, &pcfg);
	}
	pthread_mutex_unlock(&u->mu);
	return r;
}

static int store_failed(struct evpn_users_error *err, int rc);

/* ------------------------------------------------------------- create */

static int claim_address(struct evpn_users *u, const char *id, char ip[16])
{
	char key[64];
	uint32_t tries = 0, size;
	int r;

	pthread_mutex_lock(&u->mu);
	size = evpn_pool_size(&u->pool);
	pthread_mutex_unlock(&u->mu);
	for (;;) {
		bool ok;

		pthread_mutex_lock(&u->mu);
		ok = evpn_pool_take(&u->pool, ip);
		pthread_mutex_unlock(&u->mu);
		if (!ok)
			return EVPN_ERR_FULL;
		snprintf(key, sizeof(key), "addresses/%s", ip);
		r = u->st->put(u->sts, key, id, strlen(id), EVPN_STORE_CREATE);
		if (r != EVPN_ERR_EXISTS) {
			if (r != EVPN_OK) {
				pthread_mutex_lock(&u->mu);
				evpn_pool_mark(&u->pool, ip, false);
				pthread_mutex_unlock(&u->mu);
			}
			return r;
		}
		/* Claimed by another instance: it stays marked used here. */
		if (++tries > size)
			return EVPN_ERR_FULL;
	}
}

static int key_in_use(struct evpn_users_error *err)
{
	set_err(err, EVPN_ERR_EXISTS,
		"public_key is already the key of another user");
	if (err)
		snprintf(err->reason, sizeof(err->reason), "public_key_in_use");
	return EVPN_ERR_EXISTS;
}

static int u_create(void *self, const struct evpn_user_create *req,
		    struct evpn_user_created *out, struct evpn_users_error *err)
{
	struct evpn_users *u = self;
	struct user_rec rec;
	uint8_t priv[32], test_sk[32], shared[32], raw[32];
	char priv_b64[45] = "", ip[16] = "", hash_hex[65];
	bool generated = false, id_claimed = false, addr_claimed = false;
	bool key_claimed = false, changing = false;
	int64_t now = (int64_t)time(NULL);
	int r;

	memset(out, 0, sizeof(*out));
	memset(&rec, 0, sizeof(rec));
	if (!evpn_valid_client_id(req->client_id)) {
		set_err(err, EVPN_ERR_INVAL,
			"client_id must match ^[a-z0-9][a-z0-9_.-]{0,62}$");
		return EVPN_ERR_INVAL;
	}
	if (req->ttl_seconds < 0 || req->ttl_seconds > MAX_TTL) {
		set_err(err, EVPN_ERR_INVAL,
			"ttl must be positive and at most 366 days");
		return EVPN_ERR_INVAL;
	}
	snprintf(rec.u.client_id, sizeof(rec.u.client_id), "%s",
		 req->client_id);
	if (req->public_key) {
		if (!evpn_b64_key(req->public_key, rec.pub)) {
			set_err(err, EVPN_ERR_INVAL,
				"public_key must be a base64 32-byte X25519 "
				"key");
			return EVPN_ERR_INVAL;
		}
		/* Reject low-order points: libsodium refuses them (all-zero
		 * shared secret), and so would every WireGuard handshake. */
		randombytes_buf(test_sk, sizeof(test_sk));
		r = crypto_scalarmult(shared, test_sk, rec.pub);
		sodium_memzero(test_sk, sizeof(test_sk));
		sodium_memzero(shared, sizeof(shared));
		if (r != 0) {
			set_err(err, EVPN_ERR_INVAL,
				"public_key is not a usable X25519 public key");
			return EVPN_ERR_INVAL;
		}
	} else {
		randombytes_buf(priv, sizeof(priv));
		priv[0] &= 248;
		priv[31] &= 127;
		priv[31] |= 64;
		crypto_scalarmult_base(rec.pub, priv);
		evpn_key_b64(priv, priv_b64);
		sodium_memzero(priv, sizeof(priv));
		generated = true;
	}
	evpn_key_b64(rec.pub, rec.u.public_key);
	pthread_mutex_lock(&u->mu);
	if (!u->has_server_key) {
		pthread_mutex_unlock(&u->mu);
		set_err(err, EVPN_ERR_UNAVAILABLE,
			"the server key pair is not available");
		r = EVPN_ERR_UNAVAILABLE;
		goto fail;
	}
	if (users_find_locked(u, rec.u.client_id)) {
		pthread_mutex_unlock(&u->mu);
		set_err(err, EVPN_ERR_EXISTS, "user '%s' already exists",
			rec.u.client_id);
		r = EVPN_ERR_EXISTS;
		goto fail;
	}
	/* The transport knows peers by public key: a second user with this
	 * key would take over the first one's peer. Users stored before keys
	 * were claimed are caught here too. */
	if (users_key_in_use_locked(u, rec.pub)) {
		pthread_mutex_unlock(&u->mu);
		r = key_in_use(err);
		goto fail;
	}
	pthread_mutex_unlock(&u->mu);
	users_change_begin(u, rec.u.client_id);
	changing = true;

	/* 1. the id */
	evpn_rfc3339(now, rec.u.created_at);
	r = users_put(u, rec.u.client_id, "created-at", rec.u.created_at,
		      EVPN_STORE_CREATE);
	if (r == EVPN_ERR_EXISTS) {
		set_err(err, EVPN_ERR_EXISTS, "user '%s' already exists",
			rec.u.client_id);
		goto rollback; /* nothing claimed, but the change must end */
	}
	if (r != EVPN_OK)
		goto store_fail;
	id_claimed = true;
	/* 2. the public key, claimed like the id: across instances too */
	r = users_claim_key(u, rec.u.client_id, rec.pub);
	if (r == EVPN_ERR_EXISTS) {
		r = key_in_use(err);
		goto rollback;
	}
	if (r != EVPN_OK)
		goto store_fail;
	key_claimed = true;
	/* 3. the address */
	r = claim_address(u, rec.u.client_id, ip);
	if (r == EVPN_ERR_FULL) {
		set_err(err, r, "the address pool %s is exhausted",
			u->host->network->pool);
		goto rollback;
	}
	if (r != EVPN_OK)
		goto store_fail;
	addr_claimed = true;
	snprintf(rec.u.address, sizeof(rec.u.address), "%s/32", ip);
	users_fill_address6(u, &rec);
	/* 4. the records */
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out->api_key, sizeof(out->api_key), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	crypto_hash_sha256(rec.key_hash, (unsigned char *)out->api_key,
			   EVPN_API_KEY_LEN);
	rec.has_hash = true;
	sodium_bin2hex(hash_hex, sizeof(hash_hex), rec.key_hash, 32);
	if ((r = users_put(u, rec.u.client_id, "public-key", rec.u.public_key,
			   0)) != EVPN_OK ||
	    (r = users_put(u, rec.u.client_id, "address", rec.u.address, 0)) !=
		    EVPN_OK ||
	    (r = users_put(u, rec.u.client_id, "api-key-hash", hash_hex, 0)) !=
		    EVPN_OK)
		goto store_fail;
	if (req->ttl_seconds > 0) {
		rec.expires = now + req->ttl_seconds;
		evpn_rfc3339(rec.expires, rec.u.expires_at);
		r = users_put(u, rec.u.client_id, "expires-at",
			      rec.u.expires_at, 0);
		if (r != EVPN_OK)
			goto store_fail;
	}
	/* 5. commit */
	snprintf(rec.u.status, sizeof(rec.u.status), "active");
	r = users_put(u, rec.u.client_id, "status", "active", 0);
	if (r != EVPN_OK)
		goto store_fail;
	/* 6. the index, before we answer: acknowledged users are indexed */
	r = users_index_put(u, &rec);
	if (r != EVPN_OK)
		goto store_fail;

	out->config =
		evpn_render_wg_config(u->host->network, u->server_pub_b64,
				      &rec.u, generated ? priv_b64 : NULL);
	sodium_memzero(priv_b64, sizeof(priv_b64));
	pthread_mutex_lock(&u->mu);
	r = users_insert_locked(u, &rec);
	pthread_mutex_unlock(&u->mu);
	users_change_end(u, rec.u.client_id);
	if (r != EVPN_OK || !out->config) {
		/* Stored and complete; a reload will serve it. */
		evpn_error(u->host, "out of memory after storing user '%s'",
			   rec.u.client_id);
	}
	out->user = rec.u;
	users_push_peer(u, &rec, false);
	users_bump_generation(u);
	u->host->metric_add(u->m_created, 1);
	evpn_metrics_gauge_users(u);
	evpn_info(u->host, "created user '%s' at %s%s%s", rec.u.client_id,
		  rec.u.address, rec.u.expires_at[0] ? ", expires " : "",
		  rec.u.expires_at);
	return EVPN_OK;

store_fail:
	/* Whatever the store said mid-create, the answer is "unavailable";
	 * EXISTS on the id claim was handled above. */
	r = store_failed(err, r);
rollback:
	if (id_claimed) {
		users_delete_records(u, rec.u.client_id,
				     addr_claimed ? ip : NULL,
				     key_claimed ? rec.pub : NULL);
	}
	if (addr_claimed) {
		pthread_mutex_lock(&u->mu);
		evpn_pool_mark(&u->pool, ip, false);
		pthread_mutex_unlock(&u->mu);
	}
	if (changing)
		users_change_end(u, rec.u.client_id);
fail:
	sodium_memzero(priv_b64, sizeof(priv_b64));
	sodium_memzero(out->api_key, sizeof(out->api_key));
	return r;
}

static void u_release(void *self, struct evpn_user_created *out)
{
	if (out->config) {
		sodium_memzero(out->config, strlen(out->config));
		free(out->config);
	}
	sodium_memzero(out, sizeof(*out));
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
		set_err(err, EVPN_ERR_NOTFOUND, "no user '%s'", id);
		return EVPN_ERR_NOTFOUND;
	}
	return EVPN_OK;
}

static int store_failed(struct evpn_users_error *err, int rc)
{
	set_err(err, EVPN_ERR_UNAVAILABLE, "the store failed: %s",
		evpn_strerror(rc));
	return EVPN_ERR_UNAVAILABLE;
}

static int set_status_stored(struct evpn_users *u, struct user_rec *rec,
			     const char *st, const char *was,
			     struct evpn_users_error *err)
{
	const char *id = rec->u.client_id;
	struct user_rec copy = *rec;
	struct user_slot *r;
	bool active = strcmp(st, "active") == 0;
	int rc;

	rc = users_put(u, id, "status", st, 0);
	if (rc != EVPN_OK)
		return store_failed(err, rc);
	snprintf(copy.u.status, sizeof(copy.u.status), "%s", st);
	rc = users_index_put(u, &copy);
	if (rc != EVPN_OK) {
		/* The caller is told it failed: put the old status back, so a
		 * reload does not apply the change after all (best effort; a
		 * full load makes index and status agree again). */
		if (users_put(u, id, "status", was, 0) != EVPN_OK)
			evpn_warn(u->host,
				  "user '%s': status is %s in the store but "
				  "the change was reported as failed",
				  id, st);
		return store_failed(err, rc);
	}
	pthread_mutex_lock(&u->mu);
	r = users_find_locked(u, id);
	if (r) {
		r->active = active;
		users_slot_unpack(u, r, &copy);
	}
	pthread_mutex_unlock(&u->mu);
	snprintf(copy.u.status, sizeof(copy.u.status), "%s", st);
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
	const char *st = active ? "active" : "inactive";
	char was[sizeof(copy.u.status)];
	int rc;

	rc = snapshot(u, id, &copy, err);
	if (rc != EVPN_OK)
		return rc;
	memcpy(was, copy.u.status, sizeof(was));
	users_change_begin(u, id);
	rc = set_status_stored(u, &copy, st, was, err);
	users_change_end(u, id);
	if (rc != EVPN_OK)
		return rc;
	if (out)
		*out = copy.u;
	evpn_info(u->host, "user '%s' is now %s", id, st);
	return EVPN_OK;
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
		return store_failed(err, rc);
	snprintf(key, sizeof(key), "users/%s/status", id);
	rc = u->st->del(u->sts, key);
	if (rc != EVPN_OK && rc != EVPN_ERR_NOTFOUND)
		return store_failed(err, rc);
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
	char pub[45];

	pthread_mutex_lock(&u->mu);
	r = users_find_locked(u, id);
	if (r) {
		users_slot_unpack(u, r, &rec);
		memcpy(pub, u->server_pub_b64, sizeof(pub));
	}
	pthread_mutex_unlock(&u->mu);
	if (!r)
		return EVPN_ERR_NOTFOUND;
	*out = evpn_render_wg_config(u->host->network, pub, &rec.u, NULL);
	return *out ? EVPN_OK : EVPN_ERR_NOMEM;
}

/* Peer stats live on the loop thread: ask there and wait. */
struct stats_req {
	struct evpn_users *u;
	uint8_t pub[32];
	struct evpn_peer_stats st;
	int rc;
	bool done;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int refs;
};

static void stats_req_put(struct stats_req *q)
{
	int refs;

	pthread_mutex_lock(&q->mu);
	refs = --q->refs;
	pthread_mutex_unlock(&q->mu);
	if (refs == 0) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cond);
		free(q);
	}
}

static int stats_now(struct evpn_users *u, const uint8_t pub[32],
		     struct evpn_peer_stats *out)
{
	struct evpn_ref ref;
	const struct evpn_transport_ops *t;

	if (u->host->get_plugin(u->host, EVPN_KIND_TRANSPORT, &ref) != EVPN_OK)
		return EVPN_ERR_NOTFOUND;
	t = ref.vtable;
	out->size = sizeof(*out);
	return t->peer_stats(ref.self, pub, out);
}

static void stats_on_loop(void *arg)
{
	struct stats_req *q = arg;

	q->rc = stats_now(q->u, q->pub, &q->st);
	pthread_mutex_lock(&q->mu);
	q->done = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
	stats_req_put(q);
}

static int u_peer_stats(void *self, const char *id, struct evpn_peer_stats *out)
{
	struct evpn_users *u = self;
	struct user_slot *r;
	struct stats_req *q;
	struct timespec dl;
	uint8_t pub[32];
	int rc;

	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	pthread_mutex_lock(&u->mu);
	r = users_find_locked(u, id);
	if (r)
		memcpy(pub, r->pub, 32);
	pthread_mutex_unlock(&u->mu);
	if (!r)
		return EVPN_ERR_NOTFOUND;
	if (u->host->on_loop(u->host)) {
		rc = stats_now(u, pub, out);
		return rc == EVPN_ERR_NOTFOUND ? EVPN_OK : rc;
	}
	/* No transport (an API-only node): no live state, and no reason to
	 * bother the loop thread. */
	{
		struct evpn_ref ref;

		if (u->host->get_plugin(u->host, EVPN_KIND_TRANSPORT, &ref) !=
		    EVPN_OK)
			return EVPN_OK;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return EVPN_ERR_NOMEM;
	q->u = u;
	memcpy(q->pub, pub, 32);
	q->refs = 2;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (u->host->post(u->host, stats_on_loop, q) != EVPN_OK) {
		q->refs = 1;
		stats_req_put(q);
		return EVPN_OK; /* shutting down: no live state */
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 2;
	pthread_mutex_lock(&q->mu);
	while (!q->done)
		if (pthread_cond_timedwait(&q->cond, &q->mu, &dl) == ETIMEDOUT)
			break;
	if (q->done && q->rc == EVPN_OK)
		*out = q->st;
	rc = q->done ? q->rc : EVPN_ERR_AGAIN;
	pthread_mutex_unlock(&q->mu);
	stats_req_put(q);
	return rc == EVPN_ERR_NOTFOUND ? EVPN_OK : rc;
}

static int u_find_by_key_hash(void *self, const uint8_t hash[32],
			      char *client_id)
{
	struct evpn_users *u = self;
	int found = -1;

	/* Scan everything, comparing in constant time, so the time taken
	 * says nothing about which user (if any) matched. */
	pthread_mutex_lock(&u->mu);
	for (size_t i = 0; i < u->n; i++)
		if (u->recs[i].has_hash &&
		    sodium_memcmp(u->recs[i].key_hash, hash, 32) == 0)
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

static int u_master_key_hash(void *self, uint8_t hash[32])
{
	struct evpn_users *u = self;

	if (!u->has_master)
		return EVPN_ERR_NOTFOUND;
	memcpy(hash, u->master_hash, 32);
	return EVPN_OK;
}

const struct evpn_users_ops evpn_users_ops_impl = {
	.size = sizeof(struct evpn_users_ops),
	.create = u_create,
	.release = u_release,
	.get = u_get,
	.list = u_list,
	.set_status = u_set_status,
	.remove = u_remove,
	.render_config = u_render_config,
	.peer_stats = u_peer_stats,
	.find_by_key_hash = u_find_by_key_hash,
	.health = u_health,
	.count = u_count,
	.master_key_hash = u_master_key_hash,
};

/* ------------------------------------------------------- maintenance */

static void expire_due(struct evpn_users *u)
{
	int64_t now = (int64_t)time(NULL);
	char due[16][EVPN_CLIENT_ID_MAX + 1];
	size_t n;

	do {
		n = 0;
		pthread_mutex_lock(&u->mu);
		for (size_t i = 0; i < u->n && n < 16; i++)
			if (u->recs[i].expires && u->recs[i].expires <= now)
				memcpy(due[n++], u->recs[i].client_id,
				       sizeof(due[0]));
		pthread_mutex_unlock(&u->mu);
		for (size_t i = 0; i < n; i++) {
			struct evpn_users_error err;

			if (users_remove_internal(u, due[i], " (ttl expired)",
						  &err) == EVPN_OK)
				u->host->metric_add(u->m_expired, 1);
			else if (err.code != EVPN_ERR_NOTFOUND)
				return; /* store down: try next tick */
		}
	} while (n == 16);
}

static void *maint_main(void *arg)
{
	struct evpn_users *u = arg;

	pthread_mutex_lock(&u->mu);
	while (!u->thread_stop) {
		struct timespec dl;
		double wait = users_generation_tick_locked(u);
		bool reload;

		/* every second, or when a pending change marker is due */
		if (wait <= 0 || wait > 1)
			wait = 1;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += (long)(wait * 1e9);
		dl.tv_sec += dl.tv_nsec / 1000000000L;
		dl.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&u->cond, &u->mu, &dl);
		if (u->thread_stop)
			break;
		if (users_generation_tick_locked(u) > 0 && !u->reload_requested)
			continue; /* woken by a change: wait until it is due */
		reload = u->reload_requested;
		u->reload_requested = false;
		pthread_mutex_unlock(&u->mu);
		users_sync_tick(u);
		users_reconcile_tick(u);
		if (reload && evpn_users_load(u) != EVPN_OK)
			evpn_warn(u->host, "reload failed; keeping the "
					   "users already loaded");
		expire_due(u);
		pthread_mutex_lock(&u->mu);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

int evpn_users_start(struct evpn_users *u)
{
	u->thread_stop = false;
	if (pthread_create(&u->thread, NULL, maint_main, u) != 0)
		return EVPN_ERR_NOMEM;
	u->thread_running = true;
	return EVPN_OK;
}

void evpn_users_stop(struct evpn_users *u)
{
	if (!u->thread_running)
		return;
	pthread_mutex_lock(&u->mu);
	u->thread_stop = true;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->mu);
	pthread_join(u->thread, NULL);
	pthread_mutex_lock(&u->mu);
	u->thread_running = false;
	pthread_mutex_unlock(&u->mu);
	/* a change stored just before the stop still gets its marker */
	if (u->gen_dirty) {
		u->gen_dirty = false;
		users_write_generation(u);
	}
}

void evpn_users_request_reload(struct evpn_users *u)
{
	pthread_mutex_lock(&u->mu);
	u->reload_requested = true;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->mu);
}

/* ---------------------------------------------------- construction */

struct evpn_users *evpn_users_new(const struct evpn_host *host,
				  const struct evpn_store_ops *st, void *sts,
				  const struct evpn_users_opts *opts)
{
	struct evpn_users *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->host = host;
	u->st = st;
	u->sts = sts;
	u->opts = *opts;
	if (u->opts.partial_grace <= 0)
		u->opts.partial_grace = 30;
	if (opts->master_key && *opts->master_key) {
		u->master_key_opt = strdup(opts->master_key);
		if (!u->master_key_opt)
			goto fail;
	}
	u->opts.master_key = NULL;
	u->server_priv = sodium_malloc(32);
	if (!u->server_priv)
		goto fail;
	if (evpn_pool_init(&u->pool, host->network->pool) != EVPN_OK ||
	    evpn_pool6_init(&u->pool6, host->network->pool6,
			    host->network->pool) != EVPN_OK)
		goto fail;
	pthread_mutex_init(&u->mu, NULL);
	pthread_mutex_init(&u->load_mu, NULL);
	pthread_cond_init(&u->cond, NULL);
	u->m_created =
		host->metric(host, EVPN_METRIC_COUNTER,
			     "evpn_users_created_total", "Users created", NULL);
	u->m_deleted = host->metric(host, EVPN_METRIC_COUNTER,
				    "evpn_users_deleted_total",
				    "Users deleted through the API", NULL);
	u->m_expired = host->metric(
		host, EVPN_METRIC_COUNTER, "evpn_users_expired_total",
		"Users deleted because their ttl ran out", NULL);
	u->m_users = host->metric(host, EVPN_METRIC_GAUGE, "evpn_users",
				  "Users loaded (peers served)", NULL);
	return u;
fail:
	if (u->master_key_opt) {
		sodium_memzero(u->master_key_opt, strlen(u->master_key_opt));
		free(u->master_key_opt);
	}
	sodium_free(u->server_priv);
	free(u);
	return NULL;
}

void evpn_users_free(struct evpn_users *u)
{
	if (!u)
		return;
	evpn_users_stop(u);
	if (u->master_key_opt) {
		sodium_memzero(u->master_key_opt, strlen(u->master_key_opt));
		free(u->master_key_opt);
	}
	sodium_free(u->server_priv);
	sodium_memzero(u->master_hash, sizeof(u->master_hash));
	free(u->recs);
	evpn_pool_free(&u->pool);
	users_touch_free(u);
	pthread_mutex_destroy(&u->load_mu);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cond);
	free(u);
}
