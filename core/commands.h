/* SPDX-License-Identifier: MIT */
#ifndef EVPN_CORE_COMMANDS_H
#define EVPN_CORE_COMMANDS_H

#include <stdbool.h>

#include "daemon.h"

struct evpnd_args {
	const char *config;
	bool force;
	const char *keygen_config;
	char **positional;
	int npositional;
};

int evpnd_cmd_run(const struct evpnd_args *a);
int evpnd_cmd_check_config(const struct evpnd_args *a);
int evpnd_cmd_plugins(const struct evpnd_args *a);
int evpnd_cmd_describe(const struct evpnd_args *a);
int evpnd_cmd_keygen(const struct evpnd_args *a);
int evpnd_cmd_master_key(const struct evpnd_args *a);

#endif
