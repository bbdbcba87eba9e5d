/* SPDX-License-Identifier: MIT */
/*
 * The checker's own in-memory store: what the users service runs on while
 * an auth or api plugin is checked (it is the host here, not under test).
 * It keeps the store contract (include/evpn/store.h), bad keys and values
 * included, so the core is held to it too.
 *
 * The checker's tests build it into a store plugin (tests/plugin_check)
 * as is, and with one fault switch each, a way to break the contract that
 * evpn-plugin-check must notice:
 *   CK_BROKEN_RACE      create-only looks, lets go of the lock, then
 *                       writes: concurrent creators can all win
 *   CK_BROKEN_NOTFOUND  get of a missing key "succeeds" with an empty value
 *   CK_BROKEN_LOGS      a debug log line shows the value of every put,
 *                       secret or not
 *   CK_BROKEN_TORN      an overwrite of the same length is copied in place
 *                       in two halves, letting go of the lock in between: a
 *                       reader can see half of each value
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "memstore.h"

struct ck_entry {
	char *key, *value;
	size_t len;
};

struct ck_memstore {
	const struct evpn_host *host;
	pthread_mutex_t mu;
	struct ck_entry *e;
	size_t n, cap;
};

struct ck_memstore *ck_memstore_new(const struct evpn_host *host)
{
	struct ck_memstore *m = calloc(1, sizeof(*m));

	if (m) {
		pthread_mutex_init(&m->mu, NULL);
		m->host = host;
	}
	return m;
}

static void entry_free(struct ck_entry *e)
{
	sodium_memzero(e->value, e->len);
	free(e->value);
	free(e->key);
}

void ck_memstore_free(struct ck_memstore *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		entry_free(&m->e[i]);
	free(m->e);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

/* Segments of [A-Za-z0-9_.:-] joined by '/', none empty, "." or "..". */
static bool key_ok(const char *k)
{
	size_t n = strlen(k), seg = 0;

	if (n == 0 || n > EVPN_STORE_KEY_MAX)
		return false;
	for (const char *p = k;; p++) {
		if (*p == '/' || !*p) {
			if (seg == 0 || (seg == 1 && p[-1] == '.') ||
			    (seg == 2 && p[-1] == '.' && p[-2] == '.'))
				return false;
			if (!*p)
				return true;
			seg = 0;
			continue;
		}
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ0123456789_.:-",
			    *p))
			return false;
		seg++;
	}
}

static struct ck_entry *find(struct ck_memstore *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].key, key) == 0)
			return &m->e[i];
	return NULL;
}

static char *dup_value(const char *v, size_t len)
{
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, v, len);
		p[len] = '\0';
	}
	return p;
}

static int ms_get(void *self, const char *key, char **value, size_t *len)
{
	struct ck_memstore *m = self;
	struct ck_entry *e;
	int rc = EVPN_ERR_NOTFOUND;

	if (!key_ok(key))
		return EVPN_ERR_INVAL;
	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e) {
		*value = dup_value(e->value, e->len);
		*len = e->len;
		rc = *value ? EVPN_OK : EVPN_ERR_NOMEM;
	}
	pthread_mutex_unlock(&m->mu);
#ifdef CK_BROKEN_NOTFOUND
	if (rc == EVPN_ERR_NOTFOUND) {
		*value = dup_value("", 0);
		*len = 0;
		rc = *value ? EVPN_OK : EVPN_ERR_NOMEM;
	}
#endif
	return rc;
}

#ifdef CK_BROKEN_RACE
/* create-only as a look, then a plain write after a nap: *flags loses
 * EVPN_STORE_CREATE. EVPN_OK: go on with the write. */
static int broken_create(struct ck_memstore *m, const char *key,
			 uint32_t *flags)
{
	struct timespec nap = {0, 2000000};
	bool exists;

	if (!(*flags & EVPN_STORE_CREATE))
		return EVPN_OK;
	pthread_mutex_lock(&m->mu);
	exists = find(m, key) != NULL;
	pthread_mutex_unlock(&m->mu);
	if (exists)
		return EVPN_ERR_EXISTS;
	nanosleep(&nap, NULL); /* the window the lock should close */
	*flags &= ~EVPN_STORE_CREATE;
	return EVPN_OK;
}
#endif

#ifdef CK_BROKEN_TORN
/* An overwrite of the same length, in place, in two halves with the lock
 * let go in between. True when it did that. */
