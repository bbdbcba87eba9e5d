/* SPDX-License-Identifier: MIT */
/*
 * Helper program for the file store's integration tests.
 *
 *   store_driver write DIR ROUND COUNT
 *       put keys crash/<i%8>/k<i>, i < COUNT, with self-describing values of
 *       2-8 KiB; every third key create-only. After each put that returned
 *       EVPN_OK, print "k<i> <ROUND> <c|p>" and flush. A reader thread lists
 *       the keys meanwhile and exits 3 on any partial value.
 *   store_driver verify DIR ACKFILE
 *       reopen the store; every value must be complete and well-formed and
 *       every acknowledged key present with a value at least as new as its
 *       acknowledgement. Exit 0 when all is well.
 *   store_driver fill DIR
 *       fill the (small) file system under DIR with values until puts fail:
 *       they must fail with EVPN_ERR_IO, leave earlier values intact and no
 *       temporary files; after a del, puts work again.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fstore.h"

#define KEYS_MAX 1000000

static void die(const char *what, int rc)
{
	fprintf(stderr, "store_driver: %s: %s (%d)\n", what, evpn_strerror(rc),
		rc);
	exit(1);
}

static void log_stderr(void *arg, enum evpn_log_level lvl, const char *msg)
{
	fprintf(stderr, "store_driver: [%d] %s\n", (int)lvl, msg);
}

static const struct fstore_log slog = {.fn = log_stderr};

static void key_of(unsigned long i, char *key, size_t n)
{
	snprintf(key, n, "crash/%lu/k%lu", i % 8, i);
}

/* "key=<key> round=<r> len=<n>\n" then filler that depends on all three:
 * a value cut short, or mixed from two writes, does not check out. */
static size_t make_value(const char *key, unsigned long round, unsigned long i,
			 char *buf)
{
	size_t len = 2048 + (i * 131 + round * 977) % 6145, h, j;

	h = (size_t)snprintf(buf, EVPN_STORE_VALUE_MAX,
			     "key=%s round=%lu len=%zu\n", key, round, len);
	for (j = h; j < len; j++)
		buf[j] = (char)('a' + (j * 7 + round * 3 + i) % 26);
	return len;
}

/* Returns the round of a well-formed value, or -1. */
static long check_value(const char *key, const char *v, size_t len)
{
	char expect[EVPN_STORE_VALUE_MAX + 1], vkey[64];
	unsigned long round, i;
	size_t vlen, elen;

	if (sscanf(v, "key=%63s round=%lu len=%zu", vkey, &round, &vlen) != 3)
		return -1;
	if (strcmp(vkey, key) != 0 || vlen != len ||
	    sscanf(strrchr(key, '/'), "/k%lu", &i) != 1)
		return -1;
	elen = make_value(key, round, i, expect);
	if (elen != len || memcmp(expect, v, len) != 0)
		return -1;
	return (long)round;
}

static atomic_bool stop_reader;

static int reader_cb(void *arg, const char *key, const char *value, size_t len)
{
	if (check_value(key, value, len) < 0) {
		fprintf(stderr,
			"store_driver: reader saw a bad value for %s "
			"(%zu bytes)\n",
			key, len);
		exit(3);
	}
	(*(unsigned long *)arg)++;
	return 0;
}

static void *reader(void *arg)
{
	struct fstore *fs = arg;
	unsigned long n;
	int rc;

	while (!atomic_load(&stop_reader)) {
		n = 0;
		rc = fstore_list(fs, "crash/", reader_cb, &n);
		if (rc)
			die("reader list", rc);
		usleep(2000);
	}
	return NULL;
}

