// SPDX-License-Identifier: MIT
/* What every command shares: the client directory, the saved server and
 * key, and turning API answers into messages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "commands.h"

void evpnctl_err(const char *fmt, ...)
{
	va_list ap;

	fputs("evpnctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void evpnctl_warn_cleartext(const char *url)
{
	if (evpnctl_url_cleartext(url))
		evpnctl_err("warning: the API URL is plain http:// to another "
			    "machine: not encrypted, so the API key and the "
			    "configs (run as root by connect) can be read and "
			    "changed on the way; use https://");
}

int evpnctl_ctx_init(struct evpnctl_ctx *ctx, bool need_client)
{
	int r;

	memset(ctx, 0, sizeof(*ctx));
	if (evpnctl_store_dir(ctx->dir, sizeof(ctx->dir))) {
		evpnctl_err("no client directory: set HOME or EVPN_CLIENT_DIR");
		return EVPNCTL_EXIT_LOCAL;
	}
	if (!need_client)
		return EVPNCTL_EXIT_OK;
	r = evpnctl_client_load(ctx->dir, &ctx->client);
	if (r == -ENOENT) {
		evpnctl_err("not set up: run `evpnctl setup URL` first "
			    "(no %s/client.json)",
			    ctx->dir);
		return EVPNCTL_EXIT_LOCAL;
	}
	if (r == -EINVAL) {
		evpnctl_err("%s/client.json is malformed: run `evpnctl setup "
			    "URL` again",
			    ctx->dir);
		return EVPNCTL_EXIT_LOCAL;
	}
	if (r) {
		evpnctl_err("cannot read %s/client.json: %s", ctx->dir,
			    strerror(-r));
		return EVPNCTL_EXIT_LOCAL;
	}
	ctx->have_client = true;
	evpnctl_warn_cleartext(ctx->client.url);
	return EVPNCTL_EXIT_OK;
}

void evpnctl_ctx_fini(struct evpnctl_ctx *ctx)
{
	sodium_memzero(&ctx->client, sizeof(ctx->client));
}

int evpnctl_ctx_path(const struct evpnctl_ctx *ctx, char *out, const char *name,
		     const char *ext)
{
	if (evpnctl_store_path(out, EVPNCTL_PATH_MAX, ctx->dir, name, ext)) {
		evpnctl_err("path too long: %s/%s%s", ctx->dir, name, ext);
		return EVPNCTL_EXIT_LOCAL;
	}
	return EVPNCTL_EXIT_OK;
}

int evpnctl_call(const struct evpnctl_ctx *ctx, const char *token,
		 const char *method, const char *path, const char *body,
		 long ok1, long ok2, const char *name,
		 struct evpnctl_http_resp *resp)
{
	char err[600];

	if (evpnctl_http_request(ctx->client.url,
				 token ? token : ctx->client.key, method, path,
				 body, resp, err, sizeof(err))) {
		evpnctl_err("%s", err);
		return EVPNCTL_EXIT_SERVER;
	}
	if (resp->status == ok1 || (ok2 && resp->status == ok2))
		return EVPNCTL_EXIT_OK;
	int code = evpnctl_api_error(resp, name, err, sizeof(err));

	evpnctl_err("%s", err);
	evpnctl_http_resp_free(resp);
	return code;
}
