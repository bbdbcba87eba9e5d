// SPDX-License-Identifier: MIT
/*
 * Two WireGuard devices of our own talking in memory: handshake both ways,
 * data both ways, replay and timestamp-replay rejection, allowed-IPs source
 * check, cookies under load, PSK, peer removal/disable, padding, timers
 * (keepalive, rekey, expiry with the server as initiator).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>

#include <arpa/inet.h>

#include "wg.h"

/* ---- a fake wire and clock ---- */
static double now_s = 1000.0;

struct dgram {
	int from; /* device number */
	struct sockaddr_storage to;
	uint32_t len;
	uint8_t data[WG_BUF_SIZE];
};

#define WIRE_MAX 256
static struct dgram wire[WIRE_MAX];
static unsigned wire_n;
static struct dgram last_data[2]; /* last data message each side sent */
static struct dgram last_init[2];

struct node {
	int num;
	struct wg_device dev;
	struct sockaddr_storage addr;
	uint8_t priv[32], pub[32];
	/* decrypted packets received */
	unsigned n_rx;
	uint8_t rx[8][WG_BUF_SIZE];
	uint32_t rx_len[8];
	uint32_t rx_peer[8];
	unsigned released; /* packets a rate limit held back, then let go */
};
static struct node nodes[2];

static void fake_deliver(void *arg, struct evpn_pkt *pkt)
{
	struct node *n = arg;

	assert_true(pkt->len == 1400 && pkt->peer != 0);
	n->released++;
}

static double fake_now(void *arg)
{
	return now_s;
}

static void fake_wall(void *arg, struct timespec *ts)
{
	ts->tv_sec = 1700000000 + (time_t)now_s;
	ts->tv_nsec = (long)((now_s - (double)(time_t)now_s) * 1e9);
}

static void fake_flush(void *arg, struct wg_txslot *s, unsigned n)
{
	struct node *me = arg;
	unsigned i;
	uint32_t type;

	for (i = 0; i < n; i++) {
		assert_true(wire_n < WIRE_MAX);
		wire[wire_n].from = me->num;
		wire[wire_n].to = s[i].to;
		wire[wire_n].len = s[i].len;
		memcpy(wire[wire_n].data, s[i].data, s[i].len);
		memcpy(&type, s[i].data, 4);
		if (type == WG_MSG_DATA)
			last_data[me->num] = wire[wire_n];
		if (type == WG_MSG_INITIATION)
			last_init[me->num] = wire[wire_n];
		wire_n++;
	}
}

static void set_addr(struct sockaddr_storage *ss, const char *ip, int port)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	s->sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, ip, &s->sin_addr);
}

static struct node *node_at(const struct sockaddr_storage *to)
{
	int i;

	for (i = 0; i < 2; i++)
		if (!memcmp(&((struct sockaddr_in *)to)->sin_addr,
			    &((struct sockaddr_in *)&nodes[i].addr)->sin_addr,
			    4))
			return &nodes[i];
	return NULL;
}

static void deliver(struct node *to, int from, uint8_t *data, uint32_t len)
{
	static uint8_t buf[4096];
	struct evpn_pkt out;

	memcpy(buf, data, len);
	if (wg_device_rx(&to->dev, buf, len, sizeof(buf), &nodes[from].addr,
			 &out)) {
		assert_true(to->n_rx < 8);
		memcpy(to->rx[to->n_rx], out.data, out.len);
		to->rx_len[to->n_rx] = out.len;
		to->rx_peer[to->n_rx] = out.peer;
		to->n_rx++;
	}
	wg_device_flush(&to->dev);
}

/* Run the wire until it is quiet; returns datagrams moved. */
static unsigned pump(void)
{
	unsigned moved = 0;
	struct dgram d;

	while (wire_n) {
		d = wire[0];
		memmove(wire, wire + 1, (wire_n - 1) * sizeof(wire[0]));
		wire_n--;
		deliver(node_at(&d.to), d.from, d.data, d.len);
		moved++;
	}
	return moved;
}

