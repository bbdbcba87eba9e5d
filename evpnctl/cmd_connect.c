// SPDX-License-Identifier: MIT
/* evpnctl connect NAME / evpnctl disconnect NAME: wg-quick up/down. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <sodium.h>

#include "commands.h"
#include "conf.h"
#include "preflight.h"
#include "stream.h"
#include "wg.h"

/*
 * wg-quick runs PreUp/PostUp/PreDown/PostDown from the file as root. evpnctl
 * writes none (create filters the server's config); a file saved before it
 * did, or edited since, is refused rather than run. On success, fills needs.
 */
static int check_conf(const char *name, const char *path,
		      struct evpnctl_conf_needs *needs)
{
	struct evpnctl_conf_report rep;
	char *text = NULL, what[700];
	size_t len = 0;
	int r;

	r = evpnctl_store_read(path, &text, &len);
	if (r) {
		evpnctl_err("cannot read %s: %s", path, strerror(-r));
		return EVPNCTL_EXIT_LOCAL;
	}
	r = evpnctl_conf_filter(text, NULL, &rep);
	if (!r && !rep.n)
		evpnctl_conf_needs(text, needs);
	sodium_memzero(text, len);
	free(text);
	if (r)
		return EVPNCTL_EXIT_LOCAL;
	if (rep.n) {
		evpnctl_conf_report_str(&rep, what, sizeof(what));
		evpnctl_err(
			"%s has lines evpnctl does not write: %s. "
			"wg-quick would act on them as root (PreUp, PostUp, "
			"PreDown and PostDown are shell commands), so it is "
			"not run: remove those lines (an older evpnctl "
			"saved the server's config as it came), or "
			"`evpnctl delete %s` and create it again",
			path, what, name);
		return EVPNCTL_EXIT_LOCAL;
	}
	return EVPNCTL_EXIT_OK;
}

/* Everything wg-quick up will run, before it changes anything. */
static int preflight(const char *exe, const char *impl,
		     const struct evpnctl_conf_needs *needs, const char *name)
{
	char real[PATH_MAX], msg[1500], *path = NULL;
	const char *env_path = getenv("PATH");
	struct evpnctl_preflight p = {
		.impl = impl, .root = "", .needs = *needs};
	struct utsname u;
	size_t n;

	/* wg-quick puts its own directory first in PATH */
	if (!realpath(exe, real))
		snprintf(real, sizeof(real), "%s", exe);
	if (asprintf(&path, "%s:%s", dirname(real),
		     env_path && *env_path
			     ? env_path
			     : "/usr/local/bin:/usr/bin:/bin") < 0)
		return EVPNCTL_EXIT_LOCAL;
	p.path = path;
	p.release = uname(&u) == 0 ? u.release : "";
	n = evpnctl_preflight_check(&p, msg, sizeof(msg));
	free(path);
	if (!n)
		return EVPNCTL_EXIT_OK;
	evpnctl_err("wg-quick up would fail: %zu program%s it needs %s "
		    "missing here:\n%s"
		    "evpnctl: nothing was changed; install %s and run "
		    "`evpnctl connect %s` again",
		    n, n == 1 ? "" : "s", n == 1 ? "is" : "are", msg,
		    n == 1 ? "it" : "them", name);
	return EVPNCTL_EXIT_PREREQ;
}

int evpnctl_cmd_connect(const struct evpnctl_args *a, bool up)
{
	const char *verb = up ? "connect" : "disconnect";
	const char *impl = getenv("WG_QUICK_USERSPACE_IMPLEMENTATION");
	char conf_path[EVPNCTL_PATH_MAX], exe[EVPNCTL_PATH_MAX];
	struct evpnctl_conf_needs needs;
	struct evpnctl_stream_plan plan = {0};
	struct evpnctl_ctx ctx;
	const char *via = "udp";
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
	code = check_conf(a->name, conf_path, &needs);
	if (code)
		goto out;
	/* down only takes away what up set; its firewall and resolvconf
	 * steps are skipped when their programs are missing */
	if (up) {
		code = preflight(exe, impl, &needs, a->name);
		if (code)
			goto out;
		code = evpnctl_stream_prepare(&ctx, a, conf_path, &plan);
		if (code)
			goto out;
	} else {
		/* the relay first: it is no use without the interface */
		evpnctl_stream_stop(&ctx, a->name);
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
	if (up) {
		code = evpnctl_stream_after_up(&plan, a->name, &via);
		if (code) {
			/* --over https without a stream: take back what
			 * wg-quick up set */
			argv[1] = "down";
			if (evpnctl_run(argv))
				evpnctl_err("wg-quick down failed too");
			goto out;
		}
		printf("connected %s%s\n", a->name,
		       strcmp(via, "https") ? "" : " (over https)");
	} else {
		printf("disconnected %s\n", a->name);
	}
out:
	evpnctl_stream_fini(&plan);
	evpnctl_ctx_fini(&ctx);
	return code;
}
