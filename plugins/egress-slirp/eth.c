/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "eth.h"

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
