/* SPDX-License-Identifier: MIT */
/*
 * Loading a daemon's configuration: the core's own section (network, users,
 * plugin_dir), then every configured plugin, dlopened and its section
 * validated, then the kinds each kind needs. Nothing is created here: bad
 * configuration is reported whole before anything starts.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "rate.h"
#include "log.h"
#include "pool.h"

static const struct evpn_config_key network_schema[] = {
	{.key = "pool",
	 .type = EVPN_CFG_CIDR,
	 .def = "10.77.0.0/16",
	 .desc = "IPv4 client address pool; the server takes the first "
		 "address"},
	{.key = "pool6",
	 .type = EVPN_CFG_STRING,
	 .def = "",
	 .desc = "optional IPv6 client pool (e.g. fd77::/64); each client's "
		 "IPv6 address is paired with its IPv4 one; empty: IPv4 only"},
	{.key = "endpoint",
	 .type = EVPN_CFG_STRING,
	 .def = "127.0.0.1:51820",
	 .desc = "host:port written into client configs"},
	{.key = "dns",
	 .type = EVPN_CFG_STRLIST,
	 .desc = "DNS servers written into client configs"},
	{.key = "mtu",
	 .type = EVPN_CFG_INT,
	 .def = "1420",
	 .min = 1280,
	 .max = 9000,
	 .desc = "tunnel MTU written into client configs"},
	EVPN_CONFIG_KEYS_END,
};

static const struct evpn_config_key users_schema[] = {
	{.key = "partial_grace",
	 .type = EVPN_CFG_DURATION,
	 .def = "30s",
	 .desc = "age after which a half-created user (a crash mid-create) "
		 "is swept from the store"},
	{.key = "reconcile_interval",
	 .type = EVPN_CFG_DURATION,
	 .def = "1h",
	 .desc = "how often to load every user record in full, repairing the "
		 "compact index and sweeping crash leftovers; 0: only at "
		 "start-up without an index and on SIGHUP"},
	{.key = "sync_interval",
	 .type = EVPN_CFG_DURATION,
	 .def = "5s",
	 .desc = "how often to read the store's change marker, so that users "
		 "created, disabled or deleted by another instance sharing the "
		 "store become live here; 0: never (SIGHUP still reloads)"},
	{.key = "quota_persist_interval",
	 .type = EVPN_CFG_DURATION,
	 .def = "30s",
	 .desc = "how often the bytes counted against data quotas are written "
		 "to the store (and at once when a quota is reached)"},
	{.key = "rate_limit",
	 .type = EVPN_CFG_STRING,
	 .def = "",
	 .desc = "the rate limit of users without one of their own, each "
		 "way (e.g. 20mbit, 500kbit, 2MB/s); empty or 0: none"},
	{.key = "audit_retention",
	 .type = EVPN_CFG_DURATION,
	 .def = "90d",
	 .desc = "how long audit log entries are kept in the store (at least "
		 "1d, at most 3650d)"},
	EVPN_CONFIG_KEYS_END,
};

const struct evpn_config_key evpn_core_schema[] = {
	{.key = "log_level",
	 .type = EVPN_CFG_STRING,
	 .def = "info",
	 .desc = "debug, info, warn or error"},
	{.key = "plugin_dir",
	 .type = EVPN_CFG_PATH,
	 .def = EVPN_DEFAULT_PLUGIN_DIR,
	 .desc = "where the plugin .so files are; relative to this file"},
	{.key = "master_key",
	 .type = EVPN_CFG_STRING,
	 .def = "",
	 .flags = EVPN_CFG_SECRET,
	 .desc = "the master API key; empty: read from (or created in) the "
		 "store"},
	{.key = "network",
	 .type = EVPN_CFG_MAP,
	 .children = network_schema,
	 .desc = "addresses shared by the users service and the plugins"},
	{.key = "users",
	 .type = EVPN_CFG_MAP,
	 .children = users_schema,
	 .desc = "users service"},
	{.key = "plugins",
	 .type = EVPN_CFG_ANY,
	 .desc = "one entry per kind: { use: NAME, config: {...} }"},
	EVPN_CONFIG_KEYS_END,
};

static const struct evpn_config_key plugin_entry_schema[] = {
	{.key = "use",
	 .type = EVPN_CFG_STRING,
	 .flags = EVPN_CFG_REQUIRED,
	 .desc = "plugin name (or a path to a .so file)"},
	{.key = "config",
	 .type = EVPN_CFG_ANY,
	 .desc = "the plugin's own settings (see evpnd describe NAME)"},
	EVPN_CONFIG_KEYS_END,
};

const char *evpn_default_config(void)
{
	const char *e = getenv("EVPN_CONFIG");

	return e && *e ? e : "etc/evpn.yaml";
}

static enum evpn_kind kind_from_name(const char *s)
{
	for (int k = 1; k < EVPN_KIND__COUNT; k++)
		if (strcmp(s, evpn_kind_name((enum evpn_kind)k)) == 0)
			return (enum evpn_kind)k;
	return EVPN_KIND_NONE;
}

/* users.rate_limit, checked here so that a typo stops the start-up with
 * the other configuration errors. */
