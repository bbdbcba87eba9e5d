/* SPDX-License-Identifier: MIT */
/*
 * A tiny Prometheus registry. Series are registered once (mutex) and then
 * updated with relaxed atomics from any thread: the packet path pays one
 * atomic add, never a lock.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct evpn_metric {
	struct evpn_metric *next;
	enum evpn_metric_type type;
	char *name, *help, *labels;
	_Atomic int64_t value;
};

static pthread_mutex_t metrics_mu = PTHREAD_MUTEX_INITIALIZER;
static struct evpn_metric *metrics_head, *metrics_tail;

struct evpn_metric *evpn_metrics_get(enum evpn_metric_type type,
				     const char *name, const char *help,
				     const char *labels)
{
	struct evpn_metric *m;

	if (!name)
		return NULL;
	if (!labels)
		labels = "";
	pthread_mutex_lock(&metrics_mu);
	for (m = metrics_head; m; m = m->next)
		if (strcmp(m->name, name) == 0 &&
		    strcmp(m->labels, labels) == 0)
			goto out;
	m = calloc(1, sizeof(*m));
	if (!m)
		goto out;
	m->type = type;
	m->name = strdup(name);
	m->help = strdup(help ? help : "");
	m->labels = strdup(labels);
	if (!m->name || !m->help || !m->labels) {
		free(m->name);
		free(m->help);
		free(m->labels);
		free(m);
		m = NULL;
		goto out;
	}
	if (metrics_tail)
		metrics_tail->next = m;
	else
		metrics_head = m;
	metrics_tail = m;
out:
	pthread_mutex_unlock(&metrics_mu);
	return m;
}

void evpn_metrics_add(struct evpn_metric *m, uint64_t v)
{
	if (m)
		atomic_fetch_add_explicit(&m->value, (int64_t)v,
					  memory_order_relaxed);
}

void evpn_metrics_set(struct evpn_metric *m, int64_t v)
{
	if (m)
		atomic_store_explicit(&m->value, v, memory_order_relaxed);
}

char *evpn_metrics_render(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct evpn_metric *m, *o;

	if (!f)
		return NULL;
	pthread_mutex_lock(&metrics_mu);
	for (m = metrics_head; m; m = m->next) {
		bool first = true;

		/* HELP/TYPE once per name, at its first series; then every
		 * series of that name, so families stay contiguous. */
		for (o = metrics_head; o != m; o = o->next)
			if (strcmp(o->name, m->name) == 0)
				first = false;
		if (!first)
			continue;
		fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
			m->name,
			m->type == EVPN_METRIC_COUNTER ? "counter" : "gauge");
		for (o = m; o; o = o->next) {
			if (strcmp(o->name, m->name) != 0)
				continue;
			if (*o->labels)
				fprintf(f, "%s{%s} %lld\n", o->name, o->labels,
					(long long)atomic_load(&o->value));
			else
				fprintf(f, "%s %lld\n", o->name,
					(long long)atomic_load(&o->value));
		}
	}
	pthread_mutex_unlock(&metrics_mu);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

void evpn_metrics_reset(void)
{
	struct evpn_metric *m, *n;

	pthread_mutex_lock(&metrics_mu);
	for (m = metrics_head; m; m = n) {
		n = m->next;
		free(m->name);
		free(m->help);
		free(m->labels);
		free(m);
	}
	metrics_head = metrics_tail = NULL;
	pthread_mutex_unlock(&metrics_mu);
}
