/* SPDX-License-Identifier: MIT */
/*
 * The slirp egress instance: one libslirp stack for every client of the
 * pool. See README.md for the design; the pieces:
 *   stack.c  - the slirp instance, its callbacks, the packet paths
 *   loop.c   - slirp <-> the host loop (PREPARE/CHECK hooks, io watches)
 *   plugin.c - config schema, lifecycle, metrics
 *   flows.c, eth.c, ackthin.c - pure helpers; the destination policy
 *   (filter, refusals, host addresses) is plugins/common/egress
 */
#ifndef SLE_H
#define SLE_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>

#include <slirp/libslirp.h>

#include <evpn/egress.h>
#include <evpn/host.h>

#include "ackthin.h"
#include "flows.h"
#include "policy.h"
#include "tcp.h"

struct sle_tsock;

#define SLE_BATCH 64

struct sle_timer;

struct sle {
	const struct evpn_host *host;
	Slirp *slirp;
	struct sle_policy pol;
	struct sle_flows flows;
	unsigned mtu;
	struct in_addr net, mask, vhost, dns;
	/* with network.pool6: slirp's IPv6 prefix (its network address is
	 * also slirp's own address, as for IPv4) and the DNS address (the
	 * server's IPv6 address) */
	bool has6;
	struct in6_addr net6, dns6;
	unsigned prefix6;
	bool allow_loopback;

	struct evpn_sink to_transport;
	bool attached;

	/* packets toward the transport, delivered in batches */
	uint8_t *obuf;
	uint32_t slot;
	struct evpn_pkt opkts[SLE_BATCH];
	/* which of them are pure ACKs (ackthin.h); a merged one is left in
	 * opkts with len 0 and skipped at the flush */
	struct sle_ack oack[SLE_BATCH];
	uint32_t on;
	/* one Ethernet frame toward slirp */
	uint8_t *frame;
	uint32_t frame_cap;

	/* loop integration */
	struct evpn_hook *prepare, *check;
	struct evpn_timer *wake, *expire;
	struct pollfd *pfds;
	uint32_t npfds, cap_pfds;
	struct evpn_io **ios; /* by fd */
	uint32_t *io_gen;     /* fill generation an fd was last seen in */
	uint8_t *io_ev;	      /* events the watch has */
	int nios;
	uint32_t gen;
	bool kick; /* slirp holds packets for a resolved ARP: poll again */

	struct evpn_metric *m_pkts_out, *m_bytes_out, *m_pkts_in, *m_bytes_in;
	struct evpn_metric *m_arp, *m_flows, *m_dropped_big, *m_flows_expired;
	struct evpn_metric *m_acks_merged;

	/* `tcp: relay` (tcp.h): client TCP through our relay, not slirp */
	bool tcp_relay;
	bool tcp_bbr; /* `tcp_cc: bbr` (else cubic) */
	struct sle_tcp *tcp;
	int tcp_ep;
	struct evpn_io *tcp_io;
	bool tcp_more; /* senders wait for the next loop turn */
	/* connections with client data queued for their socket: written at
	 * the end of the batch, one send() for many segments (tcp_sock.c) */
	struct sle_tsock *tcp_dirty;
	uint64_t tcp_seen[7];
	struct evpn_metric *m_tcp_retx, *m_tcp_ooo, *m_tcp_rst, *m_tcp_cfail;
	struct evpn_metric *m_tcp_rto, *m_tcp_tlp, *m_tcp_dup;
};

/* stack.c */
int sle_stack_start(struct sle *s) EVPN_WUR;
void sle_stack_stop(struct sle *s);
void sle_send(void *self, const struct evpn_pkt_batch *batch);
void sle_flush(struct sle *s);
void sle_expire(struct evpn_timer *t, void *arg);
/* Queue one IP packet toward the transport (copied); returns its place in
 * the batch, or -1 when it was dropped. */
int sle_out(struct sle *s, const uint8_t *ip, uint32_t len);

/* tcp_sock.c */
int sle_tcp_start(struct sle *s) EVPN_WUR;
void sle_tcp_stop(struct sle *s);
void sle_tcp_packet(struct sle *s, const uint8_t *ip,
		    const struct sle_pkt_info *pi, double now);
void sle_tcp_done(struct sle *s);

/* loop.c */
int sle_loop_start(struct sle *s) EVPN_WUR;
void sle_loop_stop(struct sle *s);
void sle_loop_unregister_fd(struct sle *s, int fd);

#endif /* SLE_H */
