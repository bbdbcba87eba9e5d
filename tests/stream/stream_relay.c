// SPDX-License-Identifier: MIT
/*
 * evpnctl's stream relay on its own, for scripts/bench-tunnel (not a
 * test): starts the relay (relay.c, as `evpnctl connect --over https`
 * does) and prints "PORT PID". The API key comes from $EVPN_STREAM_KEY.
 *
 * usage: stream_relay URL WG_PORT [CAFILE]
 */
#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

#include "relay.h"

int main(int argc, char **argv)
{
	struct evpnctl_relay_opts o = {0};
	char err[400];
	uint16_t port = 0;
	int pid = 0;

	if (argc < 3 || !getenv("EVPN_STREAM_KEY") || sodium_init() < 0) {
		fprintf(stderr, "usage: EVPN_STREAM_KEY=... stream_relay URL "
				"WG_PORT [CAFILE]\n");
		return 2;
	}
	o.url = argv[1];
	o.wg_port = (uint16_t)atoi(argv[2]);
	o.cacert = argc > 3 ? argv[3] : NULL;
	o.key = getenv("EVPN_STREAM_KEY");
	o.log = getenv("EVPN_STREAM_LOG");
	if (evpnctl_relay_start(&o, &port, &pid, err, sizeof(err))) {
		fprintf(stderr, "stream_relay: %s\n", err);
		return 1;
	}
	printf("%u %d\n", port, pid);
	return 0;
}
