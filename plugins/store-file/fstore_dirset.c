/* SPDX-License-Identifier: MIT */
/*
 * The set of directories whose own entry (in their parent) is known to be
 * durable, because this process fsynced that parent after the directory
 * existed. A put must make its new entry durable and, for a directory that
 * may be new, the chain of entries above it; remembering which ones are
 * already durable turns ~4 directory fsyncs per put into 1 in steady state.
 * A directory this process creates or removes leaves the set.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fstore_int.h"

#define BUCKETS 4096

struct entry {
	struct entry *next;
	char path[];
};

struct fstore_dirset {
	pthread_mutex_t mu;
	struct entry *b[BUCKETS];
};

static unsigned hash(const char *s)
{
	unsigned h = 2166136261u; /* FNV-1a */

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % BUCKETS;
}

struct fstore_dirset *fstore_dirset_new(void)
{
	struct fstore_dirset *s = calloc(1, sizeof(*s));

	if (s)
		pthread_mutex_init(&s->mu, NULL);
	return s;
}

void fstore_dirset_free(struct fstore_dirset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct entry *e = s->b[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	pthread_mutex_destroy(&s->mu);
	free(s);
}

bool fstore_dirset_has(struct fstore_dirset *s, const char *dir)
{
	unsigned h;
	bool found = false;

	if (!*dir)
		return true; /* the root was made durable at open */
	if (!s)
		return false;
	h = hash(dir);
	pthread_mutex_lock(&s->mu);
	for (struct entry *e = s->b[h]; e && !found; e = e->next)
		found = strcmp(e->path, dir) == 0;
	pthread_mutex_unlock(&s->mu);
	return found;
}

void fstore_dirset_add(struct fstore_dirset *s, const char *dir)
{
	size_t n = strlen(dir);
	struct entry *e;
	unsigned h;

	if (!s || !n || fstore_dirset_has(s, dir))
		return;
	e = malloc(sizeof(*e) + n + 1);
	if (!e)
		return; /* only an optimisation: forgetting is safe */
	memcpy(e->path, dir, n + 1);
	h = hash(dir);
	pthread_mutex_lock(&s->mu);
	e->next = s->b[h];
	s->b[h] = e;
	pthread_mutex_unlock(&s->mu);
}

void fstore_dirset_del(struct fstore_dirset *s, const char *dir)
{
	struct entry **pp, *e;
	unsigned h;

	if (!s || !*dir)
		return;
	h = hash(dir);
	pthread_mutex_lock(&s->mu);
	for (pp = &s->b[h]; (e = *pp);) {
		if (strcmp(e->path, dir) == 0) {
			*pp = e->next;
			free(e);
		} else {
			pp = &e->next;
		}
	}
	pthread_mutex_unlock(&s->mu);
}
