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

/* IPv4: cli and dst are the addresses. IPv6: cli is the client's IPv4
 * address (the IPv6 one ends with the same pool offset, so one client
 * counts once), dst a hash of dst6, which holds the address. */
struct sle_flow_key {
	uint32_t cli, dst; /* host order */
	uint16_t cport, dport;
	uint8_t proto;
	uint8_t family; /* 4 or 6 */
	uint8_t dst6[16];
};

struct sle_flow {
	struct sle_flow_key k;
	uint32_t next;	  /* bucket chain: index + 1, 0 ends */
	uint32_t cli_nxt; /* TCP: next sequence number the client sends */
	uint32_t srv_nxt; /* TCP: next sequence number slirp sends */
	double last;	  /* last packet either way (host->now seconds) */
	uint8_t fin;	  /* 1: client sent FIN, 2: slirp sent FIN */
	bool used, srv_seen;
	/* the TCP relay's connection (tcp.h), NULL for slirp's flows: the
	 * relay forgets the flow itself when it closes, so such a flow
	 * never lingers; idle, it is expired like any other */
	void *owner;
};

struct sle_peer_count {
	uint32_t addr, count, next;
};

struct sle_flows {
	uint32_t cap, per_peer;
	uint64_t budget, mem;
	uint64_t tcp_cost; /* charge of a TCP flow (SLE_FLOW_TCP_COST) */
	double tcp_idle, dgram_idle;
	uint32_t n, nbuckets;
	uint32_t *buckets, *pbuckets; /* index + 1 */
	struct sle_flow *tab;
	uint32_t free_head; /* index + 1 */
	struct sle_peer_count *peers;
	uint32_t pfree_head;
	/* IPv6 client -> the IPv4 one: v6_base (the IPv4 pool's network)
	 * plus the address's offset from pool6 (its network address) */
	uint32_t v6_base;
	uint8_t pool6[16];
};

int sle_flows_init(struct sle_flows *f, uint32_t max_flows, uint32_t per_peer,
		   uint64_t budget, double tcp_idle, double dgram_idle);
void sle_flows_free(struct sle_flows *f);

/* A packet from a client (already passed by the filter): finds or creates
 * its flow. Returns SLE_PASS, or the limit that refuses a new flow. */
enum sle_reason sle_flows_client(struct sle_flows *f,
				 const struct sle_pkt_info *pi, double now);
/* The same, and the flow itself (NULL when a segment of no known TCP
 * connection passed without creating one). */
enum sle_reason sle_flows_client_get(struct sle_flows *f,
				     const struct sle_pkt_info *pi, double now,
				     struct sle_flow **out);
/* The flow of a client packet, or NULL; nothing created or refreshed. */
struct sle_flow *sle_flows_find(struct sle_flows *f,
				const struct sle_pkt_info *pi);
/* Forget a flow now. */
void sle_flows_del(struct sle_flows *f, struct sle_flow *fl);
/* A packet slirp sends to a client: refreshes its flow. */
void sle_flows_server(struct sle_flows *f, const struct sle_pkt_info *pi,
		      double now);

typedef void (*sle_flow_expire_cb)(const struct sle_flow *fl, void *arg);
/* Forget idle and closed flows; cb (may be NULL) sees each idle one first.
 */
void sle_flows_expire(struct sle_flows *f, double now, sle_flow_expire_cb cb,
		      void *arg);

uint32_t sle_flows_peer_count(const struct sle_flows *f, uint32_t addr);
/* The client (IPv6 address of the pool6 range) of an IPv6 flow. */
void sle_flow_client6(const struct sle_flows *f, const struct sle_flow *fl,
		      uint8_t out[16]);

#endif /* SLE_FLOWS_H */
