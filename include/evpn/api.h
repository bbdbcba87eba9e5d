/* SPDX-License-Identifier: MIT */
/*
 * api: a management front end (HTTP for civetweb-rest). It serves requests
 * on its own threads and reaches the rest of evpn only through the users
 * service (users.h) and the auth plugin, both thread-safe.
 */
#ifndef EVPN_API_H
#define EVPN_API_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

struct evpn_api_ops {
	uint32_t size;
	/* The address actually bound ("127.0.0.1:8000"), useful when the
	 * config asked for port 0. Writes a NUL-terminated string. */
	int (*bound_address)(void *self, char *buf, size_t len);
};

#ifdef __cplusplus
}
#endif
#endif /* EVPN_API_H */
