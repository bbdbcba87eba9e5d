/* SPDX-License-Identifier: MIT */
/*
 * The destination policy as both egress plugins (slirp, raw-socket) run
 * it: their shared `allow`/`deny` keys, the host's own addresses kept
 * fresh (hostaddr.h), the API's port looked up once the API has bound,
 * the refusal counters evpn_egress_refused_total{reason}, and the answer
 * a refused client gets (reject.h). The rules themselves are filter.h.
 */
#ifndef SLE_POLICY_H
#define SLE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <evpn/config.h>
#include <evpn/host.h>

#include "filter.h"
#include "hostaddr.h"
#include "pkt.h"
#include "reject.h"

/* The schema entries of the shared keys, for each plugin's table. */
#define SLE_POLICY_KEYS                                                        \
	{.key = "allow",                                                       \
	 .type = EVPN_CFG_CIDRLIST,                                            \
	 .desc = "CIDRs (IPv4 or IPv6) clients may reach although a "          \
		 "built-in rule refuses them (link-local, the host's own "     \
		 "addresses, other clients, ...); never the API's port"},      \
	{                                                                      \
		.key = "deny", .type = EVPN_CFG_CIDRLIST,                      \
		.desc = "CIDRs (IPv4 or IPv6) clients may not reach (refused " \
			"with TCP RST / ICMP administratively prohibited)"     \
	}

struct sle_policy {
	const struct evpn_host *host;
	struct sle_filter filter;
	struct sle_hostaddr local;
	struct sle_port *ports; /* the host's listeners, see filter.protect */
	uint64_t listeners_gen;
	struct evpn_metric *m_refused[SLE_R__COUNT];
};

/* From create: reads `allow` and `deny` (a bad CIDR is a config error
 * naming it) and registers the counters. The caller fills in the rest of
 * p->filter (pool, server, routed, ...). */
int sle_policy_init(struct sle_policy *p, const struct evpn_host *h,
		    const struct evpn_config_node *cfg) EVPN_WUR;
/* From start: the host's addresses (a failed first read is logged and
 * retried at each batch). */
void sle_policy_start(struct sle_policy *p);
/* From stop and destroy (idempotent). */
void sle_policy_stop(struct sle_policy *p);
void sle_policy_free(struct sle_policy *p);

/* Before each batch of client packets: the host's addresses refreshed,
 * the API's port looked up until the API has bound. */
void sle_policy_begin(struct sle_policy *p);

/* A refusal: counted; the answer to send back to the client (TCP RST or
 * ICMP administratively prohibited) is written into out (at least
 * SLE_REJECT_MAX bytes). Returns its length, 0 for none (no answer to
 * what is not a packet, nor to broadcast/multicast/0.x). */
size_t sle_policy_refuse(struct sle_policy *p, const uint8_t *ip,
			 const struct sle_pkt_info *pi, enum sle_reason r,
			 uint8_t *out);

#endif /* SLE_POLICY_H */
