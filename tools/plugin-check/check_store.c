/* SPDX-License-Identifier: MIT */
/*
 * The store contract (include/evpn/store.h): get/put/create-only/list/del
 * semantics, the secret flag, NOTFOUND versus failure, create-only races
 * with exactly one winner, values and keys at their limits. Every key lives
 * under a namespace of this run ("evpn-check-PID-RANDOM/"), removed at the
 * end, so a shared backend keeps nothing of it.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <evpn/store.h>

#include "check.h"

struct st {
	struct ck *c;
	const struct evpn_store_ops *s;
	void *self;
	char ns[64];
};

static const char *K(struct st *t, char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", t->ns, rel);
	return buf;
}

/* get; true when rc == OK and the value is exactly want (NUL-terminated). */
static bool get_is(struct st *t, const char *key, const char *want, size_t wlen,
		   int *rcp)
{
	char *v = NULL;
	size_t len = 0;
	bool same;
	int rc = t->s->get(t->self, key, &v, &len);

	*rcp = rc;
	if (rc != EVPN_OK)
		return false;
	same = v && len == wlen && memcmp(v, want, wlen) == 0 && v[len] == '\0';
	t->s->free_value(t->self, v, len);
	return same;
}

/* get's status; a value that came back anyway is freed. */
static int get_rc(struct st *t, const char *key)
{
	char *v = NULL;
	size_t len = 0;
	int rc = t->s->get(t->self, key, &v, &len);

	if (rc == EVPN_OK)
		t->s->free_value(t->self, v, len);
	return rc;
}

/* One check: get returns exactly `want`; the line says what came back. */
static bool expect_value(struct st *t, const char *key, const char *want,
			 size_t wlen, const char *what)
{
	int rc;

	if (get_is(t, key, want, wlen, &rc))
		return ck_ok(t->c, true, "%s", what);
	return ck_ok(t->c, false, "%s (get: %d %s%s)", what, rc,
		     evpn_strerror(rc), rc ? "" : ", another value");
}

struct listed {
	char **keys;
	char **values;
	size_t n, cap;
	int stop_after; /* > 0: return 7 after that many */
};

static int collect(void *arg, const char *key, const char *value, size_t len)
{
	struct listed *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **k = realloc(l->keys, cap * sizeof(*k));
		char **v;

		if (!k)
			return EVPN_ERR_NOMEM;
		l->keys = k;
		v = realloc(l->values, cap * sizeof(*v));
		if (!v)
			return EVPN_ERR_NOMEM;
		l->values = v;
		l->cap = cap;
	}
	l->keys[l->n] = strdup(key);
	l->values[l->n] = strndup(value ? value : "", value ? len : 0);
	l->n++;
	if (l->stop_after > 0 && (int)l->n >= l->stop_after)
		return 7;
	return 0;
}

static void listed_free(struct listed *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->keys[i]);
		free(l->values[i]);
	}
	free(l->keys);
	free(l->values);
	memset(l, 0, sizeof(*l));
}

static int do_list(struct st *t, const char *prefix, struct listed *l)
{
	memset(l, 0, sizeof(*l));
	return t->s->list(t->self, prefix, collect, l);
}

/* How often `key` was listed, and with which value (the last). */
static size_t listed_count(const struct listed *l, const char *key,
			   const char **value)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		if (l->keys[i] && strcmp(l->keys[i], key) == 0) {
			n++;
			if (value)
				*value = l->values[i];
		}
	return n;
}

