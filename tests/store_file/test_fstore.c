/* SPDX-License-Identifier: MIT */
/* Unit tests of fstore, the file store's internal API. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fstore.h"

struct ctx {
	char base[64]; /* mkdtemp'd, removed at teardown */
	char dir[128]; /* the store directory, base/state */
	struct fstore *fs;
};

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(c);
	snprintf(c->base, sizeof(c->base), "%s/fstore-test.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(c->base));
	snprintf(c->dir, sizeof(c->dir), "%s/state", c->base);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	fstore_close(c->fs);
	nftw(c->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(c);
	return 0;
}

static struct fstore *open_ex(struct ctx *c)
{
	assert_int_equal(
		fstore_open(c->dir, FSTORE_LOCK_EXCLUSIVE, NULL, &c->fs),
		EVPN_OK);
	return c->fs;
}

static void put_ok(struct fstore *fs, const char *key, const char *v)
{
	assert_int_equal(fstore_put(fs, key, v, strlen(v), 0), EVPN_OK);
}

static void check_value(struct fstore *fs, const char *key, const void *v,
			size_t len)
{
	char *got;
	size_t glen;

	assert_int_equal(fstore_get(fs, key, &got, &glen), EVPN_OK);
	assert_int_equal(glen, len);
	assert_memory_equal(got, v, len);
	assert_int_equal(got[len], '\0');
	fstore_free_value(got, glen);
}

static void check_absent(struct fstore *fs, const char *key)
{
	char *got = (char *)1;
	size_t glen = 1;

	assert_int_equal(fstore_get(fs, key, &got, &glen), EVPN_ERR_NOTFOUND);
	assert_null(got);
	assert_int_equal(glen, 0);
}

static mode_t mode_of(const char *base, const char *rel)
{
	char p[2048];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	if (lstat(p, &st) < 0)
		return (mode_t)-1;
	return st.st_mode;
}

static bool exists(const char *base, const char *rel)
{
	return mode_of(base, rel) != (mode_t)-1;
}

static void touch(const char *base, const char *rel, const char *content)
{
	char p[2048];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", base, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

/* ---- basic semantics ---- */

static void test_roundtrip(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);
	static const char bin[] = {'a', 0, 'b', (char)0xff, 0};

	put_ok(fs, "wg/server-public-key", "pub1");
	check_value(fs, "wg/server-public-key", "pub1", 4);
	put_ok(fs, "wg/server-public-key", "a longer second value");
	check_value(fs, "wg/server-public-key", "a longer second value", 21);
	put_ok(fs, "wg/server-public-key", "x");
	check_value(fs, "wg/server-public-key", "x", 1);
	/* empty and binary values */
	assert_int_equal(fstore_put(fs, "empty", NULL, 0, 0), EVPN_OK);
	check_value(fs, "empty", "", 0);
	assert_int_equal(fstore_put(fs, "bin", bin, sizeof(bin), 0), EVPN_OK);
	check_value(fs, "bin", bin, sizeof(bin));
	/* survives close/open */
	fstore_close(fs);
	fs = open_ex(c);
	check_value(fs, "wg/server-public-key", "x", 1);
	check_value(fs, "bin", bin, sizeof(bin));
	check_absent(fs, "wg/nothing");
	check_absent(fs, "nothing/at/all");
	assert_string_equal(fstore_dir(fs), c->dir);
	assert_int_equal(fstore_ping(fs), EVPN_OK);
}

static void test_create_only(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);

	assert_int_equal(fstore_put(fs, "addresses/10.77.0.2", "alice", 5,
				    EVPN_STORE_CREATE),
			 EVPN_OK);
	assert_int_equal(fstore_put(fs, "addresses/10.77.0.2", "bob", 3,
				    EVPN_STORE_CREATE),
			 EVPN_ERR_EXISTS);
	check_value(fs, "addresses/10.77.0.2", "alice", 5);
	/* a plain put still replaces */
	assert_int_equal(fstore_put(fs, "addresses/10.77.0.2", "carol", 5,
				    EVPN_STORE_SECRET),
			 EVPN_OK);
	check_value(fs, "addresses/10.77.0.2", "carol", 5);
	/* after a del, create works again */
	assert_int_equal(fstore_del(fs, "addresses/10.77.0.2"), EVPN_OK);
	assert_int_equal(fstore_put(fs, "addresses/10.77.0.2", "dave", 4,
				    EVPN_STORE_CREATE | EVPN_STORE_SECRET),
			 EVPN_OK);
	check_value(fs, "addresses/10.77.0.2", "dave", 4);
	/* no temporary file left behind by the failed create */
	assert_false(exists(c->dir, "addresses/~tmp.0.0"));
	assert_int_equal(fstore_put(fs, "k", "v", 1, 1u << 7), EVPN_ERR_INVAL);
}

