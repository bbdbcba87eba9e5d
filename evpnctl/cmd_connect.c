// SPDX-License-Identifier: MIT
/* evpnctl connect NAME / evpnctl disconnect NAME: wg-quick up/down. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "wg.h"

int evpnctl_cmd_connect(const struct evpnctl_args *a, bool up)
{
	const char *verb = up ? "connect" : "disconnect";
	const char *impl = getenv("WG_QUICK_USERSPACE_IMPLEMENTATION");
	char conf_path[EVPNCTL_PATH_MAX], exe[EVPNCTL_PATH_MAX];
	struct evpnctl_ctx ctx;
	int code, st;

	code = evpnctl_ctx_init(&ctx, false);
	if (code)
		return code;
	code = evpnctl_ctx_path(&ctx, conf_path, a->name, ".conf");
	if (code)
		goto out;
	/* wg-quick names the interface after the file and Linux limits
	 * interface names to 15 characters. */
	if (strlen(a->name) > EVPNCTL_IFNAME_MAX) {
		evpnctl_err("'%s' is longer than %d characters, too long for "
			    "an interface name: wg-quick cannot use it",
			    a->name, EVPNCTL_IFNAME_MAX);
		code = EVPNCTL_EXIT_USAGE;
		goto out;
	}
	if (!evpnctl_find_exe("wg-quick", exe, sizeof(exe))) {
		evpnctl_err(
			"wg-quick not found in PATH: install "
			"wireguard-tools (apt-get install wireguard-tools)");
		code = EVPNCTL_EXIT_WG;
		goto out;
	}
	if (geteuid() != 0) {
		evpnctl_err("%s needs root (wg-quick configures interfaces "
			    "and routes): run `sudo evpnctl %s %s`; keep "
			    "EVPN_CLIENT_DIR=%s so the config is found",
			    verb, verb, a->name, ctx.dir);
		code = EVPNCTL_EXIT_ROOT;
		goto out;
	}
	if (access(conf_path, R_OK)) {
		evpnctl_err("no config for '%s' here (%s): `evpnctl create %s` "
			    "writes it",
			    a->name, conf_path, a->name);
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	if (impl && *impl)
		fprintf(stderr, "evpnctl: wg-quick will use %s\n", impl);
	char *argv[] = {exe, up ? "up" : "down", conf_path, NULL};

	st = evpnctl_run(argv);
	if (st) {
		if (st < 0)
			evpnctl_err("cannot run %s: %s", exe, strerror(-st));
		else
			evpnctl_err("wg-quick %s failed (exit status %d)%s",
				    argv[1], st,
				    up && !impl ? "; without the WireGuard "
						  "kernel module set "
						  "WG_QUICK_USERSPACE_"
						  "IMPLEMENTATION="
						  "wireguard-go"
						: "");
		code = EVPNCTL_EXIT_WG;
		goto out;
	}
	printf("%s %s\n", up ? "connected" : "disconnected", a->name);
out:
	evpnctl_ctx_fini(&ctx);
	return code;
}