static void basics(struct st *t)
{
	struct ck *c = t->c;
	char k[1100], k2[1100];

	ck_rc(c, t->s->ping(t->self), EVPN_OK, "ping succeeds");
	ck_rc(c, get_rc(t, K(t, k, sizeof(k), "missing")), EVPN_ERR_NOTFOUND,
	      "get of a missing key is NOTFOUND");
	ck_rc(c, get_rc(t, K(t, k, sizeof(k), "no/such/dir/key")),
	      EVPN_ERR_NOTFOUND,
	      "get under a missing prefix is NOTFOUND, not a failure");
	ck_rc(c, t->s->del(t->self, K(t, k, sizeof(k), "missing")),
	      EVPN_ERR_NOTFOUND, "del of a missing key is NOTFOUND");

	K(t, k, sizeof(k), "a");
	ck_rc(c, t->s->put(t->self, k, "hello", 5, 0), EVPN_OK, "put succeeds");
	expect_value(t, k, "hello", 5,
		     "get returns the value put, NUL-terminated");
	ck_rc(c, t->s->put(t->self, k, "world!", 6, 0), EVPN_OK,
	      "put over an existing key succeeds");
	expect_value(t, k, "world!", 6, "get returns the overwritten value");
	ck_rc(c, t->s->put(t->self, k, "other", 5, EVPN_STORE_CREATE),
	      EVPN_ERR_EXISTS, "create-only: second put fails with EXISTS");
	expect_value(t, k, "world!", 6,
		     "create-only: a refused put leaves the value alone");
	K(t, k2, sizeof(k2), "created");
	ck_rc(c, t->s->put(t->self, k2, "first", 5, EVPN_STORE_CREATE), EVPN_OK,
	      "create-only: put of a new key succeeds");
	expect_value(t, k2, "first", 5,
		     "create-only: get returns the created value");

	K(t, k, sizeof(k), "secret");
	ck_rc(c, t->s->put(t->self, k, "s3cret-value", 12, EVPN_STORE_SECRET),
	      EVPN_OK, "secret: put with EVPN_STORE_SECRET succeeds");
	expect_value(t, k, "s3cret-value", 12,
		     "secret: get returns the secret value");
	ck_rc(c,
	      t->s->put(t->self, k, "x", 1,
			EVPN_STORE_SECRET | EVPN_STORE_CREATE),
	      EVPN_ERR_EXISTS, "secret: create-only over it fails with EXISTS");
	ck_rc(c,
	      t->s->put(t->self, K(t, k, sizeof(k), "secret-new"), "s2", 2,
			EVPN_STORE_SECRET | EVPN_STORE_CREATE),
	      EVPN_OK, "secret: create-only of a new key succeeds");
}

