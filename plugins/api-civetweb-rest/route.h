/* SPDX-License-Identifier: MIT */
/*
 * The route table: path -> route, allowed methods. Pure, unit-tested.
 */
#ifndef EVPN_API_ROUTE_H
#define EVPN_API_ROUTE_H

#include <stdbool.h>

enum api_route {
	API_R_NONE = 0,
	API_R_HEALTH,	   /* /health */
	API_R_USERS,	   /* /users */
	API_R_USER,	   /* /users/{id} */
	API_R_USER_CONFIG, /* /users/{id}/config */
	API_R_USER_PNG,	   /* /users/{id}/config.png */
	API_R_METRICS,	   /* /metrics */
	API_R_OPENAPI,	   /* /openapi.json */
	API_R_AUDIT,	   /* /audit */
	API_R_USER_LINKS,  /* /users/{id}/links */
	API_R_LINK,	   /* /links/{token} */
	API_R_CONSOLE,	   /* / and /console/{file}: the web console */
};

struct api_match {
	enum api_route route;
	char user[64];	/* {id}, a valid client_id */
	char file[32];	/* API_R_CONSOLE: "index.html" for "/", else {file} */
	char token[65]; /* {token}: 64 lowercase hex digits */
};

/* Fills *m and returns true when the path names a route. A path whose {id}
 * is not a valid client_id names nothing (no such user can exist). */
bool api_route_match(const char *path, struct api_match *m);
/* "GET, POST": the Allow header of a route. */
const char *api_route_allow(enum api_route r);
bool api_route_allows(enum api_route r, const char *method);
/* The path as logs may show it: a link's token is a credential, so
 * "/links/..." is logged without it. */
const char *api_route_log_path(const char *path);

#endif
