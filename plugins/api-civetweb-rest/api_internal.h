/* SPDX-License-Identifier: MIT */
/*
 * api:civetweb-rest internals shared by its files. Not a public header.
 *
 * Threading: civetweb workers run api_handle_request() on a large stack of
 * its own (bigstack.h), on the worker's thread.
 * From there we touch only the users service and the auth plugin (both
 * thread-safe) and host functions marked [any thread]; the few fields of
 * struct api read there are written before mg_start() and not after.
 */
#ifndef EVPN_API_INTERNAL_H
#define EVPN_API_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <civetweb.h>

#include <evpn/auth.h>
#include <evpn/host.h>
#include <evpn/users.h>

#include "route.h"

#define API_STATUS_MAX 600

/* civetweb 1.15 gives each open connection a worker thread of its own until
 * its request is in (or request_timeout passes), so idle and slow clients
 * hold workers. The default leaves room for more than 1,000 of them while
 * /health and admins still find a free worker; each worker costs a 100 KiB
 * stack (virtual, mostly untouched) and a 16 KiB header buffer. */
#define API_THREADS_DEFAULT 2048
#define API_THREADS_DEFAULT_S "2048"
#define API_THREADS_MAX 8192
/* File descriptors kept for everything but the API's connections. */
#define API_FD_RESERVE 256

struct api {
	const struct evpn_host *host;
	/* config */
	char listen[128];
	char public_url[256]; /* "" : http:// + the Host header */
	unsigned threads;
	uint64_t max_body;
	unsigned timeout_ms;
	bool console; /* serve the web console at / (console.c) */
	/* running */
	struct mg_context *ctx;
	char bound[160];
	struct evpn_ref auth; /* resolved in start() on the loop thread */
	bool have_auth;
	/* metrics: series registered with the host, plus our own counts for
	 * the (unlikely) case the host could not register them */
	struct evpn_metric *_Atomic m_status[API_STATUS_MAX];
	atomic_uint_fast64_t n_status[API_STATUS_MAX];
};

struct api_req {
	struct api *api;
	struct mg_connection *conn;
	const struct mg_request_info *ri;
	struct api_match match;
	struct evpn_principal who;
	/* for the audit log, set by the handler of a change (router.c
	 * records it): the user acted on when the path does not name it, and
	 * a few words on what was asked (never a secret) */
	char audit_target[64];
	char audit_detail[200];
	uint64_t t_start_ns;	  /* when dispatch began (CLOCK_REALTIME) */
	const char *audit_action; /* a change: recorded by api_send */
	bool audited;
};

/* server.c: civetweb's begin_request callback lands here. */
int api_handle_request(struct api *a, struct mg_connection *conn);

/* router.c: match, method check, authentication, dispatch. Returns the
 * HTTP status sent. */
int api_dispatch(struct api_req *r);

/* http.c: responses and request bodies. Each send returns `status`. */
int api_send(struct api_req *r, int status, const char *content_type,
	     const void *body, size_t len, const char *extra_headers);
int api_send_json(struct api_req *r, int status, void *json /* json_t */);
int api_send_error(struct api_req *r, int status, const char *code,
		   const char *message);
int api_send_error_hdr(struct api_req *r, int status, const char *code,
		       const char *message, const char *extra_headers);
int api_send_evpn_error(struct api_req *r, int evpn_err, const char *message);
/* 0 and the body (NUL-terminated, malloc'd), or the status already sent
 * (413 too large, 400 unreadable). */
int api_read_body(struct api_req *r, char **body, size_t *len);
/* 415 unless the request's Content-Type is JSON; 0 when it is. */
int api_require_json(struct api_req *r);
/* The users service or NULL (then reply 503). */
const struct evpn_users_ops *api_users(struct api *a, void **self);

/* handlers_users.c */
int api_users_create(struct api_req *r);
int api_users_list(struct api_req *r);
int api_users_get(struct api_req *r);
int api_users_config(struct api_req *r, bool png);
int api_users_patch(struct api_req *r);
int api_users_delete(struct api_req *r);

/* handlers_links.c */
int api_links_create(struct api_req *r);
/* "https://vpn-api.example.com": public_url, else http:// + Host; false
 * when neither is usable. */
bool api_base_url(struct api_req *r, char *out, size_t len);
int api_link_get(struct api_req *r);

/* handlers_audit.c */
int api_audit_list(struct api_req *r);
/* Record a change request (POST/PATCH/DELETE) and the status of its
 * answer (http.c, before sending it). */
void api_audit_request(struct api_req *r, const char *action, int status);

/* handlers_misc.c */
int api_health(struct api_req *r);
int api_metrics(struct api_req *r);
int api_openapi(struct api_req *r);

/* console.c: the web console's files (404 when it is off) */
int api_console(struct api_req *r);

/* metrics.c */
void api_metrics_init(struct api *a);
void api_metrics_count(struct api *a, int status);
/* Our own series, only those the host could not register; malloc'd. */
char *api_metrics_fallback(struct api *a);

/* api_openapi_json.c (generated from openapi.json by embed.cmake) */
extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

#endif