static void limits(struct st *t)
{
	struct ck *c = t->c;
	char *big = malloc(EVPN_STORE_VALUE_MAX + 2);
	char key[EVPN_STORE_KEY_MAX + 2], k[1100];
	size_t n;
	int rc;

	if (!big) {
		ck_ok(c, false, "limits: memory for a large value");
		return;
	}
	for (size_t i = 0; i < EVPN_STORE_VALUE_MAX + 1; i++)
		big[i] = (char)(' ' + (i * 7 + i / 95) % 95);
	big[EVPN_STORE_VALUE_MAX + 1] = '\0';
	K(t, k, sizeof(k), "big");
	ck_rc(c, t->s->put(t->self, k, big, EVPN_STORE_VALUE_MAX, 0), EVPN_OK,
	      "large value: put of %d bytes succeeds", EVPN_STORE_VALUE_MAX);
	ck_ok(c, get_is(t, k, big, EVPN_STORE_VALUE_MAX, &rc),
	      "large value: get returns all %d bytes intact",
	      EVPN_STORE_VALUE_MAX);
	rc = t->s->put(t->self, K(t, k, sizeof(k), "too-big"), big,
		       EVPN_STORE_VALUE_MAX + 1, 0);
	ck_ok(c, rc != EVPN_OK,
	      "large value: put of %d bytes is refused (got %d %s)",
	      EVPN_STORE_VALUE_MAX + 1, rc, evpn_strerror(rc));
	free(big);

	/* A key of exactly EVPN_STORE_KEY_MAX bytes, in segments of 200. */
	n = (size_t)snprintf(key, sizeof(key), "%s", t->ns);
	while (n < EVPN_STORE_KEY_MAX) {
		size_t seg = EVPN_STORE_KEY_MAX - n - 1;

		if (seg > 200)
			seg = 200;
		if (seg == 0) {
			key[n - 1] = 'x'; /* never end with '/' */
			key[n++] = 'x';
			break;
		}
		key[n++] = '/';
		for (size_t i = 0; i < seg; i++, n++)
			key[n] = (char)('a' + (n % 26));
	}
	key[n] = '\0';
	ck_ok(c, strlen(key) == EVPN_STORE_KEY_MAX,
	      "key at the limit: %zu bytes", strlen(key));
	/* A backend that counts its own prefix against a name limit (ssm:
	 * 1011 characters for the whole parameter name) refuses the longest
	 * keys; it must say so with INVAL, and a key of half the limit must
	 * still fit. */
	rc = t->s->put(t->self, key, "v", 1, 0);
	ck_ok(c, rc == EVPN_OK || rc == EVPN_ERR_INVAL,
	      "key at the limit: put of a %d-byte key succeeds or is INVAL "
	      "(got %d %s)",
	      EVPN_STORE_KEY_MAX, rc, evpn_strerror(rc));
	if (rc == EVPN_OK) {
		expect_value(t, key, "v", 1,
			     "key at the limit: get returns its value");
		ck_rc(c, t->s->del(t->self, key), EVPN_OK,
		      "key at the limit: del succeeds");
	}
	key[strlen(t->ns) + 1 + EVPN_STORE_KEY_MAX / 2] = '\0';
	ck_rc(c, t->s->put(t->self, key, "w", 1, 0), EVPN_OK,
	      "long key: put of a %zu-byte key succeeds", strlen(key));
	expect_value(t, key, "w", 1, "long key: get returns its value");
	ck_rc(c, t->s->del(t->self, key), EVPN_OK, "long key: del succeeds");
	key[strlen(key)] = 'x';
	key[n] = 'y';
	key[n + 1] = '\0';
	rc = t->s->put(t->self, key, "v", 1, 0);
	ck_rc(c, rc, EVPN_ERR_INVAL,
	      "key over the limit: put of %d bytes is INVAL",
	      EVPN_STORE_KEY_MAX + 1);
	if (rc == EVPN_OK && t->s->del(t->self, key) != EVPN_OK)
		ck_ok(c, false, "key over the limit: del of the stray key");
}

static void bad_keys(struct st *t)
{
	static const char *const bad[] = {
		"",	  "/abs",   "a//b",  "a/../b", "a/./b",	     "..",
		"trail/", "sp ace", "nl\nx", "q?x=1",  "back\\slash"};
	struct ck *c = t->c;
	char k[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc;

		if (bad[i][0] == '/' || !bad[i][0] || bad[i][0] == '.')
			snprintf(k, sizeof(k), "%s", bad[i]);
		else
			K(t, k, sizeof(k), bad[i]);
		rc = t->s->put(t->self, k, "v", 1, 0);
		ck_rc(c, rc, EVPN_ERR_INVAL, "bad key %s: put is INVAL",
		      i == 8	  ? "with a newline"
		      : bad[i][0] ? bad[i]
				  : "\"\"");
		if (rc == EVPN_OK && t->s->del(t->self, k) != EVPN_OK)
			ck_ok(c, false, "bad key: del of the stray key");
	}
}

