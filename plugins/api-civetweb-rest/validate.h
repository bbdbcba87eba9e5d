/* SPDX-License-Identifier: MIT */
/*
 * Validation of API input: client ids, ttl strings, and the JSON bodies of
 * POST /users and PATCH /users/{id}. Pure (jansson + libsodium only), so
 * tests/api unit-tests it without a server.
 */
#ifndef EVPN_API_VALIDATE_H
#define EVPN_API_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <evpn/plugin.h>

/* Longest ttl accepted: one year. A typo like "90000d" is refused rather
 * than creating a user that never really expires. */
#define API_TTL_MAX_SECONDS (365LL * 86400)

/* A client-facing error: HTTP status, stable machine code, message. */
struct api_err {
	int status;
	const char *code;
	char message[200];
};

/* The split-tunnel text handed to the users service, which validates the
 * CIDRs themselves; this is the JSON side's bound. */
#define API_ALLOWED_IPS_MAX 1024
/* One-time config links: 15 minutes unless asked, at most 7 days. */
#define API_LINK_TTL_DEFAULT (15 * 60)
#define API_LINK_TTL_MAX (7 * 86400)

struct api_create_req {
	char client_id[64];
	char public_key[64];
	bool has_public_key;
	int64_t ttl_seconds; /* 0: no ttl */
	/* "a/b, c/d" from a JSON string or an array of strings */
	char allowed_ips[API_ALLOWED_IPS_MAX];
	bool has_allowed_ips;
	int64_t link_ttl_seconds; /* "link": true (15m) or a duration; 0 */
	uint64_t quota_bytes;	  /* "quota": "10GB" or bytes; 0: none */
	bool has_rate_limit;	  /* "rate_limit": "20mbit" or bits/s; null: the
				     default (users.rate_limit) */
	uint64_t rate_limit_bps;  /* with has_rate_limit; 0: none */
};

/* PATCH /users/{id}: at least one field. */
struct api_patch_req {
	bool has_status, active;
	char allowed_ips[API_ALLOWED_IPS_MAX];
	bool has_allowed_ips;
	bool has_quota;		 /* "quota": a size, or null: none */
	uint64_t quota_bytes;	 /* 0 with has_quota: remove the quota */
	bool reset_usage;	 /* "reset_usage": true */
	bool has_rate_limit;	 /* "rate_limit": a rate, 0 (none) or null */
	uint64_t rate_limit_bps; /* EVPN_RATE_LIMIT_DEFAULT for null */
};

/* The deepest nesting of objects and arrays a body may have. Our bodies are
 * flat objects (depth 1); jansson recurses once per level, so a deep body
 * is refused before it is parsed. */
#define API_JSON_MAX_DEPTH 16

/* ^[a-z0-9][a-z0-9_.-]{0,62}$ */
bool api_client_id_valid(const char *s);
/* "90s", "30m", "24h", "7d" or bare seconds; > 0 and <= API_TTL_MAX. */
int api_parse_ttl(const char *s, int64_t *seconds) EVPN_WUR;
/* A data size: bytes as digits, or digits with a unit: B, KB, MB, GB, TB
 * (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. "10GB".
 * > 0 and at most 1 EB. */
int api_parse_size(const char *s, uint64_t *bytes) EVPN_WUR;
/* "rate_limit": a rate string ("20mbit", "500kbit", "2MB/s", "0") or a
 * number of bits per second; 0: none. 0 or -1 with *err filled. */
int api_parse_rate_limit(const json_t *v, uint64_t *bps,
			 struct api_err *err) EVPN_WUR;
/* base64 (standard alphabet, padded) of a 32-byte key. */
bool api_public_key_valid(const char *s);
/* "application/json", optionally with parameters, case-insensitive. */
bool api_content_type_is_json(const char *ct);

/* True when no object or array in body[0..len) nests deeper than `max`.
 * A lexical pre-scan: brackets inside strings (escapes included) do not
 * count, and the text need not be valid JSON (the parser judges that). */
bool api_json_depth_ok(const char *body, size_t len, unsigned max);

/* Return 0, or -1 with *err filled (status 400). Bodies nested deeper
 * than API_JSON_MAX_DEPTH are refused before parsing. */
int api_parse_create(const char *body, size_t len, struct api_create_req *out,
		     struct api_err *err) EVPN_WUR;
/* POST /users/{id}/links: an empty body or {"ttl": "15m"} (at most 7d). */
int api_parse_link(const char *body, size_t len, int64_t *ttl_seconds,
		   struct api_err *err) EVPN_WUR;
int api_parse_patch(const char *body, size_t len, struct api_patch_req *out,
		    struct api_err *err) EVPN_WUR;

#endif
