// SPDX-License-Identifier: MIT
/*
 * The send path: handshake messages, keepalives, and egress packets (peer
 * by destination, then encrypted, or staged while a handshake gets a
 * session for them).
 */
#include <endian.h>
#include <netinet/in.h>
#include <string.h>

#include "wg.h"

/* Whether we know where the peer is. */
static bool has_endpoint(const struct wg_peer *p)
{
	return p->endpoint.sa.sa_family == AF_INET ||
	       p->endpoint.sa.sa_family == AF_INET6;
}

bool wg_keypair_usable_for_send(struct wg_device *d,
				const struct wg_keypair *kp)
{
	return kp && !wg_keypair_expired(d, kp) &&
	       kp->send_counter < WG_REJECT_AFTER_MESSAGES;
}

/* ---------------------------------------------------------------- handshake */

/* Queue the handshake message in slot (len bytes, its macs filled) to the
 * peer, sent at `now`. */
static void handshake_queue(struct wg_device *d, struct wg_peer *p,
			    struct wg_txslot *slot, uint32_t len, double now)
{
	p->last_sent_handshake = now;
	wg_tx_commit(d, slot, &p->endpoint, len);
	p->tx_bytes += len;
	wg_timers_any_authenticated_traversal(d, p);
	wg_timers_any_authenticated_sent(d, p);
}

void wg_device_initiate(struct wg_device *d, struct wg_peer *p)
{
	struct wg_msg_initiation *m;
	struct wg_txslot *slot;
	double now = wg_device_now(d);

	if (!p->enabled || !has_endpoint(p))
		return;
	/* Never more than one initiation per REKEY_TIMEOUT. */
	if (p->last_sent_handshake > 0 &&
	    now - p->last_sent_handshake < WG_REKEY_TIMEOUT)
		return;
	slot = wg_tx_slot(d);
	m = (struct wg_msg_initiation *)slot->data;
	if (!wg_noise_create_initiation(d, p, m))
		return;
	wg_cookie_add_macs(d, p, m, sizeof(*m));
	p->handshake_attempts = 0;
	handshake_queue(d, p, slot, sizeof(*m), now);
	wg_timers_handshake_initiated(d, p);
	wg_device_event(d, WG_EV_HANDSHAKE_INITIATION_SENT);
}

void wg_send_handshake_response(struct wg_device *d, struct wg_peer *p)
{
	struct wg_msg_response *m;
	struct wg_txslot *slot = wg_tx_slot(d);

	m = (struct wg_msg_response *)slot->data;
	if (!wg_noise_create_response(d, p, m))
		return;
	wg_cookie_add_macs(d, p, m, sizeof(*m));
	if (!wg_noise_begin_session(d, p))
		return;
	handshake_queue(d, p, slot, sizeof(*m), wg_device_now(d));
	wg_timers_session_derived(d, p);
	wg_device_event(d, WG_EV_HANDSHAKE_RESPONSE_SENT);
}

/* ---------------------------------------------------------------- data */

/* Encrypt one packet (len 0: a keepalive) on kp and queue it. */
static void encrypt_one(struct wg_device *d, struct wg_peer *p,
			struct wg_keypair *kp, const uint8_t *pkt, size_t len)
{
	struct wg_txslot *slot = wg_tx_slot(d);
	struct wg_msg_data *m = (struct wg_msg_data *)slot->data;
	size_t padded = (len + 15) & ~(size_t)15;

	/* Pad to 16 but never beyond the MTU (whitepaper 5.4.6). */
	if (padded > d->cfg.mtu)
		padded = len > d->cfg.mtu ? len : d->cfg.mtu;
	m->type = htole32(WG_MSG_DATA);
	m->receiver = htole32(kp->remote_index);
	m->counter = htole64(kp->send_counter);
	if (len)
		memcpy(m->encrypted, pkt, len);
	memset(m->encrypted + len, 0, padded - len);
	wg_aead_encrypt(m->encrypted, m->encrypted, padded, NULL, 0,
			kp->send_counter, kp->send_key);
	kp->send_counter++;
	wg_tx_commit(d, slot, &p->endpoint,
		     (uint32_t)(sizeof(*m) + padded + WG_AEAD_TAG));
	p->tx_bytes += sizeof(*m) + padded + WG_AEAD_TAG;
	wg_timers_any_authenticated_sent(d, p);
	wg_timers_any_authenticated_traversal(d, p);
	if (len)
		wg_timers_data_sent(d, p);
}

/* After sending: the initiator rekeys after REKEY_AFTER_TIME / messages. */
static void maybe_rekey(struct wg_device *d, struct wg_peer *p,
			struct wg_keypair *kp)
{
	if (kp->initiator &&
	    (kp->send_counter > WG_REKEY_AFTER_MESSAGES ||
	     wg_device_now(d) - kp->birth >= WG_REKEY_AFTER_TIME))
		wg_device_initiate(d, p);
}

