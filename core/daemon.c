/* SPDX-License-Identifier: MIT */
/*
 * Putting a daemon together: the core's config section, plugin loading and
 * validation, create, wiring, dependency-ordered start and reverse stop.
 * Bad configuration never half-starts: everything is loaded and validated
 * before anything is created, and a failure at any step unwinds all of it.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include <evpn/egress.h>
#include <evpn/store.h>
#include <evpn/transport.h>

#include "daemon.h"
#include "log.h"
#include "pool.h"
#include "users/users_service.h"

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

int evpn_daemon_load(struct evpn_core *core, const char *config_path,
		     uint32_t kinds, struct evpn_errors *errs)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	struct evpn_config_node *plugins;
	enum evpn_log_level lvl;
	char err[1024];

	core->core_inst.core = core;
	snprintf(core->core_inst.origin, sizeof(core->core_inst.origin),
		 "core");
	snprintf(core->core_inst.name, sizeof(core->core_inst.name), "core");
	evpn_core_host_init(core, &core->core_inst);
	snprintf(core->core_inst.origin, sizeof(core->core_inst.origin),
		 "users");

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
	if (load_network(core, errs))
		return EVPN_ERR_CONFIG;
	{
		const char *pd = c->get_path(core->cfg->root, "plugin_dir",
					     EVPN_DEFAULT_PLUGIN_DIR);
		char real[PATH_MAX];

		/* logs and errors read better without "etc/../" */
		core->plugin_dir = strdup(realpath(pd, real) ? real : pd);
	}
	if (!core->plugin_dir)
		return EVPN_ERR_NOMEM;

	plugins = (struct evpn_config_node *)c->get(core->cfg->root, "plugins");
	if (!plugins || c->type(plugins) != EVPN_NODE_MAP) {
		evpn_errors_add(errs, plugins ? plugins : core->cfg->root,
				"'plugins' must be a map with at least a "
				"'store' entry");
		return EVPN_ERR_CONFIG;
	}
	for (size_t i = 0; i < plugins->n; i++) {
		struct evpn_config_node *ent = plugins->items[i];
		enum evpn_kind kind = kind_from_name(plugins->keys[i]);
		struct evpn_plugin_inst *pi;
		const char *use;
		char *path, what[80];

		if (kind == EVPN_KIND_NONE) {
			evpn_errors_add(errs, ent,
					"plugins: unknown kind '%s' (allowed: "
					"transport, egress, store, api, auth)",
					plugins->keys[i]);
			continue;
		}
		snprintf(what, sizeof(what), "plugins.%s", plugins->keys[i]);
		if (evpn_config_validate(ent, plugin_entry_schema, what, errs))
			continue;
		if (!(kinds & EVPN_KIND_BIT(kind)))
			continue;
		use = c->get_str(ent, "use", "");
		pi = calloc(1, sizeof(*pi));
		if (!pi)
			return EVPN_ERR_NOMEM;
		core->plugins[kind] = pi;
		pi->kind = kind;
		pi->at = c->get(ent, "use");
		snprintf(pi->name, sizeof(pi->name), "%s", use);
		snprintf(pi->origin, sizeof(pi->origin), "%s/%s",
			 evpn_kind_name(kind), use);
		evpn_core_host_init(core, pi);
		path = evpn_loader_path(core->plugin_dir, kind, use);
		if (!path)
			return EVPN_ERR_NOMEM;
		if (evpn_loader_open(path, pi, kind, err, sizeof(err)) !=
		    EVPN_OK) {
			evpn_errors_add(errs, pi->at,
					"plugin '%s' (%s) cannot be used: %s",
					use, evpn_kind_name(kind), err);
			free(path);
			free(pi);
			core->plugins[kind] = NULL;
			continue;
		}
		free(path);
		/* The descriptor's own name wins over a path in `use`. */
		snprintf(pi->name, sizeof(pi->name), "%s", pi->desc->name);
		snprintf(pi->origin, sizeof(pi->origin), "%s/%s",
			 evpn_kind_name(kind), pi->desc->name);
		pi->config = (struct evpn_config_node *)c->get(ent, "config");
		if (!pi->config) {
			/* An absent `config:` is an empty one: validate it so
			 * defaults are filled and required keys reported. */
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
		pi->config = select_config(pi, pi->config, what, sizeof(what),
					   plugins->keys[i]);
		if (!pi->config)
			return EVPN_ERR_NOMEM;
		if (!what[0])
			snprintf(what, sizeof(what), "plugins.%s.config",
				 plugins->keys[i]);
		evpn_config_validate(pi->config, pi->desc->schema, what, errs);
	}
	if (errs->n)
		return EVPN_ERR_CONFIG;
	if (!c->get(plugins, "store")) {
		evpn_errors_add(errs, plugins,
				"plugins: a 'store' entry is required");
		return EVPN_ERR_CONFIG;
	}
	/* Requirements between kinds. */
	for (int k = 1; k < EVPN_KIND__COUNT; k++) {
		struct evpn_plugin_inst *pi = core->plugins[k];

		if (!pi)
			continue;
		for (int r = 1; r < EVPN_KIND__COUNT; r++)
			if ((pi->desc->requires & EVPN_KIND_BIT(r)) &&
			    !c->get(plugins, evpn_kind_name((enum evpn_kind)r)))
				evpn_errors_add(
					errs, pi->at,
					"plugin '%s' (%s) requires a %s "
					"plugin, "
					"and none is configured",
					pi->name, evpn_kind_name(pi->kind),
					evpn_kind_name((enum evpn_kind)r));
	}
	if (c->get(plugins, "api") && !c->get(plugins, "auth"))
		evpn_errors_add(errs, c->get(plugins, "api"),
				"plugins: 'api' requires an 'auth' entry");
	return errs->n ? EVPN_ERR_CONFIG : EVPN_OK;
}

