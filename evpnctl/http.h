/* SPDX-License-Identifier: MIT */
/* A tiny JSON-over-HTTP client on libcurl, for the evpn REST API. */
#ifndef EVPNCTL_HTTP_H
#define EVPNCTL_HTTP_H

#include <stddef.h>

#include "exitcodes.h"

struct evpnctl_http_resp {
	long status; /* HTTP status code */
	char *body;  /* NUL-terminated, malloc'd */
	size_t len;
	char retry_after[32]; /* Retry-After header, "" if none */
};

/*
 * method on base_url + path with "Authorization: Bearer token" and, when
 * json_body is not NULL, that body as application/json. 0 once any HTTP
 * response arrived (whatever its status); -1 when the server could not be
 * reached, with a human-readable reason in err.
 */
int evpnctl_http_request(const char *base_url, const char *token,
			 const char *method, const char *path,
			 const char *json_body, struct evpnctl_http_resp *resp,
			 char *err, size_t errlen) EVPNCTL_WUR;
/* Wipes (it may hold an API key) and frees the body. */
void evpnctl_http_resp_free(struct evpnctl_http_resp *resp);

#endif /* EVPNCTL_HTTP_H */
