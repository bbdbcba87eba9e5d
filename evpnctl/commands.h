/* SPDX-License-Identifier: MIT */
/* evpnctl's commands; each returns an exit code (exitcodes.h). */
#ifndef EVPNCTL_COMMANDS_H
#define EVPNCTL_COMMANDS_H

#include <stdbool.h>

#include "args.h"
#include "http.h"
#include "store.h"

struct evpnctl_ctx {
	char dir[EVPNCTL_PATH_MAX];
	struct evpnctl_client client; /* valid when have_client */
	bool have_client;
};

/* Messages go to stderr, prefixed "evpnctl: "; results go to stdout. */
void evpnctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Warns on stderr when url is plain http to another machine. */
void evpnctl_warn_cleartext(const char *url);

/* Resolves the client directory and, with need_client, loads client.json
 * (a clear message when setup was not run; a warning for plain http to
 * another machine). Returns an exit code. */
int evpnctl_ctx_init(struct evpnctl_ctx *ctx, bool need_client) EVPNCTL_WUR;
/* Wipes the API key. */
void evpnctl_ctx_fini(struct evpnctl_ctx *ctx);
/* dir/name.ext into out (EVPNCTL_PATH_MAX bytes). Exit code. */
int evpnctl_ctx_path(const struct evpnctl_ctx *ctx, char *out, const char *name,
		     const char *ext) EVPNCTL_WUR;

/*
 * One API call with token (NULL: the saved key). When the answer's status
 * is not one of ok1/ok2 (0: none), prints why and frees resp. Returns
 * EVPNCTL_EXIT_OK with resp filled, or the exit code.
 */
int evpnctl_call(const struct evpnctl_ctx *ctx, const char *token,
		 const char *method, const char *path, const char *body,
		 long ok1, long ok2, const char *name,
		 struct evpnctl_http_resp *resp) EVPNCTL_WUR;

int evpnctl_cmd_setup(const struct evpnctl_args *a) EVPNCTL_WUR;
int evpnctl_cmd_audit(const struct evpnctl_args *a) EVPNCTL_WUR;
int evpnctl_cmd_link(const struct evpnctl_args *a) EVPNCTL_WUR;
int evpnctl_cmd_create(const struct evpnctl_args *a) EVPNCTL_WUR;
int evpnctl_cmd_connect(const struct evpnctl_args *a, bool up) EVPNCTL_WUR;
int evpnctl_cmd_list(const struct evpnctl_args *a) EVPNCTL_WUR;
int evpnctl_cmd_status(const struct evpnctl_args *a) EVPNCTL_WUR;
int evpnctl_cmd_delete(const struct evpnctl_args *a) EVPNCTL_WUR;
int evpnctl_cmd_config(const struct evpnctl_args *a) EVPNCTL_WUR;

#endif /* EVPNCTL_COMMANDS_H */
