/* SPDX-License-Identifier: MIT */
/* IPv4 packets for the egress harness. */
#include <arpa/inet.h>
#include <string.h>

#include "pkt.h"

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)(p[n - 1] << 8);
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static size_t ip4(uint8_t *out, const struct ck_ip *a, uint8_t proto,
		  size_t l4len)
{
	static uint16_t ident = 1;
	size_t tot = 20 + l4len;

	memset(out, 0, 20);
	out[0] = 0x45;
	put16(out + 2, (uint16_t)tot);
	put16(out + 4, ident++);
	out[6] = 0x40; /* DF */
	out[8] = 64;
	out[9] = proto;
	memcpy(out + 12, a->src, 4);
	memcpy(out + 16, a->dst, 4);
	put16(out + 10, fold(sum16(out, 20, 0)));
	return tot;
}

/* TCP/UDP checksum over the pseudo header. */
static uint16_t l4sum(const uint8_t *ip, const uint8_t *l4, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = ip[9];
	put16(ph + 10, (uint16_t)len);
	return fold(sum16(l4, len, sum16(ph, 12, 0)));
}

size_t ck_pkt_icmp_echo(uint8_t *out, const struct ck_ip *a, uint16_t id,
			uint16_t seq, const void *payload, size_t len)
{
	uint8_t *icmp = out + 20;

	memset(icmp, 0, 8);
	icmp[0] = 8;
	put16(icmp + 4, id);
	put16(icmp + 6, seq);
	memcpy(icmp + 8, payload, len);
	put16(icmp + 2, fold(sum16(icmp, 8 + len, 0)));
	return ip4(out, a, 1, 8 + len);
}

size_t ck_pkt_udp(uint8_t *out, const struct ck_ip *a, uint16_t sport,
		  uint16_t dport, const void *payload, size_t len)
{
	uint8_t *u = out + 20;
	size_t n;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + len));
	put16(u + 6, 0);
	memcpy(u + 8, payload, len);
	n = ip4(out, a, 17, 8 + len);
	put16(u + 6, l4sum(out, u, 8 + len));
	return n;
}

size_t ck_pkt_tcp(uint8_t *out, const struct ck_ip *a, uint16_t sport,
		  uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		  const void *payload, size_t len)
{
	uint8_t *t = out + 20;
	size_t hl = (flags & CK_TCP_SYN) ? 24 : 20, n;

	memset(t, 0, hl);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	put16(t + 14, 65535);
	if (hl == 24) { /* MSS 1360 */
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, 1360);
	}
	if (len)
		memcpy(t + hl, payload, len);
	n = ip4(out, a, 6, hl + len);
	put16(t + 16, l4sum(out, t, hl + len));
	return n;
}

int ck_pkt_parse(const uint8_t *p, size_t len, struct ck_reply *r)
{
	size_t hl, tot;
	const uint8_t *l4;
	size_t l4len;

	memset(r, 0, sizeof(*r));
	if (len < 20 || (p[0] >> 4) != 4)
		return -1;
	hl = (size_t)(p[0] & 15) * 4;
	tot = get16(p + 2);
	if (hl < 20 || tot < hl || tot > len || fold(sum16(p, hl, 0)) != 0)
		return -1;
	r->proto = p[9];
	memcpy(r->src, p + 12, 4);
	memcpy(r->dst, p + 16, 4);
	l4 = p + hl;
	l4len = tot - hl;
	if (r->proto == 1 && l4len >= 8) {
		r->type = l4[0];
		r->code = l4[1];
		r->id = get16(l4 + 4);
		r->seq = get16(l4 + 6);
		r->payload = l4 + 8;
		r->plen = l4len - 8;
		if (r->type == 3 && l4len >= 8 + 20) {
			const uint8_t *q = l4 + 8;
			size_t qhl = (size_t)(q[0] & 15) * 4;

			r->q_proto = q[9];
			if (l4len >= 8 + qhl + 4)
				r->q_dport = get16(q + qhl + 2);
		}
	} else if (r->proto == 17 && l4len >= 8) {
		r->sport = get16(l4);
		r->dport = get16(l4 + 2);
		r->payload = l4 + 8;
		r->plen = l4len - 8;
	} else if (r->proto == 6 && l4len >= 20) {
		size_t thl = (size_t)(l4[12] >> 4) * 4;

		if (thl < 20 || thl > l4len)
			return -1;
		r->sport = get16(l4);
		r->dport = get16(l4 + 2);
		r->tseq = get32(l4 + 4);
		r->tack = get32(l4 + 8);
		r->flags = l4[13];
		r->payload = l4 + thl;
		r->plen = l4len - thl;
	}
	return 0;
}
