/* SPDX-License-Identifier: MIT */
/*
 * One-time config links: POST /users/{id}/links makes one (admin or the
 * user itself), GET /links/{token} answers the config once, without an
 * API key: the token is the credential. The users service keeps the
 * token only as a hash and burns it atomically (users_links.c). Every
 * buffer that held a token or a config is wiped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api_internal.h"
#include "errmap.h"
#include "qr_png.h"
#include "validate.h"

#define API_CODE_GONE "gone"

/* "https://vpn-api.example.com": public_url, else http:// + Host. */
bool api_base_url(struct api_req *r, char *out, size_t len)
{
	const char *host;

	if (r->api->public_url[0]) {
		snprintf(out, len, "%s", r->api->public_url);
		return true;
	}
	host = mg_get_header(r->conn, "Host");
	if (!host || !*host || strlen(host) > 200 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-:[]") != strlen(host))
		return false;
	snprintf(out, len, "http://%s", host);
	return true;
}

int api_links_create(struct api_req *r)
{
	const struct evpn_users_ops *users;
	struct evpn_users_error uerr;
	const char *id = r->match.user;
	char base[300], *body = NULL, *buf;
	struct evpn_link link;
	struct api_err perr;
	int64_t ttl;
	size_t len = 0, cap;
	void *self;
	int rc;

	if (r->who.role != EVPN_ROLE_ADMIN &&
	    !(r->who.role == EVPN_ROLE_USER && strcmp(r->who.user, id) == 0))
		return api_send_error(r, 403, API_CODE_FORBIDDEN,
				      "this key may not do that");
	if (r->ri->content_length > 0 ||
	    mg_get_header(r->conn, "Transfer-Encoding")) {
		rc = api_require_json(r);
		if (!rc)
			rc = api_read_body(r, &body, &len);
		if (rc)
			return rc;
	}
	rc = api_parse_link(body, len, &ttl, &perr);
	free(body);
	if (rc)
		return api_send_error(r, perr.status, perr.code, perr.message);
	if (!api_base_url(r, base, sizeof(base)))
		return api_send_error(r, 400, API_CODE_INVALID_FIELD,
				      "no usable Host header to build the "
				      "link from; set the API's public_url");
	users = api_users(r->api, &self);
	if (!users)
		return api_send_error(r, 503, API_CODE_UNAVAILABLE,
				      "users service unavailable");
	memset(&uerr, 0, sizeof(uerr));
	rc = users->link_create(self, id, ttl, &link, &uerr);
	if (rc != EVPN_OK)
		return api_send_evpn_error(r, rc, uerr.message);
	snprintf(r->audit_detail, sizeof(r->audit_detail), "valid until %s",
		 link.expires_at);
	/* the token goes into a buffer we wipe, never a jansson string */
	cap = strlen(base) + 200;
	buf = malloc(cap);
	if (!buf) {
		sodium_memzero(&link, sizeof(link));
		return api_send_error(r, 500, API_CODE_INTERNAL,
				      "out of memory");
	}
	snprintf(buf, cap, "{\"url\":\"%s/links/%s\",\"expires_at\":\"%s\"}",
		 base, link.token, link.expires_at);
	sodium_memzero(&link, sizeof(link));
	rc = api_send(r, 201, "application/json", buf, strlen(buf), NULL);
	sodium_memzero(buf, cap);
	free(buf);
	return rc;
}

static bool accepts(struct api_req *r, const char *type)
{
	const char *a = mg_get_header(r->conn, "Accept");

	return a && strcasestr(a, type) != NULL;
}

static void html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A minimal page: the QR code (inline, so the page loads nothing else)
 * and the text. */
static int send_html(struct api_req *r, const char *config)
{
	static const char hdr[] =
		"Content-Security-Policy: default-src 'none'; img-src data:; "
		"style-src 'unsafe-inline'\r\nReferrer-Policy: no-referrer\r\n";
	unsigned char *png = NULL;
	char *b64 = NULL, *page = NULL;
	size_t plen = 0, blen, len = 0;
	FILE *f;
	int rc;

	rc = api_qr_png(config, &png, &plen);
	if (rc != EVPN_OK)
		return api_send_evpn_error(r, rc, "cannot draw the QR code");
	blen = sodium_base64_ENCODED_LEN(plen, sodium_base64_VARIANT_ORIGINAL);
	b64 = malloc(blen);
	f = b64 ? open_memstream(&page, &len) : NULL;
	if (!f) {
		rc = api_send_error(r, 500, API_CODE_INTERNAL, "out of memory");
		goto out;
	}
	sodium_bin2base64(b64, blen, png, plen, sodium_base64_VARIANT_ORIGINAL);
	fputs("<!doctype html><html><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width\">"
	      "<title>WireGuard configuration</title></head>"
	      "<body "
	      "style=\"font-family:sans-serif;max-width:40em;margin:auto\">"
	      "<h1>WireGuard configuration</h1><p>Scan the code with the "
	      "WireGuard app, or save the text as a .conf file. This link "
	      "works only once: it is spent now.</p><img alt=\"QR code of "
	      "the configuration\" style=\"width:100%;image-rendering:"
	      "pixelated\" src=\"data:image/png;base64,",
	      f);
	fputs(b64, f);
	fputs("\"><pre>", f);
	html_escape(f, config);
	fputs("</pre></body></html>\n", f);
	if (fclose(f) != 0 || !page) {
		rc = api_send_error(r, 500, API_CODE_INTERNAL, "out of memory");
		goto out;
	}
	rc = api_send(r, 200, "text/html; charset=utf-8", page, len, hdr);
out:
	if (page) {
		sodium_memzero(page, len);
		free(page);
	}
	if (b64) {
		sodium_memzero(b64, blen);
		free(b64);
	}
	sodium_memzero(png, plen);
	free(png);
	return rc;
}

int api_link_get(struct api_req *r)
{
	const struct evpn_users_ops *users;
	struct evpn_users_error uerr;
	unsigned char *png = NULL;
	char *config = NULL;
	size_t len = 0;
	void *self;
	int rc;

	users = api_users(r->api, &self);
	if (!users)
		return api_send_error(r, 503, API_CODE_UNAVAILABLE,
				      "users service unavailable");
	memset(&uerr, 0, sizeof(uerr));
	rc = users->link_redeem(self, r->match.token, &config, r->audit_target,
				&uerr);
	if (rc != EVPN_OK) {
		if (strcmp(uerr.reason, "link_gone") == 0)
			return api_send_error(r, 410, API_CODE_GONE,
					      uerr.message);
		/* a token nobody made is no event, and recording it would
		 * let anyone fill the log (and the store) */
		if (rc == EVPN_ERR_NOTFOUND && !r->audit_target[0])
			r->audit_action = NULL;
		return api_send_evpn_error(r, rc, uerr.message);
	}
	if (accepts(r, "text/html")) {
		rc = send_html(r, config);
	} else if (accepts(r, "image/png")) {
		rc = api_qr_png(config, &png, &len);
		if (rc == EVPN_OK)
			rc = api_send(r, 200, "image/png", png, len, NULL);
		else
			rc = api_send_evpn_error(r, rc,
						 "cannot draw the QR code");
		sodium_memzero(png, len);
		free(png);
	} else {
		rc = api_send(r, 200, "text/plain; charset=utf-8", config,
			      strlen(config), NULL);
	}
	sodium_memzero(config, strlen(config));
	free(config);
	return rc;
}
