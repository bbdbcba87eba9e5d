/* SPDX-License-Identifier: MIT */
/*
 * The TCP relay's real side (tcp.h's struct sle_tcp_env): host sockets,
 * one edge-triggered epoll set watched by the loop, two timers per
 * connection, the flow table and the egress's output batches.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "sle.h"
#include "tcp.h"

struct sle_tsock {
	struct sle *s;
	struct sle_tcp_conn *c;
	int fd;
	struct evpn_timer *rto, *wupd;
};

static bool peek_off_ok; /* SO_PEEK_OFF works for TCP (Linux >= 6.9) */
static uint8_t *discard_buf; /* without it: peeked, then thrown away */

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
	sle_tcp_flush(s->tcp);
	sle_flush(s);
}

static void on_wupd(struct evpn_timer *tm, void *arg)
{
	struct sle_tsock *k = arg;
	struct sle *s = k->s;

	sle_tcp_wupd(s->tcp, k->c);
	sle_tcp_flush(s->tcp);
	sle_flush(s);
}

static int env_connect(void *arg, struct sle_tcp_conn *c)
{
	struct sle *s = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct epoll_event ev = {0};
	struct sle_tsock *k = calloc(1, sizeof(*k));
	int one = 1, zero = 0, err;

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
	if (peek_off_ok &&
	    setsockopt(k->fd, SOL_SOCKET, SO_PEEK_OFF, &zero, sizeof(zero)))
		peek_off_ok = false;
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

static ssize_t env_write(void *arg, struct sle_tcp_conn *c, const uint8_t *p,
			 size_t n)
{
	ssize_t r = send(ts(c)->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return r;
}

/* Without SO_PEEK_OFF: has the peer closed (FIN received)? */
static bool peer_closed(int fd)
{
	struct tcp_info ti;
	socklen_t l = sizeof(ti);

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
		return false;
	return ti.tcpi_state == TCP_CLOSE_WAIT ||
	       ti.tcpi_state == TCP_LAST_ACK || ti.tcpi_state == TCP_CLOSE ||
	       ti.tcpi_state == TCP_CLOSING || ti.tcpi_state == TCP_TIME_WAIT;
}

static ssize_t env_peek(void *arg, struct sle_tcp_conn *c, uint32_t off,
			uint8_t *buf, size_t n)
{
	int fd = ts(c)->fd, o = (int)off;
	struct iovec iov[2];
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = 2};
	ssize_t r;

	if (peek_off_ok) {
		if (setsockopt(fd, SOL_SOCKET, SO_PEEK_OFF, &o, sizeof(o)) < 0)
			return -errno;
		r = recv(fd, buf, n, MSG_PEEK | MSG_DONTWAIT);
		if (r < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		return r;
	}
	if (off > SLE_TCP_WND_MAX * 2u)
		return -EINVAL;
	iov[0].iov_base = discard_buf;
	iov[0].iov_len = off;
	iov[1].iov_base = buf;
	iov[1].iov_len = n;
	r = recvmsg(fd, &mh, MSG_PEEK | MSG_DONTWAIT);
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (r > (ssize_t)off)
		return r - (ssize_t)off;
	return peer_closed(fd) ? 0 : -EAGAIN;
}

static void env_discard(void *arg, struct sle_tcp_conn *c, uint32_t n)
{
	while (n) {
		ssize_t r = recv(ts(c)->fd, NULL, n, MSG_TRUNC | MSG_DONTWAIT);

		if (r <= 0)
			break;
		n -= (uint32_t)r;
	}
}

static void env_shutdown_wr(void *arg, struct sle_tcp_conn *c)
{
	shutdown(ts(c)->fd, SHUT_WR);
}

/* Free space in the send queue. SO_SNDBUF counts the kernel's buffer
 * overhead too (about double the payload); SIOCOUTQ is payload. */
static uint32_t env_sndspace(void *arg, struct sle_tcp_conn *c)
{
	int sb = 0, q = 0;
	socklen_t l = sizeof(sb);

	if (getsockopt(ts(c)->fd, SOL_SOCKET, SO_SNDBUF, &sb, &l) < 0 ||
	    ioctl(ts(c)->fd, SIOCOUTQ, &q) < 0)
		return 0;
	sb /= 2;
	return sb > q ? (uint32_t)(sb - q) : 0;
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

	if (after < 0)
		s->host->timer_stop(ts(c)->wupd);
	else
		s->host->timer_arm(ts(c)->wupd, after, 0);
}

static void env_release(void *arg, struct sle_tcp_conn *c, bool rst)
{
	struct sle *s = arg;
	struct sle_tsock *k = ts(c);

	if (k) {
		if (rst) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};

			setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		}
		epoll_ctl(s->tcp_ep, EPOLL_CTL_DEL, k->fd, NULL);
		close(k->fd);
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
}

void sle_tcp_done(struct sle *s)
{
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
			if (k->c->state == SLE_TCP_CONNECTING &&
			    (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
				socklen_t l = sizeof(err);

				if (getsockopt(k->fd, SOL_SOCKET, SO_ERROR,
					       &err, &l) < 0)
					err = errno;
				err = -err;
			}
			sle_tcp_sock_event(s->tcp, k->c,
					   e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP |
						EPOLLERR),
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
		size_t n = sle_policy_refuse(&s->pol, ip, pi,
					     r != SLE_PASS ? r : SLE_R_MALFORMED,
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
	int probe, zero = 0;

	s->tcp = calloc(1, sizeof(*s->tcp));
	if (!s->tcp)
		return EVPN_ERR_NOMEM;
	if (sle_tcp_init(s->tcp, &env, s->mtu, s->flows.budget) < 0)
		goto fail;
	s->tcp->base = &s->flows.mem;
	if (getrandom(&s->tcp->isn_key, sizeof(s->tcp->isn_key), 0) < 0)
		s->tcp->isn_key = (uint32_t)(s->host->now(s->host) * 1e6);
	probe = socket(AF_INET, SOCK_STREAM, 0);
	peek_off_ok = probe >= 0 && !setsockopt(probe, SOL_SOCKET, SO_PEEK_OFF,
						&zero, sizeof(zero));
	if (probe >= 0)
		close(probe);
	if (!peek_off_ok) {
		discard_buf = malloc(SLE_TCP_WND_MAX * 2u);
		if (!discard_buf)
			goto fail;
	}
	s->tcp_ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->tcp_ep < 0)
		goto fail;
	s->tcp_io = s->host->io_new(s->host, s->tcp_ep, EVPN_IO_READ, on_epoll,
				    s);
	if (!s->tcp_io)
		goto fail;
	evpn_info(s->host,
		  "TCP relay: MSS %u (IPv6 %u), window scale %d, %s", s->tcp->mss4,
		  s->tcp->mss6, SLE_TCP_WSCALE,
		  peek_off_ok ? "SO_PEEK_OFF" : "peek with a discard buffer");
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
	free(discard_buf);
	discard_buf = NULL;
}
