/* SPDX-License-Identifier: MIT */
/*
 * The egress contract (include/evpn/egress.h) with a packet harness: the
 * checker is the transport. It attaches a sink, hands the egress IPv4
 * packets from a client address of the pool, and reads what comes back.
 * Servers it starts itself are the only destinations, on loopback (or, for
 * an egress that reaches the host through the kernel, an address given with
 * --reach-address that the egress's own start-up put on its device).
 *
 * Refusal (the config as given): ICMP echo, UDP and TCP to 127.0.0.1 are
 * refused at once (ICMP unreachable / TCP RST) and the servers there see
 * nothing. Reach (--reach-config): ICMP echo to the server address is
 * answered, UDP and TCP reach the servers and their answers come back.
 * Malformed packets get no answer; every packet back is a valid IPv4
 * packet to the client.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include <evpn/egress.h>

#include "check.h"
#include "pkt.h"

#define MAXPKT 2048
#define MAXQ 256

struct eg {
	struct ck *c;
	const struct evpn_egress_ops *o;
	void *self;
	/* packets the egress sent toward the client */
	uint8_t q[MAXQ][MAXPKT];
	uint32_t qlen[MAXQ];
	unsigned nq, bad, not_client;
	uint8_t client[4];
	/* the checker's servers */
	int ufd, lfd, tfd;
	unsigned udp_got, tcp_accepted;
	char tcp_data[64];
	size_t tcp_len;
	bool tcp_answered;
};

static void sink(void *self, const struct evpn_pkt_batch *b)
{
	struct eg *e = self;

	for (uint32_t i = 0; i < b->n; i++) {
		struct ck_reply r;

		const uint8_t *d = b->pkts[i].data;
		uint32_t len = b->pkts[i].len;

		/* IPv6 (the kernel's own neighbour discovery on a TUN
		 * device, say): well-formed is all that is asked here. */
		if (len >= 40 && d[0] >> 4 == 6) {
			if ((uint32_t)(d[4] << 8 | d[5]) + 40 > len)
				e->bad++;
			continue;
		}
		if (ck_pkt_parse(d, len, &r) != 0) {
			e->bad++;
			continue;
		}
		if (memcmp(r.dst, e->client, 4) != 0)
			e->not_client++;
		if (e->nq < MAXQ && b->pkts[i].len <= MAXPKT) {
			memcpy(e->q[e->nq], b->pkts[i].data, b->pkts[i].len);
			e->qlen[e->nq++] = b->pkts[i].len;
		}
	}
}

static void send1(struct eg *e, uint8_t *p, size_t len)
{
	struct evpn_pkt pk = {p, (uint32_t)len, MAXPKT, 1, 0};
	struct evpn_pkt_batch b = {&pk, 1};

	e->o->send(e->self, &b);
}

/* ---- the servers ---- */

static int server(int type, const char *addr, uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1}, sizeof(int));
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 8) != 0) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Run on every loop turn: the UDP server echoes, the TCP server reads
 * and answers "world" once it has "hello". */
static void serve(struct eg *e)
{
	char buf[512];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n;

	if (e->ufd >= 0) {
		while ((n = recvfrom(e->ufd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&from, &fl)) > 0) {
			e->udp_got++;
			if (sendto(e->ufd, buf, (size_t)n, 0,
				   (struct sockaddr *)&from, fl) < 0)
				break;
			fl = sizeof(from);
		}
	}
	if (e->lfd >= 0 && e->tfd < 0) {
		e->tfd = accept4(e->lfd, NULL, NULL, SOCK_NONBLOCK);
		if (e->tfd >= 0)
			e->tcp_accepted++;
	}
	if (e->tfd >= 0) {
		n = read(e->tfd, e->tcp_data + e->tcp_len,
			 sizeof(e->tcp_data) - 1 - e->tcp_len);
		if (n > 0)
			e->tcp_len += (size_t)n;
		e->tcp_data[e->tcp_len] = '\0';
		if (!e->tcp_answered && strstr(e->tcp_data, "hello")) {
			e->tcp_answered = write(e->tfd, "world", 5) == 5;
		}
	}
}

static void servers_close(struct eg *e)
{
	if (e->ufd >= 0)
		close(e->ufd);
	if (e->lfd >= 0)
		close(e->lfd);
	if (e->tfd >= 0)
		close(e->tfd);
	e->ufd = e->lfd = e->tfd = -1;
}

