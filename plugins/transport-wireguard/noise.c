// SPDX-License-Identifier: MIT
/*
 * Noise_IKpsk2 as WireGuard uses it (whitepaper section 5.4.2-5.4.6):
 * handshake initiation and response, both roles, and session derivation.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "wg.h"

static const char construction[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
static const char identifier[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";

static uint8_t initial_chain[WG_HASH_LEN];
static uint8_t initial_hash[WG_HASH_LEN];
static bool initial_done;

/* Compute the protocol's initial chaining key and hash, once. */
static void noise_constants(void)
{
	if (initial_done)
		return;
	wg_hash(initial_chain, construction, sizeof(construction) - 1);
	wg_hash2(initial_hash, initial_chain, WG_HASH_LEN, identifier,
		 sizeof(identifier) - 1);
	initial_done = true;
}

void wg_noise_init_device(struct wg_device *d)
{
	noise_constants();
	wg_hash2(d->hash0, initial_hash, WG_HASH_LEN, d->pub, WG_KEY_LEN);
	wg_hash2(d->mac1_key, WG_LABEL_MAC1, 8, d->pub, WG_KEY_LEN);
	wg_hash2(d->cookie_key, WG_LABEL_COOKIE, 8, d->pub, WG_KEY_LEN);
}

void wg_noise_init_peer(struct wg_device *d, struct wg_peer *p)
{
	noise_constants();
	wg_wipe(p->static_static, WG_KEY_LEN);
	p->ss_state = WG_SS_PENDING;
	if (!d->has_key)
		return;
	/* Remember the peer for the background precomputation. */
	if (d->ss_n == d->ss_cap) {
		uint32_t cap = d->ss_cap ? d->ss_cap * 2 : 1024;
		uint32_t *n = realloc(d->ss_pending, cap * sizeof(*n));

		if (!n)
			return; /* computed on demand instead */
		d->ss_pending = n;
		d->ss_cap = cap;
	}
	d->ss_pending[d->ss_n++] = p->handle;
}

bool wg_noise_static_static(struct wg_device *d, struct wg_peer *p)
{
	if (p->ss_state == WG_SS_PENDING) {
		if (!d->has_key)
			return false;
		if (wg_equal(p->public_key, d->pub, WG_KEY_LEN))
			p->ss_state = WG_SS_BAD; /* ourselves */
		else
			p->ss_state =
				wg_dh(p->static_static, d->priv, p->public_key)
					? WG_SS_OK
					: WG_SS_BAD;
	}
	return p->ss_state == WG_SS_OK;
}

/* h = HASH(h || in) */
static void mix_hash(uint8_t h[WG_HASH_LEN], const void *in, size_t len)
{
	wg_hash2(h, h, WG_HASH_LEN, in, len);
}

/* (c, k) = KDF2(c, dh) */
static void mix_key(uint8_t c[WG_HASH_LEN], uint8_t k[WG_KEY_LEN],
		    const uint8_t *in, size_t len)
{
	wg_kdf(c, k, NULL, c, WG_HASH_LEN, in, len);
}

/* (c, k) = KDF2(c, DH(priv, pub)); false on a low-order point */
static bool mix_dh(uint8_t c[WG_HASH_LEN], uint8_t *k, const uint8_t *priv,
		   const uint8_t *pub)
{
	uint8_t ss[WG_KEY_LEN];

	if (!wg_dh(ss, priv, pub))
		return false;
	if (k)
		mix_key(c, k, ss, sizeof(ss));
	else
		wg_kdf(c, NULL, NULL, c, WG_HASH_LEN, ss, sizeof(ss));
	wg_wipe(ss, sizeof(ss));
	return true;
}

/* dst = AEAD(key, 0, src, h); h = HASH(h || dst) */
static void encrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			     const uint8_t key[WG_KEY_LEN],
			     uint8_t h[WG_HASH_LEN])
{
	wg_aead_encrypt(dst, src, len, h, WG_HASH_LEN, 0, key);
	mix_hash(h, dst, len + WG_AEAD_TAG);
}

/* dst = AEAD-open(key, 0, src, h); h = HASH(h || src); false if forged */
static bool decrypt_and_hash(uint8_t *dst, const uint8_t *src, size_t len,
			     const uint8_t key[WG_KEY_LEN],
			     uint8_t h[WG_HASH_LEN])
{
	if (!wg_aead_decrypt(dst, src, len, h, WG_HASH_LEN, 0, key))
		return false;
	mix_hash(h, src, len);
	return true;
}

/* A random receiver index that is not in the index table yet. */
static uint32_t new_index(struct wg_device *d)
{
	uint32_t idx;

	do {
		idx = wg_random_u32();
	} while (wg_index_find(d, idx));
	return idx;
}

