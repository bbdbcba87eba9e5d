/* SPDX-License-Identifier: MIT */
/*
 * Creating a user. The store's create-only puts are the source of truth for
 * uniqueness: the client_id is claimed by creating users/{id}/created-at,
 * the public key by creating public-keys/{hex}, the address by creating
 * addresses/{ip}. `status` is written last and is the commit mark; a failure
 * before it gives back every claim made.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "rate.h"
#include "users_int.h"

#define MAX_TTL (366LL * 86400)

/* One create: the user being made and what it has claimed so far. */
struct create {
	struct evpn_users *u;
	struct user_rec rec;
	int64_t now;
	/* the generated key pair's private half, or "" */
	char priv_b64[EVPN_KEY_B64_SIZE];
	char ip[16];
	char allowed[EVPN_ALLOWED_IPS_MAX]; /* normalised */
	const char *allowed_in;		    /* as asked, or NULL */
	int64_t link_ttl;		    /* 0: no link */
	uint64_t quota;			    /* 0: none */
	struct evpn_link link;		    /* the link made, if any */
	bool id_claimed, key_claimed, addr_claimed;
};

/* Take a free address from the pool and claim it in the store. */
static int take_address(struct evpn_users *u, const char *id, char ip[16])
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
	users_set_err(err, EVPN_ERR_EXISTS,
		      "public_key is already the key of another user");
	if (err)
		snprintf(err->reason, sizeof(err->reason), "public_key_in_use");
	return EVPN_ERR_EXISTS;
}

/* Check the request: a valid client_id and ttl. */
static int check_request(struct create *c, const struct evpn_user_create *req,
			 struct evpn_users_error *err)
{
	if (!evpn_valid_client_id(req->client_id)) {
		users_set_err(
			err, EVPN_ERR_INVAL,
			"client_id must match ^[a-z0-9][a-z0-9_.-]{0,62}$");
		return EVPN_ERR_INVAL;
	}
	if (req->ttl_seconds < 0 || req->ttl_seconds > MAX_TTL) {
		users_set_err(err, EVPN_ERR_INVAL,
			      "ttl must be positive and at most 366 days");
		return EVPN_ERR_INVAL;
	}
	if (users_allowed_check(c->allowed_in, c->allowed, err) != EVPN_OK)
		return EVPN_ERR_INVAL;
	if (c->rec.has_rate && c->rec.rate_bps &&
	    (c->rec.rate_bps < RATE_MIN_BPS ||
	     c->rec.rate_bps > RATE_MAX_BPS)) {
		users_set_err(err, EVPN_ERR_INVAL,
			      "rate_limit must be 0 (none) or between 8kbit "
			      "and 100gbit");
		return EVPN_ERR_INVAL;
	}
	if (c->link_ttl < 0 || c->link_ttl > EVPN_LINK_TTL_MAX) {
		users_set_err(err, EVPN_ERR_INVAL,
			      "a link's ttl must be between 1s and 7d");
		return EVPN_ERR_INVAL;
	}
	snprintf(c->rec.u.client_id, sizeof(c->rec.u.client_id), "%s",
		 req->client_id);
	return EVPN_OK;
}

/* The user's public key: the one given, if usable, or a new key pair whose
 * private half goes only into the config returned. */
static int take_key(struct create *c, const char *public_key,
		    struct evpn_users_error *err)
{
	uint8_t priv[EVPN_KEY_LEN], test_sk[EVPN_KEY_LEN], shared[EVPN_KEY_LEN];
	int r;

