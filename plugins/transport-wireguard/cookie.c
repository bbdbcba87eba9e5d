// SPDX-License-Identifier: MIT
/*
 * mac1/mac2 and cookie replies, which guard the expensive part of the
 * handshake under load (whitepaper section 5.3 and 5.4.7).
 */
#include <endian.h>
#include <netinet/in.h>
#include <string.h>

#include "wg.h"

/* Draw a new cookie secret when the current one is two minutes old. */
static void rotate_secret(struct wg_device *d, double now)
{
	if (d->cookie_secret_birth == 0 ||
	    now - d->cookie_secret_birth >= WG_COOKIE_SECRET_MAX_AGE) {
		wg_random(d->cookie_secret, sizeof(d->cookie_secret));
		d->cookie_secret_birth = now;
	}
}

/* cookie = MAC(Rm, source address || source port) */
static void make_cookie(struct wg_device *d, uint8_t out[WG_MAC_LEN],
			const struct sockaddr_storage *from)
{
	uint8_t buf[18];
	size_t n = 0;

	rotate_secret(d, wg_device_now(d));
	if (from->ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)from;

		memcpy(buf, &s->sin_addr, 4);
		memcpy(buf + 4, &s->sin_port, 2);
		n = 6;
	} else if (from->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)from;

		memcpy(buf, &s->sin6_addr, 16);
		memcpy(buf + 16, &s->sin6_port, 2);
		n = 18;
	}
	wg_mac(out, d->cookie_secret, WG_HASH_LEN, buf, n);
}

enum wg_mac_state wg_cookie_validate(struct wg_device *d, const void *msg,
				     size_t len,
				     const struct sockaddr_storage *from,
				     bool check_cookie)
{
	const struct wg_msg_macs *macs =
		(const void *)((const uint8_t *)msg + len - sizeof(*macs));
	uint8_t mac[WG_MAC_LEN], cookie[WG_MAC_LEN];
	enum wg_mac_state st = WG_MAC_INVALID;

	wg_mac(mac, d->mac1_key, WG_HASH_LEN, msg, len - sizeof(*macs));
	if (!wg_equal(mac, macs->mac1, WG_MAC_LEN))
		goto out;
	st = WG_MAC_VALID_NO_COOKIE;
	if (!check_cookie)
		goto out;
	make_cookie(d, cookie, from);
	wg_mac(mac, cookie, WG_MAC_LEN, msg, len - WG_MAC_LEN);
	if (wg_equal(mac, macs->mac2, WG_MAC_LEN))
		st = WG_MAC_VALID_WITH_COOKIE;
out:
	wg_wipe(cookie, sizeof(cookie));
	return st;
}

void wg_cookie_add_macs(struct wg_device *d, struct wg_peer *p, void *msg,
			size_t len)
{
	struct wg_msg_macs *macs =
		(void *)((uint8_t *)msg + len - sizeof(*macs));
	uint8_t mac1_key[WG_HASH_LEN];

	wg_hash2(mac1_key, WG_LABEL_MAC1, 8, p->public_key, WG_KEY_LEN);
	wg_mac(macs->mac1, mac1_key, WG_HASH_LEN, msg, len - sizeof(*macs));
	memcpy(p->last_mac1_sent, macs->mac1, WG_MAC_LEN);
	p->have_mac1_sent = true;

	if (p->have_cookie &&
	    wg_device_now(d) - p->cookie_birth <
		    WG_COOKIE_SECRET_MAX_AGE - WG_COOKIE_SECRET_LATENCY)
		wg_mac(macs->mac2, p->cookie, WG_MAC_LEN, msg,
		       len - WG_MAC_LEN);
	else
		memset(macs->mac2, 0, WG_MAC_LEN);
}

void wg_cookie_send_reply(struct wg_device *d, const void *msg, size_t len,
			  uint32_t receiver,
			  const struct sockaddr_storage *from)
{
	const struct wg_msg_macs *macs =
		(const void *)((const uint8_t *)msg + len - sizeof(*macs));
	struct wg_txslot *slot = wg_tx_slot(d);
	struct wg_msg_cookie *c;
	uint8_t cookie[WG_MAC_LEN];

	if (!slot)
		return;
	c = (struct wg_msg_cookie *)slot->data;
	c->type = htole32(WG_MSG_COOKIE);
	c->receiver = receiver; /* already little-endian */
	wg_random(c->nonce, sizeof(c->nonce));
	make_cookie(d, cookie, from);
	wg_xaead_encrypt(c->enc_cookie, cookie, WG_MAC_LEN, macs->mac1,
			 WG_MAC_LEN, c->nonce, d->cookie_key);
	wg_wipe(cookie, sizeof(cookie));
	wg_tx_commit(d, slot, from, sizeof(*c));
	wg_device_event(d, WG_EV_COOKIE_SENT);
}

bool wg_cookie_consume_reply(struct wg_device *d, const struct wg_msg_cookie *m,
			     enum wg_drop *why)
{
	struct wg_index_entry *e = wg_index_find(d, le32toh(m->receiver));
	uint8_t cookie[WG_MAC_LEN], cookie_key[WG_HASH_LEN];
	struct wg_peer *p;

	if (!e) {
		*why = WG_DROP_UNKNOWN_INDEX;
		return false;
	}
	p = e->peer;
	if (!p->have_mac1_sent) {
		*why = WG_DROP_COOKIE_INVALID;
		return false;
	}
	wg_hash2(cookie_key, WG_LABEL_COOKIE, 8, p->public_key, WG_KEY_LEN);
	if (!wg_xaead_decrypt(cookie, m->enc_cookie, sizeof(m->enc_cookie),
			      p->last_mac1_sent, WG_MAC_LEN, m->nonce,
			      cookie_key)) {
		*why = WG_DROP_COOKIE_INVALID;
		return false;
	}
	memcpy(p->cookie, cookie, WG_MAC_LEN);
	p->cookie_birth = wg_device_now(d);
	p->have_cookie = true;
	/* One cookie per message we sent. */
	p->have_mac1_sent = false;
	wg_wipe(cookie, sizeof(cookie));
	return true;
}
