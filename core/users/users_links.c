/* SPDX-License-Identifier: MIT */
/*
 * One-time config links. A link is a random token (32 bytes, hex) shown
 * once; the store knows it only by its SHA-256, `links/{hash}/record`:
 * {"client_id", "created_at", "expires", "sealed"?} (created_at ties the
 * link to that user: a namesake created after a delete does not match).
 * Redeeming it claims
 * `links/{hash}/burned` with a create-only put: of any number of concurrent
 * redeems, on any instance, exactly one gets the claim and the config.
 *
 * A private key the server generated (a create that asked for a link) is
 * never stored in clear: `sealed` is it encrypted (XSalsa20-Poly1305)
 * under a key derived from the token, which the server does not keep. Only
 * the one who holds the link can open it, and the redeem deletes the
 * record. The config is rendered from the store's records, not from the
 * resident users, so a link made on one instance works at once on every
 * other.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "users_int.h"

/* expired links and burn marks are swept this long after expiry (until
 * then a used or expired link answers 410, after it 404) */
#define LINK_KEEP_AFTER 3600
#define LINK_SWEEP_INTERVAL 600.0

static const char seal_ctx[] = "evpn one-time link seal v1";

static bool valid_token(const char *t)
{
	size_t n = t ? strlen(t) : 0;

	if (n != EVPN_LINK_TOKEN_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)t[i]) &&
		    !(t[i] >= 'a' && t[i] <= 'f'))
			return false;
	return true;
}

static void link_key(const char *token, const char *leaf, char out[160])
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[crypto_hash_sha256_BYTES * 2 + 1];

	crypto_hash_sha256(h, (const unsigned char *)token,
			   EVPN_LINK_TOKEN_LEN);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, 160, "links/%s/%s", hex, leaf);
}

static void seal_key(const char *token, uint8_t key[crypto_secretbox_KEYBYTES])
{
	crypto_generichash(key, crypto_secretbox_KEYBYTES,
			   (const unsigned char *)token, EVPN_LINK_TOKEN_LEN,
			   (const unsigned char *)seal_ctx,
			   sizeof(seal_ctx) - 1);
}

/* base64 of nonce | secretbox(priv_b64) */
static bool seal(const char *token, const char *priv_b64, char *out,
		 size_t outlen)
{
	uint8_t key[crypto_secretbox_KEYBYTES],
		buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
		    64];
	size_t n = strlen(priv_b64);

	if (n > 64 ||
	    sodium_base64_ENCODED_LEN(sizeof(buf),
				      sodium_base64_VARIANT_ORIGINAL) > outlen)
		return false;
	seal_key(token, key);
	randombytes_buf(buf, crypto_secretbox_NONCEBYTES);
	crypto_secretbox_easy(buf + crypto_secretbox_NONCEBYTES,
			      (const unsigned char *)priv_b64, n, buf, key);
	sodium_bin2base64(out, outlen, buf,
			  crypto_secretbox_NONCEBYTES +
				  crypto_secretbox_MACBYTES + n,
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(key, sizeof(key));
	return true;
}

