/* SPDX-License-Identifier: MIT */
/* The token bucket that enforces a rate limit (rate.h). */
#include <math.h>

#include "rate.h"

double tbf_burst_for(uint64_t bps)
{
	double b = (double)bps / 8.0 * TBF_BURST_SECONDS;

	return b < TBF_BURST_MIN ? TBF_BURST_MIN : b;
}

void tbf_set(struct tbf *b, uint64_t bps, double now)
{
	bool fresh = b->rate <= 0;

	if (!fresh)
		(void)tbf_take(b, 0, now); /* what the old rate earned */
	b->rate = (double)bps / 8.0;
	b->burst = bps ? tbf_burst_for(bps) : 0;
	if (fresh || b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = now;
}

double tbf_when(const struct tbf *b, size_t len)
{
	if (b->rate <= 0 || b->tokens >= (double)len)
		return b->last;
	if ((double)len > b->burst)
		return HUGE_VAL;
	return b->last + ((double)len - b->tokens) / b->rate;
}

bool tbf_take(struct tbf *b, size_t len, double now)
{
	if (b->rate <= 0)
		return true;
	/* a clock that went back (or a first call) refills nothing */
	if (now > b->last) {
		b->tokens += (now - b->last) * b->rate;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	b->last = now;
	if (b->tokens < (double)len)
		return false;
	b->tokens -= (double)len;
	return true;
}
