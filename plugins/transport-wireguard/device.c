// SPDX-License-Identifier: MIT
/*
 * Device state: peers, the receiver index table, the receive path
 * (handshake / cookie / data) and the send path (egress packet -> peer by
 * destination -> encrypt, or stage and handshake first).
 */
#include <endian.h>
#include <netinet/in.h>
#include <stdio.h>
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

static void event(struct wg_device *d, enum wg_event ev)
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
	wg_aip_init(&d->aip);
	wg_random(d->rl_key, sizeof(d->rl_key));

	d->peer_buckets = calloc(WG_PEER_BUCKETS, sizeof(*d->peer_buckets));
	d->handle_buckets = calloc(WG_PEER_BUCKETS, sizeof(*d->handle_buckets));
	d->index = calloc(WG_INDEX_BUCKETS, sizeof(*d->index));
	d->rl = calloc(WG_RL_SLOTS, sizeof(*d->rl));
	d->txq = calloc(WG_TXQ_LEN, sizeof(*d->txq));
	/* All packet buffers are allocated once, here. */
	d->stage_pool = calloc(WG_STAGE_POOL, sizeof(*d->stage_pool));
	if (!d->peer_buckets || !d->handle_buckets || !d->index || !d->rl ||
	    !d->txq || !d->stage_pool) {
		wg_device_destroy(d);
		return EVPN_ERR_NOMEM;
	}
	for (i = 0; i < WG_STAGE_POOL; i++) {
		d->stage_pool[i].next = d->stage_free;
		d->stage_free = &d->stage_pool[i];
	}
	return EVPN_OK;
}

static void peer_free(struct wg_device *d, struct wg_peer *p);

void wg_device_destroy(struct wg_device *d)
{
	while (d->peers)
		peer_free(d, d->peers);
	wg_aip_free(&d->aip);
	free(d->peer_buckets);
	free(d->handle_buckets);
	free(d->index);
	free(d->rl);
	free(d->txq);
	free(d->stage_pool);
	free(d->ss_pending);
	wg_wipe(d, sizeof(*d));
}

int wg_device_set_private_key(struct wg_device *d,
			      const uint8_t key[WG_KEY_LEN])
{
	uint8_t clamped[WG_KEY_LEN];
	struct wg_peer *p;

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
	for (p = d->peers; p; p = p->lnext) {
		wg_peer_clear_keys(d, p);
		wg_noise_init_peer(d, p);
	}
	return EVPN_OK;
}

/* ---------------------------------------------------------------- index */

static uint32_t index_bucket(uint32_t idx)
{
	/* Indices are random, their low bits are a fine hash. */
	return idx & (WG_INDEX_BUCKETS - 1);
}

void wg_index_insert(struct wg_device *d, struct wg_index_entry *e,
		     struct wg_peer *p, uint8_t kind)
{
	uint32_t b = index_bucket(e->index);

	e->peer = p;
	e->kind = kind;
	e->next = d->index[b];
	d->index[b] = e;
	e->hashed = true;
}

void wg_index_remove(struct wg_device *d, struct wg_index_entry *e)
{
	struct wg_index_entry **pp;

	if (!e->hashed)
		return;
	for (pp = &d->index[index_bucket(e->index)]; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			break;
		}
	}
	e->hashed = false;
	e->next = NULL;
}

struct wg_index_entry *wg_index_find(struct wg_device *d, uint32_t index)
{
	struct wg_index_entry *e;

	for (e = d->index[index_bucket(index)]; e; e = e->next)
		if (e->index == index)
			return e;
	return NULL;
}

/* ---------------------------------------------------------------- peers */

static uint32_t key_bucket(const uint8_t key[WG_KEY_LEN])
{
	uint32_t h;

	/* Public keys are uniformly random: a slice of one is a hash. */
	memcpy(&h, key + 8, sizeof(h));
	return h & (WG_PEER_BUCKETS - 1);
}

struct wg_peer *wg_device_peer_find(struct wg_device *d,
				    const uint8_t key[WG_KEY_LEN])
{
	struct wg_peer *p;

	for (p = d->peer_buckets[key_bucket(key)]; p; p = p->hnext)
		if (!memcmp(p->public_key, key, WG_KEY_LEN))
			return p;
	return NULL;
}

static struct wg_peer *peer_by_handle(struct wg_device *d, uint32_t h)
{
	struct wg_peer *p;

