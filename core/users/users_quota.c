/* SPDX-License-Identifier: MIT */
/*
 * Data quotas. A user with a quota has `users/{id}/quota` (bytes),
 * `users/{id}/usage` (rx + tx bytes counted so far, by every instance) and,
 * once the quota made it inactive, `users/{id}/reason` = "quota".
 * `quotas/{id}` lists the users with a quota, so the maintenance thread
 * finds them without listing every user.
 *
 * Counting: every second each instance reads the transport's counters of
 * its quota users and adds what they grew by to a pending count; it writes
 * the pending count into `usage` (read, add, write) every
 * users.quota_persist_interval, and at once when the quota looks reached.
 * Then it re-reads `usage`, and only if the stored total plus its pending
 * count reaches the quota does the user become inactive (the peer is
 * dropped at once; other instances follow through the change marker) with
 * reason "quota". The counters are per instance and start at 0 when a peer
 * is added, so a restart loses at most the traffic of one persist interval.
 * Two instances carrying one user's traffic in the same interval may,
 * rarely, overwrite each other's addition (read-add-write is not atomic on
 * the stores): the loss is bounded by one interval of one instance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "users_int.h"

#define QUOTA_TICK 1.0
#define QUOTA_REFRESH 10.0 /* re-list quotas/ this often */

struct quota_ent {
	char id[EVPN_CLIENT_ID_MAX + 1];
	uint64_t quota;
	uint64_t stored;  /* usage as last read or written */
	uint64_t pending; /* counted here, not yet written */
	uint64_t last;	  /* the transport's rx + tx at the last look */
	double next_persist;
	struct evpn_metric *m_used, *m_quota;
};

static bool parse_u64(const char *v, size_t len, uint64_t *out)
{
	char buf[32], *end;
	unsigned long long x;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, v, len);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] < '0' || buf[0] > '9')
		return false;
	x = strtoull(buf, &end, 10);
	if (*end)
		return false;
	*out = x;
	return true;
}

/* users/{id}/{leaf} as a number; 0 when absent. */
static int get_u64(struct evpn_users *u, const char *id, const char *leaf,
		   uint64_t *out)
{
	char key[160], *v = NULL;
	size_t len;
	int r;

	*out = 0;
	snprintf(key, sizeof(key), "users/%s/%s", id, leaf);
	r = u->st->get(u->sts, key, &v, &len);
	if (r == EVPN_ERR_NOTFOUND)
		return EVPN_OK;
	if (r != EVPN_OK)
		return EVPN_ERR_UNAVAILABLE;
	if (!parse_u64(v, len, out))
		*out = 0; /* unreadable: counted from 0 again */
	u->st->free_value(u->sts, v, len);
	return EVPN_OK;
}

int users_quota_read_limit(struct evpn_users *u, const char *id,
			   uint64_t *quota)
{
	return get_u64(u, id, "quota", quota);
}

static int put_u64(struct evpn_users *u, const char *id, const char *leaf,
		   uint64_t v)
{
	char val[32];

	snprintf(val, sizeof(val), "%llu", (unsigned long long)v);
	return users_put(u, id, leaf, val, 0);
}

static int del_key(struct evpn_users *u, const char *key)
{
	int r = u->st->del(u->sts, key);

	return r == EVPN_ERR_NOTFOUND ? EVPN_OK : r;
}

/* Set (quota > 0) or remove a user's quota records. */
int users_quota_write(struct evpn_users *u, const char *id, uint64_t quota)
{
	char key[160];
	int r;

	snprintf(key, sizeof(key), "quotas/%s", id);
	if (quota) {
		char val[32];

		snprintf(val, sizeof(val), "%llu", (unsigned long long)quota);
		r = put_u64(u, id, "quota", quota);
		if (r == EVPN_OK)
			r = u->st->put(u->sts, key, val, strlen(val), 0);
	} else {
		r = del_key(u, key);
		if (r == EVPN_OK) {
			snprintf(key, sizeof(key), "users/%s/quota", id);
			r = del_key(u, key);
		}
	}
	users_cache_invalidate(u);
	pthread_mutex_lock(&u->quota_mu);
	u->quota_refresh_at = 0; /* look again at the next tick */
	pthread_mutex_unlock(&u->quota_mu);
	return r;
}

int users_quota_reset(struct evpn_users *u, const char *id)
{
	int r;

	/* under quota_mu: no tick adds what it counted before the reset */
	pthread_mutex_lock(&u->quota_mu);
	for (size_t i = 0; i < u->nquota; i++)
		if (strcmp(u->quota[i].id, id) == 0) {
			u->quota[i].pending = 0;
			u->quota[i].stored = 0;
		}
	r = put_u64(u, id, "usage", 0);
	pthread_mutex_unlock(&u->quota_mu);
	users_cache_invalidate(u);
	return r;
}

