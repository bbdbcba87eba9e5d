/* SPDX-License-Identifier: MIT */
/*
 * Rate limits. A user with a limit of its own has `users/{id}/rate-limit`
 * (bits per second, "0" for none even when users.rate_limit sets one);
 * without that record users.rate_limit applies. The limit is resident (a
 * peer needs it whenever it is handed to the transport) and in the user's
 * index record, so a quick load on any instance has it; a change reaches
 * the live peer here at once and other instances through the change
 * marker (their reload pushes the peers whose limit changed).
 */
#include <stdio.h>
#include <string.h>

#include "users_int.h"

uint64_t users_rate_of(const struct evpn_users *u, bool has_rate,
		       uint64_t rate_bps)
{
	return has_rate ? rate_bps : u->opts.rate_limit;
}

int users_rate_write(struct evpn_users *u, const char *id, uint64_t bps)
{
	char key[160], val[32];
	int r;

	if (bps != EVPN_RATE_LIMIT_DEFAULT) {
		snprintf(val, sizeof(val), "%llu", (unsigned long long)bps);
		return users_put(u, id, "rate-limit", val, 0);
	}
	snprintf(key, sizeof(key), "users/%s/rate-limit", id);
	r = u->st->del(u->sts, key);
	return r == EVPN_ERR_NOTFOUND ? EVPN_OK : r;
}

static void set_rec(struct user_rec *r, uint64_t bps)
{
	r->has_rate = bps != EVPN_RATE_LIMIT_DEFAULT;
	r->rate_bps = r->has_rate ? bps : 0;
}

int users_rate_update(struct evpn_users *u, struct user_rec *rec, uint64_t bps,
		      struct evpn_users_error *err)
{
	const char *id = rec->u.client_id;
	uint64_t was = rec->has_rate ? rec->rate_bps : EVPN_RATE_LIMIT_DEFAULT;
	struct user_rec copy = *rec;
	struct user_slot *s;
	int rc;

	rc = users_rate_write(u, id, bps);
	if (rc != EVPN_OK)
		return users_store_failed(err, rc);
	set_rec(&copy, bps);
	/* the index carries the limit to quick loads on every instance */
	rc = users_index_put(u, &copy);
	if (rc != EVPN_OK) {
		if (users_rate_write(u, id, was) != EVPN_OK)
			evpn_warn(u->host,
				  "user '%s': rate-limit changed in the store "
				  "although the request failed",
				  id);
		return users_store_failed(err, rc);
	}
	pthread_mutex_lock(&u->mu);
	s = users_find_locked(u, id);
	if (s) {
		s->has_rate = copy.has_rate;
		s->rate_bps = copy.rate_bps;
		users_slot_unpack(u, s, &copy);
	}
	pthread_mutex_unlock(&u->mu);
	users_push_peer(u, &copy, false);
	users_bump_generation(u);
	*rec = copy;
	return EVPN_OK;
}

int users_op_rate_limit(void *self, const char *id, uint64_t *bps,
			bool *from_default)
{
	struct evpn_users *u = self;
	struct user_slot *s;
	bool own = false;
	uint64_t v = 0;

	pthread_mutex_lock(&u->mu);
	s = users_find_locked(u, id);
	if (s) {
		own = s->has_rate;
		v = users_rate_of(u, s->has_rate, s->rate_bps);
	}
	pthread_mutex_unlock(&u->mu);
	if (!s)
		return EVPN_ERR_NOTFOUND;
	if (bps)
		*bps = v;
	if (from_default)
		*from_default = !own;
	return EVPN_OK;
}
