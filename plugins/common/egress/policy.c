/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evpn/api.h>

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
}

/* The API's own listener must not be reachable through the tunnel (a
 * client would otherwise reach the admin API from "inside" the server).
 * Looked up from the packet path until the API has bound (it starts
 * after the egress). Its port is refused on every address of the host,
 * whatever address it listens on: the set of addresses changes, and a
 * wildcard listener takes them all. */
static void resolve_api(struct sle_policy *p)
{
	const struct evpn_host *h = p->host;
	const struct evpn_api_ops *ops;
	struct evpn_ref ref;
	char buf[128], *colon;
	long port;

	if (!h->plugin_name(h, EVPN_KIND_API)) {
		p->api_resolved = true;
		return;
	}
	if (h->get_plugin(h, EVPN_KIND_API, &ref) != EVPN_OK)
		return;
	ops = ref.vtable;
	if (!ops || !ops->bound_address ||
	    ops->bound_address(ref.self, buf, sizeof(buf)) != EVPN_OK)
		return;
	p->api_resolved = true;
	colon = strrchr(buf, ':');
	port = colon ? strtol(colon + 1, NULL, 10) : 0;
	if (port <= 0 || port > 65535) {
		evpn_warn(h, "API address '%s' has no port: not refused", buf);
		return;
	}
	p->filter.api_port = (uint16_t)port;
	evpn_debug(h,
		   "refusing TCP port %ld (the API) on every host address to "
		   "clients",
		   port);
}

void sle_policy_begin(struct sle_policy *p)
{
	if (!p->api_resolved)
		resolve_api(p);
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
