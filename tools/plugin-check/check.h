/* SPDX-License-Identifier: MIT */
/*
 * evpn-plugin-check: load one plugin through the core's loader, hand it the
 * core's host services, and run its kind's contract. One line per check,
 * then a summary; the exit status is non-zero on any failure.
 */
#ifndef EVPN_CHECK_H
#define EVPN_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include <evpn/host.h>
#include <evpn/plugin.h>

#include "config_impl.h"
#include "core.h"
#include "memstore.h"

struct ck {
	enum evpn_kind kind;
	const char *so_path;
	const char *config_path; /* NULL: an empty `config:` */
	/* egress: a config under which it may reach the servers, and their
	 * address (NULL: 127.0.0.1) */
	const char *reach_config;
	const char *reach_address;
	const char *admin_token; /* auth: NULL: the users service's master */
	bool admin_only;	 /* auth: the plugin knows no user tokens */
	bool no_throttle;	 /* auth: the plugin does not throttle */

	struct evpn_core core;
	struct evpn_plugin_inst pi; /* the plugin under test */
	struct evpn_config *cfg;    /* its config (validated) */
	struct evpn_config *reach_cfg;

	/* The checker's own store and auth, for the users service and for
	 * plugins that look them up (api wants store, requires auth). */
	struct ck_memstore *ms;
	struct evpn_plugin_inst store_inst, auth_inst;
	char master[65];

	unsigned passed, failed, skipped;
	const char *prefix; /* "store", "auth", ... */
};

/* ---- report (report.c) ---- */
/* Records and prints one check; returns cond. */
bool ck_ok(struct ck *c, bool cond, const char *fmt, ...) EVPN_PRINTF(3, 4);
void ck_skip(struct ck *c, const char *fmt, ...) EVPN_PRINTF(2, 3);
/* "ok" iff rc == want, else the line says what came back. */
bool ck_rc(struct ck *c, int rc, int want, const char *fmt, ...)
	EVPN_PRINTF(4, 5);

/* ---- the plugin's log lines (logcap.c) ---- */
/* From here on stderr is captured and the core logs at debug level. */
void ck_logcap_start(void);
/* A string that must never appear in a log line (copied; wiped later). */
void ck_secret(const char *s);
/* The "no secret logged" check; replays lines at `show` and above. */
void ck_logcap_finish(struct ck *c, enum evpn_log_level show);

/* ---- harness (harness.c) ---- */
int ck_setup(struct ck *c);
void ck_teardown(struct ck *c);
/* create with cfg (NULL: the main config); *self on success. */
int ck_create(struct ck *c, struct evpn_config *cfg, void **self);
int ck_start(struct ck *c, void *self);
void ck_stop(struct ck *c, void *self);
void ck_destroy(struct ck *c, void *self);
/* Runs the event loop for up to `secs` or until done(arg) is true. */
bool ck_run_until(struct ck *c, double secs, bool (*done)(void *), void *arg);
/* Users service with the checker's memory store (auth, api). */
int ck_users_up(struct ck *c);
/* The descriptor's fields, and every function pointer of the vtable (after
 * its size field): the first nreq must be there, the rest may be cut off
 * by an older, smaller vtable, but are never NULL when inside it. */
void ck_vtable_entries(struct ck *c, const char *const *names, size_t n,
		       size_t nreq);

/* ---- the contracts ---- */
void ck_store(struct ck *c);
void ck_auth(struct ck *c);
void ck_egress(struct ck *c);
void ck_transport(struct ck *c);
void ck_api(struct ck *c);
/* create/start/stop/destroy twice, stop without start, stop twice. */
void ck_lifecycle(struct ck *c);

#endif
