/* SPDX-License-Identifier: MIT */
/*
 * egress `slirp`: the ABI glue. Config schema, lifecycle, metrics. The
 * destination policy (allow/deny, the host's addresses, the API's port)
 * is plugins/common/egress/policy.h.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evpn/config.h>
#include <evpn/egress.h>
#include <evpn/host.h>
#include <evpn/plugin.h>

#include "sle.h"

static const struct evpn_config_key sle_schema[] = {
	{.key = "dns",
	 .type = EVPN_CFG_STRING,
	 .def = "",
	 .desc = "address inside the pool where slirp answers DNS (TCP/UDP "
		 "53) by forwarding to the host's resolvers "
		 "(/etc/resolv.conf); empty: the server address. Write the "
		 "same address into network.dns"},
	SLE_POLICY_KEYS,
	{.key = "tcp",
	 .type = EVPN_CFG_STRING,
	 .def = "relay",
	 .desc = "who terminates client TCP: \"relay\" (the egress's own "
		 "relay onto host sockets: window scaling, SACK, RACK-TLP, "
		 "BBR or CUBIC, MSS from the MTU) or \"slirp\" (libslirp, no "
		 "window scaling: one flow is held to 64 KiB per round trip)"},
	{.key = "tcp_cc",
	 .type = EVPN_CFG_STRING,
	 .def = "bbr",
	 .desc = "congestion control of the relay toward clients: \"bbr\" "
		 "(paced by the measured delivery rate; loss at the client's "
		 "UDP socket does not slow it) or \"cubic\" (RFC 9438)"},
	{.key = "allow_loopback",
	 .type = EVPN_CFG_BOOL,
	 .def = "false",
	 .desc = "let clients reach the host's loopback (127.0.0.0/8, and "
		 "pool addresses that slirp maps to 127.0.0.1)"},
	{.key = "max_flows",
	 .type = EVPN_CFG_INT,
	 .def = "16384",
	 .min = 1,
	 .max = 4194304,
	 .desc = "open flows (TCP connections, UDP port pairs, pings) of all "
		 "clients; new ones beyond are refused"},
	{.key = "max_flows_per_peer",
	 .type = EVPN_CFG_INT,
	 .def = "1024",
	 .min = 0,
	 .max = 4194304,
	 .desc = "open flows of one client address (0: no limit)"},
	{.key = "idle_timeout",
	 .type = EVPN_CFG_DURATION,
	 .def = "2h",
	 .desc = "a TCP flow idle for this long is reset on both sides"},
	{.key = "udp_idle_timeout",
	 .type = EVPN_CFG_DURATION,
	 .def = "60s",
	 .desc = "a UDP/ICMP flow idle for this long stops counting against "
		 "the limits"},
	{.key = "memory_budget",
	 .type = EVPN_CFG_SIZE,
	 .def = "512M",
	 .desc = "buffer memory slirp may commit to flows (each TCP flow "
		 "counts 256 KiB, each UDP/ICMP flow 16 KiB); 0: no limit"},
	EVPN_CONFIG_KEYS_END,
};

static bool parse_v4(const char *s, struct in_addr *a)
{
	return s && inet_pton(AF_INET, s, a) == 1;
}

static void make_metrics(struct sle *s)
{
	const struct evpn_host *h = s->host;

	s->m_pkts_out =
		h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_packets_total",
			  "packets through the egress", "dir=\"out\"");
	s->m_pkts_in =
		h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_packets_total",
			  "packets through the egress", "dir=\"in\"");
	s->m_bytes_out =
		h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_bytes_total",
			  "IP bytes through the egress", "dir=\"out\"");
	s->m_bytes_in =
		h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_bytes_total",
			  "IP bytes through the egress", "dir=\"in\"");
	s->m_arp = h->metric(h, EVPN_METRIC_COUNTER,
			     "evpn_egress_arp_replies_total",
			     "slirp ARP requests answered for clients", NULL);
	s->m_flows = h->metric(h, EVPN_METRIC_GAUGE, "evpn_egress_flows",
			       "open client flows", NULL);
	s->m_flows_expired = h->metric(h, EVPN_METRIC_COUNTER,
				       "evpn_egress_flows_expired_total",
				       "idle TCP flows reset", NULL);
	s->m_dropped_big =
		h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_dropped_total",
			  "packets dropped for size", "reason=\"too_big\"");
	s->m_tcp_retx = h->metric(
		h, EVPN_METRIC_COUNTER, "evpn_egress_tcp_retransmits_total",
		"TCP relay: segments resent to clients", NULL);
	s->m_tcp_rto = h->metric(h, EVPN_METRIC_COUNTER,
				 "evpn_egress_tcp_timeouts_total",
				 "TCP relay: retransmission timeouts", NULL);
	s->m_tcp_tlp = h->metric(h, EVPN_METRIC_COUNTER,
				 "evpn_egress_tcp_tail_probes_total",
				 "TCP relay: tail loss probes sent", NULL);
	s->m_tcp_dup = h->metric(
		h, EVPN_METRIC_COUNTER, "evpn_egress_tcp_duplicates_total",
		"TCP relay: client segments with data already received", NULL);
	s->m_tcp_ooo = h->metric(
		h, EVPN_METRIC_COUNTER, "evpn_egress_tcp_out_of_order_total",
		"TCP relay: client segments that arrived after a hole", NULL);
	s->m_tcp_rst = h->metric(h, EVPN_METRIC_COUNTER,
				 "evpn_egress_tcp_resets_total",
				 "TCP relay: RSTs sent to clients", NULL);
	s->m_tcp_cfail = h->metric(
		h, EVPN_METRIC_COUNTER, "evpn_egress_tcp_connect_failed_total",
		"TCP relay: host connects that failed", NULL);
	s->m_acks_merged = h->metric(
		h, EVPN_METRIC_COUNTER, "evpn_egress_acks_merged_total",
		"pure TCP ACKs to clients made redundant by a later one of the "
		"same send",
		NULL);
}

static void sle_destroy(void *self)
{
	struct sle *s = self;

	if (!s)
		return;
	sle_policy_free(&s->pol);
	sle_flows_free(&s->flows);
	free(s);
}

static int sle_create(const struct evpn_host *host,
		      const struct evpn_config_node *cfg, void **self)
{
	const struct evpn_config_ops *c = host->config;
	const struct evpn_network *net = host->network;
	struct sle *s = calloc(1, sizeof(*s));
	struct sle_cidr pool;
	const char *dns;
	uint32_t mask;
	int r = EVPN_ERR_CONFIG;

	if (!s)
		return EVPN_ERR_NOMEM;
	s->host = host;
	r = sle_policy_init(&s->pol, host, cfg);
	if (r != EVPN_OK)
		goto fail;
	r = EVPN_ERR_CONFIG;
	if (!sle_cidr_parse(net->pool, &pool) || pool.family != 4 ||
	    pool.prefix < 8 || pool.prefix > 30 ||
	    !parse_v4(net->server_address, &s->vhost)) {
		evpn_error(host, "network.pool '%s' is not an IPv4 pool",
			   net->pool);
		goto fail;
	}
	mask = ~0u << (32 - pool.prefix);
	s->mask.s_addr = htonl(mask);
	s->net.s_addr = htonl(sle_v4(pool.addr) & mask);
	dns = c->get_str(cfg, "dns", "");
	if (!*dns)
		dns = net->server_address;
	if (!parse_v4(dns, &s->dns) ||
	    (ntohl(s->dns.s_addr) & mask) != ntohl(s->net.s_addr)) {
		evpn_error(host,
			   "dns: '%s' must be an IPv4 address inside the pool "
			   "%s (slirp answers DNS only on its own addresses)",
			   dns, net->pool);
		goto fail;
	}
	if (net->pool6 && net->server_address6) {
		struct sle_cidr p6;

		if (!sle_cidr_parse(net->pool6, &p6) || p6.family != 6 ||
		    p6.prefix > 120 ||
		    inet_pton(AF_INET6, net->server_address6, &s->dns6) != 1) {
			evpn_error(host, "network.pool6 '%s' is not usable",
				   net->pool6);
			goto fail;
		}
		s->has6 = true;
		s->prefix6 = p6.prefix;
		memcpy(&s->net6, p6.addr, 16);
		s->pol.filter.has6 = true;
		s->pol.filter.pool6 = p6;
		memcpy(s->pol.filter.dns6, &s->dns6, 16);
		memcpy(s->pol.filter.vhost6, p6.addr, 16);
	}
	s->mtu = net->mtu ? net->mtu : 1420;
	s->tcp_ep = -1;
	{
		const char *tm = c->get_str(cfg, "tcp", "relay");

		if (!strcmp(tm, "relay")) {
			s->tcp_relay = true;
		} else if (strcmp(tm, "slirp") != 0) {
			evpn_error(host, "tcp: '%s' is neither slirp nor relay",
				   tm);
			goto fail;
		}
		tm = c->get_str(cfg, "tcp_cc", "bbr");
		if (!strcmp(tm, "bbr")) {
			s->tcp_bbr = true;
		} else if (strcmp(tm, "cubic") != 0) {
			evpn_error(host,
				   "tcp_cc: '%s' is neither bbr nor cubic", tm);
			goto fail;
		}
	}
	s->allow_loopback = c->get_bool(cfg, "allow_loopback", false);

	s->pol.filter.allow_loopback = s->allow_loopback;
	s->pol.filter.pool = ntohl(s->net.s_addr);
	s->pol.filter.pool_mask = mask;
	s->pol.filter.vhost = ntohl(s->vhost.s_addr);
	s->pol.filter.dns = ntohl(s->dns.s_addr);
	if (sle_flows_init(
		    &s->flows, (uint32_t)c->get_int(cfg, "max_flows", 16384),
		    (uint32_t)c->get_int(cfg, "max_flows_per_peer", 1024),
		    c->get_size(cfg, "memory_budget", 512u << 20),
		    c->get_duration(cfg, "idle_timeout", 7200),
		    c->get_duration(cfg, "udp_idle_timeout", 60))) {
		r = EVPN_ERR_NOMEM;
		goto fail;
	}
	/* A client's IPv6 address ends with its IPv4 offset: its IPv6 flows
	 * count toward the same per-client limit. */
	/* the relay charges its windows to the budget as they are offered
	 * (tcp.h); a connection itself costs little */
	if (s->tcp_relay)
		s->flows.tcp_cost = SLE_FLOW_DGRAM_COST;
	s->flows.v6_base = ntohl(s->net.s_addr);
	memcpy(s->flows.pool6, &s->net6, 16);
	make_metrics(s);
	*self = s;
	return EVPN_OK;
