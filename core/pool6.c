/* SPDX-License-Identifier: MIT */
/*
 * The optional IPv6 pool (network.pool6). A client's IPv6 address is not
 * claimed on its own: it is paired with the IPv4 address, pool6's network
 * plus the IPv4 address's offset in the IPv4 pool. The IPv4 claim (a
 * create-only put) already makes it unique, nothing more is stored, and every
 * instance derives the same address. The server takes offset 1 in both.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <evpn/plugin.h>

#include "config_impl.h"
#include "pool.h"

int evpn_pool6_init(struct evpn_pool6 *p, const char *cidr6, const char *cidr4)
{
	unsigned char a[16], a4[16];
	unsigned prefix, prefix4;
	int fam, fam4;

	memset(p, 0, sizeof(*p));
	if (!cidr6 || !*cidr6)
		return EVPN_OK; /* IPv4 only */
	if (!evpn_parse_cidr(cidr6, &fam, a, &prefix) || fam != AF_INET6 ||
	    !evpn_parse_cidr(cidr4, &fam4, a4, &prefix4) || fam4 != AF_INET)
		return EVPN_ERR_INVAL;
	/* every IPv4 offset (32 - prefix4 bits) must fit below the prefix */
	if (prefix > 128 - (32 - prefix4) || prefix < 8)
		return EVPN_ERR_INVAL;
	for (unsigned i = 0; i < 16; i++) {
		unsigned keep = prefix > i * 8 ? prefix - i * 8 : 0;

		if (keep < 8)
			a[i] &= (uint8_t)(0xff00u >> keep);
	}
	memcpy(p->network, a, 16);
	p->prefix = prefix;
	memcpy(&p->network4, a4, 4);
	p->network4 = ntohl(p->network4) & (~0u << (32 - prefix4));
	p->enabled = true;
	return EVPN_OK;
}

/* addr4 (host order) -> "fd77::5" (no prefix); false when pool6 is off
 * or the address is not in the IPv4 pool. */
bool evpn_pool6_pair_addr(const struct evpn_pool6 *p, uint32_t addr4,
			  char out[INET6_ADDRSTRLEN])
{
	uint8_t a[16];
	uint32_t off;

	out[0] = '\0';
	if (!p->enabled || addr4 < p->network4)
		return false;
	off = addr4 - p->network4;
	memcpy(a, p->network, 16);
	/* add the offset into the low 32 bits (zero in the network: the
	 * prefix leaves room for every offset) */
	for (int i = 15, k = 0; i >= 12; i--, k += 8)
		a[i] |= (uint8_t)(off >> k);
	return inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN) != NULL;
}

/* "10.77.0.5" or "10.77.0.5/32" -> "fd77::5" */
bool evpn_pool6_pair(const struct evpn_pool6 *p, const char *addr4,
		     char out[INET6_ADDRSTRLEN])
{
	uint32_t a;

	out[0] = '\0';
	return evpn_pool_parse(addr4, &a) && evpn_pool6_pair_addr(p, a, out);
}
