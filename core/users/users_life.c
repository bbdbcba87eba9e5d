/* SPDX-License-Identifier: MIT */
/*
 * The users service's life: construction, the maintenance thread (ttl
 * expiry, store sync, reconcile, SIGHUP reloads) and teardown.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "users_int.h"

/* ------------------------------------------------------- maintenance */

static void expire_due(struct evpn_users *u)
{
	int64_t now = (int64_t)time(NULL);
	char due[16][EVPN_CLIENT_ID_MAX + 1];
	size_t n;

	do {
		n = 0;
		pthread_mutex_lock(&u->mu);
		for (size_t i = 0; i < u->n && n < 16; i++)
			if (u->recs[i].expires && u->recs[i].expires <= now)
				memcpy(due[n++], u->recs[i].client_id,
				       sizeof(due[0]));
		pthread_mutex_unlock(&u->mu);
		for (size_t i = 0; i < n; i++) {
			struct evpn_users_error err;

			if (users_remove_internal(u, due[i], " (ttl expired)",
						  &err) == EVPN_OK) {
				u->host->metric_add(u->m_expired, 1);
				users_audit_system(u, "expire", due[i],
						   "ttl reached");
			} else if (err.code != EVPN_ERR_NOTFOUND)
				return; /* store down: try next tick */
		}
	} while (n == 16);
}

static void *maint_main(void *arg)
{
	struct evpn_users *u = arg;

	pthread_mutex_lock(&u->mu);
	while (!u->thread_stop) {
		struct timespec dl;
		double wait = users_generation_tick_locked(u);
		bool reload;

		/* every second, or when a pending change marker is due */
		if (wait <= 0 || wait > 1)
			wait = 1;
		clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_nsec += (long)(wait * 1e9);
		dl.tv_sec += dl.tv_nsec / 1000000000L;
		dl.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&u->cond, &u->mu, &dl);
		if (u->thread_stop)
			break;
		if (users_generation_tick_locked(u) > 0 && !u->reload_requested)
			continue; /* woken by a change: wait until it is due */
		reload = u->reload_requested;
		u->reload_requested = false;
		pthread_mutex_unlock(&u->mu);
		users_sync_tick(u);
		users_reconcile_tick(u);
		if (reload && evpn_users_load(u) != EVPN_OK)
			evpn_warn(u->host, "reload failed; keeping the "
					   "users already loaded");
		expire_due(u);
		clock_gettime(CLOCK_MONOTONIC, &dl);
		users_audit_sweep(u, (double)dl.tv_sec + dl.tv_nsec / 1e9);
		users_links_sweep(u, (double)dl.tv_sec + dl.tv_nsec / 1e9);
		users_quota_tick(u, (double)dl.tv_sec + dl.tv_nsec / 1e9);
		pthread_mutex_lock(&u->mu);
	}
	pthread_mutex_unlock(&u->mu);
	return NULL;
}

int evpn_users_start(struct evpn_users *u)
{
	u->thread_stop = false;
	if (pthread_create(&u->thread, NULL, maint_main, u) != 0)
		return EVPN_ERR_NOMEM;
	u->thread_running = true;
	return EVPN_OK;
}

void evpn_users_stop(struct evpn_users *u)
{
	if (!u->thread_running)
		return;
	pthread_mutex_lock(&u->mu);
	u->thread_stop = true;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->mu);
	pthread_join(u->thread, NULL);
	pthread_mutex_lock(&u->mu);
	u->thread_running = false;
	pthread_mutex_unlock(&u->mu);
	users_quota_flush(u);
	/* a change stored just before the stop still gets its marker */
	if (u->gen_dirty) {
		u->gen_dirty = false;
		users_write_generation(u);
	}
}

void evpn_users_request_reload(struct evpn_users *u)
{
	pthread_mutex_lock(&u->mu);
	u->reload_requested = true;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->mu);
}

