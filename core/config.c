/* SPDX-License-Identifier: MIT */
/*
 * Configuration: libyaml's document API into an immutable node tree that
 * keeps file/line/column for every node, with ${VAR} expansion of scalars.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config_impl.h"
#include "log.h"

/* ---------------------------------------------------------------- errors */

static void errors_vadd(struct evpn_errors *e, const char *prefix,
			const char *fmt, va_list ap)
{
	char msg[1024];
	size_t n = 0;

	if (prefix)
		n = (size_t)snprintf(msg, sizeof(msg), "%s", prefix);
	if (n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 8;
		char **m = realloc(e->msg, cap * sizeof(*m));

		if (!m)
			return;
		e->msg = m;
		e->cap = cap;
	}
	e->msg[e->n] = strdup(msg);
	if (e->msg[e->n])
		e->n++;
}

void evpn_errors_add(struct evpn_errors *e, const struct evpn_config_node *at,
		     const char *fmt, ...)
{
	char prefix[PATH_MAX + 40];
	va_list ap;

	if (at && at->file)
		snprintf(prefix, sizeof(prefix), "%s:%u:%u: ", at->file,
			 at->line, at->col);
	else
		prefix[0] = '\0';
	va_start(ap, fmt);
	errors_vadd(e, prefix, fmt, ap);
	va_end(ap);
}

void evpn_errors_addf(struct evpn_errors *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errors_vadd(e, NULL, fmt, ap);
	va_end(ap);
}

void evpn_errors_print(const struct evpn_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "%s\n", e->msg[i]);
}

void evpn_errors_free(struct evpn_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	free(e->msg);
	memset(e, 0, sizeof(*e));
}

/* ------------------------------------------------------------------ tree */

static void node_free(struct evpn_config_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		node_free(n->items[i]);
		if (n->keys)
			free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->kpos);
	free(n->value);
	free(n->resolved);
	free(n);
}

static struct evpn_config_node *convert(struct evpn_config *cfg,
					yaml_document_t *doc, yaml_node_t *yn,
					int depth, struct evpn_errors *errs)
{
	struct evpn_config_node *n = calloc(1, sizeof(*n));
	char err[256];

	if (!n)
		return NULL;
	n->file = cfg->file;
	n->line = (unsigned)yn->start_mark.line + 1;
	n->col = (unsigned)yn->start_mark.column + 1;
	if (depth > 32) {
		evpn_errors_add(errs, n, "nesting too deep");
		goto fail;
	}
	switch (yn->type) {
	case YAML_SCALAR_NODE: {
		const char *raw = (const char *)yn->data.scalar.value;

		n->type = EVPN_NODE_SCALAR;
		if (yn->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		    (!*raw || strcmp(raw, "~") == 0 ||
		     strcmp(raw, "null") == 0 || strcmp(raw, "Null") == 0 ||
		     strcmp(raw, "NULL") == 0))
			n->is_null = true;
		if (strlen(raw) != yn->data.scalar.length) {
			evpn_errors_add(errs, n, "NUL byte in value");
			goto fail;
		}
		n->value = evpn_config_expand(raw, err, sizeof(err));
		if (!n->value) {
			evpn_errors_add(errs, n, "%s", err);
			goto fail;
		}
		break;
	}
	case YAML_SEQUENCE_NODE: {
		size_t cnt = (size_t)(yn->data.sequence.items.top -
				      yn->data.sequence.items.start);

		n->type = EVPN_NODE_SEQ;
		n->items = calloc(cnt ? cnt : 1, sizeof(*n->items));
		if (!n->items)
			goto fail;
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_t *c = yaml_document_get_node(
				doc, yn->data.sequence.items.start[i]);

			n->items[i] = c ? convert(cfg, doc, c, depth + 1, errs)
					: NULL;
			if (!n->items[i])
				goto fail;
			n->n++;
		}
		break;
	}
	case YAML_MAPPING_NODE: {
		size_t cnt = (size_t)(yn->data.mapping.pairs.top -
				      yn->data.mapping.pairs.start);

		n->type = EVPN_NODE_MAP;
		n->items = calloc(cnt ? cnt : 1, sizeof(*n->items));
		n->keys = calloc(cnt ? cnt : 1, sizeof(*n->keys));
		n->kpos = calloc(cnt ? cnt : 1, sizeof(*n->kpos));
		if (!n->items || !n->keys || !n->kpos)
			goto fail;
		for (size_t i = 0; i < cnt; i++) {
			yaml_node_pair_t *p = &yn->data.mapping.pairs.start[i];
			yaml_node_t *k = yaml_document_get_node(doc, p->key);
			yaml_node_t *v = yaml_document_get_node(doc, p->value);
			struct evpn_config_node kn = {.file = cfg->file};

			if (!k || !v)
				goto fail;
			kn.line = (unsigned)k->start_mark.line + 1;
			kn.col = (unsigned)k->start_mark.column + 1;
			if (k->type != YAML_SCALAR_NODE) {
				evpn_errors_add(
					errs, &kn,
					"map keys must be plain strings");
				goto fail;
			}
			for (size_t j = 0; j < n->n; j++) {
				if (strcmp(n->keys[j],
					   (char *)k->data.scalar.value) == 0) {
					evpn_errors_add(errs, &kn,
							"duplicate key '%s'",
							n->keys[j]);
					goto fail;
				}
			}
			n->kpos[i] =
				(kn.line & 0xffff) << 16 | (kn.col & 0xffff);
			n->keys[i] = strdup((char *)k->data.scalar.value);
			if (!n->keys[i])
				goto fail;
			n->items[i] = convert(cfg, doc, v, depth + 1, errs);
			if (!n->items[i]) {
				free(n->keys[i]);
				n->keys[i] = NULL;
				goto fail;
			}
			n->n++;
		}
		break;
	}
	default:
		n->type = EVPN_NODE_SCALAR;
		n->is_null = true;
		n->value = strdup("");
		break;
	}
	return n;