/* Dependency order: store first (the users service needs it), then a
 * topological order over requires/wants with a stable preference. */
static int start_order(struct evpn_core *core, enum evpn_kind order[],
		       size_t *n)
{
	static const enum evpn_kind pref[] = {EVPN_KIND_STORE, EVPN_KIND_EGRESS,
					      EVPN_KIND_TRANSPORT,
					      EVPN_KIND_AUTH, EVPN_KIND_API};
	uint32_t placed = 0;

	*n = 0;
	for (size_t round = 0; round < 5; round++) {
		for (size_t i = 0; i < 5; i++) {
			enum evpn_kind k = pref[i];
			struct evpn_plugin_inst *pi = core->plugins[k];
			uint32_t deps;

			if (!pi || (placed & EVPN_KIND_BIT(k)))
				continue;
			deps = pi->desc->requires | pi->desc->wants;
			/* only configured kinds count */
			for (int d = 1; d < EVPN_KIND__COUNT; d++)
				if (!core->plugins[d])
					deps &= ~EVPN_KIND_BIT(d);
			if ((deps & ~placed & ~EVPN_KIND_BIT(k)) == 0) {
				order[(*n)++] = k;
				placed |= EVPN_KIND_BIT(k);
			}
		}
	}
	for (int k = 1; k < EVPN_KIND__COUNT; k++)
		if (core->plugins[k] && !(placed & EVPN_KIND_BIT(k))) {
			core_error("plugins have a dependency cycle around "
				   "'%s'",
				   core->plugins[k]->name);
			return EVPN_ERR_CONFIG;
		}
	return EVPN_OK;
}

int evpn_daemon_create(struct evpn_core *core)
{
	enum evpn_kind order[EVPN_KIND__COUNT];
	struct evpn_plugin_inst *t, *e;
	size_t n;
	int r;

	r = start_order(core, order, &n);
	if (r)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct evpn_plugin_inst *pi = core->plugins[order[i]];

		r = pi->desc->create(&pi->host, pi->config, &pi->self);
		if (r != EVPN_OK) {
			core_error("plugin '%s' (%s, %s) failed to initialise: "
				   "%s",
				   pi->name, evpn_kind_name(pi->kind), pi->path,
				   evpn_strerror(r));
			return r;
		}
		pi->created = true;
		core_debug("created %s plugin '%s' %s (%s)",
			   evpn_kind_name(pi->kind), pi->name,
			   pi->desc->version ? pi->desc->version : "",
			   pi->path);
	}
	/* Wire the data plane: transport <-> egress. */
	t = core->plugins[EVPN_KIND_TRANSPORT];
	e = core->plugins[EVPN_KIND_EGRESS];
	if (t && e) {
		const struct evpn_transport_ops *to = t->desc->vtable;
		const struct evpn_egress_ops *eo = e->desc->vtable;
		struct evpn_sink to_egress = {.self = e->self,
					      .deliver = eo->send};
		struct evpn_sink to_transport = {.self = t->self,
						 .deliver = to->send};

		r = to->attach(t->self, &to_egress);
		if (r == EVPN_OK)
			r = eo->attach(e->self, &to_transport);
		if (r != EVPN_OK) {
			core_error("cannot connect transport '%s' to egress "
				   "'%s': %s",
				   t->name, e->name, evpn_strerror(r));
			return r;
		}
	} else if (t) {
		core_warn("no egress plugin configured: decrypted packets "
			  "are dropped");
	}
	return EVPN_OK;
}

