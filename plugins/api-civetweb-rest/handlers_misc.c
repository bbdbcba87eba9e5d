/* SPDX-License-Identifier: MIT */
/*
 * /health, /metrics, /openapi.json.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_internal.h"
#include "errmap.h"

/* Anyone: {"status"} only, 200 or 503, for load balancer and container
 * health checks. The master key also gets the version, the plugins and
 * the user count, which would otherwise help a stranger fingerprint us. */
int api_health(struct api_req *r)
{
	const struct evpn_host *h = r->api->host;
	const struct evpn_users_ops *users;
	json_t *j, *plugins;
	void *self;
	bool ok;

	users = api_users(r->api, &self);
	ok = users && users->health(self) == EVPN_OK;
	if (r->who.role != EVPN_ROLE_ADMIN)
		return api_send_json(r, ok ? 200 : 503,
				     json_pack("{s:s}", "status",
					       ok ? "ok" : "unavailable"));

	plugins = json_object();
	for (int k = EVPN_KIND_TRANSPORT; k < EVPN_KIND__COUNT; k++) {
		const char *name = h->plugin_name(h, (enum evpn_kind)k);

		if (name)
			json_object_set_new(plugins,
					    evpn_kind_name((enum evpn_kind)k),
					    json_string(name));
	}
	j = json_pack("{s:s, s:s, s:o, s:I}", "status",
		      ok ? "ok" : "unavailable", "version",
		      h->version ? h->version : "", "plugins", plugins, "peers",
		      (json_int_t)(users ? users->count(self) : 0));
	return api_send_json(r, ok ? 200 : 503, j);
}

int api_openapi(struct api_req *r)
{
	return api_send(r, 200, "application/json", api_openapi_json,
			api_openapi_json_len, NULL);
}

int api_metrics(struct api_req *r)
{
	const struct evpn_host *h = r->api->host;
	char *core, *own, *text;
	size_t lc, lo;
	int rc;

	if (r->who.role != EVPN_ROLE_ADMIN)
		return api_send_error(r, 403, API_CODE_FORBIDDEN,
				      "metrics need the master key");
	core = h->metrics_render ? h->metrics_render(h) : NULL;
	own = api_metrics_fallback(r->api);
	lc = core ? strlen(core) : 0;
	lo = own ? strlen(own) : 0;
	text = malloc(lc + lo + 2);
	if (!text) {
		free(core);
		free(own);
		return api_send_error(r, 500, API_CODE_INTERNAL,
				      "out of memory");
	}
	memcpy(text, core ? core : "", lc);
	if (lc && core[lc - 1] != '\n')
		text[lc++] = '\n';
	memcpy(text + lc, own ? own : "", lo);
	text[lc + lo] = '\0';
	rc = api_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", text,
		      lc + lo, NULL);
	free(text);
	free(core);
	free(own);
	return rc;
}
