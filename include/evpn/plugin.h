/* SPDX-License-Identifier: MIT */
/*
 * evpn plugin ABI: the descriptor every plugin exports and the one entry
 * symbol the core looks up.
 *
 * A plugin is a shared object exporting exactly one symbol the core cares
 * about, EVPN_PLUGIN_ENTRY ("evpn_plugin_entry"). The core calls it with its
 * own ABI version; the plugin returns its descriptor, or NULL when it cannot
 * work with that host (two-way negotiation: the major must be equal both
 * ways, and the plugin's minor must not exceed the host's).
 *
 * Versions. ABI 2.0 is every field declared in these headers today, and
 * every one of them is there: a 2.x host requires a 2.0 plugin's vtable to
 * be at least as large as the 2.0 struct, and a 2.x plugin may rely on
 * every 2.0 field of the host (struct evpn_host and the services).
 *
 * Struct growth: the descriptor, the host and every vtable begin with
 * their own size. New fields are only ever appended, each with a minor
 * bump ("2.1: appended evpn_x_ops.y"). A host loads plugins of its minor or
 * older (never newer), so a plugin finds every field it was built with; the
 * host reads a field appended after 2.0 from a plugin's struct only after
 * EVPN_HAS_FIELD says the plugin has it. A change that is not an append (a
 * field removed, moved or retyped) is a major bump, and a different major
 * is refused both ways. The first three fields of struct evpn_plugin_desc
 * (size, abi_major, abi_minor) never move, in any major, so that a host can
 * name the version of a plugin it refuses.
 *
 * History:
 * 1.0: the first ABI.
 * 1.1: appended evpn_users_ops.update, allowed_ips, audit, audit_list,
 *      link_create, link_redeem, quota, create_more (with their new structs,
 *      each beginning with its size).
 * 2.0: struct evpn_user's status is an enum evpn_user_status (it was the
 *      name in a char[16]): a retyped field, hence the major. Every field
 *      of these headers is part of 2.0, what 1.1 appended included, and
 *      needs no EVPN_HAS_FIELD test. A 1.x plugin is refused: rebuild it
 *      against these headers (reading evpn_user.status as the enum, and
 *      evpn_user_status_name() for its name). Also new in 2.0: per-user
 *      rate limits (evpn_peer_config.rate_limit_bps, evpn_users_ops.rate_limit,
 *      the rate fields of evpn_user_create_more and evpn_user_update).
 */
#ifndef EVPN_PLUGIN_H
#define EVPN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EVPN_ABI_MAJOR 2
#define EVPN_ABI_MINOR 0

#define EVPN_PLUGIN_ENTRY_SYMBOL "evpn_plugin_entry"

/*
 * EVPN_HAS_FIELD(p, field): true when the struct *p (a vtable, the host,
 * a descriptor: anything that begins with `uint32_t size`) was built with
 * `field`, i.e. the other side knows a field appended after 2.0. Fields of
 * 2.0 need no test.
 */
#define EVPN_HAS_FIELD(p, field) \
	((p)->size >= offsetof(__typeof__(*(p)), field) + sizeof((p)->field))

#if defined(__GNUC__)
#define EVPN_EXPORT __attribute__((visibility("default")))
#define EVPN_WUR __attribute__((warn_unused_result))
#define EVPN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define EVPN_EXPORT
#define EVPN_WUR
#define EVPN_PRINTF(f, a)
#endif

/* Error codes shared by every vtable. Zero is success, errors are negative. */
enum evpn_err {
	EVPN_OK = 0,
	EVPN_ERR_NOMEM = -1,	   /* allocation failed */
	EVPN_ERR_INVAL = -2,	   /* bad argument / bad input */
	EVPN_ERR_NOTFOUND = -3,	   /* no such key / user / peer */
	EVPN_ERR_EXISTS = -4,	   /* create-only put hit an existing key */
	EVPN_ERR_IO = -5,	   /* local I/O failed (disk full, ...) */
	EVPN_ERR_UNAVAILABLE = -6, /* a backend (store, network) is down */
	EVPN_ERR_PERM = -7,	   /* not allowed / not authenticated */
	EVPN_ERR_UNSUPPORTED = -8, /* optional operation not implemented */
	EVPN_ERR_AGAIN = -9,	   /* throttled: try again later */
	EVPN_ERR_CONFIG = -10,	   /* configuration is invalid */
	EVPN_ERR_INTERNAL = -11,   /* a bug: should never be seen */
	EVPN_ERR_LOCKED = -12,	   /* resource held by another process */
	EVPN_ERR_FULL = -13,	   /* pool or limit exhausted */
};

/* Kinds of plugin. Values are stable ABI. */
enum evpn_kind {
	EVPN_KIND_NONE = 0,
	EVPN_KIND_TRANSPORT = 1,
	EVPN_KIND_EGRESS = 2,
	EVPN_KIND_STORE = 3,
	EVPN_KIND_API = 4,
	EVPN_KIND_AUTH = 5,
	EVPN_KIND__COUNT
};

#define EVPN_KIND_BIT(k) (1u << (unsigned)(k))

/*
 * Build signature: guards against mixing objects built with different data
 * models or sanitizer runtimes, which would otherwise load fine and corrupt
 * memory later. Computed identically in the host and in every plugin.
 */
#if defined(__SANITIZE_ADDRESS__)
#define EVPN__SIG_ASAN 1u
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EVPN__SIG_ASAN 1u
#endif
#endif
#ifndef EVPN__SIG_ASAN
#define EVPN__SIG_ASAN 0u
#endif

