/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "reject.h"

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

void sle_ip4_csum(uint8_t *ip, size_t hl)
{
	ip[10] = ip[11] = 0;
	wr16(ip + 10, sle_csum_fold(sle_csum_add(0, ip, hl)));
}

static void ip4_header(uint8_t *ip, const uint8_t src[4], const uint8_t dst[4],
		       uint8_t proto, uint16_t total)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	wr16(ip + 2, total);
	ip[6] = 0x40; /* DF */
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	sle_ip4_csum(ip, 20);
}

static void ip6_header(uint8_t *ip, const uint8_t src[16],
		       const uint8_t dst[16], uint8_t proto, uint16_t payload)
{
	memset(ip, 0, 40);
	ip[0] = 0x60;
	wr16(ip + 4, payload);
	ip[6] = proto;
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

size_t sle_tcp_segment(uint8_t *out, int family, const uint8_t *src,
		       uint16_t sport, const uint8_t *dst, uint16_t dport,
		       uint32_t seq, uint32_t ack, uint8_t flags)
{
	size_t hl = family == 6 ? 40 : 20;
	uint8_t *t = out + hl;
	uint32_t sum;

	if (family == 6)
		ip6_header(out, src, dst, SLE_PROTO_TCP, 20);
	else
		ip4_header(out, src, dst, SLE_PROTO_TCP, 40);
	memset(t, 0, 20);
	wr16(t, sport);
	wr16(t + 2, dport);
	wr32(t + 4, seq);
	wr32(t + 8, ack);
	t[12] = 5 << 4;
	t[13] = flags;
	sum = sle_csum_pseudo(family, src, dst, SLE_PROTO_TCP, 20);
	wr16(t + 16, sle_csum_fold(sle_csum_add(sum, t, 20)));
	return hl + 20;
}

static size_t tcp_rst(const struct sle_pkt_info *pi, uint8_t *out)
{
	uint32_t seq = 0, ack = 0;
	uint8_t flags = SLE_TCP_RST;

	if (pi->tcp_flags & SLE_TCP_ACK) {
		seq = pi->tcp_ack;
	} else {
		/* RFC 9293: ACK everything the refused segment occupied. */
		ack = pi->tcp_seq + pi->payload_len +
		      !!(pi->tcp_flags & SLE_TCP_SYN) +
		      !!(pi->tcp_flags & SLE_TCP_FIN);
		flags |= SLE_TCP_ACK;
	}
	return sle_tcp_segment(out, pi->family, pi->dst, pi->dport, pi->src,
			       pi->sport, seq, ack, flags);
}

static size_t icmp_prohibited(const uint8_t *p, const struct sle_pkt_info *pi,
			      uint8_t *out)
{
	size_t quote = (size_t)pi->l3_len + 8;
	uint8_t *ic = out + 20;

	if (quote > pi->total_len)
		quote = pi->total_len;
	if (20 + 8 + quote > SLE_REJECT_MAX)
		quote = SLE_REJECT_MAX - 28;
	ip4_header(out, pi->dst, pi->src, SLE_PROTO_ICMP,
		   (uint16_t)(28 + quote));
	memset(ic, 0, 8);
	ic[0] = 3;  /* destination unreachable */
	ic[1] = 13; /* communication administratively prohibited */
	memcpy(ic + 8, p, quote);
	wr16(ic + 2, sle_csum_fold(sle_csum_add(0, ic, 8 + quote)));
	return 28 + quote;
}

/* ICMPv6 destination unreachable, administratively prohibited (RFC 4443),
 * quoting as much of the packet as fits. */
static size_t icmp6_prohibited(const uint8_t *p, const struct sle_pkt_info *pi,
			       uint8_t *out)
{
	size_t quote = pi->total_len;
	uint8_t *ic = out + 40;
	uint32_t sum;

	if (40 + 8 + quote > SLE_REJECT_MAX)
		quote = SLE_REJECT_MAX - 48;
	ip6_header(out, pi->dst, pi->src, SLE_PROTO_ICMP6,
		   (uint16_t)(8 + quote));
	memset(ic, 0, 8);
	ic[0] = 1; /* destination unreachable */
	ic[1] = 1; /* communication administratively prohibited */
	memcpy(ic + 8, p, quote);
	sum = sle_csum_pseudo(6, out + 8, out + 24, SLE_PROTO_ICMP6,
			      (uint32_t)(8 + quote));
	wr16(ic + 2, sle_csum_fold(sle_csum_add(sum, ic, 8 + quote)));
	return 48 + quote;
}

size_t sle_reject_build(const uint8_t *p, const struct sle_pkt_info *pi,
			uint8_t *out)
{
	if (!pi->first_frag)
		return 0;
	if (pi->family == 6) {
		if (pi->proto == SLE_PROTO_TCP)
			return pi->tcp_flags & SLE_TCP_RST ? 0
							   : tcp_rst(pi, out);
		/* never answer an ICMPv6 error (types below 128) */
		if (pi->proto == SLE_PROTO_ICMP6 && pi->icmp_type < 128)
			return 0;
		return icmp6_prohibited(p, pi, out);
	}
	if (pi->family != 4)
		return 0;
	if (pi->proto == SLE_PROTO_TCP) {
		if (pi->tcp_flags & SLE_TCP_RST)
			return 0;
		return tcp_rst(pi, out);
	}
	/* Never answer an ICMP error with another one (RFC 1122). */
	if (pi->proto == SLE_PROTO_ICMP && pi->icmp_type != 8 &&
	    pi->icmp_type != 13 && pi->icmp_type != 15 && pi->icmp_type != 17)
		return 0;
	return icmp_prohibited(p, pi, out);
}