static size_t ip4(uint8_t *p, const char *src, const char *dst, size_t payload)
{
	size_t len = 20 + payload, i;

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = 17;
	inet_pton(AF_INET, src, p + 12);
	inet_pton(AF_INET, dst, p + 16);
	for (i = 0; i < payload; i++)
		p[20 + i] = (uint8_t)(i * 7);
	return len;
}

static struct evpn_cidr cidr4(const char *ip, int prefix)
{
	struct evpn_cidr c = {.family = AF_INET, .prefix = (uint8_t)prefix};

	inet_pton(AF_INET, ip, c.addr);
	return c;
}

/* node 0 = client 10.0.0.2 (knows the server's endpoint), node 1 = server
 * 10.0.0.1 (learns the client's endpoint from its handshake). */
static void setup_pair(const uint8_t *psk0, const uint8_t *psk1,
		       bool force_load)
{
	struct wg_device_config cfg = {.mtu = 1420,
				       .handshake_load_threshold = 1000,
				       .ratelimit_per_source = 20,
				       .ratelimit_burst = 5};
	struct evpn_peer_config pc;
	struct evpn_cidr c0, c1;
	int i;

	wire_n = 0;
	memset(last_data, 0, sizeof(last_data));
	for (i = 0; i < 2; i++) {
		struct wg_device_ops ops = {.arg = &nodes[i],
					    .flush = fake_flush,
					    .now = fake_now,
					    .walltime = fake_wall,
					    .deliver = fake_deliver};

		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].num = i;
		cfg.force_under_load = force_load && i == 1;
		assert_int_equal(wg_device_init(&nodes[i].dev, &ops, &cfg), 0);
		wg_genkey(nodes[i].priv);
		wg_pubkey(nodes[i].pub, nodes[i].priv);
		assert_int_equal(
			wg_device_set_private_key(&nodes[i].dev, nodes[i].priv),
			0);
	}
	set_addr(&nodes[0].addr, "192.0.2.1", 40000);
	set_addr(&nodes[1].addr, "192.0.2.2", 51820);

	/* client's view of the server: everything routes to it */
	c0 = cidr4("0.0.0.0", 0);
	memset(&pc, 0, sizeof(pc));
	pc.size = sizeof(pc);
	memcpy(pc.public_key, nodes[1].pub, 32);
	if (psk0)
		memcpy(pc.preshared_key, psk0, 32);
	pc.allowed_ips = &c0;
	pc.n_allowed_ips = 1;
	pc.enabled = true;
	pc.endpoint = nodes[1].addr;
	assert_int_equal(wg_device_peer_upsert(&nodes[0].dev, &pc), 0);

	/* server's view of the client: 10.0.0.2/32, endpoint unknown */
	c1 = cidr4("10.0.0.2", 32);
	memset(&pc, 0, sizeof(pc));
	pc.size = sizeof(pc);
	memcpy(pc.public_key, nodes[0].pub, 32);
	if (psk1)
		memcpy(pc.preshared_key, psk1, 32);
	pc.id = "client";
	pc.allowed_ips = &c1;
	pc.n_allowed_ips = 1;
	pc.enabled = true;
	assert_int_equal(wg_device_peer_upsert(&nodes[1].dev, &pc), 0);
}

static void teardown_pair(void)
{
	wg_device_destroy(&nodes[0].dev);
	wg_device_destroy(&nodes[1].dev);
}

static void client_send(const char *src, size_t payload)
{
	uint8_t pkt[1500];
	size_t n = ip4(pkt, src, "10.0.0.1", payload);

	wg_device_tx(&nodes[0].dev, pkt, n);
	wg_device_flush(&nodes[0].dev);
}

static void server_send(size_t payload)
{
	uint8_t pkt[1500];
	size_t n = ip4(pkt, "10.0.0.1", "10.0.0.2", payload);

	wg_device_tx(&nodes[1].dev, pkt, n);
	wg_device_flush(&nodes[1].dev);
}

static struct wg_peer *server_peer(void)
{
	return wg_device_peer_find(&nodes[1].dev, nodes[0].pub);
}

static struct wg_peer *client_peer(void)
{
	return wg_device_peer_find(&nodes[0].dev, nodes[1].pub);
}

