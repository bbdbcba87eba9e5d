/* SPDX-License-Identifier: MIT */
/* Retransmission timer (RFC 6298) of the relay's host -> client
 * direction. Pure. The congestion window is tcp_cubic.c. */
#include "tcp.h"

void sle_rtt_init(struct sle_rtt *r)
{
	r->srtt = r->rttvar = 0;
	r->rto = SLE_TCP_RTO_INIT;
	r->have = false;
}

void sle_rtt_sample(struct sle_rtt *r, double rtt)
{
	if (rtt < 0)
		return;
	if (!r->have) {
		r->srtt = rtt;
		r->rttvar = rtt / 2;
		r->have = true;
	} else {
		double d = r->srtt - rtt;

		r->rttvar = 0.75 * r->rttvar + 0.25 * (d < 0 ? -d : d);
		r->srtt = 0.875 * r->srtt + 0.125 * rtt;
	}
	/* RFC 6298 (2.3) with G = 1 ms, then the floor (2.4: 1 s is the
	 * RFC's; 200 ms is what Linux uses, fine for a relay whose timer
	 * runs on the real clock) and the ceiling (2.5) */
	r->rto = r->srtt + (4 * r->rttvar > 0.001 ? 4 * r->rttvar : 0.001);
	if (r->rto < SLE_TCP_RTO_MIN)
		r->rto = SLE_TCP_RTO_MIN;
	if (r->rto > SLE_TCP_RTO_MAX)
		r->rto = SLE_TCP_RTO_MAX;
}

void sle_rtt_backoff(struct sle_rtt *r)
{
	r->rto *= 2;
	if (r->rto > SLE_TCP_RTO_MAX)
		r->rto = SLE_TCP_RTO_MAX;
}
