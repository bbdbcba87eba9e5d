// SPDX-License-Identifier: MIT
/* evpnctl: the evpn client. See `evpnctl --help` and README.md. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>
#include <sodium.h>

#include "args.h"
#include "commands.h"

/* JSON documents carry API keys: wipe every jansson buffer on free. */
static void *json_alloc(size_t n)
{
	return malloc(n);
}

static void json_release(void *p)
{
	if (p)
		sodium_memzero(p, malloc_usable_size(p));
	free(p);
}

int main(int argc, char **argv)
{
	struct evpnctl_args a;

	if (sodium_init() < 0) {
		fputs("evpnctl: cannot initialise libsodium\n", stderr);
		return EVPNCTL_EXIT_LOCAL;
	}
	json_set_alloc_funcs(json_alloc, json_release);
	if (evpnctl_args_parse(argc, argv, &a)) {
		fprintf(stderr, "evpnctl: %s\n", a.error);
		return EVPNCTL_EXIT_USAGE;
	}
	if (a.help) {
		fputs(evpnctl_help(a.cmd), stdout);
		return EVPNCTL_EXIT_OK;
	}
	switch (a.cmd) {
	case EVPNCTL_CMD_VERSION:
		printf("evpnctl %s\n", EVPN_VERSION);
		return EVPNCTL_EXIT_OK;
	case EVPNCTL_CMD_SETUP: return evpnctl_cmd_setup(&a);
	case EVPNCTL_CMD_CREATE: return evpnctl_cmd_create(&a);
	case EVPNCTL_CMD_CONNECT: return evpnctl_cmd_connect(&a, true);
	case EVPNCTL_CMD_DISCONNECT: return evpnctl_cmd_connect(&a, false);
	case EVPNCTL_CMD_LIST: return evpnctl_cmd_list(&a);
	case EVPNCTL_CMD_STATUS: return evpnctl_cmd_status(&a);
	case EVPNCTL_CMD_DELETE: return evpnctl_cmd_delete(&a);
	case EVPNCTL_CMD_CONFIG: return evpnctl_cmd_config(&a);
	case EVPNCTL_CMD_AUDIT: return evpnctl_cmd_audit(&a);
	case EVPNCTL_CMD_LINK: return evpnctl_cmd_link(&a);
	case EVPNCTL_CMD_NONE: break;
	}
	fputs(evpnctl_help(EVPNCTL_CMD_NONE), stderr);
	return EVPNCTL_EXIT_USAGE;
}
