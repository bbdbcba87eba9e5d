/* SPDX-License-Identifier: MIT */
#ifndef EVPN_CORE_CONFIG_IMPL_H
#define EVPN_CORE_CONFIG_IMPL_H

#include <stdbool.h>
#include <stddef.h>

#include <evpn/config.h>
#include <evpn/plugin.h>

struct evpn_config_node {
	enum evpn_node_type type;
	char *value;	/* scalar text after ${VAR} expansion */
	bool is_null;	/* `~`, `null` or empty plain scalar */
	bool secret;	/* marked by a schema: never print */
	size_t n;	/* map entries / sequence items */
	char **keys;	/* map keys */
	unsigned *kpos; /* map keys' positions: line << 16 | column */
	struct evpn_config_node **items;
	const char *file;   /* owned by the config */
	unsigned line, col; /* 1-based */
	char *resolved;	    /* get_path cache */
};

/* Append a key/value pair to a map node (defaults, implied sections). */
int evpn_config_map_append(struct evpn_config_node *map, const char *key,
			   struct evpn_config_node *value);

/* A list of "FILE:LINE:COL: message" errors. */
struct evpn_errors {
	char **msg;
	size_t n, cap;
};

void evpn_errors_add(struct evpn_errors *e, const struct evpn_config_node *at,
		     const char *fmt, ...) EVPN_PRINTF(3, 4);
void evpn_errors_addf(struct evpn_errors *e, const char *fmt, ...)
	EVPN_PRINTF(2, 3);
void evpn_errors_print(const struct evpn_errors *e);
void evpn_errors_free(struct evpn_errors *e);

struct evpn_config {
	char *file; /* absolute path */
	char *dir;  /* its directory */
	struct evpn_config_node *root;
};

/* Parse a YAML file (or, with text != NULL, a string "as if" from file). */
struct evpn_config *evpn_config_load(const char *file, const char *text,
				     struct evpn_errors *errs);
void evpn_config_free(struct evpn_config *cfg);

/* Validate map node `n` against a schema; fills absent defaults in place.
 * `what` names the section in messages ("plugins.store.config"). Returns the
 * number of errors added. */
size_t evpn_config_validate(struct evpn_config_node *n,
			    const struct evpn_config_key *schema,
			    const char *what, struct evpn_errors *errs);

/* ${VAR} / ${VAR:-default} expansion; NULL + *err on failure. */
char *evpn_config_expand(const char *in, char *err, size_t errlen);

/* Value parsers shared by validation and the typed getters. */
bool evpn_parse_bool(const char *s, bool *out);
bool evpn_parse_int(const char *s, long long *out);
bool evpn_parse_duration(const char *s, double *seconds);
bool evpn_parse_size(const char *s, unsigned long long *bytes);
bool evpn_parse_addr(const char *s, char *host, size_t hostlen, unsigned *port);
bool evpn_parse_cidr(const char *s, int *family, unsigned char addr[16],
		     unsigned *prefix);

extern const struct evpn_config_ops evpn_config_ops_impl;

/* Print a schema table (evpnd describe). */
void evpn_config_describe(const struct evpn_config_key *schema, int indent);

#endif