static bool unseal(const char *token, const char *sealed, char out[65])
{
	uint8_t key[crypto_secretbox_KEYBYTES],
		buf[crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
		    64];
	size_t n = 0;
	bool ok;

	if (sodium_base642bin(buf, sizeof(buf), sealed, strlen(sealed), NULL,
			      &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n <= crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES)
		return false;
	seal_key(token, key);
	n -= crypto_secretbox_NONCEBYTES;
	ok = crypto_secretbox_open_easy((unsigned char *)out,
					buf + crypto_secretbox_NONCEBYTES, n,
					buf, key) == 0;
	out[ok ? n - crypto_secretbox_MACBYTES : 0] = '\0';
	sodium_memzero(key, sizeof(key));
	sodium_memzero(buf, sizeof(buf));
	return ok;
}

int users_link_make(struct evpn_users *u, const char *id,
		    const char *created_at, int64_t ttl, const char *priv_b64,
		    struct evpn_link *out, struct evpn_users_error *err)
{
	int64_t expires = (int64_t)time(NULL) + ttl;
	char key[160], sealed[160] = "", *v = NULL;
	uint8_t raw[32];
	json_t *o;
	int r;

	memset(out, 0, sizeof(*out));
	if (ttl < 1 || ttl > EVPN_LINK_TTL_MAX) {
		users_set_err(err, EVPN_ERR_INVAL,
			      "a link's ttl must be between 1s and 7d");
		return EVPN_ERR_INVAL;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out->token, sizeof(out->token), raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	if (priv_b64 && !seal(out->token, priv_b64, sealed, sizeof(sealed))) {
		r = EVPN_ERR_INVAL;
		goto fail;
	}
	o = json_pack("{s:s, s:s, s:I}", "client_id", id, "created_at",
		      created_at, "expires", (json_int_t)expires);
	if (o && sealed[0])
		json_object_set_new(o, "sealed", json_string(sealed));
	v = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!v) {
		r = EVPN_ERR_NOMEM;
		goto fail;
	}
	link_key(out->token, "record", key);
	r = u->st->put(u->sts, key, v, strlen(v), EVPN_STORE_CREATE);
	free(v);
	if (r != EVPN_OK)
		goto fail;
	evpn_rfc3339(expires, out->expires_at);
	return EVPN_OK;
fail:
	sodium_memzero(out, sizeof(*out));
	if (r == EVPN_ERR_NOMEM) {
		users_set_err(err, r, "out of memory");
		return r;
	}
	return users_store_failed(err, r);
}

int users_op_link_create(void *self, const char *id, int64_t ttl,
			 struct evpn_link *out, struct evpn_users_error *err)
{
	struct evpn_users *u = self;
	struct user_slot *s;
	struct user_rec rec;

	pthread_mutex_lock(&u->mu);
	s = users_find_locked(u, id);
	if (s)
		users_slot_unpack(u, s, &rec);
	pthread_mutex_unlock(&u->mu);
	if (!s) {
		users_set_err(err, EVPN_ERR_NOTFOUND, "no user '%s'", id);
		return EVPN_ERR_NOTFOUND;
	}
	return users_link_make(u, id, rec.u.created_at, ttl, NULL, out, err);
}

static int gone(struct evpn_users_error *err, const char *why)
{
	users_set_err(err, EVPN_ERR_NOTFOUND, "this link %s", why);
	if (err)
		snprintf(err->reason, sizeof(err->reason), "link_gone");
	return EVPN_ERR_NOTFOUND;
}

/* The config of user id from its store records (any instance). */
static int render_from_store(struct evpn_users *u, const char *id,
			     const char *created_at, const char *priv_b64,
			     char **config)
{
	char key[160], *v = NULL, allowed[EVPN_ALLOWED_IPS_MAX],
		       pub[EVPN_KEY_B64_SIZE];
	struct user_rec rec;
	size_t len;
	int r;

	memset(&rec, 0, sizeof(rec));
	snprintf(rec.u.client_id, sizeof(rec.u.client_id), "%s", id);
	snprintf(key, sizeof(key), "users/%s/status", id);
	r = u->st->get(u->sts, key, &v, &len);
	if (r != EVPN_OK)
		return r;
	u->st->free_value(u->sts, v, len);
	snprintf(key, sizeof(key), "users/%s/created-at", id);
	r = u->st->get(u->sts, key, &v, &len);
	if (r != EVPN_OK)
		return r;
	/* another user of that name since the link was made */
	r = strcspn(v, "\r\n") == strlen(created_at) &&
			    strncmp(v, created_at, strlen(created_at)) == 0
		    ? EVPN_OK
		    : EVPN_ERR_NOTFOUND;
	u->st->free_value(u->sts, v, len);
	if (r != EVPN_OK)
		return r;
	snprintf(key, sizeof(key), "users/%s/address", id);
	r = u->st->get(u->sts, key, &v, &len);
	if (r != EVPN_OK)
		return r;
	snprintf(rec.u.address, sizeof(rec.u.address), "%.*s",
		 (int)strcspn(v, "\r\n"), v);
	u->st->free_value(u->sts, v, len);
	users_fill_address6(u, &rec);
	r = users_allowed_read(u, id, allowed);
	if (r != EVPN_OK)
		return r;
	pthread_mutex_lock(&u->mu);
	memcpy(pub, u->server_pub_b64, sizeof(pub));
	pthread_mutex_unlock(&u->mu);
	*config = evpn_render_wg_config(u->host->network, pub, &rec.u, priv_b64,
					allowed);
	return *config ? EVPN_OK : EVPN_ERR_NOMEM;
}

struct link_rec {
	char id[EVPN_CLIENT_ID_MAX + 1];
	char created_at[32];
	int64_t expires;
	char sealed[160];
};

static bool parse_link(const char *v, size_t len, struct link_rec *l)
{
	json_t *o = json_loadb(v, len, 0, NULL);
	const char *id = json_string_value(json_object_get(o, "client_id"));
	const char *sealed = json_string_value(json_object_get(o, "sealed"));
	const char *created =
		json_string_value(json_object_get(o, "created_at"));
	bool ok = id && evpn_valid_client_id(id) && created &&
		  strlen(created) < sizeof(l->created_at) &&
		  json_is_integer(json_object_get(o, "expires")) &&
		  (!sealed || strlen(sealed) < sizeof(l->sealed));

	memset(l, 0, sizeof(*l));
	if (ok) {
		snprintf(l->id, sizeof(l->id), "%s", id);
		snprintf(l->created_at, sizeof(l->created_at), "%s", created);
		l->expires = json_integer_value(json_object_get(o, "expires"));
		if (sealed)
			snprintf(l->sealed, sizeof(l->sealed), "%s", sealed);
	}
	json_decref(o);
	return ok;
}

/* Claim the link: the create-only put that only one redeem can win. */
static int burn(struct evpn_users *u, const char *token,
		const struct link_rec *l)
{
	char key[160], v[48];

	link_key(token, "burned", key);
	snprintf(v, sizeof(v), "{\"expires\":%lld}", (long long)l->expires);
	return u->st->put(u->sts, key, v, strlen(v), EVPN_STORE_CREATE);
}

int users_op_link_redeem(void *self, const char *token, char **config,
			 char *client_id, struct evpn_users_error *err)
{
	struct evpn_users *u = self;
	char key[160], *v = NULL, priv[65] = "";
	struct link_rec l;
	size_t len;
	int r;

	*config = NULL;
	client_id[0] = '\0';
	if (!valid_token(token)) {
		users_set_err(err, EVPN_ERR_NOTFOUND, "no such link");
		return EVPN_ERR_NOTFOUND;
	}
	link_key(token, "record", key);
	r = u->st->get(u->sts, key, &v, &len);
	if (r == EVPN_ERR_NOTFOUND) {
		link_key(token, "burned", key);
		r = u->st->get(u->sts, key, &v, &len);
		if (r == EVPN_OK) {
			u->st->free_value(u->sts, v, len);
			return gone(err, "was used already");
		}
		if (r == EVPN_ERR_NOTFOUND) {
			users_set_err(err, r, "no such link");
			return r;
		}
	}
	if (r != EVPN_OK)
		return users_store_failed(err, r);
	r = parse_link(v, len, &l) ? EVPN_OK : EVPN_ERR_INVAL;
	u->st->free_value(u->sts, v, len);
	if (r != EVPN_OK) {
		users_set_err(err, EVPN_ERR_NOTFOUND, "no such link");
		return EVPN_ERR_NOTFOUND;
	}
	snprintf(client_id, EVPN_CLIENT_ID_MAX + 1, "%s", l.id);
	if ((int64_t)time(NULL) >= l.expires) {
		sodium_memzero(&l, sizeof(l));
		return gone(err, "has expired");
	}
	r = burn(u, token, &l);
	if (r == EVPN_ERR_EXISTS) {
		sodium_memzero(&l, sizeof(l));
		return gone(err, "was used already");
	}
	if (r != EVPN_OK) {
		sodium_memzero(&l, sizeof(l));
		return users_store_failed(err, r);
	}
	/* ours: from here the link is spent whatever happens */
	if (l.sealed[0] && !unseal(token, l.sealed, priv))
		evpn_warn(u->host,
			  "link for '%s': the sealed private key does "
			  "not open; serving the placeholder",
			  l.id);
	r = render_from_store(u, l.id, l.created_at, priv[0] ? priv : NULL,
			      config);
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(&l, sizeof(l));
	link_key(token, "record", key);
	if (u->st->del(u->sts, key) != EVPN_OK)
		evpn_warn(u->host, "a used link's record could not be deleted; "
				   "the sweep will");
	if (r == EVPN_ERR_NOTFOUND) {
		users_set_err(err, r, "the link's user no longer exists");
		return r;
	}
	if (r != EVPN_OK)
		return users_store_failed(err, r);
	return EVPN_OK;
}

/* ------------------------------------------------------------ sweeping */

struct link_sweep {
	int64_t before;
	struct users_keylist keys;
};

static int sweep_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct link_sweep *s = arg;
	json_t *o;
	int64_t exp;

	if (strncmp(key, "links/", 6) != 0 || strlen(key) >= USERS_KEYLIST_MAX)
		return 0;
	o = json_loadb(value, len, 0, NULL);
	exp = json_integer_value(json_object_get(o, "expires"));
	json_decref(o);
	if (exp >= s->before)
		return 0;
	return users_keylist_push(&s->keys, key) ? 0 : 1;
}

/* Maintenance thread: drop link records and burn marks an hour after
 * they expired. */
void users_links_sweep(struct evpn_users *u, double mono_now)
{
	struct link_sweep s = {.before = (int64_t)time(NULL) - LINK_KEEP_AFTER};

	if (mono_now < u->links_next_sweep)
		return;
	u->links_next_sweep = mono_now + LINK_SWEEP_INTERVAL;
	if (u->st->list(u->sts, "links/", sweep_cb, &s) == EVPN_OK)
		for (size_t i = 0; i < s.keys.n; i++) {
			int r = u->st->del(u->sts, s.keys.v[i]);

			if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
				break;
		}
	users_keylist_free(&s.keys);
}
