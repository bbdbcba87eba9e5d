/* SPDX-License-Identifier: MIT */
/* The token bucket that enforces a rate limit (evpn_rate.h). */
#include <math.h>

#include "evpn_rate.h"

double evpn_tbf_burst_for(uint64_t bps)
{
	double b = (double)bps / 8.0 * EVPN_TBF_BURST_SECONDS;

	return b < EVPN_TBF_BURST_MIN ? EVPN_TBF_BURST_MIN : b;
}

void evpn_tbf_set(struct evpn_tbf *b, uint64_t bps, double now)
{
	bool fresh = b->rate <= 0;

	if (!fresh)
		(void)evpn_tbf_take(b, 0, now); /* what the old rate earned */
	b->rate = (double)bps / 8.0;
	b->burst = bps ? evpn_tbf_burst_for(bps) : 0;
	if (fresh || b->tokens > b->burst)
		b->tokens = b->burst;
	b->last = now;
}

double evpn_tbf_when(const struct evpn_tbf *b, size_t len)
{
	if (b->rate <= 0 || b->tokens >= (double)len)
		return b->last;
	if ((double)len > b->burst)
		return HUGE_VAL;
	return b->last + ((double)len - b->tokens) / b->rate;
}

bool evpn_tbf_take(struct evpn_tbf *b, size_t len, double now)
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
