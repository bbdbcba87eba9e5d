/* SPDX-License-Identifier: MIT */
/*
 * The stream listener: WireGuard datagrams over WebSocket (RFC 6455) on
 * TCP, for networks that block UDP. Off unless configured.
 *
 * A client upgrades with `Authorization: Bearer <its user's API key>`; each
 * binary message then carries one WireGuard datagram. Datagrams enter the
 * same device as UDP ones, from a per-stream address of their own (in
 * 240.0.0.0/4, which no host uses: the slot in the address, a generation
 * in the port), so handshakes, cookies, the per-source rate limit and
 * roaming work unchanged, and a reply to such an address goes back on its
 * stream. A stream carries only its user's tunnel: a handshake or data of
 * another peer closes it.
 *
 * TLS is not here: a terminator (a load balancer, nginx, Caddy) sits in
 * front of the listener.
 */
#ifndef WG_STREAM_H
#define WG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <evpn/config.h>
#include <evpn/host.h>

#include <evpn/transport.h>

struct wg_stream_srv;

struct wg_stream_cfg {
	char listen[128];	/* "" = off */
	char path[128];		/* request path, "/wg" */
	unsigned max_streams;	/* open streams at most */
	size_t queue_bytes;	/* per-stream send queue bound */
	double idle_timeout;	/* seconds without a byte: close */
	double upgrade_timeout; /* seconds to complete the upgrade */
};

/* Where a stream's datagrams go: the device's receive path. buf is
 * writable with cap bytes, and only valid during the call. rx_end follows
 * a wake-up's datagrams (deliver what was batched). */
typedef void (*wg_stream_rx_cb)(void *arg, uint8_t *buf, size_t len, size_t cap,
				const struct sockaddr_storage *from);
typedef void (*wg_stream_rx_end_cb)(void *arg);

/* Keys of the transport's `stream:` map. */
extern const struct evpn_config_key wg_stream_keys[];

/* Read the `stream:` map of the transport's config (absent: off). */
int wg_stream_config(const struct evpn_host *h,
		     const struct evpn_config_node *node,
		     struct wg_stream_cfg *out) EVPN_WUR;

/* Bind and listen; *out stays NULL when the listener is off. */
int wg_stream_start(const struct evpn_host *h, const struct wg_stream_cfg *cfg,
		    wg_stream_rx_cb rx, wg_stream_rx_end_cb rx_end,
		    void *rx_arg, struct wg_stream_srv **out) EVPN_WUR;
/* Close every stream and the listener. NULL is fine. */
void wg_stream_stop(struct wg_stream_srv *s);

/* Is this address a stream's (not a UDP endpoint)? */
bool wg_stream_addr(const struct sockaddr_storage *a);
/* Queue one datagram to the stream of that address (dropped and counted
 * when the stream is gone or its queue is full). */
void wg_stream_send(struct wg_stream_srv *s, const struct sockaddr_storage *to,
		    const uint8_t *data, size_t len);
/* May a datagram authenticated as the peer with this public key arrive
 * from this address? Always for UDP; for a stream only when the key is its
 * user's (otherwise the stream is closed). */
bool wg_stream_peer_ok(struct wg_stream_srv *s,
		       const struct sockaddr_storage *from,
		       const uint8_t public_key[EVPN_KEY_LEN]);
/* A peer was removed: close the streams that carry it. */
void wg_stream_peer_removed(struct wg_stream_srv *s,
			    const uint8_t public_key[EVPN_KEY_LEN]);
/* The port actually bound (0 when off). */
uint16_t wg_stream_port(const struct wg_stream_srv *s);

#endif
