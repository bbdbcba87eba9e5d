/* SPDX-License-Identifier: MIT */
#include "qr_png.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <qrencode.h>

struct membuf {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static void mem_write(png_structp png, png_bytep data, png_size_t n)
{
	struct membuf *b = png_get_io_ptr(png);

	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		unsigned char *np;

		while (cap < b->len + n)
			cap *= 2;
		np = realloc(b->p, cap);
		if (!np) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void mem_flush(png_structp png)
{
}

int api_png_from_modules(const uint8_t *modules, unsigned width, unsigned scale,
			 unsigned margin, unsigned char **out, size_t *len)
{
	png_structp png = NULL;
	png_infop info = NULL;
	struct membuf buf = {0};
	unsigned char *volatile row = NULL;
	unsigned side, stride;
	volatile int rc = EVPN_ERR_INTERNAL; /* survives longjmp */

	*out = NULL;
	*len = 0;
	if (!modules || width == 0 || scale == 0 || width > 1024 ||
	    scale > 64 || margin > 64)
		return EVPN_ERR_INVAL;
	side = (width + 2 * margin) * scale;
	stride = (side + 7) / 8;

	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	if (!png)
		return EVPN_ERR_NOMEM;
	info = png_create_info_struct(png);
	if (!info)
		goto out;
	row = malloc(stride);
	if (!row) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	if (setjmp(png_jmpbuf(png)))
		goto out; /* libpng reported an error */

	png_set_write_fn(png, &buf, mem_write, mem_flush);
	png_set_IHDR(png, info, side, side, 1, PNG_COLOR_TYPE_GRAY,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
		     PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (unsigned y = 0; y < side; y++) {
		unsigned my = y / scale;

		/* 1 bit per pixel, MSB first; 1 = white in grayscale. */
		memset(row, 0xff, stride);
		for (unsigned x = 0; x < side; x++) {
			unsigned mx = x / scale;
			int dark =
				my >= margin && my < margin + width &&
				mx >= margin && mx < margin + width &&
				modules[(my - margin) * width + (mx - margin)];

			if (dark)
				row[x / 8] &=
					(unsigned char)~(0x80u >> (x % 8));
		}
		png_write_row(png, row);
	}
	png_write_end(png, info);
	if (buf.oom) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	*out = buf.p;
	*len = buf.len;
	buf.p = NULL;
	rc = EVPN_OK;
out:
	png_destroy_write_struct(&png, info ? &info : NULL);
	free(row);
	free(buf.p);
	return rc;
}

int api_qr_png(const char *text, unsigned char **out, size_t *len)
{
	QRcode *qr;
	uint8_t *mods;
	size_t n;
	int rc;

	*out = NULL;
	*len = 0;
	if (!text)
		return EVPN_ERR_INVAL;
	qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_M);
	if (!qr)
		return errno == ENOMEM ? EVPN_ERR_NOMEM : EVPN_ERR_INVAL;
	n = (size_t)qr->width * (size_t)qr->width;
	mods = malloc(n);
	if (!mods) {
		QRcode_free(qr);
		return EVPN_ERR_NOMEM;
	}
	/* Bit 0 of each libqrencode byte is the module colour (1 = dark). */
	for (size_t i = 0; i < n; i++)
		mods[i] = qr->data[i] & 1;
	rc = api_png_from_modules(mods, (unsigned)qr->width, API_QR_SCALE,
				  API_QR_MARGIN, out, len);
	free(mods);
	QRcode_free(qr);
	return rc;
}
