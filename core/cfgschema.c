/* SPDX-License-Identifier: MIT */
/*
 * Schema validation of config subtrees (fluent-bit's config maps): unknown
 * keys are rejected with the allowed ones listed, values are type-checked,
 * required keys enforced, and absent keys with a default are filled in so
 * that plugins read every key of their schema with the typed getters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

static const char *type_name(enum evpn_cfg_type t)
{
	switch (t) {
	case EVPN_CFG_STRING: return "string";
	case EVPN_CFG_INT: return "integer";
	case EVPN_CFG_BOOL: return "boolean";
	case EVPN_CFG_DURATION: return "duration";
	case EVPN_CFG_SIZE: return "size";
	case EVPN_CFG_ADDR: return "host:port";
	case EVPN_CFG_CIDR: return "CIDR";
	case EVPN_CFG_STRLIST: return "list of strings";
	case EVPN_CFG_CIDRLIST: return "list of CIDRs";
	case EVPN_CFG_MAP: return "map";
	case EVPN_CFG_ANY: return "any";
	case EVPN_CFG_PATH: return "path";
	}
	return "?";
}

static bool scalar_ok(enum evpn_cfg_type t, const char *v)
{
	char host[256];
	unsigned port, prefix;
	unsigned char a[16];
	int fam;
	bool b;
	long long i;
	double d;
	unsigned long long sz;

	switch (t) {
	case EVPN_CFG_STRING:
	case EVPN_CFG_PATH:
	case EVPN_CFG_ANY: return true;
	case EVPN_CFG_INT: return evpn_parse_int(v, &i);
	case EVPN_CFG_BOOL: return evpn_parse_bool(v, &b);
	case EVPN_CFG_DURATION: return evpn_parse_duration(v, &d);
	case EVPN_CFG_SIZE: return evpn_parse_size(v, &sz);
	case EVPN_CFG_ADDR:
		return evpn_parse_addr(v, host, sizeof(host), &port);
	case EVPN_CFG_CIDR:
	case EVPN_CFG_CIDRLIST: return evpn_parse_cidr(v, &fam, a, &prefix);
	case EVPN_CFG_STRLIST: return true;
	case EVPN_CFG_MAP: return false;
	}
	return false;
}

static const char *hint(enum evpn_cfg_type t)
{
	switch (t) {
	case EVPN_CFG_DURATION: return " (e.g. 30s, 5m, 24h)";
	case EVPN_CFG_SIZE: return " (e.g. 64k, 16M)";
	case EVPN_CFG_ADDR: return " (e.g. 0.0.0.0:51820 or [::]:51820)";
	case EVPN_CFG_CIDR:
	case EVPN_CFG_CIDRLIST: return " (e.g. 10.77.0.0/16)";
	case EVPN_CFG_BOOL: return " (true or false)";
	default: return "";
	}
}

static void check_value(struct evpn_config_node *v,
			const struct evpn_config_key *k, const char *what,
			struct evpn_errors *errs)
{
	long long iv;

	if (k->flags & EVPN_CFG_SECRET)
		v->secret = true;
	switch (k->type) {
	case EVPN_CFG_ANY: return;
	case EVPN_CFG_MAP:
		if (v->type == EVPN_NODE_SCALAR && v->is_null) {
			/* `key:` with nothing: an empty map. */
			free(v->value);
			v->value = NULL;
			v->type = EVPN_NODE_MAP;
			v->is_null = false;
		}
		if (v->type != EVPN_NODE_MAP) {
			evpn_errors_add(errs, v, "%s.%s must be a map", what,
					k->key);
			return;
		}
		if (k->children) {
			char sub[256];

			snprintf(sub, sizeof(sub), "%s.%s", what, k->key);
			evpn_config_validate(v, k->children, sub, errs);
		}
		return;
	case EVPN_CFG_STRLIST:
	case EVPN_CFG_CIDRLIST:
		if (v->type == EVPN_NODE_SCALAR) {
			if (k->type == EVPN_CFG_CIDRLIST && !v->is_null &&
			    !scalar_ok(k->type, v->value))
				evpn_errors_add(
					errs, v, "%s.%s: '%s' is not a CIDR%s",
					what, k->key, v->value, hint(k->type));
			return;
		}
		if (v->type != EVPN_NODE_SEQ) {
			evpn_errors_add(errs, v, "%s.%s must be a list", what,
					k->key);
			return;
		}
		for (size_t i = 0; i < v->n; i++) {
			struct evpn_config_node *it = v->items[i];

			if (it->type != EVPN_NODE_SCALAR)
				evpn_errors_add(errs, it,
						"%s.%s[%zu] must be a string",
						what, k->key, i);
			else if (!scalar_ok(k->type, it->value))
				evpn_errors_add(errs, it,
						"%s.%s[%zu]: '%s' is not a "
						"CIDR%s",
						what, k->key, i, it->value,
						hint(k->type));
		}
		return;
	default: break;
	}
	if (v->type != EVPN_NODE_SCALAR) {
		evpn_errors_add(errs, v, "%s.%s must be a %s, not a %s", what,
				k->key, type_name(k->type),
				v->type == EVPN_NODE_MAP ? "map" : "list");
		return;
	}
	if (v->is_null && !*v->value) {
		if (k->flags & EVPN_CFG_REQUIRED)
			evpn_errors_add(errs, v, "%s.%s must not be empty",
					what, k->key);
		return;
	}
	if (!scalar_ok(k->type, v->value)) {
		if (k->flags & EVPN_CFG_SECRET)
			evpn_errors_add(errs, v, "%s.%s is not a valid %s%s",
					what, k->key, type_name(k->type),
					hint(k->type));
		else
			evpn_errors_add(errs, v,
					"%s.%s: '%s' is not a valid %s%s", what,
					k->key, v->value, type_name(k->type),
					hint(k->type));
		return;
	}
	if (k->type == EVPN_CFG_INT && k->min < k->max) {
		evpn_parse_int(v->value, &iv);
		if (iv < k->min || iv > k->max)
			evpn_errors_add(errs, v,
					"%s.%s: %lld is out of range "
					"[%lld, %lld]",
					what, k->key, iv, (long long)k->min,
					(long long)k->max);
	}
	if ((k->flags & EVPN_CFG_REQUIRED) && !*v->value)
		evpn_errors_add(errs, v, "%s.%s must not be empty", what,
				k->key);
}

