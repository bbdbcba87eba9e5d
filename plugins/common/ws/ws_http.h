/* SPDX-License-Identifier: MIT */
/*
 * The WebSocket opening handshake (RFC 6455 section 4) over HTTP/1.1: the
 * server's parse of an upgrade request and its answer, the client's request
 * and its check of the answer. Pure: no I/O. Sec-WebSocket-Accept needs
 * SHA-1, which libsodium lacks; it comes from OpenSSL's libcrypto.
 */
#ifndef EVPN_WS_HTTP_H
#define EVPN_WS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define WS_HTTP_HEAD_MAX 8192 /* request or response head, bytes */
#define WS_KEY_B64_LEN 24     /* base64 of the 16-byte nonce */
#define WS_ACCEPT_LEN 28      /* base64 of a SHA-1 */

struct ws_upgrade {
	char path[256];
	char key[WS_KEY_B64_LEN + 1];
	/* The raw Authorization value: a secret, wipe it after use. */
	char authorization[512];
};

enum ws_http_result {
	WS_HTTP_BAD = -1, /* *status: the HTTP status to answer with */
	WS_HTTP_MORE = 0, /* the head has not arrived whole */
	WS_HTTP_OK = 1,	  /* *head_len bytes were the head */
};

/*
 * Parse an upgrade request from buf[0..len). On WS_HTTP_BAD, *status is
 * 400 (malformed), 405 (not GET), 426 (not a WebSocket upgrade, or a
 * version other than 13: answer with Sec-WebSocket-Version: 13) or 431
 * (head too large). The path is not checked here.
 */
enum ws_http_result ws_http_parse_upgrade(const char *buf, size_t len,
					  struct ws_upgrade *u,
					  size_t *head_len, int *status);

/* Sec-WebSocket-Accept of a key: base64(SHA-1(key + GUID)). */
bool ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1]);

/* The 101 answer; returns its length, 0 when cap is too small. */
size_t ws_http_build_accept(char *out, size_t cap, const char *key);
/* A refusal with a short plain-text reason (Connection: close). */
size_t ws_http_build_error(char *out, size_t cap, int status,
			   const char *reason);

/* Client: a random key for a request. */
void ws_client_key(char out[WS_KEY_B64_LEN + 1]);
/* Client: the upgrade request; authorization may be NULL. Returns its
 * length, 0 when cap is too small. */
size_t ws_http_build_request(char *out, size_t cap, const char *host,
			     const char *path, const char *key,
			     const char *authorization);
/*
 * Client: check the server's answer. WS_HTTP_OK when it is a 101 with the
 * right Sec-WebSocket-Accept; WS_HTTP_BAD with *status the HTTP status
 * (0 when it was not even HTTP, or 101 with a wrong accept).
 */
enum ws_http_result ws_http_check_response(const char *buf, size_t len,
					   const char *key, size_t *head_len,
					   int *status);

#endif
