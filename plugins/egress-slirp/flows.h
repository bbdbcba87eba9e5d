/* SPDX-License-Identifier: MIT */
/*
 * Flow accounting for the egress limits. slirp keeps one host socket per
 * client flow and has no limits of its own, so the egress tracks flows
 * (TCP connections, UDP port pairs, ICMP echo identifiers) in a fixed-size
 * table and refuses NEW flows beyond:
 *   - max_flows in total, max_flows_per_peer per client address,
 *   - memory_budget: each flow is charged what slirp may buffer for it
 *     (TCP: SLE_FLOW_TCP_COST, slirp's two 128 KiB socket buffers;
 *     UDP/ICMP: SLE_FLOW_DGRAM_COST).
 * Existing flows are never cut by a limit. Flows idle for longer than the
 * idle timeout are forgotten (TCP ones are reset on both sides by the
 * caller through the expire callback); a closed TCP connection (FIN both
 * ways, or RST) is forgotten after SLE_FLOW_CLOSED_LINGER seconds.
 * No allocation after init: the table is sized by max_flows.
 */
#ifndef SLE_FLOWS_H
#define SLE_FLOWS_H

#include <stdbool.h>
#include <stdint.h>

#include "filter.h"
#include "pkt.h"

#define SLE_FLOW_TCP_COST (256u * 1024)
#define SLE_FLOW_DGRAM_COST (16u * 1024)
#define SLE_FLOW_CLOSED_LINGER 10.0

struct sle_flow_key {
	uint32_t cli, dst; /* host order */
	uint16_t cport, dport;
	uint8_t proto;
};

struct sle_flow {
	struct sle_flow_key k;
	uint32_t next;	  /* bucket chain: index + 1, 0 ends */
	uint32_t cli_nxt; /* TCP: next sequence number the client sends */
	uint32_t srv_nxt; /* TCP: next sequence number slirp sends */
	double last;	  /* last packet either way (host->now seconds) */
	uint8_t fin;	  /* 1: client sent FIN, 2: slirp sent FIN */
	bool used, srv_seen;
};

struct sle_peer_count {
	uint32_t addr, count, next;
};

struct sle_flows {
	uint32_t cap, per_peer;
	uint64_t budget, mem;
	double tcp_idle, dgram_idle;
	uint32_t n, nbuckets;
	uint32_t *buckets, *pbuckets; /* index + 1 */
	struct sle_flow *tab;
	uint32_t free_head; /* index + 1 */
	struct sle_peer_count *peers;
	uint32_t pfree_head;
};

int sle_flows_init(struct sle_flows *f, uint32_t max_flows, uint32_t per_peer,
		   uint64_t budget, double tcp_idle, double dgram_idle);
void sle_flows_free(struct sle_flows *f);

/* A packet from a client (already passed by the filter): finds or creates
 * its flow. Returns SLE_PASS, or the limit that refuses a new flow. */
enum sle_reason sle_flows_client(struct sle_flows *f,
				 const struct sle_pkt_info *pi, double now);
/* A packet slirp sends to a client: refreshes its flow. */
void sle_flows_server(struct sle_flows *f, const struct sle_pkt_info *pi,
		      double now);

typedef void (*sle_flow_expire_cb)(const struct sle_flow *fl, void *arg);
/* Forget idle and closed flows; cb (may be NULL) sees each idle one first.
 */
void sle_flows_expire(struct sle_flows *f, double now, sle_flow_expire_cb cb,
		      void *arg);

uint32_t sle_flows_peer_count(const struct sle_flows *f, uint32_t addr);

#endif /* SLE_FLOWS_H */
