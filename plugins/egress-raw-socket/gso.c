/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "csum.h"
#include "gso.h"

/* TCP checksum of seg (IP header of iphl bytes, then tcplen bytes). */
static void tcp_csum(uint8_t *seg, size_t iphl, size_t tcplen, int v6)
{
	uint8_t ph[40];
	uint8_t *tcp = seg + iphl;
	size_t phl;

	memset(ph, 0, sizeof(ph));
	if (v6) {
		memcpy(ph, seg + 8, 32); /* source, destination */
		put32(ph + 32, (uint32_t)tcplen);
		ph[39] = 6;
		phl = 40;
	} else {
		memcpy(ph, seg + 12, 8);
		ph[9] = 6;
		put16(ph + 10, (unsigned)tcplen);
		phl = 12;
	}
	tcp[16] = tcp[17] = 0;
	put_csum(tcp + 16, sum_bytes(sum_bytes(0, ph, phl), tcp, tcplen));
}

static int tcp_segment(const struct virtio_net_hdr *vh, const uint8_t *pkt,
		       size_t len, uint8_t *seg, size_t seg_cap,
		       gso_emit_fn emit, void *arg)
{
	int v6 = vh->gso_type == VIRTIO_NET_HDR_GSO_TCPV6;
	size_t iphl, hl, payload, off, n, mss = vh->gso_size;
	uint32_t seq;
	unsigned id, i;
	uint8_t flags;

	if (v6) {
		/* No extension headers: the kernel's TSO packets have none. */
		if (len < 40 || pkt[0] >> 4 != 6 || pkt[6] != 6)
			return -1;
		iphl = 40;
	} else {
		if (len < 20 || pkt[0] >> 4 != 4 || pkt[9] != 6)
			return -1;
		iphl = (size_t)(pkt[0] & 15) * 4;
	}
	if (iphl < 20 || len < iphl + 20)
		return -1;
	hl = iphl + (size_t)(pkt[iphl + 12] >> 4) * 4;
	if (hl < iphl + 20 || hl > len || !mss || hl + mss > seg_cap)
		return -1;
	payload = len - hl;
	seq = get32(pkt + iphl + 4);
	id = (unsigned)pkt[4] << 8 | pkt[5];
	flags = pkt[iphl + 13];
	for (off = 0, i = 0; off < payload || (!payload && !i); off += n, i++) {
		n = payload - off < mss ? payload - off : mss;
		memcpy(seg, pkt, hl);
		memcpy(seg + hl, pkt + hl + off, n);
		if (v6) {
			put16(seg + 4, (unsigned)(hl - 40 + n));
		} else {
			put16(seg + 2, (unsigned)(hl + n));
			put16(seg + 4, (id + i) & 0xffff);
			seg[10] = seg[11] = 0;
			put_csum(seg + 10, sum_bytes(0, seg, iphl));
		}
		put32(seg + iphl + 4, seq + (uint32_t)off);
		/* FIN and PSH only on the last segment, CWR on the first. */
		seg[iphl + 13] = flags;
		if (off + n < payload)
			seg[iphl + 13] &= (uint8_t)~0x09;
		if (i)
			seg[iphl + 13] &= (uint8_t)~0x80;
		tcp_csum(seg, iphl, hl - iphl + n, v6);
		if (emit(arg, seg, hl + n))
			return 0;
		if (!payload)
			break;
	}
	return 0;
}

int gso_split(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
	      uint8_t *seg, size_t seg_cap, gso_emit_fn emit, void *arg)
{
	size_t start = vh->csum_start, at = start + vh->csum_offset;

	switch (vh->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			/* The field holds the pseudo-header sum already. */
			if (start >= len || at + 2 > len)
				return -1;
			put_csum(pkt + at,
				 sum_bytes(0, pkt + start, len - start));
		}
		emit(arg, pkt, len);
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return tcp_segment(vh, pkt, len, seg, seg_cap, emit, arg);
	default: return -1;
	}
}
