/* SPDX-License-Identifier: MIT */
/*
 * QR code (libqrencode) of a text as a PNG image (libpng), in memory. Pure.
 */
#ifndef EVPN_API_QR_PNG_H
#define EVPN_API_QR_PNG_H

#include <stddef.h>
#include <stdint.h>

#include <evpn/plugin.h>

/* Pixels per QR module and quiet-zone modules (the standard asks for 4). */
#define API_QR_SCALE 6
#define API_QR_MARGIN 4

/*
 * A 1-bit grayscale PNG of a square bitmap: `modules` holds width*width
 * bytes, non-zero = dark. Each module becomes scale x scale pixels and a
 * light margin of `margin` modules surrounds it. *out is malloc'd.
 */
int api_png_from_modules(const uint8_t *modules, unsigned width, unsigned scale,
			 unsigned margin, unsigned char **out,
			 size_t *len) EVPN_WUR;

/* QR code (error correction M, 8-bit mode) of text as a PNG. */
int api_qr_png(const char *text, unsigned char **out, size_t *len) EVPN_WUR;

#endif