	if (!public_key) {
		randombytes_buf(priv, sizeof(priv));
		priv[0] &= 248;
		priv[31] &= 127;
		priv[31] |= 64;
		crypto_scalarmult_base(c->rec.pub, priv);
		evpn_key_b64(priv, c->priv_b64);
		sodium_memzero(priv, sizeof(priv));
		goto done;
	}
	if (!evpn_b64_key(public_key, c->rec.pub)) {
		users_set_err(err, EVPN_ERR_INVAL,
			      "public_key must be a base64 32-byte X25519 key");
		return EVPN_ERR_INVAL;
	}
	/* Reject low-order points: libsodium refuses them (all-zero shared
	 * secret), and so would every WireGuard handshake. */
	randombytes_buf(test_sk, sizeof(test_sk));
	r = crypto_scalarmult(shared, test_sk, c->rec.pub);
	sodium_memzero(test_sk, sizeof(test_sk));
	sodium_memzero(shared, sizeof(shared));
	if (r != 0) {
		users_set_err(err, EVPN_ERR_INVAL,
			      "public_key is not a usable X25519 public key");
		return EVPN_ERR_INVAL;
	}
done:
	evpn_key_b64(c->rec.pub, c->rec.u.public_key);
	return EVPN_OK;
}

/* Refuse what the resident users already rule out, before any store write:
 * no server key, a taken client_id, a public key in use. */
static int check_resident(struct create *c, struct evpn_users_error *err)
{
	struct evpn_users *u = c->u;
	int r = EVPN_OK;

	pthread_mutex_lock(&u->mu);
	if (!u->has_server_key) {
		users_set_err(err, EVPN_ERR_UNAVAILABLE,
			      "the server key pair is not available");
		r = EVPN_ERR_UNAVAILABLE;
	} else if (users_find_locked(u, c->rec.u.client_id)) {
		users_set_err(err, EVPN_ERR_EXISTS, "user '%s' already exists",
			      c->rec.u.client_id);
		r = EVPN_ERR_EXISTS;
	} else if (users_key_in_use_locked(u, c->rec.pub)) {
		/* The transport knows peers by public key: a second user with
		 * this key would take over the first one's peer. Users stored
		 * before keys were claimed are caught here too. */
		r = key_in_use(err);
	}
	pthread_mutex_unlock(&u->mu);
	return r;
}

/* 1. Claim the client_id: create users/{id}/created-at. */
static int claim_id(struct create *c, struct evpn_users_error *err)
{
	int r;

	evpn_rfc3339(c->now, c->rec.u.created_at);
	r = users_put(c->u, c->rec.u.client_id, "created-at",
		      c->rec.u.created_at, EVPN_STORE_CREATE);
	if (r == EVPN_ERR_EXISTS) {
		users_set_err(err, EVPN_ERR_EXISTS, "user '%s' already exists",
			      c->rec.u.client_id);
		return r;
	}
	if (r != EVPN_OK)
		return users_store_failed(err, r);
	c->id_claimed = true;
	return EVPN_OK;
}

/* 2. Claim the public key like the id: across instances too. */
static int claim_key(struct create *c, struct evpn_users_error *err)
{
	int r = users_claim_key(c->u, c->rec.u.client_id, c->rec.pub);

	if (r == EVPN_ERR_EXISTS)
		return key_in_use(err);
	if (r != EVPN_OK)
		return users_store_failed(err, r);
	c->key_claimed = true;
	return EVPN_OK;
}

/* 3. Claim an address, and derive the IPv6 one from it. */
static int claim_address(struct create *c, struct evpn_users_error *err)
{
	int r = take_address(c->u, c->rec.u.client_id, c->ip);

	if (r == EVPN_ERR_FULL) {
		users_set_err(err, r, "the address pool %s is exhausted",
			      c->u->host->network->pool);
		return r;
	}
	if (r != EVPN_OK)
		return users_store_failed(err, r);
	c->addr_claimed = true;
	snprintf(c->rec.u.address, sizeof(c->rec.u.address), "%s/32", c->ip);
	users_fill_address6(c->u, &c->rec);
	return EVPN_OK;
}

/* 4. Write the records: public key, address, a new API key's hash (the key
 * itself only goes into api_key, for the answer), the expiry. */
