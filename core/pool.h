/* SPDX-License-Identifier: MIT */
/* The client address pool: an IPv4 CIDR; the server takes the first host. */
#ifndef EVPN_CORE_POOL_H
#define EVPN_CORE_POOL_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
