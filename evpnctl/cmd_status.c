// SPDX-License-Identifier: MIT
/* evpnctl status NAME: the server's record and the local interface. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "commands.h"
#include "wg.h"

static const char *const fields[] = {
	"client_id",	  "status",	"address",    "address6",
	"public_key",	  "created_at", "expires_at", "endpoint",
	"last_handshake", "rx_bytes",	"tx_bytes",
};

static void print_field(const char *k, json_t *v)
{
	if (json_is_string(v))
		printf("%-15s %s\n", k, json_string_value(v));
	else if (json_is_integer(v))
		printf("%-15s %" JSON_INTEGER_FORMAT "\n", k,
		       json_integer_value(v));
	else if (json_is_real(v))
		printf("%-15s %.0f\n", k, json_real_value(v));
	else if (json_is_null(v) && !strcmp(k, "last_handshake"))
		printf("%-15s never\n", k);
	else if (json_is_boolean(v))
		printf("%-15s %s\n", k, json_is_true(v) ? "true" : "false");
}

/* The user's own key (NAME.key) reads its own record with least
 * privilege; without it, the key saved by setup. */
static int load_user_key(const struct evpnctl_ctx *ctx, const char *name,
			 char *key, size_t len)
{
	char path[EVPNCTL_PATH_MAX], *text;
	size_t n;

	if (evpnctl_store_path(path, sizeof(path), ctx->dir, name, ".key") ||
	    evpnctl_store_read(path, &text, &n))
		return -1;
	n = strcspn(text, "\r\n");
	if (n == 0 || n >= len) {
		sodium_memzero(text, strlen(text));
		free(text);
		return -1;
	}
	memcpy(key, text, n);
	key[n] = '\0';
	sodium_memzero(text, strlen(text));
	free(text);
	return 0;
}

static int show_local(const char *name)
{
	char exe[EVPNCTL_PATH_MAX];

	if (strlen(name) > EVPNCTL_IFNAME_MAX || !evpnctl_iface_up(name)) {
		printf("%-15s down\n", "local");
		return EVPNCTL_EXIT_OK;
	}
	printf("%-15s up\n\n", "local");
	if (!evpnctl_find_exe("wg", exe, sizeof(exe))) {
		evpnctl_err("wg not found in PATH: install wireguard-tools to "
			    "see the local peer state");
		return EVPNCTL_EXIT_WG;
	}
	char *argv[] = {exe, "show", (char *)name, NULL};

	return evpnctl_run(argv) ? EVPNCTL_EXIT_WG : EVPNCTL_EXIT_OK;
}

int evpnctl_cmd_status(const struct evpnctl_args *a)
{
	char user_key[256], path[128];
	struct evpnctl_http_resp resp = {0};
	struct evpnctl_ctx ctx;
	json_t *rec = NULL;
	bool own;
	int code;

	code = evpnctl_ctx_init(&ctx, true);
	if (code)
		return code;
	own = !load_user_key(&ctx, a->name, user_key, sizeof(user_key));
	snprintf(path, sizeof(path), "/users/%s", a->name);
	code = evpnctl_call(&ctx, own ? user_key : NULL, "GET", path, NULL, 200,
			    0, a->name, &resp);
	if (code && own && (resp.status == 401 || resp.status == 403)) {
		/* A stale NAME.key: the saved (master) key may still do. */
		evpnctl_err("%s.key was refused; retrying with the key saved "
			    "by setup",
			    a->name);
		code = evpnctl_call(&ctx, NULL, "GET", path, NULL, 200, 0,
				    a->name, &resp);
	}
	if (code)
		goto out;
	rec = json_loadb(resp.body, resp.len, 0, NULL);
	if (!json_is_object(rec)) {
		evpnctl_err("GET %s: the server did not answer a JSON object",
			    path);
		code = EVPNCTL_EXIT_SERVER;
		goto out;
	}
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		print_field(fields[i], json_object_get(rec, fields[i]));
	code = show_local(a->name);
out:
	json_decref(rec);
	evpnctl_http_resp_free(&resp);
	sodium_memzero(user_key, sizeof(user_key));
	evpnctl_ctx_fini(&ctx);
	return code;
}
