/* SPDX-License-Identifier: MIT */
/*
 * Read-only access to the YAML configuration, and the schema tables plugins
 * use to declare their keys (in the spirit of fluent-bit's config maps).
 *
 * The core parses the file with libyaml into an immutable node tree that
 * keeps each node's file, line and column, expands ${VAR} / ${VAR:-default}
 * in scalars, and validates every plugin's `config:` subtree against the
 * plugin's schema before calling its create():
 *   - unknown keys are rejected (the message lists the allowed ones),
 *   - required keys must be present, values must parse as their type,
 *   - absent keys that have a default are filled in with that default.
 * So inside create() a plugin can read any key of its schema with the typed
 * getters below and never sees a malformed value.
 */
#ifndef EVPN_CONFIG_H
#define EVPN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct evpn_config_node;

enum evpn_node_type {
	EVPN_NODE_NONE = 0, /* absent (NULL node) */
	EVPN_NODE_SCALAR = 1,
	EVPN_NODE_MAP = 2,
	EVPN_NODE_SEQ = 3,
};

/* Value types of schema keys. */
enum evpn_cfg_type {
	EVPN_CFG_STRING = 1, /* any scalar */
	EVPN_CFG_INT = 2,    /* decimal integer, within [min, max] when set */
	EVPN_CFG_BOOL = 3,   /* true/false/yes/no/on/off/1/0 */
	EVPN_CFG_DURATION =
		4,	   /* "250ms", "30s", "5m", "24h", "7d" or seconds */
	EVPN_CFG_SIZE = 5, /* "512", "64k", "16M", "1G" (powers of 1024) */
	EVPN_CFG_ADDR = 6, /* "host:port", "[v6]:port" */
	EVPN_CFG_CIDR = 7, /* "10.0.0.0/8", "fd00::/64" */
	EVPN_CFG_STRLIST =
		8, /* sequence of scalars (a lone scalar is a list of one) */
	EVPN_CFG_CIDRLIST = 9, /* sequence of CIDRs */
	EVPN_CFG_MAP = 10,     /* nested map validated against .children */
	EVPN_CFG_ANY = 11,     /* not validated: the plugin checks it itself */
	EVPN_CFG_PATH =
		12, /* file system path; relative = to the config file */
};

#define EVPN_CFG_REQUIRED (1u << 0) /* must be present (and non-empty) */
#define EVPN_CFG_SECRET (1u << 1)   /* never printed or logged */

struct evpn_config_key {
	const char *key;
	enum evpn_cfg_type type;
	const char *def; /* default as it would be written in YAML, or NULL */
	uint32_t flags;
	const char *desc;
	const struct evpn_config_key *children; /* for EVPN_CFG_MAP */
	int64_t min, max;			/* for INT when min < max */
};

#define EVPN_CONFIG_KEYS_END \
	{                    \
		.key = NULL  \
	}

/*
 * Node access, offered by the host (struct evpn_host.config). All returned
 * strings live as long as the configuration; never free them. Every function
 * accepts a NULL node and then returns the "absent" answer.
 */
struct evpn_config_ops {
	uint32_t size;
	enum evpn_node_type (*type)(const struct evpn_config_node *n);
	/* Map lookup; NULL when absent or when n is not a map. */
	const struct evpn_config_node *(*get)(const struct evpn_config_node *n,
					      const char *key);
	/* Number of entries of a map or sequence (0 for a scalar). */
	size_t (*len)(const struct evpn_config_node *n);
	/* i-th element of a sequence, or i-th value of a map. */
	const struct evpn_config_node *(*at)(const struct evpn_config_node *n,
					     size_t i);
	/* i-th key of a map. */
	const char *(*key_at)(const struct evpn_config_node *n, size_t i);
	/* Scalar text after ${VAR} expansion; NULL for non-scalars. */
	const char *(*scalar)(const struct evpn_config_node *n);
	/* Where the node was written. */
	const char *(*file)(const struct evpn_config_node *n);
	unsigned (*line)(const struct evpn_config_node *n);
	unsigned (*column)(const struct evpn_config_node *n);

	/* Typed getters of a map's key, after validation against a schema.
	 * They return the fallback when the key is absent or does not parse. */
	const char *(*get_str)(const struct evpn_config_node *map,
			       const char *key, const char *fallback);
	int64_t (*get_int)(const struct evpn_config_node *map, const char *key,
			   int64_t fallback);
	bool (*get_bool)(const struct evpn_config_node *map, const char *key,
			 bool fallback);
	/* Duration in seconds. */
	double (*get_duration)(const struct evpn_config_node *map,
			       const char *key, double fallback);
	/* Size in bytes. */
	uint64_t (*get_size)(const struct evpn_config_node *map,
			     const char *key, uint64_t fallback);
	/* Path resolved against the directory of the file the node is in;
	 * returns a pointer to storage owned by the config. */
	const char *(*get_path)(const struct evpn_config_node *map,
				const char *key, const char *fallback);
};

#ifdef __cplusplus
}
#endif
#endif /* EVPN_CONFIG_H */