/* ---- waiting for answers ---- */

struct want {
	struct eg *e;
	bool (*match)(const struct ck_reply *r, const void *arg);
	const void *arg;
	struct ck_reply r;
	int at; /* queue index of the match */
};

static bool find(void *arg)
{
	struct want *w = arg;

	serve(w->e);
	for (unsigned i = 0; i < w->e->nq; i++) {
		if (ck_pkt_parse(w->e->q[i], w->e->qlen[i], &w->r) == 0 &&
		    w->match(&w->r, w->arg)) {
			w->at = (int)i;
			return true;
		}
	}
	return false;
}

static bool wait_for(struct eg *e, double secs,
		     bool (*match)(const struct ck_reply *, const void *),
		     const void *arg, struct ck_reply *out)
{
	struct want w = {e, match, arg, {0}, -1};
	bool ok = ck_run_until(e->c, secs, find, &w);

	if (out) /* zeroes when nothing matched */
		*out = ok ? w.r : (struct ck_reply){0};
	return ok;
}

static bool servers_quiet(void *arg)
{
	serve(arg);
	return false;
}

struct flow {
	uint8_t proto;
	uint16_t sport, dport;
	uint16_t id;
};

/* An ICMP unreachable quoting our packet, or a TCP RST of our flow. */
static bool is_refusal(const struct ck_reply *r, const void *arg)
{
	const struct flow *f = arg;

	if (r->proto == 1 && r->type == 3)
		return r->q_proto == f->proto &&
		       (f->proto == 1 || r->q_dport == f->dport);
	return f->proto == 6 && r->proto == 6 && (r->flags & CK_TCP_RST) &&
	       r->dport == f->sport && r->sport == f->dport;
}

static bool is_echo_reply(const struct ck_reply *r, const void *arg)
{
	const struct flow *f = arg;

	return r->proto == 1 && r->type == 0 && r->id == f->id;
}

static bool is_udp_answer(const struct ck_reply *r, const void *arg)
{
	const struct flow *f = arg;

	return r->proto == 17 && r->dport == f->sport && r->sport == f->dport;
}

static bool is_synack(const struct ck_reply *r, const void *arg)
{
	const struct flow *f = arg;

	return r->proto == 6 && r->dport == f->sport && r->sport == f->dport &&
	       (r->flags & (CK_TCP_SYN | CK_TCP_ACK)) ==
		       (CK_TCP_SYN | CK_TCP_ACK);
}

static bool is_tcp_data(const struct ck_reply *r, const void *arg)
{
	const struct flow *f = arg;

	return r->proto == 6 && r->dport == f->sport && r->sport == f->dport &&
	       r->plen == 5 && memcmp(r->payload, "world", 5) == 0;
}

static uint16_t eph_port(void)
{
	return (uint16_t)(40000 + randombytes_uniform(20000));
}

static int start_egress(struct eg *e, struct evpn_config *cfg,
			const char *label)
{
	struct ck *c = e->c;
	struct evpn_sink s = {.self = e, .deliver = sink};
	int rc = ck_create(c, cfg, &e->self);

	if (!ck_rc(c, rc, EVPN_OK, "%screate succeeds", label))
		return rc;
	rc = e->o->attach(e->self, &s);
	if (ck_rc(c, rc, EVPN_OK, "%sattach: the transport sink", label) &&
	    ck_rc(c, rc = ck_start(c, e->self), EVPN_OK, "%sstart succeeds",
		  label))
		return EVPN_OK;
	ck_destroy(c, e->self);
	return rc;
}

static void stop_egress(struct eg *e)
{
	ck_stop(e->c, e->self);
	ck_destroy(e->c, e->self);
	e->self = NULL;
}

