// SPDX-License-Identifier: MIT
/*
 * gro.c: runs of one flow's TCP segments become one TSO super-packet. The
 * checks: what merges and what must not (the kernel GRO's rules), the
 * super-packet's headers, and a round trip - segmenting the super-packet
 * again (gso.c, the same job the kernel does with it) gives back the
 * original segments byte for byte, with checksums finished from the
 * partial (pseudo-header) sum that gro.c leaves, as the kernel finishes it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csum.h"
#include "gro.h"
#include "gso.h"

#define NSEG 40
#define SEGCAP 2048

static uint8_t bufs[NSEG][SEGCAP];
static struct evpn_pkt pkts[NSEG];

/* A valid TCP segment: IPv4 (id incrementing, DF) or IPv6; timestamps
 * option (12 bytes); payload bytes derived from seq. */
static void make_seg(int i, int v6, uint32_t seq, uint32_t payload,
		     uint8_t flags)
{
	uint8_t *p = bufs[i];
	uint32_t iphl = v6 ? 40 : 20, hl = iphl + 32, len = hl + payload;
	uint8_t *t = p + iphl, ph[40];

	memset(p, 0, SEGCAP);
	if (v6) {
		p[0] = 0x60;
		put16(p + 4, len - 40);
		p[6] = 6;
		p[7] = 64;
		p[8] = 0xfd;
		p[23] = 2; /* fd00::2 -> fd80::2 */
		p[24] = 0xfd;
		p[25] = 0x80;
		p[39] = 2;
	} else {
		p[0] = 0x45;
		put16(p + 2, len);
		put16(p + 4, 1000 + (unsigned)i);
		put16(p + 6, 0x4000);
		p[8] = 64;
		p[9] = 6;
		memcpy(p + 12, "\x0a\x4d\x00\x02\xc0\xa8\x50\x02", 8);
		put_csum(p + 10, sum_bytes(0, p, 20));
	}
	put16(t, 40000);
	put16(t + 2, 5201);
	put32(t + 4, seq);
	put32(t + 8, 777);
	t[12] = 8 << 4;
	t[13] = flags;
	put16(t + 14, 501);
	memcpy(t + 20, "\x01\x01\x08\x0a\x00\x00\x00\x05\x00\x00\x00\x09", 12);
	for (uint32_t k = 0; k < payload; k++)
		p[hl + k] = (uint8_t)((seq + k) * 7);
	memset(ph, 0, sizeof(ph));
	if (v6) {
		memcpy(ph, p + 8, 32);
		put32(ph + 32, len - iphl);
		ph[39] = 6;
	} else {
		memcpy(ph, p + 12, 8);
		ph[9] = 6;
		put16(ph + 10, len - iphl);
	}
	put_csum(t + 16,
		 sum_bytes(sum_bytes(0, ph, v6 ? 40 : 12), t, len - iphl));
	pkts[i].data = p;
	pkts[i].len = len;
	pkts[i].cap = SEGCAP;
}

/* n segments of one flow: full-sized (mss) but the last (last_len). */
static void make_run(int n, int v6, uint32_t mss, uint32_t last_len,
		     uint8_t last_flags)
{
	uint32_t seq = 1000000;

	for (int i = 0; i < n; i++) {
		uint32_t pl = i == n - 1 ? last_len : mss;

		make_seg(i, v6, seq, pl, i == n - 1 ? last_flags : 0x10);
		seq += pl;
	}
}

/* Re-segmenting collects here. */
static uint8_t out[NSEG][SEGCAP];
static size_t out_len[NSEG];
static int nout;

static int collect(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	assert_true(nout < NSEG && len <= SEGCAP);
	memcpy(out[nout], pkt, len);
	out_len[nout++] = len;
	return 0;
}

