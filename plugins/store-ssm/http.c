/* SPDX-License-Identifier: MIT */
#include "http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

/* 7.88.1 is the libcurl whose SigV4 was checked against botocore (tests/ssm):
 * it signs every custom header (X-Amz-Target, X-Amz-Security-Token) and the
 * Host with its port. Older ones sign a fixed header set, which omits the
 * session token AWS requires to be signed. */
#if LIBCURL_VERSION_NUM < 0x075801
#error "store-ssm needs libcurl >= 7.88.1 (CURLOPT_AWS_SIGV4 signing custom headers)"
#endif

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
	       c == CURLE_PEER_FAILED_VERIFICATION ||
	       c == CURLE_BAD_FUNCTION_ARGUMENT; /* e.g. SigV4 parameters */
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
	if (req->user_agent)
		curl_easy_setopt(c, CURLOPT_USERAGENT, req->user_agent);
	if (req->aws_sigv4) {
		/* USERNAME/PASSWORD rather than USERPWD: no "id:secret" buffer
		 * of ours to build and wipe, no splitting on ':'. curl keeps
		 * its own copies of the secret (and of the signing key
		 * material) and frees them without wiping: see the plugin
		 * README. */
		if (curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->aws_sigv4) ||
		    curl_easy_setopt(c, CURLOPT_USERNAME, req->access_key_id) ||
		    curl_easy_setopt(c, CURLOPT_PASSWORD,
				     req->secret_access_key)) {
			snprintf(resp->error, sizeof(resp->error), "%s",
				 "libcurl cannot sign AWS SigV4 requests");
			curl_easy_cleanup(c);
			return EVPN_ERR_INTERNAL;
		}
	}
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

static bool path_signs_alike(const char *p)
{
	for (const char *q = p; *q; q++) {
		unsigned char ch = (unsigned char)*q;

		if (ch == '/' ? q[1] == '/'
			      : !(isalnum(ch) || ch == '-' || ch == '.' ||
				  ch == '_' || ch == '~'))
			return false;
	}
	return true;
}

int ssm_http_endpoint_check(const char *url, const char **why)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *user = NULL, *query = NULL, *p = NULL;
	int rc = EVPN_ERR_CONFIG;

	*why = "is not an http(s) URL";
	if (!u) {
		*why = "could not be parsed (out of memory)";
		return EVPN_ERR_NOMEM;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    (strcmp(scheme, "http") && strcmp(scheme, "https")))
		goto out;
	*why = "holds user info (credentials come from the AWS chain)";
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
		goto out;
	*why = "has a query, which libcurl's SigV4 signs unsorted";
	if (curl_url_get(u, CURLUPART_QUERY, &query, 0) == CURLUE_OK && *query)
		goto out;
	*why = "has a path with characters other than A-Z a-z 0-9 - . _ ~ "
	       "or an empty segment, which libcurl's SigV4 signs differently "
	       "from AWS";
	if (curl_url_get(u, CURLUPART_PATH, &p, 0) == CURLUE_OK &&
	    !path_signs_alike(p))
		goto out;
	*why = NULL;
	rc = EVPN_OK;
out:
	curl_free(scheme);
	curl_free(user);
	curl_free(query);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}
