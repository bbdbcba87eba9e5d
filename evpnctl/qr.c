// SPDX-License-Identifier: MIT
#include <qrencode.h>

#include "qr.h"

static bool lit(const unsigned char *m, int width, int margin, bool invert,
		int x, int y)
{
	bool dark = false;

	x -= margin;
	y -= margin;
	if (x >= 0 && y >= 0 && x < width && y < width)
		dark = m[y * width + x] & 1;
	return invert ? dark : !dark;
}

int evpnctl_qr_render(const unsigned char *modules, int width, int margin,
		      bool invert, FILE *out)
{
	static const char *const glyph[4] = {
		" ",		/* neither */
		"\xe2\x96\x80", /* U+2580 upper half */
		"\xe2\x96\x84", /* U+2584 lower half */
		"\xe2\x96\x88", /* U+2588 full block */
	};
	int size = width + 2 * margin;

	if (width <= 0 || margin < 0)
		return -1;
	for (int y = 0; y < size; y += 2) {
		for (int x = 0; x < size; x++) {
			int top = lit(modules, width, margin, invert, x, y);
			/* An odd size leaves the last bottom row outside:
			 * treat it as background. */
			int bot = y + 1 < size &&
				  lit(modules, width, margin, invert, x, y + 1);

			if (fputs(glyph[top | bot << 1], out) == EOF)
				return -1;
		}
		if (fputc('\n', out) == EOF)
			return -1;
	}
	return 0;
}

int evpnctl_qr_print(const char *text, bool invert, FILE *out)
{
	QRcode *qr = QRcode_encodeString8bit(text, 0, QR_ECLEVEL_L);
	int r;

	if (!qr)
		return -1;
	r = evpnctl_qr_render(qr->data, qr->width, EVPNCTL_QR_MARGIN, invert,
			      out);
	QRcode_free(qr);
	return r;
}
