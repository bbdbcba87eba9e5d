// SPDX-License-Identifier: MIT
#include <sodium.h>

#include "keys.h"

int evpnctl_key_public(uint8_t pub[EVPN_KEY_LEN], uint8_t priv[EVPN_KEY_LEN])
{
	/* Clamp as `wg genkey` does (RFC 7748), so the key we store is the
	 * canonical one every WireGuard implementation expects. */
	priv[0] &= 248;
	priv[31] = (priv[31] & 127) | 64;
	return crypto_scalarmult_base(pub, priv) ? -1 : 0;
}

int evpnctl_keypair_b64(char priv_b64[EVPN_KEY_B64_SIZE],
			char pub_b64[EVPN_KEY_B64_SIZE])
{
	uint8_t priv[EVPN_KEY_LEN], pub[EVPN_KEY_LEN];
	int r = -1;

	if (sodium_init() < 0)
		return -1;
	randombytes_buf(priv, sizeof(priv));
	if (evpnctl_key_public(pub, priv))
		goto out;
	sodium_bin2base64(priv_b64, EVPN_KEY_B64_SIZE, priv, sizeof(priv),
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(pub_b64, EVPN_KEY_B64_SIZE, pub, sizeof(pub),
			  sodium_base64_VARIANT_ORIGINAL);
	r = 0;
out:
	sodium_memzero(priv, sizeof(priv));
	return r;
}
