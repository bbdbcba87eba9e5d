// SPDX-License-Identifier: MIT
/* evpnctl create NAME [--ttl D] [--allowed-ips CIDRS] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "commands.h"
#include "conf.h"
#include "keys.h"

struct created {
	const char *api_key, *config, *address, *expires_at;
};

static char *request_body(const char *name, const char *pub, const char *ttl,
			  const char *allowed_ips, const char *quota,
			  const char *rate_limit)
{
	json_t *o =
		json_pack("{s:s, s:s}", "client_id", name, "public_key", pub);
	char *s;

	if (!o)
		return NULL;
	if ((ttl && json_object_set_new(o, "ttl", json_string(ttl))) ||
	    (allowed_ips &&
	     json_object_set_new(o, "allowed_ips", json_string(allowed_ips))) ||
	    (quota && json_object_set_new(o, "quota", json_string(quota))) ||
	    (rate_limit &&
	     json_object_set_new(o, "rate_limit", json_string(rate_limit)))) {
		json_decref(o);
		return NULL;
	}
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

/* The user was created but we cannot keep its private key: remove it so the
 * name is not left taken by a user nobody can use. */
static void roll_back(const struct evpnctl_ctx *ctx, const char *name,
		      const char *path)
{
	struct evpnctl_http_resp resp;

	if (evpnctl_call(ctx, NULL, "DELETE", path, NULL, 204, 200, name,
			 &resp)) {
		evpnctl_err("could not roll back: user '%s' stays on the "
			    "server; `evpnctl delete %s` removes it",
			    name, name);
		return;
	}
	evpnctl_http_resp_free(&resp);
	evpnctl_err("user '%s' deleted again on the server", name);
}

static int save_files(const struct evpnctl_ctx *ctx, const char *name,
		      const char *conf_path, const char *conf, const char *priv,
		      const char *api_key)
{
	char key_path[EVPNCTL_PATH_MAX], line[300], dropped[700];
	struct evpnctl_conf_report rep;
	char *full = NULL, *kept = NULL;
	int r;

	r = evpnctl_conf_set_private_key(conf, priv, &full);
	if (r) {
		evpnctl_err("the server's config for '%s' has no [Interface] "
			    "section",
			    name);
		return EVPNCTL_EXIT_SERVER;
	}
	/* wg-quick runs this file as root: keep only what evpnctl knows */
	r = evpnctl_conf_filter(full, &kept, &rep);
	sodium_memzero(full, strlen(full));
	free(full);
	if (r)
		return EVPNCTL_EXIT_LOCAL;
	/* A look-alike header such as "[Interface] = x" took our key and went
	 * with its lines: nothing usable is left. */
	if (!evpnctl_conf_has_private_key(kept, priv)) {
		evpnctl_err("the server's config for '%s' has no usable "
			    "[Interface] section",
			    name);
		sodium_memzero(kept, strlen(kept));
		free(kept);
		return EVPNCTL_EXIT_SERVER;
	}
	if (rep.n) {
		evpnctl_conf_report_str(&rep, dropped, sizeof(dropped));
		evpnctl_err(
			"warning: dropped from the server's config for "
			"'%s' (evpnctl keeps only the WireGuard keys it "
			"knows; hooks such as PostUp would run as root): %s",
			name, dropped);
	}
	r = evpnctl_store_write_secret(conf_path, kept, strlen(kept));
	sodium_memzero(kept, strlen(kept));
	free(kept);
	if (r) {
		evpnctl_err("cannot write %s: %s", conf_path, strerror(-r));
		return EVPNCTL_EXIT_LOCAL;
	}
	if (evpnctl_ctx_path(ctx, key_path, name, ".key"))
		return EVPNCTL_EXIT_LOCAL;
	snprintf(line, sizeof(line), "%s\n", api_key);
	r = evpnctl_store_write_secret(key_path, line, strlen(line));
	sodium_memzero(line, sizeof(line));
	if (r) {
		evpnctl_err("cannot write %s: %s", key_path, strerror(-r));
		unlink(conf_path);
		return EVPNCTL_EXIT_LOCAL;
	}
	return EVPNCTL_EXIT_OK;
}

