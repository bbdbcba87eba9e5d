// SPDX-License-Identifier: MIT
/*
 * udp_delay: a UDP relay that delays datagrams, for scripts/bench-egress on
 * kernels without sch_netem (tc netem). A WireGuard client sends to
 * LISTEN instead of the server; the relay forwards to TARGET after UP_MS
 * and sends the answers back to the client after DOWN_MS. A constant delay
 * keeps order, so each direction is a FIFO; a full queue drops, as netem's
 * limit does.
 *
 *   udp_delay LISTEN_IP:PORT TARGET_IP:PORT UP_MS DOWN_MS [LOSS_PCT [SEED]]
 *
 * LOSS_PCT (e.g. 1 or 0.5): that share of the datagrams of each direction
 * is dropped at random (a fixed-seed generator: the same run drops the
 * same datagrams; SEED changes the sequence).
 *
 * IPv4 only. Prints "ready" when listening. Stops on SIGTERM/SIGINT.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 16384 /* per direction: 100 ms at ~2 Gbit/s of 1.5 KB */
#define MAXPKT 2048

struct slot {
	int64_t due; /* ns, CLOCK_MONOTONIC */
	uint32_t len;
	uint8_t data[MAXPKT];
};

struct fifo {
	struct slot *s;
	uint32_t head, n;
	int64_t delay;
	uint64_t dropped, lost;
};

static uint32_t loss_limit; /* drop when rnd() < loss_limit */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	/* xorshift64*: enough for "random" loss */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (uint32_t)((rng * 0x2545f4914f6cdd1dull) >> 32);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The kernel's default receive buffer (~200 KB, ~150 datagrams) overflows
 * whenever this process waits for a core while wireguard-go sends a burst:
 * on a 2-core machine that lost 6-10 % of the datagrams of a fast flow,
 * loss a netem qdisc (limit 10000) would not add. Ask for room for the
 * whole queue (SO_RCVBUFFORCE as root, else up to rmem_max). */
static void big_buffers(int fd)
{
	int sz = 16 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof(sz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static int parse(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(s, ':');

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

/* Read everything waiting on fd into f (due now + delay). */
static void drain(int fd, struct fifo *f, struct sockaddr_in *from)
{
	for (;;) {
		struct slot *sl = &f->s[(f->head + f->n) % SLOTS];
		uint8_t scratch[MAXPKT];
		socklen_t fl = sizeof(*from);
		bool full = f->n == SLOTS;
		ssize_t r = recvfrom(fd, full ? scratch : sl->data, MAXPKT,
				     MSG_DONTWAIT, (struct sockaddr *)from,
				     from ? &fl : NULL);

		if (r < 0)
			return;
		if (full) {
			f->dropped++;
			continue;
		}
		if (loss_limit && rnd() < loss_limit) {
			f->lost++;
			continue;
		}
		sl->len = (uint32_t)r;
		sl->due = now_ns() + f->delay;
		f->n++;
	}
}

/* Send what is due; returns ns until the next is due (-1: empty). */
static int64_t flush(int fd, struct fifo *f, const struct sockaddr_in *to)
{
	int64_t t = now_ns();

	while (f->n) {
		struct slot *sl = &f->s[f->head];

		if (sl->due > t)
			return sl->due - t;
		if (to)
			sendto(fd, sl->data, sl->len, 0,
			       (const struct sockaddr *)to, sizeof(*to));
		else
			send(fd, sl->data, sl->len, 0);
		f->head = (f->head + 1) % SLOTS;
		f->n--;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in listen_sa, target, client = {0};
	struct fifo up = {0}, down = {0};
	int cfd, sfd;

	if (argc < 5 || argc > 7 || parse(argv[1], &listen_sa) ||
	    parse(argv[2], &target)) {
		fprintf(stderr,
			"usage: udp_delay LISTEN_IP:PORT TARGET_IP:PORT "
			"UP_MS DOWN_MS [LOSS_PCT [SEED]]\n");
		return 2;
	}
	if (argc >= 6) {
		double pct = atof(argv[5]);

		if (pct < 0 || pct > 100) {
			fprintf(stderr, "udp_delay: LOSS_PCT 0..100\n");
			return 2;
		}
		loss_limit = (uint32_t)(pct / 100.0 * 4294967295.0);
	}
	if (argc == 7)
		rng ^= strtoull(argv[6], NULL, 0) * 0x100000001b3ull;
	if (!rng)
		rng = 1; /* xorshift never leaves 0 */
	up.delay = (int64_t)atoi(argv[3]) * 1000000;
	down.delay = (int64_t)atoi(argv[4]) * 1000000;
	up.s = calloc(SLOTS, sizeof(struct slot));
	down.s = calloc(SLOTS, sizeof(struct slot));
	cfd = socket(AF_INET, SOCK_DGRAM, 0);
	sfd = socket(AF_INET, SOCK_DGRAM, 0);
	if (!up.s || !down.s || cfd < 0 || sfd < 0 ||
	    bind(cfd, (struct sockaddr *)&listen_sa, sizeof(listen_sa)) < 0 ||
	    connect(sfd, (struct sockaddr *)&target, sizeof(target)) < 0) {
		perror("udp_delay");
		return 1;
	}
	big_buffers(cfd);
	big_buffers(sfd);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		struct pollfd p[2] = {{cfd, POLLIN, 0}, {sfd, POLLIN, 0}};
		int64_t a = flush(sfd, &up, NULL);
		int64_t b = client.sin_port ? flush(cfd, &down, &client) : -1;
		int64_t wait = a < 0 ? b : b < 0 ? a : (a < b ? a : b);
		struct timespec ts = {.tv_sec = 0, .tv_nsec = 100000000};

		if (wait >= 0 && wait < 100000000)
			ts.tv_nsec = wait;
		if (ppoll(p, 2, &ts, NULL) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN)
			drain(cfd, &up, &client);
		if (p[1].revents & POLLIN)
			drain(sfd, &down, NULL);
	}
	fprintf(stderr,
		"udp_delay: dropped %llu up, %llu down (queue full); lost "
		"%llu up, %llu down (LOSS_PCT)\n",
		(unsigned long long)up.dropped,
		(unsigned long long)down.dropped, (unsigned long long)up.lost,
		(unsigned long long)down.lost);
	close(cfd);
	close(sfd);
	free(up.s);
	free(down.s);
	return 0;
}
