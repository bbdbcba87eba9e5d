/* SPDX-License-Identifier: MIT */
/*
 * The stream relay: a UDP socket on 127.0.0.1 that wg's Endpoint points at,
 * and a WebSocket (RFC 6455, over TLS for wss://) to the server's stream
 * listener carrying each datagram as one binary message. libcurl makes the
 * connection (TLS with certificate checks, HTTP CONNECT proxies,
 * HTTPS_PROXY); Debian's libcurl has no WebSocket support, so the framing
 * is evpn's own (plugins/common/ws), over curl_easy_send/recv.
 *
 * It runs as a child process that outlives `evpnctl connect`; its pid is
 * kept in a file so `evpnctl disconnect` stops it.
 */
#ifndef EVPNCTL_RELAY_H
#define EVPNCTL_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "exitcodes.h"

struct evpnctl_relay_opts {
	const char *url;     /* ws:// or wss://HOST[:PORT]/PATH */
	const char *key;     /* the user's API key (Bearer) */
	const char *proxy;   /* NULL: libcurl's HTTPS_PROXY etc. */
	const char *cacert;  /* NULL: the system's */
	const char *resolve; /* curl "HOST:PORT:ADDR" pins, ';'-separated; or
				NULL. Resolved before the tunnel is up, so a
				reconnect does not ask DNS through it. */
	unsigned fwmark;     /* SO_MARK of its connection (0: none) */
	uint16_t wg_port; /* only datagrams from 127.0.0.1:wg_port (0: any) */
	const char *log;  /* the relay's log file */
};

/*
 * Connect and upgrade (in a child), then leave the child relaying. On
 * success *port is its UDP port on 127.0.0.1 and *pid the child. On
 * failure err says why (no child is left).
 */
int evpnctl_relay_start(const struct evpnctl_relay_opts *o, uint16_t *port,
			int *pid, char *err, size_t errlen) EVPNCTL_WUR;

/* Stop the relay whose pid is in pidfile (absent: nothing to do) and
 * remove the file. 0, or -errno. */
int evpnctl_relay_stop(const char *pidfile) EVPNCTL_WUR;

/* "wss://host:port/path" -> its parts; false when not such a URL. */
struct evpnctl_ws_url {
	char host[256];
	char path[256];
	uint16_t port;
	int tls;
};
int evpnctl_ws_url_parse(const char *url, struct evpnctl_ws_url *out);

#endif