int users_quota_reason(struct evpn_users *u, const char *id, char out[16])
{
	char key[160], *v = NULL;
	size_t len;
	int r;

	out[0] = '\0';
	snprintf(key, sizeof(key), "users/%s/reason", id);
	r = u->st->get(u->sts, key, &v, &len);
	if (r == EVPN_ERR_NOTFOUND)
		return EVPN_OK;
	if (r != EVPN_OK)
		return EVPN_ERR_UNAVAILABLE;
	snprintf(out, 16, "%.*s", (int)strcspn(v, "\r\n"), v);
	u->st->free_value(u->sts, v, len);
	return EVPN_OK;
}

int users_quota_clear_reason(struct evpn_users *u, const char *id)
{
	char key[160];
	int r;

	snprintf(key, sizeof(key), "users/%s/reason", id);
	r = del_key(u, key);
	users_cache_invalidate(u);
	return r;
}

int users_op_quota(void *self, const char *id, struct evpn_user_quota *out)
{
	struct evpn_users *u = self;
	struct users_extras x;
	uint64_t pending = 0;
	bool known;
	int r;

	if (!EVPN_HAS_FIELD(out, reason))
		return EVPN_ERR_INVAL;
	pthread_mutex_lock(&u->mu);
	known = users_find_locked(u, id) != NULL;
	pthread_mutex_unlock(&u->mu);
	pthread_mutex_lock(&u->quota_mu);
	for (size_t i = 0; i < u->nquota; i++)
		if (strcmp(u->quota[i].id, id) == 0)
			pending = u->quota[i].pending;
	pthread_mutex_unlock(&u->quota_mu);
	if (!known)
		return EVPN_ERR_NOTFOUND;
	/* the quota and reason as last read (users_cache.c) */
	r = users_extras_get(u, id, &x);
	if (r != EVPN_OK)
		return r;
	out->quota_bytes = x.quota;
	snprintf(out->reason, sizeof(out->reason), "%s", x.reason);
	out->used_bytes = 0;
	/* Usage grows on every instance without moving the change marker,
	 * and the quota sets and clears the reason: with a quota both are
	 * read each time. Without one, usage means nothing. */
	if (x.quota) {
		r = get_u64(u, id, "usage", &out->used_bytes);
		if (r == EVPN_OK)
			r = users_quota_reason(u, id, out->reason);
	}
	out->used_bytes += pending;
	return r;
}

/* ---------------------------------------------------- the maintenance */

struct listing {
	struct quota_ent *e;
	size_t n, cap;
	bool oom;
};

static int list_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct listing *l = arg;
	uint64_t q;

	if (strncmp(key, "quotas/", 7) != 0 || !evpn_valid_client_id(key + 7) ||
	    !parse_u64(value, len, &q) || q == 0)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct quota_ent *p = realloc(l->e, cap * sizeof(*p));

		if (!p) {
			l->oom = true;
			return 1;
		}
		l->e = p;
		l->cap = cap;
	}
	memset(&l->e[l->n], 0, sizeof(l->e[0]));
	snprintf(l->e[l->n].id, sizeof(l->e->id), "%s", key + 7);
	l->e[l->n].quota = q;
	l->n++;
	return 0;
}

static uint64_t counter_of(struct evpn_users *u, const char *id)
{
	struct evpn_peer_stats st;

	if (u->quota_stats(u, id, &st) != EVPN_OK)
		return UINT64_MAX;
	return st.rx_bytes + st.tx_bytes;
}

/* The table of quota users, from quotas/ (quota_mu held): counters of
 * users already known are kept. A user new to the table counts from its
 * counter now (its quota was just set), except in the first listing after
 * start, when the peers are new too and count from 0. */
