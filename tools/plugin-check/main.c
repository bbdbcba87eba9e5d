/* SPDX-License-Identifier: MIT */
/*
 * evpn-plugin-check [OPTIONS] KIND PLUGIN.so [CONFIG.yaml]
 *
 * Loads PLUGIN.so the way evpnd does and runs the contract of KIND (store,
 * auth, egress, transport, api). CONFIG.yaml is what would go under the
 * plugin's `config:` in evpn.yaml. Exit status: 0 all passed, 1 a check
 * failed, 2 usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "check.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: evpn-plugin-check [OPTIONS] KIND PLUGIN.so "
		"[CONFIG.yaml]\n"
		"  KIND         store, auth, egress, transport or api\n"
		"  CONFIG.yaml  the plugin's config (what goes under "
		"`config:`)\n"
		"options:\n"
		"  --reach-config FILE  egress: a config under which the "
		"plugin may reach\n"
		"                       127.0.0.1 (slirp: allow_loopback: "
		"true); without it\n"
		"                       only the refusals are checked\n"
		"  --reach-address IP   egress: where the reach servers listen "
		"(default\n"
		"                       127.0.0.1; raw-socket: the device's "
		"address)\n"
		"  --token TOKEN        auth: the admin token the plugin "
		"accepts (default:\n"
		"                       the users service's master key)\n"
		"  --admin-only         auth: the plugin knows no user keys\n"
		"  --no-throttle        auth: the plugin does not throttle\n"
		"environment: EVPN_CHECK_LOG=debug|info|warn|error (default "
		"warn)\n");
}

static enum evpn_kind parse_kind(const char *s)
{
	for (int k = 1; k < EVPN_KIND__COUNT; k++)
		if (strcmp(s, evpn_kind_name((enum evpn_kind)k)) == 0)
			return (enum evpn_kind)k;
	return EVPN_KIND_NONE;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"reach-config", required_argument, NULL, 'r'},
		{"reach-address", required_argument, NULL, 'A'},
		{"token", required_argument, NULL, 't'},
		{"admin-only", no_argument, NULL, 'a'},
		{"no-throttle", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct ck c;
	enum evpn_log_level show;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'r': c.reach_config = optarg; break;
		case 'A': c.reach_address = optarg; break;
		case 't': c.admin_token = optarg; break;
		case 'a': c.admin_only = true; break;
		case 'n': c.no_throttle = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		usage(stderr);
		return 2;
	}
	c.kind = parse_kind(argv[optind]);
	if (c.kind == EVPN_KIND_NONE) {
		fprintf(stderr, "evpn-plugin-check: unknown kind '%s'\n",
			argv[optind]);
		usage(stderr);
		return 2;
	}
	c.so_path = argv[optind + 1];
	c.config_path = argc - optind == 3 ? argv[optind + 2] : NULL;
	c.prefix = evpn_kind_name(c.kind);
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "evpn-plugin-check: libsodium failed\n");
		return 1;
	}

	{
		const char *e = getenv("EVPN_CHECK_LOG");

		if (!e || !evpn_log_parse_level(e, &show))
			show = EVPN_LOG_WARN;
	}
	ck_logcap_start();
	if (ck_setup(&c) == EVPN_OK) {
		switch (c.kind) {
		case EVPN_KIND_STORE: ck_store(&c); break;
		case EVPN_KIND_AUTH: ck_auth(&c); break;
		case EVPN_KIND_EGRESS: ck_egress(&c); break;
		case EVPN_KIND_TRANSPORT: ck_transport(&c); break;
		case EVPN_KIND_API: ck_api(&c); break;
		default: break;
		}
	}
	ck_teardown(&c);
	ck_logcap_finish(&c, show);
	printf("%u passed, %u failed", c.passed, c.failed);
	if (c.skipped)
		printf(", %u skipped", c.skipped);
	putchar('\n');
	return c.failed || !c.passed ? 1 : 0;
}
