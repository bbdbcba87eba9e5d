/* SPDX-License-Identifier: MIT */
/*
 * transport: the tunnel protocol (WireGuard) on a UDP socket.
 *
 * The users service keeps the transport's peers in step with the store:
 * on start it sets the server key and upserts every active user; later it
 * upserts/removes peers as users are created, disabled and deleted. All calls
 * are on the loop thread (the users service posts them there).
 */
#ifndef EVPN_TRANSPORT_H
#define EVPN_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "egress.h"
#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A WireGuard (X25519) key: raw bytes, its base64 text (the form wg(8),
 * the API and the stores use), the buffer that holds that text with its
 * NUL, and its lowercase hex text. */
#define EVPN_KEY_LEN 32
#define EVPN_KEY_B64_LEN 44 /* sodium_base64_ENCODED_LEN(32) - 1 */
#define EVPN_KEY_B64_SIZE (EVPN_KEY_B64_LEN + 1)
#define EVPN_KEY_HEX_LEN (EVPN_KEY_LEN * 2)

/* An allowed-IPs entry. */
struct evpn_cidr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t prefix;
	uint8_t addr[16]; /* network byte order; first 4 bytes for IPv4 */
};

struct evpn_peer_config {
	uint32_t size;
	uint8_t public_key[EVPN_KEY_LEN];
	uint8_t preshared_key[EVPN_KEY_LEN]; /* all zero: none */
	const char *id;			     /* client_id, for logs and UAPI */
	const struct evpn_cidr *allowed_ips;
	uint32_t n_allowed_ips;
	bool enabled;		       /* false: keep but refuse handshakes */
	uint16_t persistent_keepalive; /* seconds, 0 = off */
	struct sockaddr_storage endpoint; /* ss_family 0 = unknown */
	/* Appended: the peer's rate limit, bits per second, each way (what
	 * it sends and what it is sent, counted as tunnelled IP bytes);
	 * 0: none. Read only when EVPN_HAS_FIELD(cfg, rate_limit_bps). */
	uint64_t rate_limit_bps;
};

struct evpn_peer_stats {
	uint32_t size;
	int64_t last_handshake_sec; /* unix time, 0 = never */
	int64_t last_handshake_nsec;
	uint64_t rx_bytes, tx_bytes;
	struct sockaddr_storage endpoint; /* ss_family 0 = none yet */
};

struct evpn_transport_ops {
	uint32_t size;
	/* Where decrypted packets go (the egress). */
	int (*attach)(void *self, const struct evpn_sink *to_egress) EVPN_WUR;
	/* Packets from the egress to encrypt toward their peer. */
	void (*send)(void *self, const struct evpn_pkt_batch *batch);
	/* Server identity; the secret is copied, the caller wipes its copy. */
	int (*set_private_key)(void *self,
			       const uint8_t key[EVPN_KEY_LEN]) EVPN_WUR;
	/* Add or update a peer (by public key). Disabling drops its sessions.
	 */
	int (*peer_upsert)(void *self,
			   const struct evpn_peer_config *peer) EVPN_WUR;
	/* Remove a peer and wipe its sessions at once. */
	int (*peer_remove)(void *self,
			   const uint8_t public_key[EVPN_KEY_LEN]) EVPN_WUR;
	int (*peer_stats)(void *self, const uint8_t public_key[EVPN_KEY_LEN],
			  struct evpn_peer_stats *out) EVPN_WUR;
	uint32_t (*peer_count)(void *self);
	/* The UDP address actually bound. */
	int (*bound_address)(void *self, struct sockaddr_storage *out);
};

#ifdef __cplusplus
}
#endif
#endif /* EVPN_TRANSPORT_H */