static void listing(struct st *t)
{
	static const char *const keys[] = {"l/a/1", "l/a/2", "l/b/1", "l/ab/1"};
	struct ck *c = t->c;
	struct listed l;
	char k[256], p[256];
	const char *v = NULL;
	bool all = true;
	int rc;

	for (size_t i = 0; i < 4; i++)
		all &= t->s->put(t->self, K(t, k, sizeof(k), keys[i]), keys[i],
				 strlen(keys[i]), 0) == EVPN_OK;
	ck_ok(c, all, "list: setup puts succeed");

	rc = do_list(t, K(t, p, sizeof(p), "l/a/"), &l);
	ck_ok(c,
	      rc == EVPN_OK && l.n == 2 &&
		      listed_count(&l, K(t, k, sizeof(k), "l/a/1"), &v) == 1 &&
		      v && strcmp(v, "l/a/1") == 0 &&
		      listed_count(&l, K(t, k, sizeof(k), "l/a/2"), NULL) == 1,
	      "list: a prefix lists exactly its keys, with values (rc %d, %zu "
	      "keys)",
	      rc, l.n);
	listed_free(&l);
	rc = do_list(t, K(t, p, sizeof(p), "l/"), &l);
	ck_ok(c, rc == EVPN_OK && l.n == 4,
	      "list: recursive under a prefix (rc %d, %zu of 4 keys)", rc, l.n);
	listed_free(&l);
	rc = do_list(t, K(t, p, sizeof(p), "l/none/"), &l);
	ck_ok(c, rc == EVPN_OK && l.n == 0,
	      "list: an empty prefix is OK with no keys (rc %d, %zu keys)", rc,
	      l.n);
	listed_free(&l);
	rc = do_list(t, "", &l);
	ck_ok(c,
	      rc == EVPN_OK &&
		      listed_count(&l, K(t, k, sizeof(k), "l/ab/1"), NULL) == 1,
	      "list: prefix \"\" lists every key (rc %d)", rc);
	listed_free(&l);
	memset(&l, 0, sizeof(l));
	l.stop_after = 1;
	rc = t->s->list(t->self, K(t, p, sizeof(p), "l/"), collect, &l);
	ck_ok(c, rc == 7 && l.n == 1,
	      "list: a callback's non-zero return stops it and is returned "
	      "(rc %d, %zu calls)",
	      rc, l.n);
	listed_free(&l);
	rc = do_list(t, K(t, p, sizeof(p), "secret"), &l);
	ck_ok(c,
	      rc == EVPN_OK &&
		      listed_count(&l, K(t, k, sizeof(k), "secret"), &v) == 1 &&
		      v && strcmp(v, "s3cret-value") == 0,
	      "list: a secret value is listed decrypted (rc %d)", rc);
	listed_free(&l);
}

#define PAGE_KEYS 150

static void pagination(struct st *t)
{
	struct ck *c = t->c;
	struct listed l;
	char k[256], v[32];
	bool all = true, exact = true;
	int rc;

	for (int i = 0; i < PAGE_KEYS; i++) {
		snprintf(v, sizeof(v), "k%03d", i);
		snprintf(k, sizeof(k), "%s/pg/%s", t->ns, v);
		all &= t->s->put(t->self, k, v, strlen(v), 0) == EVPN_OK;
	}
	ck_ok(c, all, "list: %d puts for pagination succeed", PAGE_KEYS);
	rc = do_list(t, K(t, k, sizeof(k), "pg/"), &l);
	for (int i = 0; i < PAGE_KEYS && rc == EVPN_OK; i++) {
		const char *got = NULL;

		snprintf(v, sizeof(v), "k%03d", i);
		snprintf(k, sizeof(k), "%s/pg/%s", t->ns, v);
		exact &= listed_count(&l, k, &got) == 1 && got &&
			 strcmp(got, v) == 0;
	}
	ck_ok(c, rc == EVPN_OK && exact && l.n == PAGE_KEYS,
	      "list: %d keys come back each exactly once, across pages (rc "
	      "%d, %zu listed)",
	      PAGE_KEYS, rc, l.n);
	listed_free(&l);
}

static void deletion(struct st *t)
{
	struct ck *c = t->c;
	struct listed l;
	char k[256], p[256];
	int rc;

	K(t, k, sizeof(k), "a");
	ck_rc(c, t->s->del(t->self, k), EVPN_OK, "del of a key succeeds");
	ck_rc(c, get_rc(t, k), EVPN_ERR_NOTFOUND, "get after del is NOTFOUND");
	ck_rc(c, t->s->del(t->self, k), EVPN_ERR_NOTFOUND,
	      "del twice: the second is NOTFOUND");
	rc = do_list(t, K(t, p, sizeof(p), ""), &l);
	ck_ok(c, rc == EVPN_OK && listed_count(&l, k, NULL) == 0,
	      "list after del omits the key (rc %d)", rc);
	listed_free(&l);
	ck_rc(c, t->s->put(t->self, k, "again", 5, EVPN_STORE_CREATE), EVPN_OK,
	      "create-only after del succeeds");
}

#define RACERS 8
#define ROUNDS 16

