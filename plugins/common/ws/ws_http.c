// SPDX-License-Identifier: MIT
#include "ws_http.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>
#include <sodium.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/* End of the head ("\r\n\r\n"), or 0 when not there yet. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 3; i < len; i++)
		if (buf[i - 3] == '\r' && buf[i - 2] == '\n' &&
		    buf[i - 1] == '\r' && buf[i] == '\n')
			return i + 1;
	return 0;
}

/* Does the comma-separated list v[0..n) hold token tok (any case)? */
static bool has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, tok, tl))
			return true;
	}
	return false;
}

static bool copy_value(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		return false;
	memcpy(dst, v, n);
	dst[n] = 0;
	return true;
}

struct head_line {
	const char *name, *value;
	size_t name_len, value_len;
};

/* Next "Name: value" line of a head at *pos; false at the blank line or a
 * malformed line (*bad set). */
static bool next_header(const char *buf, size_t end, size_t *pos,
			struct head_line *h, bool *bad)
{
	size_t p = *pos, eol, colon;

	*bad = false;
	for (eol = p;
	     eol + 1 < end && !(buf[eol] == '\r' && buf[eol + 1] == '\n');
	     eol++)
		if (buf[eol] == '\0' || buf[eol] == '\n') {
			*bad = true;
			return false;
		}
	if (eol + 1 >= end) {
		*bad = true;
		return false;
	}
	if (eol == p)
		return false; /* the blank line */
	for (colon = p; colon < eol && buf[colon] != ':'; colon++)
		if (buf[colon] == ' ' || buf[colon] == '\t')
			break;
	if (colon == eol || buf[colon] != ':' || colon == p) {
		*bad = true;
		return false;
	}
	h->name = buf + p;
	h->name_len = colon - p;
	p = colon + 1;
	while (p < eol && (buf[p] == ' ' || buf[p] == '\t'))
		p++;
	h->value = buf + p;
	h->value_len = eol - p;
	while (h->value_len && (h->value[h->value_len - 1] == ' ' ||
				h->value[h->value_len - 1] == '\t'))
		h->value_len--;
	*pos = eol + 2;
	return true;
}

static bool is_header(const struct head_line *h, const char *name)
{
	return h->name_len == strlen(name) &&
	       !strncasecmp(h->name, name, h->name_len);
}