void wg_noise_handshake_clear(struct wg_device *d, struct wg_peer *p)
{
	struct wg_handshake *hs = &p->hs;

	wg_index_remove(d, &hs->entry);
	hs->state = WG_HS_ZEROED;
	wg_wipe(hs->ephemeral_priv, sizeof(hs->ephemeral_priv));
	wg_wipe(hs->remote_ephemeral, sizeof(hs->remote_ephemeral));
	wg_wipe(hs->hash, sizeof(hs->hash));
	wg_wipe(hs->chain, sizeof(hs->chain));
	hs->remote_index = 0;
}

bool wg_noise_create_initiation(struct wg_device *d, struct wg_peer *p,
				struct wg_msg_initiation *m)
{
	struct wg_handshake *hs = &p->hs;
	uint8_t key[WG_KEY_LEN], ts[WG_TAI64N_LEN];
	bool ok = false;

	if (!d->has_key || !p->enabled || !wg_noise_static_static(d, p))
		return false;
	wg_noise_handshake_clear(d, p);

	memset(m, 0, sizeof(*m));
	m->type = htole32(WG_MSG_INITIATION);
	memcpy(hs->chain, initial_chain, WG_HASH_LEN);
	wg_hash2(hs->hash, initial_hash, WG_HASH_LEN, p->public_key,
		 WG_KEY_LEN);

	/* e */
	wg_genkey(hs->ephemeral_priv);
	wg_pubkey(m->ephemeral, hs->ephemeral_priv);
	mix_hash(hs->hash, m->ephemeral, WG_KEY_LEN);
	wg_kdf(hs->chain, NULL, NULL, hs->chain, WG_HASH_LEN, m->ephemeral,
	       WG_KEY_LEN);
	/* es */
	if (!mix_dh(hs->chain, key, hs->ephemeral_priv, p->public_key))
		goto out;
	/* s */
	encrypt_and_hash(m->enc_static, d->pub, WG_KEY_LEN, key, hs->hash);
	/* ss (precomputed) */
	mix_key(hs->chain, key, p->static_static, WG_KEY_LEN);
	/* {t} */
	{
		struct timespec now;

		/* Coarse (2^24 ns steps), as the Linux module does, so the
		 * timestamp is no fine-grained clock oracle. */
		wg_device_walltime(d, &now);
		wg_tai64n_from(ts, now.tv_sec, now.tv_nsec & ~((1L << 24) - 1));
	}
	encrypt_and_hash(m->enc_timestamp, ts, WG_TAI64N_LEN, key, hs->hash);

	hs->entry.index = new_index(d);
	wg_index_insert(d, &hs->entry, p, WG_INDEX_HANDSHAKE);
	m->sender = htole32(hs->entry.index);
	hs->state = WG_HS_CREATED_INITIATION;
	ok = true;
out:
	wg_wipe(key, sizeof(key));
	if (!ok)
		wg_noise_handshake_clear(d, p);
	return ok;
}

struct wg_peer *wg_noise_consume_initiation(struct wg_device *d,
					    const struct wg_msg_initiation *m,
					    enum wg_drop *why)
{
	uint8_t chain[WG_HASH_LEN], hash[WG_HASH_LEN], key[WG_KEY_LEN];
	uint8_t s[WG_KEY_LEN], ts[WG_TAI64N_LEN];
	struct wg_peer *p = NULL, *ret = NULL;
	double now;

	*why = WG_DROP_HANDSHAKE_INVALID;
	if (!d->has_key) {
		*why = WG_DROP_NO_KEY;
		return NULL;
	}
	memcpy(chain, initial_chain, WG_HASH_LEN);
	memcpy(hash, d->hash0, WG_HASH_LEN);

	/* e */
	mix_hash(hash, m->ephemeral, WG_KEY_LEN);
	wg_kdf(chain, NULL, NULL, chain, WG_HASH_LEN, m->ephemeral, WG_KEY_LEN);
	/* es */
	if (!mix_dh(chain, key, d->priv, m->ephemeral))
		goto out;
	/* s */
	if (!decrypt_and_hash(s, m->enc_static, sizeof(m->enc_static), key,
			      hash))
		goto out;
	p = wg_device_peer_find(d, s);
	if (!p) {
		*why = WG_DROP_UNKNOWN_PEER;
		goto out;
	}
	if (!p->enabled) {
		*why = WG_DROP_PEER_DISABLED;
		goto out;
	}
	if (!wg_noise_static_static(d, p))
		goto out;
	/* ss */
	mix_key(chain, key, p->static_static, WG_KEY_LEN);
	/* {t} */
	if (!decrypt_and_hash(ts, m->enc_timestamp, sizeof(m->enc_timestamp),
			      key, hash))
		goto out;

