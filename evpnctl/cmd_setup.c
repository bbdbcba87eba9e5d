// SPDX-License-Identifier: MIT
/* evpnctl setup URL MASTER_KEY */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api.h"
#include "commands.h"

/* Setup only saves; this check just tells early that the URL or key is
 * wrong, so a typo does not surface later as a confusing create failure. */
static void check_server(const struct evpnctl_ctx *ctx)
{
	struct evpnctl_http_resp resp;
	char err[600];
	json_t *list;

	if (evpnctl_http_request(ctx->client.url, ctx->client.key, "GET",
				 "/users", NULL, &resp, err, sizeof(err))) {
		evpnctl_err("warning: %s", err);
		return;
	}
	if (resp.status == 200) {
		list = json_loadb(resp.body, resp.len, 0, NULL);
		fprintf(stderr, "evpnctl: server OK, %zu user(s) visible\n",
			json_is_array(list) ? json_array_size(list) : 0);
		json_decref(list);
	} else {
		evpnctl_api_error(&resp, NULL, err, sizeof(err));
		evpnctl_err("warning: %s", err);
	}
	evpnctl_http_resp_free(&resp);
}

int evpnctl_cmd_setup(const struct evpnctl_args *a)
{
	struct evpnctl_ctx ctx;
	int r, code;

	code = evpnctl_ctx_init(&ctx, false);
	if (code)
		return code;
	snprintf(ctx.client.url, sizeof(ctx.client.url), "%s", a->url);
	snprintf(ctx.client.key, sizeof(ctx.client.key), "%s", a->key);
	r = evpnctl_client_save(ctx.dir, &ctx.client);
	if (r) {
		evpnctl_err("cannot write %s/client.json: %s", ctx.dir,
			    strerror(-r));
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	printf("saved %s/client.json\n", ctx.dir);
	check_server(&ctx);
out:
	evpnctl_ctx_fini(&ctx);
	return code;
}
