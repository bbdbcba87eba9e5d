/* SPDX-License-Identifier: MIT */
/*
 * Routing: path -> route (404), method (405 + Allow), credentials (401,
 * 429, 503), then the route's handler, which checks who may do what (403).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api_internal.h"
#include "errmap.h"

static bool route_is_public(enum api_route r)
{
	/* a link's token is its credential */
	return r == API_R_HEALTH || r == API_R_OPENAPI || r == API_R_CONSOLE ||
	       r == API_R_LINK;
}

static int authenticate(struct api_req *r)
{
	struct api *a = r->api;
	const struct evpn_auth_ops *ops = a->auth.vtable;
	unsigned retry = 0;
	char hdr[64];
	int rc;

	if (!a->have_auth)
		return api_send_error(r, 503, API_CODE_UNAVAILABLE,
				      "no auth plugin");
	rc = ops->authenticate(a->auth.self,
			       mg_get_header(r->conn, "Authorization"),
			       r->ri->remote_addr, &r->who, &retry);
	switch (rc) {
	case EVPN_OK:
		if (r->who.role == EVPN_ROLE_ADMIN ||
		    r->who.role == EVPN_ROLE_USER)
			return 0;
		return api_send_error(r, 500, API_CODE_INTERNAL,
				      "auth returned no principal");
	case EVPN_ERR_PERM:
		return api_send_error_hdr(
			r, 401, API_CODE_UNAUTHORIZED,
			"missing or unknown bearer token",
			"WWW-Authenticate: Bearer realm=\"evpn\"\r\n");
	case EVPN_ERR_AGAIN:
		snprintf(hdr, sizeof(hdr), "Retry-After: %u\r\n",
			 retry ? retry : 1);
		return api_send_error_hdr(r, 429, API_CODE_THROTTLED,
					  "too many failed attempts", hdr);
	default: return api_send_evpn_error(r, rc, "cannot check credentials");
	}
}

static int call(struct api_req *r, enum api_route route, const char *method)
{
	switch (route) {
	case API_R_HEALTH: return api_health(r);
	case API_R_OPENAPI: return api_openapi(r);
	case API_R_CONSOLE: return api_console(r);
	case API_R_METRICS: return api_metrics(r);
	case API_R_AUDIT: return api_audit_list(r);
	case API_R_USERS:
		if (strcmp(method, "POST") == 0)
			return api_users_create(r);
		return api_users_list(r);
	case API_R_USER:
		if (strcmp(method, "PATCH") == 0)
			return api_users_patch(r);
		if (strcmp(method, "DELETE") == 0)
			return api_users_delete(r);
		return api_users_get(r);
	case API_R_USER_CONFIG: return api_users_config(r, false);
	case API_R_USER_PNG: return api_users_config(r, true);
	case API_R_USER_LINKS: return api_links_create(r);
	case API_R_LINK: return api_link_get(r);
	default:
		return api_send_error(r, 404, API_CODE_NOT_FOUND,
				      "no such route");
	}
}

/* The audit log's name of a change request, or NULL for a read. */
static const char *change_action(enum api_route route, const char *method)
{
	if (route == API_R_USERS && strcmp(method, "POST") == 0)
		return "create";
	if (route == API_R_USER && strcmp(method, "PATCH") == 0)
		return "patch";
	if (route == API_R_USER && strcmp(method, "DELETE") == 0)
		return "delete";
	if (route == API_R_USER_LINKS)
		return "link_create";
	if (route == API_R_LINK)
		return "link_use";
	return NULL;
}

int api_dispatch(struct api_req *r)
{
	const char *method = r->ri->request_method;
	enum api_route route;
	char allow[64];
	int rc;

	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	r->t_start_ns =
		(uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	if (!api_route_match(r->ri->local_uri, &r->match))
		return api_send_error(r, 404, API_CODE_NOT_FOUND,
				      "no such route");
	route = r->match.route;
	if (!api_route_allows(route, method)) {
		snprintf(allow, sizeof(allow), "Allow: %s\r\n",
			 api_route_allow(route));
		return api_send_error_hdr(r, 405, API_CODE_METHOD,
					  "method not allowed", allow);
	}
	/* /health answers health checks without a key; a key given there is
	 * checked like anywhere else (the admin then sees the details). */
	if (!route_is_public(route) ||
	    (route == API_R_HEALTH &&
	     mg_get_header(r->conn, "Authorization") != NULL)) {
		rc = authenticate(r);
		if (rc)
			return rc;
	}

	/* authenticated change requests, whatever their outcome: api_send
	 * records them just before answering */
	r->audit_action = change_action(route, method);
	return call(r, route, method);
}
