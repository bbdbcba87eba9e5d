#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memstore.h"

struct entry {
	char *key, *value;
	size_t len;
};

struct memstore {
	pthread_mutex_t mu;
	struct entry *e;
	size_t n, cap;
	long fail_after;
	size_t gets; /* get calls, for tests of what is read */
	char hook_prefix[64];
	void (*hook)(void *);
	void *hook_arg;
};

struct memstore *memstore_new(void)
{
	struct memstore *m = calloc(1, sizeof(*m));

	pthread_mutex_init(&m->mu, NULL);
	m->fail_after = -1;
	return m;
}

void memstore_free(struct memstore *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].key);
		free(m->e[i].value);
	}
	free(m->e);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void memstore_fail_after(struct memstore *m, long n)
{
	pthread_mutex_lock(&m->mu);
	m->fail_after = n;
	pthread_mutex_unlock(&m->mu);
}

static struct entry *find(struct memstore *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->e[i].key, key) == 0)
			return &m->e[i];
	return NULL;
}

/* Returns non-zero when the store is "down"; counts a write. */
static int down(struct memstore *m, int write)
{
	if (m->fail_after == 0)
		return 1;
	if (write && m->fail_after > 0)
		m->fail_after--;
	return 0;
}

static int ms_get(void *self, const char *key, char **value, size_t *len)
{
	struct memstore *m = self;
	struct entry *e;
	int r = EVPN_OK;

	pthread_mutex_lock(&m->mu);
	m->gets++;
	if (down(m, 0)) {
		r = EVPN_ERR_UNAVAILABLE;
	} else if (!(e = find(m, key))) {
		r = EVPN_ERR_NOTFOUND;
	} else {
		*value = strndup(e->value, e->len);
		*len = e->len;
	}
	pthread_mutex_unlock(&m->mu);
	return r;
}

static int ms_put(void *self, const char *key, const char *value, size_t len,
		  uint32_t flags)
{
	struct memstore *m = self;
	struct entry *e;
	int r = EVPN_OK;

	pthread_mutex_lock(&m->mu);
	if (down(m, 1)) {
		r = EVPN_ERR_UNAVAILABLE;
		goto out;
	}
	e = find(m, key);
	if (e && (flags & EVPN_STORE_CREATE)) {
		r = EVPN_ERR_EXISTS;
		goto out;
	}
	if (!e) {
		if (m->n == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 64;
			m->e = realloc(m->e, m->cap * sizeof(*m->e));
		}
		e = &m->e[m->n++];
		e->key = strdup(key);
		e->value = NULL;
	}
	free(e->value);
	e->value = strndup(value, len);
	e->len = len;
out:
	pthread_mutex_unlock(&m->mu);
	return r;
}

int memstore_put_raw(struct memstore *m, const char *key, const char *value)
{
	return ms_put(m, key, value, strlen(value), 0);
}

static int ms_del(void *self, const char *key)
{
	struct memstore *m = self;
	struct entry *e;
	int r = EVPN_OK;

	pthread_mutex_lock(&m->mu);
	if (down(m, 1)) {
		r = EVPN_ERR_UNAVAILABLE;
	} else if (!(e = find(m, key))) {
		r = EVPN_ERR_NOTFOUND;
	} else {
		free(e->key);
		free(e->value);
		*e = m->e[--m->n];
	}
	pthread_mutex_unlock(&m->mu);
	return r;
}

void memstore_after_list(struct memstore *m, const char *prefix,
			 void (*fn)(void *), void *arg)
{
	pthread_mutex_lock(&m->mu);
	snprintf(m->hook_prefix, sizeof(m->hook_prefix), "%s", prefix);
	m->hook = fn;
	m->hook_arg = arg;
	pthread_mutex_unlock(&m->mu);
}

static int ms_list(void *self, const char *prefix, evpn_store_list_cb cb,
		   void *arg)
{
	struct memstore *m = self;
	size_t pl = strlen(prefix);
	void (*hook)(void *) = NULL;
	void *hook_arg = NULL;
	int r = EVPN_OK;

	pthread_mutex_lock(&m->mu);
	if (down(m, 0))
		r = EVPN_ERR_UNAVAILABLE;
	for (size_t i = 0; r == EVPN_OK && i < m->n; i++)
		if (strncmp(m->e[i].key, prefix, pl) == 0 &&
		    cb(arg, m->e[i].key, m->e[i].value, m->e[i].len))
			break;
	if (m->hook && strcmp(m->hook_prefix, prefix) == 0) {
		hook = m->hook;
		hook_arg = m->hook_arg;
		m->hook = NULL;
	}
	pthread_mutex_unlock(&m->mu);
	if (hook)
		hook(hook_arg);
	return r;
}

size_t memstore_gets(struct memstore *m)
{
	size_t n;

	pthread_mutex_lock(&m->mu);
	n = m->gets;
	pthread_mutex_unlock(&m->mu);
	return n;
}

size_t memstore_count(struct memstore *m, const char *prefix)
{
	size_t n = 0, pl = strlen(prefix);

	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++)
		if (strncmp(m->e[i].key, prefix, pl) == 0)
			n++;
	pthread_mutex_unlock(&m->mu);
	return n;
}

static void ms_free_value(void *self, char *value, size_t len)
{
	free(value);
}

static int ms_ping(void *self)
{
	struct memstore *m = self;
	int r;

	pthread_mutex_lock(&m->mu);
	r = down(m, 0) ? EVPN_ERR_UNAVAILABLE : EVPN_OK;
	pthread_mutex_unlock(&m->mu);
	return r;
}

const struct evpn_store_ops memstore_ops = {
	.size = sizeof(memstore_ops),
	.get = ms_get,
	.put = ms_put,
	.del = ms_del,
	.list = ms_list,
	.free_value = ms_free_value,
	.ping = ms_ping,
};
