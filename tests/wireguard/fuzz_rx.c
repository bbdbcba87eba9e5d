// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the receive path (wg_device_rx): every datagram a
 * remote can send. The first input byte steers the harness so the fuzzer
 * gets past the cheap checks too:
 *   bit 0: recompute a valid mac1 for handshake-sized messages
 *   bit 1: point a data message at a live session's receiver index
 *   bit 2: run the device under load (cookie / mac2 path)
 * The rest is the datagram. A second device holds a real session with the
 * fuzzed one, set up once.
 */
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>

#include "wg.h"

static struct wg_device dev, peer_dev;
static uint8_t pub[32], peer_pub[32];
static double fake_now = 100;
static struct wg_txslot wire[8];
static unsigned wire_n;
static struct sockaddr_storage a_addr, b_addr;

static double now_cb(void *arg)
{
	return fake_now;
}

static void flush_cb(void *arg, struct wg_txslot *s, unsigned n)
{
	unsigned i;

	/* Keep the latest few so the set-up handshake can be relayed. */
	for (i = 0; i < n && wire_n < 8; i++)
		wire[wire_n++] = s[i];
}

static void relay(struct wg_device *to, const struct sockaddr_storage *from)
{
	static uint8_t buf[4096];
	struct wg_txslot s[8];
	struct evpn_pkt out;
	unsigned n = wire_n, i;

	memcpy(s, wire, sizeof(s));
	wire_n = 0;
	for (i = 0; i < n; i++) {
		memcpy(buf, s[i].data, s[i].len);
		wg_device_rx(to, buf, s[i].len, sizeof(buf), from, &out);
		wg_device_flush(to);
	}
}

static void setup(void)
{
	struct wg_device_ops ops = {.flush = flush_cb, .now = now_cb};
	struct wg_device_config cfg = {.mtu = 1420,
				       .handshake_load_threshold = 1000000,
				       .ratelimit_per_source = 0};
	struct evpn_peer_config pc = {.size = sizeof(pc), .enabled = true};
	struct evpn_cidr all = {.family = AF_INET, .prefix = 0};
	struct evpn_cidr one = {
		.family = AF_INET, .prefix = 32, .addr = {10, 0, 0, 2}};
	uint8_t k[32], pkt[40] = {0x45, 0, 0, 40};
	struct sockaddr_in *s;

	if (wg_device_init(&dev, &ops, &cfg) ||
	    wg_device_init(&peer_dev, &ops, &cfg))
		__builtin_trap();
	memset(k, 1, 32);
	if (wg_device_set_private_key(&dev, k))
		__builtin_trap();
	memcpy(pub, dev.pub, 32);
	memset(k, 2, 32);
	if (wg_device_set_private_key(&peer_dev, k))
		__builtin_trap();
	memcpy(peer_pub, peer_dev.pub, 32);

	s = (struct sockaddr_in *)&a_addr;
	s->sin_family = AF_INET;
	s->sin_port = htons(1);
	s->sin_addr.s_addr = htonl(0xc0000201);
	s = (struct sockaddr_in *)&b_addr;
	s->sin_family = AF_INET;
	s->sin_port = htons(2);
	s->sin_addr.s_addr = htonl(0xc0000202);

	memcpy(pc.public_key, peer_pub, 32);
	pc.allowed_ips = &one;
	pc.n_allowed_ips = 1;
	if (wg_device_peer_upsert(&dev, &pc))
		__builtin_trap();
	memcpy(pc.public_key, pub, 32);
	pc.allowed_ips = &all;
	pc.endpoint = a_addr;
	if (wg_device_peer_upsert(&peer_dev, &pc))
		__builtin_trap();

	/* one handshake and one data packet: dev has a live session */
	memcpy(pkt + 12, one.addr, 4);
	pkt[16] = 10;
	pkt[19] = 1;
	wg_device_tx(&peer_dev, pkt, sizeof(pkt));
	wg_device_flush(&peer_dev);
	relay(&dev, &b_addr);
	relay(&peer_dev, &a_addr);
	relay(&dev, &b_addr);
	wire_n = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[4096];
	static bool ready;
	struct wg_peer *p;
	struct evpn_pkt out;
	uint8_t mode;
	size_t len;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1 || size - 1 > sizeof(buf))
		return 0;
	mode = data[0];
	len = size - 1;
	memcpy(buf, data + 1, len);

	if ((mode & 1) && len >= 32 && len <= 148)
		wg_mac(buf + len - 32, dev.mac1_key, WG_HASH_LEN, buf,
		       len - 32);
	p = wg_device_peer_find(&dev, peer_pub);
	if ((mode & 2) && len >= 8 && p && p->cur) {
		uint32_t idx = htole32(p->cur->entry.index);

		memcpy(buf + 4, &idx, 4);
	}
	dev.cfg.force_under_load = (mode & 4) != 0;
	/* advance time a little so rate limits and timers move */
	fake_now += 0.001;
	wg_device_rx(&dev, buf, len, sizeof(buf), &b_addr, &out);
	wg_device_flush(&dev);
	wire_n = 0;
	if ((mode & 8))
		wg_device_tick(&dev);
	wire_n = 0;
	return 0;
}
