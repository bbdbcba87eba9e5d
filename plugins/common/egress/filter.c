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
	[SLE_R_HOST] = "host",
	[SLE_R_CLIENT] = "client",
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
	if (pi->family == 6)
		return pi->proto == SLE_PROTO_ICMP6 && pi->icmp_type == 128;
	return pi->proto == SLE_PROTO_ICMP && pi->icmp_type == 8;
}

static bool is_l4(const struct sle_pkt_info *pi)
{
	return pi->proto == SLE_PROTO_TCP || pi->proto == SLE_PROTO_UDP;
}

/* IPv6 extension headers (not walked by sle_pkt_parse): the transport
 * behind them, and so its port, is unknown. */
static bool is_ext6(const struct sle_pkt_info *pi)
{
	switch (pi->proto) {
	case 0:	  /* hop-by-hop */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */ return pi->family == 6;
	default: return false;
	}
}

/* A packet that is, or may be, to a protected listener (the API's port,
 * a stream listener). `own` says the destination is the host itself (one
 * of its addresses, the server address, or a slirp alias slirp maps to
 * its 127.0.0.1). Fragments after the first and IPv6 extension headers
 * hide the port: refused too, since `allow` must never open the API. */
static bool api_port(const struct sle_filter *f, const struct sle_pkt_info *pi,
		     bool own)
{
	if (!f->n_protect || !own)
		return false;
	if (is_ext6(pi))
		return true;
	for (size_t i = 0; i < f->n_protect; i++)
		if (pi->proto == f->protect[i].proto &&
		    (!pi->first_frag || pi->dport == f->protect[i].port))
			return true;
	return false;
}

static bool is_local(const struct sle_filter *f, int fam, const uint8_t *a)
{
	return sle_hostaddr_has(f->local, fam, a);
}

/* The DNS address: port 53, ping, and later fragments (no port seen). */
static bool dns_ok(const struct sle_pkt_info *pi)
{
	return is_echo(pi) || (is_l4(pi) && pi->dport == 53) ||
	       (!pi->first_frag && is_l4(pi));
}

/* slirp: a destination inside the pool is one of slirp's own aliases. */
static enum sle_reason slirp_pool4(const struct sle_filter *f,
				   const struct sle_pkt_info *pi, uint32_t d)
{
	if (d == f->dns && dns_ok(pi))
		return SLE_PASS;
	if (d == f->vhost && is_echo(pi))
		return SLE_PASS;
	if (d == (f->pool | ~f->pool_mask) || d == f->pool)
		return SLE_R_SPECIAL;
	/* Other ports of the DNS address would reach the resolver's host. */
	if (d == f->dns)
		return SLE_R_LOOPBACK;
	if (is_echo(pi) || !f->allow_loopback)
		return SLE_R_LOOPBACK;
	/* mapped to the host's 127.0.0.1, where the API may listen */
	return api_port(f, pi, true) ? SLE_R_API : SLE_PASS;
}

/* The refusals every destination outside the pool goes through after
 * `deny`, the API and `allow`. */
static enum sle_reason builtin4(const struct sle_filter *f,
				const struct sle_pkt_info *pi, uint32_t d)
{
	if ((d >> 24) == 127)
		return f->allow_loopback ? SLE_PASS : SLE_R_LOOPBACK;
	if ((d >> 16) == 0xa9fe)
		return SLE_R_LINKLOCAL;
	if ((d >> 24) == 0 || (d >> 29) == 7)
		return SLE_R_SPECIAL;
	return is_local(f, 4, pi->dst) ? SLE_R_HOST : SLE_PASS;
}

static enum sle_reason check4(const struct sle_filter *f,
			      const struct sle_pkt_info *pi)
{
	uint32_t d = sle_v4(pi->dst);
	bool pool = (d & f->pool_mask) == f->pool;
	bool server = f->routed && pool && d == f->vhost;

	if (!f->routed && pi->proto != SLE_PROTO_TCP &&
	    pi->proto != SLE_PROTO_UDP &&
	    !(pi->proto == SLE_PROTO_ICMP &&
	      (!pi->first_frag || pi->icmp_type == 8)))
		return SLE_R_PROTO;
	if (pool && !f->routed)
		return slirp_pool4(f, pi, d);
	if (pool && (d == (f->pool | ~f->pool_mask) || d == f->pool))
		return SLE_R_SPECIAL;
	if (in_list(f->deny, f->n_deny, 4, pi->dst))
		return SLE_R_DENY;
	if (api_port(f, pi,
		     server || (d >> 24) == 127 || is_local(f, 4, pi->dst)))
		return SLE_R_API;
	if (server && d == f->dns && dns_ok(pi))
		return SLE_PASS;
	if (in_list(f->allow, f->n_allow, 4, pi->dst))
		return SLE_PASS;
	if (pool)
		return server ? SLE_R_HOST : SLE_R_CLIENT;
	return builtin4(f, pi, d);
}

