// SPDX-License-Identifier: MIT
/*
 * Test egress "echo": answers ICMP/ICMPv6 echo requests from clients by
 * handing the reply straight back to the transport; drops everything else.
 * Lets the wireguard transport be tested inside evpnd without privileges.
 */
#include <stdlib.h>

#include <evpn/egress.h>
#include <evpn/host.h>

#include "icmp_echo.h"

#define ECHO_BATCH 64
#define ECHO_BUF 2048

struct echo {
	const struct evpn_host *host;
	struct evpn_sink to_transport;
	bool attached;
	struct evpn_metric *m_seen;
	uint8_t buf[ECHO_BATCH][ECHO_BUF];
	struct evpn_pkt out[ECHO_BATCH];
};

static int echo_create(const struct evpn_host *host,
		       const struct evpn_config_node *cfg, void **self)
{
	struct echo *e = calloc(1, sizeof(*e));

	if (!e)
		return EVPN_ERR_NOMEM;
	e->host = host;
	e->m_seen = host->metric(host, EVPN_METRIC_COUNTER,
				 "evpn_echo_packets_total",
				 "packets the echo egress received", NULL);
	*self = e;
	return EVPN_OK;
}

static void echo_destroy(void *self)
{
	free(self);
}

static int echo_attach(void *self, const struct evpn_sink *to)
{
	struct echo *e = self;

	e->to_transport = *to;
	e->attached = true;
	return EVPN_OK;
}

static void echo_send(void *self, const struct evpn_pkt_batch *b)
{
	struct echo *e = self;
	struct evpn_pkt_batch ob = {.pkts = e->out};
	uint32_t i;

	e->host->metric_add(e->m_seen, b->n);
	for (i = 0; i < b->n && ob.n < ECHO_BATCH; i++) {
		if (b->pkts[i].len > ECHO_BUF)
			continue;
		memcpy(e->buf[ob.n], b->pkts[i].data, b->pkts[i].len);
		if (!icmp_echo_reply(e->buf[ob.n], b->pkts[i].len))
			continue;
		e->out[ob.n].data = e->buf[ob.n];
		e->out[ob.n].len = b->pkts[i].len;
		e->out[ob.n].cap = ECHO_BUF;
		e->out[ob.n].peer = b->pkts[i].peer;
		ob.n++;
	}
	if (ob.n && e->attached)
		e->to_transport.deliver(e->to_transport.self, &ob);
}

static const struct evpn_egress_ops echo_ops = {
	.size = sizeof(struct evpn_egress_ops),
	.attach = echo_attach,
	.send = echo_send,
};

static const struct evpn_plugin_desc echo_desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "echo",
	.kind = EVPN_KIND_EGRESS,
	.version = "0.1.0",
	.description = "test egress: answers ICMP echo requests",
	.create = echo_create,
	.destroy = echo_destroy,
	.vtable = &echo_ops,
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtype-limits"
EVPN_PLUGIN_DEFINE(echo_desc)
#pragma GCC diagnostic pop
