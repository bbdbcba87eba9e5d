/* SPDX-License-Identifier: MIT */
#ifndef EVPN_CORE_DAEMON_H
#define EVPN_CORE_DAEMON_H

#include "core.h"

#ifndef EVPN_DEFAULT_PLUGIN_DIR
#define EVPN_DEFAULT_PLUGIN_DIR "/usr/local/lib/evpn/plugins"
#endif
#define EVPN_DEFAULT_PLUGIN_DIR_STR EVPN_DEFAULT_PLUGIN_DIR

/* Which phases a command needs. */
#define EVPN_KINDS_ALL 0xffffffffu

/* Parse + validate the core's part of the config, then load every
 * configured plugin in `kinds` (a mask of EVPN_KIND_BIT) and validate its
 * section. No plugin is created. Errors go to errs. */
int evpn_daemon_load(struct evpn_core *core, const char *config_path,
		     uint32_t kinds, struct evpn_errors *errs) EVPN_WUR;
/* The kinds (EVPN_KIND_BIT mask) that must be configured with kind k: its
 * plugin's .requires, and what the core requires of every such plugin. */
uint32_t evpn_daemon_kind_needs(const struct evpn_core *core, enum evpn_kind k);
/* create every loaded plugin, wire data-plane sinks. */
int evpn_daemon_create(struct evpn_core *core) EVPN_WUR;
/* Start store, the users service (creating keys when create_keys), then the
 * rest in dependency order. */
int evpn_daemon_start(struct evpn_core *core, bool create_keys) EVPN_WUR;
/* Reverse-order stop and destroy; safe after a partial start. */
void evpn_daemon_teardown(struct evpn_core *core);
/* Default config path: $EVPN_CONFIG, else etc/evpn.yaml. */
const char *evpn_default_config(void);

extern const struct evpn_config_key evpn_core_schema[];

#endif
