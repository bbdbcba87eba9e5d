/* SPDX-License-Identifier: MIT */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static int read_cidrs(struct sle_policy *p, const struct evpn_config_node *cfg,
		      const char *key, struct sle_cidr **out, size_t *n)
{
	const struct evpn_config_ops *c = p->host->config;
	const struct evpn_config_node *l = c->get(cfg, key);
	size_t cnt = c->type(l) == EVPN_NODE_SEQ      ? c->len(l)
		     : c->type(l) == EVPN_NODE_SCALAR ? 1
						      : 0;

	*n = 0;
	*out = NULL;
	if (!cnt)
		return EVPN_OK;
	*out = calloc(cnt, sizeof(**out));
	if (!*out)
		return EVPN_ERR_NOMEM;
	for (size_t i = 0; i < cnt; i++) {
		const char *v = c->type(l) == EVPN_NODE_SEQ
					? c->scalar(c->at(l, i))
					: c->scalar(l);

		if (!sle_cidr_parse(v, &(*out)[*n])) {
			evpn_error(p->host, "%s: '%s' is not a CIDR", key,
				   v ? v : "");
			return EVPN_ERR_CONFIG;
		}
		(*n)++;
	}
	return EVPN_OK;
}

int sle_policy_init(struct sle_policy *p, const struct evpn_host *h,
		    const struct evpn_config_node *cfg)
{
	char lab[64];
	int r;

	memset(p, 0, sizeof(*p));
	p->host = h;
	p->local.nl = -1;
	r = read_cidrs(p, cfg, "allow", &p->filter.allow, &p->filter.n_allow);
	if (r == EVPN_OK)
		r = read_cidrs(p, cfg, "deny", &p->filter.deny,
			       &p->filter.n_deny);
	if (r != EVPN_OK)
		return r;
	for (int i = 1; i < SLE_R__COUNT; i++) {
		snprintf(lab, sizeof(lab), "reason=\"%s\"",
			 sle_reason_name((enum sle_reason)i));
		p->m_refused[i] = h->metric(
			h, EVPN_METRIC_COUNTER, "evpn_egress_refused_total",
			"client packets the egress refused, by reason", lab);
	}
	return EVPN_OK;
}

void sle_policy_start(struct sle_policy *p)
{
	if (sle_hostaddr_open(&p->local) != 0)
		evpn_warn(p->host, "cannot read the host's addresses yet; "
				   "retrying before each packet batch");
	if (p->local.nl < 0)
		evpn_info(p->host,
			  "no netlink address events: the host's "
			  "addresses are read again every %.0f s",
			  SLE_HOSTADDR_POLL);
	p->filter.local = &p->local;
}

void sle_policy_stop(struct sle_policy *p)
{
	p->filter.local = NULL;
	sle_hostaddr_close(&p->local);
}

void sle_policy_free(struct sle_policy *p)
{
	sle_policy_stop(p);
	free(p->filter.allow);
	free(p->filter.deny);
	p->filter.allow = p->filter.deny = NULL;
	free(p->ports);
	p->ports = NULL;
	p->filter.protect = NULL;
	p->filter.n_protect = 0;
	p->listeners_gen = 0;
}

/* The server's own listeners (the API, a stream listener) must not be
 * reachable through the tunnel: a client would otherwise reach the admin
 * API from "inside" the server. Their owners declare them to the host
 * (evpn_host.listener_add) once bound, after the egress has started, so
 * the list is re-read whenever its generation moves. Each port is refused
 * on every address of the host, whatever address it listens on: the set
 * of addresses changes, and a wildcard listener takes them all. */
static void refresh_listeners(struct sle_policy *p)
{
	const struct evpn_host *h = p->host;
	struct evpn_listener *l = NULL;
	struct sle_port *ports;
	uint64_t gen;
	size_t n;

	n = h->listeners(h, NULL, 0, &gen);
	if (gen == p->listeners_gen)
		return;
	if (n && !(l = calloc(n, sizeof(*l))))
		return;			       /* next batch tries again */
	if (h->listeners(h, l, n, &gen) > n || /* grew meanwhile: next batch */
	    !(ports = calloc(n ? n : 1, sizeof(*ports)))) {
		free(l);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		ports[i].proto = l[i].proto == IPPROTO_UDP ? SLE_PROTO_UDP
							   : SLE_PROTO_TCP;
		ports[i].port = l[i].port;
		evpn_debug(h,
			   "refusing %s port %u (a listener of this server) on "
			   "every host address to clients",
			   ports[i].proto == SLE_PROTO_UDP ? "UDP" : "TCP",
			   ports[i].port);
	}
	free(l);
	free(p->ports);
	p->ports = ports;
	p->filter.protect = ports;
	p->filter.n_protect = n;
	p->listeners_gen = gen;
}

void sle_policy_begin(struct sle_policy *p)
{
	refresh_listeners(p);
	if (p->filter.local)
		sle_hostaddr_refresh(&p->local, p->host->now(p->host));
}

size_t sle_policy_refuse(struct sle_policy *p, const uint8_t *ip,
			 const struct sle_pkt_info *pi, enum sle_reason r,
			 uint8_t *out)
{
	if ((unsigned)r < SLE_R__COUNT && p->m_refused[r])
		p->host->metric_add(p->m_refused[r], 1);
	/* No answer to broadcast/multicast/0.x (it would come from there),
	 * nor to what is not a packet. */
	if (r == SLE_R_SPECIAL || r == SLE_R_MALFORMED)
		return 0;
	return sle_reject_build(ip, pi, out);
}
