/* SPDX-License-Identifier: MIT */
/*
 * A tiny growable string builder. Errors are sticky: after the first failed
 * allocation every append is a no-op and sbuf_finish() returns NULL, so
 * callers check once at the end instead of after every append.
 */
#ifndef EVPN_SSM_SBUF_H
#define EVPN_SSM_SBUF_H

#include <stdbool.h>
#include <stddef.h>

#include <evpn/plugin.h>

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

void sbuf_init(struct sbuf *b);
void sbuf_addn(struct sbuf *b, const char *s, size_t n);
void sbuf_add(struct sbuf *b, const char *s);
void sbuf_addc(struct sbuf *b, char c);
void sbuf_addf(struct sbuf *b, const char *fmt, ...) EVPN_PRINTF(2, 3);
/* Hex of bytes, lower case. */
void sbuf_addhex(struct sbuf *b, const unsigned char *p, size_t n);
/* Returns the NUL-terminated string (caller frees) or NULL on OOM. */
char *sbuf_finish(struct sbuf *b) EVPN_WUR;
/* Wipes and frees (for buffers that held secrets). */
void sbuf_wipe(struct sbuf *b);

#endif
