/* SPDX-License-Identifier: MIT */
/*
 * The server's WireGuard key pair and the master API key, kept in the store.
 * Only hashes and public keys stay in ordinary memory; the server private
 * key lives in sodium_malloc'd memory and is wiped when dropped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "users_int.h"

#define K_PRIV "wg/server-private-key"
#define K_PRIV_B64 "wg/server-private-key-b64"
#define K_PUB "wg/server-public-key"
#define K_PUB_B64 "wg/server-public-key-b64"
#define K_META "wg/server-key-metadata"
#define K_MASTER "master-api-key"

static int load_server_key(struct evpn_users *u)
{
	char *v = NULL;
	size_t len;
	uint8_t priv[EVPN_KEY_LEN];
	int r;

	r = u->st->get(u->sts, K_PRIV, &v, &len);
	if (r != EVPN_OK)
		return users_store_err(r);
	while (len && (v[len - 1] == '\n' || v[len - 1] == '\r'))
		v[--len] = '\0';
	if (!evpn_b64_key(v, priv)) {
		u->st->free_value(u->sts, v, len);
		evpn_error(u->host,
			   "the stored server private key (%s) is not a "
			   "base64 32-byte key",
			   K_PRIV);
		return EVPN_ERR_INVAL;
	}
	u->st->free_value(u->sts, v, len);
	pthread_mutex_lock(&u->mu);
	memcpy(u->server_priv, priv, EVPN_KEY_LEN);
	crypto_scalarmult_base(u->server_pub, priv);
	evpn_key_b64(u->server_pub, u->server_pub_b64);
	u->has_server_key = true;
	pthread_mutex_unlock(&u->mu);
	sodium_memzero(priv, sizeof(priv));
	return EVPN_OK;
}

int evpn_users_server_key(struct evpn_users *u, bool create, bool force,
			  const char *metadata_json,
			  char pub_b64[EVPN_KEY_B64_SIZE], bool *created)
{
	uint8_t priv[EVPN_KEY_LEN], pub[EVPN_KEY_LEN];
	char priv_b64[EVPN_KEY_B64_SIZE], pub_txt[EVPN_KEY_B64_SIZE],
		b64b64[64], meta[512], now[32];
	int r;

	*created = false;
	if (!force) {
		r = load_server_key(u);
		if (r == EVPN_OK) {
			memcpy(pub_b64, u->server_pub_b64, EVPN_KEY_B64_SIZE);
			return EVPN_OK;
		}
		if (r != EVPN_ERR_NOTFOUND || !create)
			return r;
	}
	/* A Curve25519 secret, clamped as `wg genkey` does. */
	randombytes_buf(priv, sizeof(priv));
	priv[0] &= 248;
	priv[31] &= 127;
	priv[31] |= 64;
	crypto_scalarmult_base(pub, priv);
	evpn_key_b64(priv, priv_b64);
	evpn_key_b64(pub, pub_txt);

	/* The private key first and create-only, unless replacing: two
	 * instances starting at once must agree on one key. */
	r = u->st->put(u->sts, K_PRIV, priv_b64, strlen(priv_b64),
		       EVPN_STORE_SECRET | (force ? 0 : EVPN_STORE_CREATE));
	if (r == EVPN_ERR_EXISTS) {
		sodium_memzero(priv, sizeof(priv));
		sodium_memzero(priv_b64, sizeof(priv_b64));
		r = load_server_key(u);
		if (r == EVPN_OK)
			memcpy(pub_b64, u->server_pub_b64, EVPN_KEY_B64_SIZE);
		return r;
	}
	if (r != EVPN_OK)
		goto out;
	sodium_bin2base64(b64b64, sizeof(b64b64), (unsigned char *)priv_b64,
			  EVPN_KEY_B64_LEN, sodium_base64_VARIANT_ORIGINAL);
	r = u->st->put(u->sts, K_PRIV_B64, b64b64, strlen(b64b64),
		       EVPN_STORE_SECRET);
	if (r != EVPN_OK)
		goto out;
	r = u->st->put(u->sts, K_PUB, pub_txt, strlen(pub_txt), 0);
	if (r != EVPN_OK)
		goto out;
	sodium_bin2base64(b64b64, sizeof(b64b64), (unsigned char *)pub_txt,
			  EVPN_KEY_B64_LEN, sodium_base64_VARIANT_ORIGINAL);
	r = u->st->put(u->sts, K_PUB_B64, b64b64, strlen(b64b64), 0);
	if (r != EVPN_OK)
		goto out;
	evpn_rfc3339(time(NULL), now);
	if (metadata_json)
		snprintf(meta, sizeof(meta), "%s", metadata_json);
	else
		snprintf(meta, sizeof(meta),
			 "{\"algorithm\":\"curve25519\",\"created_at\":\"%s\","
			 "\"purpose\":\"wireguard-server\",\"generator\":"
			 "\"evpnd %s\"}",
			 now, EVPN_VERSION);
	r = u->st->put(u->sts, K_META, meta, strlen(meta), 0);
	if (r != EVPN_OK)
		goto out;
	pthread_mutex_lock(&u->mu);
	memcpy(u->server_priv, priv, EVPN_KEY_LEN);
	memcpy(u->server_pub, pub, EVPN_KEY_LEN);
	memcpy(u->server_pub_b64, pub_txt, EVPN_KEY_B64_SIZE);
	u->has_server_key = true;
	pthread_mutex_unlock(&u->mu);
	memcpy(pub_b64, pub_txt, EVPN_KEY_B64_SIZE);
	*created = true;
