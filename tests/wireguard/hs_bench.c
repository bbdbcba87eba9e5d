// SPDX-License-Identifier: MIT
/*
 * Load tool for scripts/bench-tunnel, built on the plugin's own protocol
 * core (evpn_wg_core), in memory, no sockets:
 *
 *   hs_bench handshakes N   server-side cost of N complete handshakes:
 *                           N distinct client keys registered as peers;
 *                           for each, a client device creates the
 *                           initiation, the server consumes it and answers,
 *                           the client consumes the response and confirms
 *                           with a keepalive, the server consumes that.
 *                           Only the server's calls are timed (thread CPU
 *                           time): handshakes/s on one core.
 *   hs_bench peers N        N idle peers: heap bytes per peer (mallinfo2),
 *                           the cost of adding one, of the background
 *                           static-static DH, of one timer tick (idle
 *                           peers), of removing one.
 *
 * Output: key=value lines.
 */
#include <arpa/inet.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wg.h"

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The last datagram a device sent. */
struct wire {
	uint8_t data[WG_BUF_SIZE];
	uint32_t len;
	unsigned n;
};

static void capture(void *arg, struct wg_txslot *s, unsigned n)
{
	struct wire *w = arg;

	if (!n)
		return;
	memcpy(w->data, s[n - 1].data, s[n - 1].len);
	w->len = s[n - 1].len;
	w->n += n;
}

static void peer_cfg(struct evpn_peer_config *pc, struct evpn_cidr *c,
		     const uint8_t pub[WG_KEY_LEN], uint32_t i)
{
	uint32_t a = htonl(0x0a000000u + i + 2); /* 10.0.0.0/8 pool */

	memset(pc, 0, sizeof(*pc));
	memset(c, 0, sizeof(*c));
	c->family = AF_INET;
	c->prefix = 32;
	memcpy(c->addr, &a, 4);
	pc->size = sizeof(*pc);
	memcpy(pc->public_key, pub, WG_KEY_LEN);
	pc->id = "bench";
	pc->allowed_ips = c;
	pc->n_allowed_ips = 1;
	pc->enabled = true;
}

static int init_dev(struct wg_device *d, struct wire *w)
{
	struct wg_device_ops ops = {.arg = w, .flush = capture};
	/* No rate limit and no cookies: the raw processing cost. */
	struct wg_device_config cfg = {.mtu = 1420,
				       .handshake_load_threshold = 100000000,
				       .ratelimit_per_source = 0,
				       .ratelimit_burst = 1};

	return wg_device_init(d, &ops, &cfg);
}

static int bench_handshakes(uint32_t n)
{
	static struct wg_device srv, cli;
	static struct wire srv_w, cli_w;
	uint8_t spriv[WG_KEY_LEN], (*cpriv)[WG_KEY_LEN];
	struct evpn_peer_config pc;
	struct evpn_cidr c;
	struct sockaddr_storage from = {0};
	struct sockaddr_in *sin = (struct sockaddr_in *)&from;
	struct evpn_pkt out;
	double t_srv = 0, t0;
	uint32_t i, done = 0;
	int rc;

	cpriv = malloc((size_t)n * WG_KEY_LEN);
	if (!cpriv || init_dev(&srv, &srv_w) || init_dev(&cli, &cli_w))
		return 1;
	wg_genkey(spriv);
	if (wg_device_set_private_key(&srv, spriv))
		return 1;
	for (i = 0; i < n; i++) {
		uint8_t pub[WG_KEY_LEN];

		wg_genkey(cpriv[i]);
		wg_pubkey(pub, cpriv[i]);
		peer_cfg(&pc, &c, pub, i);
		if (wg_device_peer_upsert(&srv, &pc))
			return 1;
	}
	/* Steady state: the static-static DHs are precomputed (the device
	 * does that a few per tick after loading peers). */
	wg_noise_precompute(&srv, n);
	/* The client device knows the server as its one peer. */
	peer_cfg(&pc, &c, srv.pub, 0);
	sin->sin_family = AF_INET;
	sin->sin_port = htons(51820);
	sin->sin_addr.s_addr = htonl(0xc0a84f01);
	pc.endpoint = from;
	if (wg_device_peer_upsert(&cli, &pc))
		return 1;

	for (i = 0; i < n; i++) {
		struct wg_peer *sp;
		uint32_t before = srv_w.n;

		if (wg_device_set_private_key(&cli, cpriv[i]))
			return 1;
		sp = wg_device_peer_find(&cli, srv.pub);
		sp->last_sent_handshake = 0;
		cli_w.n = 0;
		wg_device_initiate(&cli, sp);
		wg_device_flush(&cli);
		if (cli_w.n != 1)
			return 1;
		/* from: a distinct client address per handshake */
		sin->sin_addr.s_addr = htonl(0x0b000000u + i);

		t0 = cpu_now();
		wg_device_rx(&srv, cli_w.data, cli_w.len, sizeof(cli_w.data),
			     &from, &out);
		wg_device_flush(&srv);
		t_srv += cpu_now() - t0;
		if (srv_w.n != before + 1)
			continue; /* no response */

		cli_w.n = 0;
		sin->sin_addr.s_addr = htonl(0xc0a84f01);
		wg_device_rx(&cli, srv_w.data, srv_w.len, sizeof(srv_w.data),
			     &from, &out);
		wg_device_flush(&cli); /* the confirming keepalive */
		if (cli_w.n != 1)
			continue;
		sin->sin_addr.s_addr = htonl(0x0b000000u + i);

		t0 = cpu_now();
		wg_device_rx(&srv, cli_w.data, cli_w.len, sizeof(cli_w.data),
			     &from, &out);
		wg_device_flush(&srv);
		t_srv += cpu_now() - t0;
		done++;
	}
	printf("handshakes=%u\n", n);
	printf("handshakes_completed=%llu\n",
	       (unsigned long long)srv.events[WG_EV_HANDSHAKE_COMPLETED]);
	printf("server_cpu_seconds=%.4f\n", t_srv);
	printf("handshakes_per_sec=%.0f\n",
	       srv.events[WG_EV_HANDSHAKE_COMPLETED] / t_srv);
	rc = done == n && srv.events[WG_EV_HANDSHAKE_COMPLETED] == n ? 0 : 1;
	wg_wipe(spriv, sizeof(spriv));
	wg_wipe(cpriv, (size_t)n * WG_KEY_LEN);
	free(cpriv);
	wg_device_destroy(&cli);
	wg_device_destroy(&srv);
	return rc;
}