struct racer {
	struct st *t;
	pthread_barrier_t *go;
	int id, round;
	int rc;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	char k[256], v[32];

	snprintf(k, sizeof(k), "%s/race/%d", r->t->ns, r->round);
	snprintf(v, sizeof(v), "racer-%d", r->id);
	pthread_barrier_wait(r->go);
	r->rc = r->t->s->put(r->t->self, k, v, strlen(v), EVPN_STORE_CREATE);
	return NULL;
}

static void races(struct st *t)
{
	struct ck *c = t->c;
	int bad_rounds = 0, other_err = 0, wrong_value = 0;

	for (int round = 0; round < ROUNDS; round++) {
		pthread_t th[RACERS];
		struct racer r[RACERS];
		pthread_barrier_t go;
		int winners = 0, winner = -1, rc;
		char k[256], v[32];

		pthread_barrier_init(&go, NULL, RACERS);
		for (int i = 0; i < RACERS; i++) {
			r[i] = (struct racer){t, &go, i, round, 0};
			if (pthread_create(&th[i], NULL, race, &r[i]) != 0) {
				ck_ok(c, false, "create-only race: threads");
				exit(1);
			}
		}
		for (int i = 0; i < RACERS; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);
		for (int i = 0; i < RACERS; i++) {
			if (r[i].rc == EVPN_OK) {
				winners++;
				winner = i;
			} else if (r[i].rc != EVPN_ERR_EXISTS) {
				other_err++;
			}
		}
		if (winners != 1)
			bad_rounds++;
		snprintf(k, sizeof(k), "%s/race/%d", t->ns, round);
		snprintf(v, sizeof(v), "racer-%d", winner);
		if (winners == 1 && !get_is(t, k, v, strlen(v), &rc))
			wrong_value++;
	}
	ck_ok(c, bad_rounds == 0,
	      "create-only race: exactly one winner among %d threads, %d "
	      "rounds (%d rounds without)",
	      RACERS, ROUNDS, bad_rounds);
	ck_ok(c, other_err == 0,
	      "create-only race: every loser gets EXISTS (%d other errors)",
	      other_err);
	ck_ok(c, wrong_value == 0,
	      "create-only race: the stored value is the winner's (%d wrong)",
	      wrong_value);
}

struct writer {
	struct st *t;
	int id, fails;
};

static void *write_many(void *arg)
{
	struct writer *w = arg;
	char k[256], v[32];

	for (int i = 0; i < 16; i++) {
		snprintf(k, sizeof(k), "%s/mt/%d-%d", w->t->ns, w->id, i);
		snprintf(v, sizeof(v), "%d-%d", w->id, i);
		if (w->t->s->put(w->t->self, k, v, strlen(v), 0) != EVPN_OK)
			w->fails++;
	}
	return NULL;
}

static void concurrent_puts(struct st *t)
{
	struct ck *c = t->c;
	pthread_t th[RACERS];
	struct writer w[RACERS];
	struct listed l;
	char p[256];
	int fails = 0, rc;

	for (int i = 0; i < RACERS; i++) {
		w[i] = (struct writer){t, i, 0};
		if (pthread_create(&th[i], NULL, write_many, &w[i]) != 0)
			exit(1);
	}
	for (int i = 0; i < RACERS; i++) {
		pthread_join(th[i], NULL);
		fails += w[i].fails;
	}
	rc = do_list(t, K(t, p, sizeof(p), "mt/"), &l);
	ck_ok(c, fails == 0 && rc == EVPN_OK && l.n == RACERS * 16,
	      "concurrent puts from %d threads all land (%d failed, %zu of %d "
	      "listed)",
	      RACERS, fails, l.n, RACERS * 16);
	listed_free(&l);
}

/* A reader never sees a partial value: one thread rewrites a key with
 * whole values of one repeated byte, others read it meanwhile. */
struct torn {
	struct st *t;
	atomic_int done;
	int torn, errors, reads;
};

#define TORN_LEN 4096

