// SPDX-License-Identifier: MIT
/*
 * The per-peer timer state machine of the whitepaper (section 6) as the
 * Linux module's timers.c arranges it. Deadlines are plain numbers checked
 * by a periodic tick, so a peer costs no timer object of the host; only
 * peers with a pending deadline are on the tick's list.
 *
 * The wg_timers_* hooks below are what the receive and send paths call as
 * packets go by; each says when.
 */
#include "wg.h"

/* Up to a third of a second, so that peers do not retry in lockstep. */
double wg_jitter(void)
{
	return (double)(wg_random_u32() % 333) / 1000.0;
}

/* Call after clearing the peer's keys: every deadline but the persistent
 * keepalive's goes. */
void wg_timers_stop(struct wg_peer *p)
{
	p->t_retransmit = 0;
	p->t_send_keepalive = 0;
	p->t_new_handshake = 0;
	p->t_zero_keys = 0;
	p->need_another_keepalive = false;
}

/* Call after sending a handshake initiation. */
void wg_timers_handshake_initiated(struct wg_device *d, struct wg_peer *p)
{
	p->t_retransmit = wg_device_now(d) + WG_REKEY_TIMEOUT + wg_jitter();
	wg_timers_arm(d, p);
}

/* Call after a handshake completes: a response consumed (initiator) or the
 * first data packet on the new session (responder). */
void wg_timers_handshake_complete(struct wg_device *d, struct wg_peer *p)
{
	p->t_retransmit = 0;
	p->handshake_attempts = 0;
	p->sent_lastminute_handshake = false;
	wg_device_walltime(d, &p->last_handshake);
}

/* Call after deriving a session: on sending or on consuming a response. */
void wg_timers_session_derived(struct wg_device *d, struct wg_peer *p)
{
	p->t_zero_keys = wg_device_now(d) + WG_REJECT_AFTER_TIME * 3;
	wg_timers_arm(d, p);
}

/* Call after sending a data packet (not a keepalive). */
void wg_timers_data_sent(struct wg_device *d, struct wg_peer *p)
{
	if (!p->t_new_handshake)
		p->t_new_handshake = wg_device_now(d) + WG_KEEPALIVE_TIMEOUT +
				     WG_REKEY_TIMEOUT + wg_jitter();
	wg_timers_arm(d, p);
}

/* Call after receiving an authentic data packet (not a keepalive). */
void wg_timers_data_received(struct wg_device *d, struct wg_peer *p)
{
	if (!p->t_send_keepalive)
		p->t_send_keepalive = wg_device_now(d) + WG_KEEPALIVE_TIMEOUT;
	else
		p->need_another_keepalive = true;
	wg_timers_arm(d, p);
}

/* Call after sending any authenticated packet: data, keepalive, handshake. */
void wg_timers_any_authenticated_sent(struct wg_device *d, struct wg_peer *p)
{
	p->t_send_keepalive = 0;
}

/* Call after receiving any authentic packet: data, keepalive, handshake. */
void wg_timers_any_authenticated_received(struct wg_device *d,
					  struct wg_peer *p)
{
	p->t_new_handshake = 0;
}

/* Call after any authenticated packet is sent or received. */
void wg_timers_any_authenticated_traversal(struct wg_device *d,
					   struct wg_peer *p)
{
	if (p->persistent_keepalive) {
		p->t_persistent = wg_device_now(d) + p->persistent_keepalive;
		wg_timers_arm(d, p);
	}
}

/* Whether the deadline has passed; if so it is cleared (fires once). */
static bool due(double *deadline, double now)
{
	if (!*deadline || *deadline > now)
		return false;
	*deadline = 0;
	return true;
}

/* Run the peer's due timers. */
void wg_timers_peer_tick(struct wg_device *d, struct wg_peer *p, double now)
{
	if (due(&p->t_retransmit, now)) {
		if (p->handshake_attempts > WG_MAX_TIMER_HANDSHAKES) {
			/* Gave up after REKEY_ATTEMPT_TIME: forget queued
			 * packets, wipe keys later. */
			p->t_send_keepalive = 0;
			wg_staged_purge(d, p);
			if (!p->t_zero_keys)
				p->t_zero_keys = now + WG_REJECT_AFTER_TIME * 3;
		} else {
			/* Initiating restarts the count, as a fresh
			 * initiation should; a retransmission goes on. */
			unsigned attempts = p->handshake_attempts + 1;

			wg_device_initiate(d, p);
			p->handshake_attempts = attempts;
		}
	}
	if (due(&p->t_send_keepalive, now)) {
		wg_send_keepalive(d, p);
		if (p->need_another_keepalive) {
			p->need_another_keepalive = false;
			p->t_send_keepalive = now + WG_KEEPALIVE_TIMEOUT;
		}
	}
	if (due(&p->t_new_handshake, now))
		wg_device_initiate(d, p);
	if (due(&p->t_zero_keys, now)) {
		wg_noise_keypairs_clear(d, p);
		wg_noise_handshake_clear(d, p);
	}
	if (p->persistent_keepalive && due(&p->t_persistent, now))
		wg_send_keepalive(d, p);
}

/* Whether any of the peer's timers is pending. */
static bool has_deadline(const struct wg_peer *p)
{
	return p->t_retransmit || p->t_send_keepalive || p->t_new_handshake ||
	       p->t_zero_keys || p->t_persistent;
}

/* Only peers with a deadline are visited: idle peers cost nothing. */
void wg_device_tick(struct wg_device *d)
{
	double now = wg_device_now(d);
	struct wg_list *pos, *next;

	/* A peer armed meanwhile goes first on the list: not this round. */
	wg_list_for_each_safe(pos, next, &d->timer_peers)
	{
		struct wg_peer *p =
			wg_list_entry(pos, struct wg_peer, timer_link);

		wg_timers_peer_tick(d, p, now);
		if (!has_deadline(p))
			wg_timers_disarm(d, p);
	}
	wg_noise_precompute(d, 64);
}

void wg_timers_arm(struct wg_device *d, struct wg_peer *p)
{
	if (!wg_list_linked(&p->timer_link))
		wg_list_add(&d->timer_peers, &p->timer_link);
}

void wg_timers_disarm(struct wg_device *d, struct wg_peer *p)
{
	if (wg_list_linked(&p->timer_link))
		wg_list_del(&p->timer_link);
}