static int bench_peers(uint32_t n)
{
	static struct wg_device d;
	static struct wire w;
	uint8_t priv[WG_KEY_LEN], (*pubs)[WG_KEY_LEN];
	struct evpn_peer_config pc;
	struct evpn_cidr c;
	size_t heap0, heap1;
	double t0, t_add, t_pre, t_tick, t_rm;
	uint32_t i, nrm = n < 1000 ? n : 1000;
	int k, ticks = 20;

	pubs = malloc((size_t)n * WG_KEY_LEN);
	if (!pubs || init_dev(&d, &w))
		return 1;
	wg_genkey(priv);
	if (wg_device_set_private_key(&d, priv))
		return 1;
	for (i = 0; i < n; i++)
		wg_random(pubs[i], WG_KEY_LEN);
	heap0 = mallinfo2().uordblks;
	t0 = mono_now();
	for (i = 0; i < n; i++) {
		peer_cfg(&pc, &c, pubs[i], i);
		if (wg_device_peer_upsert(&d, &pc))
			return 1;
	}
	t_add = mono_now() - t0;
	heap1 = mallinfo2().uordblks;
	t0 = mono_now();
	wg_noise_precompute(&d, n);
	t_pre = mono_now() - t0;
	t0 = mono_now();
	for (k = 0; k < ticks; k++)
		wg_device_tick(&d);
	t_tick = (mono_now() - t0) / ticks;
	t0 = mono_now();
	for (i = 0; i < nrm; i++)
		if (wg_device_peer_remove(&d, pubs[i * (n / nrm)]))
			return 1;
	t_rm = (mono_now() - t0) / nrm;
	printf("peers=%u\n", n);
	printf("sizeof_peer=%zu\n", sizeof(struct wg_peer));
	printf("heap_bytes_per_peer=%.0f\n", (double)(heap1 - heap0) / n);
	printf("add_us_per_peer=%.2f\n", t_add * 1e6 / n);
	printf("precompute_us_per_peer=%.2f\n", t_pre * 1e6 / n);
	printf("tick_ms=%.3f\n", t_tick * 1e3);
	printf("remove_us_per_peer=%.2f\n", t_rm * 1e6);
	wg_device_destroy(&d);
	free(pubs);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t n;

	if (argc != 3) {
		fprintf(stderr, "usage: %s handshakes|peers N\n", argv[0]);
		return 2;
	}
	n = (uint32_t)strtoul(argv[2], NULL, 10);
	if (!n)
		return 2;
	if (!strcmp(argv[1], "handshakes"))
		return bench_handshakes(n);
	if (!strcmp(argv[1], "peers"))
		return bench_peers(n);
	return 2;
}
