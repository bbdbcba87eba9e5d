/* SPDX-License-Identifier: MIT */
/*
 * A small in-memory store plugin for the checker's own tests. Built as is
 * it keeps the store contract; built with one of these it breaks it in one
 * way, which evpn-plugin-check must notice:
 *   BROKEN_RACE      create-only looks, lets go of the lock, then writes:
 *                    concurrent creators can all win
 *   BROKEN_NOTFOUND  get of a missing key "succeeds" with an empty value
 *   BROKEN_LOGS      a debug log line shows the value of every put, secret
 *                    or not
 *   BROKEN_TORN      an overwrite of the same length is copied in place in
 *                    two halves, letting go of the lock in between: a
 *                    reader can see half of each value
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <evpn/host.h>
#include <evpn/store.h>

struct ent {
	char *key, *value;
	size_t len;
};

struct mem {
	const struct evpn_host *host;
	pthread_mutex_t mu;
	struct ent *e;
	size_t n, cap;
};

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
			    "YZ"
			    "0123456789_.:-",
			    *p))
			return false;
		seg++;
	}
}

static struct ent *find(struct mem *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].key, key) == 0)
			return &m->e[i];
	return NULL;
}

static char *dupv(const char *v, size_t len)
{
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, v, len);
		p[len] = '\0';
	}
	return p;
}

static int m_get(void *self, const char *key, char **value, size_t *len)
{
	struct mem *m = self;
	struct ent *e;
	int rc = EVPN_ERR_NOTFOUND;

	if (!key_ok(key))
		return EVPN_ERR_INVAL;
	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e) {
		*value = dupv(e->value, e->len);
		*len = e->len;
		rc = *value ? EVPN_OK : EVPN_ERR_NOMEM;
	}
	pthread_mutex_unlock(&m->mu);
#ifdef BROKEN_NOTFOUND
	if (rc == EVPN_ERR_NOTFOUND) {
		*value = dupv("", 0);
		*len = 0;
		rc = *value ? EVPN_OK : EVPN_ERR_NOMEM;
	}
#endif
	return rc;
}

static int m_put(void *self, const char *key, const char *value, size_t len,
		 uint32_t flags)
{
	struct mem *m = self;
	struct ent *e;
	char *v;
	int rc = EVPN_ERR_NOMEM;

	if (!key_ok(key) || len == 0 || len > EVPN_STORE_VALUE_MAX)
		return EVPN_ERR_INVAL;
#ifdef BROKEN_LOGS
	evpn_debug(m->host, "put %s = %.*s", key, (int)len, value);
#endif
	v = dupv(value, len);
	if (!v)
		return rc;
#ifdef BROKEN_RACE
	if (flags & EVPN_STORE_CREATE) {
		struct timespec nap = {0, 2000000};
		bool exists;

		pthread_mutex_lock(&m->mu);
		exists = find(m, key) != NULL;
		pthread_mutex_unlock(&m->mu);
		if (exists) {
			free(v);
			return EVPN_ERR_EXISTS;
		}
		nanosleep(&nap, NULL); /* the window the lock should close */
		flags &= ~EVPN_STORE_CREATE;
	}
#endif
#ifdef BROKEN_TORN
	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e && e->len == len && !(flags & EVPN_STORE_CREATE)) {
		struct timespec nap = {0, 200000};

		memcpy(e->value, v, len / 2);
		pthread_mutex_unlock(&m->mu);
		nanosleep(&nap, NULL);
		pthread_mutex_lock(&m->mu);
		e = find(m, key);
		if (e && e->len == len)
			memcpy(e->value + len / 2, v + len / 2, len - len / 2);
		pthread_mutex_unlock(&m->mu);
		free(v);
		return EVPN_OK;
	}
	pthread_mutex_unlock(&m->mu);
#endif
	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e && (flags & EVPN_STORE_CREATE)) {
		rc = EVPN_ERR_EXISTS;
		goto out;
	}
	if (!e) {
		if (m->n == m->cap) {
			size_t cap = m->cap ? m->cap * 2 : 64;
			struct ent *ne = realloc(m->e, cap * sizeof(*ne));

			if (!ne)
				goto out;
			m->e = ne;
			m->cap = cap;
		}
		e = &m->e[m->n];
		e->key = strdup(key);
		if (!e->key)
			goto out;
		e->value = NULL;
		m->n++;
	}
	free(e->value);
	e->value = v;
	e->len = len;
	v = NULL;
	rc = EVPN_OK;
out:
	pthread_mutex_unlock(&m->mu);
	free(v);
	return rc;
}

static int m_del(void *self, const char *key)
{
	struct mem *m = self;
	struct ent *e;
	int rc = EVPN_ERR_NOTFOUND;

	if (!key_ok(key))
		return EVPN_ERR_INVAL;
	pthread_mutex_lock(&m->mu);
	e = find(m, key);
	if (e) {
		free(e->key);
		free(e->value);
		*e = m->e[--m->n];
		rc = EVPN_OK;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* Under the lock: a callback must not call back into this store. */
static int m_list(void *self, const char *prefix, evpn_store_list_cb cb,
		  void *arg)
{
	struct mem *m = self;
	size_t plen = strlen(prefix);
	int rc = EVPN_OK;

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n && rc == EVPN_OK; i++)
		if (strncmp(m->e[i].key, prefix, plen) == 0)
			rc = cb(arg, m->e[i].key, m->e[i].value, m->e[i].len);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static void m_free_value(void *self, char *value, size_t len)
{
	if (value)
		memset(value, 0, len);
	free(value);
}

static int m_ping(void *self)
{
	return EVPN_OK;
}

static int m_create(const struct evpn_host *host,
		    const struct evpn_config_node *config, void **self)
{
	struct mem *m = calloc(1, sizeof(*m));

	if (!m)
		return EVPN_ERR_NOMEM;
	pthread_mutex_init(&m->mu, NULL);
	m->host = host;
	*self = m;
	return EVPN_OK;
}

static void m_destroy(void *self)
{
	struct mem *m = self;

	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].key);
		free(m->e[i].value);
	}
	free(m->e);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static const struct evpn_store_ops ops = {
	.size = sizeof(ops),
	.get = m_get,
	.put = m_put,
	.del = m_del,
	.list = m_list,
	.free_value = m_free_value,
	.ping = m_ping,
};

static const struct evpn_plugin_desc desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = TEST_NAME,
	.kind = EVPN_KIND_STORE,
	.version = "0.0.1",
	.description = "in-memory store for the checker's tests",
	.create = m_create,
	.destroy = m_destroy,
	.vtable = &ops,
};

EVPN_PLUGIN_DEFINE(desc)
