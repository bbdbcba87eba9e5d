// SPDX-License-Identifier: MIT
#include "wg_crypto.h"

#include <string.h>
#include <time.h>

#include <blake2.h>
#include <sodium.h>

int wg_crypto_init(void)
{
	return sodium_init() < 0 ? EVPN_ERR_INTERNAL : EVPN_OK;
}

void wg_hash2(uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
	      const void *b, size_t blen)
{
	blake2s_state s;

	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, a, alen);
	if (blen)
		blake2s_update(&s, b, blen);
	blake2s_final(&s, out, WG_HASH_LEN);
	sodium_memzero(&s, sizeof(s));
}

void wg_hash(uint8_t out[WG_HASH_LEN], const void *in, size_t len)
{
	wg_hash2(out, in, len, NULL, 0);
}

void wg_mac(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen,
	    const void *in, size_t len)
{
	blake2s_state s;

	blake2s_init_key(&s, WG_MAC_LEN, key, keylen);
	blake2s_update(&s, in, len);
	blake2s_final(&s, out, WG_MAC_LEN);
	sodium_memzero(&s, sizeof(s));
}

void wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t *key, size_t keylen,
	     const void *in, size_t len)
{
	uint8_t k[BLAKE2S_BLOCKBYTES] = {0};
	uint8_t inner[WG_HASH_LEN];
	blake2s_state s;
	size_t i;

	if (keylen > BLAKE2S_BLOCKBYTES)
		wg_hash(k, key, keylen);
	else if (keylen)
		memcpy(k, key, keylen);

	for (i = 0; i < sizeof(k); i++)
		k[i] ^= 0x36;
	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, k, sizeof(k));
	blake2s_update(&s, in, len);
	blake2s_final(&s, inner, WG_HASH_LEN);

	/* 0x36 ^ 0x5c turns the inner pad into the outer pad. */
	for (i = 0; i < sizeof(k); i++)
		k[i] ^= 0x36 ^ 0x5c;
	blake2s_init(&s, WG_HASH_LEN);
	blake2s_update(&s, k, sizeof(k));
	blake2s_update(&s, inner, sizeof(inner));
	blake2s_final(&s, out, WG_HASH_LEN);

	sodium_memzero(k, sizeof(k));
	sodium_memzero(inner, sizeof(inner));
	sodium_memzero(&s, sizeof(s));
}

void wg_kdf(uint8_t *t0, uint8_t *t1, uint8_t *t2, const uint8_t *key,
	    size_t keylen, const void *in, size_t len)
{
	uint8_t prk[WG_HASH_LEN], buf[WG_HASH_LEN + 1], out[WG_HASH_LEN];

	wg_hmac(prk, key, keylen, in, len);

	buf[0] = 1;
	wg_hmac(out, prk, sizeof(prk), buf, 1);
	memcpy(t0, out, WG_HASH_LEN);
	if (t1) {
		memcpy(buf, out, WG_HASH_LEN);
		buf[WG_HASH_LEN] = 2;
		wg_hmac(out, prk, sizeof(prk), buf, sizeof(buf));
		memcpy(t1, out, WG_HASH_LEN);
	}
	if (t1 && t2) {
		memcpy(buf, out, WG_HASH_LEN);
		buf[WG_HASH_LEN] = 3;
		wg_hmac(out, prk, sizeof(prk), buf, sizeof(buf));
		memcpy(t2, out, WG_HASH_LEN);
	}
	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(buf, sizeof(buf));
	sodium_memzero(out, sizeof(out));
}

bool wg_dh(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN],
	   const uint8_t pub[WG_KEY_LEN])
{
	/* libsodium refuses an all-zero result (a low-order point). */
	if (crypto_scalarmult_curve25519(out, priv, pub) != 0) {
		sodium_memzero(out, WG_KEY_LEN);
		return false;
	}
	return true;
}

void wg_pubkey(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN])
{
	crypto_scalarmult_curve25519_base(pub, priv);
}

void wg_genkey(uint8_t priv[WG_KEY_LEN])
{
	randombytes_buf(priv, WG_KEY_LEN);
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
}

static void wg_nonce(uint8_t n[12], uint64_t counter)
{
	int i;

	memset(n, 0, 4);
	for (i = 0; i < 8; i++)
		n[4 + i] = (uint8_t)(counter >> (8 * i));
}

void wg_aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t *ad, size_t adlen, uint64_t counter,
		     const uint8_t key[WG_KEY_LEN])
{
	uint8_t n[12];

	wg_nonce(n, counter);
	crypto_aead_chacha20poly1305_ietf_encrypt(dst, NULL, src, len, ad,
						  adlen, NULL, n, key);
}

bool wg_aead_decrypt(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t *ad, size_t adlen, uint64_t counter,
		     const uint8_t key[WG_KEY_LEN])
{
	uint8_t n[12];

	if (len < WG_AEAD_TAG)
		return false;
	wg_nonce(n, counter);
	return crypto_aead_chacha20poly1305_ietf_decrypt(
		       dst, NULL, NULL, src, len, ad, adlen, n, key) == 0;
}

void wg_xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
		      const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XNONCE_LEN],
		      const uint8_t key[WG_KEY_LEN])
{
	crypto_aead_xchacha20poly1305_ietf_encrypt(dst, NULL, src, len, ad,
						   adlen, NULL, nonce, key);
}

bool wg_xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t len,
		      const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XNONCE_LEN],
		      const uint8_t key[WG_KEY_LEN])
{
	if (len < WG_AEAD_TAG)
		return false;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(
		       dst, NULL, NULL, src, len, ad, adlen, nonce, key) == 0;
}

void wg_tai64n_from(uint8_t out[WG_TAI64N_LEN], int64_t sec, long nsec)
{
	uint64_t s = (uint64_t)sec + 0x400000000000000aULL;
	uint32_t ns = (uint32_t)nsec;
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)(s >> (56 - 8 * i));
	for (i = 0; i < 4; i++)
		out[8 + i] = (uint8_t)(ns >> (24 - 8 * i));
}

void wg_tai64n(uint8_t out[WG_TAI64N_LEN])
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* Round to 2^24 ns (~16.7 ms), as the Linux module does, so the
	 * timestamp is no fine-grained clock oracle. */
	wg_tai64n_from(out, ts.tv_sec, ts.tv_nsec & ~((1L << 24) - 1));
}

void wg_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN])
{
	return sodium_is_zero(key, WG_KEY_LEN) == 1;
}

bool wg_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

uint32_t wg_random_u32(void)
{
	return randombytes_random();
}

void wg_random(void *p, size_t n)
{
	randombytes_buf(p, n);
}
