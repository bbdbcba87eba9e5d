/* SPDX-License-Identifier: MIT */
/*
 * One blocking HTTP exchange over libcurl. A fresh easy handle per call, so
 * any thread may call it (and a retry is signed anew, at a new date);
 * curl_global_init runs once (pthread_once). CURLOPT_VERBOSE is never set:
 * curl's trace would show the Authorization and token headers.
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
	const char *user_agent; /* NULL: none */
	/* AWS SigV4 by libcurl when aws_sigv4 is set ("aws:amz:REGION:SVC"):
	 * curl adds X-Amz-Date and Authorization, signing the method, path,
	 * query, body hash, Host and every header of `headers`. */
	const char *aws_sigv4;
	const char *access_key_id;
	const char *secret_access_key;
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

/*
 * May url be a SigV4-signed endpoint? libcurl 7.88 signs the path as sent
 * and the query as given, where AWS (and botocore) encode the path once
 * more, collapse empty segments and sort the query: the two agree only on
 * an http(s) URL without user info or query whose path holds nothing but
 * RFC 3986 unreserved characters and single slashes. EVPN_OK, or
 * EVPN_ERR_CONFIG with *why saying what is wrong (a static string).
 */
int ssm_http_endpoint_check(const char *url, const char **why) EVPN_WUR;

#endif
