// SPDX-License-Identifier: MIT
/* evpnctl setup URL [KEY | -] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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

/* One line from stdin into key (len bytes), without its line end; on a
 * terminal with a prompt and echo off. stdin is made unbuffered first so
 * no copy of the key stays behind in stdio's buffer. */
static void read_key_line(char *key, size_t len)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &old);

	setvbuf(stdin, NULL, _IONBF, 0);
	if (tty) {
		fputs("evpnctl: API key: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (!fgets(key, (int)len, stdin))
		key[0] = '\0';
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	key[strcspn(key, "\r\n")] = '\0';
}

/* The key from argv, EVPN_MASTER_KEY or stdin (args.h); exit code. */
static int get_key(const struct evpnctl_args *a, char *key, size_t len)
{
	const char *env = getenv("EVPN_MASTER_KEY");

	if (a->key && strcmp(a->key, "-")) {
		evpnctl_err(
			"warning: a key on the command line shows in ps and "
			"the shell history; `evpnctl setup URL` reads it "
			"from EVPN_MASTER_KEY or stdin instead");
		snprintf(key, len, "%s", a->key);
		return EVPNCTL_EXIT_OK;
	}
	if (!a->key && env && *env)
		snprintf(key, len, "%s", env);
	else
		read_key_line(key, len);
	if (!*key) {
		evpnctl_err("no API key: give it on stdin, in EVPN_MASTER_KEY "
			    "or as an argument (see evpnctl setup --help)");
		return EVPNCTL_EXIT_USAGE;
	}
	/* args.c checks a key from argv; this one is never echoed either */
	if (!evpnctl_valid_api_key(key)) {
		evpnctl_err("bad API key: empty, too long or has whitespace");
		return EVPNCTL_EXIT_USAGE;
	}
	return EVPNCTL_EXIT_OK;
}

int evpnctl_cmd_setup(const struct evpnctl_args *a)
{
	struct evpnctl_ctx ctx;
	int r, code;

	code = evpnctl_ctx_init(&ctx, false);
	if (code)
		return code;
	snprintf(ctx.client.url, sizeof(ctx.client.url), "%s", a->url);
	/* a longer line than the buffer is cut, still too long for a key */
	code = get_key(a, ctx.client.key, sizeof(ctx.client.key));
	if (code)
		goto out;
	r = evpnctl_client_save(ctx.dir, &ctx.client);
	if (r) {
		evpnctl_err("cannot write %s/client.json: %s", ctx.dir,
			    strerror(-r));
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	printf("saved %s/client.json\n", ctx.dir);
	evpnctl_warn_cleartext(ctx.client.url);
	check_server(&ctx);
out:
	evpnctl_ctx_fini(&ctx);
	return code;
}
