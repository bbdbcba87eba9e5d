/* SPDX-License-Identifier: MIT */
/*
 * Loading users from the store, and sweeping what a crash left behind.
 *
 * A user is complete when its `status` record exists: creation writes it
 * last and deletion removes it first. Records of an incomplete user older
 * than the grace period (another instance may be creating it right now) are
 * removed, and so are address claims that no user owns.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "users_int.h"

struct triple {
	char id[EVPN_CLIENT_ID_MAX + 1];
	char leaf[32];
	char *value;
};

struct collect {
	struct triple *t;
	size_t n, cap;
	bool oom;
};

struct claim {
	char ip[48];
	char owner[EVPN_CLIENT_ID_MAX + 1];
};

struct claims {
	struct claim *c;
	size_t n, cap;
	bool oom;
};

static int collect_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct collect *c = arg;
	const char *id = key + strlen("users/"), *slash;
	struct triple *t;

	if (strncmp(key, "users/", 6) != 0)
		return 0;
	slash = strchr(id, '/');
	if (!slash || (size_t)(slash - id) > EVPN_CLIENT_ID_MAX ||
	    strlen(slash + 1) >= sizeof(t->leaf) || strchr(slash + 1, '/'))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct triple *p = realloc(c->t, cap * sizeof(*p));

		if (!p) {
			c->oom = true;
			return 1;
		}
		c->t = p;
		c->cap = cap;
	}
	t = &c->t[c->n];
	memcpy(t->id, id, (size_t)(slash - id));
	t->id[slash - id] = '\0';
	snprintf(t->leaf, sizeof(t->leaf), "%s", slash + 1);
	t->value = strndup(value, len);
	if (!t->value) {
		c->oom = true;
		return 1;
	}
	c->n++;
	return 0;
}

static int claims_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct claims *c = arg;

	if (strncmp(key, "addresses/", 10) != 0 ||
	    strlen(key + 10) >= sizeof(c->c->ip))
		return 0;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct claim *p = realloc(c->c, cap * sizeof(*p));

		if (!p) {
			c->oom = true;
			return 1;
		}
		c->c = p;
		c->cap = cap;
	}
	snprintf(c->c[c->n].ip, sizeof(c->c->ip), "%s", key + 10);
	snprintf(c->c[c->n].owner, sizeof(c->c->owner), "%.*s", (int)len,
		 value);
	c->n++;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct triple *)a)->id,
		      ((const struct triple *)b)->id);
}

static int rec_by_id(const void *a, const void *b)
{
	return strcmp(((const struct user_rec *)a)->u.client_id,
		      ((const struct user_rec *)b)->u.client_id);
}

/* Strip one trailing newline that a hand-edited file store may have. */
static const char *trim(char *v)
{
	size_t n = strlen(v);

	while (n && (v[n - 1] == '\n' || v[n - 1] == '\r'))
		v[--n] = '\0';
	return v;
}

static bool build_rec(struct evpn_users *u, struct triple *t, size_t n,
		      struct user_rec *r, bool *complete, int64_t *created)
{
	bool has_status = false, has_pub = false, has_addr = false;

