/* SPDX-License-Identifier: MIT */
/*
 * The users service and the transport: each change to a user becomes a
 * peer change on the loop thread, the transport gets every user when it
 * starts, and a user's live peer stats are asked for on the loop thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config_impl.h"
#include "users_int.h"

/* ------------------------------------------------- live peer changes */

struct peer_change {
	struct evpn_users *u;
	bool remove;
	bool enabled;
	uint8_t pub[EVPN_KEY_LEN];
	char id[EVPN_CLIENT_ID_MAX + 1];
	struct evpn_cidr allowed[2]; /* the IPv4 /32, the IPv6 /128 if any */
	uint32_t n_allowed;
	uint64_t rate_bps; /* in force: its own or users.rate_limit */
};

static void apply_peer_change(void *arg)
{
	struct peer_change *pc = arg;
	const struct evpn_host *h = pc->u->host;
	const struct evpn_transport_ops *t;
	struct evpn_ref ref;
	int r;

	if (h->get_plugin(h, EVPN_KIND_TRANSPORT, &ref) != EVPN_OK)
		goto out;
	t = ref.vtable;
	if (pc->remove) {
		r = t->peer_remove(ref.self, pc->pub);
		if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
			evpn_warn(h, "transport: removing peer '%s': %s",
				  pc->id, evpn_strerror(r));
	} else {
		struct evpn_peer_config pcfg = {
			.size = sizeof(pcfg),
			.id = pc->id,
			.allowed_ips = pc->allowed,
			.n_allowed_ips = pc->n_allowed,
			.enabled = pc->enabled,
			.rate_limit_bps = pc->rate_bps,
		};

		memcpy(pcfg.public_key, pc->pub, EVPN_KEY_LEN);
		r = t->peer_upsert(ref.self, &pcfg);
		if (r != EVPN_OK)
			evpn_warn(h, "transport: adding peer '%s': %s", pc->id,
				  evpn_strerror(r));
	}
out:
	free(pc);
}

static void fill_change(struct peer_change *pc, struct evpn_users *u,
			const struct user_rec *r, bool remove)
{
	unsigned char a[16];
	unsigned prefix;
	int fam;

	pc->u = u;
	pc->remove = remove;
	pc->enabled = r->u.status == EVPN_USER_ACTIVE;
	memcpy(pc->pub, r->pub, EVPN_KEY_LEN);
	snprintf(pc->id, sizeof(pc->id), "%s", r->u.client_id);
	pc->rate_bps = users_rate_of(u, r->has_rate, r->rate_bps);
	pc->n_allowed = 0;
	for (int i = 0; i < 2; i++) {
		const char *cidr = i ? r->u.address6 : r->u.address;
		struct evpn_cidr *c = &pc->allowed[pc->n_allowed];

		if (!evpn_parse_cidr(cidr, &fam, a, &prefix))
			continue;
		c->family = (uint8_t)fam;
		c->prefix = (uint8_t)prefix;
		memcpy(c->addr, a, 16);
		pc->n_allowed++;
	}
}

void users_push_peer(struct evpn_users *u, const struct user_rec *r,
		     bool remove)
{
	struct peer_change *pc = calloc(1, sizeof(*pc));

	if (!pc)
		return;
	fill_change(pc, u, r, remove);
	if (u->host->on_loop(u->host)) {
		apply_peer_change(pc);
		return;
	}
	if (u->host->post(u->host, apply_peer_change, pc) != EVPN_OK)
		free(pc);
}