/* The super-packet as the TUN device receives it, segmented again. */
static void roundtrip(int n, const uint8_t orig[][SEGCAP],
		      const uint32_t *orig_len)
{
	static uint8_t super[70000];
	static uint8_t seg[SEGCAP];
	struct virtio_net_hdr vh;
	uint32_t got = gro_run(pkts, (uint32_t)n, &vh), hl, len;

	assert_int_equal(got, n);
	hl = vh.hdr_len;
	assert_int_equal(hl, vh.csum_start + 32); /* TCP with timestamps */
	assert_int_equal(vh.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	memcpy(super, pkts[0].data, pkts[0].len);
	len = pkts[0].len;
	for (int i = 1; i < n; i++) {
		memcpy(super + len, pkts[i].data + hl, pkts[i].len - hl);
		len += pkts[i].len - hl;
	}
	/* The IP length covers everything; the IPv4 header checksum holds. */
	if (super[0] >> 4 == 4) {
		assert_int_equal(get16(super + 2), len);
		assert_int_equal(fold(sum_bytes(0, super, 20)), 0xffff);
	} else {
		assert_int_equal(get16(super + 4) + 40, len);
	}
	/* The partial sum finished over the TCP bytes, as the kernel does,
	 * is the right checksum of the super-packet. */
	{
		uint8_t tmp[70000];
		uint32_t iphl = vh.csum_start;
		uint8_t ph[40];
		uint64_t want;

		memcpy(tmp, super, len);
		put_csum(tmp + iphl + 16, sum_bytes(0, tmp + iphl, len - iphl));
		memset(ph, 0, sizeof(ph));
		if (iphl == 40) {
			memcpy(ph, super + 8, 32);
			put32(ph + 32, len - iphl);
			ph[39] = 6;
		} else {
			memcpy(ph, super + 12, 8);
			ph[9] = 6;
			put16(ph + 10, len - iphl);
		}
		want = sum_bytes(sum_bytes(0, ph, iphl == 40 ? 40 : 12),
				 tmp + iphl, len - iphl);
		assert_int_equal(fold(want), 0xffff); /* verifies to zero */
	}
	nout = 0;
	assert_int_equal(
		gso_split(&vh, super, len, seg, sizeof(seg), collect, NULL), 0);
	assert_int_equal(nout, n);
	for (int i = 0; i < n; i++) {
		assert_int_equal(out_len[i], orig_len[i]);
		assert_memory_equal(out[i], orig[i], orig_len[i]);
	}
}

static uint8_t orig[NSEG][SEGCAP];
static uint32_t orig_len[NSEG];

static void save(int n)
{
	for (int i = 0; i < n; i++) {
		memcpy(orig[i], pkts[i].data, pkts[i].len);
		orig_len[i] = pkts[i].len;
	}
}

static void test_roundtrip_v4(void **state)
{
	(void)state;
	make_run(32, 0, 1368, 1368, 0x10);
	save(32);
	roundtrip(32, orig, orig_len);
	/* a short last segment with PSH ends a run and keeps its PSH */
	make_run(5, 0, 1368, 100, 0x18);
	save(5);
	roundtrip(5, orig, orig_len);
}

static void test_roundtrip_v6(void **state)
{
	(void)state;
	make_run(20, 1, 1348, 1348, 0x10);
	save(20);
	roundtrip(20, orig, orig_len);
	make_run(3, 1, 1348, 7, 0x18);
	save(3);
	roundtrip(3, orig, orig_len);
}

static void test_what_does_not_merge(void **state)
{
	struct virtio_net_hdr vh;

	(void)state;
	/* a single packet, or a lone one: written as it is */
	make_run(1, 0, 1368, 1368, 0x10);
	assert_int_equal(gro_run(pkts, 1, &vh), 1);
	/* PSH in the middle ends the run after it */
	make_run(6, 0, 1368, 1368, 0x10);
	make_seg(2, 0, 1000000 + 2 * 1368, 1368, 0x18);
	assert_int_equal(gro_run(pkts, 6, &vh), 3);
	/* a short segment in the middle ends the run with it */
	make_run(6, 0, 1368, 1368, 0x10);
	make_seg(1, 0, 1000000 + 1368, 500, 0x10);
	assert_int_equal(gro_run(pkts, 6, &vh), 2);
	/* a gap in the sequence numbers */
	make_run(4, 0, 1368, 1368, 0x10);
	make_seg(2, 0, 1000000 + 3 * 1368, 1368, 0x10);
	assert_int_equal(gro_run(pkts, 4, &vh), 2);
	/* another flow (port), other options (timestamp), other window */
	make_run(4, 0, 1368, 1368, 0x10);
	pkts[1].data[20 + 2] ^= 1;
	assert_int_equal(gro_run(pkts, 4, &vh), 1);
	make_run(4, 0, 1368, 1368, 0x10);
	pkts[2].data[20 + 27] ^= 1;
	assert_int_equal(gro_run(pkts, 4, &vh), 2);
	make_run(4, 0, 1368, 1368, 0x10);
	pkts[3].data[20 + 15] ^= 1;
	assert_int_equal(gro_run(pkts, 4, &vh), 3);
	/* SYN, FIN, a pure ACK (no payload) never start a run */
	make_run(3, 0, 1368, 1368, 0x10);
	pkts[0].data[20 + 13] = 0x12;
	assert_int_equal(gro_run(pkts, 3, &vh), 1);
	make_run(3, 0, 1368, 1368, 0x10);
	pkts[1].data[20 + 13] = 0x11;
	assert_int_equal(gro_run(pkts, 3, &vh), 1);
	make_seg(0, 0, 1000000, 0, 0x10);
	make_seg(1, 0, 1000000, 1368, 0x10);
	assert_int_equal(gro_run(pkts, 2, &vh), 1);
	/* an IPv4 fragment, IP options (ihl 6), UDP */
	make_run(3, 0, 1368, 1368, 0x10);
	put16(pkts[0].data + 6, 0x2000);
	assert_int_equal(gro_run(pkts, 3, &vh), 1);
	make_run(3, 0, 1368, 1368, 0x10);
	pkts[0].data[0] = 0x46;
	assert_int_equal(gro_run(pkts, 3, &vh), 1);
	make_run(3, 0, 1368, 1368, 0x10);
	pkts[0].data[9] = 17;
	assert_int_equal(gro_run(pkts, 3, &vh), 1);
	/* IPv4 and IPv6 segments do not mix */
	make_run(3, 0, 1368, 1368, 0x10);
	make_seg(1, 1, 1000000 + 1368, 1368, 0x10);
	assert_int_equal(gro_run(pkts, 3, &vh), 1);
	/* a length that disagrees with the IP header */
	make_run(3, 0, 1368, 1368, 0x10);
	pkts[1].len--;
	assert_int_equal(gro_run(pkts, 3, &vh), 1);
}

/* Never more than an IPv4 packet can say: 65,535 bytes. */
static void test_size_limit(void **state)
{
	struct virtio_net_hdr vh;
	uint32_t n;

	(void)state;
	make_run(NSEG, 0, 1900, 1900, 0x10);
	n = gro_run(pkts, NSEG, &vh);
	assert_true(n < NSEG);
	assert_true(get16(pkts[0].data + 2) <= 65535);
	assert_int_equal(get16(pkts[0].data + 2), 52 + n * 1900);
	assert_true(52 + (n + 1) * 1900 > 65535);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_v4),
		cmocka_unit_test(test_roundtrip_v6),
		cmocka_unit_test(test_what_does_not_merge),
		cmocka_unit_test(test_size_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