void wg_send_keepalive(struct wg_device *d, struct wg_peer *p)
{
	struct wg_keypair *kp = p->cur;

	if (!has_endpoint(p))
		return;
	if (!wg_keypair_usable_for_send(d, kp)) {
		wg_device_initiate(d, p);
		return;
	}
	encrypt_one(d, p, kp, NULL, 0);
	wg_device_event(d, WG_EV_KEEPALIVE_SENT);
	maybe_rekey(d, p, kp);
}

/* ---------------------------------------------------------------- staging */

void wg_staged_purge(struct wg_device *d, struct wg_peer *p)
{
	struct wg_staged *s;

	while ((s = p->staged_head)) {
		p->staged_head = s->next;
		s->next = d->stage_free;
		d->stage_free = s;
	}
	p->staged_tail = NULL;
	p->n_staged = 0;
}

void wg_send_staged(struct wg_device *d, struct wg_peer *p)
{
	struct wg_keypair *kp = p->cur;
	struct wg_staged *s;

	if (!wg_keypair_usable_for_send(d, kp) || !has_endpoint(p)) {
		wg_device_initiate(d, p);
		return;
	}
	while ((s = p->staged_head)) {
		p->staged_head = s->next;
		encrypt_one(d, p, kp, s->data, s->len);
		s->next = d->stage_free;
		d->stage_free = s;
		p->n_staged--;
	}
	p->staged_tail = NULL;
	maybe_rekey(d, p, kp);
}

/* Queue a copy of the packet for the peer's next session; when the queue
 * is full the oldest packet makes room. */
static void stage(struct wg_device *d, struct wg_peer *p, const uint8_t *pkt,
		  size_t len)
{
	struct wg_staged *s = d->stage_free;

	if (p->n_staged >= WG_MAX_STAGED && p->staged_head) {
		/* Drop the oldest: fresh packets matter more. */
		s = p->staged_head;
		p->staged_head = s->next;
		if (!p->staged_head)
			p->staged_tail = NULL;
		p->n_staged--;
		wg_device_count_drop(d, WG_DROP_STAGE_FULL);
	} else if (s) {
		d->stage_free = s->next;
	} else {
		wg_device_count_drop(d, WG_DROP_STAGE_FULL);
		return;
	}
	memcpy(s->data, pkt, len);
	s->len = (uint32_t)len;
	s->next = NULL;
	if (p->staged_tail)
		p->staged_tail->next = s;
	else
		p->staged_head = s;
	p->staged_tail = s;
	p->n_staged++;
}

/* The peer that the packet goes to, or NULL (drop counted); *len becomes
 * the length its IP header claims. */
static struct wg_peer *tx_peer(struct wg_device *d, const uint8_t *pkt,
			       size_t *len)
{
	const uint8_t *src, *dst;
	struct wg_peer *p;
	size_t iplen;
	int family;

	if (!wg_ip_parse(pkt, *len, &family, &src, &dst, &iplen)) {
		wg_device_count_drop(d, WG_DROP_BAD_IP);
		return NULL;
	}
	*len = iplen;
	if (*len > d->cfg.mtu) {
		wg_device_count_drop(d, WG_DROP_TOO_BIG);
		return NULL;
	}
	p = wg_aip_lookup(&d->aip, family, dst);
	if (!p) {
		wg_device_count_drop(d, WG_DROP_NO_PEER);
		return NULL;
	}
	if (!p->enabled) {
		wg_device_count_drop(d, WG_DROP_PEER_DISABLED);
		return NULL;
	}
	if (!has_endpoint(p)) {
		wg_device_count_drop(d, WG_DROP_NO_ENDPOINT);
		return NULL;
	}
	return p;
}

void wg_device_tx(struct wg_device *d, const uint8_t *pkt, size_t len)
{
	struct wg_peer *p = tx_peer(d, pkt, &len);

	/* over its rate limit: queued for later (rate.c) or dropped */
	if (p && wg_peer_rate_ok(d, p, false, pkt, len))
		wg_tx_to_peer(d, p, pkt, len);
}

void wg_tx_to_peer(struct wg_device *d, struct wg_peer *p, const uint8_t *pkt,
		   size_t len)
{
	if (!wg_keypair_usable_for_send(d, p->cur)) {
		/* The server may be the one to re-handshake: packets queued
		 * for an expired session wait for the new one. */
		stage(d, p, pkt, len);
		wg_device_initiate(d, p);
		return;
	}
	if (p->staged_head) {
		stage(d, p, pkt, len);
		wg_send_staged(d, p);
		return;
	}
	encrypt_one(d, p, p->cur, pkt, len);
	maybe_rekey(d, p, p->cur);
}
