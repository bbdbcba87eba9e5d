/* SPDX-License-Identifier: MIT */
/*
 * evpnctl's exit statuses. They are part of the command-line contract
 * (documented in `evpnctl --help` and evpnctl/README.md): scripts rely on them,
 * so never renumber.
 */
#ifndef EVPNCTL_EXITCODES_H
#define EVPNCTL_EXITCODES_H

#define EVPNCTL_WUR __attribute__((warn_unused_result))

enum evpnctl_exit {
	EVPNCTL_EXIT_OK = 0,
	EVPNCTL_EXIT_USAGE = 1,	 /* bad command line */
	EVPNCTL_EXIT_SERVER = 2, /* server unreachable or API error */
	EVPNCTL_EXIT_LOCAL = 3,	 /* local files, keys, not set up */
	EVPNCTL_EXIT_ROOT = 4,	 /* connect/disconnect need root */
	EVPNCTL_EXIT_WG = 5,	 /* wg-quick / wg missing or failed */
	/* connect: a program wg-quick up will need is missing (nothing was
	 * changed yet) */
	EVPNCTL_EXIT_PREREQ = 6,
};

#endif /* EVPNCTL_EXITCODES_H */
