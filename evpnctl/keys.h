/* SPDX-License-Identifier: MIT */
/* WireGuard (X25519) key pairs, generated locally with libsodium. */
#ifndef EVPNCTL_KEYS_H
#define EVPNCTL_KEYS_H

#include <stdint.h>

#include <evpn/transport.h> /* EVPN_KEY_LEN, EVPN_KEY_B64_SIZE */

#include "exitcodes.h"

/* Derives the public key of a (clamped here) private key. 0 or -1. */
int evpnctl_key_public(uint8_t pub[EVPN_KEY_LEN],
		       uint8_t priv[EVPN_KEY_LEN]) EVPNCTL_WUR;
/* A fresh key pair in base64, as `wg genkey | wg pubkey` prints it.
 * The caller wipes priv_b64 with sodium_memzero. 0 or -1. */
int evpnctl_keypair_b64(char priv_b64[EVPN_KEY_B64_SIZE],
			char pub_b64[EVPN_KEY_B64_SIZE]) EVPNCTL_WUR;

#endif /* EVPNCTL_KEYS_H */
