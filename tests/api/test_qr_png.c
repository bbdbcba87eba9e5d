/* SPDX-License-Identifier: MIT */
/* The PNG writer and the QR PNG: decoded back with libpng and compared
 * module by module with libqrencode's own matrix. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <png.h>
#include <qrencode.h>

#include "qr_png.h"

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Checks signature and IHDR; returns the decoded 8-bit gray pixels. */
static unsigned char *decode(const unsigned char *png, size_t len, unsigned *w,
			     unsigned *h)
{
	static const unsigned char sig[8] = {0x89, 'P',	 'N',  'G',
					     '\r', '\n', 0x1a, '\n'};
	png_image img;
	unsigned char *px;

	assert_true(len > 8 + 25);
	assert_memory_equal(png, sig, 8);
	assert_int_equal(be32(png + 8), 13);
	assert_memory_equal(png + 12, "IHDR", 4);
	*w = be32(png + 16);
	*h = be32(png + 20);
	assert_int_equal(png[24], 1); /* bit depth */
	assert_int_equal(png[25], 0); /* grayscale */

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	assert_true(png_image_begin_read_from_memory(&img, png, len));
	assert_int_equal(img.width, *w);
	assert_int_equal(img.height, *h);
	img.format = PNG_FORMAT_GRAY;
	px = malloc(PNG_IMAGE_SIZE(img));
	assert_non_null(px);
	assert_true(png_image_finish_read(&img, NULL, px, 0, NULL));
	png_image_free(&img);
	return px;
}

static void test_modules(void **state)
{
	/* 3x3: a diagonal */
	const uint8_t mods[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
	unsigned char *png = NULL, *px;
	unsigned w, h;
	size_t len = 0;

	assert_int_equal(api_png_from_modules(mods, 3, 2, 1, &png, &len),
			 EVPN_OK);
	px = decode(png, len, &w, &h);
	assert_int_equal(w, 10); /* (3 + 2 * 1) * 2 */
	assert_int_equal(h, 10);
	for (unsigned y = 0; y < h; y++)
		for (unsigned x = 0; x < w; x++) {
			unsigned mx = x / 2, my = y / 2;
			int dark = mx >= 1 && mx <= 3 && my >= 1 && my <= 3 &&
				   mods[(my - 1) * 3 + (mx - 1)];

			assert_int_equal(px[y * w + x], dark ? 0 : 255);
		}
	free(px);
	free(png);

	/* width not a multiple of 8: row padding must not leak in */
	assert_int_equal(api_png_from_modules(mods, 3, 3, 0, &png, &len),
			 EVPN_OK);
	px = decode(png, len, &w, &h);
	assert_int_equal(w, 9);
	assert_int_equal(px[0], 0);
	assert_int_equal(px[8], 255);
	assert_int_equal(px[8 * 9 + 8], 0);
	free(px);
	free(png);
}

static void test_invalid(void **state)
{
	const uint8_t m[1] = {1};
	unsigned char *png = (unsigned char *)1;
	size_t len = 1;

	assert_int_equal(api_png_from_modules(NULL, 1, 1, 0, &png, &len),
			 EVPN_ERR_INVAL);
	assert_null(png);
	assert_int_equal(len, 0);
	assert_int_equal(api_png_from_modules(m, 0, 1, 0, &png, &len),
			 EVPN_ERR_INVAL);
	assert_int_equal(api_png_from_modules(m, 1, 0, 0, &png, &len),
			 EVPN_ERR_INVAL);
	assert_int_equal(api_qr_png(NULL, &png, &len), EVPN_ERR_INVAL);
}

static void test_qr(void **state)
{
	const char *text =
		"[Interface]\nPrivateKey = (placeholder)\n"
		"Address = 10.77.0.2/32\nDNS = 1.1.1.1\n\n[Peer]\n"
		"PublicKey = HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=\n"
		"AllowedIPs = 0.0.0.0/0, ::/0\n"
		"Endpoint = 127.0.0.1:51820\n";
	QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	unsigned char *png = NULL, *px;
	unsigned w, h, side;
	size_t len = 0;

	assert_non_null(qr);
	assert_int_equal(api_qr_png(text, &png, &len), EVPN_OK);
	px = decode(png, len, &w, &h);
	side = ((unsigned)qr->width + 2 * API_QR_MARGIN) * API_QR_SCALE;
	assert_int_equal(w, side);
	assert_int_equal(h, side);
	/* every module's centre pixel matches libqrencode's matrix */
	for (int my = 0; my < qr->width; my++)
		for (int mx = 0; mx < qr->width; mx++) {
			unsigned y = (my + API_QR_MARGIN) * API_QR_SCALE +
				     API_QR_SCALE / 2;
			unsigned x = (mx + API_QR_MARGIN) * API_QR_SCALE +
				     API_QR_SCALE / 2;
			int dark = qr->data[my * qr->width + mx] & 1;

			assert_int_equal(px[y * w + x], dark ? 0 : 255);
		}
	/* quiet zone is white; the finder pattern's corner is dark */
	assert_int_equal(px[0], 255);
	assert_int_equal(px[(API_QR_MARGIN * API_QR_SCALE) * w +
			    API_QR_MARGIN * API_QR_SCALE],
			 0);
	free(px);
	free(png);
	QRcode_free(qr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modules),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_qr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