static int load_users(struct evpn_core *core, struct evpn_errors *errs)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	const struct evpn_config_node *uc = c->get(core->cfg->root, "users");
	const char *rate = c->get_str(uc, "rate_limit", "");

	core->rate_limit = 0;
	if (!*rate || rate_parse(rate, &core->rate_limit) == 0)
		return 0;
	evpn_errors_add(errs, c->get(uc, "rate_limit"),
			"users.rate_limit: '%s' must be a rate such as 20mbit, "
			"500kbit, 1gbit or 2MB/s (8kbit-100gbit; 0: none)",
			rate);
	return -1;
}

static int load_network(struct evpn_core *core, struct evpn_errors *errs)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	const struct evpn_config_node *net = c->get(core->cfg->root, "network");
	const struct evpn_config_node *dns = c->get(net, "dns");
	unsigned char a[16];
	unsigned prefix;
	int fam;
	size_t n;
	static char server[16], server6[INET6_ADDRSTRLEN];
	struct evpn_pool6 p6;
	const char *pool6;
	uint32_t v;

	core->net.size = sizeof(core->net);
	core->net.pool = c->get_str(net, "pool", "10.77.0.0/16");
	core->net.endpoint = c->get_str(net, "endpoint", "127.0.0.1:51820");
	core->net.mtu = (unsigned)c->get_int(net, "mtu", 1420);
	if (!evpn_parse_cidr(core->net.pool, &fam, a, &prefix) ||
	    fam != AF_INET || prefix < 8 || prefix > 29) {
		evpn_errors_add(errs, c->get(net, "pool"),
				"network.pool: '%s' must be an IPv4 CIDR "
				"between /8 and /29",
				core->net.pool);
		return -1;
	}
	memcpy(&v, a, 4);
	v = ntohl(v) & (~0u << (32 - prefix));
	snprintf(server, sizeof(server), "%u.%u.%u.%u", v >> 24,
		 (v >> 16) & 255, (v >> 8) & 255, (v & 255) + 1);
	core->net.server_address = server;
	core->net.prefix_len = prefix;
	pool6 = c->get_str(net, "pool6", "");
	if (evpn_pool6_init(&p6, pool6, core->net.pool) != EVPN_OK) {
		evpn_errors_add(errs, c->get(net, "pool6"),
				"network.pool6: '%s' must be an IPv6 CIDR with "
				"room for every IPv4 pool offset (at most /%u "
				"for a /%u IPv4 pool)",
				pool6, 128 - (32 - prefix), prefix);
		return -1;
	}
	if (p6.enabled) {
		core->net.pool6 = pool6;
		evpn_pool6_pair(&p6, server, server6);
		core->net.server_address6 = server6;
	}
	if (!strchr(core->net.endpoint, ':')) {
		evpn_errors_add(errs, c->get(net, "endpoint"),
				"network.endpoint: '%s' must be host:port",
				core->net.endpoint);
		return -1;
	}
	n = c->type(dns) == EVPN_NODE_SEQ      ? c->len(dns)
	    : c->type(dns) == EVPN_NODE_SCALAR ? 1
					       : 0;
	core->dns = calloc(n + 1, sizeof(char *));
	if (!core->dns)
		return -1;
	for (size_t i = 0, j = 0; i < n; i++) {
		const char *s = c->type(dns) == EVPN_NODE_SEQ
					? c->scalar(c->at(dns, i))
					: c->scalar(dns);

		if (s && *s)
			core->dns[j++] = (char *)s;
	}
	core->net.dns = (const char *const *)core->dns;
	return 0;
}

/*
 * One shipped config serves several plugins of a kind (EVPN_STORE=file or
 * ssm): `config` may hold one map per plugin name, and the one named after
 * the plugin in use is its config. That form is recognised when `config`
 * has a map named after the plugin in use, every value is a map, and no key
 * is one of that plugin's own keys -- so a typo is still an unknown-key
 * error, and the other plugins need not be installed.
 */
