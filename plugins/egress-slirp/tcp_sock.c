/* SPDX-License-Identifier: MIT */
/*
 * The TCP relay's real side (tcp.h's struct sle_tcp_env): host sockets
 * with their two queues (tcp.h, "Buffers"), one edge-triggered epoll set
 * watched by the loop, two timers per connection, the flow table and the
 * egress's output batches.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sle.h"
#include "tcp.h"

struct sle_tsock {
	struct sle *s;
	struct sle_tcp_conn *c;
	int fd;
	struct evpn_timer *rto, *wupd;
	/* host -> client: read from the socket, kept until acknowledged */
	uint8_t *rb;
	uint32_t rcap, rhead, rlen;
	bool reof;
	/* recv() said EAGAIN: none again until the next EPOLLIN edge (an
	 * upload called it, in vain, for every batch of client segments) */
	bool rdry;
	/* client -> host: taken from the client, not yet in the socket */
	uint8_t *wb;
	uint32_t wcap, whead, wlen;
	bool shut_pending, shut_done;
	bool dirty; /* on s->tcp_dirty */
	struct sle_tsock *dirty_next;
	bool tick_armed;
	double tick_due;
};

static struct sle_tsock *ts(struct sle_tcp_conn *c)
{
	return c->sock;
}

static double env_now(void *arg)
{
	struct sle *s = arg;

	return s->host->now(s->host);
}

static void on_rto(struct evpn_timer *tm, void *arg)
{
	struct sle_tsock *k = arg;
	struct sle *s = k->s;

	sle_tcp_timeout(s->tcp, k->c);
	sle_tcp_done(s);
}

static void on_wupd(struct evpn_timer *tm, void *arg)
{
	struct sle_tsock *k = arg;
	struct sle *s = k->s;

	k->tick_armed = false;
	sle_tcp_wupd(s->tcp, k->c);
	sle_tcp_done(s);
}

