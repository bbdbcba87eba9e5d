/* SPDX-License-Identifier: MIT */
/*
 * Several evpnd instances may share one store (scale-out behind a UDP load
 * balancer). Every user write here also overwrites a change marker,
 * `meta/generation`, with a fresh random value; every instance reads that
 * one key each sync_interval and reloads its users when the value is not the
 * one it last wrote or saw. One small read per interval instead of a full
 * listing, and a change made anywhere is live everywhere within about one
 * interval. A random value (not a counter) needs no read-modify-write, so
 * concurrent writers cannot lose an update: any change of value triggers a
 * reload, which reads the whole current state.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "users_int.h"

#define GENERATION_KEY "meta/generation"

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void users_bump_generation(struct evpn_users *u)
{
	unsigned char raw[16];
	char gen[33];
	int r;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(gen, sizeof(gen), raw, sizeof(raw));
	r = u->st->put(u->sts, GENERATION_KEY, gen, strlen(gen), 0);
	if (r != EVPN_OK) {
		/* The change itself is stored; other instances see it at their
		 * next reload. */
		evpn_warn(u->host, "cannot update the change marker: %s",
			  evpn_strerror(r));
		return;
	}
	pthread_mutex_lock(&u->mu);
	snprintf(u->gen_seen, sizeof(u->gen_seen), "%s", gen);
	pthread_mutex_unlock(&u->mu);
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
		evpn_info(u->host,
			  "the store changed elsewhere: reloading users");
		if (evpn_users_load(u) != EVPN_OK)
			evpn_warn(u->host, "reload failed; trying again in %gs",
				  u->opts.sync_interval);
	}
}
