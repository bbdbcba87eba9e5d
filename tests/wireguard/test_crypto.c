// SPDX-License-Identifier: MIT
/* Published vectors for the WireGuard primitives. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <cmocka.h>

#include <sodium.h>

#include "test_util.h"
#include "wg_crypto.h"

static void assert_hex(const uint8_t *b, size_t n, const char *want)
{
	char got[512];

	tohex(got, b, n);
	assert_string_equal(got, want);
}

/* RFC 7693 Appendix B: BLAKE2s-256("abc"). */
static void test_blake2s_rfc7693(void **state)
{
	uint8_t out[32];

	wg_hash(out, "abc", 3);
	assert_hex(out, 32,
		   "508c5e8c327c14e2e1a72ba34eeb452f"
		   "37458b209ed63a294d999b4c86675982");
	/* HASH(a || b) equals HASH of the concatenation. */
	wg_hash2(out, "a", 1, "bc", 2);
	assert_hex(out, 32,
		   "508c5e8c327c14e2e1a72ba34eeb452f"
		   "37458b209ed63a294d999b4c86675982");
}

/* wireguard-go device/kdf_test.go (BLAKE2s variant). */
static void test_kdf_wireguard_go(void **state)
{
	static const struct {
		const char *key, *input, *t0, *t1, *t2;
	} v[] = {
		{"746573742d6b6579", "746573742d696e707574",
		 "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c"
		 "633",
		 "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371"
		 "e8a",
		 "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76"
		 "c24"},
		{"776972656775617264", "776972656775617264",
		 "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda9"
		 "6e8",
		 "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d"
		 "25f",
		 "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0"
		 "160"},
		{"", "",
		 "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed"
		 "5d0",
		 "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e"
		 "86e",
		 "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f73"
		 "38e"},
	};
	uint8_t key[64], in[64], t0[32], t1[32], t2[32];
	size_t i, kl, il;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		kl = unhex(key, v[i].key);
		il = unhex(in, v[i].input);
		wg_kdf(t0, NULL, NULL, key, kl, in, il);
		assert_hex(t0, 32, v[i].t0);
		wg_kdf(t0, t1, NULL, key, kl, in, il);
		assert_hex(t0, 32, v[i].t0);
		assert_hex(t1, 32, v[i].t1);
		wg_kdf(t0, t1, t2, key, kl, in, il);
		assert_hex(t0, 32, v[i].t0);
		assert_hex(t1, 32, v[i].t1);
		assert_hex(t2, 32, v[i].t2);
	}
}

/* HASH(CONSTRUCTION) and HASH(Ci || IDENTIFIER): every implementation
 * starts the handshake from these two values. */
