/* SPDX-License-Identifier: MIT */
/*
 * One blocking HTTP exchange over libcurl. A fresh easy handle per call, so
 * any thread may call it; curl_global_init runs once (pthread_once).
 */
#ifndef EVPN_SSM_HTTP_H
#define EVPN_SSM_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include <evpn/plugin.h>

#define SSM_HTTP_MAX_BODY (4u << 20)

struct ssm_http_req {
	const char *method; /* "GET", "PUT", "POST" */
	const char *url;
	struct curl_slist *headers;
	const char *body; /* may be NULL */
	size_t body_len;
	double connect_timeout; /* seconds */
	double timeout;		/* seconds, whole exchange */
};

struct ssm_http_resp {
	long status;
	char *body; /* NUL-terminated; wiped when freed */
	size_t len;
	CURLcode curl_code; /* CURLE_OK when a response arrived */
	/* Transport failure after the request may have reached the server
	 * (timeout, reset, empty reply): whether it ran is unknown. */
	bool ambiguous;
	char error[CURL_ERROR_SIZE];
};

int ssm_http_global_init(void) EVPN_WUR;

/* EVPN_OK when an HTTP response (any status) arrived, EVPN_ERR_UNAVAILABLE
 * on a transport failure (resp->curl_code, resp->error, resp->ambiguous),
 * EVPN_ERR_NOMEM. Free resp with ssm_http_resp_free in every case. */
int ssm_http_do(const struct ssm_http_req *req,
		struct ssm_http_resp *resp) EVPN_WUR;
void ssm_http_resp_free(struct ssm_http_resp *resp);

/* "host[:port]" of a URL as curl will send it in Host:, and its path (at
 * least "/"). Both malloc'd. EVPN_ERR_CONFIG for a bad or non-HTTP(S) URL. */
int ssm_http_split_url(const char *url, char **hostport, char **path) EVPN_WUR;

#endif