/* Older or other servers may leave the config out of the 201 answer. */
static int fetch_config(const struct evpnctl_ctx *ctx, const char *name,
			const char *user_path, char **out)
{
	struct evpnctl_http_resp resp;
	char path[160]; /* user_path is "/users/" + an id of <= 63 bytes */
	int code;

	snprintf(path, sizeof(path), "%s/config", user_path);
	code = evpnctl_call(ctx, NULL, "GET", path, NULL, 200, 0, name, &resp);
	if (code)
		return code;
	*out = strdup(resp.body);
	evpnctl_http_resp_free(&resp);
	return *out ? EVPNCTL_EXIT_OK : EVPNCTL_EXIT_LOCAL;
}

int evpnctl_cmd_create(const struct evpnctl_args *a)
{
	char priv[EVPN_KEY_B64_SIZE], pub[EVPN_KEY_B64_SIZE];
	char conf_path[EVPNCTL_PATH_MAX], user_path[128];
	struct evpnctl_http_resp resp = {0};
	struct created c = {0};
	struct evpnctl_ctx ctx;
	char *body = NULL, *fetched = NULL;
	json_t *rec = NULL;
	int code, r;

	code = evpnctl_ctx_init(&ctx, true);
	if (code)
		return code;
	code = evpnctl_ctx_path(&ctx, conf_path, a->name, ".conf");
	if (code)
		goto out;
	/* Refuse before touching the server: an existing file holds a private
	 * key that may still be in use. */
	if (access(conf_path, F_OK) == 0) {
		evpnctl_err("%s already exists: `evpnctl delete %s` first, or "
			    "pick another name",
			    conf_path, a->name);
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	r = evpnctl_store_mkdir(ctx.dir);
	if (r || access(ctx.dir, W_OK)) {
		evpnctl_err("cannot write to %s: %s", ctx.dir,
			    strerror(r ? -r : errno));
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	if (evpnctl_keypair_b64(priv, pub)) {
		evpnctl_err("cannot generate a key pair (libsodium)");
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	body = request_body(a->name, pub, a->ttl, a->allowed_ips, a->quota,
			    a->rate_limit);
	if (!body) {
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	snprintf(user_path, sizeof(user_path), "/users/%s", a->name);
	code = evpnctl_call(&ctx, NULL, "POST", "/users", body, 201, 0, a->name,
			    &resp);
	if (code)
		goto out;
	rec = json_loadb(resp.body, resp.len, 0, NULL);
	if (!rec || json_unpack(rec, "{s:s, s?s, s?s, s?s}", "api_key",
				&c.api_key, "config", &c.config, "address",
				&c.address, "expires_at", &c.expires_at)) {
		evpnctl_err("the server's answer to POST /users has no "
			    "api_key; user '%s' may exist without a key here",
			    a->name);
		code = EVPNCTL_EXIT_SERVER;
		goto out;
	}
	if (!c.config) {
		code = fetch_config(&ctx, a->name, user_path, &fetched);
		if (code) {
			roll_back(&ctx, a->name, user_path);
			goto out;
		}
		c.config = fetched;
	}
	code = save_files(&ctx, a->name, conf_path, c.config, priv, c.api_key);
	if (code) {
		roll_back(&ctx, a->name, user_path);
		goto out;
	}
	fprintf(stderr,
		"evpnctl: created user '%s'%s%s%s%s\n"
		"evpnctl: config (with the private key): %s\n"
		"evpnctl: the user's API key (shown once, saved in "
		"%s/%s.key):\n",
		a->name, c.address ? ", address " : "",
		c.address ? c.address : "", c.expires_at ? ", expires " : "",
		c.expires_at ? c.expires_at : "", conf_path, ctx.dir, a->name);
	printf("%s\n", c.api_key);
out:
	json_decref(rec); /* jansson frees; key copies wiped below */
	if (fetched) {
		sodium_memzero(fetched, strlen(fetched));
		free(fetched);
	}
	evpnctl_http_resp_free(&resp);
	free(body);
	sodium_memzero(priv, sizeof(priv));
	evpnctl_ctx_fini(&ctx);
	return code;
}