/* ---- tests ---- */

static void test_handshake_and_data(void **state)
{
	uint8_t expect[1500];
	size_t n;

	setup_pair(NULL, NULL, false);
	client_send("10.0.0.2", 100);
	/* packet staged, initiation on the wire */
	assert_int_equal(wire_n, 1);
	assert_int_equal(wire[0].len, 148);
	assert_int_equal(nodes[0].dev.events[WG_EV_HANDSHAKE_INITIATION_SENT],
			 1);
	pump();
	assert_int_equal(nodes[1].dev.events[WG_EV_HANDSHAKE_RESPONSE_SENT], 1);
	assert_int_equal(nodes[0].dev.events[WG_EV_HANDSHAKE_COMPLETED], 1);
	assert_int_equal(nodes[1].dev.events[WG_EV_HANDSHAKE_COMPLETED], 1);

	/* the staged packet arrived, decrypted and source-checked */
	assert_int_equal(nodes[1].n_rx, 1);
	n = ip4(expect, "10.0.0.2", "10.0.0.1", 100);
	assert_int_equal(nodes[1].rx_len[0], n);
	assert_memory_equal(nodes[1].rx[0], expect, n);
	assert_int_equal(nodes[1].rx_peer[0], server_peer()->handle);
	/* padding to 16: 120 -> 128 + 16 header + 16 tag */
	assert_int_equal(last_data[0].len, 16 + 128 + 16);

	/* server confirmed its session: current, no next */
	assert_non_null(server_peer()->cur);
	assert_null(server_peer()->next);
	assert_int_not_equal(server_peer()->last_handshake.tv_sec, 0);
	/* endpoint learned from the handshake */
	assert_memory_equal(&server_peer()->endpoint, &nodes[0].addr,
			    sizeof(struct sockaddr_in));

	/* server -> client */
	server_send(33);
	pump();
	assert_int_equal(nodes[0].n_rx, 1);
	n = ip4(expect, "10.0.0.1", "10.0.0.2", 33);
	assert_int_equal(nodes[0].rx_len[0], n);
	assert_memory_equal(nodes[0].rx[0], expect, n);
	assert_true(server_peer()->tx_bytes > 0);
	assert_true(server_peer()->rx_bytes > 0);
	teardown_pair();
}

static void test_replays(void **state)
{
	struct dgram d;

	setup_pair(NULL, NULL, false);
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 1);

	/* a captured data packet replayed */
	d = last_data[0];
	deliver(&nodes[1], 0, d.data, d.len);
	assert_int_equal(nodes[1].n_rx, 1);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_REPLAY], 1);

	/* a captured initiation replayed: stale timestamp */
	now_s += 1;
	d = last_init[0];
	deliver(&nodes[1], 0, d.data, d.len);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_STALE_TIMESTAMP], 1);
	assert_int_equal(nodes[1].dev.events[WG_EV_HANDSHAKE_RESPONSE_SENT], 1);
	/* and the session still works */
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 2);
	teardown_pair();
}

static void test_hostile(void **state)
{
	struct dgram d;
	uint8_t junk[200];
	unsigned i;

	setup_pair(NULL, NULL, false);
	client_send("10.0.0.2", 10);
	d = wire[0];
	/* bad mac1 */
	d.data[100] ^= 1;
	deliver(&nodes[1], 0, d.data, d.len);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_BAD_MAC1], 1);
	/* truncated and oversized initiation */
	deliver(&nodes[1], 0, wire[0].data, 147);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_BAD_SIZE], 1);
	/* short, unknown type, unknown index */
	deliver(&nodes[1], 0, junk, 3);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_SHORT], 1);
	memset(junk, 0x77, sizeof(junk));
	deliver(&nodes[1], 0, junk, sizeof(junk));
	assert_int_equal(nodes[1].dev.drops[WG_DROP_BAD_TYPE], 1);
	junk[0] = 4;
	junk[1] = junk[2] = junk[3] = 0;
	deliver(&nodes[1], 0, junk, sizeof(junk));
	assert_int_equal(nodes[1].dev.drops[WG_DROP_UNKNOWN_INDEX], 1);
	/* random garbage of every length never crashes */
	srand(7);
	for (i = 0; i < 5000; i++) {
		size_t len = (size_t)rand() % sizeof(junk), j;

		for (j = 0; j < len; j++)
			junk[j] = (uint8_t)rand();
		if (len >= 4)
			junk[0] = (uint8_t)(1 + rand() % 4);
		if (len >= 4)
			junk[1] = junk[2] = junk[3] = 0;
		deliver(&nodes[1], 0, junk, (uint32_t)len);
	}
	assert_int_equal(nodes[1].n_rx, 0);
	/* the real handshake still succeeds afterwards */
	pump();
	assert_int_equal(nodes[1].n_rx, 1);
	teardown_pair();
}