static void test_initial_chain_and_hash(void **state)
{
	static const char c[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s";
	static const char id[] = "WireGuard v1 zx2c4 Jason@zx2c4.com";
	uint8_t ck[32], h[32];

	wg_hash(ck, c, sizeof(c) - 1);
	assert_hex(ck, 32,
		   "60e26daef327efc02ec335e2a025d2d0"
		   "16eb4206f87277f52d38d1988b78cd36");
	wg_hash2(h, ck, 32, id, sizeof(id) - 1);
	assert_hex(h, 32,
		   "2211b361081ac566691243db458ad532"
		   "2d9c6c662293e8b70ee19c65ba079ef3");
}

/* RFC 8439 section 2.8.2 through libsodium, then the WireGuard nonce
 * layout (32 zero bits || little-endian counter) of our wrapper. */
static void test_aead_rfc8439(void **state)
{
	static const char pt[] =
		"Ladies and Gentlemen of the class of '99: If I could offer "
		"you only one tip for the future, sunscreen would be it.";
	uint8_t key[32], nonce[12], ad[12], ct[sizeof(pt) - 1 + 16];
	uint8_t ct2[sizeof(ct)], back[sizeof(pt)];
	unsigned long long clen;
	size_t n = sizeof(pt) - 1;

	unhex(key, "808182838485868788898a8b8c8d8e8f"
		   "909192939495969798999a9b9c9d9e9f");
	unhex(nonce, "070000004041424344454647");
	unhex(ad, "50515253c0c1c2c3c4c5c6c7");
	crypto_aead_chacha20poly1305_ietf_encrypt(
		ct, &clen, (const uint8_t *)pt, n, ad, 12, NULL, nonce, key);
	assert_int_equal(clen, n + 16);
	assert_hex(ct, n + 16,
		   "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736"
		   "ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6"
		   "a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675"
		   "945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
		   "1ae10b594f09e26a7e902ecbd0600691");

	/* counter 0x0102030405060708 -> nonce 00000000 0807060504030201 */
	unhex(nonce, "000000000807060504030201");
	crypto_aead_chacha20poly1305_ietf_encrypt(
		ct, &clen, (const uint8_t *)pt, n, ad, 12, NULL, nonce, key);
	wg_aead_encrypt(ct2, (const uint8_t *)pt, n, ad, 12,
			0x0102030405060708ULL, key);
	assert_memory_equal(ct, ct2, n + 16);
	assert_true(wg_aead_decrypt(back, ct2, n + 16, ad, 12,
				    0x0102030405060708ULL, key));
	assert_memory_equal(back, pt, n);
	ct2[3] ^= 1;
	assert_false(wg_aead_decrypt(back, ct2, n + 16, ad, 12,
				     0x0102030405060708ULL, key));
	assert_false(wg_aead_decrypt(back, ct2, 15, ad, 12, 0, key));
}

/* draft-irtf-cfrg-xchacha-03 A.3.1 (XChaCha20-Poly1305 AEAD). */
static void test_xaead_vector(void **state)
{
	static const char pt[] =
		"Ladies and Gentlemen of the class of '99: If I could offer "
		"you only one tip for the future, sunscreen would be it.";
	uint8_t key[32], nonce[24], ad[12], ct[sizeof(pt) - 1 + 16];
	uint8_t back[sizeof(pt)];
	size_t n = sizeof(pt) - 1;

	unhex(key, "808182838485868788898a8b8c8d8e8f"
		   "909192939495969798999a9b9c9d9e9f");
	unhex(nonce, "404142434445464748494a4b4c4d4e4f5051525354555657");
	unhex(ad, "50515253c0c1c2c3c4c5c6c7");
	wg_xaead_encrypt(ct, (const uint8_t *)pt, n, ad, 12, nonce, key);
	assert_hex(ct + n, 16, "c0875924c1c7987947deafd8780acf49");
	assert_hex(ct, 16, "bd6d179d3e83d43b9576579493c0e939");
	assert_true(wg_xaead_decrypt(back, ct, n + 16, ad, 12, nonce, key));
	assert_memory_equal(back, pt, n);
}

/* RFC 7748 section 6.1 (X25519 Diffie-Hellman). */
static void test_x25519_rfc7748(void **state)
{
	uint8_t a[32], b[32], apub[32], bpub[32], s1[32], s2[32], zero[32];

	unhex(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92"
		 "c2a");
	unhex(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e"
		 "0eb");
	wg_pubkey(apub, a);
	wg_pubkey(bpub, b);
	assert_hex(apub, 32,
		   "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9"
		   "b4e6a");
	assert_hex(bpub, 32,
		   "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f8"
		   "82b4f");
	assert_true(wg_dh(s1, a, bpub));
	assert_true(wg_dh(s2, b, apub));
	assert_hex(s1, 32,
		   "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e1"
		   "61742");
	assert_memory_equal(s1, s2, 32);
	/* A low-order point (zero) gives an all-zero secret: refused. */
	memset(zero, 0, sizeof(zero));
	assert_false(wg_dh(s1, a, zero));
	assert_true(wg_key_is_zero(s1));
}

/* RFC 2104 structure check: HMAC(k, m) with a key longer than the block
 * is HMAC(HASH(k), m). */
static void test_hmac_long_key(void **state)
{
	uint8_t key[100], hk[32], a[32], b[32];

	memset(key, 0x42, sizeof(key));
	wg_hash(hk, key, sizeof(key));
	wg_hmac(a, key, sizeof(key), "msg", 3);
	wg_hmac(b, hk, sizeof(hk), "msg", 3);
	assert_memory_equal(a, b, 32);
}

static void test_tai64n(void **state)
{
	uint8_t t[12], t2[12];

	wg_tai64n_from(t, 0, 0);
	assert_hex(t, 12, "400000000000000a00000000");
	wg_tai64n_from(t, 1700000000, 123456789);
	assert_hex(t, 12, "400000006553f10a075bcd15");
	wg_tai64n(t);
	wg_tai64n(t2);
	/* monotone and big-endian comparable */
	assert_true(memcmp(t2, t, 12) >= 0);
	/* the nanoseconds are coarse (2^24 ns steps) */
	assert_int_equal(t[11], 0);
	assert_int_equal(t[10], 0);
	assert_int_equal(t[9], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blake2s_rfc7693),
		cmocka_unit_test(test_kdf_wireguard_go),
		cmocka_unit_test(test_initial_chain_and_hash),
		cmocka_unit_test(test_aead_rfc8439),
		cmocka_unit_test(test_xaead_vector),
		cmocka_unit_test(test_x25519_rfc7748),
		cmocka_unit_test(test_hmac_long_key),
		cmocka_unit_test(test_tai64n),
	};

	if (wg_crypto_init() != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
