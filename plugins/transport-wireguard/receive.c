// SPDX-License-Identifier: MIT
/*
 * The receive path: a datagram is a handshake initiation or response (let
 * through only past mac1, the load check and the per-source limit, before
 * any Curve25519 work), a cookie reply, or data (decrypted in place, its
 * source checked against the peer's allowed IPs).
 */
#include <endian.h>
#include <netinet/in.h>
#include <string.h>

#include "wg.h"

/* Whether handshake messages arrive faster than the configured threshold
 * (then mac2, a cookie, is required); counts this one. */
static bool under_load(struct wg_device *d)
{
	double now = wg_device_now(d);

	if (d->cfg.force_under_load)
		return true;
	if (now - d->load_window_start >= 1.0) {
		d->load_window_start = now;
		d->load_count = 0;
	}
	/* Once over the threshold, stay in cookie mode for a second after
	 * the load was last seen, like the Linux module. */
	if (++d->load_count > d->cfg.handshake_load_threshold)
		d->last_under_load = now;
	return d->last_under_load > 0 && now - d->last_under_load < 1.0;
}

/* Handshake messages: mac1 first (cheap), then load, cookie and rate
 * checks, and only then the Curve25519 work. Whether to go on. */
static bool handshake_gate(struct wg_device *d, const uint8_t *buf, size_t len,
			   uint32_t sender, const struct sockaddr_storage *from)
{
	bool load = under_load(d);
	enum wg_mac_state st;

	st = wg_cookie_validate(d, buf, len, from, load);
	if (st == WG_MAC_INVALID) {
		wg_device_count_drop(d, WG_DROP_BAD_MAC1);
		return false;
	}
	if (load && st != WG_MAC_VALID_WITH_COOKIE) {
		wg_cookie_send_reply(d, buf, len, sender, from);
		wg_device_count_drop(d, WG_DROP_COOKIE_SENT);
		return false;
	}
	if (!wg_ratelimit_allow(d, from)) {
		wg_device_count_drop(d, WG_DROP_RATELIMIT);
		return false;
	}
	return true;
}

/* The peer that a handshake message of `type` (initiation or response)
 * authenticates, or NULL with the drop counted. */
static struct wg_peer *handshake_consume(struct wg_device *d, uint32_t type,
					 const uint8_t *buf, size_t len,
					 const struct sockaddr_storage *from)
{
	const struct wg_msg_initiation *init = (const void *)buf;
	const struct wg_msg_response *resp = (const void *)buf;
	bool is_init = type == WG_MSG_INITIATION;
	enum wg_drop why;
	struct wg_peer *p;

	if (len != (is_init ? sizeof(*init) : sizeof(*resp))) {
		wg_device_count_drop(d, WG_DROP_BAD_SIZE);
		return NULL;
	}
	if (!handshake_gate(d, buf, len, is_init ? init->sender : resp->sender,
			    from))
		return NULL;
	p = is_init ? wg_noise_consume_initiation(d, init, &why)
		    : wg_noise_consume_response(d, resp, &why);
	if (!p)
		wg_device_count_drop(d, why);
	else if (!wg_device_peer_ok(d, p, from))
		return NULL;
	return p;
}

/* An authentic handshake message of len bytes came from the peer at
 * `from`: it may have roamed. */
static void handshake_received(struct wg_device *d, struct wg_peer *p,
			       size_t len, const struct sockaddr_storage *from)
{
	wg_endpoint_set(&p->endpoint, from);
	p->rx_bytes += len;
	wg_timers_any_authenticated_received(d, p);
	wg_timers_any_authenticated_traversal(d, p);
}

/* A handshake initiation (answered with a response) or response (the
 * session derived and confirmed at once). */
static void rx_handshake(struct wg_device *d, uint32_t type, uint8_t *buf,
			 size_t len, const struct sockaddr_storage *from)
{
	struct wg_peer *p = handshake_consume(d, type, buf, len, from);

	if (!p)
		return;
	if (type == WG_MSG_INITIATION) {
		handshake_received(d, p, len, from);
		wg_send_handshake_response(d, p);
		return;
	}
	if (!wg_noise_begin_session(d, p)) {
		wg_device_count_drop(d, WG_DROP_HANDSHAKE_INVALID);
		return;
	}
	handshake_received(d, p, len, from);
	wg_timers_session_derived(d, p);
	wg_timers_handshake_complete(d, p);
	wg_device_event(d, WG_EV_HANDSHAKE_COMPLETED);
	/* Confirm the session to the responder: data, or a keepalive. */
	if (p->staged_head)
		wg_send_staged(d, p);
	else
		wg_send_keepalive(d, p);
}

/* A cookie reply to one of our handshake messages. */
static void rx_cookie(struct wg_device *d, uint8_t *buf, size_t len)
{
	enum wg_drop why;

	if (len != sizeof(struct wg_msg_cookie)) {
		wg_device_count_drop(d, WG_DROP_BAD_SIZE);
		return;
	}
	if (!wg_cookie_consume_reply(d, (const void *)buf, &why))
		wg_device_count_drop(d, why);
}