	/* Replay of an old initiation: TAI64N is big-endian, so memcmp
	 * orders it. A strictly newer timestamp is required. */
	if (memcmp(ts, p->hs.latest_timestamp, WG_TAI64N_LEN) <= 0) {
		*why = WG_DROP_STALE_TIMESTAMP;
		goto out;
	}
	now = wg_device_now(d);
	if (p->hs.last_initiation_consumption > 0 &&
	    now - p->hs.last_initiation_consumption <
		    1.0 / WG_INITIATIONS_PER_SECOND) {
		*why = WG_DROP_HANDSHAKE_FLOOD;
		goto out;
	}

	wg_noise_handshake_clear(d, p);
	memcpy(p->hs.remote_ephemeral, m->ephemeral, WG_KEY_LEN);
	memcpy(p->hs.latest_timestamp, ts, WG_TAI64N_LEN);
	memcpy(p->hs.hash, hash, WG_HASH_LEN);
	memcpy(p->hs.chain, chain, WG_HASH_LEN);
	p->hs.remote_index = le32toh(m->sender);
	p->hs.last_initiation_consumption = now;
	p->hs.state = WG_HS_CONSUMED_INITIATION;
	ret = p;
out:
	wg_wipe(chain, sizeof(chain));
	wg_wipe(hash, sizeof(hash));
	wg_wipe(key, sizeof(key));
	wg_wipe(s, sizeof(s));
	return ret;
}

bool wg_noise_create_response(struct wg_device *d, struct wg_peer *p,
			      struct wg_msg_response *m)
{
	struct wg_handshake *hs = &p->hs;
	uint8_t key[WG_KEY_LEN], tau[WG_HASH_LEN];
	bool ok = false;

	if (hs->state != WG_HS_CONSUMED_INITIATION)
		return false;
	memset(m, 0, sizeof(*m));
	m->type = htole32(WG_MSG_RESPONSE);
	m->receiver = htole32(hs->remote_index);

	/* e */
	wg_genkey(hs->ephemeral_priv);
	wg_pubkey(m->ephemeral, hs->ephemeral_priv);
	mix_hash(hs->hash, m->ephemeral, WG_KEY_LEN);
	wg_kdf(hs->chain, NULL, NULL, hs->chain, WG_HASH_LEN, m->ephemeral,
	       WG_KEY_LEN);
	/* ee */
	if (!mix_dh(hs->chain, NULL, hs->ephemeral_priv, hs->remote_ephemeral))
		goto out;
	/* se */
	if (!mix_dh(hs->chain, NULL, hs->ephemeral_priv, p->public_key))
		goto out;
	/* psk */
	wg_kdf(hs->chain, tau, key, hs->chain, WG_HASH_LEN, p->psk, WG_KEY_LEN);
	mix_hash(hs->hash, tau, WG_HASH_LEN);
	/* {} */
	encrypt_and_hash(m->enc_nothing, (const uint8_t *)"", 0, key, hs->hash);

	hs->entry.index = new_index(d);
	wg_index_insert(d, &hs->entry, p, WG_INDEX_HANDSHAKE);
	m->sender = htole32(hs->entry.index);
	hs->state = WG_HS_CREATED_RESPONSE;
	ok = true;
out:
	wg_wipe(key, sizeof(key));
	wg_wipe(tau, sizeof(tau));
	if (!ok)
		wg_noise_handshake_clear(d, p);
	return ok;
}

struct wg_peer *wg_noise_consume_response(struct wg_device *d,
					  const struct wg_msg_response *m,
					  enum wg_drop *why)
{
	uint8_t chain[WG_HASH_LEN], hash[WG_HASH_LEN], key[WG_KEY_LEN];
	uint8_t tau[WG_HASH_LEN], nothing[1];
	struct wg_index_entry *e;
	struct wg_peer *p, *ret = NULL;
	struct wg_handshake *hs;

	e = wg_index_find(d, le32toh(m->receiver));
	if (!e || e->kind != WG_INDEX_HANDSHAKE) {
		*why = WG_DROP_UNKNOWN_INDEX;
		return NULL;
	}
	p = e->peer;
	hs = &p->hs;
	if (hs->state != WG_HS_CREATED_INITIATION) {
		*why = WG_DROP_BAD_STATE;
		return NULL;
	}
	if (!p->enabled) {
		*why = WG_DROP_PEER_DISABLED;
		return NULL;
	}
	*why = WG_DROP_HANDSHAKE_INVALID;
	memcpy(chain, hs->chain, WG_HASH_LEN);
	memcpy(hash, hs->hash, WG_HASH_LEN);

