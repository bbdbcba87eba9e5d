/* SPDX-License-Identifier: MIT */
/* The client address pool: an IPv4 CIDR; the server takes the first host. */
#ifndef EVPN_CORE_POOL_H
#define EVPN_CORE_POOL_H

#include <stdbool.h>
#include <stdint.h>

#include <evpn/plugin.h>

struct evpn_pool {
	uint32_t network; /* host byte order */
	unsigned prefix;
	uint32_t first, last; /* client range, host order, inclusive */
	uint32_t server;
	uint8_t *used; /* bitmap over [first, last] */
	uint32_t hint;
};

int evpn_pool_init(struct evpn_pool *p, const char *cidr);
void evpn_pool_free(struct evpn_pool *p);
uint32_t evpn_pool_size(const struct evpn_pool *p);
/* Mark an address (text) used/free; false when outside the client range. */
bool evpn_pool_mark(struct evpn_pool *p, const char *addr, bool used);
/* Next free address after the hint (marks it used); false when full. */
bool evpn_pool_take(struct evpn_pool *p, char out[16]);
void evpn_pool_format(uint32_t a, char out[16]);
/* "10.77.0.5" or "10.77.0.5/32" -> host order; false if not IPv4. */
bool evpn_pool_parse(const char *addr, uint32_t *a);

/* pool6.c: the optional IPv6 pool, paired with the IPv4 one. */
struct evpn_pool6 {
	bool enabled;
	uint8_t network[16];
	unsigned prefix;
	uint32_t network4; /* the IPv4 pool's network, host order */
};

/* cidr6 NULL or "": disabled (EVPN_OK). EVPN_ERR_INVAL: not an IPv6 CIDR,
 * or too small to hold every IPv4 pool offset. */
int evpn_pool6_init(struct evpn_pool6 *p, const char *cidr6,
		    const char *cidr4) EVPN_WUR;
bool evpn_pool6_pair(const struct evpn_pool6 *p, const char *addr4,
		     char out[46]);
/* The same for an IPv4 address in host order. */
bool evpn_pool6_pair_addr(const struct evpn_pool6 *p, uint32_t addr4,
			  char out[46]);

#endif