static int write_records(struct create *c, int64_t ttl,
			 char api_key[EVPN_API_KEY_LEN + 1],
			 struct evpn_users_error *err)
{
	struct user_rec *rec = &c->rec;
	const char *id = rec->u.client_id;
	uint8_t raw[32];
	char hash_hex[crypto_hash_sha256_BYTES * 2 + 1];
	int r;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(api_key, EVPN_API_KEY_LEN + 1, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	crypto_hash_sha256(rec->key_hash, (unsigned char *)api_key,
			   EVPN_API_KEY_LEN);
	rec->has_hash = true;
	sodium_bin2hex(hash_hex, sizeof(hash_hex), rec->key_hash,
		       crypto_hash_sha256_BYTES);
	if ((r = users_put(c->u, id, "public-key", rec->u.public_key, 0)) !=
		    EVPN_OK ||
	    (r = users_put(c->u, id, "address", rec->u.address, 0)) !=
		    EVPN_OK ||
	    (r = users_put(c->u, id, "api-key-hash", hash_hex, 0)) != EVPN_OK)
		return users_store_failed(err, r);
	/* the default is the absence of the record */
	if (strcmp(c->allowed, EVPN_ALLOWED_IPS_DEFAULT) != 0 &&
	    (r = users_put(c->u, id, "allowed-ips", c->allowed, 0)) != EVPN_OK)
		return users_store_failed(err, r);
	if (ttl > 0) {
		rec->expires = c->now + ttl;
		evpn_rfc3339(rec->expires, rec->u.expires_at);
		r = users_put(c->u, id, "expires-at", rec->u.expires_at, 0);
		if (r != EVPN_OK)
			return users_store_failed(err, r);
	}
	return EVPN_OK;
}

/* 5. Commit: `status`, then the index before we answer, so that every
 * acknowledged user is indexed. */
static int commit(struct create *c, struct evpn_users_error *err)
{
	int r;

	c->rec.u.status = EVPN_USER_ACTIVE;
	r = users_put(c->u, c->rec.u.client_id, "status",
		      evpn_user_status_name(EVPN_USER_ACTIVE), 0);
	if (r == EVPN_OK)
		r = users_index_put(c->u, &c->rec);
	return r == EVPN_OK ? EVPN_OK : users_store_failed(err, r);
}

/* 6. Serve the stored user: the config for the answer, the resident copy,
 * the peer, the change marker. */
static void serve(struct create *c, struct evpn_user_created *out,
		  struct evpn_user_created_more *more)
{
	struct evpn_users *u = c->u;
	struct user_rec *rec = &c->rec;
	int r;

	/* with a link, a generated private key is in the link only */
	out->config = evpn_render_wg_config(
		u->host->network, u->server_pub_b64, &rec->u,
		c->priv_b64[0] && !c->link.token[0] ? c->priv_b64 : NULL,
		c->allowed);
	if (more && EVPN_HAS_FIELD(more, allowed_ips))
		memcpy(more->allowed_ips, c->allowed,
		       sizeof(more->allowed_ips));
	if (more && EVPN_HAS_FIELD(more, link))
		more->link = c->link;
	sodium_memzero(&c->link, sizeof(c->link));
	sodium_memzero(c->priv_b64, sizeof(c->priv_b64));
	pthread_mutex_lock(&u->mu);
	r = users_insert_locked(u, rec);
	pthread_mutex_unlock(&u->mu);
	users_change_end(u, rec->u.client_id);
	if (r != EVPN_OK || !out->config) {
		/* Stored and complete; a reload will serve it. */
		evpn_error(u->host, "out of memory after storing user '%s'",
			   rec->u.client_id);
	}
	out->user = rec->u;
	users_push_peer(u, rec, false);
	users_bump_generation(u);
	u->host->metric_add(u->m_created, 1);
	evpn_metrics_gauge_users(u);
	evpn_info(u->host, "created user '%s' at %s%s%s", rec->u.client_id,
		  rec->u.address, rec->u.expires_at[0] ? ", expires " : "",
		  rec->u.expires_at);
}

/* Give back what a failed create claimed, and end its change. */
static void rollback(struct create *c)
{
	struct evpn_users *u = c->u;

	if (c->id_claimed)
		users_delete_records(u, c->rec.u.client_id,
				     c->addr_claimed ? c->ip : NULL,
				     c->key_claimed ? c->rec.pub : NULL);
	if (c->addr_claimed) {
		pthread_mutex_lock(&u->mu);
		evpn_pool_mark(&u->pool, c->ip, false);
		pthread_mutex_unlock(&u->mu);
	}
	users_change_end(u, c->rec.u.client_id);
}

int users_op_create_more(void *self, const struct evpn_user_create *req,
			 const struct evpn_user_create_more *more,
			 struct evpn_user_created *out,
			 struct evpn_user_created_more *out_more,
			 struct evpn_users_error *err)
{
	struct create c = {.u = self, .now = (int64_t)time(NULL)};
	int r;

