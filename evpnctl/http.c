// SPDX-License-Identifier: MIT
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <sodium.h>

#include "http.h"

#define BODY_MAX (16u << 20) /* no API answer is anywhere near this */

struct sink {
	struct evpnctl_http_resp *resp;
	size_t cap;
	int overflow;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	struct evpnctl_http_resp *r = s->resp;
	size_t add = size * n;

	if (r->len + add + 1 > BODY_MAX) {
		s->overflow = 1;
		return 0;
	}
	if (r->len + add + 1 > s->cap) {
		size_t ncap = s->cap ? s->cap : 4096;
		char *nb;

		while (ncap < r->len + add + 1)
			ncap *= 2;
		nb = malloc(ncap);
		if (!nb)
			return 0;
		/* Copy instead of realloc so an old buffer holding a secret
		 * is wiped, not left in the heap. */
		if (r->body) {
			memcpy(nb, r->body, r->len);
			sodium_memzero(r->body, s->cap);
			free(r->body);
		}
		r->body = nb;
		s->cap = ncap;
	}
	memcpy(r->body + r->len, data, add);
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct evpnctl_http_resp *r = arg;
	size_t len = size * n;
	const char name[] = "Retry-After:";

	if (len > sizeof(name) - 1 &&
	    !strncasecmp(data, name, sizeof(name) - 1)) {
		const char *v = data + sizeof(name) - 1;
		size_t i = 0;

		while (v < data + len && isspace((unsigned char)*v))
			v++;
		while (v < data + len && !isspace((unsigned char)*v) &&
		       i + 1 < sizeof(r->retry_after))
			r->retry_after[i++] = *v++;
		r->retry_after[i] = '\0';
	}
	return len;
}

static void describe(CURLcode rc, const char *base, size_t blen,
		     const char *detail, char *err, size_t errlen)
{
	const char *why;

	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		why = "cannot resolve the server's host name";
		break;
	case CURLE_COULDNT_CONNECT:
		why = "cannot connect (is evpnd running and the URL right?)";
		break;
	case CURLE_OPERATION_TIMEDOUT: why = "timed out"; break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		why = "TLS failed (certificate or protocol)";
		break;
	case CURLE_UNSUPPORTED_PROTOCOL: why = "unsupported URL scheme"; break;
	default: why = curl_easy_strerror(rc);
	}
	snprintf(err, errlen, "server %.*s unreachable: %s%s%s%s", (int)blen,
		 base, why, detail && *detail ? " (" : "", detail ? detail : "",
		 detail && *detail ? ")" : "");
}

int evpnctl_http_request(const char *base_url, const char *token,
			 const char *method, const char *path,
			 const char *json_body, struct evpnctl_http_resp *resp,
			 char *err, size_t errlen)
{
	char url[1024], auth[320], curl_err[CURL_ERROR_SIZE] = "";
	size_t blen = strlen(base_url);
	struct curl_slist *hdrs = NULL, *h;
	struct sink sink = {.resp = resp};
	CURL *c = NULL;
	CURLcode rc;
	int r = -1;

	memset(resp, 0, sizeof(*resp));
	/* "https://host/" + "/users" must not become "//users". */
	while (blen && base_url[blen - 1] == '/')
		blen--;
	if (snprintf(url, sizeof(url), "%.*s%s", (int)blen, base_url, path) >=
		    (int)sizeof(url) ||
	    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token) >=
		    (int)sizeof(auth)) {
		snprintf(err, errlen, "URL or API key too long");
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(err, errlen, "cannot initialise libcurl");
		goto out;
	}
	c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "cannot initialise libcurl");
		goto out;
	}
	h = curl_slist_append(hdrs, auth);
	if (h)
		hdrs = h;
	h = curl_slist_append(hdrs, "Accept: application/json");
	if (h)
		hdrs = h;
	if (json_body) {
		h = curl_slist_append(hdrs, "Content-Type: application/json");
		if (h)
			hdrs = h;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (!strcmp(method, "GET") || !strcmp(method, "DELETE"))
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "evpnctl/" EVPN_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* The bearer token must never follow a redirect to another host. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK) {
		if (sink.overflow)
			snprintf(err, errlen, "server %.*s: answer too large",
				 (int)blen, base_url);
		else
			describe(rc, base_url, blen, curl_err, err, errlen);
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
	if (!resp->body) {
		resp->body = calloc(1, 1);
		if (!resp->body) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	r = 0;
out:
	sodium_memzero(auth, sizeof(auth));
	curl_slist_free_all(hdrs);
	if (c)
		curl_easy_cleanup(c);
	if (r)
		evpnctl_http_resp_free(resp);
	return r;
}

void evpnctl_http_resp_free(struct evpnctl_http_resp *resp)
{
	if (resp->body) {
		sodium_memzero(resp->body, resp->len);
		free(resp->body);
	}
	resp->body = NULL;
	resp->len = 0;
}
