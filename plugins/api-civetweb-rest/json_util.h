/* SPDX-License-Identifier: MIT */
/*
 * Small JSON helpers. The escaper exists so a response carrying secrets (the
 * API key, a generated private key) can be written into a buffer we wipe,
 * instead of jansson strings that are freed without wiping. Pure.
 */
#ifndef EVPN_API_JSON_UTIL_H
#define EVPN_API_JSON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <evpn/plugin.h>

/* JSON string literal of s (with quotes) into buf; returns the length
 * written (excluding NUL) or -1 when buf is too small. */
long api_json_quote(const char *s, char *buf, size_t len) EVPN_WUR;
/* Upper bound of api_json_quote's output for s, NUL included. */
size_t api_json_quote_bound(const char *s);

/* RFC 3339 UTC ("2025-01-31T12:00:00Z") of unix seconds. */
void api_rfc3339(int64_t unix_sec, char buf[32]);

#endif