	memset(out, 0, sizeof(*out));
	if (more && EVPN_HAS_FIELD(more, allowed_ips))
		c.allowed_in = more->allowed_ips;
	if (more && EVPN_HAS_FIELD(more, link_ttl_seconds))
		c.link_ttl = more->link_ttl_seconds;
	if (more && EVPN_HAS_FIELD(more, quota_bytes))
		c.quota = more->quota_bytes;
	if (more && EVPN_HAS_FIELD(more, rate_limit_bps) &&
	    more->set_rate_limit &&
	    more->rate_limit_bps != EVPN_RATE_LIMIT_DEFAULT) {
		c.rec.has_rate = true;
		c.rec.rate_bps = more->rate_limit_bps;
	}
	if (c.link_ttl && !(out_more && EVPN_HAS_FIELD(out_more, link))) {
		users_set_err(err, EVPN_ERR_INVAL,
			      "a link needs somewhere to be answered");
		return EVPN_ERR_INVAL;
	}
	r = check_request(&c, req, err);
	if (r == EVPN_OK)
		r = take_key(&c, req->public_key, err);
	if (r == EVPN_OK)
		r = check_resident(&c, err);
	if (r != EVPN_OK)
		goto fail;
	users_change_begin(c.u, c.rec.u.client_id);
	if ((r = claim_id(&c, err)) != EVPN_OK ||
	    (r = claim_key(&c, err)) != EVPN_OK ||
	    (r = claim_address(&c, err)) != EVPN_OK ||
	    (r = write_records(&c, req->ttl_seconds, out->api_key, err)) !=
		    EVPN_OK ||
	    (c.quota &&
	     (r = users_quota_write(c.u, c.rec.u.client_id, c.quota)) !=
		     EVPN_OK &&
	     (r = users_store_failed(err, r)) != EVPN_OK) ||
	    (c.rec.has_rate &&
	     (r = users_rate_write(c.u, c.rec.u.client_id, c.rec.rate_bps)) !=
		     EVPN_OK &&
	     (r = users_store_failed(err, r)) != EVPN_OK) ||
	    (c.link_ttl > 0 &&
	     (r = users_link_make(c.u, c.rec.u.client_id, c.rec.u.created_at,
				  c.link_ttl, c.priv_b64[0] ? c.priv_b64 : NULL,
				  &c.link, err)) != EVPN_OK) ||
	    (r = commit(&c, err)) != EVPN_OK) {
		rollback(&c);
		goto fail;
	}
	serve(&c, out, out_more);
	return EVPN_OK;
fail:
	sodium_memzero(c.priv_b64, sizeof(c.priv_b64));
	sodium_memzero(&c.link, sizeof(c.link));
	sodium_memzero(out->api_key, sizeof(out->api_key));
	return r;
}

int users_op_create(void *self, const struct evpn_user_create *req,
		    struct evpn_user_created *out, struct evpn_users_error *err)
{
	return users_op_create_more(self, req, NULL, out, NULL, err);
}

void users_op_release(void *self, struct evpn_user_created *out)
{
	(void)self;
	if (out->config) {
		sodium_memzero(out->config, strlen(out->config));
		free(out->config);
	}
	sodium_memzero(out, sizeof(*out));
}