/* Decrypt a data message in place: its session, or NULL (drop counted). */
static struct wg_keypair *data_decrypt(struct wg_device *d,
				       struct wg_msg_data *m, size_t len)
{
	struct wg_index_entry *e;
	struct wg_keypair *kp;
	uint64_t counter;

	e = wg_index_find(d, le32toh(m->receiver));
	if (!e || e->kind != WG_INDEX_KEYPAIR) {
		wg_device_count_drop(d, WG_DROP_UNKNOWN_INDEX);
		return NULL;
	}
	kp = (struct wg_keypair *)e;
	counter = le64toh(m->counter);
	if (wg_keypair_expired(d, kp) || counter >= WG_REJECT_AFTER_MESSAGES) {
		wg_device_count_drop(d, WG_DROP_KEY_EXPIRED);
		return NULL;
	}
	if (!wg_aead_decrypt(m->encrypted, m->encrypted, len - sizeof(*m), NULL,
			     0, counter, kp->recv_key)) {
		wg_device_count_drop(d, WG_DROP_DECRYPT);
		return NULL;
	}
	if (!wg_replay_check(&kp->replay, counter)) {
		wg_device_count_drop(d, WG_DROP_REPLAY);
		return NULL;
	}
	return kp;
}

/* An authentic data message arrived on kp: confirm a responder's session,
 * run the timers, and as initiator ask for new keys a little before the
 * current ones die. */
static void data_authenticated(struct wg_device *d, struct wg_peer *p,
			       struct wg_keypair *kp)
{
	if (kp == p->next) {
		/* Responder: the initiator proved it has the session. */
		wg_noise_confirm(d, p, kp);
		wg_timers_handshake_complete(d, p);
		wg_device_event(d, WG_EV_HANDSHAKE_COMPLETED);
	}
	wg_timers_any_authenticated_received(d, p);
	wg_timers_any_authenticated_traversal(d, p);

	if (p->cur == kp && kp->initiator && !p->sent_lastminute_handshake &&
	    wg_device_now(d) - kp->birth >= WG_REJECT_AFTER_TIME -
						    WG_KEEPALIVE_TIMEOUT -
						    WG_REKEY_TIMEOUT) {
		p->sent_lastminute_handshake = true;
		wg_device_initiate(d, p);
	}
}

/* A data message: 1 with *out set when it carries an IP packet. */
static int rx_data(struct wg_device *d, uint8_t *buf, size_t len, size_t cap,
		   const struct sockaddr_storage *from, struct evpn_pkt *out)
{
	struct wg_msg_data *m = (struct wg_msg_data *)buf;
	const uint8_t *src, *dst;
	struct wg_keypair *kp;
	struct wg_peer *p;
	size_t plen, iplen;
	int family;

	if (len < WG_DATA_MIN_LEN) {
		wg_device_count_drop(d, WG_DROP_SHORT);
		return 0;
	}
	kp = data_decrypt(d, m, len);
	if (!kp)
		return 0;
	p = kp->entry.peer;
	plen = len - sizeof(*m) - WG_AEAD_TAG;
	if (!wg_device_peer_ok(d, p, from))
		return 0;

	/* Authentic: the peer may have roamed. */
	wg_endpoint_set(&p->endpoint, from);
	p->rx_bytes += len;
	data_authenticated(d, p, kp);

	if (plen == 0)
		return 0; /* keepalive */
	wg_timers_data_received(d, p);

	if (!wg_ip_parse(m->encrypted, plen, &family, &src, &dst, &iplen)) {
		wg_device_count_drop(d, WG_DROP_BAD_IP);
		return 0;
	}
	if (wg_aip_lookup(&d->aip, family, src) != p) {
		wg_device_count_drop(d, WG_DROP_ALLOWED_IPS);
		return 0;
	}
	/* over its rate limit: queued for later (rate.c) or dropped */
	if (!wg_peer_rate_ok(d, p, true, m->encrypted, iplen))
		return 0;
	out->data = m->encrypted;
	out->len = (uint32_t)iplen;
	out->cap = (uint32_t)((cap > len ? cap : len) - sizeof(*m));
	out->peer = p->handle;
	out->flags = 0;
	return 1;
}

int wg_device_rx(struct wg_device *d, uint8_t *buf, size_t len, size_t cap,
		 const struct sockaddr_storage *from, struct evpn_pkt *out)
{
	uint32_t type;

	if (len < 4) {
		wg_device_count_drop(d, WG_DROP_SHORT);
		return 0;
	}
	memcpy(&type, buf, 4);
	type = le32toh(type);
	switch (type) {
	case WG_MSG_DATA: return rx_data(d, buf, len, cap, from, out);
	case WG_MSG_INITIATION:
	case WG_MSG_RESPONSE: rx_handshake(d, type, buf, len, from); return 0;
	case WG_MSG_COOKIE: rx_cookie(d, buf, len); return 0;
	default: wg_device_count_drop(d, WG_DROP_BAD_TYPE); return 0;
	}
}
