// SPDX-License-Identifier: MIT
/*
 * Where a peer's authenticated messages may come from: the plugin's say
 * (the stream listener binds each stream to one user's peer), asked by
 * the receive path before a message changes the peer's endpoint.
 */
#include "wg.h"

bool wg_device_peer_ok(struct wg_device *d, const struct wg_peer *p,
		       const struct sockaddr_storage *from)
{
	if (!d->ops.peer_ok || d->ops.peer_ok(d->ops.arg, p, from))
		return true;
	wg_device_count_drop(d, WG_DROP_WRONG_SOURCE);
	return false;
}
