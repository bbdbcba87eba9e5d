/* SPDX-License-Identifier: MIT */
/*
 * evpn_api_requests_total{status="..."}: registered with the host so it is
 * part of host->metrics_render(). Series are registered lazily per status
 * (the host returns the same series for the same name and labels, and is
 * callable from any thread). We also count on our own, and render those
 * counts only for statuses the host could not register.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"

#define NAME "evpn_api_requests_total"
#define HELP "HTTP API requests by response status"

static struct evpn_metric *series(struct api *a, int status)
{
	struct evpn_metric *m = atomic_load(&a->m_status[status]);
	char labels[32];

	if (m || !a->host->metric)
		return m;
	snprintf(labels, sizeof(labels), "status=\"%d\"", status);
	m = a->host->metric(a->host, EVPN_METRIC_COUNTER, NAME, HELP, labels);
	if (m)
		atomic_store(&a->m_status[status], m);
	return m;
}

void api_metrics_init(struct api *a)
{
	/* The common statuses exist (at 0) before the first request. */
	static const int common[] = {200, 201, 204, 400, 401, 403, 404,
				     405, 409, 413, 415, 429, 500, 503};

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		(void)series(a, common[i]);
}

void api_metrics_count(struct api *a, int status)
{
	struct evpn_metric *m;

	if (status < 100 || status >= API_STATUS_MAX)
		return;
	atomic_fetch_add(&a->n_status[status], 1);
	m = series(a, status);
	if (m)
		a->host->metric_add(m, 1);
}

char *api_metrics_fallback(struct api *a)
{
	size_t cap = 256, len = 0;
	char *out = malloc(cap);
	bool header = false;

	if (!out)
		return NULL;
	out[0] = '\0';
	for (int s = 100; s < API_STATUS_MAX; s++) {
		uint64_t n = atomic_load(&a->n_status[s]);
		char line[256];
		int w = 0;

		if (atomic_load(&a->m_status[s]) || n == 0)
			continue;
		if (!header) {
			w = snprintf(line, sizeof(line),
				     "# HELP %s %s\n# TYPE %s counter\n", NAME,
				     HELP, NAME);
			header = true;
		}
		w += snprintf(line + w, sizeof(line) - (size_t)w,
			      "%s{status=\"%d\"} %llu\n", NAME, s,
			      (unsigned long long)n);
		if (len + (size_t)w + 1 > cap) {
			char *np = realloc(out, cap * 2 + (size_t)w);

			if (!np) {
				free(out);
				return NULL;
			}
			out = np;
			cap = cap * 2 + (size_t)w;
		}
		memcpy(out + len, line, (size_t)w + 1);
		len += (size_t)w;
	}
	return out;
}
