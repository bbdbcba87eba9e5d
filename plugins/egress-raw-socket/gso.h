/* SPDX-License-Identifier: MIT */
/*
 * TUN offloads (IFF_VNET_HDR): with TSO offered, the kernel hands us TCP
 * super-packets of up to 64 KiB (one read instead of ~45); we cut them into
 * MSS-sized segments here. Packets may also arrive with a partial checksum
 * (CHECKSUM_PARTIAL) that we finish.
 */
#ifndef EVPN_RAW_GSO_H
#define EVPN_RAW_GSO_H

#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdint.h>

/* Called for each finished packet; returns 0 to go on. */
typedef int (*gso_emit_fn)(void *arg, const uint8_t *pkt, size_t len);

/*
 * One packet read from the TUN device (after its virtio_net_hdr vh):
 * finishes a partial checksum and, for a TCP/IPv4 or TCP/IPv6 GSO packet,
 * emits its segments built in seg (seg_cap bytes, reused for each); else
 * emits pkt itself. Returns 0, or -1 for a malformed packet.
 */
int gso_split(const struct virtio_net_hdr *vh, uint8_t *pkt, size_t len,
	      uint8_t *seg, size_t seg_cap, gso_emit_fn emit, void *arg);

#endif