fail:
	node_free(n);
	return NULL;
}

static char *read_all(const char *file, struct evpn_errors *errs)
{
	FILE *f = fopen(file, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		evpn_errors_addf(errs, "%s: cannot open: %s", file,
				 strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *p;

			cap = cap ? cap * 2 : 8192;
			if (cap > (16u << 20)) {
				evpn_errors_addf(errs, "%s: file too large",
						 file);
				goto fail;
			}
			p = realloc(buf, cap);
			if (!p)
				goto fail;
			buf = p;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);

		n += r;
		if (r == 0) {
			if (ferror(f)) {
				evpn_errors_addf(errs, "%s: read error: %s",
						 file, strerror(errno));
				goto fail;
			}
			break;
		}
	}
	fclose(f);
	buf[n] = '\0';
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

struct evpn_config *evpn_config_load(const char *file, const char *text,
				     struct evpn_errors *errs)
{
	struct evpn_config *cfg = calloc(1, sizeof(*cfg));
	yaml_parser_t parser;
	yaml_document_t doc;
	char abs[PATH_MAX], *owned = NULL, *dirc;
	yaml_node_t *root;

	if (!cfg)
		return NULL;
	if (!text) {
		owned = read_all(file, errs);
		if (!owned)
			goto fail_cfg;
		text = owned;
	}
	if (!realpath(file, abs))
		snprintf(abs, sizeof(abs), "%s", file);
	cfg->file = strdup(abs);
	dirc = strdup(abs);
	cfg->dir = dirc ? strdup(dirname(dirc)) : NULL;
	free(dirc);
	if (!cfg->file || !cfg->dir)
		goto fail_cfg;

	if (!yaml_parser_initialize(&parser))
		goto fail_cfg;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     strlen(text));
	if (!yaml_parser_load(&parser, &doc)) {
		evpn_errors_addf(errs, "%s:%zu:%zu: YAML: %s%s%s", cfg->file,
				 parser.problem_mark.line + 1,
				 parser.problem_mark.column + 1,
				 parser.problem ? parser.problem
						: "syntax error",
				 parser.context ? " " : "",
				 parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		goto fail_cfg;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		evpn_errors_addf(errs, "%s: the file is empty", cfg->file);
	} else {
		cfg->root = convert(cfg, &doc, root, 0, errs);
		if (cfg->root && cfg->root->type != EVPN_NODE_MAP) {
			evpn_errors_add(errs, cfg->root,
					"the top level must be a map");
			node_free(cfg->root);
			cfg->root = NULL;
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (!cfg->root)
		goto fail_cfg;
	free(owned);
	return cfg;
fail_cfg:
	free(owned);
	evpn_config_free(cfg);
	return NULL;
}

void evpn_config_free(struct evpn_config *cfg)
{
	if (!cfg)
		return;
	node_free(cfg->root);
	free(cfg->file);
	free(cfg->dir);
	free(cfg);
}

int evpn_config_map_append(struct evpn_config_node *map, const char *key,
			   struct evpn_config_node *value)
{
	struct evpn_config_node **items;
	char **keys, *k;
	unsigned *kpos;

	k = strdup(key);
	if (!k)
		return -1;
	items = realloc(map->items, (map->n + 1) * sizeof(*items));
	if (items)
		map->items = items;
	keys = realloc(map->keys, (map->n + 1) * sizeof(*keys));
	if (keys)
		map->keys = keys;
	kpos = realloc(map->kpos, (map->n + 1) * sizeof(*kpos));
	if (kpos)
		map->kpos = kpos;
	if (!items || !keys || !kpos) {
		free(k);
		return -1;
	}
	map->keys[map->n] = k;
	map->kpos[map->n] = (map->line & 0xffff) << 16 | (map->col & 0xffff);
	map->items[map->n++] = value;
	return 0;
}

/* ------------------------------------------------------------- accessors */

static enum evpn_node_type c_type(const struct evpn_config_node *n)
{
	if (!n || (n->type == EVPN_NODE_SCALAR && n->is_null))
		return EVPN_NODE_NONE;
	return n->type;
}

static const struct evpn_config_node *c_get(const struct evpn_config_node *n,
					    const char *key)
{
	if (!n || n->type != EVPN_NODE_MAP || !key)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->keys[i], key) == 0)
			return n->items[i];
	return NULL;
}

static size_t c_len(const struct evpn_config_node *n)
{
	return n && n->type != EVPN_NODE_SCALAR ? n->n : 0;
}

static const struct evpn_config_node *c_at(const struct evpn_config_node *n,
					   size_t i)
{
	return n && n->type != EVPN_NODE_SCALAR && i < n->n ? n->items[i]
							    : NULL;
}

static const char *c_key_at(const struct evpn_config_node *n, size_t i)
{
	return n && n->type == EVPN_NODE_MAP && i < n->n ? n->keys[i] : NULL;
}

static const char *c_scalar(const struct evpn_config_node *n)
{
	return n && n->type == EVPN_NODE_SCALAR ? n->value : NULL;
}

static const char *c_file(const struct evpn_config_node *n)
{
	return n ? n->file : NULL;
}

static unsigned c_line(const struct evpn_config_node *n)
{
	return n ? n->line : 0;
}

static unsigned c_column(const struct evpn_config_node *n)
{
	return n ? n->col : 0;
}

static const char *value_of(const struct evpn_config_node *map, const char *key)
{
	const struct evpn_config_node *v = c_get(map, key);

	if (!v || v->type != EVPN_NODE_SCALAR || v->is_null)
		return NULL;
	return v->value;
}

static const char *c_get_str(const struct evpn_config_node *map,
			     const char *key, const char *fallback)
{
	const struct evpn_config_node *v = c_get(map, key);

	/* An explicit empty string is a value; null is absent. */
	if (!v || v->type != EVPN_NODE_SCALAR)
		return fallback;
	if (v->is_null && !*v->value)
		return fallback;
	return v->value;
}

static int64_t c_get_int(const struct evpn_config_node *map, const char *key,
			 int64_t fallback)
{
	long long v;

	return evpn_parse_int(value_of(map, key), &v) ? v : fallback;
}

static bool c_get_bool(const struct evpn_config_node *map, const char *key,
		       bool fallback)
{
	bool v;

	return evpn_parse_bool(value_of(map, key), &v) ? v : fallback;
}

static double c_get_duration(const struct evpn_config_node *map,
			     const char *key, double fallback)
{
	double v;

	return evpn_parse_duration(value_of(map, key), &v) ? v : fallback;
}

static uint64_t c_get_size(const struct evpn_config_node *map, const char *key,
			   uint64_t fallback)
{
	unsigned long long v;

	return evpn_parse_size(value_of(map, key), &v) ? v : fallback;
}

static const char *c_get_path(const struct evpn_config_node *map,
			      const char *key, const char *fallback)
{
	struct evpn_config_node *v = (struct evpn_config_node *)c_get(map, key);
	char *dirc, *res;
	size_t n;

	if (!v || v->type != EVPN_NODE_SCALAR || v->is_null || !*v->value)
		return fallback;
	if (v->value[0] == '/' || !v->file)
		return v->value;
	if (v->resolved)
		return v->resolved;
	/* Resolved once, under the loader's single thread, then immutable. */
	dirc = strdup(v->file);
	if (!dirc)
		return v->value;
	n = strlen(dirc) + strlen(v->value) + 2;
	res = malloc(n);
	if (res)
		snprintf(res, n, "%s/%s", dirname(dirc), v->value);
	free(dirc);
	if (!res)
		return v->value;
	v->resolved = res;
	return res;
}

const struct evpn_config_ops evpn_config_ops_impl = {
	.size = sizeof(struct evpn_config_ops),
	.type = c_type,
	.get = c_get,
	.len = c_len,
	.at = c_at,
	.key_at = c_key_at,
	.scalar = c_scalar,
	.file = c_file,
	.line = c_line,
	.column = c_column,
	.get_str = c_get_str,
	.get_int = c_get_int,
	.get_bool = c_get_bool,
	.get_duration = c_get_duration,
	.get_size = c_get_size,
	.get_path = c_get_path,
};
