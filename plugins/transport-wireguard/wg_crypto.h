/* SPDX-License-Identifier: MIT */
/*
 * The WireGuard primitives (whitepaper section 5.4): HASH, MAC, HMAC, the
 * KDF1/2/3 chain built on HMAC-BLAKE2s, DH, AEAD, XAEAD and TAI64N.
 * BLAKE2s comes from libb2, everything else from libsodium.
 */
#ifndef WG_CRYPTO_H
#define WG_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <evpn/plugin.h>

#define WG_KEY_LEN 32
#define WG_HASH_LEN 32
#define WG_MAC_LEN 16
#define WG_AEAD_TAG 16
#define WG_TAI64N_LEN 12
#define WG_XNONCE_LEN 24

/* HASH(a || b): b may be NULL with blen 0. */
void wg_hash2(uint8_t out[WG_HASH_LEN], const void *a, size_t alen,
	      const void *b, size_t blen);
void wg_hash(uint8_t out[WG_HASH_LEN], const void *in, size_t len);
/* MAC(key, in): keyed BLAKE2s with a 16-byte output. */
void wg_mac(uint8_t out[WG_MAC_LEN], const uint8_t *key, size_t keylen,
	    const void *in, size_t len);
/* HMAC-BLAKE2s (RFC 2104 with a 64-byte block). */
void wg_hmac(uint8_t out[WG_HASH_LEN], const uint8_t *key, size_t keylen,
	     const void *in, size_t len);
/* KDFn(key, input): n outputs of 32 bytes; any output pointer may be NULL
 * except the first. */
void wg_kdf(uint8_t *t0, uint8_t *t1, uint8_t *t2, const uint8_t *key,
	    size_t keylen, const void *in, size_t len);

/* Curve25519. Returns false for an all-zero shared secret (low order). */
bool wg_dh(uint8_t out[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN],
	   const uint8_t pub[WG_KEY_LEN]) EVPN_WUR;
void wg_pubkey(uint8_t pub[WG_KEY_LEN], const uint8_t priv[WG_KEY_LEN]);
void wg_genkey(uint8_t priv[WG_KEY_LEN]);

/* ChaCha20-Poly1305 (IETF) with the nonce 32 zero bits || counter LE64.
 * dst may equal src. dst gets len + 16 bytes. */
void wg_aead_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t *ad, size_t adlen, uint64_t counter,
		     const uint8_t key[WG_KEY_LEN]);
/* src has len bytes (including the tag); dst gets len - 16. */
bool wg_aead_decrypt(uint8_t *dst, const uint8_t *src, size_t len,
		     const uint8_t *ad, size_t adlen, uint64_t counter,
		     const uint8_t key[WG_KEY_LEN]) EVPN_WUR;
void wg_xaead_encrypt(uint8_t *dst, const uint8_t *src, size_t len,
		      const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XNONCE_LEN],
		      const uint8_t key[WG_KEY_LEN]);
bool wg_xaead_decrypt(uint8_t *dst, const uint8_t *src, size_t len,
		      const uint8_t *ad, size_t adlen,
		      const uint8_t nonce[WG_XNONCE_LEN],
		      const uint8_t key[WG_KEY_LEN]) EVPN_WUR;

/* TAI64N of the wall clock: 8-byte big-endian seconds + 2^62, 4-byte
 * big-endian nanoseconds. Like the kernel, the nanoseconds are rounded
 * down to a coarse step so the value leaks less about the local clock. */
void wg_tai64n(uint8_t out[WG_TAI64N_LEN]);
void wg_tai64n_from(uint8_t out[WG_TAI64N_LEN], int64_t sec, long nsec);

void wg_wipe(void *p, size_t n);
bool wg_key_is_zero(const uint8_t key[WG_KEY_LEN]);
/* Constant-time equality. */
bool wg_equal(const void *a, const void *b, size_t n);
uint32_t wg_random_u32(void);
void wg_random(void *p, size_t n);

/* Must succeed once before anything else (sodium_init). */
int wg_crypto_init(void) EVPN_WUR;

#endif
