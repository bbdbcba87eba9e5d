/* SPDX-License-Identifier: MIT */
/*
 * Several evpnd instances may share one store (scale-out behind a UDP load
 * balancer). Every user write here also overwrites a change marker,
 * `meta/generation`, with a fresh random value; every instance reads that
 * one key each sync_interval and reloads its users when the value is not the
 * one it last wrote or saw. One small read per interval instead of a full
 * listing, and a change made anywhere is live everywhere within about one
 * interval. Every writer stores its data before the marker, and a load
 * records the marker it read before listing; so any write a load may have
 * missed is followed by a marker value the load did not record. A random
 * value needs no read-modify-write.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "users_int.h"

#define GENERATION_KEY "meta/generation"
/* seconds between two marker writes of one instance */
#define GENERATION_SPACING 0.05

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Write a fresh marker now (maintenance thread, or callers without one). */
void users_write_generation(struct evpn_users *u)
{
	unsigned char raw[16];
	char gen[33];
	int r;

	/* Our own write is deliberately not marked as seen: if another
	 * instance wrote just before us, our value hides theirs, and only the
	 * reload our own change triggers at the next tick picks theirs up. */
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(gen, sizeof(gen), raw, sizeof(raw));
	r = u->st->put(u->sts, GENERATION_KEY, gen, strlen(gen), 0);
	if (r != EVPN_OK)
		/* The change itself is stored; other instances see it at
		 * their next full load. */
		evpn_warn(u->host, "cannot update the change marker: %s",
			  evpn_strerror(r));
}

/*
 * A change was stored. With the maintenance thread running, the marker is
 * written by that thread, at most once per GENERATION_SPACING: a burst of
 * creates then costs one marker write, not one each. Writing the marker on
 * every change was a store put per create and, on ext4, a deleted inode per
 * create (the overwritten marker), which slows every later inode allocation
 * (nojournal ext4 skips recently deleted inodes one by one). The marker
 * still follows the data it announces, so the ordering argument above
 * holds; other instances see the change at most one spacing later.
 */
void users_bump_generation(struct evpn_users *u)
{
	/* this instance's GETs see the change at once (users_cache.c) */
	users_cache_invalidate(u);
	pthread_mutex_lock(&u->mu);
	if (u->thread_running && !u->thread_stop) {
		u->gen_dirty = true;
		pthread_cond_signal(&u->cond);
		pthread_mutex_unlock(&u->mu);
		return;
	}
	pthread_mutex_unlock(&u->mu);
	users_write_generation(u);
}

/* Maintenance thread, called with u->mu held: write a pending marker when
 * due; returns the seconds until it is due (0: nothing pending). */
double users_generation_tick_locked(struct evpn_users *u)
{
	double now;

	if (!u->gen_dirty)
		return 0;
	now = mono_now();
	if (now < u->gen_next_write)
		return u->gen_next_write - now;
	u->gen_dirty = false;
	u->gen_next_write = now + GENERATION_SPACING;
	pthread_mutex_unlock(&u->mu);
	users_write_generation(u);
	pthread_mutex_lock(&u->mu);
	return 0;
}

int users_read_generation(struct evpn_users *u, char out[65])
{
	char *v = NULL;
	size_t len;
	int r;

	out[0] = '\0';
	r = u->st->get(u->sts, GENERATION_KEY, &v, &len);
	if (r == EVPN_ERR_NOTFOUND)
		return EVPN_OK; /* no user written since the marker existed */
	if (r != EVPN_OK)
		return r;
	snprintf(out, 65, "%.*s", (int)len, v);
	u->st->free_value(u->sts, v, len);
	return EVPN_OK;
}

/* Maintenance thread: read the marker when due, reload on a change (the
 * load records the marker it started from). */
void users_sync_tick(struct evpn_users *u)
{
	char gen[65];
	bool changed;
	int r;

	if (u->opts.sync_interval <= 0 || mono_now() < u->next_sync)
		return;
	u->next_sync = mono_now() + u->opts.sync_interval;
	r = users_read_generation(u, gen);
	if (r != EVPN_OK) {
		evpn_debug(u->host, "cannot read the change marker: %s",
			   evpn_strerror(r));
		return;
	}
	pthread_mutex_lock(&u->mu);
	changed = strcmp(gen, u->gen_seen) != 0;
	pthread_mutex_unlock(&u->mu);
	if (changed) {
		/* also after our own writes (see users_bump_generation) */
		evpn_debug(u->host, "the change marker moved: reloading users");
		if (evpn_users_load_quick(u) != EVPN_OK)
			evpn_warn(u->host, "reload failed; trying again in %gs",
				  u->opts.sync_interval);
	}
}

/* Maintenance thread: a full load now and then repairs the index and
 * sweeps what crashes left behind (half-created users, orphan claims). */
void users_reconcile_tick(struct evpn_users *u)
{
	if (u->opts.reconcile_interval <= 0)
		return;
	if (u->next_reconcile == 0) {
		u->next_reconcile = mono_now() + u->opts.reconcile_interval;
		return;
	}
	if (mono_now() < u->next_reconcile)
		return;
	u->next_reconcile = mono_now() + u->opts.reconcile_interval;
	if (evpn_users_load(u) != EVPN_OK)
		evpn_warn(u->host, "periodic full load failed; keeping the "
				   "users already loaded");
}
