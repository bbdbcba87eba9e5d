/* SPDX-License-Identifier: MIT */
/*
 * Sliding replay window of RFC 6479 (as the Linux module's counter.c):
 * a ring of machine words, whole words are cleared as the window moves, so
 * a jump forward costs at most one pass over the ring.
 */
#ifndef WG_REPLAY_H
#define WG_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define WG_REPLAY_BITS_TOTAL 8192
#define WG_REPLAY_WORD_BITS 64
#define WG_REPLAY_WINDOW (WG_REPLAY_BITS_TOTAL - WG_REPLAY_WORD_BITS)

/* The whitepaper's limits (section 6.1). */
#define WG_REKEY_AFTER_MESSAGES (1ULL << 60)
#define WG_REJECT_AFTER_MESSAGES (UINT64_MAX - WG_REPLAY_WINDOW - 1)

struct wg_replay {
	uint64_t counter; /* highest accepted counter + 1 (0: none yet) */
	uint64_t backtrack[WG_REPLAY_BITS_TOTAL / WG_REPLAY_WORD_BITS];
};

void wg_replay_init(struct wg_replay *r);
/* Accept (and remember) their_counter, or refuse a replay / too old /
 * exhausted counter. Call only after the packet authenticated. */
bool wg_replay_check(struct wg_replay *r, uint64_t their_counter);

#endif
