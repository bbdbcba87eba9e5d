/* SPDX-License-Identifier: MIT */
#ifndef EVPN_CORE_USERS_SERVICE_H
#define EVPN_CORE_USERS_SERVICE_H

#include <stdbool.h>

#include <evpn/host.h>
#include <evpn/store.h>
#include <evpn/transport.h>
#include <evpn/users.h>

struct evpn_users;

extern const struct evpn_users_ops evpn_users_ops_impl;

struct evpn_users_opts {
	const char *master_key; /* from config/env, or NULL: use the store */
	double partial_grace; /* seconds before a half-created user is swept */
	double sync_interval; /* poll of the shared change marker; 0: off */
	double reconcile_interval;     /* full load + index repair; 0: off */
	double audit_retention;	       /* seconds the audit log keeps entries */
	double quota_persist_interval; /* seconds between usage writes */
	uint64_t rate_limit;	       /* users.rate_limit, bits/s; 0: none */
};

/* host: the core's identity (logs, post, registry). */
struct evpn_users *evpn_users_new(const struct evpn_host *host,
				  const struct evpn_store_ops *st, void *sts,
				  const struct evpn_users_opts *opts);
void evpn_users_free(struct evpn_users *u);

/* Server key pair: load, or create when absent (force: replace).
 * pub_b64 receives the public key. */
int evpn_users_server_key(struct evpn_users *u, bool create, bool force,
			  const char *metadata_json,
			  char pub_b64[EVPN_KEY_B64_SIZE],
			  bool *created) EVPN_WUR;
/* Master API key: from opts, else the store, created when absent.
 * With out != NULL the key is copied there (for `evpnd master-key`). */
int evpn_users_master_key(struct evpn_users *u, char *out, size_t outlen,
			  bool *created) EVPN_WUR;
/* (Re)load every user from the store and sweep half-created ones. */
int evpn_users_load(struct evpn_users *u) EVPN_WUR;
/* The same from the compact index when it is complete (start-up, sync);
 * falls back to the full load. */
int evpn_users_load_quick(struct evpn_users *u) EVPN_WUR;
/* Loop thread: hand the server key and every user to the transport. */
int evpn_users_attach_transport(struct evpn_users *u) EVPN_WUR;
/* Background thread for expiry; stop before free. */
int evpn_users_start(struct evpn_users *u) EVPN_WUR;
void evpn_users_stop(struct evpn_users *u);
/* Ask the maintenance thread to reload from the store (SIGHUP). */
void evpn_users_request_reload(struct evpn_users *u);

#endif