static void test_allowed_ips_source(void **state)
{
	setup_pair(NULL, NULL, false);
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 1);
	client_send("10.0.0.99", 10); /* spoofed inner source */
	pump();
	assert_int_equal(nodes[1].n_rx, 1);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_ALLOWED_IPS], 1);
	/* server has no peer for 10.9.9.9 */
	{
		uint8_t pkt[100];
		size_t n = ip4(pkt, "10.0.0.1", "10.9.9.9", 10);

		wg_device_tx(&nodes[1].dev, pkt, n);
		assert_int_equal(nodes[1].dev.drops[WG_DROP_NO_PEER], 1);
	}
	teardown_pair();
}

static void test_cookie_under_load(void **state)
{
	setup_pair(NULL, NULL, true);
	client_send("10.0.0.2", 10);
	pump(); /* initiation -> cookie reply -> consumed by the client */
	assert_int_equal(nodes[1].dev.events[WG_EV_COOKIE_SENT], 1);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_COOKIE_SENT], 1);
	assert_true(client_peer()->have_cookie);
	assert_int_equal(nodes[1].n_rx, 0);
	/* the retransmit timer re-sends with mac2, which is accepted */
	now_s += WG_REKEY_TIMEOUT + 0.5;
	wg_device_tick(&nodes[0].dev);
	wg_device_flush(&nodes[0].dev);
	pump();
	assert_int_equal(nodes[1].dev.events[WG_EV_COOKIE_SENT], 1);
	assert_int_equal(nodes[1].n_rx, 1);
	teardown_pair();
}

static void test_psk(void **state)
{
	uint8_t psk[32], other[32];

	memset(psk, 0xaa, sizeof(psk));
	memset(other, 0xbb, sizeof(other));
	setup_pair(psk, psk, false);
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 1);
	teardown_pair();

	setup_pair(psk, other, false);
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 0);
	assert_int_equal(nodes[0].dev.drops[WG_DROP_HANDSHAKE_INVALID], 1);
	teardown_pair();
}

static void test_remove_and_disable(void **state)
{
	struct evpn_peer_config pc;
	struct evpn_cidr c = cidr4("10.0.0.2", 32);

	setup_pair(NULL, NULL, false);
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 1);

	/* disabled: the session stops at once, handshakes refused */
	memset(&pc, 0, sizeof(pc));
	pc.size = sizeof(pc);
	memcpy(pc.public_key, nodes[0].pub, 32);
	pc.allowed_ips = &c;
	pc.n_allowed_ips = 1;
	pc.enabled = false;
	assert_int_equal(wg_device_peer_upsert(&nodes[1].dev, &pc), 0);
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 1);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_UNKNOWN_INDEX], 1);
	now_s += WG_REKEY_TIMEOUT + 1;
	wg_device_initiate(&nodes[0].dev, client_peer());
	wg_device_flush(&nodes[0].dev);
	pump();
	assert_int_equal(nodes[1].dev.drops[WG_DROP_PEER_DISABLED], 1);

	/* re-enabled: works again */
	pc.enabled = true;
	assert_int_equal(wg_device_peer_upsert(&nodes[1].dev, &pc), 0);
	now_s += WG_REKEY_TIMEOUT + 1;
	wg_device_initiate(&nodes[0].dev, client_peer());
	wg_device_flush(&nodes[0].dev);
	pump();
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 2);

	/* removed: gone at once */
	assert_int_equal(wg_device_peer_remove(&nodes[1].dev, nodes[0].pub), 0);
	assert_int_equal(nodes[1].dev.n_peers, 0);
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[1].n_rx, 2);
	assert_int_equal(nodes[1].dev.drops[WG_DROP_UNKNOWN_INDEX], 2);
	now_s += WG_REKEY_TIMEOUT + 1;
	wg_device_initiate(&nodes[0].dev, client_peer());
	wg_device_flush(&nodes[0].dev);
	pump();
	assert_int_equal(nodes[1].dev.drops[WG_DROP_UNKNOWN_PEER], 1);
	assert_int_equal(wg_device_peer_remove(&nodes[1].dev, nodes[0].pub),
			 EVPN_ERR_NOTFOUND);
	teardown_pair();
}

