/* SPDX-License-Identifier: MIT */
/* The relay's SACK scoreboard (tcp.h): pure, unit-tested. */
#include <string.h>

#include "tcp.h"

void sle_sack_add(struct sle_sack_board *sb, uint32_t s, uint32_t e)
{
	uint8_t i = 0, j;

	if (!sle_seq_lt(s, e))
		return;
	/* skip blocks wholly before the new one */
	while (i < sb->n && sle_seq_lt(sb->b[i].e, s))
		i++;
	/* merge every block that overlaps or touches it */
	j = i;
	while (j < sb->n && sle_seq_le(sb->b[j].s, e)) {
		if (sle_seq_lt(sb->b[j].s, s))
			s = sb->b[j].s;
		if (sle_seq_lt(e, sb->b[j].e))
			e = sb->b[j].e;
		j++;
	}
	if (j > i) {
		sb->b[i].s = s;
		sb->b[i].e = e;
		memmove(&sb->b[i + 1], &sb->b[j],
			(size_t)(sb->n - j) * sizeof(sb->b[0]));
		sb->n = (uint8_t)(sb->n - (j - i - 1));
		return;
	}
	if (sb->n == SLE_SACK_MAX) {
		/* full: the highest block gives way (the lowest holes are
		 * the ones to repair first) */
		if (i == SLE_SACK_MAX)
			return;
		sb->n--;
	}
	memmove(&sb->b[i + 1], &sb->b[i],
		(size_t)(sb->n - i) * sizeof(sb->b[0]));
	sb->b[i].s = s;
	sb->b[i].e = e;
	sb->n++;
}

int sle_sack_find(const struct sle_sack_blk *b, uint8_t n, uint32_t seq)
{
	uint8_t lo = 0, hi = n;

	/* the first block that ends after seq: the only one that may hold
	 * it (called for every segment after a hole) */
	while (lo < hi) {
		uint8_t mid = (uint8_t)((lo + hi) / 2);

		if (sle_seq_le(b[mid].e, seq))
			lo = (uint8_t)(mid + 1);
		else
			hi = mid;
	}
	return lo < n && sle_sack_has(&b[lo], seq) ? lo : -1;
}

void sle_sack_trim(struct sle_sack_board *sb, uint32_t una)
{
	uint8_t i = 0;

	while (i < sb->n && sle_seq_le(sb->b[i].e, una))
		i++;
	memmove(&sb->b[0], &sb->b[i], (size_t)(sb->n - i) * sizeof(sb->b[0]));
	sb->n = (uint8_t)(sb->n - i);
	if (sb->n && sle_seq_lt(sb->b[0].s, una))
		sb->b[0].s = una;
}