static int env_connect(void *arg, struct sle_tcp_conn *c)
{
	struct sle *s = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct epoll_event ev = {0};
	struct sle_tsock *k = calloc(1, sizeof(*k));
	int one = 1, err;

	if (!k)
		return -ENOMEM;
	k->s = s;
	k->c = c;
	memset(&ss, 0, sizeof(ss));
	if (c->family == 6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		memcpy(&a->sin6_addr, c->dst, 16);
		a->sin6_port = htons(c->dport);
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		memcpy(&a->sin_addr, c->dst, 4);
		a->sin_port = htons(c->dport);
		sl = sizeof(*a);
	}
	k->fd = socket(c->family == 6 ? AF_INET6 : AF_INET,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (k->fd < 0) {
		err = -errno;
		free(k);
		return err;
	}
	/* segments are relayed as they come: no second Nagle delay */
	setsockopt(k->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(k->fd, (struct sockaddr *)&ss, sl) < 0 &&
	    errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	k->rto = s->host->timer_new(s->host, on_rto, k);
	k->wupd = s->host->timer_new(s->host, on_wupd, k);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.ptr = k;
	if (!k->rto || !k->wupd ||
	    epoll_ctl(s->tcp_ep, EPOLL_CTL_ADD, k->fd, &ev) < 0) {
		err = -ENOMEM;
		goto fail;
	}
	c->sock = k;
	return 0;
fail:
	if (k->rto)
		s->host->timer_free(k->rto);
	if (k->wupd)
		s->host->timer_free(k->wupd);
	close(k->fd);
	free(k);
	return err;
}

/* Room for need bytes from rhead/whead: compact, then grow (doubling). */
static bool room(uint8_t **b, uint32_t *cap, uint32_t *head, uint32_t len,
		 uint32_t need)
{
	uint32_t n;
	uint8_t *nb;

	if (*head + need <= *cap)
		return true;
	if (*head) {
		memmove(*b, *b + *head, len);
		*head = 0;
		if (need <= *cap)
			return true;
	}
	n = *cap ? *cap : 65536;
	while (n < need)
		n *= 2;
	nb = realloc(*b, n);
	if (!nb)
		return false;
	*b = nb;
	*cap = n;
	return true;
}

/* Send what waits for the socket; then a deferred shutdown. */
static int flush_w(struct sle_tsock *k)
{
	while (k->wlen) {
		ssize_t r = send(k->fd, k->wb + k->whead, k->wlen,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0)
			return errno == EWOULDBLOCK || errno == EINTR ? 0
								      : -errno;
		k->whead += (uint32_t)r;
		k->wlen -= (uint32_t)r;
	}
	k->whead = 0;
	if (k->wcap > 4 * 65536) { /* idle: give the memory back */
		free(k->wb);
		k->wb = NULL;
		k->wcap = 0;
	}
	if (k->shut_pending && !k->shut_done) {
		shutdown(k->fd, SHUT_WR);
		k->shut_done = true;
	}
	return 0;
}

/* Client data for the socket is queued and written once at the end of
 * the batch (sle_tcp_done): one send() for a batch of segments instead
 * of one per segment. What the queue took counts as taken (and is
 * acknowledged); a socket error then resets both sides. */
static ssize_t env_write(void *arg, struct sle_tcp_conn *c, const uint8_t *p,
			 size_t n)
{
	struct sle *s = arg;
	struct sle_tsock *k = ts(c);
	size_t take = n;

	if (take > SLE_TCP_SNDQ_MAX - k->wlen)
		take = SLE_TCP_SNDQ_MAX - k->wlen;
	if (!take)
		return -EAGAIN;
	if (!room(&k->wb, &k->wcap, &k->whead, k->wlen,
		  k->wlen + (uint32_t)take)) {
		/* no memory for the queue: straight to the socket */
		ssize_t r;

		if (k->wlen)
			return -EAGAIN;
		r = send(k->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0)
			return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN
								      : -errno;
		return r;
	}
	memcpy(k->wb + k->whead + k->wlen, p, take);
	k->wlen += (uint32_t)take;
	if (!k->dirty) {
		k->dirty = true;
		k->dirty_next = s->tcp_dirty;
		s->tcp_dirty = k;
	}
	return (ssize_t)take;
}

/* The end of a batch: queued client data into the sockets. */
static void write_dirty(struct sle *s)
{
	while (s->tcp_dirty) {
		struct sle_tsock *k = s->tcp_dirty;
		int err;

		s->tcp_dirty = k->dirty_next;
		k->dirty = false;
		err = flush_w(k);
		/* a full socket: the rest at its next write edge */
		if (err)
			sle_tcp_sock_event(s->tcp, k->c, false, false, err);
	}
}

static ssize_t env_peek(void *arg, struct sle_tcp_conn *c, uint32_t off,
			uint8_t *buf, size_t n)
{
	struct sle_tsock *k = ts(c);
	uint32_t need = off + (uint32_t)n;

	while (k->rlen < need && !k->reof && !k->rdry) {
		ssize_t r;

		if (!room(&k->rb, &k->rcap, &k->rhead, k->rlen, need))
			break;
		r = recv(k->fd, k->rb + k->rhead + k->rlen,
			 k->rcap - k->rhead - k->rlen, MSG_DONTWAIT);
		if (r > 0) {
			k->rlen += (uint32_t)r;
		} else if (r == 0) {
			k->reof = true;
		} else if (errno == EWOULDBLOCK) {
			k->rdry = true;
			break;
		} else if (errno == EINTR) {
			break;
		} else {
			return -errno;
		}
	}
	if (off >= k->rlen)
		return k->reof ? 0 : -EAGAIN;
	if (n > k->rlen - off)
		n = k->rlen - off;
	memcpy(buf, k->rb + k->rhead + off, n);
	return (ssize_t)n;
}

static void env_discard(void *arg, struct sle_tcp_conn *c, uint32_t n)
{
	struct sle_tsock *k = ts(c);

	if (n > k->rlen)
		n = k->rlen;
	k->rhead += n;
	k->rlen -= n;
	if (!k->rlen) {
		k->rhead = 0;
		if (k->rcap > 4 * 65536) { /* idle: give the memory back */
			free(k->rb);
			k->rb = NULL;
			k->rcap = 0;
		}
	}
}

static void env_shutdown_wr(void *arg, struct sle_tcp_conn *c)
{
	struct sle_tsock *k = ts(c);

	k->shut_pending = true;
	if (!k->wlen)
		flush_w(k);
}

/* The window toward the client: what the queue toward the socket may
 * still take. */
static uint32_t env_sndspace(void *arg, struct sle_tcp_conn *c)
{
	return SLE_TCP_SNDQ_MAX - ts(c)->wlen;
}

static void env_watch(void *arg, struct sle_tcp_conn *c, bool rd, bool wr)
{
	/* edge-triggered: every edge is looked at, the state machine
	 * decides what it means */
}

static void env_timer(void *arg, struct sle_tcp_conn *c, double after)
{
	struct sle *s = arg;

	if (after < 0)
		s->host->timer_stop(ts(c)->rto);
	else
		s->host->timer_arm(ts(c)->rto, after, 0);
}

static void env_wupd_timer(void *arg, struct sle_tcp_conn *c, double after)
{
	struct sle *s = arg;
	struct sle_tsock *k = ts(c);
	double due = s->host->now(s->host) + after;

	if (after < 0) {
		s->host->timer_stop(k->wupd);
		k->tick_armed = false;
		return;
	}
	/* one timer for two users: the earlier request wins */
	if (k->tick_armed && k->tick_due <= due)
		return;
	k->tick_armed = true;
	k->tick_due = due;
	s->host->timer_arm(k->wupd, after, 0);
}

static void env_release(void *arg, struct sle_tcp_conn *c, bool rst)
{
	struct sle *s = arg;
	struct sle_tsock *k = ts(c);

	if (k) {
		if (k->dirty) {
			struct sle_tsock **pp = &s->tcp_dirty;

			while (*pp != k)
				pp = &(*pp)->dirty_next;
			*pp = k->dirty_next;
		}
		if (rst) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};

			setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		}
		epoll_ctl(s->tcp_ep, EPOLL_CTL_DEL, k->fd, NULL);
		close(k->fd);
		free(k->rb);
		free(k->wb);
		s->host->timer_free(k->rto);
		s->host->timer_free(k->wupd);
		free(k);
		c->sock = NULL;
	}
	if (c->owner) {
		struct sle_flow *fl = c->owner;

		fl->owner = NULL;
		sle_flows_del(&s->flows, fl);
		c->owner = NULL;
		s->host->metric_set(s->m_flows, s->flows.n);
	}
}