#define EVPN_BUILD_SIGNATURE                                          \
	((uint32_t)sizeof(void *) | ((uint32_t)sizeof(time_t) << 8) | \
	 ((uint32_t)sizeof(long) << 16) | (EVPN__SIG_ASAN << 24) |    \
	 (UINT32_C(0x5A) << 25))

struct evpn_host;
struct evpn_config_node;
struct evpn_config_key;

/*
 * The plugin descriptor. Fill it with a designated initializer and let
 * EVPN_PLUGIN_DESC_INIT set the header fields:
 *
 *   static const struct evpn_plugin_desc desc = {
 *       EVPN_PLUGIN_DESC_INIT,
 *       .name = "file", .kind = EVPN_KIND_STORE, .version = "1.0.0",
 *       .schema = file_schema, .create = fs_create, ... ,
 *       .vtable = &file_store_ops,
 *   };
 *
 * Lifecycle (all on the loop thread):
 *   create  - allocate, read config (already validated against .schema);
 *             no threads, no sockets yet. Returns EVPN_OK and *self.
 *   start   - open sockets, register watchers, spawn threads. Called in
 *             dependency order (see .requires).
 *   stop    - undo start; must be idempotent. Called in reverse order.
 *   destroy - free everything; called after stop (also after a failed start).
 *   reload  - optional (SIGHUP).
 */
struct evpn_plugin_desc {
	uint32_t size;	    /* sizeof(struct evpn_plugin_desc) at build time */
	uint16_t abi_major; /* EVPN_ABI_MAJOR the plugin was built against */
	uint16_t abi_minor; /* EVPN_ABI_MINOR the plugin was built against */
	uint32_t build_sig; /* EVPN_BUILD_SIGNATURE */

	const char *name;	 /* e.g. "file"; [a-z0-9-]+ */
	enum evpn_kind kind;	 /* what it provides */
	const char *version;	 /* plugin's own version, free form */
	const char *description; /* one line */

	/* Kinds this plugin needs started before it (EVPN_KIND_BIT mask).
	 * A required kind that is not configured aborts start-up. */
	uint32_t requires;
	/* Kinds it uses when present, also started before it. */
	uint32_t wants;

	/* Config schema of the plugin's `config:` subtree; terminated by an
	 * entry with key == NULL. May be NULL for "no keys". */
	const struct evpn_config_key *schema;

	int (*create)(const struct evpn_host *host,
		      const struct evpn_config_node *config, void **self);
	int (*start)(void *self);
	void (*stop)(void *self);
	void (*destroy)(void *self);
	int (*reload)(void *self); /* optional */

	/* Kind-specific vtable (struct evpn_store_ops, ...), starting with its
	 * own uint32_t size. */
	const void *vtable;
};

#define EVPN_PLUGIN_DESC_INIT                                                 \
	.size = sizeof(struct evpn_plugin_desc), .abi_major = EVPN_ABI_MAJOR, \
	.abi_minor = EVPN_ABI_MINOR, .build_sig = EVPN_BUILD_SIGNATURE

/*
 * The entry point. Return the descriptor when host_major == EVPN_ABI_MAJOR
 * (and you can live with host_minor), else NULL. The convenience macro
 * EVPN_PLUGIN_DEFINE(desc) does exactly that.
 */
typedef const struct evpn_plugin_desc *(*evpn_plugin_entry_fn)(
	uint16_t host_abi_major, uint16_t host_abi_minor);

#define EVPN_PLUGIN_DEFINE(desc)                                      \
	EVPN_EXPORT const struct evpn_plugin_desc *evpn_plugin_entry( \
		uint16_t host_abi_major, uint16_t host_abi_minor);    \
	EVPN_EXPORT const struct evpn_plugin_desc *evpn_plugin_entry( \
		uint16_t host_abi_major, uint16_t host_abi_minor)     \
	{                                                             \
		if (host_abi_major != EVPN_ABI_MAJOR ||               \
		    host_abi_minor + 1u <= (unsigned)EVPN_ABI_MINOR)  \
			return NULL;                                  \
		return &(desc);                                       \
	}

/* Human-readable names. */
static inline const char *evpn_kind_name(enum evpn_kind k)
{
	switch (k) {
	case EVPN_KIND_TRANSPORT: return "transport";
	case EVPN_KIND_EGRESS: return "egress";
	case EVPN_KIND_STORE: return "store";
	case EVPN_KIND_API: return "api";
	case EVPN_KIND_AUTH: return "auth";
	default: return "unknown";
	}
}

static inline const char *evpn_strerror(int err)
{
	switch (err) {
	case EVPN_OK: return "success";
	case EVPN_ERR_NOMEM: return "out of memory";
	case EVPN_ERR_INVAL: return "invalid argument";
	case EVPN_ERR_NOTFOUND: return "not found";
	case EVPN_ERR_EXISTS: return "already exists";
	case EVPN_ERR_IO: return "I/O error";
	case EVPN_ERR_UNAVAILABLE: return "backend unavailable";
	case EVPN_ERR_PERM: return "permission denied";
	case EVPN_ERR_UNSUPPORTED: return "not supported";
	case EVPN_ERR_AGAIN: return "try again later";
	case EVPN_ERR_CONFIG: return "invalid configuration";
	case EVPN_ERR_INTERNAL: return "internal error";
	case EVPN_ERR_LOCKED: return "locked by another process";
	case EVPN_ERR_FULL: return "exhausted";
	default: return "unknown error";
	}
}

#ifdef __cplusplus
}
#endif
#endif /* EVPN_PLUGIN_H */
