/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"

static const char *const reason_names[SLE_R__COUNT] = {
	[SLE_PASS] = "pass",
	[SLE_R_MALFORMED] = "malformed",
	[SLE_R_IPV6] = "ipv6",
	[SLE_R_PROTO] = "protocol",
	[SLE_R_LOOPBACK] = "loopback",
	[SLE_R_LINKLOCAL] = "link_local",
	[SLE_R_SPECIAL] = "special",
	[SLE_R_API] = "api",
	[SLE_R_DENY] = "deny",
	[SLE_R_FLOWS] = "max_flows",
	[SLE_R_PEER_FLOWS] = "max_flows_per_peer",
	[SLE_R_MEMORY] = "memory_budget",
};

const char *sle_reason_name(enum sle_reason r)
{
	return (unsigned)r < SLE_R__COUNT ? reason_names[r] : "unknown";
}

bool sle_cidr_parse(const char *s, struct sle_cidr *out)
{
	char buf[64], *slash, *end;
	long pfx;

	if (!s || strlen(s) >= sizeof(buf))
		return false;
	memset(out, 0, sizeof(*out));
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = 4;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = 6;
	else
		return false;
	pfx = out->family == 4 ? 32 : 128;
	if (slash) {
		long max = pfx;

		pfx = strtol(slash, &end, 10);
		if (!*slash || *end || pfx < 0 || pfx > max)
			return false;
	}
	out->prefix = (uint8_t)pfx;
	return true;
}

bool sle_cidr_match(const struct sle_cidr *c, int family, const uint8_t *a)
{
	unsigned full, rem;

	if (c->family != family)
		return false;
	full = c->prefix / 8;
	rem = c->prefix % 8;
	if (memcmp(c->addr, a, full) != 0)
		return false;
	if (rem) {
		uint8_t m = (uint8_t)(0xff << (8 - rem));

		if ((c->addr[full] & m) != (a[full] & m))
			return false;
	}
	return true;
}

void sle_filter_add_api(struct sle_filter *f, int family, const uint8_t *addr,
			uint16_t port)
{
	struct sle_pkt_info probe = {.family = (uint8_t)family,
				     .proto = SLE_PROTO_TCP,
				     .first_frag = true,
				     .dport = port};

	if (family != 4 && family != 6)
		return;
	memcpy(probe.dst, addr, family == 4 ? 4 : 16);
	if (sle_filter_is_api(f, &probe) || f->n_api == SLE_MAX_API)
		return;
	f->api[f->n_api].family = (uint8_t)family;
	memcpy(f->api[f->n_api].addr, probe.dst, 16);
	f->api[f->n_api].port = port;
	f->n_api++;
}

/* TCP to the API's own listener (any fragment of it). */
bool sle_filter_is_api(const struct sle_filter *f,
		       const struct sle_pkt_info *pi)
{
	size_t alen = pi->family == 6 ? 16 : 4;

	if (pi->proto != SLE_PROTO_TCP)
		return false;
	for (size_t i = 0; i < f->n_api; i++)
		if (f->api[i].family == pi->family &&
		    !memcmp(f->api[i].addr, pi->dst, alen) &&
		    (!pi->first_frag || f->api[i].port == pi->dport))
			return true;
	return false;
}

static bool in_list(const struct sle_cidr *l, size_t n, int fam,
		    const uint8_t *a)
{
	for (size_t i = 0; i < n; i++)
		if (sle_cidr_match(&l[i], fam, a))
			return true;
	return false;
}

static bool is_echo(const struct sle_pkt_info *pi)
{
	return pi->proto == SLE_PROTO_ICMP && pi->icmp_type == 8;
}

/* A destination inside the pool: one of slirp's own aliases. */
static enum sle_reason check_pool(const struct sle_filter *f,
				  const struct sle_pkt_info *pi, uint32_t d)
{
	bool l4 = pi->proto == SLE_PROTO_TCP || pi->proto == SLE_PROTO_UDP;

	if (d == f->dns && (is_echo(pi) || (l4 && pi->dport == 53) ||
			    (!pi->first_frag && pi->proto != SLE_PROTO_ICMP)))
		return SLE_PASS;
	if (d == f->vhost && is_echo(pi))
		return SLE_PASS;
	if (d == (f->pool | ~f->pool_mask) || d == f->pool)
		return SLE_R_SPECIAL;
	/* Other ports of the DNS address would reach the resolver's host. */
	if (d == f->dns)
		return SLE_R_LOOPBACK;
	return f->allow_loopback && !is_echo(pi) ? SLE_PASS : SLE_R_LOOPBACK;
}

