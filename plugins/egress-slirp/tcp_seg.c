/* SPDX-License-Identifier: MIT */
/* TCP segments of the relay: header and options parsed, segments built,
 * window fields scaled. Pure functions (unit-tested, fuzzed). */
#include <string.h>

#include "reject.h"
#include "tcp.h"

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, (uint16_t)(v >> 16));
	wr16(p + 2, (uint16_t)v);
}

/* RFC 9293 options: kind 0 ends, 1 pads, others carry a length >= 2.
 * A malformed list ends the walk (what was read so far stays). */
static void parse_opts(const uint8_t *o, size_t n, struct sle_tcp_opts *out)
{
	size_t i = 0;

	while (i < n) {
		uint8_t kind = o[i], len;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= n)
			break;
		len = o[i + 1];
		if (len < 2 || i + len > n)
			break;
		switch (kind) {
		case 2:
			if (len == 4)
				out->mss = rd16(o + i + 2);
			break;
		case 3:
			if (len == 3)
				out->wscale =
					(int8_t)(o[i + 2] > 14 ? 14 : o[i + 2]);
			break;
		case 4:
			if (len == 2)
				out->sack_ok = true;
			break;
		case 5:
			if (len >= 10 && (len - 2) % 8 == 0) {
				uint8_t k = (uint8_t)((len - 2) / 8);

				for (uint8_t j = 0;
				     j < k && out->nsack < SLE_TCP_SACK_BLOCKS;
				     j++) {
					out->sack[out->nsack].s =
						rd32(o + i + 2 + 8 * j);
					out->sack[out->nsack].e =
						rd32(o + i + 6 + 8 * j);
					out->nsack++;
				}
			}
			break;
		default: break;
		}
		i += len;
	}
}

bool sle_tcp_seg_parse(const uint8_t *ip, const struct sle_pkt_info *pi,
		       struct sle_tcp_seg *out)
{
	const uint8_t *t = ip + pi->l3_len;
	size_t avail, hl;

	memset(out, 0, sizeof(*out));
	out->opt.wscale = -1;
	if (pi->proto != SLE_PROTO_TCP || !pi->first_frag ||
	    pi->total_len < pi->l3_len)
		return false;
	avail = (size_t)pi->total_len - pi->l3_len;
	if (avail < 20)
		return false;
	hl = (size_t)(t[12] >> 4) * 4;
	if (hl < 20 || hl > avail)
		return false;
	out->seq = rd32(t + 4);
	out->ack = rd32(t + 8);
	out->flags = t[13];
	out->wnd = rd16(t + 14);
	out->payload = t + hl;
	out->len = (uint32_t)(avail - hl);
	parse_opts(t + 20, hl - 20, &out->opt);
	return true;
}

size_t sle_tcp_build(uint8_t *out, int family, const uint8_t *src,
		     uint16_t sport, const uint8_t *dst, uint16_t dport,
		     uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		     const struct sle_tcp_opts *opt, const uint8_t *payload,
		     size_t plen)
{
	size_t l3 = family == 6 ? 40 : 20, ol = 0, tl;
	uint8_t *t = out + l3, *o = t + 20;
	uint32_t sum;

	if (opt) {
		if (opt->mss) {
			o[ol++] = 2, o[ol++] = 4;
			wr16(o + ol, opt->mss);
			ol += 2;
		}
		if (opt->wscale >= 0) {
			o[ol++] = 1, o[ol++] = 3, o[ol++] = 3;
			o[ol++] = (uint8_t)opt->wscale;
		}
		if (opt->sack_ok)
			o[ol++] = 1, o[ol++] = 1, o[ol++] = 4, o[ol++] = 2;
		if (opt->nsack) {
			uint8_t k = opt->nsack > SLE_TCP_SACK_BLOCKS
					    ? SLE_TCP_SACK_BLOCKS
					    : opt->nsack;

			o[ol++] = 1, o[ol++] = 1, o[ol++] = 5;
			o[ol++] = (uint8_t)(2 + 8 * k);
			for (uint8_t j = 0; j < k; j++) {
				wr32(o + ol, opt->sack[j].s);
				wr32(o + ol + 4, opt->sack[j].e);
				ol += 8;
			}
		}
	}
	tl = 20 + ol + plen;
	if (family == 6) {
		memset(out, 0, 40);
		out[0] = 0x60;
		wr16(out + 4, (uint16_t)tl);
		out[6] = SLE_PROTO_TCP;
		out[7] = 64;
		memcpy(out + 8, src, 16);
		memcpy(out + 24, dst, 16);
	} else {
		memset(out, 0, 20);
		out[0] = 0x45;
		wr16(out + 2, (uint16_t)(20 + tl));
		out[6] = 0x40; /* DF */
		out[8] = 64;
		out[9] = SLE_PROTO_TCP;
		memcpy(out + 12, src, 4);
		memcpy(out + 16, dst, 4);
		sle_ip4_csum(out, 20);
	}
	wr16(t, sport);
	wr16(t + 2, dport);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = (uint8_t)(((20 + ol) / 4) << 4);
	t[13] = flags;
	wr16(t + 14, wnd);
	t[16] = t[17] = t[18] = t[19] = 0;
	if (plen)
		memmove(o + ol, payload, plen);
	sum = sle_csum_pseudo(family, src, dst, SLE_PROTO_TCP, (uint32_t)tl);
	wr16(t + 16, sle_csum_fold(sle_csum_add(sum, t, tl)));
	return l3 + tl;
}

uint16_t sle_tcp_wnd_field(uint32_t wnd, uint8_t shift)
{
	uint32_t v = wnd >> shift;

	return (uint16_t)(v > 65535 ? 65535 : v);
}
