/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <evpn/plugin.h>

#include "config_impl.h"
#include "pool.h"

int evpn_pool_init(struct evpn_pool *p, const char *cidr)
{
	unsigned char a[16];
	unsigned prefix;
	int fam;
	uint32_t net, mask, size;

	memset(p, 0, sizeof(*p));
	if (!evpn_parse_cidr(cidr, &fam, a, &prefix) || fam != AF_INET)
		return EVPN_ERR_INVAL;
	/* Room for the server and at least two clients; /8 at most keeps the
	 * bitmap at 2 MiB. */
	if (prefix < 8 || prefix > 29)
		return EVPN_ERR_INVAL;
	memcpy(&net, a, 4);
	net = ntohl(net);
	mask = prefix ? ~0u << (32 - prefix) : 0;
	net &= mask;
	p->network = net;
	p->prefix = prefix;
	p->server = net + 1;
	p->first = net + 2;
	p->last = (net | ~mask) - 1; /* not the broadcast address */
	size = p->last - p->first + 1;
	p->used = calloc((size + 7) / 8, 1);
	return p->used ? EVPN_OK : EVPN_ERR_NOMEM;
}

void evpn_pool_free(struct evpn_pool *p)
{
	free(p->used);
	p->used = NULL;
}

uint32_t evpn_pool_size(const struct evpn_pool *p)
{
	return p->last - p->first + 1;
}

void evpn_pool_format(uint32_t a, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255,
		 (a >> 8) & 255, a & 255);
}

bool evpn_pool_parse(const char *addr, uint32_t *a)
{
	struct in_addr in;
	char buf[32];
	const char *slash = strchr(addr, '/');
	size_t n = slash ? (size_t)(slash - addr) : strlen(addr);

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, addr, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &in) != 1)
		return false;
	*a = ntohl(in.s_addr);
	return true;
}

bool evpn_pool_mark(struct evpn_pool *p, const char *addr, bool used)
{
	uint32_t a, off;

	if (!evpn_pool_parse(addr, &a))
		return false;
	if (a < p->first || a > p->last)
		return false;
	off = a - p->first;
	if (used)
		p->used[off / 8] |= (uint8_t)(1u << (off % 8));
	else
		p->used[off / 8] &= (uint8_t) ~(1u << (off % 8));
	return true;
}

bool evpn_pool_take(struct evpn_pool *p, char out[16])
{
	uint32_t size = evpn_pool_size(p);

	for (uint32_t i = 0; i < size; i++) {
		uint32_t off = (p->hint + i) % size;

		if (p->used[off / 8] == 0xff) {
			/* skip a full byte at once */
			i += 7 - off % 8;
			continue;
		}
		if (!(p->used[off / 8] & (1u << (off % 8)))) {
			p->used[off / 8] |= (uint8_t)(1u << (off % 8));
			p->hint = (off + 1) % size;
			evpn_pool_format(p->first + off, out);
			return true;
		}
	}
	return false;
}
