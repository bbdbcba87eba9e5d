/* SPDX-License-Identifier: MIT */
/*
 * The other direction of gso.c: consecutive TCP segments of one flow that
 * arrive from a client in one batch go to the TUN device as one TSO
 * super-packet (IFF_VNET_HDR), so the kernel routes, forwards and delivers
 * one packet instead of up to 32. It segments again where it has to, with
 * the same rules as its own GRO (tcp_gro_receive): same headers and
 * options, contiguous sequence numbers, full-sized segments except the
 * last, only ACK (and PSH on the last).
 */
#ifndef EVPN_RAW_GRO_H
#define EVPN_RAW_GRO_H

#include <linux/virtio_net.h>
#include <stdint.h>

#include <evpn/egress.h>

#define GRO_MAX_SEGS 64

/*
 * How many packets from pkts[0..avail) form one run (1 when pkts[0] does
 * not start a mergeable run). For a run of 2 or more, the first packet's
 * IP and TCP headers are rewritten to describe the whole super-packet
 * (lengths, checksums, PSH) and vh is filled in; the caller writes vh, the
 * first packet, then each following packet's payload (from vh->hdr_len).
 */
uint32_t gro_run(struct evpn_pkt *pkts, uint32_t avail,
		 struct virtio_net_hdr *vh);

#endif