static void refusals(struct eg *e)
{
	struct ck *c = e->c;
	struct ck_ip lo = {{0}, {127, 0, 0, 1}};
	uint8_t p[MAXPKT];
	uint16_t uport = 0, tport = 0;
	struct flow f;
	struct ck_reply r;
	size_t n;

	memcpy(lo.src, e->client, 4);
	e->ufd = server(SOCK_DGRAM, "127.0.0.1", &uport);
	e->lfd = server(SOCK_STREAM, "127.0.0.1", &tport);
	e->tfd = -1;
	if (!ck_ok(c, e->ufd >= 0 && e->lfd >= 0,
		   "refusal: UDP and TCP servers on 127.0.0.1"))
		goto out;

	f = (struct flow){.proto = 1, .id = 0x4321};
	n = ck_pkt_icmp_echo(p, &lo, f.id, 1, "evpn-check-ping", 15);
	send1(e, p, n);
	ck_ok(c, wait_for(e, 2, is_refusal, &f, &r),
	      "refusal: ICMP echo to 127.0.0.1 gets ICMP unreachable");
	ck_ok(c, !wait_for(e, 0.01, is_echo_reply, &f, NULL),
	      "refusal: ... and no echo reply");
	if (r.type == 3)
		ck_ok(c, r.code == 13,
		      "refusal: ... code 13, administratively prohibited (got "
		      "%u)",
		      r.code);

	f = (struct flow){.proto = 17, .sport = eph_port(), .dport = uport};
	n = ck_pkt_udp(p, &lo, f.sport, f.dport, "evpn-check-udp", 14);
	send1(e, p, n);
	ck_ok(c, wait_for(e, 2, is_refusal, &f, NULL),
	      "refusal: UDP to 127.0.0.1 gets ICMP unreachable");

	f = (struct flow){.proto = 6, .sport = eph_port(), .dport = tport};
	n = ck_pkt_tcp(p, &lo, f.sport, f.dport, randombytes_random(), 0,
		       CK_TCP_SYN, NULL, 0);
	send1(e, p, n);
	ck_ok(c, wait_for(e, 2, is_refusal, &f, &r),
	      "refusal: TCP SYN to 127.0.0.1 gets a RST (or ICMP "
	      "unreachable)");
	ck_run_until(c, 0.3, servers_quiet, e);
	ck_ok(c, e->udp_got == 0 && e->tcp_accepted == 0,
	      "refusal: the servers on 127.0.0.1 saw nothing (%u datagrams, "
	      "%u connections)",
	      e->udp_got, e->tcp_accepted);
out:
	servers_close(e);
}

static void malformed(struct eg *e)
{
	struct ck *c = e->c;
	struct ck_ip lo = {{0}, {127, 0, 0, 1}};
	uint8_t p[MAXPKT];
	unsigned before = e->nq;
	size_t n;

	memcpy(lo.src, e->client, 4);
	memset(p, 0x45, 10);
	send1(e, p, 10); /* shorter than a header */
	n = ck_pkt_udp(p, &lo, 1234, 9, "x", 1);
	p[0] = 0x65; /* version 6 in a v4 packet */
	send1(e, p, n);
	n = ck_pkt_udp(p, &lo, 1234, 9, "x", 1);
	p[2] = 0x7f; /* total length beyond the packet */
	send1(e, p, n);
	n = ck_pkt_udp(p, &lo, 1234, 9, "x", 1);
	p[0] = 0x4f; /* header length beyond the packet */
	send1(e, p, n);
	{
		struct evpn_pkt_batch b = {NULL, 0};

		e->o->send(e->self, &b);
	}
	ck_run_until(c, 0.3, NULL, NULL);
	ck_ok(c, e->nq == before,
	      "malformed packets and an empty batch get no answer (%u)",
	      e->nq - before);
}

