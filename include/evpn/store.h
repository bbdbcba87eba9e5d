/* SPDX-License-Identifier: MIT */
/*
 * store: durable key/value state (server keys, users, address claims).
 *
 * Keys are relative paths such as "users/alice/status" or
 * "wg/server-public-key": segments of [A-Za-z0-9_.:-], joined by '/', no empty,
 * "." or ".." segment, at most 1011 bytes. The plugin maps them under its own
 * prefix (a directory for `file`, SSM_PREFIX for `ssm`); a backend whose name
 * limit counts that prefix (ssm: 1011 characters in all) refuses the longest
 * keys with EVPN_ERR_INVAL, and any other bad key is EVPN_ERR_INVAL too.
 * Keys of up to 505 bytes always fit (the core's are far shorter). Values
 * are byte strings of 1 to 8192 bytes (ssm stores no empty value); a longer
 * one is EVPN_ERR_INVAL.
 *
 * Threading: every op is thread-safe and may block; they are called from API
 * worker threads and the users service, never from the packet path.
 * Durability: a put that returned EVPN_OK survives a crash (kill -9, power
 * loss for `file`), and a reader never sees a partial value.
 */
#ifndef EVPN_STORE_H
#define EVPN_STORE_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EVPN_STORE_KEY_MAX 1011
#define EVPN_STORE_VALUE_MAX 8192

/* put flags */
#define EVPN_STORE_SECRET (1u << 0) /* SecureString / wiped buffers */
#define EVPN_STORE_CREATE \
	(1u << 1) /* create-only: EVPN_ERR_EXISTS if present */

/* list callback: return 0 to go on, non-zero to stop (list returns it). */
typedef int (*evpn_store_list_cb)(void *arg, const char *key, const char *value,
				  size_t len);

struct evpn_store_ops {
	uint32_t size;
	/* *value is malloc'd and NUL-terminated (len excludes the NUL); free
	 * it with free_value. EVPN_ERR_NOTFOUND when absent. */
	int (*get)(void *self, const char *key, char **value,
		   size_t *len) EVPN_WUR;
	int (*put)(void *self, const char *key, const char *value, size_t len,
		   uint32_t flags) EVPN_WUR;
	/* EVPN_ERR_NOTFOUND when absent. */
	int (*del)(void *self, const char *key) EVPN_WUR;
	/* Every key under prefix ("users/" lists all users' keys; "" lists
	 * all), recursively, with values, in no particular order. */
	int (*list)(void *self, const char *prefix, evpn_store_list_cb cb,
		    void *arg) EVPN_WUR;
	/* Wipes (values may be secrets) and frees a value from get. */
	void (*free_value)(void *self, char *value, size_t len);
	/* Cheap reachability check for /health: EVPN_OK or an error. */
	int (*ping)(void *self) EVPN_WUR;
};

#ifdef __cplusplus
}
#endif
#endif /* EVPN_STORE_H */