	for (p = d->handle_buckets[h & (WG_PEER_BUCKETS - 1)]; p; p = p->hhnext)
		if (p->handle == h)
			return p;
	return NULL;
}

void wg_keypair_free(struct wg_device *d, struct wg_keypair *kp)
{
	if (!kp)
		return;
	wg_index_remove(d, &kp->entry);
	wg_wipe(kp, sizeof(*kp));
	free(kp);
}

static void stage_clear(struct wg_device *d, struct wg_peer *p)
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

void wg_peer_clear_keys(struct wg_device *d, struct wg_peer *p)
{
	wg_keypair_free(d, p->cur);
	wg_keypair_free(d, p->prev);
	wg_keypair_free(d, p->next);
	p->cur = p->prev = p->next = NULL;
	wg_noise_handshake_clear(d, p);
	stage_clear(d, p);
	wg_timers_stop(p);
	p->handshake_attempts = 0;
	p->sent_lastminute_handshake = false;
}

static void unlink_from(struct wg_peer **head, struct wg_peer *p,
			size_t link_offset)
{
	struct wg_peer **pp;

	for (pp = head; *pp;
	     pp = (struct wg_peer **)((uint8_t *)*pp + link_offset)) {
		if (*pp == p) {
			*pp = *(struct wg_peer **)((uint8_t *)p + link_offset);
			return;
		}
	}
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

static void peer_free(struct wg_device *d, struct wg_peer *p)
{
	wg_peer_clear_keys(d, p);
	wg_timers_disarm(d, p);
	aips_clear(d, p);
	unlink_from(&d->peer_buckets[key_bucket(p->public_key)], p,
		    offsetof(struct wg_peer, hnext));
	unlink_from(&d->handle_buckets[p->handle & (WG_PEER_BUCKETS - 1)], p,
		    offsetof(struct wg_peer, hhnext));
	if (p->lprev)
		p->lprev->lnext = p->lnext;
	else
		d->peers = p->lnext;
	if (p->lnext)
		p->lnext->lprev = p->lprev;
	d->n_peers--;
	wg_wipe(p, sizeof(*p));
	free(p);
}

int wg_device_peer_upsert(struct wg_device *d,
			  const struct evpn_peer_config *pc)
{
	struct wg_peer *p = wg_device_peer_find(d, pc->public_key);
	bool created = false;
	uint32_t i;
	int rc;

	for (i = 0; i < pc->n_allowed_ips; i++) {
		const struct evpn_cidr *c = &pc->allowed_ips[i];

		if ((c->family != AF_INET || c->prefix > 32) &&
		    (c->family != AF_INET6 || c->prefix > 128))
			return EVPN_ERR_INVAL;
	}
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return EVPN_ERR_NOMEM;
		created = true;
		memcpy(p->public_key, pc->public_key, WG_KEY_LEN);
		do {
			p->handle = d->next_handle++;
			if (!p->handle)
				p->handle = d->next_handle++;
		} while (peer_by_handle(d, p->handle));
		wg_noise_init_peer(d, p);
		p->hnext = d->peer_buckets[key_bucket(p->public_key)];
		d->peer_buckets[key_bucket(p->public_key)] = p;
		p->hhnext =
			d->handle_buckets[p->handle & (WG_PEER_BUCKETS - 1)];
		d->handle_buckets[p->handle & (WG_PEER_BUCKETS - 1)] = p;
		p->lnext = d->peers;
		if (d->peers)
			d->peers->lprev = p;
		d->peers = p;
		d->n_peers++;
	}

	if (memcmp(p->psk, pc->preshared_key, WG_KEY_LEN)) {
		/* A new PSK invalidates the sessions derived from the old. */
		memcpy(p->psk, pc->preshared_key, WG_KEY_LEN);
		if (!created)
			wg_peer_clear_keys(d, p);
	}
	p->enabled = pc->enabled;
	if (!p->enabled)
		wg_peer_clear_keys(d, p); /* stops at once */
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

	aips_clear(d, p);
	if (pc->n_allowed_ips) {
		p->aips = malloc(pc->n_allowed_ips * sizeof(*p->aips));
		if (!p->aips) {
			rc = EVPN_ERR_NOMEM;
			goto fail;
		}
	}
	for (i = 0; i < pc->n_allowed_ips; i++) {
		const struct evpn_cidr *c = &pc->allowed_ips[i];

		rc = wg_aip_insert(&d->aip, c->family, c->addr, c->prefix, p);
		if (rc != EVPN_OK)
			goto fail;
		p->aips[p->n_aips++] = *c;
	}
	return EVPN_OK;
fail:
	if (created)
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

/* ---------------------------------------------------------------- tx queue */

struct wg_txslot *wg_tx_slot(struct wg_device *d)
{
	if (d->txq_len == WG_TXQ_LEN)
		wg_device_flush(d);
	return &d->txq[d->txq_len];
}

void wg_endpoint_set(union wg_endpoint *e, const struct sockaddr_storage *ss)
{
	memset(e, 0, sizeof(*e));
	if (ss->ss_family == AF_INET)
		memcpy(&e->in4, ss, sizeof(e->in4));
	else if (ss->ss_family == AF_INET6)
		memcpy(&e->in6, ss, sizeof(e->in6));
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

static bool has_endpoint(const struct wg_peer *p)
{
	return p->endpoint.sa.sa_family == AF_INET ||
	       p->endpoint.sa.sa_family == AF_INET6;
}

/* ---------------------------------------------------------------- handshake */

void wg_device_initiate(struct wg_device *d, struct wg_peer *p)
{
	wg_initiate(d, p, false);
}

void wg_initiate(struct wg_device *d, struct wg_peer *p, bool retry)
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
	p->last_sent_handshake = now;
	if (!retry)
		p->handshake_attempts = 0;
	wg_tx_commit(d, slot, &p->endpoint, sizeof(*m));
	p->tx_bytes += sizeof(*m);
	wg_timers_any_authenticated_traversal(d, p);
	wg_timers_any_authenticated_sent(d, p);
	wg_timers_handshake_initiated(d, p);
	event(d, WG_EV_HANDSHAKE_INITIATION_SENT);
}

static void send_response(struct wg_device *d, struct wg_peer *p)
{
	struct wg_msg_response *m;
	struct wg_txslot *slot = wg_tx_slot(d);

	m = (struct wg_msg_response *)slot->data;
	if (!wg_noise_create_response(d, p, m))
		return;
	wg_cookie_add_macs(d, p, m, sizeof(*m));
	if (!wg_noise_begin_session(d, p))
		return;
	p->last_sent_handshake = wg_device_now(d);
	wg_tx_commit(d, slot, &p->endpoint, sizeof(*m));
	p->tx_bytes += sizeof(*m);
	wg_timers_session_derived(d, p);
	wg_timers_any_authenticated_traversal(d, p);
	wg_timers_any_authenticated_sent(d, p);
	event(d, WG_EV_HANDSHAKE_RESPONSE_SENT);
}

/* Handshake messages: mac1 first (cheap), then load, cookie and rate
 * checks, and only then the Curve25519 work. */
static bool handshake_gate(struct wg_device *d, const uint8_t *buf, size_t len,
			   uint32_t sender, const struct sockaddr_storage *from)
{
	bool under_load = wg_under_load(d);
	enum wg_mac_state st;

	st = wg_cookie_validate(d, buf, len, from, under_load);
	if (st == WG_MAC_INVALID) {
		wg_device_count_drop(d, WG_DROP_BAD_MAC1);
		return false;
	}
	if (under_load && st != WG_MAC_VALID_WITH_COOKIE) {
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

static void rx_initiation(struct wg_device *d, uint8_t *buf, size_t len,
			  const struct sockaddr_storage *from)
{
	const struct wg_msg_initiation *m = (const void *)buf;
	enum wg_drop why;
	struct wg_peer *p;

	if (len != sizeof(*m)) {
		wg_device_count_drop(d, WG_DROP_BAD_SIZE);
		return;
	}
	if (!handshake_gate(d, buf, len, m->sender, from))
		return;
	p = wg_noise_consume_initiation(d, m, &why);
	if (!p) {
		wg_device_count_drop(d, why);
		return;
	}
	if (!wg_device_peer_ok(d, p, from))
		return;
	wg_endpoint_set(&p->endpoint, from);
	p->rx_bytes += len;
	wg_timers_any_authenticated_received(d, p);
	wg_timers_any_authenticated_traversal(d, p);
	send_response(d, p);
}

static void rx_response(struct wg_device *d, uint8_t *buf, size_t len,
			const struct sockaddr_storage *from)
{
	const struct wg_msg_response *m = (const void *)buf;
	enum wg_drop why;
	struct wg_peer *p;

	if (len != sizeof(*m)) {
		wg_device_count_drop(d, WG_DROP_BAD_SIZE);
		return;
	}
	if (!handshake_gate(d, buf, len, m->sender, from))
		return;
	p = wg_noise_consume_response(d, m, &why);
	if (!p) {
		wg_device_count_drop(d, why);
		return;
	}
	if (!wg_device_peer_ok(d, p, from))
		return;
	if (!wg_noise_begin_session(d, p)) {
		wg_device_count_drop(d, WG_DROP_HANDSHAKE_INVALID);
		return;
	}
	wg_endpoint_set(&p->endpoint, from);
	p->rx_bytes += len;
	wg_timers_session_derived(d, p);
	wg_timers_handshake_complete(d, p);
	wg_timers_any_authenticated_received(d, p);
	wg_timers_any_authenticated_traversal(d, p);
	event(d, WG_EV_HANDSHAKE_COMPLETED);
	/* Confirm the session to the responder: data, or a keepalive. */
	if (p->staged_head)
		wg_send_staged(d, p);
	else
		wg_send_keepalive(d, p);
}

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

/* ---------------------------------------------------------------- data */

static bool keypair_expired(struct wg_device *d, const struct wg_keypair *kp)
{
	return wg_device_now(d) - kp->birth >= WG_REJECT_AFTER_TIME;
}

bool wg_keypair_usable_for_send(struct wg_device *d,
				const struct wg_keypair *kp)
{
	return kp && !keypair_expired(d, kp) &&
	       kp->send_counter < WG_REJECT_AFTER_MESSAGES;
}

/* IP version, source and destination of a plaintext packet; the length
 * the IP header claims (the rest is padding). */
static bool ip_parse(const uint8_t *pkt, size_t len, int *family,
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

static int rx_data(struct wg_device *d, uint8_t *buf, size_t len, size_t cap,
		   const struct sockaddr_storage *from, struct evpn_pkt *out)
{
	struct wg_msg_data *m = (struct wg_msg_data *)buf;
	const uint8_t *src, *dst;
	struct wg_index_entry *e;
	struct wg_keypair *kp;
	struct wg_peer *p;
	size_t plen, iplen;
	uint64_t counter;
	int family;

	if (len < WG_DATA_MIN_LEN) {
		wg_device_count_drop(d, WG_DROP_SHORT);
		return 0;
	}
	e = wg_index_find(d, le32toh(m->receiver));
	if (!e || e->kind != WG_INDEX_KEYPAIR) {
		wg_device_count_drop(d, WG_DROP_UNKNOWN_INDEX);
		return 0;
	}
	kp = (struct wg_keypair *)e;
	p = e->peer;
	counter = le64toh(m->counter);
	if (keypair_expired(d, kp) || counter >= WG_REJECT_AFTER_MESSAGES) {
		wg_device_count_drop(d, WG_DROP_KEY_EXPIRED);
		return 0;
	}
	plen = len - sizeof(*m) - WG_AEAD_TAG;
	if (!wg_aead_decrypt(m->encrypted, m->encrypted, len - sizeof(*m), NULL,
			     0, counter, kp->recv_key)) {
		wg_device_count_drop(d, WG_DROP_DECRYPT);
		return 0;
	}
	if (!wg_replay_check(&kp->replay, counter)) {
		wg_device_count_drop(d, WG_DROP_REPLAY);
		return 0;
	}

	if (!wg_device_peer_ok(d, p, from))
		return 0;
	/* Authentic: the peer may have roamed. */
	wg_endpoint_set(&p->endpoint, from);
	p->rx_bytes += len;
	if (kp == p->next) {
		/* Responder: the initiator proved it has the session. */
		wg_noise_confirm(d, p, kp);
		wg_timers_handshake_complete(d, p);
		event(d, WG_EV_HANDSHAKE_COMPLETED);
	}
	wg_timers_any_authenticated_received(d, p);
	wg_timers_any_authenticated_traversal(d, p);

	/* Initiator side: ask for new keys a little before they die. */
	if (p->cur == kp && kp->initiator && !p->sent_lastminute_handshake &&
	    wg_device_now(d) - kp->birth >= WG_REJECT_AFTER_TIME -
						    WG_KEEPALIVE_TIMEOUT -
						    WG_REKEY_TIMEOUT) {
		p->sent_lastminute_handshake = true;
		wg_device_initiate(d, p);
	}

	if (plen == 0)
		return 0; /* keepalive */
	wg_timers_data_received(d, p);

	if (!ip_parse(m->encrypted, plen, &family, &src, &dst, &iplen)) {
		wg_device_count_drop(d, WG_DROP_BAD_IP);
		return 0;
	}
	if (wg_aip_lookup(&d->aip, family, src) != p) {
		wg_device_count_drop(d, WG_DROP_ALLOWED_IPS);
		return 0;
	}
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
	switch (le32toh(type)) {
	case WG_MSG_DATA: return rx_data(d, buf, len, cap, from, out);
	case WG_MSG_INITIATION: rx_initiation(d, buf, len, from); return 0;
	case WG_MSG_RESPONSE: rx_response(d, buf, len, from); return 0;
	case WG_MSG_COOKIE: rx_cookie(d, buf, len); return 0;
	default: wg_device_count_drop(d, WG_DROP_BAD_TYPE); return 0;
	}
}

/* ---------------------------------------------------------------- send */

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
	event(d, WG_EV_KEEPALIVE_SENT);
	maybe_rekey(d, p, kp);
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

void wg_device_tx(struct wg_device *d, const uint8_t *pkt, size_t len)
{
	const uint8_t *src, *dst;
	struct wg_peer *p;
	size_t iplen;
	int family;

	if (!ip_parse(pkt, len, &family, &src, &dst, &iplen)) {
		wg_device_count_drop(d, WG_DROP_BAD_IP);
		return;
	}
	len = iplen;
	if (len > d->cfg.mtu) {
		wg_device_count_drop(d, WG_DROP_TOO_BIG);
		return;
	}
	p = wg_aip_lookup(&d->aip, family, dst);
	if (!p) {
		wg_device_count_drop(d, WG_DROP_NO_PEER);
		return;
	}
	if (!p->enabled) {
		wg_device_count_drop(d, WG_DROP_PEER_DISABLED);
		return;
	}
	if (!has_endpoint(p)) {
		wg_device_count_drop(d, WG_DROP_NO_ENDPOINT);
		return;
	}
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

static bool has_deadline(const struct wg_peer *p)
{
	return p->t_retransmit || p->t_send_keepalive || p->t_new_handshake ||
	       p->t_zero_keys || p->t_persistent;
}

/* Only peers with a deadline are visited: idle peers cost nothing. */
void wg_device_tick(struct wg_device *d)
{
	double now = wg_device_now(d);
	struct wg_peer *p, *n;

	for (p = d->active; p; p = n) {
		wg_timers_peer_tick(d, p, now);
		n = p->anext;
		if (!has_deadline(p))
			wg_timers_disarm(d, p);
	}
	wg_noise_precompute(d, 64);
}

void wg_timers_arm(struct wg_device *d, struct wg_peer *p)
{
	if (p->active)
		return;
	p->active = true;
	p->aprev = NULL;
	p->anext = d->active;
	if (d->active)
		d->active->aprev = p;
	d->active = p;
}

void wg_timers_disarm(struct wg_device *d, struct wg_peer *p)
{
	if (!p->active)
		return;
	if (p->aprev)
		p->aprev->anext = p->anext;
	else
		d->active = p->anext;
	if (p->anext)
		p->anext->aprev = p->aprev;
	p->aprev = p->anext = NULL;
	p->active = false;
}

/* Background static-static DHs of freshly loaded peers (40 us each), so
 * their first handshake costs no more than later ones. */
void wg_noise_precompute(struct wg_device *d, unsigned max)
{
	struct wg_peer *p;

	while (max && d->ss_n) {
		p = peer_by_handle(d, d->ss_pending[--d->ss_n]);
		if (p && p->ss_state == WG_SS_PENDING) {
			(void)wg_noise_static_static(d, p);
			max--;
		}
	}
	if (!d->ss_n && d->ss_cap > 1024) {
		free(d->ss_pending); /* the start-up burst is over */
		d->ss_pending = NULL;
		d->ss_cap = 0;
	}
}