	memset(r, 0, sizeof(*r));
	*created = -1;
	snprintf(r->u.client_id, sizeof(r->u.client_id), "%s", t[0].id);
	for (size_t i = 0; i < n; i++) {
		const char *v = trim(t[i].value);

		if (strcmp(t[i].leaf, "status") == 0) {
			r->u.status =
				evpn_user_status_parse(v) == EVPN_USER_INACTIVE
					? EVPN_USER_INACTIVE
					: EVPN_USER_ACTIVE;
			has_status = true;
		} else if (strcmp(t[i].leaf, "created-at") == 0) {
			snprintf(r->u.created_at, sizeof(r->u.created_at), "%s",
				 v);
			if (!evpn_parse_rfc3339(v, created))
				*created = 0;
		} else if (strcmp(t[i].leaf, "expires-at") == 0) {
			snprintf(r->u.expires_at, sizeof(r->u.expires_at), "%s",
				 v);
			if (!evpn_parse_rfc3339(v, &r->expires))
				r->expires = 0;
		} else if (strcmp(t[i].leaf, "public-key") == 0) {
			has_pub = evpn_b64_key(v, r->pub);
			if (has_pub)
				snprintf(r->u.public_key,
					 sizeof(r->u.public_key), "%s", v);
		} else if (strcmp(t[i].leaf, "address") == 0) {
			snprintf(r->u.address, sizeof(r->u.address), "%s", v);
			has_addr = true;
		} else if (strcmp(t[i].leaf, "rate-limit") == 0) {
			char *end;
			unsigned long long bps = strtoull(v, &end, 10);

			/* unreadable: the default, as without the record */
			r->has_rate = *v >= '0' && *v <= '9' && !*end;
			r->rate_bps = r->has_rate ? bps : 0;
		} else if (strcmp(t[i].leaf, "api-key-hash") == 0) {
			size_t bl;

			r->has_hash = sodium_hex2bin(r->key_hash,
						     crypto_hash_sha256_BYTES,
						     v, strlen(v), NULL, &bl,
						     NULL) == 0 &&
				      bl == crypto_hash_sha256_BYTES;
		}
	}
	*complete = has_status && has_pub && has_addr && *created >= 0;
	if (has_status && !*complete)
		evpn_warn(u->host,
			  "user '%s' in the store is missing records (%s%s%s); "
			  "it is not served",
			  r->u.client_id, has_pub ? "" : "public-key ",
			  has_addr ? "" : "address ",
			  *created >= 0 ? "" : "created-at");
	return true;
}

struct creating_ctx {
	const struct collect *c;
	int64_t now;
	double grace;
};

/* Is `owner` a user being created right now (its id claimed recently)? */
static bool creating(void *arg, const char *owner)
{
	const struct creating_ctx *x = arg;
	bool in = false;

	for (size_t k = 0; k < x->c->n; k++)
		if (strcmp(x->c->t[k].id, owner) == 0 &&
		    strcmp(x->c->t[k].leaf, "created-at") == 0) {
			int64_t t;

			in = evpn_parse_rfc3339(x->c->t[k].value, &t) &&
			     (double)(x->now - t) <= x->grace;
		}
	return in;
}

/* A load's result (recs sorted by id, the pool they mark, the change marker
 * read before listing) replaces what is served; the pool is taken, also on
 * failure. */
static int install(struct evpn_users *u, const struct user_rec *recs,
		   size_t nrec, struct evpn_pool *pool, const char *gen)
{
	struct user_slot *slots;
	int r = users_slots_pack(recs, nrec, &slots);

	if (r != EVPN_OK) {
		evpn_pool_free(pool);
		return r;
	}
	pthread_mutex_lock(&u->mu);
	r = users_merge_touched_locked(u, &slots, &nrec, pool);
	if (r != EVPN_OK) {
		pthread_mutex_unlock(&u->mu);
		free(slots);
		evpn_pool_free(pool);
		return r;
	}
	users_install_locked(u, slots, nrec);
	snprintf(u->gen_seen, sizeof(u->gen_seen), "%s", gen);
	pool->hint = u->pool.hint;
	evpn_pool_free(&u->pool);
	u->pool = *pool;
	pthread_mutex_unlock(&u->mu);
	evpn_metrics_gauge_users(u);
	return EVPN_OK;
}

/* One full load: what it listed and what it made of that. */
struct full {
	struct collect c;
	struct claims cl;
	struct users_key_claims kc;
	struct user_rec *recs, *held; /* complete users; key claim lost */
	size_t nrec, nheld, swept;
	struct creating_ctx cx;
	char gen[65];
};

/* 1. List the change marker, the address claims, the key claims, then the
 * users' records. The change marker first: whatever changes after it is
 * read bumps it again, so the next sync tick catches it. Claims before
 * users: every claim's owner claimed its id (created-at) before the claim,
 * so a claim listed here has its owner in the users listed next, and the
 * sweep never frees the claim of a user being created. */
