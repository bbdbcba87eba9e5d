/* SPDX-License-Identifier: MIT */
/* One-shot commands on the store: keygen and master-key. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "commands.h"
#include "log.h"
#include "users/users_service.h"

/* Open only the store plugin, and a users service over it. */
static int open_store(struct evpn_core *core, const struct evpnd_args *a,
		      const char *command, struct evpn_errors *errs)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	struct evpn_plugin_inst *st;
	struct evpn_users_opts opts = {0};
	int r;

	memset(core, 0, sizeof(*core));
	core->no_users = true;
	core->command = command;
	if (evpn_core_loop_init(core) != EVPN_OK)
		return EVPN_ERR_INTERNAL;
	r = evpn_daemon_load(core, a->config, EVPN_KIND_BIT(EVPN_KIND_STORE),
			     errs);
	if (r != EVPN_OK)
		return r;
	r = evpn_daemon_create(core);
	if (r == EVPN_OK)
		r = evpn_daemon_start(core, false);
	if (r != EVPN_OK)
		return r;
	st = core->plugins[EVPN_KIND_STORE];
	opts.master_key = c->get_str(core->cfg->root, "master_key", "");
	core->users = evpn_users_new(&core->core_inst.host, st->desc->vtable,
				     st->self, &opts);
	return core->users ? EVPN_OK : EVPN_ERR_NOMEM;
}

struct keygen_cfg {
	bool regenerate;
	char purpose[64];
	char sha256[65];
};

static int read_keygen_config(const char *path, struct keygen_cfg *kc)
{
	json_error_t jerr;
	json_t *root, *v;
	FILE *f;
	unsigned char buf[65536], h[crypto_hash_sha256_BYTES];
	size_t n;

	snprintf(kc->purpose, sizeof(kc->purpose), "wireguard-server");
	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "evpnd: %s: %m\n", path);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	crypto_hash_sha256(h, buf, n);
	sodium_bin2hex(kc->sha256, sizeof(kc->sha256), h, sizeof(h));
	root = json_loadb((const char *)buf, n, 0, &jerr);
	if (!root || !json_is_object(root)) {
		fprintf(stderr, "%s:%d:%d: %s\n", path, jerr.line, jerr.column,
			root ? "must be a JSON object" : jerr.text);
		json_decref(root);
		return -1;
	}
	v = json_object_get(root, "key_algorithm");
	if (v && (!json_is_string(v) ||
		  strcmp(json_string_value(v), "curve25519") != 0)) {
		fprintf(stderr,
			"%s: key_algorithm must be \"curve25519\" "
			"(WireGuard)\n",
			path);
		json_decref(root);
		return -1;
	}
	v = json_object_get(root, "regenerate_keys");
	if (v && !json_is_boolean(v)) {
		fprintf(stderr, "%s: regenerate_keys must be true or false\n",
			path);
		json_decref(root);
		return -1;
	}
	kc->regenerate = v && json_is_true(v);
	v = json_object_get(root, "key_purpose");
	if (json_is_string(v))
		snprintf(kc->purpose, sizeof(kc->purpose), "%s",
			 json_string_value(v));
	json_decref(root);
	return 0;
}

int evpnd_cmd_keygen(const struct evpnd_args *a)
{
	struct evpn_core core;
	struct evpn_errors errs = {0};
	struct keygen_cfg kc = {0};
	const char *kpath = a->keygen_config;
	char pub[EVPN_KEY_B64_SIZE], meta[512], now[32];
	bool created, force = a->force;
	int r, status = 1;

	/* The container entrypoint names the JSON file in the environment. */
	if (!kpath)
		kpath = getenv("EVPN_KEYGEN_CONFIG_FILE");

	if (kpath && *kpath) {
		if (read_keygen_config(kpath, &kc))
			return 1;
		force = force || kc.regenerate;
	}
	r = open_store(&core, a, "keygen", &errs);
	if (r != EVPN_OK) {
		evpn_errors_print(&errs);
		core_error("cannot open the store: %s", evpn_strerror(r));
		goto out;
	}
	{
		time_t t = time(NULL);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	snprintf(meta, sizeof(meta),
		 "{\"algorithm\":\"curve25519\",\"created_at\":\"%s\","
		 "\"purpose\":\"%s\",\"generator\":\"evpnd %s\"%s%s%s}",
		 now, kc.purpose[0] ? kc.purpose : "wireguard-server",
		 EVPN_VERSION, kc.sha256[0] ? ",\"config_sha256\":\"" : "",
		 kc.sha256, kc.sha256[0] ? "\"" : "");
	r = evpn_users_server_key(core.users, true, force, meta, pub, &created);
	if (r != EVPN_OK) {
		core_error("keygen failed: %s", evpn_strerror(r));
		goto out;
	}
	if (created)
		core_info("%s the server key pair",
			  force ? "replaced" : "created");
	else
		core_info("the server key pair exists; nothing changed");
	printf("%s\n", pub);
	status = 0;
out:
	evpn_daemon_teardown(&core);
	evpn_errors_free(&errs);
	return status;
}

int evpnd_cmd_master_key(const struct evpnd_args *a)
{
	struct evpn_core core;
	struct evpn_errors errs = {0};
	char key[512];
	bool created;
	int r, status = 1;

	r = open_store(&core, a, "master-key", &errs);
	if (r != EVPN_OK) {
		evpn_errors_print(&errs);
		core_error("cannot open the store: %s", evpn_strerror(r));
		goto out;
	}
	r = evpn_users_master_key(core.users, key, sizeof(key), &created);
	if (r != EVPN_OK) {
		core_error("cannot read the master key: %s", evpn_strerror(r));
		goto out;
	}
	if (created)
		core_info("created the master API key in the store");
	printf("%s\n", key);
	sodium_memzero(key, sizeof(key));
	status = 0;
out:
	evpn_daemon_teardown(&core);
	evpn_errors_free(&errs);
	return status;
}