static int add_default(struct evpn_config_node *map,
		       const struct evpn_config_key *k)
{
	struct evpn_config_node *d = calloc(1, sizeof(*d));
	char err[200];

	if (!d)
		return -1;
	d->file = map->file;
	d->line = map->line;
	d->col = map->col;
	if (k->type == EVPN_CFG_MAP) {
		d->type = EVPN_NODE_MAP;
	} else {
		d->type = EVPN_NODE_SCALAR;
		d->value = evpn_config_expand(k->def ? k->def : "", err,
					      sizeof(err));
		if (!d->value) {
			free(d);
			return -1;
		}
		d->is_null = !k->def;
	}
	if (evpn_config_map_append(map, k->key, d)) {
		free(d->value);
		free(d);
		return -1;
	}
	return 0;
}

size_t evpn_config_validate(struct evpn_config_node *n,
			    const struct evpn_config_key *schema,
			    const char *what, struct evpn_errors *errs)
{
	size_t before = errs->n;

	if (n->type == EVPN_NODE_SCALAR && n->is_null) {
		free(n->value);
		n->value = NULL;
		n->type = EVPN_NODE_MAP;
		n->is_null = false;
	}
	if (n->type != EVPN_NODE_MAP) {
		evpn_errors_add(errs, n, "%s must be a map", what);
		return errs->n - before;
	}
	/* Unknown keys, listing the allowed ones. */
	for (size_t i = 0; i < n->n; i++) {
		const struct evpn_config_key *k = schema;

		while (k && k->key && strcmp(k->key, n->keys[i]) != 0)
			k++;
		if (!k || !k->key) {
			char allowed[1024] = "";
			size_t len = 0;

			for (k = schema; k && k->key; k++)
				len += (size_t)snprintf(
					allowed + len,
					len < sizeof(allowed)
						? sizeof(allowed) - len
						: 0,
					"%s%s", len ? ", " : "", k->key);
			struct evpn_config_node at = *n;

			if (n->kpos) {
				at.line = n->kpos[i] >> 16;
				at.col = n->kpos[i] & 0xffff;
			}
			evpn_errors_add(
				errs, &at, "%s: unknown key '%s' (allowed: %s)",
				what, n->keys[i], *allowed ? allowed : "none");
		}
	}
	for (const struct evpn_config_key *k = schema; k && k->key; k++) {
		struct evpn_config_node *v =
			(struct evpn_config_node *)evpn_config_ops_impl.get(
				n, k->key);

		if (!v) {
			if (k->flags & EVPN_CFG_REQUIRED) {
				evpn_errors_add(errs, n,
						"%s: missing required key '%s'",
						what, k->key);
				continue;
			}
			if (!k->def && k->type != EVPN_CFG_MAP)
				continue;
			if (add_default(n, k)) {
				evpn_errors_add(errs, n,
						"%s.%s: bad default '%s'", what,
						k->key, k->def ? k->def : "");
				continue;
			}
			v = n->items[n->n - 1];
		}
		check_value(v, k, what, errs);
		if (k->type == EVPN_CFG_PATH)
			(void)evpn_config_ops_impl.get_path(n, k->key, NULL);
	}
	return errs->n - before;
}

void evpn_config_describe(const struct evpn_config_key *schema, int indent)
{
	if (!schema || !schema->key) {
		printf("%*s(no configuration keys)\n", indent, "");
		return;
	}
	for (const struct evpn_config_key *k = schema; k->key; k++) {
		printf("%*s%-18s %-15s", indent, "", k->key,
		       type_name(k->type));
		if (k->flags & EVPN_CFG_REQUIRED)
			printf(" required");
		else if (k->def && (k->flags & EVPN_CFG_SECRET))
			printf(" default: (secret)");
		else if (k->def)
			printf(" default: %s", *k->def ? k->def : "\"\"");
		if (k->flags & EVPN_CFG_SECRET)
			printf(" [secret]");
		if (k->type == EVPN_CFG_INT && k->min < k->max)
			printf(" range: %lld..%lld", (long long)k->min,
			       (long long)k->max);
		printf("\n");
		if (k->desc)
			printf("%*s    %s\n", indent, "", k->desc);
		if (k->type == EVPN_CFG_MAP && k->children)
			evpn_config_describe(k->children, indent + 4);
	}
}