/* ---- threads ---- */

#define RACERS 32

struct racer {
	struct fstore *fs;
	pthread_barrier_t *bar;
	int id;
	int rc;
	char val[16];
};

static void *race_create(void *arg)
{
	struct racer *r = arg;

	snprintf(r->val, sizeof(r->val), "winner-%d", r->id);
	pthread_barrier_wait(r->bar);
	r->rc = fstore_put(r->fs, "addresses/10.77.0.9", r->val, strlen(r->val),
			   EVPN_STORE_CREATE);
	return NULL;
}

static void test_concurrent_create(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);
	struct racer r[RACERS];
	pthread_t th[RACERS];
	pthread_barrier_t bar;
	int i, round, wins, winner;

	for (round = 0; round < 5; round++) {
		pthread_barrier_init(&bar, NULL, RACERS);
		for (i = 0; i < RACERS; i++) {
			r[i] = (struct racer){.fs = fs, .bar = &bar, .id = i};
			assert_int_equal(pthread_create(&th[i], NULL,
							race_create, &r[i]),
					 0);
		}
		wins = 0;
		winner = -1;
		for (i = 0; i < RACERS; i++) {
			pthread_join(th[i], NULL);
			if (r[i].rc == EVPN_OK) {
				wins++;
				winner = i;
			} else {
				assert_int_equal(r[i].rc, EVPN_ERR_EXISTS);
			}
		}
		pthread_barrier_destroy(&bar);
		assert_int_equal(wins, 1);
		check_value(fs, "addresses/10.77.0.9", r[winner].val,
			    strlen(r[winner].val));
		assert_int_equal(fstore_del(fs, "addresses/10.77.0.9"),
				 EVPN_OK);
	}
}

#define WRITERS 50
#define PER_WRITER 10

static void *write_many(void *arg)
{
	struct racer *r = arg;
	char key[64], val[64];
	int j;

	pthread_barrier_wait(r->bar);
	for (j = 0; j < PER_WRITER; j++) {
		snprintf(key, sizeof(key), "users/u%d/k%d", r->id, j);
		snprintf(val, sizeof(val), "value %d/%d", r->id, j);
		r->rc = fstore_put(r->fs, key, val, strlen(val),
				   j & 1 ? EVPN_STORE_CREATE : 0);
		if (r->rc)
			break;
	}
	return NULL;
}

static int count_cb(void *arg, const char *key, const char *value, size_t len)
{
	(*(int *)arg)++;
	return 0;
}

static void test_many_writers(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);
	struct racer r[WRITERS];
	pthread_t th[WRITERS];
	pthread_barrier_t bar;
	char key[64], val[64];
	int i, j, n = 0;

	pthread_barrier_init(&bar, NULL, WRITERS);
	for (i = 0; i < WRITERS; i++) {
		r[i] = (struct racer){.fs = fs, .bar = &bar, .id = i};
		assert_int_equal(
			pthread_create(&th[i], NULL, write_many, &r[i]), 0);
	}
	for (i = 0; i < WRITERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].rc, EVPN_OK);
	}
	pthread_barrier_destroy(&bar);
	for (i = 0; i < WRITERS; i++) {
		for (j = 0; j < PER_WRITER; j++) {
			snprintf(key, sizeof(key), "users/u%d/k%d", i, j);
			snprintf(val, sizeof(val), "value %d/%d", i, j);
			check_value(fs, key, val, strlen(val));
		}
	}
	assert_int_equal(fstore_list(fs, "users/", count_cb, &n), EVPN_OK);
	assert_int_equal(n, WRITERS * PER_WRITER);
}

#define CHURNERS 8
#define CHURN_ROUNDS 150

/* put/get/del in one directory from many threads: a del prunes the
 * directory when it becomes empty, which must never make a concurrent put
 * fail or lose its key. */