static void tick_both(void)
{
	wg_device_tick(&nodes[0].dev);
	wg_device_flush(&nodes[0].dev);
	wg_device_tick(&nodes[1].dev);
	wg_device_flush(&nodes[1].dev);
	pump();
}

static void test_timers(void **state)
{
	uint64_t ka, inits;

	setup_pair(NULL, NULL, false);
	client_send("10.0.0.2", 10);
	pump();

	/* server got data and sent nothing: keepalive after 10 s */
	ka = nodes[1].dev.events[WG_EV_KEEPALIVE_SENT];
	now_s += WG_KEEPALIVE_TIMEOUT + 0.1;
	tick_both();
	assert_int_equal(nodes[1].dev.events[WG_EV_KEEPALIVE_SENT], ka + 1);

	/* client sends after REKEY_AFTER_TIME: it starts a new handshake */
	inits = nodes[0].dev.events[WG_EV_HANDSHAKE_INITIATION_SENT];
	now_s += WG_REKEY_AFTER_TIME;
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(nodes[0].dev.events[WG_EV_HANDSHAKE_INITIATION_SENT],
			 inits + 1);
	assert_int_equal(nodes[1].n_rx, 2);
	/* the new session is in use, the old one kept as previous */
	assert_non_null(client_peer()->prev);

	/* everything expires after REJECT_AFTER_TIME; the server, with a
	 * packet to send, handshakes as initiator and delivers it */
	now_s += WG_REJECT_AFTER_TIME + 1;
	assert_false(
		wg_keypair_usable_for_send(&nodes[1].dev, server_peer()->cur));
	inits = nodes[1].dev.events[WG_EV_HANDSHAKE_INITIATION_SENT];
	server_send(20);
	pump();
	assert_int_equal(nodes[1].dev.events[WG_EV_HANDSHAKE_INITIATION_SENT],
			 inits + 1);
	assert_int_equal(nodes[0].n_rx, 1);
	assert_int_equal(nodes[0].rx_len[0], 40);

	/* keys are wiped after 3 * REJECT_AFTER_TIME of silence */
	now_s += WG_REJECT_AFTER_TIME * 3 + 1;
	tick_both();
	now_s += WG_REJECT_AFTER_TIME * 3 + 1;
	tick_both();
	assert_null(server_peer()->cur);
	assert_null(server_peer()->prev);
	teardown_pair();
}

static void test_retransmit_gives_up(void **state)
{
	int i;

	setup_pair(NULL, NULL, false);
	/* the server never answers: drop everything on the wire */
	client_send("10.0.0.2", 10);
	wire_n = 0;
	for (i = 0; i < 40; i++) {
		now_s += WG_REKEY_TIMEOUT + 0.4;
		wg_device_tick(&nodes[0].dev);
		wg_device_flush(&nodes[0].dev);
		wire_n = 0;
	}
	/* REKEY_ATTEMPT_TIME / REKEY_TIMEOUT = 18 retries, then give up */
	assert_int_equal(nodes[0].dev.events[WG_EV_HANDSHAKE_INITIATION_SENT],
			 1 + WG_MAX_TIMER_HANDSHAKES + 1);
	assert_null(client_peer()->staged_head);
	teardown_pair();
}

