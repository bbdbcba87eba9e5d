/* SPDX-License-Identifier: MIT */
/* Opening and configuring a Linux TUN device (IFF_TUN | IFF_NO_PI). */
#ifndef EVPN_RAW_TUN_H
#define EVPN_RAW_TUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open (create) the device; name in/out. Returns the fd or -errno; on
 * failure err says what to do about it (missing /dev/net/tun, privilege).
 * *offload in: ask for IFF_VNET_HDR + checksum/TSO offloads; out: whether
 * every read and write carries a struct virtio_net_hdr. */
int tun_open(char name[16], bool *offload, char *err, size_t errlen);
/* Set an IPv4 address/prefix and MTU and bring the link up. */
int tun_configure(const char *name, uint32_t addr_be, unsigned prefix,
		  unsigned mtu, char *err, size_t errlen);
/* Add an IPv6 address/prefix (the prefix route comes with it). */
int tun_configure6(const char *name, const uint8_t addr[16], unsigned prefix,
		   char *err, size_t errlen);

#endif
