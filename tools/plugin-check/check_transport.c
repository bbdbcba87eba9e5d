/* SPDX-License-Identifier: MIT */
/*
 * The transport contract (include/evpn/transport.h): every vtable entry,
 * the lifecycle, a bound UDP address, and the peer table as the users
 * service drives it -- the server key and a peer before start, more peers
 * after, an update that disables one, stats of known and unknown peers,
 * removals (twice: NOTFOUND) -- with the count in step throughout. Packets
 * from the egress to unknown peers are dropped, not crashed on.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include <evpn/transport.h>

#include "check.h"

struct tp {
	struct ck *c;
	const struct evpn_transport_ops *o;
	void *self;
	unsigned delivered;
	uint8_t keys[3][EVPN_KEY_LEN];
	struct evpn_cidr ips[3];
};

static void sink(void *self, const struct evpn_pkt_batch *b)
{
	struct tp *t = self;

	t->delivered += b->n;
}

static void peer_cfg(struct tp *t, int i, bool enabled,
		     struct evpn_peer_config *pc, char *id, size_t idlen)
{
	snprintf(id, idlen, "check-peer-%d", i);
	memset(pc, 0, sizeof(*pc));
	pc->size = sizeof(*pc);
	memcpy(pc->public_key, t->keys[i], EVPN_KEY_LEN);
	pc->id = id;
	t->ips[i] = (struct evpn_cidr){.family = AF_INET, .prefix = 32};
	t->ips[i].addr[0] = 10;
	t->ips[i].addr[1] = 77;
	t->ips[i].addr[3] = (uint8_t)(2 + i);
	pc->allowed_ips = &t->ips[i];
	pc->n_allowed_ips = 1;
	pc->enabled = enabled;
}

static int upsert(struct tp *t, int i, bool enabled)
{
	struct evpn_peer_config pc;
	char id[32];

	peer_cfg(t, i, enabled, &pc, id, sizeof(id));
	return t->o->peer_upsert(t->self, &pc);
}

static void bound(struct tp *t)
{
	struct ck *c = t->c;
	struct sockaddr_storage ss;
	uint16_t port = 0;
	int rc, fd;

	if (t->o->size < offsetof(struct evpn_transport_ops, bound_address) +
				 sizeof(void *) ||
	    !t->o->bound_address) {
		ck_skip(c, "bound_address: not provided");
		return;
	}
	memset(&ss, 0, sizeof(ss));
	rc = t->o->bound_address(t->self, &ss);
	if (ss.ss_family == AF_INET)
		port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	if (!ck_ok(c, rc == EVPN_OK && port != 0,
		   "bound_address: a UDP address with a port (rc %d, port %u)",
		   rc, port))
		return;
	/* Junk to the port: no crash, no packet toward the egress. */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd >= 0 && ss.ss_family == AF_INET) {
		struct sockaddr_in to = {.sin_family = AF_INET,
					 .sin_port = htons(port)};
		char junk[148];

		to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		randombytes_buf(junk, sizeof(junk));
		junk[0] = 1; /* looks like a handshake initiation */
		junk[1] = junk[2] = junk[3] = 0;
		for (int i = 0; i < 20; i++)
			if (sendto(fd, junk, sizeof(junk), 0,
				   (struct sockaddr *)&to, sizeof(to)) < 0)
				break;
		ck_run_until(c, 0.2, NULL, NULL);
		ck_ok(c, t->delivered == 0,
		      "junk datagrams to the port are dropped (%u packets "
		      "reached the egress)",
		      t->delivered);
	}
	if (fd >= 0)
		close(fd);
}