out:
	sodium_memzero(priv, sizeof(priv));
	sodium_memzero(priv_b64, sizeof(priv_b64));
	sodium_memzero(b64b64, sizeof(b64b64));
	return users_store_err(r);
}

int evpn_users_master_key(struct evpn_users *u, char *out, size_t outlen,
			  bool *created)
{
	uint8_t raw[32];
	char key[65];
	char *v = NULL;
	size_t len = 0;
	int r;

	*created = false;
	if (u->master_key_opt) {
		len = strlen(u->master_key_opt);
		crypto_hash_sha256(u->master_hash,
				   (unsigned char *)u->master_key_opt, len);
		u->has_master = true;
		if (out)
			snprintf(out, outlen, "%s", u->master_key_opt);
		return EVPN_OK;
	}
	r = u->st->get(u->sts, K_MASTER, &v, &len);
	if (r == EVPN_ERR_NOTFOUND) {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(key, sizeof(key), raw, sizeof(raw));
		sodium_memzero(raw, sizeof(raw));
		r = u->st->put(u->sts, K_MASTER, key, 64,
			       EVPN_STORE_SECRET | EVPN_STORE_CREATE);
		if (r == EVPN_OK) {
			*created = true;
			crypto_hash_sha256(u->master_hash, (unsigned char *)key,
					   64);
			u->has_master = true;
			if (out)
				snprintf(out, outlen, "%s", key);
		}
		sodium_memzero(key, sizeof(key));
		if (r != EVPN_ERR_EXISTS)
			return users_store_err(r);
		/* lost a race with another instance: read theirs */
		r = u->st->get(u->sts, K_MASTER, &v, &len);
	}
	if (r != EVPN_OK)
		return users_store_err(r);
	while (len && (v[len - 1] == '\n' || v[len - 1] == '\r'))
		v[--len] = '\0';
	if (len < 16) {
		u->st->free_value(u->sts, v, len);
		evpn_error(u->host, "the stored master API key is too short");
		return EVPN_ERR_INVAL;
	}
	crypto_hash_sha256(u->master_hash, (unsigned char *)v, len);
	u->has_master = true;
	if (out)
		snprintf(out, outlen, "%s", v);
	u->st->free_value(u->sts, v, len);
	return EVPN_OK;
}
