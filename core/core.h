/* SPDX-License-Identifier: MIT */
/* The core's runtime: loaded plugins, the loop, the registry. */
#ifndef EVPN_CORE_CORE_H
#define EVPN_CORE_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include <ev.h>
#include <evpn/host.h>
#include <evpn/plugin.h>

#include "config_impl.h"

struct evpn_core;
struct evpn_users;

struct evpn_plugin_inst {
	struct evpn_core *core;
	enum evpn_kind kind;
	char name[64];	 /* configured `use` */
	char origin[80]; /* "store/file", the log prefix */
	char *path;	 /* the .so file */
	void *dl;
	const struct evpn_plugin_desc *desc;
	void *self;
	bool created, started;
	struct evpn_config_node *config;   /* the plugin's `config:` subtree */
	const struct evpn_config_node *at; /* where it was configured */
	struct evpn_host host;
};

struct post_item;

/* listeners.c: the local listeners to protect (evpn_host.listener_add) */
struct evpn_listeners {
	pthread_mutex_t
		mu; /* guards v, cap; n and generation change under it */
	struct evpn_listener *v;
	size_t cap;
	/* Atomic: the egress asks for the generation on every packet batch,
	 * and reads both without the mutex (evpn_listeners_get with max 0). */
	_Atomic size_t n;
	_Atomic uint64_t generation;
	bool ready;
};
void evpn_listeners_init(struct evpn_listeners *l);
void evpn_listeners_free(struct evpn_listeners *l);
int evpn_listeners_add(struct evpn_listeners *l, int proto, uint16_t port);
size_t evpn_listeners_get(struct evpn_listeners *l, struct evpn_listener *out,
			  size_t max, uint64_t *generation);

struct evpn_core {
	struct evpn_config *cfg;
	struct ev_loop *loop;
	pthread_t loop_thread;
	bool loop_set;
	char *plugin_dir;
	struct evpn_plugin_inst *plugins[EVPN_KIND__COUNT];
	struct evpn_plugin_inst core_inst; /* host identity of core services */
	struct evpn_network net;
	char **dns;
	uint64_t rate_limit; /* users.rate_limit, bits per second; 0: none */
	struct evpn_users *users;
	bool no_users;	     /* one-shot commands build their own */
	const char *command; /* "run", "keygen", ... */

	pthread_mutex_t post_mu;
	struct post_item *post_head, *post_tail;
	bool post_closed;
	ev_async post_async;
	ev_signal sig_term, sig_int, sig_hup;
	int exit_signal;

	struct evpn_listeners listeners;
};

/* host.c */
void evpn_core_host_init(struct evpn_core *core, struct evpn_plugin_inst *pi);
int evpn_core_loop_init(struct evpn_core *core);
void evpn_core_loop_close(struct evpn_core *core);

/* loader.c: dlopen + negotiate + checks; err says what is wrong. */
int evpn_loader_open(const char *path, struct evpn_plugin_inst *pi,
		     enum evpn_kind expect, char *err, size_t errlen);
void evpn_loader_close(struct evpn_plugin_inst *pi);
/* Resolve `use` to a file: an absolute/relative path ending in .so, or
 * <plugin_dir>/<kind>-<use>.so. Malloc'd. */
char *evpn_loader_path(const char *plugin_dir, enum evpn_kind kind,
		       const char *use);

/* metrics.c */
struct evpn_metric *evpn_metrics_get(enum evpn_metric_type type,
				     const char *name, const char *help,
				     const char *labels);
void evpn_metrics_add(struct evpn_metric *m, uint64_t v);
void evpn_metrics_set(struct evpn_metric *m, int64_t v);
char *evpn_metrics_render(void);
void evpn_metrics_reset(void);

#endif
