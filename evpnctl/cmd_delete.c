// SPDX-License-Identifier: MIT
/* evpnctl delete NAME: on the server, then the local files. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "wg.h"

static int remove_file(const struct evpnctl_ctx *ctx, const char *name,
		       const char *ext, bool *removed)
{
	char path[EVPNCTL_PATH_MAX];
	int r;

	if (evpnctl_ctx_path(ctx, path, name, ext))
		return EVPNCTL_EXIT_LOCAL;
	if (access(path, F_OK))
		return EVPNCTL_EXIT_OK;
	r = evpnctl_store_remove(path);
	if (r) {
		evpnctl_err("cannot remove %s: %s", path, strerror(-r));
		return EVPNCTL_EXIT_LOCAL;
	}
	printf("removed %s\n", path);
	*removed = true;
	return EVPNCTL_EXIT_OK;
}

int evpnctl_cmd_delete(const struct evpnctl_args *a)
{
	struct evpnctl_http_resp resp = {0};
	struct evpnctl_ctx ctx;
	bool removed = false, gone = false, up;
	char path[128];
	int code;

	code = evpnctl_ctx_init(&ctx, true);
	if (code)
		return code;
	snprintf(path, sizeof(path), "/users/%s", a->name);
	code = evpnctl_call(&ctx, NULL, "DELETE", path, NULL, 204, 200, a->name,
			    &resp);
	if (code == EVPNCTL_EXIT_OK) {
		printf("deleted user %s on the server\n", a->name);
		evpnctl_http_resp_free(&resp);
	} else if (resp.status == 404) {
		/* Already gone there (expired, or deleted elsewhere): still
		 * clean up here, which is what the user asked for. */
		gone = true;
	} else {
		goto out;
	}
	code = remove_file(&ctx, a->name, ".key", &removed);
	if (code)
		goto out;
	up = strlen(a->name) <= 15 && evpnctl_iface_up(a->name);
	if (up) {
		/* wg-quick down needs the file to undo routes and DNS. */
		evpnctl_err("interface %s is up: kept its config so "
			    "`evpnctl disconnect %s` works; run `evpnctl "
			    "delete %s` again afterwards to remove it",
			    a->name, a->name, a->name);
	} else {
		code = remove_file(&ctx, a->name, ".conf", &removed);
		if (code)
			goto out;
	}
	/* Nothing on the server and nothing here: that is an error. */
	code = gone && !removed && !up ? EVPNCTL_EXIT_SERVER : EVPNCTL_EXIT_OK;
out:
	evpnctl_ctx_fini(&ctx);
	return code;
}
