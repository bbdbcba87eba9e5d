/* SPDX-License-Identifier: MIT */
/*
 * egress: where decrypted IP packets go, and where replies come from.
 *
 * The data plane moves batches of IP packets between transport and egress
 * through sinks: one call per batch, not per packet. Packets are borrowed for
 * the duration of the call; a callee that keeps one copies it (into its own
 * pool: no malloc per packet on the hot path).
 *
 * Wiring (done by the core on the loop thread, after create and before
 * start): the core calls egress->attach(self, transport_sink) and
 * transport->attach(self, egress_sink). All calls happen on the loop thread.
 */
#ifndef EVPN_EGRESS_H
#define EVPN_EGRESS_H

#include <stdint.h>

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

struct evpn_pkt {
	uint8_t *data; /* first byte of the IP header */
	uint32_t len;  /* IP packet length */
	uint32_t cap;  /* writable bytes from data (callee may use for in-place
			  work) */
	uint32_t peer; /* transport's peer handle (ingress), 0 when unknown */
	/* Reserved since ABI 1.0: senders set 0 and receivers ignore it (a
	 * later minor may give it meaning, e.g. checksum-offload hints). */
	uint32_t flags;
};

struct evpn_pkt_batch {
	struct evpn_pkt *pkts;
	uint32_t n;
};

/* A receiver of packet batches. */
struct evpn_sink {
	void *self;
	void (*deliver)(void *self, const struct evpn_pkt_batch *batch);
};

struct evpn_egress_ops {
	uint32_t size;
	/* Where the egress sends packets destined to clients. */
	int (*attach)(void *self,
		      const struct evpn_sink *to_transport) EVPN_WUR;
	/* Packets from clients (already decrypted and source-checked). */
	void (*send)(void *self, const struct evpn_pkt_batch *batch);
};

#ifdef __cplusplus
}
#endif
#endif /* EVPN_EGRESS_H */