static bool key_ok(const char *key)
{
	unsigned char raw[32];
	size_t n = 0;

	if (strlen(key) != WS_KEY_B64_LEN)
		return false;
	if (sodium_base642bin(raw, sizeof(raw), key, WS_KEY_B64_LEN, NULL, &n,
			      NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return n == 16;
}

enum ws_http_result ws_http_parse_upgrade(const char *buf, size_t len,
					  struct ws_upgrade *u,
					  size_t *head_len, int *status)
{
	size_t end =
		head_end(buf, len > WS_HTTP_HEAD_MAX ? WS_HTTP_HEAD_MAX : len);
	size_t p, sp1, sp2;
	struct head_line h;
	bool bad, upgrade = false, connection = false, version = false,
		  host = false;

	memset(u, 0, sizeof(*u));
	if (!end) {
		if (len >= WS_HTTP_HEAD_MAX) {
			*status = 431;
			return WS_HTTP_BAD;
		}
		return WS_HTTP_MORE;
	}
	*head_len = end;
	/* Request line: METHOD SP target SP HTTP/1.1 */
	for (sp1 = 0; sp1 < end && buf[sp1] != ' '; sp1++)
		;
	for (sp2 = sp1 + 1; sp2 < end && buf[sp2] != ' '; sp2++)
		;
	for (p = sp2 + 1; p + 1 < end && buf[p] != '\r'; p++)
		;
	if (sp2 >= end || buf[p + 1] != '\n' || p - sp2 - 1 != 8 ||
	    memcmp(buf + sp2 + 1, "HTTP/1.1", 8) || sp2 == sp1 + 1) {
		*status = 400;
		return WS_HTTP_BAD;
	}
	if (sp1 != 3 || memcmp(buf, "GET", 3)) {
		*status = 405;
		return WS_HTTP_BAD;
	}
	if (!copy_value(u->path, sizeof(u->path), buf + sp1 + 1,
			sp2 - sp1 - 1)) {
		*status = 400;
		return WS_HTTP_BAD;
	}
	p += 2;
	while (next_header(buf, end, &p, &h, &bad)) {
		if (is_header(&h, "Upgrade"))
			upgrade = has_token(h.value, h.value_len, "websocket");
		else if (is_header(&h, "Connection"))
			connection = has_token(h.value, h.value_len, "upgrade");
		else if (is_header(&h, "Sec-WebSocket-Version"))
			version = h.value_len == 2 && !memcmp(h.value, "13", 2);
		else if (is_header(&h, "Host"))
			host = true;
		else if (is_header(&h, "Sec-WebSocket-Key")) {
			if (!copy_value(u->key, sizeof(u->key), h.value,
					h.value_len))
				u->key[0] = 0;
		} else if (is_header(&h, "Authorization")) {
			if (!copy_value(u->authorization,
					sizeof(u->authorization), h.value,
					h.value_len)) {
				*status = 400;
				goto bad;
			}
		}
	}
	if (bad) {
		*status = 400;
		goto bad;
	}
	if (!upgrade || !connection || !version) {
		*status = 426;
		goto bad;
	}
	if (!host || !key_ok(u->key)) {
		*status = 400;
		goto bad;
	}
	return WS_HTTP_OK;
bad:
	sodium_memzero(u->authorization, sizeof(u->authorization));
	return WS_HTTP_BAD;
}

bool ws_accept_key(const char *key, char out[WS_ACCEPT_LEN + 1])
{
	char cat[WS_KEY_B64_LEN + sizeof(ws_guid)];
	unsigned char md[SHA_DIGEST_LENGTH];
	size_t kl = strlen(key);

	if (kl != WS_KEY_B64_LEN)
		return false;
	memcpy(cat, key, kl);
	memcpy(cat + kl, ws_guid, sizeof(ws_guid) - 1);
	/* SHA-1 is what RFC 6455 names here: a fixed transform proving the
	 * server read the key, not a security property. */
	SHA1((const unsigned char *)cat, kl + sizeof(ws_guid) - 1, md);
	sodium_bin2base64(out, WS_ACCEPT_LEN + 1, md, sizeof(md),
			  sodium_base64_VARIANT_ORIGINAL);
	return true;
}

static size_t fit(int n, size_t cap)
{
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t ws_http_build_accept(char *out, size_t cap, const char *key)
{
	char acc[WS_ACCEPT_LEN + 1];

	if (!ws_accept_key(key, acc))
		return 0;
	return fit(snprintf(out, cap,
			    "HTTP/1.1 101 Switching Protocols\r\n"
			    "Upgrade: websocket\r\n"
			    "Connection: Upgrade\r\n"
			    "Sec-WebSocket-Accept: %s\r\n\r\n",
			    acc),
		   cap);
}

static const char *reason_phrase(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

size_t ws_http_build_error(char *out, size_t cap, int status,
			   const char *reason)
{
	size_t rl = strlen(reason) + 1;

	return fit(
		snprintf(out, cap,
			 "HTTP/1.1 %d %s\r\n"
			 "Content-Type: text/plain\r\n"
			 "Content-Length: %zu\r\n"
			 "%s%s"
			 "Connection: close\r\n\r\n%s\n",
			 status, reason_phrase(status), rl,
			 status == 426 ? "Sec-WebSocket-Version: 13\r\n" : "",
			 status == 401 ? "WWW-Authenticate: Bearer\r\n" : "",
			 reason),
		cap);
}

void ws_client_key(char out[WS_KEY_B64_LEN + 1])
{
	unsigned char nonce[16];

	randombytes_buf(nonce, sizeof(nonce));
	sodium_bin2base64(out, WS_KEY_B64_LEN + 1, nonce, sizeof(nonce),
			  sodium_base64_VARIANT_ORIGINAL);
}

size_t ws_http_build_request(char *out, size_t cap, const char *host,
			     const char *path, const char *key,
			     const char *authorization)
{
	return fit(snprintf(out, cap,
			    "GET %s HTTP/1.1\r\n"
			    "Host: %s\r\n"
			    "Upgrade: websocket\r\n"
			    "Connection: Upgrade\r\n"
			    "Sec-WebSocket-Key: %s\r\n"
			    "Sec-WebSocket-Version: 13\r\n"
			    "%s%s%s\r\n",
			    path, host, key,
			    authorization ? "Authorization: " : "",
			    authorization ? authorization : "",
			    authorization ? "\r\n" : ""),
		   cap);
}

enum ws_http_result ws_http_check_response(const char *buf, size_t len,
					   const char *key, size_t *head_len,
					   int *status)
{
	size_t end =
		head_end(buf, len > WS_HTTP_HEAD_MAX ? WS_HTTP_HEAD_MAX : len);
	size_t p;
	struct head_line h;
	char want[WS_ACCEPT_LEN + 1];
	bool bad, accept = false, upgrade = false;

	*status = 0;
	if (!end)
		return len >= WS_HTTP_HEAD_MAX ? WS_HTTP_BAD : WS_HTTP_MORE;
	*head_len = end;
	if (end < 12 || memcmp(buf, "HTTP/1.1 ", 9) ||
	    !isdigit((unsigned char)buf[9]) ||
	    !isdigit((unsigned char)buf[10]) ||
	    !isdigit((unsigned char)buf[11]))
		return WS_HTTP_BAD;
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	if (*status != 101 || !ws_accept_key(key, want))
		return WS_HTTP_BAD;
	for (p = 0; p + 1 < end && buf[p] != '\r'; p++)
		;
	p += 2;
	while (next_header(buf, end, &p, &h, &bad)) {
		if (is_header(&h, "Sec-WebSocket-Accept"))
			accept = h.value_len == WS_ACCEPT_LEN &&
				 !memcmp(h.value, want, WS_ACCEPT_LEN);
		else if (is_header(&h, "Upgrade"))
			upgrade = has_token(h.value, h.value_len, "websocket");
	}
	return !bad && accept && upgrade ? WS_HTTP_OK : WS_HTTP_BAD;
}