static void *torn_reader(void *arg)
{
	struct torn *w = arg;
	char k[256];

	snprintf(k, sizeof(k), "%s/torn", w->t->ns);
	while (!atomic_load(&w->done)) {
		char *v = NULL;
		size_t len = 0;
		int rc = w->t->s->get(w->t->self, k, &v, &len);

		if (rc != EVPN_OK) {
			w->errors++;
			continue;
		}
		w->reads++;
		if (len != TORN_LEN ||
		    strspn(v, (char[]){v[0], '\0'}) != TORN_LEN)
			w->torn++;
		w->t->s->free_value(w->t->self, v, len);
	}
	return NULL;
}

static void atomic_values(struct st *t)
{
	struct ck *c = t->c;
	struct torn w[3];
	pthread_t th[3];
	char *v = malloc(TORN_LEN), k[256];
	int torn = 0, errors = 0, reads = 0, fails = 0;

	if (!v)
		return;
	snprintf(k, sizeof(k), "%s/torn", t->ns);
	memset(v, 'a', TORN_LEN);
	if (!ck_rc(c, t->s->put(t->self, k, v, TORN_LEN, 0), EVPN_OK,
		   "atomic values: first put")) {
		free(v);
		return;
	}
	for (int i = 0; i < 3; i++) {
		w[i].t = t;
		atomic_init(&w[i].done, 0);
		w[i].torn = w[i].errors = w[i].reads = 0;
		if (pthread_create(&th[i], NULL, torn_reader, &w[i]) != 0)
			exit(1);
	}
	for (int i = 0; i < 40; i++) {
		memset(v, 'a' + i % 26, TORN_LEN);
		fails += t->s->put(t->self, k, v, TORN_LEN, 0) != EVPN_OK;
	}
	for (int i = 0; i < 3; i++) {
		atomic_store(&w[i].done, 1);
		pthread_join(th[i], NULL);
		torn += w[i].torn;
		errors += w[i].errors;
		reads += w[i].reads;
	}
	free(v);
	ck_ok(c, fails == 0 && errors == 0 && torn == 0,
	      "atomic values: 3 readers during 40 rewrites of %d bytes never "
	      "see a partial value (%d reads, %d partial, %d errors, %d failed "
	      "puts)",
	      TORN_LEN, reads, torn, errors, fails);
}

static void cleanup(struct st *t)
{
	struct listed l;
	char p[256];
	size_t failed = 0;
	int rc = do_list(t, K(t, p, sizeof(p), ""), &l);

	for (size_t i = 0; rc == EVPN_OK && i < l.n; i++)
		if (t->s->del(t->self, l.keys[i]) != EVPN_OK)
			failed++;
	listed_free(&l);
	if (rc == EVPN_OK)
		rc = do_list(t, K(t, p, sizeof(p), ""), &l);
	ck_ok(t->c, rc == EVPN_OK && failed == 0 && l.n == 0,
	      "cleanup: every key of this run deleted (rc %d, %zu failed, %zu "
	      "left)",
	      rc, failed, l.n);
	listed_free(&l);
}

void ck_store(struct ck *c)
{
	static const char *const names[] = {"get",  "put",	  "del",
					    "list", "free_value", "ping"};
	struct st t = {.c = c, .s = c->pi.desc->vtable};
	int rc;

	ck_vtable_entries(c, names, 6, 6);
	if (c->failed)
		return;
	snprintf(t.ns, sizeof(t.ns), "evpn-check-%ld-%08x", (long)getpid(),
		 randombytes_random());
	ck_secret("s3cret-value");
	rc = ck_create(c, NULL, &t.self);
	if (!ck_rc(c, rc, EVPN_OK, "create succeeds"))
		return;
	rc = ck_start(c, t.self);
	if (ck_rc(c, rc, EVPN_OK, "start succeeds")) {
		basics(&t);
		limits(&t);
		bad_keys(&t);
		listing(&t);
		pagination(&t);
		deletion(&t);
		races(&t);
		concurrent_puts(&t);
		atomic_values(&t);
		cleanup(&t);
		ck_stop(c, t.self);
	}
	ck_destroy(c, t.self);
	ck_lifecycle(c);
}
