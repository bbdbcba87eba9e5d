// SPDX-License-Identifier: MIT
/*
 * Peers: adding one (or changing it in place, keeping its sessions where
 * the change allows), removing one, and what a peer holds: its prefixes in
 * the allowed-IPs trie, its endpoint, its keys.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "wg.h"

void wg_endpoint_set(union wg_endpoint *e, const struct sockaddr_storage *ss)
{
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET)
		memcpy(&e->in4, ss, sizeof(e->in4));
	else if (ss->ss_family == AF_INET6)
		memcpy(&e->in6, ss, sizeof(e->in6));
}

void wg_peer_clear_keys(struct wg_device *d, struct wg_peer *p)
{
	wg_noise_keypairs_clear(d, p);
	wg_noise_handshake_clear(d, p);
	wg_staged_purge(d, p);
	wg_timers_stop(p);
	p->handshake_attempts = 0;
	p->sent_lastminute_handshake = false;
}

/* Remove the peer's own prefixes (those it still holds): no trie walk. */
static void aips_clear(struct wg_device *d, struct wg_peer *p)
{
	uint32_t i;

	for (i = 0; i < p->n_aips; i++)
		(void)wg_aip_remove_if(&d->aip, p->aips[i].family,
				       p->aips[i].addr, p->aips[i].prefix, p);
	free(p->aips);
	p->aips = NULL;
	p->n_aips = 0;
}

/* Replace the peer's prefixes with those of pc (already validated). */
static int aips_set(struct wg_device *d, struct wg_peer *p,
		    const struct evpn_peer_config *pc)
{
	uint32_t i;
	int rc;

	aips_clear(d, p);
	if (!pc->n_allowed_ips)
		return EVPN_OK;
	p->aips = malloc(pc->n_allowed_ips * sizeof(*p->aips));
	if (!p->aips)
		return EVPN_ERR_NOMEM;
	for (i = 0; i < pc->n_allowed_ips; i++) {
		const struct evpn_cidr *c = &pc->allowed_ips[i];

		rc = wg_aip_insert(&d->aip, c->family, c->addr, c->prefix, p);
		if (rc != EVPN_OK)
			return rc;
		p->aips[p->n_aips++] = *c;
	}
	return EVPN_OK;
}

/* Unlink the peer from every table and list, and free it. */
static void peer_free(struct wg_device *d, struct wg_peer *p)
{
	wg_peer_clear_keys(d, p);
	wg_timers_disarm(d, p);
	aips_clear(d, p);
	wg_peer_rate_free(d, p);
	wg_peer_hash_del(p);
	wg_list_del(&p->peer_link);
	d->n_peers--;
	wg_wipe(p, sizeof(*p));
	free(p);
}

/* A new peer with public key `key`, on the device's tables; NULL: no
 * memory. */
static struct wg_peer *peer_create(struct wg_device *d,
				   const uint8_t key[WG_KEY_LEN])
{
	struct wg_peer *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	memcpy(p->public_key, key, WG_KEY_LEN);
	do {
		p->handle = d->next_handle++;
		if (!p->handle)
			p->handle = d->next_handle++;
	} while (wg_peer_by_handle(d, p->handle));
	wg_noise_init_peer(d, p);
	wg_peer_hash_add(d, p);
	wg_list_add(&d->peers, &p->peer_link);
	d->n_peers++;
	return p;
}

/* Whether every prefix of pc is an IPv4 or IPv6 prefix of a valid length. */
static bool aips_valid(const struct evpn_peer_config *pc)
{
	uint32_t i;

	for (i = 0; i < pc->n_allowed_ips; i++) {
		const struct evpn_cidr *c = &pc->allowed_ips[i];

		if ((c->family != AF_INET || c->prefix > 32) &&
		    (c->family != AF_INET6 || c->prefix > 128))
			return false;
	}
	return true;
}

int wg_device_peer_upsert(struct wg_device *d,
			  const struct evpn_peer_config *pc)
{
	struct wg_peer *p = wg_device_peer_find(d, pc->public_key);
	bool created = false;
	int rc;

	if (!aips_valid(pc))
		return EVPN_ERR_INVAL;
	if (!p) {
		p = peer_create(d, pc->public_key);
		if (!p)
			return EVPN_ERR_NOMEM;
		created = true;
	}

	if (memcmp(p->psk, pc->preshared_key, WG_KEY_LEN)) {
		/* A new PSK invalidates the sessions derived from the old. */
		memcpy(p->psk, pc->preshared_key, WG_KEY_LEN);
		if (!created)
			wg_peer_clear_keys(d, p);
	}
	p->enabled = pc->enabled;
	if (!p->enabled) {
		wg_peer_clear_keys(d, p); /* stops at once */
		wg_peer_rate_purge(d, p);
	}
	if (p->persistent_keepalive != pc->persistent_keepalive) {
		p->persistent_keepalive = pc->persistent_keepalive;
		p->t_persistent =
			p->persistent_keepalive
				? wg_device_now(d) + p->persistent_keepalive
				: 0;
		if (p->t_persistent)
			wg_timers_arm(d, p);
	}
	if (pc->endpoint.ss_family == AF_INET ||
	    pc->endpoint.ss_family == AF_INET6)
		wg_endpoint_set(&p->endpoint, &pc->endpoint);

	rc = aips_set(d, p, pc);
	if (rc == EVPN_OK)
		rc = wg_peer_rate_set(d, p,
				      EVPN_HAS_FIELD(pc, rate_limit_bps)
					      ? pc->rate_limit_bps
					      : 0);
	if (rc != EVPN_OK && created)
		peer_free(d, p);
	return rc;
}

int wg_device_peer_remove(struct wg_device *d, const uint8_t key[WG_KEY_LEN])
{
	struct wg_peer *p = wg_device_peer_find(d, key);

	if (!p)
		return EVPN_ERR_NOTFOUND;
	peer_free(d, p);
	return EVPN_OK;
}

void wg_peer_remove_all(struct wg_device *d)
{
	/* A device whose init failed early has no list head yet. */
	if (!d->peers.next)
		return;
	while (!wg_list_empty(&d->peers))
		peer_free(d, wg_list_entry(d->peers.next, struct wg_peer,
					   peer_link));
}
