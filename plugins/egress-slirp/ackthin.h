/* SPDX-License-Identifier: MIT */
/*
 * Pure-ACK thinning toward the clients.
 *
 * libslirp acknowledges every TCP segment it receives at once (tcp_input
 * sets TF_ACKNOW for in-order data; it never delays an ACK), so a batch of
 * N uploaded segments becomes N pure ACKs, all leaving together when the
 * batch is flushed. Each one costs an encryption here and, at the client, a
 * decryption, a TUN write and a TCP input: with a userspace client the
 * upload is bounded by that per-packet work. TCP acknowledgements are
 * cumulative, so inside one outgoing batch a later pure ACK of the same
 * connection with a higher acknowledgement number says everything an
 * earlier one did (the window is the latest one either way): the earlier
 * one is dropped. Nothing is delayed: only packets that would have left in
 * the same send are merged.
 *
 * Conservative on purpose (a subset of what CAKE's ack-filter does):
 * never merged are duplicate ACKs (same number: they drive the client's
 * fast retransmit), segments with data, any flag besides ACK (SYN, FIN,
 * RST, PSH, URG, ECE, CWR), TCP options, IP options, IPv4 fragments and
 * IPv6 extension headers.
 */
#ifndef SLE_ACKTHIN_H
#define SLE_ACKTHIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pkt.h"

/* A queued pure ACK: its connection and acknowledgement number.
 * family 0 means "not a pure ACK". */
struct sle_ack {
	uint8_t family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t ack;
};

/* Fills a (and returns true) when the parsed packet ip/len is a pure ACK
 * that may be merged; else a->family = 0. */
bool sle_ack_pure(const uint8_t *ip, size_t len, const struct sle_pkt_info *pi,
		  struct sle_ack *a);

/* True when newer, sent after older, makes older redundant: the same
 * connection in the same direction and a strictly higher acknowledgement
 * number (modulo 2^32). */
bool sle_ack_supersedes(const struct sle_ack *newer,
			const struct sle_ack *older);

#endif /* SLE_ACKTHIN_H */