static bool pfx(const uint8_t *a, const char *bytes, unsigned nbits)
{
	struct sle_cidr c = {.family = 6, .prefix = (uint8_t)nbits};

	memcpy(c.addr, bytes, (nbits + 7) / 8);
	return sle_cidr_match(&c, 6, a);
}

static const uint8_t any6[16], lo6[16] = {[15] = 1};

/* slirp: pool6 addresses. Its own address and the DNS address are the
 * host's loopback for anything but DNS and echo; another client is not
 * reachable through slirp. */
static enum sle_reason slirp_pool6(const struct sle_filter *f,
				   const struct sle_pkt_info *pi)
{
	const uint8_t *d = pi->dst;

	if (!memcmp(d, f->dns6, 16) &&
	    (is_echo(pi) || (is_l4(pi) && pi->dport == 53)))
		return SLE_PASS;
	if (!memcmp(d, f->vhost6, 16) && is_echo(pi))
		return SLE_PASS;
	if (!memcmp(d, f->dns6, 16) || !memcmp(d, f->vhost6, 16)) {
		if (!f->allow_loopback || is_echo(pi))
			return SLE_R_LOOPBACK;
		return api_port(f, pi, true) ? SLE_R_API : SLE_PASS;
	}
	return SLE_R_SPECIAL; /* another client: not through slirp */
}

static enum sle_reason builtin6(const struct sle_filter *f,
				const struct sle_pkt_info *pi)
{
	const uint8_t *d = pi->dst;

	if (!memcmp(d, lo6, 16))
		return f->allow_loopback ? SLE_PASS : SLE_R_LOOPBACK;
	if (!memcmp(d, any6, 16) || d[0] == 0xff ||
	    pfx(d, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 96) ||
	    pfx(d, "\0\0\0\0\0\0\0\0\0\0\0\0", 96))
		return SLE_R_SPECIAL;
	if (pfx(d, "\xfe\x80", 10) || pfx(d, "\xfd\x00\x0e\xc2", 32))
		return SLE_R_LINKLOCAL;
	return is_local(f, 6, d) ? SLE_R_HOST : SLE_PASS;
}

/*
 * IPv6 (network.pool6 set): anywhere but the host's loopback, link-local
 * and multicast scopes, the IPv4-mapped and -compatible spaces (the
 * host's dual-stack sockets would reach 127.0.0.1 or 169.254.169.254
 * through them) and the cloud metadata prefix fd00:ec2::/32 (EC2's IPv6
 * IMDS is fd00:ec2::254). slirp carries TCP and UDP, and ICMPv6 echo only
 * to its own addresses (libslirp 4.7 does not forward ICMPv6 echo).
 */
static enum sle_reason check6(const struct sle_filter *f,
			      const struct sle_pkt_info *pi)
{
	const uint8_t *d = pi->dst;
	bool echo = is_echo(pi);
	bool pool = f->has6 && sle_cidr_match(&f->pool6, 6, d);
	bool server = f->routed && pool && !memcmp(d, f->dns6, 16);

	if (!f->has6)
		return SLE_R_IPV6;
	if (!f->routed && !is_l4(pi) && !echo)
		return SLE_R_PROTO;
	if (pool && !f->routed)
		return slirp_pool6(f, pi);
	if (pool && !memcmp(d, f->pool6.addr, 16))
		return SLE_R_SPECIAL; /* the subnet-router anycast address */
	if (!f->routed && echo)
		return SLE_R_PROTO;
	if (in_list(f->deny, f->n_deny, 6, d))
		return SLE_R_DENY;
	if (api_port(f, pi, server || !memcmp(d, lo6, 16) || is_local(f, 6, d)))
		return SLE_R_API;
	if (server && dns_ok(pi))
		return SLE_PASS;
	if (in_list(f->allow, f->n_allow, 6, d))
		return SLE_PASS;
	if (pool)
		return server ? SLE_R_HOST : SLE_R_CLIENT;
	return builtin6(f, pi);
}

enum sle_reason sle_filter_check(const struct sle_filter *f,
				 const struct sle_pkt_info *pi)
{
	if (pi->family == 6)
		return check6(f, pi);
	if (pi->family != 4)
		return SLE_R_MALFORMED;
	return check4(f, pi);
}