static void env_emit(void *arg, const uint8_t *ip, size_t len)
{
	sle_out(arg, ip, (uint32_t)len);
}

/* Counters of the relay into the metrics, as deltas. */
static void sync_metrics(struct sle *s)
{
	struct sle_tcp *t = s->tcp;
	const struct evpn_host *h = s->host;

	h->metric_add(s->m_tcp_retx, t->retransmits - s->tcp_seen[0]);
	h->metric_add(s->m_tcp_ooo, t->ooo_drops - s->tcp_seen[1]);
	h->metric_add(s->m_tcp_rst, t->resets_to_client - s->tcp_seen[2]);
	h->metric_add(s->m_tcp_cfail, t->connect_failed - s->tcp_seen[3]);
	s->tcp_seen[0] = t->retransmits;
	s->tcp_seen[1] = t->ooo_drops;
	s->tcp_seen[2] = t->resets_to_client;
	s->tcp_seen[3] = t->connect_failed;
	h->metric_add(s->m_tcp_rto, t->timeouts - s->tcp_seen[4]);
	s->tcp_seen[4] = t->timeouts;
	h->metric_add(s->m_tcp_tlp, t->tail_probes - s->tcp_seen[5]);
	s->tcp_seen[5] = t->tail_probes;
	h->metric_add(s->m_tcp_dup, t->duplicates - s->tcp_seen[6]);
	s->tcp_seen[6] = t->duplicates;
}

void sle_tcp_done(struct sle *s)
{
	write_dirty(s);
	sle_tcp_flush(s->tcp);
	sync_metrics(s);
	sle_flush(s);
}

static void on_epoll(struct evpn_io *w, int fd, int revents, void *arg)
{
	struct sle *s = arg;
	struct epoll_event ev[64];
	int n, i;

	do {
		n = epoll_wait(s->tcp_ep, ev, 64, 0);
		for (i = 0; i < n; i++) {
			struct sle_tsock *k = ev[i].data.ptr;
			uint32_t e = ev[i].events;
			int err = 0;

			if (k->c->owner)
				((struct sle_flow *)k->c->owner)->last =
					s->host->now(s->host);
			if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				k->rdry = false;
			if (k->c->state == SLE_TCP_CONNECTING &&
			    (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
				socklen_t l = sizeof(err);

				if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR,
					       &err, &l) < 0)
					err = errno;
				err = -err;
			} else if (e & EPOLLOUT) {
				err = flush_w(k);
			}
			sle_tcp_sock_event(s->tcp, k->c,
					   e & (EPOLLIN | EPOLLRDHUP |
						EPOLLHUP | EPOLLERR),
					   e & EPOLLOUT, err);
		}
		sle_tcp_done(s);
	} while (n == 64);
}

