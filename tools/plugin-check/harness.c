/* SPDX-License-Identifier: MIT */
/*
 * The host side: the core's loop and host services (core/host.c), the
 * core's loader (core/loader.c) and config validation, the users service
 * on the checker's memory store -- what evpnd gives a plugin, minus the
 * other plugins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <evpn/auth.h>
#include <evpn/store.h>

#include "check.h"
#include "log.h"
#include "users/users_service.h"

static char *ck_no_dns[1];

int ck_setup(struct ck *c)
{
	struct evpn_errors errs = {0};
	char err[1024];
	int rc;

	c->core.command = "run";
	if (evpn_core_loop_init(&c->core) != EVPN_OK) {
		ck_ok(c, false, "an event loop");
		return EVPN_ERR_INTERNAL;
	}
	c->core.net.size = sizeof(c->core.net);
	c->core.net.pool = "10.77.0.0/16";
	c->core.net.endpoint = "127.0.0.1:51820";
	c->core.net.dns = (const char *const *)ck_no_dns;
	c->core.net.mtu = 1420;
	c->core.net.server_address = "10.77.0.1";
	c->core.net.prefix_len = 16;
	c->core.core_inst.core = &c->core;
	evpn_core_host_init(&c->core, &c->core.core_inst);
	snprintf(c->core.core_inst.origin, sizeof(c->core.core_inst.origin),
		 "check");

	c->pi.kind = c->kind;
	snprintf(c->pi.name, sizeof(c->pi.name), "under-test");
	snprintf(c->pi.origin, sizeof(c->pi.origin), "%s/under-test",
		 evpn_kind_name(c->kind));
	evpn_core_host_init(&c->core, &c->pi);
	rc = evpn_loader_open(c->so_path, &c->pi, c->kind, err, sizeof(err));
	if (!ck_ok(c, rc == EVPN_OK, "loads through the core's loader%s%s",
		   rc ? ": " : "", rc ? err : ""))
		return rc;
	snprintf(c->pi.name, sizeof(c->pi.name), "%s", c->pi.desc->name);
	snprintf(c->pi.origin, sizeof(c->pi.origin), "%s/%s",
		 evpn_kind_name(c->kind), c->pi.desc->name);
	c->core.plugins[c->kind] = &c->pi;

	c->cfg = c->config_path
			 ? evpn_config_load(c->config_path, NULL, &errs)
			 : evpn_config_load("plugin-check.yaml", "{}", &errs);
	if (c->cfg && c->reach_config)
		c->reach_cfg = evpn_config_load(c->reach_config, NULL, &errs);
	if (!c->cfg && !errs.n)
		evpn_errors_addf(&errs, "%s: cannot be read", c->config_path);
	if (c->cfg && c->cfg->root->type != EVPN_NODE_MAP)
		evpn_errors_add(&errs, c->cfg->root,
				"the plugin's config must be a map (what goes "
				"under `config:`)");
	if (!errs.n)
		evpn_config_validate(c->cfg->root, c->pi.desc->schema, "config",
				     &errs);
	if (!errs.n && c->reach_cfg)
		evpn_config_validate(c->reach_cfg->root, c->pi.desc->schema,
				     "reach config", &errs);
	rc = errs.n ? EVPN_ERR_CONFIG : EVPN_OK;
	ck_ok(c, rc == EVPN_OK,
	      "config is valid against the plugin's schema%s%s",
	      errs.n ? ": " : "", errs.n ? errs.msg[0] : "");
	if (errs.n > 1)
		evpn_errors_print(&errs);
	evpn_errors_free(&errs);
	return rc;
}

int ck_create(struct ck *c, struct evpn_config *cfg, void **self)
{
	int rc;

	*self = NULL;
	rc = c->pi.desc->create(&c->pi.host, (cfg ? cfg : c->cfg)->root, self);
	if (rc == EVPN_OK) {
		c->pi.self = *self;
		c->pi.created = true;
	}
	return rc;
}

int ck_start(struct ck *c, void *self)
{
	int rc = c->pi.desc->start ? c->pi.desc->start(self) : EVPN_OK;

	c->pi.started = rc == EVPN_OK;
	return rc;
}

void ck_stop(struct ck *c, void *self)
{
	if (c->pi.desc->stop)
		c->pi.desc->stop(self);
	c->pi.started = false;
}

void ck_destroy(struct ck *c, void *self)
{
	c->pi.desc->destroy(self);
	c->pi.created = false;
	c->pi.self = NULL;
}

bool ck_run_until(struct ck *c, double secs, bool (*done)(void *), void *arg)
{
	struct timespec nap = {0, 1000000};
	double end = ev_time() + secs;

	for (;;) {
		ev_run(c->core.loop, EVRUN_NOWAIT);
		if (done && done(arg))
			return true;
		if (ev_time() >= end)
			return false;
		nanosleep(&nap, NULL);
	}
}

/* ---- the checker's stand-ins for the kinds around the plugin ---- */

