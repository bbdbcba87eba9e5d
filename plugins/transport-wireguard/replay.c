// SPDX-License-Identifier: MIT
#include "replay.h"

#include <string.h>

#define WORDS (WG_REPLAY_BITS_TOTAL / WG_REPLAY_WORD_BITS)

void wg_replay_init(struct wg_replay *r)
{
	memset(r, 0, sizeof(*r));
}

bool wg_replay_check(struct wg_replay *r, uint64_t their_counter)
{
	uint64_t index, index_current, top, i, bit;

	if (r->counter >= WG_REJECT_AFTER_MESSAGES + 1 ||
	    their_counter >= WG_REJECT_AFTER_MESSAGES)
		return false;

	/* Stored counters are off by one so that 0 means "nothing yet". */
	++their_counter;

	if (WG_REPLAY_WINDOW + their_counter < r->counter)
		return false;

	index = their_counter / WG_REPLAY_WORD_BITS;
	if (their_counter > r->counter) {
		index_current = r->counter / WG_REPLAY_WORD_BITS;
		top = index - index_current;
		if (top > WORDS)
			top = WORDS;
		for (i = 1; i <= top; ++i)
			r->backtrack[(i + index_current) & (WORDS - 1)] = 0;
		r->counter = their_counter;
	}

	index &= WORDS - 1;
	bit = 1ULL << (their_counter & (WG_REPLAY_WORD_BITS - 1));
	if (r->backtrack[index] & bit)
		return false;
	r->backtrack[index] |= bit;
	return true;
}
