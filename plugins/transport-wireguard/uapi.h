/* SPDX-License-Identifier: MIT */
/*
 * The cross-platform WireGuard configuration protocol
 * (wireguard.com/xplatform): request parsing and the `get=1` answer. The
 * socket handling lives in the plugin glue.
 */
#ifndef WG_UAPI_H
#define WG_UAPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wg.h"

enum wg_uapi_op {
	WG_UAPI_INCOMPLETE = 0, /* no blank line yet */
	WG_UAPI_GET,
	WG_UAPI_SET,
	WG_UAPI_INVALID,
};

/* Classify a request buffer: a request ends with an empty line. */
enum wg_uapi_op wg_uapi_parse(const char *buf, size_t len);
/* The full answer to get=1, "errno=0\n\n" included; malloc'd (wipe it:
 * it may hold the private key). The private_key line only when asked. */
char *wg_uapi_get(struct wg_device *d, uint16_t listen_port,
		  bool with_private_key, size_t *len);
/* Text of a sockaddr as WireGuard prints it ("1.2.3.4:5", "[::1]:5"). */
/* addr: a struct sockaddr_storage or union wg_endpoint */
void wg_format_endpoint(char *out, size_t n, const void *addr);

#endif