int evpn_users_attach_transport(struct evpn_users *u)
{
	const struct evpn_host *h = u->host;
	const struct evpn_transport_ops *t;
	struct evpn_ref ref;
	int r;

	if (h->get_plugin(h, EVPN_KIND_TRANSPORT, &ref) != EVPN_OK)
		return EVPN_OK;
	t = ref.vtable;
	pthread_mutex_lock(&u->mu);
	if (!u->has_server_key) {
		pthread_mutex_unlock(&u->mu);
		return EVPN_ERR_NOTFOUND;
	}
	r = t->set_private_key(ref.self, u->server_priv);
	u->live = true;
	for (size_t i = 0; r == EVPN_OK && i < u->n; i++) {
		struct peer_change pc;
		struct evpn_peer_config pcfg = {.size = sizeof(pcfg)};
		struct user_rec rec;

		users_slot_unpack(u, &u->recs[i], &rec);
		fill_change(&pc, u, &rec, false);
		memcpy(pcfg.public_key, pc.pub, EVPN_KEY_LEN);
		pcfg.id = u->recs[i].client_id;
		pcfg.allowed_ips = pc.allowed;
		pcfg.n_allowed_ips = pc.n_allowed;
		pcfg.enabled = pc.enabled;
		pcfg.rate_limit_bps = pc.rate_bps;
		r = t->peer_upsert(ref.self, &pcfg);
	}
	pthread_mutex_unlock(&u->mu);
	return r;
}

/* ------------------------------------------------------- peer stats */

/* Peer stats live on the loop thread: ask there and wait. */
struct stats_req {
	struct evpn_users *u;
	uint8_t pub[EVPN_KEY_LEN];
	struct evpn_peer_stats st;
	int rc;
	bool done;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int refs;
};

static void stats_req_put(struct stats_req *q)
{
	int refs;

	pthread_mutex_lock(&q->mu);
	refs = --q->refs;
	pthread_mutex_unlock(&q->mu);
	if (refs == 0) {
		pthread_mutex_destroy(&q->mu);
		pthread_cond_destroy(&q->cond);
		free(q);
	}
}

static int stats_now(struct evpn_users *u, const uint8_t pub[EVPN_KEY_LEN],
		     struct evpn_peer_stats *out)
{
	struct evpn_ref ref;
	const struct evpn_transport_ops *t;

	if (u->host->get_plugin(u->host, EVPN_KIND_TRANSPORT, &ref) != EVPN_OK)
		return EVPN_ERR_NOTFOUND;
	t = ref.vtable;
	out->size = sizeof(*out);
	return t->peer_stats(ref.self, pub, out);
}

static void stats_on_loop(void *arg)
{
	struct stats_req *q = arg;

	q->rc = stats_now(q->u, q->pub, &q->st);
	pthread_mutex_lock(&q->mu);
	q->done = true;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->mu);
	stats_req_put(q);
}

int users_op_peer_stats(void *self, const char *id, struct evpn_peer_stats *out)
{
	struct evpn_users *u = self;
	struct user_slot *r;
	struct stats_req *q;
	struct timespec dl;
	uint8_t pub[EVPN_KEY_LEN];
	int rc;

	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	pthread_mutex_lock(&u->mu);
	r = users_find_locked(u, id);
	if (r)
		memcpy(pub, r->pub, EVPN_KEY_LEN);
	pthread_mutex_unlock(&u->mu);
	if (!r)
		return EVPN_ERR_NOTFOUND;
	if (u->host->on_loop(u->host)) {
		rc = stats_now(u, pub, out);
		return rc == EVPN_ERR_NOTFOUND ? EVPN_OK : rc;
	}
	/* No transport (an API-only node): no live state, and no reason to
	 * bother the loop thread. */
	{
		struct evpn_ref ref;

		if (u->host->get_plugin(u->host, EVPN_KIND_TRANSPORT, &ref) !=
		    EVPN_OK)
			return EVPN_OK;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return EVPN_ERR_NOMEM;
	q->u = u;
	memcpy(q->pub, pub, EVPN_KEY_LEN);
	q->refs = 2;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->cond, NULL);
	if (u->host->post(u->host, stats_on_loop, q) != EVPN_OK) {
		q->refs = 1;
		stats_req_put(q);
		return EVPN_OK; /* shutting down: no live state */
	}
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 2;
	pthread_mutex_lock(&q->mu);
	while (!q->done)
		if (pthread_cond_timedwait(&q->cond, &q->mu, &dl) == ETIMEDOUT)
			break;
	if (q->done && q->rc == EVPN_OK)
		*out = q->st;
	rc = q->done ? q->rc : EVPN_ERR_AGAIN;
	pthread_mutex_unlock(&q->mu);
	stats_req_put(q);
	return rc == EVPN_ERR_NOTFOUND ? EVPN_OK : rc;
}
