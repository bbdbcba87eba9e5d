/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "ackthin.h"

bool sle_ack_pure(const uint8_t *ip, size_t len, const struct sle_pkt_info *pi,
		  struct sle_ack *a)
{
	size_t alen = pi->family == 6 ? 16 : 4;

	memset(a, 0, sizeof(*a));
	if (pi->proto != SLE_PROTO_TCP || pi->tcp_flags != SLE_TCP_ACK)
		return false;
	/* no IP options, no extension headers, not a fragment */
	if (pi->family == 4) {
		if (pi->l3_len != 20 || (ip[6] & 0x3f) || ip[7])
			return false;
	} else if (pi->family != 6 || pi->l3_len != 40) {
		return false;
	}
	/* exactly a 20-byte TCP header and nothing after it */
	if (pi->total_len != pi->l3_len + 20 || len < pi->total_len ||
	    ip[pi->l3_len + 12] >> 4 != 5)
		return false;
	a->family = pi->family;
	memcpy(a->src, pi->src, alen);
	memcpy(a->dst, pi->dst, alen);
	a->sport = pi->sport;
	a->dport = pi->dport;
	a->ack = pi->tcp_ack;
	return true;
}

bool sle_ack_supersedes(const struct sle_ack *newer,
			const struct sle_ack *older)
{
	return newer->family && newer->family == older->family &&
	       newer->sport == older->sport && newer->dport == older->dport &&
	       !memcmp(newer->src, older->src, sizeof(newer->src)) &&
	       !memcmp(newer->dst, older->dst, sizeof(newer->dst)) &&
	       (int32_t)(newer->ack - older->ack) > 0;
}