static int list_store(struct evpn_users *u, struct full *f)
{
	int r = users_read_generation(u, f->gen);

	if (r == EVPN_OK)
		r = u->st->list(u->sts, "addresses/", claims_cb, &f->cl);
	if (r == EVPN_OK && f->cl.oom)
		r = EVPN_ERR_NOMEM;
	if (r == EVPN_OK)
		r = users_key_claims_list(u, &f->kc);
	if (r == EVPN_OK)
		r = u->st->list(u->sts, "users/", collect_cb, &f->c);
	if (r == EVPN_OK && f->c.oom)
		r = EVPN_ERR_NOMEM;
	if (r == EVPN_OK)
		return EVPN_OK;
	evpn_error(u->host, "cannot list users in the store: %s",
		   evpn_strerror(r));
	return r == EVPN_ERR_NOMEM ? r : EVPN_ERR_UNAVAILABLE;
}

/* 2. One record per user, sorted by id: complete users are kept, the
 * records of users half-created longer than the grace period swept. */
static int build_users(struct evpn_users *u, struct full *f)
{
	struct collect *c = &f->c;

	if (c->n)
		qsort(c->t, c->n, sizeof(*c->t), by_id);
	f->recs = calloc(c->n ? c->n : 1, sizeof(*f->recs));
	f->held = calloc(c->n ? c->n : 1, sizeof(*f->held));
	if (!f->recs || !f->held)
		return EVPN_ERR_NOMEM;
	for (size_t i = 0; i < c->n;) {
		struct user_rec *r = &f->recs[f->nrec];
		size_t j = i;
		bool complete;
		int64_t created;

		while (j < c->n && strcmp(c->t[j].id, c->t[i].id) == 0)
			j++;
		build_rec(u, c->t + i, j - i, r, &complete, &created);
		if (complete) {
			f->nrec++;
		} else if (users_touched(u, r->u.client_id)) {
			/* being created or deleted here right now */
		} else if (created <= 0 ||
			   (double)(f->cx.now - created) > f->cx.grace) {
			evpn_info(u->host,
				  "removing the records of half-created user "
				  "'%s'",
				  r->u.client_id);
			users_delete_records(u, r->u.client_id, r->u.address,
					     NULL);
			f->swept++;
		}
		i = j;
	}
	if (f->nrec)
		qsort(f->recs, f->nrec, sizeof(*f->recs), rec_by_id);
	return EVPN_OK;
}

/* 3. The pool that the loaded users, and those whose key is held by
 * another, occupy. */
static int mark_pool(struct evpn_users *u, const struct full *f,
		     struct evpn_pool *pool)
{
	if (evpn_pool_init(pool, u->host->network->pool) != EVPN_OK)
		return EVPN_ERR_CONFIG;
	for (size_t i = 0; i < f->nrec; i++)
		if (!evpn_pool_mark(pool, f->recs[i].u.address, true))
			evpn_warn(
				u->host,
				"user '%s' has address %s outside the pool %s",
				f->recs[i].u.client_id, f->recs[i].u.address,
				u->host->network->pool);
	for (size_t i = 0; i < f->nheld; i++)
		evpn_pool_mark(pool, f->held[i].u.address, true);
	return EVPN_OK;
}

/* 4. Address claims: keep those of live users and of users being created;
 * free the ones a crash orphaned. */
static void sweep_claims(struct evpn_users *u, struct full *f,
			 struct evpn_pool *pool)
{
	for (size_t i = 0; i < f->cl.n; i++) {
		const struct claim *cl = &f->cl.c[i];
		struct user_rec key;
		char name[80];
		bool keep;

		snprintf(key.u.client_id, sizeof(key.u.client_id), "%s",
			 cl->owner);
		keep = bsearch(&key, f->recs, f->nrec, sizeof(*f->recs),
			       rec_by_id);
		for (size_t k = 0; !keep && k < f->nheld; k++)
			keep = strcmp(f->held[k].u.client_id, cl->owner) == 0;
		if (keep || creating(&f->cx, cl->owner) ||
		    users_touched(u, cl->owner)) {
			evpn_pool_mark(pool, cl->ip, true);
			continue;
		}
		snprintf(name, sizeof(name), "addresses/%s", cl->ip);
		if (u->st->del(u->sts, name) == EVPN_OK)
			f->swept++;
	}
}

