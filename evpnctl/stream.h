/* SPDX-License-Identifier: MIT */
/*
 * connect's stream fallback: when UDP is blocked, the tunnel's datagrams go
 * through a local relay (relay.h) over a TLS WebSocket. Steps around
 * `wg-quick up`: prepare before it (read NAME.key, resolve the hosts while
 * DNS is still outside the tunnel), after_up once it is up (wait for a UDP
 * handshake in auto mode, else start the relay and point the peer's
 * endpoint at it); stop before `wg-quick down`.
 */
#ifndef EVPNCTL_STREAM_H
#define EVPNCTL_STREAM_H

#include <stdbool.h>

#include "args.h"
#include "commands.h"

struct evpnctl_stream_plan {
	enum evpnctl_over over;
	bool usable; /* a stream can be tried (URL and key known) */
	char why_not[200];
	char url[512];
	char key[256]; /* the user's API key: wiped by fini */
	char resolve[1200];
	char peer_pub[64];
	char pidfile[EVPNCTL_PATH_MAX];
	char log[EVPNCTL_PATH_MAX];
	const char *proxy, *cacert;
};

/* Before wg-quick up. EVPNCTL_EXIT_OK, or an exit code (--over https
 * without what it needs). */
int evpnctl_stream_prepare(const struct evpnctl_ctx *ctx,
			   const struct evpnctl_args *a, const char *conf_path,
			   struct evpnctl_stream_plan *p) EVPNCTL_WUR;
/* After wg-quick up. *via: "udp" or "https". EVPNCTL_EXIT_OK, or an exit
 * code when --over https could not start the stream (the caller takes the
 * interface down again). */
int evpnctl_stream_after_up(struct evpnctl_stream_plan *p, const char *name,
			    const char **via) EVPNCTL_WUR;
/* Before wg-quick down: stop NAME's relay, if any. */
void evpnctl_stream_stop(const struct evpnctl_ctx *ctx, const char *name);
void evpnctl_stream_fini(struct evpnctl_stream_plan *p);

/* Pure, for tests: the Endpoint host and the peer's PublicKey of a
 * wg-quick file. 0, or -1 when either is missing. */
int evpnctl_conf_endpoint(const char *conf, char *host, size_t hostlen,
			  char *pub, size_t publen);

#endif