static bool pfx(const uint8_t *a, const char *bytes, unsigned nbits)
{
	struct sle_cidr c = {.family = 6, .prefix = (uint8_t)nbits};

	memcpy(c.addr, bytes, (nbits + 7) / 8);
	return sle_cidr_match(&c, 6, a);
}

/*
 * IPv6 (network.pool6 set): TCP and UDP anywhere but the host's loopback,
 * link-local and multicast scopes, the IPv4-mapped and -compatible spaces
 * (the host's dual-stack sockets would reach 127.0.0.1 or 169.254.169.254
 * through them) and the cloud metadata prefix fd00:ec2::/32 (EC2's IPv6
 * IMDS is fd00:ec2::254); ICMPv6 echo only to slirp's own addresses
 * (libslirp 4.7 does not forward ICMPv6 echo).
 */
static enum sle_reason check6(const struct sle_filter *f,
			      const struct sle_pkt_info *pi)
{
	static const uint8_t any[16], lo[16] = {[15] = 1};
	const uint8_t *d = pi->dst;
	bool l4 = pi->proto == SLE_PROTO_TCP || pi->proto == SLE_PROTO_UDP;
	bool echo = pi->proto == SLE_PROTO_ICMP6 && pi->icmp_type == 128;

	if (!f->has6)
		return SLE_R_IPV6;
	if (!l4 && !echo)
		return SLE_R_PROTO;
	if (sle_cidr_match(&f->pool6, 6, d)) {
		if (!memcmp(d, f->dns6, 16) &&
		    (echo || (l4 && pi->dport == 53)))
			return SLE_PASS;
		if (!memcmp(d, f->vhost6, 16) && echo)
			return SLE_PASS;
		if (!memcmp(d, f->dns6, 16) || !memcmp(d, f->vhost6, 16))
			return f->allow_loopback && !echo ? SLE_PASS
							  : SLE_R_LOOPBACK;
		return SLE_R_SPECIAL; /* another client: not through slirp */
	}
	if (echo)
		return SLE_R_PROTO;
	if (in_list(f->deny, f->n_deny, 6, d))
		return SLE_R_DENY;
	if (in_list(f->allow, f->n_allow, 6, d))
		return SLE_PASS;
	if (!memcmp(d, lo, 16))
		return f->allow_loopback ? SLE_PASS : SLE_R_LOOPBACK;
	if (!memcmp(d, any, 16) || d[0] == 0xff ||
	    pfx(d, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 96) ||
	    pfx(d, "\0\0\0\0\0\0\0\0\0\0\0\0", 96))
		return SLE_R_SPECIAL;
	if (pfx(d, "\xfe\x80", 10) || pfx(d, "\xfd\x00\x0e\xc2", 32))
		return SLE_R_LINKLOCAL;
	return sle_filter_is_api(f, pi) ? SLE_R_API : SLE_PASS;
}

enum sle_reason sle_filter_check(const struct sle_filter *f,
				 const struct sle_pkt_info *pi)
{
	uint32_t d;

	if (pi->family == 6)
		return check6(f, pi);
	if (pi->family != 4)
		return SLE_R_MALFORMED;
	if (pi->proto != SLE_PROTO_TCP && pi->proto != SLE_PROTO_UDP &&
	    !(pi->proto == SLE_PROTO_ICMP &&
	      (!pi->first_frag || pi->icmp_type == 8)))
		return SLE_R_PROTO;
	d = sle_v4(pi->dst);
	if ((d & f->pool_mask) == f->pool)
		return check_pool(f, pi, d);
	if (in_list(f->deny, f->n_deny, 4, pi->dst))
		return SLE_R_DENY;
	if (in_list(f->allow, f->n_allow, 4, pi->dst))
		return SLE_PASS;
	if ((d >> 24) == 127)
		return f->allow_loopback ? SLE_PASS : SLE_R_LOOPBACK;
	if ((d >> 16) == 0xa9fe)
		return SLE_R_LINKLOCAL;
	if ((d >> 24) == 0 || (d >> 29) == 7)
		return SLE_R_SPECIAL;
	return sle_filter_is_api(f, pi) ? SLE_R_API : SLE_PASS;
}