static void *churn(void *arg)
{
	struct racer *r = arg;
	char key[64], *v;
	size_t len;
	int j;

	snprintf(key, sizeof(key), "churn/d/e/k%d", r->id);
	pthread_barrier_wait(r->bar);
	for (j = 0; j < CHURN_ROUNDS; j++) {
		r->rc = fstore_put(r->fs, key, "x", 1, EVPN_STORE_CREATE);
		if (r->rc)
			return NULL;
		r->rc = fstore_get(r->fs, key, &v, &len);
		if (r->rc)
			return NULL;
		fstore_free_value(v, len);
		r->rc = fstore_del(r->fs, key);
		if (r->rc)
			return NULL;
	}
	return NULL;
}

static atomic_bool churn_done;

/* Lists while directories come and go: never an error. */
static void *churn_lister(void *arg)
{
	struct racer *r = arg;
	int n;

	pthread_barrier_wait(r->bar);
	while (!atomic_load(&churn_done)) {
		n = 0;
		r->rc = fstore_list(r->fs, "churn/", count_cb, &n);
		if (r->rc || n > CHURNERS) {
			r->rc = r->rc ? r->rc : EVPN_ERR_INTERNAL;
			return NULL;
		}
	}
	return NULL;
}

static void test_churn_same_dir(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);
	struct racer r[CHURNERS], lr;
	pthread_t th[CHURNERS], lth;
	pthread_barrier_t bar;
	int i;

	atomic_store(&churn_done, false);
	pthread_barrier_init(&bar, NULL, CHURNERS + 1);
	lr = (struct racer){.fs = fs, .bar = &bar};
	assert_int_equal(pthread_create(&lth, NULL, churn_lister, &lr), 0);
	for (i = 0; i < CHURNERS; i++) {
		r[i] = (struct racer){.fs = fs, .bar = &bar, .id = i};
		assert_int_equal(pthread_create(&th[i], NULL, churn, &r[i]), 0);
	}
	for (i = 0; i < CHURNERS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(r[i].rc, EVPN_OK);
	}
	atomic_store(&churn_done, true);
	pthread_join(lth, NULL);
	assert_int_equal(lr.rc, EVPN_OK);
	pthread_barrier_destroy(&bar);
	/* everything deleted: the directories are gone too */
	assert_false(exists(c->dir, "churn"));
}

/* ---- list ---- */

struct seen {
	char keys[32][64];
	char vals[32][64];
	int n;
	int stop_after;
};

static int seen_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct seen *s = arg;

	assert_true(s->n < 32);
	assert_int_equal(strlen(value), len);
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
	snprintf(s->vals[s->n], sizeof(s->vals[0]), "%s", value);
	s->n++;
	if (s->stop_after && s->n == s->stop_after)
		return 42;
	return 0;
}

static const char *seen_value(struct seen *s, const char *key)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->keys[i], key))
			return s->vals[i];
	return NULL;
}

