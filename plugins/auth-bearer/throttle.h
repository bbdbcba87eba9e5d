/* SPDX-License-Identifier: MIT */
/*
 * Per-address failure throttling for authentication.
 *
 * After `max_failures` failed attempts from one address within `window`
 * seconds, that address is locked out for `lockout` seconds: the caller
 * (auth:bearer) refuses its wrong tokens with a retry-after hint but lets a
 * valid one through, since one address may be many clients. Success never
 * resets a counter, so a guesser gains nothing by interleaving a valid key.
 *
 * Memory is bounded: a fixed open-addressing table; an address probes a
 * short run of slots and, when none is free, evicts the entry seen longest
 * ago (unlocked ones first). Time is passed in by the caller (monotonic
 * seconds), which keeps the logic testable. All functions are thread-safe.
 */
#ifndef BEARER_THROTTLE_H
#define BEARER_THROTTLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <evpn/plugin.h>

#define BEARER_THROTTLE_ADDR_MAX 48 /* like civetweb's remote_addr */
#define BEARER_THROTTLE_PROBES 16

struct bearer_throttle_entry {
	char addr[BEARER_THROTTLE_ADDR_MAX];
	double first;	     /* start of the counting window */
	double last;	     /* last failure: eviction order */
	double locked_until; /* 0 when not locked */
	unsigned failures;
	bool used;
};

struct bearer_throttle {
	pthread_mutex_t lock;
	struct bearer_throttle_entry *slots;
	size_t mask; /* capacity - 1, capacity a power of two */
	unsigned max_failures;
	double window, lockout;
};

/* capacity is rounded up to a power of two (at least PROBES). */
int bearer_throttle_init(struct bearer_throttle *t, size_t capacity,
			 unsigned max_failures, double window,
			 double lockout) EVPN_WUR;
void bearer_throttle_free(struct bearer_throttle *t);

/* EVPN_OK, or EVPN_ERR_AGAIN with *retry_after (>= 1) seconds. */
int bearer_throttle_check(struct bearer_throttle *t, const char *addr,
			  double now, unsigned *retry_after) EVPN_WUR;
/* Records one failed attempt. */
void bearer_throttle_fail(struct bearer_throttle *t, const char *addr,
			  double now);
/* Number of live (counting or locked) entries; for tests and metrics. */
size_t bearer_throttle_count(struct bearer_throttle *t, double now);

#endif
