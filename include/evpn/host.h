/* SPDX-License-Identifier: MIT */
/*
 * Services the core offers to plugins.
 *
 * THREADING CONTRACT
 * ------------------
 * evpnd runs one event loop (libev) on the main thread, "the loop thread".
 *  1. Every plugin lifecycle call (create/start/stop/destroy/reload) and every
 *     vtable call is made on the loop thread, unless the kind's header says
 *     otherwise. Those exceptions are:
 *       - store ops: thread-safe, may block; called from any thread (the
 *         API's worker threads, the users service). Never from the packet
 *         path.
 *       - auth ops: thread-safe; called from API worker threads.
 *       - users service ops (users.h): thread-safe, may block on the store.
 *  2. The host functions below may be called from the loop thread only,
 *     except those marked [any thread].
 *  3. A plugin that runs its own threads (civetweb's workers, crypto
 *     workers) hands work that touches loop-owned state to the loop with
 *     post(); the callback then runs on the loop thread.
 *  4. Callbacks registered through timers, io watches and hooks run on the
 *     loop thread, never concurrently with each other.
 *
 * One struct evpn_host is handed to each plugin; it carries that plugin's
 * identity (log lines are prefixed with it), so keep the pointer you got.
 */
#ifndef EVPN_HOST_H
#define EVPN_HOST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

enum evpn_log_level {
	EVPN_LOG_DEBUG = 0,
	EVPN_LOG_INFO = 1,
	EVPN_LOG_WARN = 2,
	EVPN_LOG_ERROR = 3,
};

/* io watch events */
#define EVPN_IO_READ 0x1
#define EVPN_IO_WRITE 0x2

/* loop hooks: run just before the loop blocks / just after it wakes */
enum evpn_hook_type {
	EVPN_HOOK_PREPARE = 1,
	EVPN_HOOK_CHECK = 2,
};

/* metric types (Prometheus) */
enum evpn_metric_type {
	EVPN_METRIC_COUNTER = 1,
	EVPN_METRIC_GAUGE = 2,
};

struct evpn_timer;
struct evpn_io;
struct evpn_hook;
struct evpn_metric;

typedef void (*evpn_timer_cb)(struct evpn_timer *t, void *arg);
typedef void (*evpn_io_cb)(struct evpn_io *w, int fd, int revents, void *arg);
typedef void (*evpn_hook_cb)(struct evpn_hook *hk, void *arg);
typedef void (*evpn_post_cb)(void *arg);

/* A typed handle from the registry: a kind's vtable and the instance. */
struct evpn_ref {
	const void *vtable; /* e.g. const struct evpn_store_ops * */
	void *self;	    /* the instance to pass as first argument */
	const char *name;   /* plugin name */
};

/* Services that are not plugins but live in the core. */
enum evpn_service {
	EVPN_SERVICE_USERS = 1, /* struct evpn_users_ops, see users.h */
};

/* The network section shared by the users service and plugins. */
struct evpn_network {
	uint32_t size;
	const char *pool;	/* "10.77.0.0/16" (IPv4 pool) */
	const char *pool6;	/* optional IPv6 pool, NULL when not set */
	const char *endpoint;	/* "host:port" written into client configs */
	const char *const *dns; /* NULL-terminated; may be empty */
	unsigned mtu;
	const char *server_address; /* first address of the pool, "10.77.0.1" */
	const char *server_address6; /* or NULL */
	unsigned prefix_len;	     /* pool prefix length */
};

/* A port some plugin listens on (see evpn_host.listener_add). */
struct evpn_listener {
	int proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port;
};

struct evpn_host {
	uint32_t size;
	uint16_t abi_major, abi_minor;
	void *priv; /* the core's; do not touch */

	/* ---- logging [any thread] ---- */
	void (*log)(const struct evpn_host *h, enum evpn_log_level lvl,
		    const char *fmt, ...) EVPN_PRINTF(3, 4);
	void (*vlog)(const struct evpn_host *h, enum evpn_log_level lvl,
		     const char *fmt, va_list ap) EVPN_PRINTF(3, 0);
	bool (*log_enabled)(const struct evpn_host *h, enum evpn_log_level lvl);

	/* ---- configuration ---- */
	const struct evpn_config_ops *config;
	const struct evpn_network *network;
	const char *version; /* evpn version string */

