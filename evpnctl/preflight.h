/* SPDX-License-Identifier: MIT */
/*
 * What `wg-quick up` will run, checked before it runs: wg-quick stops at the
 * first missing program and leaves the interface, routes and rules it set
 * up so far. Reading /usr/bin/wg-quick: it always runs ip and wg; it needs
 * the kernel's WireGuard or a userspace implementation; a /0 in AllowedIPs
 * makes it add policy routing with firewall rules (nft when present, else
 * iptables-restore / ip6tables-restore) and, for IPv4, run sysctl; a DNS
 * server in [Interface] makes it run resolvconf.
 */
#ifndef EVPNCTL_PREFLIGHT_H
#define EVPNCTL_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct evpnctl_preflight {
	const char *path;    /* the PATH wg-quick searches: its own dir first */
	const char *impl;    /* $WG_QUICK_USERSPACE_IMPLEMENTATION, or NULL */
	const char *root;    /* "" for this machine; tests use a fake tree */
	const char *release; /* uname -r: where to look for modules */
	struct evpnctl_conf_needs needs;
};

/* Writes one line per missing program into msg ("  what: how to install
 * it\n"; truncated to len, always terminated) and returns how many are
 * missing (0: wg-quick should get through). */
size_t evpnctl_preflight_check(const struct evpnctl_preflight *p, char *msg,
			       size_t len);

/* Does the kernel have WireGuard: loaded (root/sys/module/wireguard), built
 * in, or a module `ip link add type wireguard` would load? Reads files
 * only: nothing is loaded or created. */
bool evpnctl_kernel_has_wireguard(const char *root, const char *release);

#endif /* EVPNCTL_PREFLIGHT_H */
