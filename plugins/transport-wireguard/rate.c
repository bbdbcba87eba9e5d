// SPDX-License-Identifier: MIT
/*
 * Per-peer rate limits (evpn_peer_config.rate_limit_bps): a token bucket
 * each way, and behind each a short queue. A packet that finds the queue
 * empty and the bucket holding its size goes at once; otherwise it waits in
 * the queue (a copy; the queue holds 50 ms of the rate, at least 32 KiB, at
 * most WG_RATEQ_LEN packets) until the bucket has refilled, and when the
 * queue is full it is dropped. The queue turns a
 * burst over the rate into delay rather than loss, which TCP answers by
 * settling at the rate; a policer alone (no queue) makes TCP lose the tail
 * of its window and wait out retransmission timeouts far below the rate.
 *
 * Queued packets are released by wg_device_rate_poll(), which the plugin
 * calls from a timer armed for wg_device_rate_next(): what the peer sent
 * goes to ops.deliver (the egress), what it is sent is encrypted then.
 * Queue buffers come from a device-wide pool of WG_RATE_POOL, allocated
 * as needed, so limited peers that are idle cost no buffer.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "wg.h"

/* A buffer for a queued packet: from the free list, or a new one while the
 * pool has room. */
static struct wg_staged *node_get(struct wg_device *d)
{
	struct wg_staged *s = d->rate_free;

	if (s) {
		d->rate_free = s->next;
		return s;
	}
	if (d->rate_nodes >= WG_RATE_POOL)
		return NULL;
	s = malloc(sizeof(*s));
	if (s)
		d->rate_nodes++;
	return s;
}

static void node_put(struct wg_device *d, struct wg_staged *s)
{
	s->next = d->rate_free;
	d->rate_free = s;
}

static void q_purge(struct wg_device *d, struct wg_rateq *q)
{
	struct wg_staged *s;

	while ((s = q->head)) {
		q->head = s->next;
		node_put(d, s);
	}
	q->tail = NULL;
	q->n = 0;
	q->bytes = 0;
}

/* The peer holds no packet any more: off the device's list. */
static void unlist_if_idle(struct wg_rate *r)
{
	if (!r->qrx.n && !r->qtx.n && wg_list_linked(&r->link))
		wg_list_del(&r->link);
}

void wg_peer_rate_free(struct wg_device *d, struct wg_peer *p)
{
	if (!p->rate)
		return;
	q_purge(d, &p->rate->qrx);
	q_purge(d, &p->rate->qtx);
	unlist_if_idle(p->rate);
	free(p->rate);
	p->rate = NULL;
}

int wg_peer_rate_set(struct wg_device *d, struct wg_peer *p, uint64_t bps)
{
	double now = wg_device_now(d);

	if (!bps) {
		wg_peer_rate_free(d, p);
		return EVPN_OK;
	}
	if (!p->rate) {
		p->rate = calloc(1, sizeof(*p->rate));
		if (!p->rate)
			return EVPN_ERR_NOMEM;
		p->rate->peer = p;
	}
	/* a change keeps what the buckets hold: no fresh burst */
	p->rate->bps = bps;
	p->rate->qmax = (size_t)((double)bps / 8 * WG_RATEQ_SECONDS);
	if (p->rate->qmax < WG_RATEQ_MIN_BYTES)
		p->rate->qmax = WG_RATEQ_MIN_BYTES;
	tbf_set(&p->rate->rx, bps, now);
	tbf_set(&p->rate->tx, bps, now);
	return EVPN_OK;
}

void wg_peer_rate_purge(struct wg_device *d, struct wg_peer *p)
{
	if (!p->rate)
		return;
	q_purge(d, &p->rate->qrx);
	q_purge(d, &p->rate->qtx);
	unlist_if_idle(p->rate);
}

bool wg_peer_rate_ok(struct wg_device *d, struct wg_peer *p, bool rx,
		     const uint8_t *pkt, size_t len)
{
	struct wg_rate *r = p->rate;
	struct wg_rateq *q;
	struct wg_staged *s;

	if (!r)
		return true;
	q = rx ? &r->qrx : &r->qtx;
	/* in order: nothing overtakes what is already waiting */
	if (!q->n && tbf_take(rx ? &r->rx : &r->tx, len, wg_device_now(d)))
		return true;
	s = q->n < WG_RATEQ_LEN && q->bytes + len <= r->qmax &&
			    len <= sizeof(s->data)
		    ? node_get(d)
		    : NULL;
	if (!s) {
		wg_device_count_drop(d, rx ? WG_DROP_RATE_LIMIT_RX
					   : WG_DROP_RATE_LIMIT_TX);
		return false;
	}
	memcpy(s->data, pkt, len);
	s->len = (uint32_t)len;
	s->next = NULL;
	if (q->tail)
		q->tail->next = s;
	else
		q->head = s;
	q->tail = s;
	q->n++;
	q->bytes += len;
	if (!wg_list_linked(&r->link))
		wg_list_add(&d->rate_peers, &r->link);
	return false;
}

/* Release what the bucket allows now from one queue. */
static void q_run(struct wg_device *d, struct wg_peer *p, bool rx, double now)
{
	struct wg_rateq *q = rx ? &p->rate->qrx : &p->rate->qtx;
	struct tbf *b = rx ? &p->rate->rx : &p->rate->tx;
	struct wg_staged *s;

	while ((s = q->head) && tbf_take(b, s->len, now)) {
		q->head = s->next;
		if (!q->head)
			q->tail = NULL;
		q->n--;
		q->bytes -= s->len;
		if (rx) {
			struct evpn_pkt pkt = {.data = s->data,
					       .len = s->len,
					       .cap = sizeof(s->data),
					       .peer = p->handle};

			if (d->ops.deliver)
				d->ops.deliver(d->ops.arg, &pkt);
		} else {
			wg_tx_to_peer(d, p, s->data, s->len);
		}
		node_put(d, s);
		/* the callbacks may have changed the peer's limit */
		if (!p->rate)
			return;
	}
}

void wg_device_rate_poll(struct wg_device *d)
{
	struct wg_list *pos, *tmp;
	double now = wg_device_now(d);

	wg_list_for_each_safe(pos, tmp, &d->rate_peers)
	{
		struct wg_rate *r = wg_list_entry(pos, struct wg_rate, link);
		struct wg_peer *p = r->peer;

		q_run(d, p, true, now);
		if (p->rate)
			q_run(d, p, false, now);
		if (p->rate)
			unlist_if_idle(p->rate);
	}
}

double wg_device_rate_next(struct wg_device *d)
{
	struct wg_list *pos;
	double next = 0;

	wg_list_for_each(pos, &d->rate_peers)
	{
		struct wg_rate *r = wg_list_entry(pos, struct wg_rate, link);
		double t;

		if (r->qrx.head) {
			t = tbf_when(&r->rx, r->qrx.head->len);
			if (!next || t < next)
				next = t;
		}
		if (r->qtx.head) {
			t = tbf_when(&r->tx, r->qtx.head->len);
			if (!next || t < next)
				next = t;
		}
	}
	return isfinite(next) ? next : 0;
}

void wg_rate_pool_free(struct wg_device *d)
{
	struct wg_staged *s;

	while ((s = d->rate_free)) {
		d->rate_free = s->next;
		free(s);
	}
	d->rate_nodes = 0;
}
