/* SPDX-License-Identifier: MIT */
/* Running the local WireGuard tools: wg-quick and wg. */
#ifndef EVPNCTL_WG_H
#define EVPNCTL_WG_H

#include <stdbool.h>
#include <stddef.h>

#include "exitcodes.h"

/* Longest interface name Linux takes (IFNAMSIZ - 1); wg-quick names the
 * interface after the config file. */
#define EVPNCTL_IFNAME_MAX 15

/* Looks name up in $PATH like execvp would. true and the path, or false. */
bool evpnctl_find_exe(const char *name, char *out, size_t len);
/* The same in the given PATH string (NULL or "": the default one). */
bool evpnctl_find_exe_in(const char *path, const char *name, char *out,
			 size_t len);

/* Runs argv[0] (looked up in $PATH) with argv, inheriting the environment
 * (so WG_QUICK_USERSPACE_IMPLEMENTATION reaches wg-quick), and waits.
 * Returns its exit status, 128 + signal if killed, or -errno if it could
 * not be started. */
int evpnctl_run(char *const argv[]) EVPNCTL_WUR;

/* Is a network interface with this name present in our namespace? */
bool evpnctl_iface_up(const char *name);

#endif /* EVPNCTL_WG_H */
