/* SPDX-License-Identifier: MIT */
/* WireGuard (X25519) key pairs, generated locally with libsodium. */
#ifndef EVPNCTL_KEYS_H
#define EVPNCTL_KEYS_H

#include <stdint.h>

#include "exitcodes.h"

#define EVPNCTL_KEY_LEN 32
#define EVPNCTL_KEY_B64_LEN 45 /* 44 characters + NUL */

/* Derives the public key of a (clamped here) private key. 0 or -1. */
int evpnctl_key_public(uint8_t pub[EVPNCTL_KEY_LEN],
		       uint8_t priv[EVPNCTL_KEY_LEN]) EVPNCTL_WUR;
/* A fresh key pair in base64, as `wg genkey | wg pubkey` prints it.
 * The caller wipes priv_b64 with sodium_memzero. 0 or -1. */
int evpnctl_keypair_b64(char priv_b64[EVPNCTL_KEY_B64_LEN],
			char pub_b64[EVPNCTL_KEY_B64_LEN]) EVPNCTL_WUR;

#endif /* EVPNCTL_KEYS_H */