/* ---------------------------------------------------- construction */

static int quota_stats_transport(struct evpn_users *u, const char *id,
				 struct evpn_peer_stats *out)
{
	return users_op_peer_stats(u, id, out);
}

struct evpn_users *evpn_users_new(const struct evpn_host *host,
				  const struct evpn_store_ops *st, void *sts,
				  const struct evpn_users_opts *opts)
{
	struct evpn_users *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->host = host;
	u->st = st;
	u->sts = sts;
	u->opts = *opts;
	if (u->opts.partial_grace <= 0)
		u->opts.partial_grace = 30;
	if (u->opts.quota_persist_interval <= 0)
		u->opts.quota_persist_interval = 30;
	u->quota_stats = quota_stats_transport;
	if (u->opts.audit_retention <= 0)
		u->opts.audit_retention = 90.0 * 86400;
	if (u->opts.audit_retention < 86400 ||
	    u->opts.audit_retention > 3650.0 * 86400) {
		double d = u->opts.audit_retention < 86400 ? 86400
							   : 3650.0 * 86400;

		evpn_warn(host,
			  "users.audit_retention must be 1d-3650d; "
			  "using %.0fd",
			  d / 86400);
		u->opts.audit_retention = d;
	}
	if (opts->master_key && *opts->master_key) {
		u->master_key_opt = strdup(opts->master_key);
		if (!u->master_key_opt)
			goto fail;
	}
	u->opts.master_key = NULL;
	u->server_priv = sodium_malloc(EVPN_KEY_LEN);
	if (!u->server_priv)
		goto fail;
	if (evpn_pool_init(&u->pool, host->network->pool) != EVPN_OK ||
	    evpn_pool6_init(&u->pool6, host->network->pool6,
			    host->network->pool) != EVPN_OK)
		goto fail;
	pthread_mutex_init(&u->mu, NULL);
	pthread_mutex_init(&u->load_mu, NULL);
	pthread_mutex_init(&u->quota_mu, NULL);
	pthread_cond_init(&u->cond, NULL);
	users_cache_init(u);
	u->m_created =
		host->metric(host, EVPN_METRIC_COUNTER,
			     "evpn_users_created_total", "Users created", NULL);
	u->m_deleted = host->metric(host, EVPN_METRIC_COUNTER,
				    "evpn_users_deleted_total",
				    "Users deleted through the API", NULL);
	u->m_expired = host->metric(
		host, EVPN_METRIC_COUNTER, "evpn_users_expired_total",
		"Users deleted because their ttl ran out", NULL);
	u->m_users = host->metric(host, EVPN_METRIC_GAUGE, "evpn_users",
				  "Users loaded (peers served)", NULL);
	u->m_quota_reached = host->metric(
		host, EVPN_METRIC_COUNTER, "evpn_users_quota_reached_total",
		"Users made inactive because their data quota was used up",
		NULL);
	return u;
fail:
	if (u->master_key_opt) {
		sodium_memzero(u->master_key_opt, strlen(u->master_key_opt));
		free(u->master_key_opt);
	}
	sodium_free(u->server_priv);
	free(u);
	return NULL;
}

void evpn_users_free(struct evpn_users *u)
{
	if (!u)
		return;
	evpn_users_stop(u);
	if (u->master_key_opt) {
		sodium_memzero(u->master_key_opt, strlen(u->master_key_opt));
		free(u->master_key_opt);
	}
	sodium_free(u->server_priv);
	sodium_memzero(u->master_hash, sizeof(u->master_hash));
	free(u->recs);
	evpn_pool_free(&u->pool);
	users_touch_free(u);
	users_quota_free(u);
	users_cache_free(u);
	pthread_mutex_destroy(&u->quota_mu);
	pthread_mutex_destroy(&u->load_mu);
	pthread_mutex_destroy(&u->mu);
	pthread_cond_destroy(&u->cond);
	free(u);
}
