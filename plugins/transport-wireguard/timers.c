// SPDX-License-Identifier: MIT
/*
 * The per-peer timer state machine of the whitepaper (section 6) as the
 * Linux module's timers.c arranges it. Deadlines are plain numbers checked
 * by a periodic tick, so a peer costs no timer object of the host.
 */
#include "wg.h"

double wg_jitter(void)
{
	return (double)(wg_random_u32() % 333) / 1000.0;
}

void wg_timers_stop(struct wg_peer *p)
{
	p->t_retransmit = 0;
	p->t_send_keepalive = 0;
	p->t_new_handshake = 0;
	p->t_zero_keys = 0;
	p->need_another_keepalive = false;
}

void wg_timers_handshake_initiated(struct wg_device *d, struct wg_peer *p)
{
	p->t_retransmit = wg_device_now(d) + WG_REKEY_TIMEOUT + wg_jitter();
	wg_timers_arm(d, p);
}

void wg_timers_handshake_complete(struct wg_device *d, struct wg_peer *p)
{
	p->t_retransmit = 0;
	p->handshake_attempts = 0;
	p->sent_lastminute_handshake = false;
	wg_device_walltime(d, &p->last_handshake);
}

void wg_timers_session_derived(struct wg_device *d, struct wg_peer *p)
{
	p->t_zero_keys = wg_device_now(d) + WG_REJECT_AFTER_TIME * 3;
	wg_timers_arm(d, p);
}

void wg_timers_data_sent(struct wg_device *d, struct wg_peer *p)
{
	if (!p->t_new_handshake)
		p->t_new_handshake = wg_device_now(d) + WG_KEEPALIVE_TIMEOUT +
				     WG_REKEY_TIMEOUT + wg_jitter();
	wg_timers_arm(d, p);
}

void wg_timers_data_received(struct wg_device *d, struct wg_peer *p)
{
	if (!p->t_send_keepalive)
		p->t_send_keepalive = wg_device_now(d) + WG_KEEPALIVE_TIMEOUT;
	else
		p->need_another_keepalive = true;
	wg_timers_arm(d, p);
}

void wg_timers_any_authenticated_sent(struct wg_device *d, struct wg_peer *p)
{
	p->t_send_keepalive = 0;
}

void wg_timers_any_authenticated_received(struct wg_device *d,
					  struct wg_peer *p)
{
	p->t_new_handshake = 0;
}

void wg_timers_any_authenticated_traversal(struct wg_device *d,
					   struct wg_peer *p)
{
	if (p->persistent_keepalive) {
		p->t_persistent = wg_device_now(d) + p->persistent_keepalive;
		wg_timers_arm(d, p);
	}
}

static bool due(double *deadline, double now)
{
	if (!*deadline || *deadline > now)
		return false;
	*deadline = 0;
	return true;
}

void wg_timers_peer_tick(struct wg_device *d, struct wg_peer *p, double now)
{
	if (due(&p->t_retransmit, now)) {
		if (p->handshake_attempts > WG_MAX_TIMER_HANDSHAKES) {
			/* Gave up after REKEY_ATTEMPT_TIME: forget queued
			 * packets, wipe keys later. */
			p->t_send_keepalive = 0;
			while (p->staged_head) {
				struct wg_staged *s = p->staged_head;

				p->staged_head = s->next;
				s->next = d->stage_free;
				d->stage_free = s;
			}
			p->staged_tail = NULL;
			p->n_staged = 0;
			if (!p->t_zero_keys)
				p->t_zero_keys = now + WG_REJECT_AFTER_TIME * 3;
		} else {
			p->handshake_attempts++;
			wg_initiate(d, p, true);
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
		wg_initiate(d, p, false);
	if (due(&p->t_zero_keys, now)) {
		wg_keypair_free(d, p->cur);
		wg_keypair_free(d, p->prev);
		wg_keypair_free(d, p->next);
		p->cur = p->prev = p->next = NULL;
		wg_noise_handshake_clear(d, p);
	}
	if (p->persistent_keepalive && due(&p->t_persistent, now))
		wg_send_keepalive(d, p);
}