static void test_list(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);
	struct seen s;

	put_ok(fs, "master-api-key", "m");
	put_ok(fs, "wg/server-public-key", "p");
	put_ok(fs, "users/alice/status", "active");
	put_ok(fs, "users/alice/address", "10.77.0.2");
	put_ok(fs, "users/alan/status", "inactive");
	put_ok(fs, "users/bob/status", "active");
	put_ok(fs, "users/bob/deep/er/key", "deep");
	put_ok(fs, "addresses/10.77.0.2", "alice");
	/* debris that is not a key */
	touch(c->dir, "users/~tmp.1.1", "partial");
	touch(c->dir, "users/alice/~tmp.1.2", "partial");
	touch(c->dir, "users/bad name", "x");

	memset(&s, 0, sizeof(s));
	assert_int_equal(fstore_list(fs, "", seen_cb, &s), EVPN_OK);
	assert_int_equal(s.n, 8);
	assert_string_equal(seen_value(&s, "users/bob/deep/er/key"), "deep");
	assert_string_equal(seen_value(&s, "master-api-key"), "m");
	assert_null(seen_value(&s, ".lock"));

	memset(&s, 0, sizeof(s));
	assert_int_equal(fstore_list(fs, "users/", seen_cb, &s), EVPN_OK);
	assert_int_equal(s.n, 5);
	assert_string_equal(seen_value(&s, "users/alice/address"), "10.77.0.2");
	assert_null(seen_value(&s, "addresses/10.77.0.2"));

	/* a plain string prefix: "users/al" is alice and alan */
	memset(&s, 0, sizeof(s));
	assert_int_equal(fstore_list(fs, "users/al", seen_cb, &s), EVPN_OK);
	assert_int_equal(s.n, 3);
	assert_string_equal(seen_value(&s, "users/alan/status"), "inactive");

	memset(&s, 0, sizeof(s));
	assert_int_equal(fstore_list(fs, "users/alice/", seen_cb, &s), EVPN_OK);
	assert_int_equal(s.n, 2);

	memset(&s, 0, sizeof(s));
	assert_int_equal(fstore_list(fs, "addresses", seen_cb, &s), EVPN_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.keys[0], "addresses/10.77.0.2");

	/* a missing prefix is no entries, not an error; so is a value */
	memset(&s, 0, sizeof(s));
	assert_int_equal(fstore_list(fs, "nothing/", seen_cb, &s), EVPN_OK);
	assert_int_equal(fstore_list(fs, "master-api-key/", seen_cb, &s),
			 EVPN_OK);
	assert_int_equal(fstore_list(fs, "zzz", seen_cb, &s), EVPN_OK);
	assert_int_equal(s.n, 0);

	/* the callback stops the walk and its value is returned */
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(fstore_list(fs, "", seen_cb, &s), 42);
	assert_int_equal(s.n, 2);

	/* bad prefixes */
	assert_int_equal(fstore_list(fs, "../", seen_cb, &s), EVPN_ERR_INVAL);
	assert_int_equal(fstore_list(fs, "users//", seen_cb, &s),
			 EVPN_ERR_INVAL);
	assert_int_equal(fstore_list(fs, "/users", seen_cb, &s),
			 EVPN_ERR_INVAL);
	assert_int_equal(fstore_list(fs, "a b", seen_cb, &s), EVPN_ERR_INVAL);
	assert_int_equal(fstore_list(fs, NULL, seen_cb, &s), EVPN_ERR_INVAL);
	assert_int_equal(fstore_list(fs, "", NULL, &s), EVPN_ERR_INVAL);
}

/* ---- del ---- */

static void test_del(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);

	put_ok(fs, "users/alice/status", "active");
	put_ok(fs, "users/alice/address", "10.77.0.2");
	put_ok(fs, "users/bob/status", "active");
	assert_int_equal(fstore_del(fs, "users/alice/status"), EVPN_OK);
	check_absent(fs, "users/alice/status");
	assert_int_equal(fstore_del(fs, "users/alice/status"),
			 EVPN_ERR_NOTFOUND);
	assert_true(exists(c->dir, "users/alice"));
	assert_int_equal(fstore_del(fs, "users/alice/address"), EVPN_OK);
	/* empty parents are pruned, non-empty ones kept */
	assert_false(exists(c->dir, "users/alice"));
	assert_true(exists(c->dir, "users/bob"));
	assert_int_equal(fstore_del(fs, "users/bob/status"), EVPN_OK);
	assert_false(exists(c->dir, "users"));
	assert_true(exists(c->dir, ".lock"));
	/* a directory (a prefix of keys) is not a key */
	put_ok(fs, "a/b/c", "v");
	assert_int_equal(fstore_del(fs, "a/b"), EVPN_ERR_NOTFOUND);
	assert_int_equal(fstore_del(fs, "x/y/z"), EVPN_ERR_NOTFOUND);
	assert_int_equal(fstore_del(fs, "a/b/c/d"), EVPN_ERR_NOTFOUND);
	assert_int_equal(fstore_del(fs, "../x"), EVPN_ERR_INVAL);
	check_value(fs, "a/b/c", "v", 1);
}

/* ---- keys ---- */

