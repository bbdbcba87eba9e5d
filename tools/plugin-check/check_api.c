/* SPDX-License-Identifier: MIT */
/*
 * The api contract (include/evpn/api.h): the lifecycle with the users
 * service and an auth plugin in place (the checker's own), the address it
 * reports as bound actually accepts connections while started, and no
 * longer once stopped.
 */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <evpn/api.h>

#include "check.h"

/* Connect to "host:port" / "[v6]:port": 1 accepted, 0 refused, -1 bad. */
static int try_connect(const char *addr)
{
	char host[128], *colon;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	int fd, ok;

	snprintf(host, sizeof(host), "%s", addr[0] == '[' ? addr + 1 : addr);
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = '\0';
	if (colon > host && colon[-1] == ']')
		colon[-1] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
		return -1;
	fd = socket(ai->ai_family, SOCK_STREAM, 0);
	ok = fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0;
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return ok;
}

void ck_api(struct ck *c)
{
	static const char *const names[] = {"bound_address"};
	const struct evpn_api_ops *o = c->pi.desc->vtable;
	char addr[256] = "";
	void *self;
	int rc;

	ck_vtable_entries(c, names, 1, 0);
	if (c->failed)
		return;
	rc = ck_users_up(c);
	if (!ck_rc(c, rc, EVPN_OK,
		   "users service and auth on the checker's "
		   "store"))
		return;
	rc = ck_create(c, NULL, &self);
	if (!ck_rc(c, rc, EVPN_OK, "create succeeds"))
		return;
	rc = ck_start(c, self);
	if (ck_rc(c, rc, EVPN_OK, "start succeeds")) {
		if (o->size >= offsetof(struct evpn_api_ops, bound_address) +
				       sizeof(void *) &&
		    o->bound_address) {
			rc = o->bound_address(self, addr, sizeof(addr));
			ck_ok(c, rc == EVPN_OK && strchr(addr, ':'),
			      "bound_address: host:port (rc %d, '%s')", rc,
			      addr);
			ck_ok(c, try_connect(addr) == 1,
			      "the bound address accepts a connection");
		} else {
			ck_skip(c, "bound_address: not provided");
		}
		ck_stop(c, self);
		if (addr[0])
			ck_ok(c, try_connect(addr) == 0,
			      "after stop the address no longer accepts");
	}
	ck_destroy(c, self);
	ck_lifecycle(c);
}
