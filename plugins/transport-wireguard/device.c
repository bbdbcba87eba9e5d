// SPDX-License-Identifier: MIT
/*
 * The device itself: its lifecycle and private key, the clocks and counters
 * every path reports to, and the queue of datagrams waiting for the flush
 * callback. Peers live in peer.c and peerlookup.c, the paths in receive.c
 * and send.c.
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wg.h"

static const char *const drop_names[] = {
#define X(e, s) s,
	WG_DROP_REASONS(X)
#undef X
};

const char *wg_drop_name(enum wg_drop d)
{
	return d < WG_DROP__COUNT ? drop_names[d] : "unknown";
}

double wg_device_now(struct wg_device *d)
{
	struct timespec ts;

	if (d->ops.now)
		return d->ops.now(d->ops.arg);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void wg_device_walltime(struct wg_device *d, struct timespec *ts)
{
	if (d->ops.walltime)
		d->ops.walltime(d->ops.arg, ts);
	else
		clock_gettime(CLOCK_REALTIME, ts);
}

void wg_device_count_drop(struct wg_device *d, enum wg_drop r)
{
	d->drops[r]++;
	if (d->ops.drop)
		d->ops.drop(d->ops.arg, r);
}

void wg_device_event(struct wg_device *d, enum wg_event ev)
{
	d->events[ev]++;
	if (d->ops.event)
		d->ops.event(d->ops.arg, ev);
}

/* ---------------------------------------------------------------- init */

int wg_device_init(struct wg_device *d, const struct wg_device_ops *ops,
		   const struct wg_device_config *cfg)
{
	unsigned i;

	memset(d, 0, sizeof(*d));
	if (wg_crypto_init() != EVPN_OK)
		return EVPN_ERR_INTERNAL;
	d->ops = *ops;
	d->cfg = *cfg;
	if (!d->cfg.mtu)
		d->cfg.mtu = 1420;
	if (d->cfg.mtu > WG_BUF_SIZE - WG_DATA_OVERHEAD - 16)
		d->cfg.mtu = WG_BUF_SIZE - WG_DATA_OVERHEAD - 16;
	d->next_handle = 1;
	wg_list_init(&d->peers);
	wg_list_init(&d->timer_peers);
	wg_list_init(&d->rate_peers);
	wg_aip_init(&d->aip);

	d->txq = calloc(WG_TXQ_LEN, sizeof(*d->txq));
	/* All packet buffers are allocated once, here. */
	d->stage_pool = calloc(WG_STAGE_POOL, sizeof(*d->stage_pool));
	if (wg_peerlookup_init(d) != EVPN_OK ||
	    wg_ratelimiter_init(d) != EVPN_OK || !d->txq || !d->stage_pool) {
		wg_device_destroy(d);
		return EVPN_ERR_NOMEM;
	}
	for (i = 0; i < WG_STAGE_POOL; i++) {
		d->stage_pool[i].next = d->stage_free;
		d->stage_free = &d->stage_pool[i];
	}
	return EVPN_OK;
}

void wg_device_destroy(struct wg_device *d)
{
	wg_peer_remove_all(d);
	wg_rate_pool_free(d);
	wg_aip_free(&d->aip);
	wg_peerlookup_free(d);
	wg_ratelimiter_free(d);
	free(d->txq);
	free(d->stage_pool);
	free(d->ss_pending);
	wg_wipe(d, sizeof(*d));
}

int wg_device_set_private_key(struct wg_device *d,
			      const uint8_t key[WG_KEY_LEN])
{
	uint8_t clamped[WG_KEY_LEN];
	struct wg_list *pos;

	/* The same key again (a reload) keeps every session. */
	memcpy(clamped, key, WG_KEY_LEN);
	clamped[0] &= 248;
	clamped[31] = (clamped[31] & 127) | 64;
	if (d->has_key && wg_equal(clamped, d->priv, WG_KEY_LEN)) {
		wg_wipe(clamped, sizeof(clamped));
		return EVPN_OK;
	}
	wg_wipe(clamped, sizeof(clamped));
	memcpy(d->priv, key, WG_KEY_LEN);
	/* Clamp as X25519 does, so the UAPI shows the effective key. */
	d->priv[0] &= 248;
	d->priv[31] = (d->priv[31] & 127) | 64;
	wg_pubkey(d->pub, d->priv);
	d->has_key = true;
	wg_noise_init_device(d);
	/* Every precomputed static-static DH and session is now stale. */
	d->ss_n = 0;
	wg_list_for_each(pos, &d->peers)
	{
		struct wg_peer *p =
			wg_list_entry(pos, struct wg_peer, peer_link);

		wg_peer_clear_keys(d, p);
		wg_noise_init_peer(d, p);
	}
	return EVPN_OK;
}

/* ---------------------------------------------------------------- tx queue */

struct wg_txslot *wg_tx_slot(struct wg_device *d)
{
	if (d->txq_len == WG_TXQ_LEN)
		wg_device_flush(d);
	return &d->txq[d->txq_len];
}

void wg_tx_commit(struct wg_device *d, struct wg_txslot *s, const void *to,
		  uint32_t len)
{
	const struct sockaddr *sa = to;

	memcpy(&s->to, to,
	       sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in));
	s->to.ss_family = sa->sa_family;
	s->len = len;
	d->txq_len++;
}

void wg_device_flush(struct wg_device *d)
{
	unsigned n = d->txq_len;

	if (!n)
		return;
	/* Reset first: flush may re-enter (a sink answering at once). */
	d->txq_len = 0;
	d->ops.flush(d->ops.arg, d->txq, n);
}

/* ---------------------------------------------------------------- packets */

bool wg_ip_parse(const uint8_t *pkt, size_t len, int *family,
		 const uint8_t **src, const uint8_t **dst, size_t *iplen)
{
	if (len < 1)
		return false;
	switch (pkt[0] >> 4) {
	case 4:
		if (len < 20)
			return false;
		*family = AF_INET;
		*src = pkt + 12;
		*dst = pkt + 16;
		*iplen = (size_t)pkt[2] << 8 | pkt[3];
		if (*iplen < 20)
			return false;
		break;
	case 6:
		if (len < 40)
			return false;
		*family = AF_INET6;
		*src = pkt + 8;
		*dst = pkt + 24;
		*iplen = ((size_t)pkt[4] << 8 | pkt[5]) + 40;
		break;
	default: return false;
	}
	return *iplen <= len;
}