	/* e */
	mix_hash(hash, m->ephemeral, WG_KEY_LEN);
	wg_kdf(chain, NULL, NULL, chain, WG_HASH_LEN, m->ephemeral, WG_KEY_LEN);
	/* ee */
	if (!mix_dh(chain, NULL, hs->ephemeral_priv, m->ephemeral))
		goto out;
	/* se */
	if (!mix_dh(chain, NULL, d->priv, m->ephemeral))
		goto out;
	/* psk */
	wg_kdf(chain, tau, key, chain, WG_HASH_LEN, p->psk, WG_KEY_LEN);
	mix_hash(hash, tau, WG_HASH_LEN);
	/* {} */
	if (!decrypt_and_hash(nothing, m->enc_nothing, sizeof(m->enc_nothing),
			      key, hash))
		goto out;

	memcpy(hs->chain, chain, WG_HASH_LEN);
	memcpy(hs->hash, hash, WG_HASH_LEN);
	memcpy(hs->remote_ephemeral, m->ephemeral, WG_KEY_LEN);
	hs->remote_index = le32toh(m->sender);
	hs->state = WG_HS_CONSUMED_RESPONSE;
	ret = p;
out:
	wg_wipe(chain, sizeof(chain));
	wg_wipe(hash, sizeof(hash));
	wg_wipe(key, sizeof(key));
	wg_wipe(tau, sizeof(tau));
	return ret;
}

bool wg_noise_begin_session(struct wg_device *d, struct wg_peer *p)
{
	struct wg_handshake *hs = &p->hs;
	struct wg_keypair *kp;
	bool initiator;

	if (hs->state == WG_HS_CONSUMED_RESPONSE)
		initiator = true;
	else if (hs->state == WG_HS_CREATED_RESPONSE)
		initiator = false;
	else
		return false;

	kp = calloc(1, sizeof(*kp));
	if (!kp)
		return false;
	/* T_send_i = T_recv_r is the first KDF2 output. */
	if (initiator)
		wg_kdf(kp->send_key, kp->recv_key, NULL, hs->chain, WG_HASH_LEN,
		       NULL, 0);
	else
		wg_kdf(kp->recv_key, kp->send_key, NULL, hs->chain, WG_HASH_LEN,
		       NULL, 0);
	kp->initiator = initiator;
	kp->remote_index = hs->remote_index;
	kp->birth = wg_device_now(d);
	wg_replay_init(&kp->replay);

	/* The session takes over the handshake's local index. */
	kp->entry.index = hs->entry.index;
	wg_index_remove(d, &hs->entry);
	wg_index_insert(d, &kp->entry, p, WG_INDEX_KEYPAIR);
	hs->entry.index = 0;
	wg_noise_handshake_clear(d, p);

	if (initiator) {
		/* We know the responder has the session: use it at once. */
		struct wg_keypair *old_prev = p->prev;

		if (p->next) {
			p->prev = p->next;
			p->next = NULL;
			wg_keypair_free(d, p->cur);
		} else {
			p->prev = p->cur;
		}
		wg_keypair_free(d, old_prev);
		p->cur = kp;
	} else {
		/* Unconfirmed until the initiator's first data packet. */
		wg_keypair_free(d, p->next);
		p->next = kp;
		wg_keypair_free(d, p->prev);
		p->prev = NULL;
	}
	return true;
}

void wg_noise_confirm(struct wg_device *d, struct wg_peer *p,
		      struct wg_keypair *kp)
{
	if (p->next != kp)
		return;
	wg_keypair_free(d, p->prev);
	p->prev = p->cur;
	p->cur = kp;
	p->next = NULL;
}

/* ---------------------------------------------------------------- sessions */

void wg_keypair_free(struct wg_device *d, struct wg_keypair *kp)
{
	if (!kp)
		return;
	wg_index_remove(d, &kp->entry);
	wg_wipe(kp, sizeof(*kp));
	free(kp);
}

void wg_noise_keypairs_clear(struct wg_device *d, struct wg_peer *p)
{
	wg_keypair_free(d, p->cur);
	wg_keypair_free(d, p->prev);
	wg_keypair_free(d, p->next);
	p->cur = p->prev = p->next = NULL;
}

bool wg_keypair_expired(struct wg_device *d, const struct wg_keypair *kp)
{
	return wg_device_now(d) - kp->birth >= WG_REJECT_AFTER_TIME;
}

/* ---------------------------------------------------------------- idle work */

/* Background static-static DHs of freshly loaded peers (40 us each), so
 * their first handshake costs no more than later ones. */
void wg_noise_precompute(struct wg_device *d, unsigned max)
{
	struct wg_peer *p;

	while (max && d->ss_n) {
		p = wg_peer_by_handle(d, d->ss_pending[--d->ss_n]);
		if (p && p->ss_state == WG_SS_PENDING) {
			(void)wg_noise_static_static(d, p);
			max--;
		}
	}
	if (!d->ss_n && d->ss_cap > 1024) {
		free(d->ss_pending); /* the start-up burst is over */
		d->ss_pending = NULL;
		d->ss_cap = 0;
	}
}