static struct evpn_config_node *select_config(struct evpn_plugin_inst *pi,
					      struct evpn_config_node *cfg,
					      char *what, size_t whatlen,
					      const char *kindkey)
{
	struct evpn_config_node *sub = NULL;

	what[0] = '\0';
	if (cfg->type != EVPN_NODE_MAP || cfg->n == 0)
		return cfg;
	for (size_t i = 0; i < cfg->n; i++) {
		const struct evpn_config_key *k = pi->desc->schema;

		while (k && k->key && strcmp(k->key, cfg->keys[i]) != 0)
			k++;
		if ((k && k->key) || cfg->items[i]->type != EVPN_NODE_MAP)
			return cfg;
		if (strcmp(cfg->keys[i], pi->desc->name) == 0)
			sub = cfg->items[i];
	}
	if (!sub)
		return cfg;
	snprintf(what, whatlen, "plugins.%s.config.%s", kindkey,
		 pi->desc->name);
	return sub;
}

/* The host identity of the core's own services: logs as "users". */
static void init_core_identity(struct evpn_core *core)
{
	core->core_inst.core = core;
	snprintf(core->core_inst.origin, sizeof(core->core_inst.origin),
		 "core");
	snprintf(core->core_inst.name, sizeof(core->core_inst.name), "core");
	evpn_core_host_init(core, &core->core_inst);
	snprintf(core->core_inst.origin, sizeof(core->core_inst.origin),
		 "users");
}

/* Parse the file, validate the core's keys, set the log level. */
static int load_config(struct evpn_core *core, const char *config_path,
		       struct evpn_errors *errs)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	enum evpn_log_level lvl;

	core->cfg = evpn_config_load(config_path, NULL, errs);
	if (!core->cfg)
		return EVPN_ERR_CONFIG;
	if (evpn_config_validate(core->cfg->root, evpn_core_schema, "config",
				 errs))
		return EVPN_ERR_CONFIG;
	if (!evpn_log_parse_level(
		    c->get_str(core->cfg->root, "log_level", "info"), &lvl)) {
		evpn_errors_add(errs, c->get(core->cfg->root, "log_level"),
				"log_level must be debug, info, warn or error");
		return EVPN_ERR_CONFIG;
	}
	evpn_log_set_level(lvl);
	return EVPN_OK;
}

/* plugin_dir, resolved: logs and errors read better without "etc/../". */
static int resolve_plugin_dir(struct evpn_core *core)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	const char *pd = c->get_path(core->cfg->root, "plugin_dir",
				     EVPN_DEFAULT_PLUGIN_DIR);
	char real[PATH_MAX];

	core->plugin_dir = strdup(realpath(pd, real) ? real : pd);
	return core->plugin_dir ? EVPN_OK : EVPN_ERR_NOMEM;
}

/* dlopen the plugin `use` names for `kind`; a failure is a config error. */
static struct evpn_plugin_inst *open_plugin(struct evpn_core *core,
					    enum evpn_kind kind,
					    const struct evpn_config_node *ent,
					    struct evpn_errors *errs, int *rc)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	const char *use = c->get_str(ent, "use", "");
	struct evpn_plugin_inst *pi = calloc(1, sizeof(*pi));
	char *path, err[1024];

	*rc = EVPN_ERR_NOMEM;
	if (!pi)
		return NULL;
	pi->kind = kind;
	pi->at = c->get(ent, "use");
	snprintf(pi->name, sizeof(pi->name), "%s", use);
	snprintf(pi->origin, sizeof(pi->origin), "%s/%s", evpn_kind_name(kind),
		 use);
	evpn_core_host_init(core, pi);
	path = evpn_loader_path(core->plugin_dir, kind, use);
	if (!path)
		goto fail;
	*rc = EVPN_OK;
	if (evpn_loader_open(path, pi, kind, err, sizeof(err)) != EVPN_OK) {
		evpn_errors_add(errs, pi->at,
				"plugin '%s' (%s) cannot be used: %s", use,
				evpn_kind_name(kind), err);
		goto fail;
	}
	free(path);
	/* The descriptor's own name wins over a path in `use`. */
	snprintf(pi->name, sizeof(pi->name), "%s", pi->desc->name);
	snprintf(pi->origin, sizeof(pi->origin), "%s/%s", evpn_kind_name(kind),
		 pi->desc->name);
	return pi;
fail:
	free(path);
	free(pi);
	return NULL;
}

/* The plugin's `config:` (an absent one is empty: validated all the same,
 * so defaults are filled and required keys reported). */
