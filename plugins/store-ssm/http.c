/* SPDX-License-Identifier: MIT */
#include "http.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static CURLcode init_rc = CURLE_FAILED_INIT;

static void global_init(void)
{
	/* Never cleaned up: other plugins in the process may use libcurl too,
	 * and curl_global_cleanup is not reference counted on old curls. */
	init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int ssm_http_global_init(void)
{
	pthread_once(&init_once, global_init);
	return init_rc == CURLE_OK ? EVPN_OK : EVPN_ERR_INTERNAL;
}

struct sink {
	struct ssm_http_resp *r;
	size_t cap;
};

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;
	char *nb;

	if (s->r->len + add + 1 > SSM_HTTP_MAX_BODY)
		return 0; /* aborts the transfer */
	if (s->r->len + add + 1 > s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 4096;

		while (ncap < s->r->len + add + 1)
			ncap *= 2;
		nb = malloc(ncap);
		if (!nb)
			return 0;
		if (s->r->body) {
			memcpy(nb, s->r->body, s->r->len);
			sodium_memzero(s->r->body, s->cap);
			free(s->r->body);
		}
		s->r->body = nb;
		s->cap = ncap;
	}
	memcpy(s->r->body + s->r->len, p, add);
	s->r->len += add;
	s->r->body[s->r->len] = '\0';
	return add;
}

/* Failures where the request certainly never reached a server. */
static bool never_sent(CURLcode c)
{
	return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
	       c == CURLE_COULDNT_RESOLVE_PROXY ||
	       c == CURLE_SSL_CONNECT_ERROR || c == CURLE_URL_MALFORMAT ||
	       c == CURLE_UNSUPPORTED_PROTOCOL ||
	       c == CURLE_PEER_FAILED_VERIFICATION;
}

int ssm_http_do(const struct ssm_http_req *req, struct ssm_http_resp *resp)
{
	struct sink s = {.r = resp};
	CURL *c;
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	if (ssm_http_global_init())
		return EVPN_ERR_INTERNAL;
	c = curl_easy_init();
	if (!c)
		return EVPN_ERR_NOMEM;
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, resp->error);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(req->connect_timeout * 1000));
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(req->timeout * 1000));
	/* A proxy from the environment must not see signed requests or the
	 * metadata endpoints unless configured deliberately; curl honours
	 * no_proxy/NO_PROXY, and AWS SDKs do use HTTPS_PROXY, so keep it. */
	if (!strcasecmp(req->method, "POST")) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_len);
	} else if (!strcasecmp(req->method, "PUT")) {
		/* Body-less PUT (IMDSv2 token): a custom request with an empty
		 * POST body sends Content-Length: 0. */
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
	}
	rc = curl_easy_perform(c);
	resp->curl_code = rc;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		if (!resp->body) {
			resp->body = strdup("");
			if (!resp->body) {
				curl_easy_cleanup(c);
				return EVPN_ERR_NOMEM;
			}
		}
	} else {
		resp->ambiguous = !never_sent(rc);
		if (!resp->error[0])
			snprintf(resp->error, sizeof(resp->error), "%s",
				 curl_easy_strerror(rc));
	}
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? EVPN_OK : EVPN_ERR_UNAVAILABLE;
}

void ssm_http_resp_free(struct ssm_http_resp *resp)
{
	if (resp->body) {
		sodium_memzero(resp->body, resp->len);
		free(resp->body);
	}
	resp->body = NULL;
	resp->len = 0;
}

int ssm_http_split_url(const char *url, char **hostport, char **path)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *p = NULL;
	int rc = EVPN_ERR_CONFIG;

	*hostport = *path = NULL;
	if (!u)
		return EVPN_ERR_NOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https")))
		goto out;
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		goto out;
	if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
		port = NULL;
	if (curl_url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK)
		p = NULL;
	rc = EVPN_ERR_NOMEM;
	if (port) {
		if (asprintf(hostport, "%s:%s", host, port) < 0)
			*hostport = NULL;
	} else {
		*hostport = strdup(host);
	}
	*path = strdup(p && *p ? p : "/");
	if (!*hostport || !*path) {
		free(*hostport);
		free(*path);
		*hostport = *path = NULL;
		goto out;
	}
	rc = EVPN_OK;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}
