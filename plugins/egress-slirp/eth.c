/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "eth.h"
#include "pkt.h"

void sle_fake_mac(const uint8_t ip[4], uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x45;
	memcpy(mac + 2, ip, 4);
}

void sle_eth_header(uint8_t *frame, const uint8_t dst[6], const uint8_t src[6],
		    uint16_t type)
{
	memcpy(frame, dst, 6);
	memcpy(frame + 6, src, 6);
	frame[12] = (uint8_t)(type >> 8);
	frame[13] = (uint8_t)type;
}

uint16_t sle_eth_type(const uint8_t *frame)
{
	return (uint16_t)(frame[12] << 8 | frame[13]);
}

bool sle_arp_answer(const uint8_t *frame, size_t len, uint8_t *reply,
		    uint8_t target[4])
{
	const uint8_t *a = frame + SLE_ETH_HLEN;
	uint8_t *r = reply + SLE_ETH_HLEN;
	uint8_t mac[6];

	/* Ethernet/IPv4 ARP request: htype 1, ptype 0x0800, 6, 4, op 1 */
	if (len < SLE_ARP_FRAME_LEN || sle_eth_type(frame) != SLE_ETH_P_ARP ||
	    a[0] != 0 || a[1] != 1 || a[2] != 0x08 || a[3] != 0 || a[4] != 6 ||
	    a[5] != 4 || a[6] != 0 || a[7] != 1)
		return false;
	memcpy(target, a + 24, 4);
	sle_fake_mac(target, mac);
	sle_eth_header(reply, a + 8, mac, SLE_ETH_P_ARP);
	memcpy(r, a, 6);
	r[6] = 0;
	r[7] = 2;		   /* reply */
	memcpy(r + 8, mac, 6);	   /* sender MAC: the client's fake one */
	memcpy(r + 14, target, 4); /* sender IP: the client */
	memcpy(r + 18, a + 8, 6);  /* target MAC: slirp */
	memcpy(r + 24, a + 14, 4); /* target IP: slirp */
	return true;
}

bool sle_ndp_answer(const uint8_t *frame, size_t len, uint8_t *reply)
{
	const uint8_t *ip = frame + SLE_ETH_HLEN, *ns = ip + 40;
	uint8_t *r = reply + SLE_ETH_HLEN, *na = r + 40, mac[6];
	uint32_t sum;
	uint16_t c;
	int i;

	/* IPv6, ICMPv6 (no extension header), hop limit 255, type 135 code 0,
	 * at least the 24-byte body with the target */
	if (len < SLE_ETH_HLEN + 40 + 24 ||
	    sle_eth_type(frame) != SLE_ETH_P_IPV6 || ip[0] >> 4 != 6 ||
	    ip[6] != SLE_PROTO_ICMP6 || ip[7] != 255 || ns[0] != 135 ||
	    ns[1] != 0 || ns[8] == 0xff)
		return false;
	/* from :: it is duplicate address detection of slirp's own
	 * address: not a question about a client */
	for (i = 0; i < 16 && !ip[8 + i]; i++)
		;
	if (i == 16)
		return false;
	sle_fake_mac(ns + 8 + 12, mac);
	sle_eth_header(reply, frame + 6, mac, SLE_ETH_P_IPV6);
	memset(r, 0, 40 + 32);
	r[0] = 0x60;
	r[5] = 32; /* payload length */
	r[6] = SLE_PROTO_ICMP6;
	r[7] = 255;
	memcpy(r + 8, ns + 8, 16);  /* from the target (the client) */
	memcpy(r + 24, ip + 8, 16); /* to the soliciting address (slirp) */
	na[0] = 136;		    /* neighbour advertisement */
	na[4] = 0x60;		    /* solicited, override */
	memcpy(na + 8, ns + 8, 16); /* target */
	na[24] = 2;		    /* option: target link-layer address */
	na[25] = 1;		    /* 8 bytes */
	memcpy(na + 26, mac, 6);
	sum = sle_csum_pseudo(6, r + 8, r + 24, SLE_PROTO_ICMP6, 32);
	c = sle_csum_fold(sle_csum_add(sum, na, 32));
	na[2] = (uint8_t)(c >> 8);
	na[3] = (uint8_t)c;
	return true;
}
