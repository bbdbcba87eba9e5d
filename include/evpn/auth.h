/* SPDX-License-Identifier: MIT */
/*
 * auth: turns a request's credentials into a principal.
 *
 * Threading: thread-safe; called from API worker threads.
 */
#ifndef EVPN_AUTH_H
#define EVPN_AUTH_H

#include "plugin.h"

#ifdef __cplusplus
extern "C" {
#endif

enum evpn_role {
	EVPN_ROLE_NONE = 0,
	EVPN_ROLE_ADMIN = 1, /* the master key */
	EVPN_ROLE_USER = 2,  /* one user's key */
};

struct evpn_principal {
	enum evpn_role role;
	char user[64]; /* client_id when role == EVPN_ROLE_USER */
};

struct evpn_auth_ops {
	uint32_t size;
	/*
	 * authorization: the raw Authorization header value (may be NULL);
	 * remote: the client address as text (for throttling).
	 * Returns EVPN_OK and fills *out; EVPN_ERR_PERM for a missing or
	 * unknown credential (HTTP 401); EVPN_ERR_AGAIN when this address is
	 * throttled, with *retry_after seconds (HTTP 429); EVPN_ERR_UNAVAILABLE
	 * when the credential cannot be checked (store down: HTTP 503).
	 */
	int (*authenticate)(void *self, const char *authorization,
			    const char *remote, struct evpn_principal *out,
			    unsigned *retry_after) EVPN_WUR;
};

#ifdef __cplusplus
}
#endif
#endif /* EVPN_AUTH_H */