static void test_bad_keys(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);
	static const char *const bad[] = {
		"",	    "/",     "/a",     "a/",	      "a//b",
		".",	    "..",    "a/.",    "a/..",	      "./a",
		"../a",	    "a/./b", "a/../b", "a b",	      "a~b",
		"~tmp.1.2", "a\\b",  "a\nb",   "caf\xc3\xa9", ".lock",
		"a*",	    "a?",    "a%2f",
	};
	static const char *const good[] = {
		"a",
		"A-Z_0.9:x",
		".hidden",
		"..x",
		"x/.lock",
		"b/c/d/e/f/g",
		"addresses/10.77.0.2",
		"addresses/fd00::2",
		"...",
	};
	char big[EVPN_STORE_KEY_MAX + 2];
	char seg[300];
	size_t i;
	char *v;
	size_t len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fstore_key_check(bad[i]), EVPN_ERR_INVAL);
		assert_int_equal(fstore_put(fs, bad[i], "v", 1, 0),
				 EVPN_ERR_INVAL);
		assert_int_equal(fstore_get(fs, bad[i], &v, &len),
				 EVPN_ERR_INVAL);
		assert_int_equal(fstore_del(fs, bad[i]), EVPN_ERR_INVAL);
	}
	assert_int_equal(fstore_key_check(NULL), EVPN_ERR_INVAL);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		put_ok(fs, good[i], good[i]);
		check_value(fs, good[i], good[i], strlen(good[i]));
	}
	/* longest key: segments of 200 bytes joined, exactly 1011 bytes */
	memset(big, 'k', sizeof(big));
	for (i = 200; i < EVPN_STORE_KEY_MAX; i += 201)
		big[i] = '/';
	big[EVPN_STORE_KEY_MAX] = '\0';
	assert_int_equal(strlen(big), EVPN_STORE_KEY_MAX);
	put_ok(fs, big, "long");
	check_value(fs, big, "long", 4);
	big[EVPN_STORE_KEY_MAX] = 'k';
	big[EVPN_STORE_KEY_MAX + 1] = '\0';
	assert_int_equal(fstore_put(fs, big, "v", 1, 0), EVPN_ERR_INVAL);
	/* a segment is at most 255 bytes */
	memset(seg, 's', sizeof(seg));
	seg[255] = '\0';
	put_ok(fs, seg, "v");
	seg[255] = 's';
	seg[256] = '\0';
	assert_int_equal(fstore_put(fs, seg, "v", 1, 0), EVPN_ERR_INVAL);
	/* a key cannot be both a value and a prefix */
	put_ok(fs, "p/q", "v");
	assert_int_equal(fstore_put(fs, "p/q/r", "v", 1, 0), EVPN_ERR_INVAL);
	assert_int_equal(fstore_put(fs, "p/q/r/s", "v", 1, EVPN_STORE_CREATE),
			 EVPN_ERR_INVAL);
	put_ok(fs, "x/y/z", "v");
	assert_int_equal(fstore_put(fs, "x/y", "v", 1, 0), EVPN_ERR_INVAL);
	assert_int_equal(fstore_put(fs, "x/y", "v", 1, EVPN_STORE_CREATE),
			 EVPN_ERR_INVAL);
	check_absent(fs, "x/y");
	check_value(fs, "x/y/z", "v", 1);
}

/* ---- value size ---- */

static void test_value_max(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);
	char *big = malloc(EVPN_STORE_VALUE_MAX + 1);
	char *v;
	size_t i, len;

	assert_non_null(big);
	for (i = 0; i <= EVPN_STORE_VALUE_MAX; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(fstore_put(fs, "big", big, EVPN_STORE_VALUE_MAX, 0),
			 EVPN_OK);
	check_value(fs, "big", big, EVPN_STORE_VALUE_MAX);
	assert_int_equal(
		fstore_put(fs, "big", big, EVPN_STORE_VALUE_MAX + 1, 0),
		EVPN_ERR_INVAL);
	assert_int_equal(fstore_put(fs, "big2", big, EVPN_STORE_VALUE_MAX + 1,
				    EVPN_STORE_CREATE),
			 EVPN_ERR_INVAL);
	check_value(fs, "big", big, EVPN_STORE_VALUE_MAX);
	check_absent(fs, "big2");
	assert_int_equal(fstore_put(fs, "null", NULL, 1, 0), EVPN_ERR_INVAL);
	/* a foreign file larger than any value is refused, not truncated */
	{
		char p[256];
		FILE *f;

		snprintf(p, sizeof(p), "%s/huge", c->dir);
		f = fopen(p, "w");
		assert_non_null(f);
		fwrite(big, 1, EVPN_STORE_VALUE_MAX + 1, f);
		fclose(f);
	}
	assert_int_equal(fstore_get(fs, "huge", &v, &len), EVPN_ERR_IO);
	free(big);
}

/* ---- permissions ---- */

