/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>

#include "csum.h"
#include "gro.h"

#define TCP_ACK 0x10
#define TCP_PSH 0x08

/* IP header length of a TCP packet we may merge: IPv4 without options and
 * not a fragment, or IPv6 with TCP right after the fixed header; 0 if
 * not. */
static uint32_t tcp_iphl(const uint8_t *p, uint32_t len)
{
	if (len >= 40 && p[0] >> 4 == 4) {
		if (p[0] != 0x45 || p[9] != 6 || (get16(p + 6) & 0xbfff) != 0 ||
		    get16(p + 2) != len)
			return 0;
		return 20;
	}
	if (len >= 60 && p[0] >> 4 == 6) {
		if (p[6] != 6 || (uint32_t)get16(p + 4) + 40 != len)
			return 0;
		return 40;
	}
	return 0;
}

/* The fields that must be equal in every segment of a run: for IPv4
 * version/ihl/tos, flags/fragment, ttl, protocol, addresses; for IPv6
 * version/class/flow, next header, hop limit, addresses; then the TCP
 * ports, ack, data offset, window and options (the kernel's GRO compares
 * the same). */
static bool same_flow(const uint8_t *a, const uint8_t *b, uint32_t iphl,
		      uint32_t hl)
{
	const uint8_t *ta = a + iphl, *tb = b + iphl;

	if (iphl == 20) {
		if (memcmp(a, b, 2) || memcmp(a + 6, b + 6, 4) ||
		    memcmp(a + 12, b + 12, 8))
			return false;
	} else if (memcmp(a, b, 4) || memcmp(a + 6, b + 6, 34)) {
		return false;
	}
	return !memcmp(ta, tb, 4) && !memcmp(ta + 8, tb + 8, 5) &&
	       !memcmp(ta + 14, tb + 14, 2) &&
	       !memcmp(ta + 20, tb + 20, hl - iphl - 20);
}

uint32_t gro_run(struct evpn_pkt *pkts, uint32_t avail,
		 struct virtio_net_hdr *vh)
{
	uint8_t *p = pkts[0].data;
	uint32_t iphl = tcp_iphl(p, pkts[0].len), hl, mss, total, n, seq;
	uint32_t max = iphl == 20 ? 65535 : 65535 + 40;
	uint8_t last_flags;
	uint64_t s;

	if (!iphl || avail < 2)
		return 1;
	hl = iphl + (uint32_t)(p[iphl + 12] >> 4) * 4;
	if (hl < iphl + 20 || hl >= pkts[0].len || p[iphl + 13] != TCP_ACK)
		return 1;
	mss = pkts[0].len - hl;
	total = pkts[0].len;
	seq = get32(p + iphl + 4) + mss;
	last_flags = TCP_ACK;
	for (n = 1; n < avail && n < GRO_MAX_SEGS; n++) {
		const uint8_t *q = pkts[n].data;
		uint32_t len = pkts[n].len, payload;

		/* only the last segment may be short or carry PSH */
		if (last_flags != TCP_ACK ||
		    (n > 1 && pkts[n - 1].len - hl != mss))
			break;
		if (tcp_iphl(q, len) != iphl || len <= hl ||
		    !same_flow(p, q, iphl, hl) || get32(q + iphl + 4) != seq ||
		    (q[iphl + 13] != TCP_ACK &&
		     q[iphl + 13] != (TCP_ACK | TCP_PSH)))
			break;
		payload = len - hl;
		if (payload > mss || total + payload > max)
			break;
		total += payload;
		seq += payload;
		last_flags = q[iphl + 13];
	}
	if (n < 2)
		return 1;

	/* Rewrite the first header for the whole run. */
	p[iphl + 13] = last_flags;
	if (iphl == 20) {
		put16(p + 2, total);
		p[10] = p[11] = 0;
		put_csum(p + 10, sum_bytes(0, p, 20));
	} else {
		put16(p + 4, total - 40);
	}
	/* CHECKSUM_PARTIAL: the TCP field holds the pseudo-header sum (not
	 * complemented); the kernel, or the next hop's offload, finishes it
	 * for every segment. The payload is authenticated by the tunnel. */
	{
		uint8_t ph[40];
		uint32_t tcplen = total - iphl;
		uint16_t c;

		memset(ph, 0, sizeof(ph));
		if (iphl == 20) {
			memcpy(ph, p + 12, 8);
			ph[9] = 6;
			put16(ph + 10, tcplen);
			s = sum_bytes(0, ph, 12);
		} else {
			memcpy(ph, p + 8, 32);
			put32(ph + 32, tcplen);
			ph[39] = 6;
			s = sum_bytes(0, ph, 40);
		}
		c = fold(s);
		memcpy(p + iphl + 16, &c, 2);
	}
	memset(vh, 0, sizeof(*vh));
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = iphl == 20 ? VIRTIO_NET_HDR_GSO_TCPV4
				  : VIRTIO_NET_HDR_GSO_TCPV6;
	vh->hdr_len = (uint16_t)hl;
	vh->gso_size = (uint16_t)mss;
	vh->csum_start = (uint16_t)iphl;
	vh->csum_offset = 16;
	return n;
}