static void refresh(struct evpn_users *u)
{
	struct listing l = {0};

	if (u->st->list(u->sts, "quotas/", list_cb, &l) != EVPN_OK || l.oom) {
		free(l.e);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct quota_ent *e = &l.e[i];
		bool found = false;
		char labels[96];

		/* the store's total: another instance's reset shows here */
		if (get_u64(u, e->id, "usage", &e->stored) != EVPN_OK)
			e->stored = 0;
		for (size_t j = 0; j < u->nquota && !found; j++) {
			struct quota_ent *o = &u->quota[j];

			if (strcmp(o->id, e->id) != 0)
				continue;
			found = true;
			e->pending = o->pending;
			e->last = o->last;
			e->next_persist = o->next_persist;
		}
		if (!found && u->quota_listed) {
			uint64_t c = counter_of(u, e->id);

			e->last = c == UINT64_MAX ? 0 : c;
		}
		snprintf(labels, sizeof(labels), "user=\"%s\"", e->id);
		e->m_used = u->host->metric(
			u->host, EVPN_METRIC_GAUGE, "evpn_user_used_bytes",
			"Bytes (rx + tx) a user with a quota has used", labels);
		e->m_quota = u->host->metric(u->host, EVPN_METRIC_GAUGE,
					     "evpn_user_quota_bytes",
					     "A user's data quota", labels);
	}
	free(u->quota);
	u->quota = l.e;
	u->nquota = l.n;
	u->quota_listed = true;
}

/* Add pending to the stored usage (read, add, write); the new total. */
static int persist(struct evpn_users *u, const char *id, uint64_t pending,
		   uint64_t *total)
{
	uint64_t stored;
	int r = get_u64(u, id, "usage", &stored);

	if (r != EVPN_OK)
		return r;
	*total = stored + pending;
	if (pending)
		r = put_u64(u, id, "usage", *total);
	return r;
}

static void reached(struct evpn_users *u, const char *id, uint64_t used,
		    uint64_t quota)
{
	struct evpn_users_error err = {0};
	char detail[96];
	int r;

	r = users_put(u, id, "reason", "quota", 0);
	if (r == EVPN_OK)
		r = users_set_status_internal(u, id, false, &err);
	if (r != EVPN_OK) {
		evpn_warn(u->host,
			  "user '%s' reached its quota but could not be "
			  "made inactive: %s",
			  id, evpn_strerror(r));
		return;
	}
	u->host->metric_add(u->m_quota_reached, 1);
	snprintf(detail, sizeof(detail), "used %llu of %llu bytes",
		 (unsigned long long)used, (unsigned long long)quota);
	evpn_info(u->host, "user '%s' reached its quota (%s): inactive", id,
		  detail);
	users_audit_system(u, "quota", id, detail);
}

/* One user (quota_mu held): count, and write or enforce when due. */
static void tick_one(struct evpn_users *u, struct quota_ent *e, double now)
{
	struct user_slot *s;
	bool active, enforce;
	uint64_t c, total;

	pthread_mutex_lock(&u->mu);
	s = users_find_locked(u, e->id);
	active = s && s->active;
	pthread_mutex_unlock(&u->mu);
	if (!s)
		return;
	c = counter_of(u, e->id);
	if (c == UINT64_MAX)
		return;
	/* a peer added again starts from 0 */
	e->pending += c >= e->last ? c - e->last : c;
	e->last = c;
	enforce = active && e->stored + e->pending >= e->quota;
	if ((enforce || (e->pending && now >= e->next_persist)) &&
	    persist(u, e->id, e->pending, &total) == EVPN_OK) {
		e->stored = total;
		e->pending = 0;
		e->next_persist = now + u->opts.quota_persist_interval;
		/* decided on the store's total, not on our copy */
		if (active && total >= e->quota)
			reached(u, e->id, total, e->quota);
	}
	u->host->metric_set(e->m_used, (int64_t)(e->stored + e->pending));
	u->host->metric_set(e->m_quota, (int64_t)e->quota);
}

void users_quota_tick(struct evpn_users *u, double now)
{
	pthread_mutex_lock(&u->quota_mu);
	if (now >= u->quota_next_tick) {
		u->quota_next_tick = now + QUOTA_TICK;
		if (now >= u->quota_refresh_at) {
			u->quota_refresh_at = now + QUOTA_REFRESH;
			refresh(u);
		}
		for (size_t i = 0; i < u->nquota; i++)
			tick_one(u, &u->quota[i], now);
	}
	pthread_mutex_unlock(&u->quota_mu);
}

/* Stopping: what was counted and not yet written is written. */
void users_quota_flush(struct evpn_users *u)
{
	pthread_mutex_lock(&u->quota_mu);
	for (size_t i = 0; i < u->nquota; i++) {
		uint64_t total;

		if (u->quota[i].pending &&
		    persist(u, u->quota[i].id, u->quota[i].pending, &total) ==
			    EVPN_OK)
			u->quota[i].pending = 0;
	}
	pthread_mutex_unlock(&u->quota_mu);
}

void users_quota_free(struct evpn_users *u)
{
	free(u->quota);
	u->quota = NULL;
	u->nquota = 0;
}
