// SPDX-License-Identifier: MIT
/* evpnctl list */
#include <stdio.h>

#include <jansson.h>

#include "commands.h"

int evpnctl_cmd_list(const struct evpnctl_args *a)
{
	struct evpnctl_http_resp resp = {0};
	struct evpnctl_ctx ctx;
	json_t *list = NULL, *v;
	size_t i;
	int code;

	code = evpnctl_ctx_init(&ctx, true);
	if (code)
		return code;
	code = evpnctl_call(&ctx, NULL, "GET", "/users", NULL, 200, 0, NULL,
			    &resp);
	if (code)
		goto out;
	list = json_loadb(resp.body, resp.len, 0, NULL);
	if (!json_is_array(list)) {
		evpnctl_err("GET /users: the server did not answer a JSON "
			    "list");
		code = EVPNCTL_EXIT_SERVER;
		goto out;
	}
	json_array_foreach(list, i, v)
	{
		if (json_is_string(v))
			printf("%s\n", json_string_value(v));
	}
out:
	json_decref(list);
	evpnctl_http_resp_free(&resp);
	evpnctl_ctx_fini(&ctx);
	return code;
}
