// SPDX-License-Identifier: MIT
/*
 * The per-source limit on handshake messages: a token bucket per source
 * address (an IPv6 /64), in a fixed table keyed by a secret hash, so a
 * flood of spoofed sources evicts old entries instead of growing memory.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "wg.h"

int wg_ratelimiter_init(struct wg_device *d)
{
	wg_random(d->rl_key, sizeof(d->rl_key));
	d->rl = calloc(WG_RL_SLOTS, sizeof(*d->rl));
	return d->rl ? EVPN_OK : EVPN_ERR_NOMEM;
}

void wg_ratelimiter_free(struct wg_device *d)
{
	free(d->rl);
	d->rl = NULL;
}

bool wg_ratelimit_allow(struct wg_device *d,
			const struct sockaddr_storage *from)
{
	uint8_t addr[16] = {0}, family = (uint8_t)from->ss_family;
	double now = wg_device_now(d), rate = d->cfg.ratelimit_per_source;
	double burst = d->cfg.ratelimit_burst;
	struct wg_rl_entry *e, *victim = NULL;
	uint64_t h;
	unsigned i;

	if (!d->cfg.ratelimit_per_source)
		return true;
	if (family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)from)->sin_addr, 4);
	} else if (family == AF_INET6) {
		/* A /64 is what one IPv6 host usually controls. */
		memcpy(addr, &((const struct sockaddr_in6 *)from)->sin6_addr,
		       8);
	} else {
		return false;
	}
	crypto_shorthash((uint8_t *)&h, addr, sizeof(addr), d->rl_key);

	for (i = 0; i < 8; i++) {
		e = &d->rl[(h + i) & (WG_RL_SLOTS - 1)];
		if (e->family == family && !memcmp(e->addr, addr, 16))
			goto found;
		if (!victim || e->family == 0 || e->last < victim->last)
			victim = e;
	}
	e = victim;
	memcpy(e->addr, addr, 16);
	e->family = family;
	e->tokens = burst;
	e->last = now;
found:
	e->tokens += (now - e->last) * rate;
	if (e->tokens > burst)
		e->tokens = burst;
	e->last = now;
	if (e->tokens < 1.0)
		return false;
	e->tokens -= 1.0;
	return true;
}