fail:
	sle_destroy(s);
	return r;
}

static void sle_stop(void *self)
{
	struct sle *s = self;

	sle_tcp_stop(s);
	sle_stack_stop(s);
	sle_loop_stop(s);
	sle_policy_stop(&s->pol);
}

static int sle_start(void *self)
{
	struct sle *s = self;
	char net[INET_ADDRSTRLEN], dns[INET_ADDRSTRLEN];
	int r;

	sle_policy_start(&s->pol);
	r = sle_stack_start(s);
	if (r == EVPN_OK)
		r = sle_loop_start(s);
	if (r == EVPN_OK && s->tcp_relay)
		r = sle_tcp_start(s);
	if (r != EVPN_OK) {
		sle_stop(s);
		return r;
	}
	inet_ntop(AF_INET, &s->net, net, sizeof(net));
	inet_ntop(AF_INET, &s->dns, dns, sizeof(dns));
	evpn_info(s->host,
		  "libslirp %s: network %s/%u, gateway %s, DNS %s, MTU %u, "
		  "host loopback %s",
		  slirp_version_string(), net,
		  (unsigned)__builtin_popcount(s->mask.s_addr),
		  s->host->network->server_address, dns, s->mtu,
		  s->allow_loopback ? "reachable" : "refused");
	return EVPN_OK;
}

static int sle_attach(void *self, const struct evpn_sink *to)
{
	struct sle *s = self;

	if (!to || !to->deliver)
		return EVPN_ERR_INVAL;
	s->to_transport = *to;
	s->attached = true;
	return EVPN_OK;
}

static const struct evpn_egress_ops sle_ops = {
	.size = sizeof(struct evpn_egress_ops),
	.attach = sle_attach,
	.send = sle_send,
};

static const struct evpn_plugin_desc sle_desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "slirp",
	.kind = EVPN_KIND_EGRESS,
	.version = "1.0.0",
	.description = "unprivileged egress through libslirp (user-mode "
		       "TCP/IP): no TUN, no capabilities",
	.schema = sle_schema,
	.create = sle_create,
	.start = sle_start,
	.stop = sle_stop,
	.destroy = sle_destroy,
	.vtable = &sle_ops,
};

EVPN_PLUGIN_DEFINE(sle_desc)