	/* ---- loop: timers, fd watches, hooks ---- */
	/* Monotonic seconds [any thread]. */
	double (*now)(const struct evpn_host *h);
	struct evpn_timer *(*timer_new)(const struct evpn_host *h,
					evpn_timer_cb cb, void *arg);
	/* (Re)arm: first run after `after` s, then every `repeat` s (0: once).
	 */
	void (*timer_arm)(struct evpn_timer *t, double after, double repeat);
	void (*timer_stop)(struct evpn_timer *t);
	void (*timer_free)(struct evpn_timer *t);

	struct evpn_io *(*io_new)(const struct evpn_host *h, int fd, int events,
				  evpn_io_cb cb, void *arg);
	void (*io_set)(struct evpn_io *w, int events); /* 0 stops it */
	void (*io_free)(struct evpn_io *w);

	struct evpn_hook *(*hook_new)(const struct evpn_host *h,
				      enum evpn_hook_type type, evpn_hook_cb cb,
				      void *arg);
	void (*hook_free)(struct evpn_hook *hk);

	/* Run cb(arg) on the loop thread soon [any thread]. Returns EVPN_OK,
	 * or EVPN_ERR_UNAVAILABLE when the loop is shutting down (then cb is
	 * not called and arg is still the caller's). */
	int (*post)(const struct evpn_host *h, evpn_post_cb cb, void *arg);
	/* True when called on the loop thread [any thread]. */
	bool (*on_loop)(const struct evpn_host *h);

	/* ---- registry ---- */
	/* The started instance of a kind: EVPN_OK or EVPN_ERR_NOTFOUND. */
	int (*get_plugin)(const struct evpn_host *h, enum evpn_kind kind,
			  struct evpn_ref *out);
	/* A core service [any thread]. */
	int (*get_service)(const struct evpn_host *h, enum evpn_service svc,
			   struct evpn_ref *out);

	/* ---- secure memory [any thread] ---- */
	/* Guarded, locked memory for keys (libsodium's sodium_malloc). */
	void *(*secure_alloc)(size_t n);
	void (*secure_free)(void *p); /* wipes, then frees; NULL is fine */
	void (*memzero)(void *p, size_t n);

	/* ---- metrics [any thread] ---- */
	/* Register a series; `labels` is e.g. "reason=\"replay\"" or NULL.
	 * Same name+labels twice returns the same series. */
	struct evpn_metric *(*metric)(const struct evpn_host *h,
				      enum evpn_metric_type type,
				      const char *name, const char *help,
				      const char *labels);
	void (*metric_add)(struct evpn_metric *m, uint64_t v);
	void (*metric_set)(struct evpn_metric *m, int64_t v);
	/* Prometheus text of every series; malloc'd, caller frees. */
	char *(*metrics_render)(const struct evpn_host *h);

	/* ---- introspection [any thread] ---- */
	/* Name of the plugin configured for a kind, or NULL. */
	const char *(*plugin_name)(const struct evpn_host *h,
				   enum evpn_kind kind);

	/* The evpnd command this process runs: "run" for the daemon, or a
	 * one-shot command ("keygen", "master-key", "check-config"). A store
	 * may, say, lock its state exclusively only for "run". */
	const char *command;

	/* ---- local listeners to protect [any thread] ---- */
	/* A plugin that accepts connections on the host (the API, a stream
	 * listener) declares each port once it is bound. Egress plugins read
	 * them and refuse clients' packets to those ports on every address
	 * of the host, whatever their `allow` says: a client must never reach
	 * the server's own front doors through the tunnel. proto is
	 * IPPROTO_TCP or IPPROTO_UDP; declaring a port twice is harmless. */
	int (*listener_add)(const struct evpn_host *h, int proto,
			    uint16_t port) EVPN_WUR;
	/* Copies up to `max` declared listeners into `out` (NULL with max 0
	 * to count, lock-free: fine per packet batch) and returns how many
	 * there are. `*generation` (may be NULL) changes whenever one is
	 * added: re-read only then. */
	size_t (*listeners)(const struct evpn_host *h,
			    struct evpn_listener *out, size_t max,
			    uint64_t *generation);
};

#define evpn_log(h, lvl, ...) ((h)->log((h), (lvl), __VA_ARGS__))
#define evpn_debug(h, ...) evpn_log((h), EVPN_LOG_DEBUG, __VA_ARGS__)
#define evpn_info(h, ...) evpn_log((h), EVPN_LOG_INFO, __VA_ARGS__)
#define evpn_warn(h, ...) evpn_log((h), EVPN_LOG_WARN, __VA_ARGS__)
#define evpn_error(h, ...) evpn_log((h), EVPN_LOG_ERROR, __VA_ARGS__)

#ifdef __cplusplus
}
#endif
#endif /* EVPN_HOST_H */