static int plugin_config(struct evpn_plugin_inst *pi,
			 struct evpn_config_node *ent, const char *kindkey,
			 struct evpn_errors *errs)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	char what[80];

	pi->config = (struct evpn_config_node *)c->get(ent, "config");
	if (!pi->config) {
		struct evpn_config_node *m = calloc(1, sizeof(*m));

		if (!m)
			return EVPN_ERR_NOMEM;
		m->type = EVPN_NODE_MAP;
		m->file = ent->file;
		m->line = ent->line;
		m->col = ent->col;
		if (evpn_config_map_append(ent, "config", m)) {
			free(m);
			return EVPN_ERR_NOMEM;
		}
		pi->config = m;
	}
	pi->config = select_config(pi, pi->config, what, sizeof(what), kindkey);
	if (!pi->config)
		return EVPN_ERR_NOMEM;
	if (!what[0])
		snprintf(what, sizeof(what), "plugins.%s.config", kindkey);
	evpn_config_validate(pi->config, pi->desc->schema, what, errs);
	return EVPN_OK;
}

/* One `plugins:` entry: check it, and load its plugin when `kinds` wants
 * it. Config errors go to errs; the return is for running out of memory. */
static int load_entry(struct evpn_core *core, struct evpn_config_node *plugins,
		      size_t i, uint32_t kinds, struct evpn_errors *errs)
{
	struct evpn_config_node *ent = plugins->items[i];
	const char *key = plugins->keys[i];
	enum evpn_kind kind = kind_from_name(key);
	struct evpn_plugin_inst *pi;
	char what[80];
	int rc;

	if (kind == EVPN_KIND_NONE) {
		evpn_errors_add(errs, ent,
				"plugins: unknown kind '%s' (allowed: "
				"transport, egress, store, api, auth)",
				key);
		return EVPN_OK;
	}
	snprintf(what, sizeof(what), "plugins.%s", key);
	if (evpn_config_validate(ent, plugin_entry_schema, what, errs) ||
	    !(kinds & EVPN_KIND_BIT(kind)))
		return EVPN_OK;
	pi = open_plugin(core, kind, ent, errs, &rc);
	if (!pi)
		return rc;
	core->plugins[kind] = pi;
	return plugin_config(pi, ent, key, errs);
}

/* Every configured kind has the kinds it needs configured too (whether
 * or not this command loads them: `evpnd keygen` refuses an api without
 * auth just as `evpnd run` does). */
static void check_needs(struct evpn_core *core,
			const struct evpn_config_node *plugins,
			struct evpn_errors *errs)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;

	for (int k = 1; k < EVPN_KIND__COUNT; k++) {
		const char *name = evpn_kind_name((enum evpn_kind)k);
		const struct evpn_config_node *ent = c->get(plugins, name);
		uint32_t needs =
			evpn_daemon_kind_needs(core, (enum evpn_kind)k);

		if (!ent)
			continue;
		for (int r = 1; r < EVPN_KIND__COUNT; r++) {
			const char *rn = evpn_kind_name((enum evpn_kind)r);

			if (!(needs & EVPN_KIND_BIT(r)) || c->get(plugins, rn))
				continue;
			evpn_errors_add(
				errs,
				core->plugins[k] ? core->plugins[k]->at : ent,
				"plugins: '%s' requires %s '%s' entry", name,
				strchr("aeiou", rn[0]) ? "an" : "a", rn);
		}
	}
}

int evpn_daemon_load(struct evpn_core *core, const char *config_path,
		     uint32_t kinds, struct evpn_errors *errs)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	struct evpn_config_node *plugins;
	int r;

	init_core_identity(core);
	r = load_config(core, config_path, errs);
	if (r != EVPN_OK)
		return r;
	if (load_network(core, errs) || load_users(core, errs))
		return EVPN_ERR_CONFIG;
	r = resolve_plugin_dir(core);
	if (r != EVPN_OK)
		return r;
	plugins = (struct evpn_config_node *)c->get(core->cfg->root, "plugins");
	if (!plugins || c->type(plugins) != EVPN_NODE_MAP) {
		evpn_errors_add(errs, plugins ? plugins : core->cfg->root,
				"'plugins' must be a map with at least a "
				"'store' entry");
		return EVPN_ERR_CONFIG;
	}
	for (size_t i = 0; i < plugins->n; i++)
		if ((r = load_entry(core, plugins, i, kinds, errs)) != EVPN_OK)
			return r;
	if (errs->n)
		return EVPN_ERR_CONFIG;
	if (!c->get(plugins, "store")) {
		evpn_errors_add(errs, plugins,
				"plugins: a 'store' entry is required");
		return EVPN_ERR_CONFIG;
	}
	check_needs(core, plugins, errs);
	return errs->n ? EVPN_ERR_CONFIG : EVPN_OK;
}
