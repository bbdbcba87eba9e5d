/* SPDX-License-Identifier: MIT */
/*
 * Changes made through this instance while a load runs.
 *
 * A load (start-up, sync, SIGHUP, reconcile) lists the store and then
 * replaces the resident users with what it listed. Over SSM a listing takes
 * seconds, and creates, deletes and status changes through this instance's
 * API go on meanwhile: installing the listing as it was would drop a user
 * that was just created here (answered 201, then 404 and its peer removed
 * until the next reload) and bring back, peer included, a user that was
 * just deleted. So every change notes its client_id before its first store
 * write and after its last resident update; the ids changed while a load
 * ran keep their resident state (this instance's own, newer writes) over
 * the listing's, and the full load's index repair leaves them alone.
 * Changes by other instances need nothing of this: they write the change
 * marker after their data, so the next sync reloads again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users_int.h"

typedef char users_id[EVPN_CLIENT_ID_MAX + 1];

static void ids_add(struct users_ids *s, const char *id)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		users_id *p = realloc(s->id, cap * sizeof(*p));

		if (!p) {
			s->oom = true;
			return;
		}
		s->id = p;
		s->cap = cap;
	}
	memcpy(s->id[s->n++], id, sizeof(users_id));
}

static void ids_free(struct users_ids *s)
{
	free(s->id);
	memset(s, 0, sizeof(*s));
}

void users_touch_free(struct evpn_users *u)
{
	ids_free(&u->inflight);
	ids_free(&u->touched);
}

void users_change_begin(struct evpn_users *u, const char *id)
{
	users_id copy = {0};

	snprintf(copy, sizeof(copy), "%s", id);
	pthread_mutex_lock(&u->mu);
	ids_add(&u->inflight, copy);
	if (u->loading)
		ids_add(&u->touched, copy);
	pthread_mutex_unlock(&u->mu);
}

void users_change_end(struct evpn_users *u, const char *id)
{
	users_id copy = {0};

	snprintf(copy, sizeof(copy), "%s", id);
	pthread_mutex_lock(&u->mu);
	for (size_t i = 0; i < u->inflight.n; i++)
		if (strcmp(u->inflight.id[i], copy) == 0) {
			memcpy(u->inflight.id[i],
			       u->inflight.id[--u->inflight.n],
			       sizeof(users_id));
			break;
		}
	if (u->loading)
		ids_add(&u->touched, copy);
	pthread_mutex_unlock(&u->mu);
}

void users_load_begin(struct evpn_users *u)
{
	pthread_mutex_lock(&u->load_mu);
	pthread_mutex_lock(&u->mu);
	u->loading = true;
	u->touched.n = 0;
	u->touched.oom = false;
	/* changes already under way count as made during this load */
	for (size_t i = 0; i < u->inflight.n; i++)
		ids_add(&u->touched, u->inflight.id[i]);
	pthread_mutex_unlock(&u->mu);
}

void users_load_end(struct evpn_users *u)
{
	pthread_mutex_lock(&u->mu);
	u->loading = false;
	u->touched.n = 0;
	pthread_mutex_unlock(&u->mu);
	pthread_mutex_unlock(&u->load_mu);
}

bool users_touched_locked(const struct evpn_users *u, const char *id)
{
	if (u->touched.oom)
		return true; /* lost track: assume every id changed */
	for (size_t i = 0; i < u->touched.n; i++)
		if (strcmp(u->touched.id[i], id) == 0)
			return true;
	return false;
}

bool users_touched(struct evpn_users *u, const char *id)
{
	bool t;

	pthread_mutex_lock(&u->mu);
	t = users_touched_locked(u, id);
	pthread_mutex_unlock(&u->mu);
	return t;
}

static int slot_cmp(const void *a, const void *b)
{
	return strcmp(((const struct user_slot *)a)->client_id,
		      ((const struct user_slot *)b)->client_id);
}

/*
 * Under u->mu, before a load installs *slots (n, sorted by id): the users
 * changed here during the load take their resident state instead of the
 * listed one (present or absent). Their addresses are marked in the load's
 * pool. EVPN_ERR_NOMEM: nothing installed, try again later.
 */
int users_merge_touched_locked(struct evpn_users *u, struct user_slot **slots,
			       size_t *n, struct evpn_pool *pool)
{
	struct user_slot *out;
	size_t m = 0, extra = 0;

	if (u->touched.oom)
		return EVPN_ERR_NOMEM;
	if (!u->touched.n)
		return EVPN_OK;
	for (size_t i = 0; i < u->n; i++)
		if (users_touched_locked(u, u->recs[i].client_id))
			extra++;
	out = malloc((*n + extra ? *n + extra : 1) * sizeof(*out));
	if (!out)
		return EVPN_ERR_NOMEM;
	for (size_t i = 0; i < *n; i++)
		if (!users_touched_locked(u, (*slots)[i].client_id))
			out[m++] = (*slots)[i];
	for (size_t i = 0; i < u->n; i++) {
		char ip[16];

		if (!users_touched_locked(u, u->recs[i].client_id))
			continue;
		out[m++] = u->recs[i];
		evpn_pool_format(u->recs[i].addr4, ip);
		evpn_pool_mark(pool, ip, true);
	}
	if (m)
		qsort(out, m, sizeof(*out), slot_cmp);
	free(*slots);
	*slots = out;
	*n = m;
	return EVPN_OK;
}