/* A client TCP segment that passed the destination policy. */
void sle_tcp_packet(struct sle *s, const uint8_t *ip,
		    const struct sle_pkt_info *pi, double now)
{
	struct sle_flow *fl = sle_flows_find(&s->flows, pi);
	struct sle_tcp_conn *c;
	enum sle_reason r;

	if (fl && fl->owner) {
		fl->last = now;
		sle_tcp_input(s->tcp, fl->owner, ip, pi);
		return;
	}
	if (fl) /* not the relay's (cannot happen): start afresh */
		sle_flows_del(&s->flows, fl);
	if ((pi->tcp_flags & (SLE_TCP_SYN | SLE_TCP_ACK | SLE_TCP_RST |
			      SLE_TCP_FIN)) != SLE_TCP_SYN) {
		sle_tcp_no_conn(s->tcp, ip, pi);
		return;
	}
	r = sle_flows_client_get(&s->flows, pi, now, &fl);
	if (r != SLE_PASS || !fl) {
		uint8_t rep[SLE_REJECT_MAX];
		size_t n = sle_policy_refuse(
			&s->pol, ip, pi, r != SLE_PASS ? r : SLE_R_MALFORMED,
			rep);

		if (n)
			sle_out(s, rep, (uint32_t)n);
		return;
	}
	c = sle_tcp_open(s->tcp, ip, pi);
	if (!c) {
		sle_flows_del(&s->flows, fl);
	} else {
		c->owner = fl;
		fl->owner = c;
	}
	s->host->metric_set(s->m_flows, s->flows.n);
}

int sle_tcp_start(struct sle *s)
{
	struct sle_tcp_env env = {
		.arg = s,
		.now = env_now,
		.connect = env_connect,
		.write = env_write,
		.peek = env_peek,
		.discard = env_discard,
		.shutdown_wr = env_shutdown_wr,
		.sndspace = env_sndspace,
		.watch = env_watch,
		.timer = env_timer,
		.wupd_timer = env_wupd_timer,
		.release = env_release,
		.emit = env_emit,
	};

	s->tcp = calloc(1, sizeof(*s->tcp));
	if (!s->tcp)
		return EVPN_ERR_NOMEM;
	if (sle_tcp_init(s->tcp, &env, s->mtu, s->flows.budget) < 0)
		goto fail;
	s->tcp->base = &s->flows.mem;
	s->tcp->bbr = s->tcp_bbr;
	/* RFC 6528's secret: a clock would make sequence numbers guessable */
	if (getrandom(&s->tcp->isn_key, sizeof(s->tcp->isn_key), 0) !=
	    (ssize_t)sizeof(s->tcp->isn_key)) {
		evpn_error(s->host, "tcp relay: no random key for sequence "
				    "numbers (getrandom failed)");
		goto fail;
	}
	s->tcp_ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->tcp_ep < 0)
		goto fail;
	s->tcp_io =
		s->host->io_new(s->host, s->tcp_ep, EVPN_IO_READ, on_epoll, s);
	if (!s->tcp_io)
		goto fail;
	evpn_info(s->host, "TCP relay: MSS %u (IPv6 %u), window scale %d, %s",
		  s->tcp->mss4, s->tcp->mss6, SLE_TCP_WSCALE,
		  s->tcp_bbr ? "BBR" : "CUBIC");
	return EVPN_OK;
fail:
	sle_tcp_stop(s);
	return EVPN_ERR_NOMEM;
}

void sle_tcp_stop(struct sle *s)
{
	if (!s->tcp)
		return;
	for (uint32_t i = 0; i < s->flows.cap; i++)
		if (s->flows.tab[i].used && s->flows.tab[i].owner)
			sle_tcp_kill(s->tcp, s->flows.tab[i].owner, false,
				     true);
	s->tcp->acks = NULL;
	if (s->tcp_io)
		s->host->io_free(s->tcp_io);
	s->tcp_io = NULL;
	if (s->tcp_ep >= 0)
		close(s->tcp_ep);
	s->tcp_ep = -1;
	sle_tcp_free(s->tcp);
	free(s->tcp);
	s->tcp = NULL;
}
