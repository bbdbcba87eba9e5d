/* SPDX-License-Identifier: MIT */
#include "throttle.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int bearer_throttle_init(struct bearer_throttle *t, size_t capacity,
			 unsigned max_failures, double window, double lockout)
{
	size_t cap = BEARER_THROTTLE_PROBES;

	memset(t, 0, sizeof(*t));
	if (max_failures == 0 || window <= 0 || lockout <= 0 ||
	    capacity > ((size_t)1 << 24))
		return EVPN_ERR_INVAL;
	while (cap < capacity)
		cap <<= 1;
	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots)
		return EVPN_ERR_NOMEM;
	if (pthread_mutex_init(&t->lock, NULL) != 0) {
		free(t->slots);
		t->slots = NULL;
		return EVPN_ERR_INTERNAL;
	}
	t->mask = cap - 1;
	t->max_failures = max_failures;
	t->window = window;
	t->lockout = lockout;
	return EVPN_OK;
}

void bearer_throttle_free(struct bearer_throttle *t)
{
	if (!t->slots)
		return;
	pthread_mutex_destroy(&t->lock);
	free(t->slots);
	t->slots = NULL;
}

/* FNV-1a: addresses are short and not attacker-chosen beyond their own
 * address, so a simple hash is enough; probing bounds the damage anyway. */
static size_t hash_addr(const char *s)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(1099511628211);
	}
	return (size_t)h;
}

static bool entry_locked(const struct bearer_throttle_entry *e, double now)
{
	return e->locked_until > now;
}

/* Counting window over and not locked: the entry carries no state. */
static bool entry_stale(const struct bearer_throttle *t,
			const struct bearer_throttle_entry *e, double now)
{
	return !e->used ||
	       (!entry_locked(e, now) && now - e->first >= t->window);
}

/* Slot of addr, or NULL. Called with the lock held. */
static struct bearer_throttle_entry *find(struct bearer_throttle *t,
					  const char *addr, size_t h)
{
	for (size_t i = 0; i < BEARER_THROTTLE_PROBES; i++) {
		struct bearer_throttle_entry *e = &t->slots[(h + i) & t->mask];

		if (e->used && strcmp(e->addr, addr) == 0)
			return e;
	}
	return NULL;
}

/* A slot to take for a new address: a stale one, else the unlocked entry
 * whose last failure is oldest, else the oldest locked one. */
static struct bearer_throttle_entry *victim(struct bearer_throttle *t, size_t h,
					    double now)
{
	struct bearer_throttle_entry *best = NULL;
	bool best_locked = true;

	for (size_t i = 0; i < BEARER_THROTTLE_PROBES; i++) {
		struct bearer_throttle_entry *e = &t->slots[(h + i) & t->mask];
		bool locked;

		if (entry_stale(t, e, now))
			return e;
		locked = entry_locked(e, now);
		if (!best || (best_locked && !locked) ||
		    (best_locked == locked && e->last < best->last)) {
			best = e;
			best_locked = locked;
		}
	}
	return best;
}

int bearer_throttle_check(struct bearer_throttle *t, const char *addr,
			  double now, unsigned *retry_after)
{
	struct bearer_throttle_entry *e;
	int rc = EVPN_OK;

	*retry_after = 0;
	if (!addr)
		addr = "";
	pthread_mutex_lock(&t->lock);
	e = find(t, addr, hash_addr(addr));
	if (e && entry_locked(e, now)) {
		double left = ceil(e->locked_until - now);

		*retry_after = left < 1 ? 1 : (unsigned)left;
		rc = EVPN_ERR_AGAIN;
	}
	pthread_mutex_unlock(&t->lock);
	return rc;
}

void bearer_throttle_fail(struct bearer_throttle *t, const char *addr,
			  double now)
{
	struct bearer_throttle_entry *e;
	size_t h, n;

	if (!addr)
		addr = "";
	h = hash_addr(addr);
	pthread_mutex_lock(&t->lock);
	e = find(t, addr, h);
	if (e && entry_locked(e, now))
		goto out; /* already locked: the lockout does not grow */
	if (!e || entry_stale(t, e, now)) {
		if (!e)
			e = victim(t, h, now);
		memset(e, 0, sizeof(*e));
		e->used = true;
		n = strnlen(addr, sizeof(e->addr) - 1);
		memcpy(e->addr, addr, n);
		e->first = now;
	}
	e->last = now;
	if (++e->failures >= t->max_failures) {
		e->locked_until = now + t->lockout;
		/* The next window starts when the lockout ends. */
		e->first = e->locked_until;
		e->failures = 0;
	}
out:
	pthread_mutex_unlock(&t->lock);
}

size_t bearer_throttle_count(struct bearer_throttle *t, double now)
{
	size_t n = 0;

	pthread_mutex_lock(&t->lock);
	for (size_t i = 0; i <= t->mask; i++)
		if (!entry_stale(t, &t->slots[i], now))
			n++;
	pthread_mutex_unlock(&t->lock);
	return n;
}