static int do_write(const char *dir, unsigned long round, unsigned long count)
{
	static char buf[EVPN_STORE_VALUE_MAX + 1];
	struct fstore *fs;
	pthread_t th;
	char key[64];
	unsigned long i;
	size_t len;
	bool create;
	int rc;

	rc = fstore_open(dir, FSTORE_LOCK_EXCLUSIVE, &slog, &fs);
	if (rc)
		die("open", rc);
	if (pthread_create(&th, NULL, reader, fs))
		die("pthread_create", EVPN_ERR_INTERNAL);
	for (i = 0; i < count; i++) {
		key_of(i, key, sizeof(key));
		len = make_value(key, round, i, buf);
		create = i % 3 == 0;
		rc = fstore_put(fs, key, buf, len,
				EVPN_STORE_SECRET |
					(create ? EVPN_STORE_CREATE : 0));
		if (rc == EVPN_ERR_EXISTS && create)
			continue; /* an earlier round made it */
		if (rc)
			die("put", rc);
		printf("k%lu %lu %c\n", i, round, create ? 'c' : 'p');
		fflush(stdout);
	}
	atomic_store(&stop_reader, true);
	pthread_join(th, NULL);
	fstore_close(fs);
	return 0;
}

struct seen {
	long *round; /* per index: round of the stored value, -1 if absent */
	unsigned long bad, total;
};

static int verify_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct seen *s = arg;
	unsigned long i;
	long r = check_value(key, value, len);

	s->total++;
	if (r < 0 || sscanf(strrchr(key, '/'), "/k%lu", &i) != 1 ||
	    i >= KEYS_MAX) {
		fprintf(stderr, "store_driver: bad value for %s (%zu bytes)\n",
			key, len);
		s->bad++;
		return 0;
	}
	s->round[i] = r;
	return 0;
}

static int do_verify(const char *dir, const char *ackfile)
{
	struct seen s = {0};
	struct fstore *fs;
	unsigned long i, round, acked = 0, lost = 0, stale = 0;
	char line[128], kind;
	FILE *f;
	int rc;

	s.round = malloc(KEYS_MAX * sizeof(*s.round));
	if (!s.round)
		die("malloc", EVPN_ERR_NOMEM);
	for (i = 0; i < KEYS_MAX; i++)
		s.round[i] = -1;
	rc = fstore_open(dir, FSTORE_LOCK_EXCLUSIVE, &slog, &fs);
	if (rc)
		die("open", rc);
	rc = fstore_list(fs, "", verify_cb, &s);
	if (rc)
		die("list", rc);
	f = fopen(ackfile, "r");
	if (!f) {
		perror(ackfile);
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		/* A line cut by the kill is not an acknowledgement. */
		if (!strchr(line, '\n'))
			break;
		if (sscanf(line, "k%lu %lu %c", &i, &round, &kind) != 3 ||
		    i >= KEYS_MAX) {
			fprintf(stderr, "store_driver: bad ack line: %s", line);
			return 1;
		}
		acked++;
		if (s.round[i] < 0) {
			fprintf(stderr,
				"store_driver: acknowledged k%lu "
				"(round %lu) is missing\n",
				i, round);
			lost++;
		} else if ((unsigned long)s.round[i] < round ||
			   (kind == 'c' &&
			    (unsigned long)s.round[i] != round)) {
			fprintf(stderr,
				"store_driver: k%lu has round %ld, "
				"acknowledged round %lu (%c)\n",
				i, s.round[i], round, kind);
			stale++;
		}
	}
	fclose(f);
	fstore_close(fs);
	printf("verified %lu acknowledgements against %lu stored keys: "
	       "%lu missing, %lu stale, %lu malformed\n",
	       acked, s.total, lost, stale, s.bad);
	free(s.round);
	return lost || stale || s.bad ? 1 : 0;
}

static int tmp_seen;

static int find_tmp(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	if (strncmp(p + ftw->base, FSTORE_TMP_PREFIX,
		    strlen(FSTORE_TMP_PREFIX)) == 0) {
		fprintf(stderr, "store_driver: temporary file left: %s\n", p);
		tmp_seen++;
	}
	return 0;
}

static void expect(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "store_driver: FAILED: %s\n", what);
		exit(1);
	}
}

