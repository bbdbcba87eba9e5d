/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "pkt.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void parse_l4(const uint8_t *l4, size_t avail, struct sle_pkt_info *o)
{
	size_t hl;

	switch (o->proto) {
	case SLE_PROTO_TCP:
		if (avail < 20)
			return;
		o->sport = rd16(l4);
		o->dport = rd16(l4 + 2);
		o->tcp_seq = rd32(l4 + 4);
		o->tcp_ack = rd32(l4 + 8);
		o->tcp_flags = l4[13];
		hl = (size_t)(l4[12] >> 4) * 4;
		if (hl >= 20 && hl <= avail)
			o->payload_len = (uint16_t)(avail - hl);
		break;
	case SLE_PROTO_UDP:
		if (avail < 8)
			return;
		o->sport = rd16(l4);
		o->dport = rd16(l4 + 2);
		o->payload_len = (uint16_t)(avail - 8);
		break;
	case SLE_PROTO_ICMP:
	case SLE_PROTO_ICMP6:
		if (avail < 8)
			return;
		o->icmp_type = l4[0];
		/* echo: the identifier names the "flow" */
		o->sport = o->dport = rd16(l4 + 4);
		break;
	default: break;
	}
}

bool sle_pkt_parse(const uint8_t *p, size_t len, struct sle_pkt_info *o)
{
	memset(o, 0, sizeof(*o));
	if (len < 20)
		return false;
	if (p[0] >> 4 == 4) {
		size_t hl = (size_t)(p[0] & 15) * 4;
		size_t tl = rd16(p + 2);

		if (hl < 20 || tl < hl || tl > len)
			return false;
		o->family = 4;
		o->proto = p[9];
		o->l3_len = (uint16_t)hl;
		o->total_len = (uint16_t)tl;
		memcpy(o->src, p + 12, 4);
		memcpy(o->dst, p + 16, 4);
		o->first_frag = (rd16(p + 6) & 0x1fff) == 0;
		if (o->first_frag)
			parse_l4(p + hl, tl - hl, o);
		return true;
	}
	if (p[0] >> 4 == 6) {
		size_t pl;

		if (len < 40)
			return false;
		pl = rd16(p + 4);
		if (40 + pl > len)
			return false;
		o->family = 6;
		/* Extension headers are not walked: the next header as
		 * written is what the filter sees (a fragment header makes it
		 * "other", refused like any unknown protocol would be). */
		o->proto = p[6];
		o->l3_len = 40;
		o->total_len = (uint16_t)(40 + pl);
		memcpy(o->src, p + 8, 16);
		memcpy(o->dst, p + 24, 16);
		o->first_frag = true;
		parse_l4(p + 40, pl, o);
		return true;
	}
	return false;
}

uint32_t sle_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *b = data;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

uint16_t sle_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint32_t sle_csum_pseudo(int family, const uint8_t *src, const uint8_t *dst,
			 uint8_t proto, uint32_t len)
{
	size_t alen = family == 4 ? 4 : 16;
	uint32_t sum = 0;

	sum = sle_csum_add(sum, src, alen);
	sum = sle_csum_add(sum, dst, alen);
	sum += proto;
	sum += len >> 16;
	sum += len & 0xffff;
	return sum;
}