static int ck_auth_authenticate(void *self, const char *authorization,
				const char *remote, struct evpn_principal *out,
				unsigned *retry_after)
{
	struct ck *c = self;
	char want[80];
	int rc = EVPN_ERR_PERM;

	memset(out, 0, sizeof(*out));
	snprintf(want, sizeof(want), "Bearer %s", c->master);
	if (authorization && strlen(authorization) == strlen(want) &&
	    sodium_memcmp(authorization, want, strlen(want)) == 0) {
		out->role = EVPN_ROLE_ADMIN;
		rc = EVPN_OK;
	}
	sodium_memzero(want, sizeof(want));
	return rc;
}

static const struct evpn_auth_ops ck_auth_ops = {
	.size = sizeof(ck_auth_ops),
	.authenticate = ck_auth_authenticate,
};

static int ck_nop_create(const struct evpn_host *h,
			 const struct evpn_config_node *n, void **self)
{
	return EVPN_ERR_UNSUPPORTED;
}

static void ck_nop_destroy(void *self)
{
}

static const struct evpn_plugin_desc ck_store_desc = {
	EVPN_PLUGIN_DESC_INIT,	   .name = "checker-memory",
	.kind = EVPN_KIND_STORE,   .create = ck_nop_create,
	.destroy = ck_nop_destroy, .vtable = &ck_memstore_ops,
};

static const struct evpn_plugin_desc ck_auth_desc = {
	EVPN_PLUGIN_DESC_INIT,	   .name = "checker-master-key",
	.kind = EVPN_KIND_AUTH,	   .create = ck_nop_create,
	.destroy = ck_nop_destroy, .vtable = &ck_auth_ops,
};

static void stand_in(struct ck *c, struct evpn_plugin_inst *pi,
		     const struct evpn_plugin_desc *d, void *self)
{
	pi->kind = d->kind;
	snprintf(pi->name, sizeof(pi->name), "%s", d->name);
	snprintf(pi->origin, sizeof(pi->origin), "%s/%s",
		 evpn_kind_name(d->kind), d->name);
	evpn_core_host_init(&c->core, pi);
	pi->desc = d;
	pi->self = self;
	pi->created = pi->started = true;
	if (!c->core.plugins[d->kind])
		c->core.plugins[d->kind] = pi;
}

int ck_users_up(struct ck *c)
{
	struct evpn_users_opts opts = {
		.partial_grace = 30,
		.sync_interval = 0,
		.reconcile_interval = 0,
	};
	char pub[45];
	bool created;
	int rc;

	c->ms = ck_memstore_new(NULL);
	if (!c->ms)
		return EVPN_ERR_NOMEM;
	stand_in(c, &c->store_inst, &ck_store_desc, c->ms);
	stand_in(c, &c->auth_inst, &ck_auth_desc, c);
	c->core.users = evpn_users_new(&c->core.core_inst.host,
				       &ck_memstore_ops, c->ms, &opts);
	if (!c->core.users)
		return EVPN_ERR_NOMEM;
	rc = evpn_users_server_key(c->core.users, true, false, NULL, pub,
				   &created);
	if (rc == EVPN_OK)
		rc = evpn_users_master_key(c->core.users, c->master,
					   sizeof(c->master), &created);
	if (rc == EVPN_OK)
		rc = evpn_users_load_quick(c->core.users);
	if (rc == EVPN_OK)
		rc = evpn_users_start(c->core.users);
	return rc;
}

void ck_teardown(struct ck *c)
{
	if (c->core.users)
		evpn_users_stop(c->core.users);
	evpn_core_loop_close(&c->core);
	evpn_users_free(c->core.users);
	c->core.users = NULL;
	if (c->pi.dl)
		evpn_loader_close(&c->pi);
	free(c->pi.path);
	c->pi.path = NULL;
	ck_memstore_free(c->ms);
	sodium_memzero(c->master, sizeof(c->master));
	evpn_config_free(c->cfg);
	evpn_config_free(c->reach_cfg);
}

void ck_vtable_entries(struct ck *c, const char *const *names, size_t n,
		       size_t nreq)
{
	const struct evpn_plugin_desc *d = c->pi.desc;
	uint32_t size = *(const uint32_t *)d->vtable;
	size_t off = sizeof(void *); /* every ops struct: uint32_t, then fns */

	ck_ok(c,
	      d->name && strspn(d->name, "abcdefghijklmnopqrstuvwxyz"
					 "0123456789-") == strlen(d->name),
	      "descriptor: name '%s' is [a-z0-9-]+", d->name);
	ck_ok(c, d->version && *d->version, "descriptor: version is set");
	ck_ok(c, d->description && *d->description,
	      "descriptor: description is set");
	ck_ok(c, !d->start == !d->stop,
	      "descriptor: start and stop come together");
	for (size_t i = 0; i < n; i++) {
		void (*fn)(void) = NULL;
		size_t at = off + i * sizeof(void *);

		if (at + sizeof(void *) > size && i >= nreq) {
			ck_skip(c,
				"vtable: optional %s absent (vtable is %u "
				"bytes)",
				names[i], size);
			continue;
		}
		if (at + sizeof(void *) > size) {
			ck_ok(c, false,
			      "vtable: %s present (vtable is %u bytes)",
			      names[i], size);
			continue;
		}
		memcpy(&fn, (const char *)d->vtable + at, sizeof(fn));
		ck_ok(c, fn != NULL, "vtable: %s present", names[i]);
	}
}