static int start_users(struct evpn_core *core, bool create_keys)
{
	const struct evpn_config_ops *c = &evpn_config_ops_impl;
	struct evpn_plugin_inst *st = core->plugins[EVPN_KIND_STORE];
	const struct evpn_config_node *uc = c->get(core->cfg->root, "users");
	struct evpn_users_opts opts = {
		.master_key = c->get_str(core->cfg->root, "master_key", ""),
		.partial_grace = c->get_duration(uc, "partial_grace", 30),
		.sync_interval = c->get_duration(uc, "sync_interval", 5),
		.reconcile_interval =
			c->get_duration(uc, "reconcile_interval", 3600),
	};
	char pub[45];
	bool created;
	int r;

	core->users = evpn_users_new(&core->core_inst.host, st->desc->vtable,
				     st->self, &opts);
	if (!core->users)
		return EVPN_ERR_NOMEM;
	r = evpn_users_server_key(core->users, create_keys, false, NULL, pub,
				  &created);
	if (r == EVPN_ERR_NOTFOUND) {
		core_error("the store has no server key pair: run `evpnd "
			   "keygen` first");
		return r;
	}
	if (r != EVPN_OK) {
		core_error("cannot read the server key pair from the store: "
			   "%s",
			   evpn_strerror(r));
		return r;
	}
	if (created)
		core_info("created the server key pair in the store (public "
			  "key %s)",
			  pub);
	else
		core_info("server public key %s", pub);
	r = evpn_users_master_key(core->users, NULL, 0, &created);
	if (r != EVPN_OK) {
		core_error("cannot read the master API key from the store: %s",
			   evpn_strerror(r));
		return r;
	}
	if (created)
		core_info("created the master API key in the store (read it "
			  "with `evpnd master-key`)");
	r = evpn_users_load_quick(core->users);
	if (r != EVPN_OK)
		return r;
	return evpn_users_start(core->users);
}

int evpn_daemon_start(struct evpn_core *core, bool create_keys)
{
	enum evpn_kind order[EVPN_KIND__COUNT];
	size_t n;
	int r;

	r = start_order(core, order, &n);
	if (r)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct evpn_plugin_inst *pi = core->plugins[order[i]];

		if (pi->kind == EVPN_KIND_TRANSPORT && core->users) {
			r = evpn_users_attach_transport(core->users);
			if (r != EVPN_OK) {
				core_error("cannot load peers into the "
					   "transport: %s",
					   evpn_strerror(r));
				return r;
			}
		}
		if (pi->desc->start) {
			r = pi->desc->start(pi->self);
			if (r != EVPN_OK) {
				core_error("plugin '%s' (%s) failed to start: "
					   "%s",
					   pi->name, evpn_kind_name(pi->kind),
					   evpn_strerror(r));
				return r;
			}
		}
		pi->started = true;
		core_info("started %s '%s'", evpn_kind_name(pi->kind),
			  pi->name);
		if (pi->kind == EVPN_KIND_STORE && !core->users &&
		    !core->no_users) {
			r = start_users(core, create_keys);
			if (r != EVPN_OK)
				return r;
		}
	}
	return EVPN_OK;
}

void evpn_daemon_teardown(struct evpn_core *core)
{
	enum evpn_kind order[EVPN_KIND__COUNT];
	size_t n = 0;

	if (start_order(core, order, &n) != EVPN_OK) {
		n = 0;
		for (int k = 1; k < EVPN_KIND__COUNT; k++)
			if (core->plugins[k])
				order[n++] = (enum evpn_kind)k;
	}
	/* Stop in reverse; the users service stops with the store. */
	for (size_t i = n; i-- > 0;) {
		struct evpn_plugin_inst *pi = core->plugins[order[i]];

		if (pi->kind == EVPN_KIND_STORE && core->users)
			evpn_users_stop(core->users);
		if (pi->started && pi->desc->stop)
			pi->desc->stop(pi->self);
		pi->started = false;
	}
	if (core->users)
		evpn_users_stop(core->users);
	evpn_core_loop_close(core);
	for (size_t i = n; i-- > 0;) {
		struct evpn_plugin_inst *pi = core->plugins[order[i]];

		if (pi->created)
			pi->desc->destroy(pi->self);
		pi->created = false;
	}
	evpn_users_free(core->users);
	core->users = NULL;
	for (int k = 1; k < EVPN_KIND__COUNT; k++) {
		struct evpn_plugin_inst *pi = core->plugins[k];

		if (!pi)
			continue;
		evpn_loader_close(pi);
		free(pi);
		core->plugins[k] = NULL;
	}
	free(core->dns);
	core->dns = NULL;
	free(core->plugin_dir);
	core->plugin_dir = NULL;
	evpn_config_free(core->cfg);
	core->cfg = NULL;
}