static bool broken_overwrite(struct ck_memstore *m, const char *key,
			     const char *v, size_t len, uint32_t flags)
{
	struct timespec nap = {0, 200000};
	struct ck_entry *e;

	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (!e || e->len != len || (flags & EVPN_STORE_CREATE)) {
		pthread_mutex_unlock(&m->mu);
		return false;
	}
	memcpy(e->value, v, len / 2);
	pthread_mutex_unlock(&m->mu);
	nanosleep(&nap, NULL);
	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e && e->len == len)
		memcpy(e->value + len / 2, v + len / 2, len - len / 2);
	pthread_mutex_unlock(&m->mu);
	return true;
}
#endif

static int ms_put(void *self, const char *key, const char *value, size_t len,
		  uint32_t flags)
{
	struct ck_memstore *m = self;
	struct ck_entry *e;
	char *v, *k = NULL;
	int rc = EVPN_ERR_NOMEM;

	if (!key_ok(key) || len == 0 || len > EVPN_STORE_VALUE_MAX)
		return EVPN_ERR_INVAL;
#ifdef CK_BROKEN_LOGS
	if (m->host)
		evpn_debug(m->host, "put %s = %.*s", key, (int)len, value);
#endif
#ifdef CK_BROKEN_RACE
	rc = broken_create(m, key, &flags);
	if (rc != EVPN_OK)
		return rc;
	rc = EVPN_ERR_NOMEM;
#endif
#ifdef CK_BROKEN_TORN
	if (broken_overwrite(m, key, value, len, flags))
		return EVPN_OK;
#endif
	v = dup_value(value, len);
	if (!v)
		return rc;
	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e && (flags & EVPN_STORE_CREATE)) {
		rc = EVPN_ERR_EXISTS;
		goto out;
	}
	if (!e) {
		if (m->n == m->cap) {
			size_t cap = m->cap ? m->cap * 2 : 64;
			struct ck_entry *ne = realloc(m->e, cap * sizeof(*ne));

			if (!ne)
				goto out;
			m->e = ne;
			m->cap = cap;
		}
		k = strdup(key);
		if (!k)
			goto out;
		e = &m->e[m->n++];
		e->key = k;
		e->value = NULL;
		e->len = 0;
	}
	sodium_memzero(e->value, e->len);
	free(e->value);
	e->value = v;
	e->len = len;
	v = NULL;
	rc = EVPN_OK;
out:
	pthread_mutex_unlock(&m->mu);
	if (v) {
		sodium_memzero(v, len);
		free(v);
	}
	return rc;
}

static int ms_del(void *self, const char *key)
{
	struct ck_memstore *m = self;
	struct ck_entry *e;
	int rc = EVPN_ERR_NOTFOUND;

	if (!key_ok(key))
		return EVPN_ERR_INVAL;
	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e) {
		entry_free(e);
		*e = m->e[--m->n];
		rc = EVPN_OK;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* Copies first, then calls back outside the lock (callbacks may call in). */
static int ms_list(void *self, const char *prefix, evpn_store_list_cb cb,
		   void *arg)
{
	struct ck_memstore *m = self;
	struct ck_entry *copy;
	size_t n = 0, plen = strlen(prefix);
	int rc = EVPN_OK;

	pthread_mutex_lock(&m->mu);
	copy = calloc(m->n + 1, sizeof(*copy));
	for (size_t i = 0; copy && i < m->n; i++) {
		if (strncmp(m->e[i].key, prefix, plen) != 0)
			continue;
		copy[n].key = strdup(m->e[i].key);
		copy[n].value = dup_value(m->e[i].value, m->e[i].len);
		copy[n].len = m->e[i].len;
		n++;
	}
	pthread_mutex_unlock(&m->mu);
	if (!copy)
		return EVPN_ERR_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (rc == EVPN_OK && copy[i].key && copy[i].value)
			rc = cb(arg, copy[i].key, copy[i].value, copy[i].len);
		else if (rc == EVPN_OK)
			rc = EVPN_ERR_NOMEM;
		entry_free(&copy[i]);
	}
	free(copy);
	return rc;
}

static void ms_free_value(void *self, char *value, size_t len)
{
	if (value)
		sodium_memzero(value, len);
	free(value);
}

static int ms_ping(void *self)
{
	return EVPN_OK;
}

const struct evpn_store_ops ck_memstore_ops = {
	.size = sizeof(struct evpn_store_ops),
	.get = ms_get,
	.put = ms_put,
	.del = ms_del,
	.list = ms_list,
	.free_value = ms_free_value,
	.ping = ms_ping,
};