static void test_persistent_keepalive(void **state)
{
	struct evpn_peer_config pc;
	struct evpn_cidr c = cidr4("0.0.0.0", 0);
	uint64_t ka;

	setup_pair(NULL, NULL, false);
	memset(&pc, 0, sizeof(pc));
	pc.size = sizeof(pc);
	memcpy(pc.public_key, nodes[1].pub, 32);
	pc.allowed_ips = &c;
	pc.n_allowed_ips = 1;
	pc.enabled = true;
	pc.endpoint = nodes[1].addr;
	pc.persistent_keepalive = 25;
	assert_int_equal(wg_device_peer_upsert(&nodes[0].dev, &pc), 0);
	client_send("10.0.0.2", 10);
	pump();
	server_send(5);
	pump();
	/* the ordinary keepalive after received data */
	now_s += WG_KEEPALIVE_TIMEOUT + 0.1;
	tick_both();
	/* then silence: only the persistent keepalive speaks, every 25 s */
	ka = nodes[0].dev.events[WG_EV_KEEPALIVE_SENT];
	now_s += 24;
	tick_both();
	assert_int_equal(nodes[0].dev.events[WG_EV_KEEPALIVE_SENT], ka);
	now_s += 1.1;
	tick_both();
	assert_int_equal(nodes[0].dev.events[WG_EV_KEEPALIVE_SENT], ka + 1);
	now_s += 25.1;
	tick_both();
	assert_int_equal(nodes[0].dev.events[WG_EV_KEEPALIVE_SENT], ka + 2);
	teardown_pair();
}

static void test_roaming(void **state)
{
	setup_pair(NULL, NULL, false);
	client_send("10.0.0.2", 10);
	pump();
	/* the client moves to another port: the server follows */
	((struct sockaddr_in *)&nodes[0].addr)->sin_port = htons(40001);
	client_send("10.0.0.2", 10);
	pump();
	assert_int_equal(ntohs(((struct sockaddr_in *)&server_peer()->endpoint)
				       ->sin_port),
			 40001);
	server_send(5);
	assert_int_equal(ntohs(((struct sockaddr_in *)&wire[0].to)->sin_port),
			 40001);
	pump();
	assert_int_equal(nodes[0].n_rx, 1);
	teardown_pair();
}

/* Packets (1400 bytes of IP each) sent one way at one moment that arrive. */
static unsigned burst_through(bool to_server, unsigned n)
{
	struct node *dst = &nodes[to_server ? 1 : 0];
	unsigned got = 0;

	for (unsigned i = 0; i < n; i++) {
		dst->n_rx = 0;
		if (to_server)
			client_send("10.0.0.2", 1380);
		else
			server_send(1380);
		pump();
		got += dst->n_rx;
	}
	return got;
}

static void set_server_rate(uint64_t bps, uint32_t size)
{
	struct evpn_cidr c1 = cidr4("10.0.0.2", 32);
	struct evpn_peer_config pc = {.size = size,
				      .id = "client",
				      .allowed_ips = &c1,
				      .n_allowed_ips = 1,
				      .enabled = true};

	memcpy(pc.public_key, nodes[0].pub, 32);
	pc.rate_limit_bps = bps;
	assert_int_equal(wg_device_peer_upsert(&nodes[1].dev, &pc), 0);
}

/* Run the server's rate-limit queues at the fake clock's now. */
static void rate_poll(void)
{
	wg_device_rate_poll(&nodes[1].dev);
	wg_device_flush(&nodes[1].dev);
	pump();
}