static void reach(struct eg *e)
{
	struct ck *c = e->c;
	const char *addr = c->reach_address ? c->reach_address : "127.0.0.1";
	struct ck_ip to = {{0}, {0}}, srv = {{0}, {0}};
	uint8_t p[MAXPKT], payload[48];
	uint16_t uport = 0, tport = 0;
	uint32_t iss = randombytes_random(), sseq;
	struct flow f;
	struct ck_reply r;
	size_t n;
	bool ok;

	memcpy(to.src, e->client, 4);
	memcpy(srv.src, e->client, 4);
	if (inet_pton(AF_INET, addr, to.dst) != 1 ||
	    inet_pton(AF_INET, c->core.net.server_address, srv.dst) != 1) {
		ck_ok(c, false, "reach: addresses");
		return;
	}
	randombytes_buf(payload, sizeof(payload));
	f = (struct flow){.proto = 1, .id = 0x1234};
	n = ck_pkt_icmp_echo(p, &srv, f.id, 7, payload, sizeof(payload));
	send1(e, p, n);
	ck_ok(c,
	      wait_for(e, 3, is_echo_reply, &f, &r) && r.seq == 7 &&
		      r.plen == sizeof(payload) &&
		      memcmp(r.payload, payload, sizeof(payload)) == 0,
	      "reach: ICMP echo to the server address %s is answered with "
	      "its payload",
	      c->core.net.server_address);

	e->ufd = server(SOCK_DGRAM, addr, &uport);
	e->lfd = server(SOCK_STREAM, addr, &tport);
	e->tfd = -1;
	if (!ck_ok(c, e->ufd >= 0 && e->lfd >= 0,
		   "reach: UDP and TCP servers on %s", addr))
		goto out;

	f = (struct flow){.proto = 17, .sport = eph_port(), .dport = uport};
	n = ck_pkt_udp(p, &to, f.sport, f.dport, payload, sizeof(payload));
	send1(e, p, n);
	ok = wait_for(e, 3, is_udp_answer, &f, &r) && e->udp_got == 1;
	ck_ok(c, ok, "reach: UDP to %s:%u reaches the server (%u datagrams)",
	      addr, uport, e->udp_got);
	ck_ok(c,
	      r.proto == 17 && r.plen == sizeof(payload) &&
		      memcmp(r.payload, payload, sizeof(payload)) == 0 &&
		      memcmp(r.src, to.dst, 4) == 0,
	      "reach: the server's UDP answer comes back from %s:%u", addr,
	      uport);

	f = (struct flow){.proto = 6, .sport = eph_port(), .dport = tport};
	n = ck_pkt_tcp(p, &to, f.sport, f.dport, iss, 0, CK_TCP_SYN, NULL, 0);
	send1(e, p, n);
	if (!ck_ok(c, wait_for(e, 3, is_synack, &f, &r) && r.tack == iss + 1,
		   "reach: TCP SYN to %s:%u gets a SYN-ACK", addr, tport))
		goto out;
	sseq = r.tseq + 1;
	n = ck_pkt_tcp(p, &to, f.sport, f.dport, iss + 1, sseq, CK_TCP_ACK,
		       NULL, 0);
	send1(e, p, n);
	n = ck_pkt_tcp(p, &to, f.sport, f.dport, iss + 1, sseq,
		       CK_TCP_ACK | CK_TCP_PSH, "hello", 5);
	send1(e, p, n);
	ok = wait_for(e, 3, is_tcp_data, &f, &r);
	ck_ok(c, ok,
	      "reach: TCP data reaches the server and its answer comes back");
	ck_ok(c, e->tcp_accepted == 1 && strcmp(e->tcp_data, "hello") == 0,
	      "reach: the server accepted one connection and read 'hello' "
	      "(%u, '%s')",
	      e->tcp_accepted, e->tcp_data);
	n = ck_pkt_tcp(p, &to, f.sport, f.dport, iss + 6, r.tseq + r.plen,
		       CK_TCP_RST | CK_TCP_ACK, NULL, 0);
	send1(e, p, n);
	ck_run_until(c, 0.1, NULL, NULL);
out:
	servers_close(e);
}

void ck_egress(struct ck *c)
{
	static const char *const names[] = {"attach", "send"};
	struct eg *e = calloc(1, sizeof(*e));

	if (!e) {
		ck_ok(c, false, "memory for the packet harness");
		return;
	}
	e->c = c;
	e->o = c->pi.desc->vtable;
	e->ufd = e->lfd = e->tfd = -1;
	memcpy(e->client, (uint8_t[]){10, 77, 0, 2}, 4);
	ck_vtable_entries(c, names, 2, 2);
	if (c->failed)
		goto out;
	if (start_egress(e, NULL, "") == EVPN_OK) {
		refusals(e);
		malformed(e);
		stop_egress(e);
	}
	if (c->reach_cfg) {
		if (start_egress(e, c->reach_cfg, "reach config: ") ==
		    EVPN_OK) {
			reach(e);
			stop_egress(e);
		}
	} else {
		ck_skip(c, "reach: ICMP/UDP/TCP through to a server "
			   "(no --reach-config)");
	}
	ck_ok(c, e->bad == 0,
	      "every packet back is a well-formed IP packet (%u not)", e->bad);
	ck_ok(c, e->not_client == 0,
	      "every IPv4 packet back is addressed to the client (%u not)",
	      e->not_client);
	ck_lifecycle(c);
out:
	free(e);
}
