// SPDX-License-Identifier: MIT
/* evpnctl audit [--limit N], evpnctl link NAME [--ttl D] */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"

#define AUDIT_DEFAULT 50
#define AUDIT_PAGE 500

static const char *str(json_t *e, const char *k)
{
	const char *v = json_string_value(json_object_get(e, k));

	return v && *v ? v : "-";
}

/* One line per entry; the fields are the server's text, printed with %s
 * only, and control characters replaced so a line stays one line. */
static void print_entry(json_t *e)
{
	char line[640];
	json_int_t st = json_integer_value(json_object_get(e, "status"));

	snprintf(line, sizeof(line),
		 "%s  %-7s %-20s %-18s %-16s %-7s %3lld  %s", str(e, "time"),
		 str(e, "action"), str(e, "target"), str(e, "actor"),
		 str(e, "source"), str(e, "outcome"), (long long)st,
		 json_object_get(e, "detail") ? str(e, "detail") : "");
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	printf("%s\n", line);
}

int evpnctl_cmd_audit(const struct evpnctl_args *a)
{
	struct evpnctl_http_resp resp = {0};
	unsigned want = a->limit ? a->limit : AUDIT_DEFAULT, got = 0;
	struct evpnctl_ctx ctx;
	char path[160], after[64] = "";
	json_t *page = NULL;
	int code;

	code = evpnctl_ctx_init(&ctx, true);
	if (code)
		return code;
	while (got < want) {
		unsigned n = want - got > AUDIT_PAGE ? AUDIT_PAGE : want - got;
		json_t *entries, *next, *e;
		size_t i;

		snprintf(path, sizeof(path), "/audit?limit=%u%s%s", n,
			 after[0] ? "&after=" : "", after);
		code = evpnctl_call(&ctx, NULL, "GET", path, NULL, 200, 0, NULL,
				    &resp);
		if (code)
			break;
		page = json_loadb(resp.body, resp.len, 0, NULL);
		entries = json_object_get(page, "entries");
		next = json_object_get(page, "next");
		if (!json_is_array(entries)) {
			evpnctl_err("GET /audit: the server did not answer "
				    "a page of entries");
			code = EVPNCTL_EXIT_SERVER;
			break;
		}
		json_array_foreach(entries, i, e)
		{
			print_entry(e);
			got++;
		}
		/* a cursor is digits, '/', '-' and hex: safe in a URL */
		if (!json_is_string(next) ||
		    strlen(json_string_value(next)) >= sizeof(after) ||
		    strspn(json_string_value(next), "0123456789abcdef/-") !=
			    strlen(json_string_value(next)) ||
		    json_array_size(entries) == 0)
			break;
		snprintf(after, sizeof(after), "%s", json_string_value(next));
		json_decref(page);
		page = NULL;
		evpnctl_http_resp_free(&resp);
		memset(&resp, 0, sizeof(resp));
	}
	json_decref(page);
	evpnctl_http_resp_free(&resp);
	evpnctl_ctx_fini(&ctx);
	return code;
}

int evpnctl_cmd_link(const struct evpnctl_args *a)
{
	struct evpnctl_http_resp resp = {0};
	struct evpnctl_ctx ctx;
	char path[160], body[64] = "";
	json_t *o = NULL;
	const char *url, *exp;
	int code;

	code = evpnctl_ctx_init(&ctx, true);
	if (code)
		return code;
	snprintf(path, sizeof(path), "/users/%s/links", a->name);
	if (a->ttl) /* checked by args: digits and a unit */
		snprintf(body, sizeof(body), "{\"ttl\":\"%s\"}", a->ttl);
	code = evpnctl_call(&ctx, NULL, "POST", path, a->ttl ? body : NULL, 201,
			    0, a->name, &resp);
	if (code)
		goto out;
	o = json_loadb(resp.body, resp.len, 0, NULL);
	url = json_string_value(json_object_get(o, "url"));
	exp = json_string_value(json_object_get(o, "expires_at"));
	if (!url || strpbrk(url, "\r\n\033")) {
		evpnctl_err("POST %s: the server did not answer a link", path);
		code = EVPNCTL_EXIT_SERVER;
		goto out;
	}
	printf("%s\n", url);
	if (exp && !strpbrk(exp, "\r\n\033"))
		fprintf(stderr, "valid once, until %s\n", exp);
out:
	if (o)
		json_decref(o);
	evpnctl_http_resp_free(&resp);
	evpnctl_ctx_fini(&ctx);
	return code;
}