static void full_free(struct full *f)
{
	for (size_t i = 0; i < f->c.n; i++) {
		sodium_memzero(f->c.t[i].value, strlen(f->c.t[i].value));
		free(f->c.t[i].value);
	}
	free(f->c.t);
	free(f->cl.c);
	users_key_claims_free(&f->kc);
	free(f->recs);
	free(f->held);
}

static int full_load(struct evpn_users *u)
{
	struct full f = {0};
	struct evpn_pool pool;
	int r;

	f.cx = (struct creating_ctx){&f.c, (int64_t)time(NULL),
				     u->opts.partial_grace};
	r = list_store(u, &f);
	if (r == EVPN_OK)
		r = build_users(u, &f);
	if (r != EVPN_OK)
		goto out;
	if (!users_key_claims_settle(u, f.recs, &f.nrec, f.held, &f.nheld,
				     &f.kc, creating, &f.cx))
		evpn_warn(u->host, "could not claim the public key of every "
				   "user; trying again at the next full load");
	r = mark_pool(u, &f, &pool);
	if (r != EVPN_OK)
		goto out;
	sweep_claims(u, &f, &pool);
	users_index_repair(u, f.recs, f.nrec);
	r = install(u, f.recs, f.nrec, &pool, f.gen);
	if (r == EVPN_OK)
		evpn_info(u->host, "loaded %zu user%s from the store%s", f.nrec,
			  f.nrec == 1 ? "" : "s",
			  f.swept ? " (swept crash leftovers)" : "");
out:
	full_free(&f);
	return r;
}

int evpn_users_load(struct evpn_users *u)
{
	int r;

	users_load_begin(u);
	r = full_load(u);
	users_load_end(u);
	return r;
}

static int quick_load(struct evpn_users *u)
{
	struct user_rec *recs = NULL, *held = NULL;
	struct evpn_pool pool;
	size_t nrec = 0, nheld;
	bool complete;
	char gen[65];
	int r;

	r = users_read_generation(u, gen);
	/* a store written before public keys were claimed: load it fully
	 * once, which claims them */
	if (r == EVPN_OK && !users_key_claims_marked(u, &r) && r == EVPN_OK)
		return full_load(u);
	if (r == EVPN_OK)
		r = users_index_load(u, &recs, &nrec, &complete);
	if (r != EVPN_OK) {
		evpn_error(u->host, "cannot read users from the store: %s",
			   evpn_strerror(r));
		return r == EVPN_ERR_NOMEM ? r : EVPN_ERR_UNAVAILABLE;
	}
	if (!complete)
		return full_load(u);
	if (nrec)
		qsort(recs, nrec, sizeof(*recs), rec_by_id);
	/* two index records with one key (only a race between instances
	 * while an old store is upgraded can do that): serve one */
	held = calloc(nrec ? nrec : 1, sizeof(*held));
	if (!held) {
		free(recs);
		return EVPN_ERR_NOMEM;
	}
	users_key_claims_settle(u, recs, &nrec, held, &nheld, NULL, NULL, NULL);
	free(held);
	if (evpn_pool_init(&pool, u->host->network->pool) != EVPN_OK) {
		free(recs);
		return EVPN_ERR_CONFIG;
	}
	/* Address claims are not listed here: a claim nobody owns only makes
	 * a create skip that address until the next full load sweeps it. */
	for (size_t i = 0; i < nrec; i++)
		evpn_pool_mark(&pool, recs[i].u.address, true);
	r = install(u, recs, nrec, &pool, gen);
	free(recs);
	if (r != EVPN_OK)
		return r;
	evpn_info(u->host, "loaded %zu user%s from the store index", nrec,
		  nrec == 1 ? "" : "s");
	return EVPN_OK;
}

int evpn_users_load_quick(struct evpn_users *u)
{
	int r;

	users_load_begin(u);
	r = quick_load(u);
	users_load_end(u);
	return r;
}