static void test_permissions(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs;
	mode_t old = umask(0);
	char nested[256];

	/* created with parents, every level 0700 */
	snprintf(nested, sizeof(nested), "%s/a/b/c", c->base);
	assert_int_equal(fstore_open(nested, FSTORE_LOCK_NONE, NULL, &fs),
			 EVPN_OK);
	assert_int_equal(mode_of(c->base, "a") & 07777, 0700);
	assert_int_equal(mode_of(c->base, "a/b/c") & 07777, 0700);
	fstore_close(fs);

	fs = open_ex(c);
	assert_true(S_ISDIR(mode_of(c->dir, "")));
	assert_int_equal(mode_of(c->dir, "") & 07777, 0700);
	put_ok(fs, "users/alice/api-key-hash", "h");
	assert_int_equal(mode_of(c->dir, "users") & 07777, 0700);
	assert_int_equal(mode_of(c->dir, "users/alice") & 07777, 0700);
	assert_int_equal(mode_of(c->dir, "users/alice/api-key-hash") & 07777,
			 0600);
	assert_true(S_ISREG(mode_of(c->dir, "users/alice/api-key-hash")));
	assert_int_equal(mode_of(c->dir, ".lock") & 07777, 0600);
	fstore_close(fs);
	c->fs = NULL;
	umask(old);

	/* too open: tightened */
	assert_int_equal(chmod(c->dir, 0755), 0);
	fs = open_ex(c);
	assert_int_equal(mode_of(c->dir, "") & 07777, 0700);
	check_value(fs, "users/alice/api-key-hash", "h", 1);
	fstore_close(fs);
	c->fs = NULL;

	/* somebody else's: refused (needs root to chown) */
	if (geteuid() == 0) {
		assert_int_equal(chown(c->dir, 65534, 65534), 0);
		assert_int_equal(
			fstore_open(c->dir, FSTORE_LOCK_EXCLUSIVE, NULL, &fs),
			EVPN_ERR_PERM);
		assert_null(fs);
		assert_int_equal(chown(c->dir, 0, 0), 0);
	}

	/* a file where the directory should be */
	touch(c->base, "file", "x");
	snprintf(nested, sizeof(nested), "%s/file", c->base);
	assert_int_not_equal(fstore_open(nested, FSTORE_LOCK_NONE, NULL, &fs),
			     EVPN_OK);
	assert_null(fs);
	assert_int_equal(fstore_open("", FSTORE_LOCK_NONE, NULL, &fs),
			 EVPN_ERR_INVAL);
	assert_int_equal(fstore_open(c->dir, 3, NULL, &fs), EVPN_ERR_INVAL);
	assert_int_equal(fstore_open(c->dir, 4, NULL, &fs), EVPN_ERR_INVAL);
}

/* ---- lock ---- */

static char last_log[1024];

static void log_cb(void *arg, enum evpn_log_level lvl, const char *msg)
{
	if (lvl >= EVPN_LOG_ERROR)
		snprintf(last_log, sizeof(last_log), "%s", msg);
}

static void test_lock(void **state)
{
	struct ctx *c = *state;
	const struct fstore_log log = {.fn = log_cb};
	struct fstore *fs = open_ex(c), *fs2 = NULL;
	char pidstr[32];
	pid_t pid;
	int st;

	/* A second open is a second open file description: flock conflicts
	 * exactly as it would with another process. */
	last_log[0] = '\0';
	assert_int_equal(fstore_open(c->dir, FSTORE_LOCK_EXCLUSIVE, &log, &fs2),
			 EVPN_ERR_LOCKED);
	assert_null(fs2);
	assert_non_null(strstr(last_log, c->dir));
	snprintf(pidstr, sizeof(pidstr), "pid %ld", (long)getpid());
	assert_non_null(strstr(last_log, pidstr));
	assert_int_equal(fstore_open(c->dir, FSTORE_LOCK_SHARED, &log, &fs2),
			 EVPN_ERR_LOCKED);
	/* without a lock anybody may open it */
	assert_int_equal(fstore_open(c->dir, FSTORE_LOCK_NONE, NULL, &fs2),
			 EVPN_OK);
	fstore_close(fs2);

	/* and from another process */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct fstore *f3;
		int rc = fstore_open(c->dir, FSTORE_LOCK_EXCLUSIVE, NULL, &f3);

		_exit(rc == EVPN_ERR_LOCKED ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* released by close */
	fstore_close(fs);
	c->fs = NULL;
	assert_int_equal(fstore_open(c->dir, FSTORE_LOCK_SHARED, NULL, &fs),
			 EVPN_OK);
	assert_int_equal(fstore_open(c->dir, FSTORE_LOCK_SHARED, NULL, &fs2),
			 EVPN_OK);
	put_ok(fs2, "shared", "yes");
	check_value(fs, "shared", "yes", 3);
	assert_int_equal(
		fstore_open(c->dir, FSTORE_LOCK_EXCLUSIVE, NULL, &c->fs),
		EVPN_ERR_LOCKED);
	fstore_close(fs2);
	fstore_close(fs);
	assert_int_equal(
		fstore_open(c->dir, FSTORE_LOCK_EXCLUSIVE, NULL, &c->fs),
		EVPN_OK);
	assert_int_equal(fstore_key_check(".lock"), EVPN_ERR_INVAL);
}

/* ---- temporary files ---- */

/* A pid that certainly belongs to no process: a reaped child's. */
static long dead_pid(void)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		_exit(0);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	return (long)pid;
}

