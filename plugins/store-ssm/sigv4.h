/* SPDX-License-Identifier: MIT */
/*
 * AWS Signature Version 4 (header-based), built on libsodium's SHA-256 and
 * HMAC-SHA256. Pure functions, no I/O, no global state: thread-safe.
 *
 * The request given to the signer is what goes on the wire: `path` and
 * `query` are already percent-encoded as sent. As botocore does for every
 * service but S3, the canonical URI is the normalized path (dot segments
 * removed, empty segments collapsed) percent-encoded once more, and the
 * canonical query is each key and value decoded and re-encoded with the
 * RFC 3986 unreserved set, sorted by key then value.
 *
 * Every header passed in is signed; the caller passes host, x-amz-date and
 * (for temporary credentials) x-amz-security-token among them.
 */
#ifndef EVPN_SSM_SIGV4_H
#define EVPN_SSM_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <evpn/plugin.h>

#define EVPN_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define EVPN_SIGV4_DATE_LEN 16 /* "20150830T123600Z" */

struct evpn_sigv4_header {
	const char *name;
	const char *value;
};

struct evpn_sigv4_request {
	const char *method;
	const char *path;  /* as on the wire, e.g. "/" */
	const char *query; /* as on the wire without '?', may be NULL */
	const struct evpn_sigv4_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
};

struct evpn_sigv4_creds {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL for long-term keys */
};

/* "YYYYMMDDTHHMMSSZ" of t (UTC) into out[EVPN_SIGV4_DATE_LEN + 1]. */
void evpn_sigv4_amz_date(time_t t, char out[EVPN_SIGV4_DATE_LEN + 1]);

/* Canonical request; *signed_headers (optional) gets "host;x-amz-date;...".
 * Both malloc'd. EVPN_ERR_INVAL for a malformed request. */
int evpn_sigv4_canonical_request(const struct evpn_sigv4_request *req,
				 char **creq, char **signed_headers) EVPN_WUR;

/* String to sign for a canonical request and a scope
 * "YYYYMMDD/region/service/aws4_request". */
int evpn_sigv4_string_to_sign(const char *amz_date, const char *scope,
			      const char *creq, char **sts) EVPN_WUR;

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service),
 * "aws4_request"). The caller wipes key when done. */
int evpn_sigv4_signing_key(uint8_t key[32], const char *secret,
			   const char *date8, const char *region,
			   const char *service) EVPN_WUR;

/*
 * The whole thing: the Authorization header value for req, signed at
 * amz_date (which must equal the request's x-amz-date header). Optionally
 * returns the canonical request and string to sign for debugging (they hold
 * no secret). *authz is malloc'd.
 */
int evpn_sigv4_authorization(const struct evpn_sigv4_request *req,
			     const struct evpn_sigv4_creds *creds,
			     const char *region, const char *service,
			     const char *amz_date, char **authz,
			     char **creq_out, char **sts_out) EVPN_WUR;

/* Copy of an Authorization header value (or any header value) that is safe
 * to log: the Signature and the access key's secret part are masked. */
char *evpn_sigv4_redact(const char *authz);

#endif