static void test_rate_limit(void **state)
{
	struct wg_device *srv = &nodes[1].dev;
	unsigned got, rel;

	setup_pair(NULL, NULL, false);
	assert_int_equal(burst_through(true, 1), 1); /* handshake done */
	/* 1 mbit/s: a bucket of 64 KiB (46 packets of 1400 bytes) passes at
	 * once, a queue of 64 KiB holds 46 more, the rest is dropped and
	 * counted; each way */
	set_server_rate(1000000, sizeof(struct evpn_peer_config));
	got = burst_through(true, 100);
	assert_int_equal(got, 65536 / 1400);
	assert_int_equal(server_peer()->rate->qrx.n, 65536 / 1400);
	assert_int_equal(srv->drops[WG_DROP_RATE_LIMIT_RX], 100 - 2 * got);
	/* the queue lets go as the bucket refills: the next packet fits in
	 * 1400 - 1136 left over = 264 bytes, 2.1 ms at 1 mbit/s */
	assert_true(fabs(wg_device_rate_next(srv) - (now_s + 264 / 125000.0)) <
		    1e-9);
	rate_poll();
	assert_int_equal(nodes[1].released, 0);
	now_s += 0.1; /* 12,500 bytes earned: 9 packets */
	rate_poll();
	assert_int_equal(nodes[1].released, (1136 + 12500) / 1400);
	now_s += 10; /* a bucket's worth at most: the other 37 */
	rate_poll();
	assert_int_equal(nodes[1].released, 65536 / 1400);
	assert_int_equal(server_peer()->rate->qrx.n, 0);
	assert_true(wg_device_rate_next(srv) == 0);
	/* what the peer is sent: the same, released onto the wire */
	got = burst_through(false, 100);
	assert_int_equal(got, 65536 / 1400);
	assert_int_equal(srv->drops[WG_DROP_RATE_LIMIT_TX], 100 - 2 * got);
	got = 0;
	while (server_peer()->rate->qtx.n) {
		nodes[0].n_rx = 0;
		now_s += 0.08; /* 10,000 bytes: 7 or 8 packets */
		rate_poll();
		assert_true(nodes[0].n_rx >= 1 && nodes[0].n_rx <= 8);
		got += nodes[0].n_rx;
	}
	assert_int_equal(got, 65536 / 1400);
	assert_int_equal(srv->drops[WG_DROP_RATE_LIMIT_TX], 100 - 2 * 46);
	/* changed in place (a PATCH): the new rate applies at once, without
	 * a fresh burst */
	now_s += 10;
	assert_int_equal(burst_through(true, 60), 46);
	set_server_rate(10000000, sizeof(struct evpn_peer_config));
	rel = nodes[1].released;
	now_s += 0.01; /* 12,500 bytes at 10 mbit/s: 8 packets + 1136 */
	rate_poll();
	assert_int_equal(nodes[1].released - rel, (1136 + 12500) / 1400);
	/* removed: what is queued is dropped, everything else passes */
	set_server_rate(0, sizeof(struct evpn_peer_config));
	assert_null(server_peer()->rate);
	assert_true(wg_device_rate_next(srv) == 0);
	assert_int_equal(burst_through(true, 100), 100);
	assert_int_equal(burst_through(false, 100), 100);
	/* a caller that predates the field sets no limit */
	set_server_rate(1000000,
			offsetof(struct evpn_peer_config, rate_limit_bps));
	assert_null(server_peer()->rate);
	assert_int_equal(burst_through(true, 100), 100);
	/* a disabled peer's queues are emptied */
	set_server_rate(1000000, sizeof(struct evpn_peer_config));
	burst_through(true, 60);
	assert_int_equal(server_peer()->rate->qrx.n, 60 - 46);
	{
		struct evpn_cidr c1 = cidr4("10.0.0.2", 32);
		struct evpn_peer_config pc = {.size = sizeof(pc),
					      .allowed_ips = &c1,
					      .n_allowed_ips = 1,
					      .rate_limit_bps = 1000000};

		memcpy(pc.public_key, nodes[0].pub, 32);
		assert_int_equal(wg_device_peer_upsert(srv, &pc), 0);
	}
	assert_int_equal(server_peer()->rate->qrx.n, 0);
	assert_true(wg_device_rate_next(srv) == 0);
	teardown_pair();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_and_data),
		cmocka_unit_test(test_replays),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_allowed_ips_source),
		cmocka_unit_test(test_cookie_under_load),
		cmocka_unit_test(test_psk),
		cmocka_unit_test(test_remove_and_disable),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_retransmit_gives_up),
		cmocka_unit_test(test_persistent_keepalive),
		cmocka_unit_test(test_roaming),
		cmocka_unit_test(test_rate_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