static void test_tmp_files(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c), *fs2;
	struct timespec old[2] = {{.tv_sec = 1000}, {.tv_sec = 1000}};
	char dead1[64], dead2[64], dead3[64], live[64], live_old[64], p[256];
	long dead = dead_pid();
	struct seen s;

	put_ok(fs, "users/alice/status", "active");
	fstore_close(fs);
	c->fs = NULL;
	/* as interrupted puts leave them */
	snprintf(dead1, sizeof(dead1), "~tmp.%ld.1", dead);
	snprintf(dead2, sizeof(dead2), "users/alice/~tmp.%ld.2", dead);
	snprintf(dead3, sizeof(dead3), "users/~tmp.%ld.3", dead);
	/* pid 1 is always alive: a writer next to us */
	snprintf(live, sizeof(live), "users/~tmp.1.4");
	snprintf(live_old, sizeof(live_old), "users/alice/~tmp.1.5");
	touch(c->dir, dead1, "partial");
	touch(c->dir, dead2, "partial");
	touch(c->dir, dead3, "partial");
	touch(c->dir, live, "being written");
	touch(c->dir, live_old, "abandoned");
	snprintf(p, sizeof(p), "%s/%s", c->dir, dead3);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
	snprintf(p, sizeof(p), "%s/%s", c->dir, live_old);
	assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);

	/* without the exclusive lock only old ones go; none is listed */
	assert_int_equal(fstore_open(c->dir, FSTORE_LOCK_SHARED, NULL, &fs2),
			 EVPN_OK);
	assert_true(exists(c->dir, dead1));
	assert_true(exists(c->dir, dead2));
	assert_false(exists(c->dir, dead3));
	assert_true(exists(c->dir, live));
	assert_false(exists(c->dir, live_old));
	memset(&s, 0, sizeof(s));
	assert_int_equal(fstore_list(fs2, "", seen_cb, &s), EVPN_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.keys[0], "users/alice/status");
	fstore_close(fs2);

	/* the exclusive owner also removes what dead writers left, but not
	 * what a live one is writing */
	fs = open_ex(c);
	assert_false(exists(c->dir, dead1));
	assert_false(exists(c->dir, dead2));
	assert_true(exists(c->dir, live));
	check_value(fs, "users/alice/status", "active", 6);
	/* a put reuses no name: an existing "~tmp.<ourpid>.0" is skipped,
	 * not overwritten or renamed into place */
	snprintf(p, sizeof(p), "~tmp.%ld.%u", (long)getpid(), 0u);
	touch(c->dir, p, "someone else's");
	put_ok(fs, "k", "v");
	check_value(fs, "k", "v", 1);
	assert_true(exists(c->dir, p));
}

static void test_ping(void **state)
{
	struct ctx *c = *state;
	struct fstore *fs = open_ex(c);
	char moved[256];

	assert_int_equal(fstore_ping(fs), EVPN_OK);
	/* the directory vanishes under a running store */
	snprintf(moved, sizeof(moved), "%s/moved", c->base);
	assert_int_equal(rename(c->dir, moved), 0);
	nftw(moved, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	assert_int_not_equal(fstore_ping(fs), EVPN_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_roundtrip, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_create, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_writers, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_churn_same_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_del, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_value_max, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ping, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
