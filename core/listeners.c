// SPDX-License-Identifier: MIT
/*
 * The local listeners to protect: ports that plugins accept connections on
 * (the API, a stream listener), declared by their owners once bound and
 * read by the egress plugins, which refuse clients' packets to them on every
 * address of the host. Before this registry the egress read the API
 * plugin's vtable and parsed its "host:port": a hidden dependency on one
 * kind of plugin, blind to any other listener.
 *
 * Plugins declare from their own threads and egresses read from the loop,
 * so a mutex guards the list; the generation lets a reader copy the list
 * only after it changed. The egress asks for the generation before every
 * packet batch: that question is two atomic loads, and the mutex is taken
 * only to copy a list that changed.
 */
#include <netinet/in.h>
#include <stdlib.h>

#include "core.h"

void evpn_listeners_init(struct evpn_listeners *l)
{
	pthread_mutex_init(&l->mu, NULL);
	l->v = NULL;
	l->cap = 0;
	atomic_init(&l->n, 0);
	atomic_init(&l->generation, 1);
	l->ready = true;
}

void evpn_listeners_free(struct evpn_listeners *l)
{
	if (!l->ready)
		return;
	free(l->v);
	l->v = NULL;
	l->cap = 0;
	atomic_store(&l->n, 0);
	pthread_mutex_destroy(&l->mu);
	l->ready = false;
}

int evpn_listeners_add(struct evpn_listeners *l, int proto, uint16_t port)
{
	int r = EVPN_OK;
	size_t n;

	if (!port || (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
		return EVPN_ERR_INVAL;
	if (!l->ready)
		return EVPN_ERR_UNAVAILABLE;
	pthread_mutex_lock(&l->mu);
	n = atomic_load_explicit(&l->n, memory_order_relaxed);
	for (size_t i = 0; i < n; i++)
		if (l->v[i].proto == proto && l->v[i].port == port)
			goto out;
	if (n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 4;
		struct evpn_listener *v = realloc(l->v, cap * sizeof(*v));

		if (!v) {
			r = EVPN_ERR_NOMEM;
			goto out;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[n] = (struct evpn_listener){.proto = proto, .port = port};
	atomic_store_explicit(&l->n, n + 1, memory_order_relaxed);
	/* release: a reader that sees the new generation sees the new n */
	atomic_fetch_add_explicit(&l->generation, 1, memory_order_release);
out:
	pthread_mutex_unlock(&l->mu);
	return r;
}

size_t evpn_listeners_get(struct evpn_listeners *l, struct evpn_listener *out,
			  size_t max, uint64_t *generation)
{
	size_t n;

	if (!l->ready) {
		if (generation)
			*generation = 0;
		return 0;
	}
	if (!out || max == 0) {
		/* the generation and the count only: no list to copy */
		uint64_t g = atomic_load_explicit(&l->generation,
						  memory_order_acquire);

		n = atomic_load_explicit(&l->n, memory_order_relaxed);
		if (generation)
			*generation = g;
		return n;
	}
	pthread_mutex_lock(&l->mu);
	n = atomic_load_explicit(&l->n, memory_order_relaxed);
	for (size_t i = 0; i < n && i < max; i++)
		out[i] = l->v[i];
	if (generation)
		*generation = atomic_load_explicit(&l->generation,
						   memory_order_relaxed);
	pthread_mutex_unlock(&l->mu);
	return n;
}
