/* SPDX-License-Identifier: MIT */
/*
 * Parsing of an `Authorization: Bearer <token>` header value (RFC 6750).
 * Pure: no host, no allocation; unit-tested in tests/api.
 */
#ifndef BEARER_PARSE_H
#define BEARER_PARSE_H

#include <stddef.h>

#include <evpn/plugin.h>

/* Longest token accepted; longer ones are rejected without hashing so a
 * client cannot make us hash megabytes per request. */
#define BEARER_TOKEN_MAX 512

enum bearer_status {
	BEARER_OK = 0,
	BEARER_MISSING = 1,   /* no header, or only whitespace */
	BEARER_MALFORMED = 2, /* other scheme, empty or bad token */
};

/*
 * Finds the token in `header`: the scheme is matched case-insensitively,
 * surrounding spaces/tabs are trimmed. On BEARER_OK, *tok points into
 * `header` and *len is its length (never 0).
 */
enum bearer_status bearer_parse(const char *header, const char **tok,
				size_t *len) EVPN_WUR;

#endif
