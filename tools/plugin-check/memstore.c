/* SPDX-License-Identifier: MIT */
/*
 * The checker's own in-memory store: what the users service runs on while
 * an auth or api plugin is checked (it is the host here, not under test).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <evpn/store.h>

#include "check.h"

struct ck_entry {
	char *key, *value;
	size_t len;
};

struct ck_memstore {
	pthread_mutex_t mu;
	struct ck_entry *e;
	size_t n, cap;
};

struct ck_memstore *ck_memstore_new(void)
{
	struct ck_memstore *m = calloc(1, sizeof(*m));

	if (m)
		pthread_mutex_init(&m->mu, NULL);
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

	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e) {
		*value = dup_value(e->value, e->len);
		*len = e->len;
		rc = *value ? EVPN_OK : EVPN_ERR_NOMEM;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int ms_put(void *self, const char *key, const char *value, size_t len,
		  uint32_t flags)
{
	struct ck_memstore *m = self;
	struct ck_entry *e;
	char *v = dup_value(value, len), *k = NULL;
	int rc = EVPN_ERR_NOMEM;

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
