/* SPDX-License-Identifier: MIT */
/*
 * What GET /users/{id} shows besides the resident record: the split tunnel
 * (users/{id}/allowed-ips), the quota and the reason. They are not resident
 * (users_allowed.c), and reading them on every GET was three or four store
 * reads per request, a file each on the file store and a paid HTTPS call
 * each on SSM.
 *
 * Kept here per user, in a small table indexed by a hash of the id (a
 * collision just reads again), and used while
 *  - no local write of those records, no create, delete or status change
 *    and no load (start-up, sync, SIGHUP, reconcile) happened since it was
 *    read: each bumps `gen` after its store write, and an entry filled under
 *    an older gen is read again;
 *  - it is younger than users.sync_interval: a change made on another
 *    instance sharing the store (which moves no change marker for a split
 *    tunnel or a quota) shows here within one interval, as a created or
 *    deleted user does.
 * Usage grows with traffic on every instance and moves no marker: it is
 * never cached (users_quota.c reads it, and the reason with it, for users
 * with a quota).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "users_int.h"

#define USERS_CACHE_SLOTS 256
/* entry lifetime when shared-store sync is off (users.sync_interval: 0) */
#define USERS_CACHE_TTL_NOSYNC 5.0

struct users_cache_ent {
	char id[EVPN_CLIENT_ID_MAX + 1];
	uint64_t gen;
	double filled; /* monotonic, taken before the reads */
	struct users_extras x;
};

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t slot_of(const char *id)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 16777619u;
	return h % USERS_CACHE_SLOTS;
}

void users_cache_init(struct evpn_users *u)
{
	pthread_mutex_init(&u->cache.mu, NULL);
	u->cache.e = NULL;
	atomic_init(&u->cache.gen, 1);
}

void users_cache_free(struct evpn_users *u)
{
	free(u->cache.e);
	u->cache.e = NULL;
	pthread_mutex_destroy(&u->cache.mu);
}

void users_cache_invalidate(struct evpn_users *u)
{
	atomic_fetch_add(&u->cache.gen, 1);
}

static int read_extras(struct evpn_users *u, const char *id,
		       struct users_extras *x)
{
	int r = users_allowed_read(u, id, x->allowed);

	if (r == EVPN_OK)
		r = users_quota_read_limit(u, id, &x->quota);
	if (r == EVPN_OK)
		r = users_quota_reason(u, id, x->reason);
	return r;
}

int users_extras_get(struct evpn_users *u, const char *id,
		     struct users_extras *out)
{
	struct users_cache *c = &u->cache;
	/* before the reads: a write that lands during them bumps past it */
	uint64_t gen = atomic_load(&c->gen);
	double now = mono_now();
	double ttl = u->opts.sync_interval > 0 ? u->opts.sync_interval
					       : USERS_CACHE_TTL_NOSYNC;
	size_t slot = slot_of(id);
	struct users_cache_ent *e;
	bool hit;
	int r;

	pthread_mutex_lock(&c->mu);
	e = c->e ? &c->e[slot] : NULL;
	hit = e && e->gen == gen && strcmp(e->id, id) == 0 &&
	      now >= e->filled && now - e->filled < ttl;
	if (hit)
		*out = e->x;
	pthread_mutex_unlock(&c->mu);
	if (hit)
		return EVPN_OK;

	r = read_extras(u, id, out);
	if (r != EVPN_OK)
		return r;
	pthread_mutex_lock(&c->mu);
	if (!c->e)
		c->e = calloc(USERS_CACHE_SLOTS, sizeof(*c->e));
	if (c->e) { /* else: not kept, read again next time */
		e = &c->e[slot];
		snprintf(e->id, sizeof(e->id), "%s", id);
		e->gen = gen;
		e->filled = now;
		e->x = *out;
	}
	pthread_mutex_unlock(&c->mu);
	return EVPN_OK;
}
