/* SPDX-License-Identifier: MIT */
/* QR codes drawn in a terminal with Unicode half blocks (libqrencode). */
#ifndef EVPNCTL_QR_H
#define EVPNCTL_QR_H

#include <stdbool.h>
#include <stdio.h>

#include "exitcodes.h"

#define EVPNCTL_QR_MARGIN 2 /* quiet zone, in modules */

/*
 * Draws a width x width module matrix (bit 0 set = dark, as libqrencode
 * stores it) with a quiet zone of margin modules. One character covers two
 * module rows: U+2580 upper half, U+2584 lower half, U+2588 full block,
 * space. By default the *light* modules are drawn (light text on a dark
 * terminal, as `qrencode -t UTF8`); invert draws the dark ones. Pure.
 */
int evpnctl_qr_render(const unsigned char *modules, int width, int margin,
		      bool invert, FILE *out) EVPNCTL_WUR;

/* Encodes text (8-bit mode, level L, like the WireGuard apps expect) and
 * draws it. 0, or -1 when the text does not fit in a QR code. */
int evpnctl_qr_print(const char *text, bool invert, FILE *out) EVPNCTL_WUR;

#endif /* EVPNCTL_QR_H */