static int do_fill(const char *dir)
{
	static char buf[EVPN_STORE_VALUE_MAX], keep[EVPN_STORE_VALUE_MAX];
	static const size_t sizes[] = {EVPN_STORE_VALUE_MAX, 4096, 1024, 1};
	struct fstore *fs;
	char key[64], path[4096], *v;
	size_t len, s;
	unsigned long i = 0, stored = 0;
	int rc = EVPN_OK;

	rc = fstore_open(dir, FSTORE_LOCK_EXCLUSIVE, &slog, &fs);
	if (rc)
		die("open", rc);
	memset(keep, 'K', sizeof(keep));
	memset(buf, 'f', sizeof(buf));
	expect(fstore_put(fs, "keep", keep, sizeof(keep), 0) == EVPN_OK,
	       "put keep");
	expect(fstore_put(fs, "users/alice/status", "active", 6, 0) == EVPN_OK,
	       "put status");
	/* Fill with ever smaller values until not even one byte fits. */
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (; i < 100000; i++) {
			snprintf(key, sizeof(key), "fill/%lu/k%lu", i % 4, i);
			rc = fstore_put(fs, key, buf, sizes[s], 0);
			if (rc)
				break;
			stored++;
		}
		expect(i < 100000, "the file system never filled up");
		expect(rc == EVPN_ERR_IO,
		       "a put on a full disk is EVPN_ERR_IO");
		i++;
	}
	printf("disk full after %lu values\n", stored);
	/* Every kind of write fails cleanly now... */
	memset(buf, 'N', sizeof(buf));
	expect(fstore_put(fs, "keep", buf, sizeof(buf), 0) == EVPN_ERR_IO,
	       "overwrite on a full disk fails");
	expect(fstore_put(fs, "users/alice/status", "inactive", 8, 0) ==
		       EVPN_ERR_IO,
	       "small overwrite on a full disk fails");
	expect(fstore_put(fs, "users/bob/status", "active", 6,
			  EVPN_STORE_CREATE) == EVPN_ERR_IO,
	       "create in a new directory on a full disk fails");
	/* ...and leaves the old values and no debris behind. */
	expect(fstore_get(fs, "keep", &v, &len) == EVPN_OK &&
		       len == sizeof(keep) && !memcmp(v, keep, len),
	       "old value intact");
	fstore_free_value(v, len);
	expect(fstore_get(fs, "users/alice/status", &v, &len) == EVPN_OK &&
		       len == 6 && !memcmp(v, "active", 6),
	       "old small value intact");
	fstore_free_value(v, len);
	expect(fstore_get(fs, "users/bob/status", &v, &len) ==
		       EVPN_ERR_NOTFOUND,
	       "failed create left no key");
	expect(nftw(dir, find_tmp, 16, FTW_PHYS) == 0 && tmp_seen == 0,
	       "no temporary files left");
	snprintf(path, sizeof(path), "%s/users/bob", dir);
	expect(access(path, F_OK) < 0, "no directory left by a failed put");
	expect(fstore_ping(fs) == EVPN_OK, "ping on a full disk");
	/* Room again: writes work. */
	for (i = 0; i < 8; i++) {
		snprintf(key, sizeof(key), "fill/%lu/k%lu", i % 4, i);
		expect(fstore_del(fs, key) == EVPN_OK, "del frees room");
	}
	expect(fstore_put(fs, "keep", buf, sizeof(buf), 0) == EVPN_OK,
	       "put works again after del");
	expect(fstore_get(fs, "keep", &v, &len) == EVPN_OK &&
		       len == sizeof(buf) && !memcmp(v, buf, len),
	       "new value readable");
	fstore_free_value(v, len);
	fstore_close(fs);
	printf("disk-full behaviour ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "write"))
		return do_write(argv[2], strtoul(argv[3], NULL, 10),
				strtoul(argv[4], NULL, 10));
	if (argc == 4 && !strcmp(argv[1], "verify"))
		return do_verify(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "fill"))
		return do_fill(argv[2]);
	fprintf(stderr, "usage: store_driver write DIR ROUND COUNT | verify "
			"DIR ACKFILE | fill DIR\n");
	return 2;
}