static void peers(struct tp *t)
{
	struct ck *c = t->c;
	struct evpn_peer_stats st;
	uint8_t unknown[EVPN_KEY_LEN];
	int rc;

	for (int i = 1; i < 3; i++)
		ck_rc(c, upsert(t, i, true), EVPN_OK,
		      "peer_upsert: peer %d after start", i);
	ck_ok(c, t->o->peer_count(t->self) == 3,
	      "peer_count: 3 after three upserts (got %u)",
	      t->o->peer_count(t->self));
	ck_rc(c, upsert(t, 1, false), EVPN_OK,
	      "peer_upsert: an update that disables a peer");
	ck_ok(c, t->o->peer_count(t->self) == 3,
	      "peer_count: an update adds no peer (got %u)",
	      t->o->peer_count(t->self));
	memset(&st, 0xA5, sizeof(st));
	st.size = sizeof(st);
	rc = t->o->peer_stats(t->self, t->keys[0], &st);
	ck_ok(c,
	      rc == EVPN_OK && st.last_handshake_sec == 0 && st.rx_bytes == 0 &&
		      st.tx_bytes == 0,
	      "peer_stats: a known peer, never seen: OK with zeroes (rc %d)",
	      rc);
	randombytes_buf(unknown, sizeof(unknown));
	st.size = sizeof(st);
	ck_rc(c, t->o->peer_stats(t->self, unknown, &st), EVPN_ERR_NOTFOUND,
	      "peer_stats: an unknown key is NOTFOUND");
	ck_rc(c, t->o->peer_remove(t->self, t->keys[2]), EVPN_OK,
	      "peer_remove: a peer");
	ck_ok(c, t->o->peer_count(t->self) == 2,
	      "peer_count: 2 after a removal (got %u)",
	      t->o->peer_count(t->self));
	ck_rc(c, t->o->peer_remove(t->self, t->keys[2]), EVPN_ERR_NOTFOUND,
	      "peer_remove: twice: the second is NOTFOUND");
	st.size = sizeof(st);
	ck_rc(c, t->o->peer_stats(t->self, t->keys[2], &st), EVPN_ERR_NOTFOUND,
	      "peer_stats: a removed peer is NOTFOUND");
	ck_rc(c, upsert(t, 2, true), EVPN_OK,
	      "peer_upsert: a removed peer again");
	{
		/* A packet from the egress toward a peer without a session,
		 * and one toward no peer at all: dropped. */
		uint8_t ip[2][28];
		struct evpn_pkt p[2];
		struct evpn_pkt_batch b = {p, 2};

		for (int i = 0; i < 2; i++) {
			memset(ip[i], 0, sizeof(ip[i]));
			ip[i][0] = 0x45;
			ip[i][3] = sizeof(ip[i]);
			ip[i][8] = 64;
			ip[i][9] = 17;
			memcpy(ip[i] + 12, (uint8_t[]){10, 77, 0, 1}, 4);
			memcpy(ip[i] + 16, (uint8_t[]){10, 77, 0, 2}, 4);
			p[i] = (struct evpn_pkt){ip[i], sizeof(ip[i]),
						 sizeof(ip[i]), 0, 0};
		}
		ip[1][19] = 200;
		t->o->send(t->self, &b);
		b.n = 0;
		t->o->send(t->self, &b);
		ck_run_until(c, 0.05, NULL, NULL);
		ck_ok(c, true,
		      "send: packets to a peer without a session, to no peer, "
		      "and an empty batch are dropped");
	}
	for (int i = 0; i < 3; i++)
		ck_rc(c, t->o->peer_remove(t->self, t->keys[i]), EVPN_OK,
		      "peer_remove: peer %d", i);
	ck_ok(c, t->o->peer_count(t->self) == 0,
	      "peer_count: 0 after removing every peer (got %u)",
	      t->o->peer_count(t->self));
}

void ck_transport(struct ck *c)
{
	static const char *const names[] = {"attach",	       "send",
					    "set_private_key", "peer_upsert",
					    "peer_remove",     "peer_stats",
					    "peer_count",      "bound_address"};
	struct tp t = {.c = c, .o = c->pi.desc->vtable};
	struct evpn_sink s = {.self = &t, .deliver = sink};
	uint8_t priv[EVPN_KEY_LEN], pub[EVPN_KEY_LEN];
	int rc;

	ck_vtable_entries(c, names, 8, 7);
	if (c->failed)
		return;
	for (int i = 0; i < 3; i++)
		crypto_box_keypair(t.keys[i], priv);
	crypto_box_keypair(pub, priv);
	{
		char b64[sodium_base64_ENCODED_LEN(
			EVPN_KEY_LEN, sodium_base64_VARIANT_ORIGINAL)];
		char hex[2 * EVPN_KEY_LEN + 1];

		sodium_bin2base64(b64, sizeof(b64), priv, EVPN_KEY_LEN,
				  sodium_base64_VARIANT_ORIGINAL);
		sodium_bin2hex(hex, sizeof(hex), priv, EVPN_KEY_LEN);
		ck_secret(b64);
		ck_secret(hex);
		sodium_memzero(b64, sizeof(b64));
		sodium_memzero(hex, sizeof(hex));
	}
	rc = ck_create(c, NULL, &t.self);
	if (!ck_rc(c, rc, EVPN_OK, "create succeeds"))
		goto out;
	ck_rc(c, t.o->attach(t.self, &s), EVPN_OK, "attach: the egress sink");
	ck_rc(c, t.o->set_private_key(t.self, priv), EVPN_OK,
	      "set_private_key before start");
	ck_rc(c, upsert(&t, 0, true), EVPN_OK,
	      "peer_upsert: a peer before start");
	rc = ck_start(c, t.self);
	if (ck_rc(c, rc, EVPN_OK, "start succeeds")) {
		ck_ok(c, t.o->peer_count(t.self) == 1,
		      "peer_count: the peer added before start is there (got "
		      "%u)",
		      t.o->peer_count(t.self));
		bound(&t);
		peers(&t);
		ck_rc(c, t.o->set_private_key(t.self, pub), EVPN_OK,
		      "set_private_key again while running (a new identity)");
		ck_stop(c, t.self);
	}
	ck_destroy(c, t.self);
	ck_lifecycle(c);
out:
	sodium_memzero(priv, sizeof(priv));
}
