// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "api.h"

/* The server's own words, from {"error": "...", "code": "..."}. */
static void server_text(const struct evpnctl_http_resp *resp, char *out,
			size_t len)
{
	json_t *obj = NULL;
	const char *e = NULL;

	out[0] = '\0';
	if (resp->body && resp->len)
		obj = json_loadb(resp->body, resp->len, 0, NULL);
	if (obj && !json_unpack(obj, "{s:s}", "error", &e) && *e)
		snprintf(out, len, ": %s", e);
	json_decref(obj);
}

int evpnctl_api_error(const struct evpnctl_http_resp *resp, const char *name,
		      char *msg, size_t len)
{
	char said[200];
	const char *who = name ? name : "";

	server_text(resp, said, sizeof(said));
	switch (resp->status) {
	case 400:
		snprintf(msg, len, "the server rejected the request (400)%s",
			 said);
		break;
	case 401:
		snprintf(msg, len,
			 "the server rejected the API key (401)%s; run "
			 "`evpnctl setup URL` with a valid key",
			 said);
		break;
	case 403:
		snprintf(msg, len,
			 "this API key is not allowed to do that (403)%s; "
			 "the master key is needed",
			 said);
		break;
	case 404:
		if (*who)
			snprintf(msg, len,
				 "user '%s' does not exist on the server (404)",
				 who);
		else
			snprintf(msg, len, "not found on the server (404)%s",
				 said);
		break;
	case 409:
		snprintf(msg, len,
			 "the name '%s' is already taken on the server (409); "
			 "pick another or `evpnctl delete %s` first",
			 who, who);
		break;
	case 413: snprintf(msg, len, "request too large (413)%s", said); break;
	case 429:
		snprintf(msg, len,
			 "too many failed attempts from this address (429); "
			 "retry after %s seconds",
			 resp->retry_after[0] ? resp->retry_after : "a few");
		break;
	case 503:
		snprintf(msg, len,
			 "the server is unavailable (503)%s; its store may be "
			 "unreachable",
			 said);
		break;
	default:
		snprintf(msg, len, "unexpected answer from the server (%ld)%s",
			 resp->status, said);
	}
	return EVPNCTL_EXIT_SERVER;
}
