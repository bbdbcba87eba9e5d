/* SPDX-License-Identifier: MIT */
/* evpnd: command line. */
#include <dirent.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "commands.h"
#include "log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: evpnd COMMAND [options]\n"
		"\n"
		"commands:\n"
		"  run [-c FILE]              run the server in the "
		"foreground\n"
		"  check-config [-c FILE]     validate the config and every "
		"plugin's section\n"
		"  plugins [-c FILE]          list loadable plugins\n"
		"  describe NAME [-c FILE]    print a plugin's config schema "
		"(NAME: a plugin\n"
		"                             name, KIND-NAME, or 'core')\n"
		"  keygen [-c FILE] [--force] [--keygen-config JSON]\n"
		"                             (JSON also from "
		"$EVPN_KEYGEN_CONFIG_FILE)\n"
		"                             create the server key pair in "
		"the store if absent\n"
		"  master-key [-c FILE]       print the master API key "
		"(created if absent)\n"
		"  --version, --help\n"
		"\n"
		"The config file is -c FILE, else $EVPN_CONFIG, else "
		"etc/evpn.yaml.\n"
		"Signals (run): SIGTERM/SIGINT stop cleanly, SIGHUP reloads "
		"users from the store.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"force", no_argument, NULL, 'f'},
		{"keygen-config", required_argument, NULL, 'k'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct evpnd_args a = {0};
	const char *cmd;
	int c;

	if (sodium_init() < 0) {
		fprintf(stderr, "evpnd: libsodium failed to initialise\n");
		return 1;
	}
	if (argc >= 2 && (strcmp(argv[1], "--version") == 0 ||
			  strcmp(argv[1], "version") == 0)) {
		printf("evpnd %s (plugin ABI %d.%d)\n", EVPN_VERSION,
		       EVPN_ABI_MAJOR, EVPN_ABI_MINOR);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "c:fh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': a.config = optarg; break;
		case 'f': a.force = true; break;
		case 'k': a.keygen_config = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("evpnd %s\n", EVPN_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	a.positional = argv + optind;
	a.npositional = argc - optind;
	if (!a.config)
		a.config = evpn_default_config();

	if (strcmp(cmd, "run") == 0)
		return evpnd_cmd_run(&a);
	if (strcmp(cmd, "check-config") == 0)
		return evpnd_cmd_check_config(&a);
	if (strcmp(cmd, "plugins") == 0)
		return evpnd_cmd_plugins(&a);
	if (strcmp(cmd, "describe") == 0)
		return evpnd_cmd_describe(&a);
	if (strcmp(cmd, "keygen") == 0)
		return evpnd_cmd_keygen(&a);
	if (strcmp(cmd, "master-key") == 0)
		return evpnd_cmd_master_key(&a);
	fprintf(stderr, "evpnd: unknown command '%s' (see evpnd --help)\n",
		cmd);
	return 2;
}
