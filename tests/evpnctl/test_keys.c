// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "keys.h"

/* RFC 7748 section 6.1: Alice's and Bob's X25519 key pairs. */
static void vector(const char *priv_hex, const char *pub_hex)
{
	uint8_t priv[32], pub[32], want[32];

	assert_int_equal(
		sodium_hex2bin(priv, 32, priv_hex, 64, NULL, NULL, NULL), 0);
	assert_int_equal(
		sodium_hex2bin(want, 32, pub_hex, 64, NULL, NULL, NULL), 0);
	assert_int_equal(evpnctl_key_public(pub, priv), 0);
	assert_memory_equal(pub, want, 32);
}

static void test_rfc7748(void **state)
{
	vector("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2"
	       "a",
	       "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6"
	       "a");
	vector("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0e"
	       "b",
	       "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4"
	       "f");
}

static void test_clamped(void **state)
{
	uint8_t priv[32], pub[32];

	memset(priv, 0xff, sizeof(priv));
	assert_int_equal(evpnctl_key_public(pub, priv), 0);
	assert_int_equal(priv[0] & 7, 0);
	assert_int_equal(priv[31] & 0x80, 0);
	assert_int_equal(priv[31] & 0x40, 0x40);
}

static void test_keypair(void **state)
{
	char priv[EVPN_KEY_B64_SIZE], pub[EVPN_KEY_B64_SIZE];
	char priv2[EVPN_KEY_B64_SIZE], pub2[EVPN_KEY_B64_SIZE];
	uint8_t sk[32], pk[32], pk2[32];
	size_t n;

	assert_int_equal(evpnctl_keypair_b64(priv, pub), 0);
	assert_int_equal(evpnctl_keypair_b64(priv2, pub2), 0);
	assert_int_equal(strlen(priv), 44);
	assert_int_equal(strlen(pub), 44);
	assert_string_not_equal(priv, priv2);
	/* the public key is the private key's */
	assert_int_equal(sodium_base642bin(sk, 32, priv, 44, NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(sodium_base642bin(pk, 32, pub, 44, NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	/* already clamped: stored keys are canonical */
	assert_int_equal(sk[0] & 7, 0);
	assert_int_equal(sk[31] & 0xc0, 0x40);
	assert_int_equal(crypto_scalarmult_base(pk2, sk), 0);
	assert_memory_equal(pk, pk2, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc7748),
		cmocka_unit_test(test_clamped),
		cmocka_unit_test(test_keypair),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
