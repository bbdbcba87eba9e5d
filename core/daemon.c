/* SPDX-License-Identifier: MIT */
/*
 * Putting a daemon together once its configuration is loaded
 * (daemon_load.c): create, wiring, dependency-ordered start and reverse
 * stop. A failure at any step unwinds all of it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evpn/egress.h>
#include <evpn/store.h>
#include <evpn/transport.h>

#include "daemon.h"
#include "log.h"
#include "users/users_service.h"

/*
 * The kinds that must be configured wherever kind k is: what its plugin's
 * descriptor requires, and the core's own rule that the management API is
 * never served without authentication, whatever the API plugin declares.
 * This is the one place that rule is stated; the config check
 * (daemon_load.c) and the start order both ask here.
 */
uint32_t evpn_daemon_kind_needs(const struct evpn_core *core, enum evpn_kind k)
{
	const struct evpn_plugin_inst *pi = core->plugins[k];
	uint32_t needs = pi ? pi->desc->requires : 0;

	if (k == EVPN_KIND_API)
		needs |= EVPN_KIND_BIT(EVPN_KIND_AUTH);
	return needs;
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
			deps = evpn_daemon_kind_needs(core, k) |
			       pi->desc->wants;
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
		.quota_persist_interval =
			c->get_duration(uc, "quota_persist_interval", 30),
		.audit_retention =
			c->get_duration(uc, "audit_retention", 90.0 * 86400),
		.rate_limit = core->rate_limit,
	};
	char pub[EVPN_KEY_B64_SIZE];
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
