// SPDX-License-Identifier: MIT
/*
 * Glue between the host (loop, config, metrics) and the WireGuard device:
 * the UDP socket with recvmmsg/sendmmsg batches, the timer tick, the UAPI
 * socket, and the evpn_transport_ops vtable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <evpn/host.h>
#include <evpn/transport.h>

#include "stream.h"
#include "uapi.h"
#include "wg.h"

#define RX_BATCH 32
#define RX_ROUNDS 8 /* batches per wake-up before yielding to the loop */
#define RX_BUF 4096
#define UAPI_MAX_CONN 8
#define UAPI_REQ_MAX 8192

struct uapi_conn {
	struct wgp *w;
	int fd;
	struct evpn_io *io;
	size_t len;
	char buf[UAPI_REQ_MAX];
};

struct wgp {
	const struct evpn_host *host;
	struct wg_device dev;
	struct evpn_sink to_egress;
	bool attached;

	char listen[128];
	char uapi_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char uapi_dir[256];
	char uapi_fallback_dir[256];
	char uapi_name[64];
	bool uapi_private_key;
	int fd;
	uint16_t port;
	struct sockaddr_storage bound;
	struct evpn_io *io;
	struct evpn_timer *tick;
	struct evpn_timer *rate_timer; /* releases rate-limited packets */
	int uapi_fd;
	struct evpn_io *uapi_io;
	struct uapi_conn *conns[UAPI_MAX_CONN];

	/* receive batch: buffers allocated once */
	uint8_t (*rxbuf)[RX_BUF];
	struct mmsghdr rxmsg[RX_BATCH];
	struct iovec rxiov[RX_BATCH];
	struct sockaddr_storage rxaddr[RX_BATCH];
	struct evpn_pkt out[RX_BATCH];
	struct mmsghdr txmsg[WG_TXQ_LEN];
	struct iovec txiov[WG_TXQ_LEN];
	/* UDP GSO: runs of equal-sized datagrams to one endpoint go out as
	 * one message (one route lookup, one pass down the stack). */
	union {
		char buf[CMSG_SPACE(sizeof(uint16_t))];
		struct cmsghdr align;
	} txcmsg[WG_TXQ_LEN];
	bool no_gso;

	struct evpn_metric *m_drops[WG_DROP__COUNT];
	struct evpn_metric *m_events[WG_EV__COUNT];
	struct evpn_metric *m_peers, *m_rx_bytes, *m_tx_bytes;
	struct evpn_metric *m_rate[2]; /* rate-limited packets: rx, tx */

	/* WireGuard over WebSocket (stream.c); NULL when off. */
	struct wg_stream_cfg stream_cfg;
	struct wg_stream_srv *stream;
	unsigned srx_n; /* stream datagrams batched in rxbuf/out */
};

static const struct evpn_config_key wg_schema[] = {
	{.key = "listen",
	 .type = EVPN_CFG_ADDR,
	 .def = "0.0.0.0:51820",
	 .desc = "UDP address:port to listen on"},
	{.key = "uapi_name",
	 .type = EVPN_CFG_STRING,
	 .def = "evpn0",
	 .desc = "interface name of the UAPI socket (`wg show NAME`); "
		 "empty disables it"},
	{.key = "uapi_dir",
	 .type = EVPN_CFG_STRING,
	 .def = "/var/run/wireguard",
	 .desc = "directory of the UAPI socket NAME.sock (created 0700 if "
		 "missing)"},
	{.key = "uapi_fallback_dir",
	 .type = EVPN_CFG_STRING,
	 .def = "",
	 .desc = "where the socket goes when uapi_dir cannot be used (not "
		 "root); empty: no UAPI then"},
	{.key = "uapi_private_key",
	 .type = EVPN_CFG_BOOL,
	 .def = "false",
	 .desc = "include the server's private key in the get=1 answer "
		 "(`wg showconf`, the interface's public key in `wg show`)"},
	{.key = "handshake_load_threshold",
	 .type = EVPN_CFG_INT,
	 .def = "1000",
	 .desc = "handshake messages per second above which the server "
		 "answers with cookies and requires mac2",
	 .min = 1,
	 .max = 10000000},
	{.key = "ratelimit_per_source",
	 .type = EVPN_CFG_INT,
	 .def = "20",
	 .desc = "handshake messages per second accepted from one source "
		 "address (IPv6: one /64); 0 disables",
	 .min = 0,
	 .max = 1000000},
	{.key = "ratelimit_burst",
	 .type = EVPN_CFG_INT,
	 .def = "5",
	 .desc = "burst allowance of the per-source handshake limit",
	 .min = 1,
	 .max = 1000000},
	{.key = "stream",
	 .type = EVPN_CFG_MAP,
	 .desc = "WireGuard over WebSocket for networks that block UDP (off "
		 "unless stream.listen is set)",
	 .children = wg_stream_keys},
	EVPN_CONFIG_KEYS_END,
};

/* ---------------------------------------------------------------- device cb */

static double cb_now(void *arg)
{
	struct wgp *w = arg;

	return w->host->now(w->host);
}

static void cb_drop(void *arg, enum wg_drop r)
{
	struct wgp *w = arg;

	if (w->m_drops[r])
		w->host->metric_add(w->m_drops[r], 1);
	if (r == WG_DROP_RATE_LIMIT_RX || r == WG_DROP_RATE_LIMIT_TX)
		w->host->metric_add(w->m_rate[r == WG_DROP_RATE_LIMIT_TX], 1);
}

static void cb_event(void *arg, enum wg_event ev)
{
	struct wgp *w = arg;

	if (w->m_events[ev])
		w->host->metric_add(w->m_events[ev], 1);
}

/* A packet a rate limit held back, released now: to the egress alone. */
static void cb_deliver(void *arg, struct evpn_pkt *pkt)
{
	struct wgp *w = arg;
	struct evpn_pkt_batch batch = {.pkts = pkt, .n = 1};

	if (w->attached)
		w->to_egress.deliver(w->to_egress.self, &batch);
}

/* Release the rate-limited packets that may go now, and wake up when the
 * next one may. */
static void rate_kick(struct wgp *w)
{
	double next, now;

	if (!w->rate_timer || wg_list_empty(&w->dev.rate_peers))
		return;
	wg_device_rate_poll(&w->dev);
	wg_device_flush(&w->dev);
	next = wg_device_rate_next(&w->dev);
	if (!next)
		return;
	now = w->host->now(w->host);
	/* at least 100 us: a burst of wake-ups is no use to anyone */
	w->host->timer_arm(w->rate_timer, next - now > 1e-4 ? next - now : 1e-4,
			   0);
}

static void on_rate_timer(struct evpn_timer *t, void *arg)
{
	(void)t;
	rate_kick(arg);
}

static bool cb_peer_ok(void *arg, const struct wg_peer *p,
		       const struct sockaddr_storage *from)
{
	struct wgp *w = arg;

	return wg_stream_peer_ok(w->stream, from, p->public_key);
}

/* Datagrams to streams go there; the rest stay in slots[0..return). */
static unsigned divert_to_streams(struct wgp *w, struct wg_txslot *slots,
				  unsigned n)
{
	unsigned i, k = 0;

	for (i = 0; i < n; i++) {
		if (wg_stream_addr(&slots[i].to)) {
			wg_stream_send(w->stream, &slots[i].to, slots[i].data,
				       slots[i].len);
			continue;
		}
		if (k != i)
			slots[k] = slots[i];
		k++;
	}
	return k;
}

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

static bool same_dest(const struct wg_txslot *a, const struct wg_txslot *b)
{
	return a->to.ss_family == b->to.ss_family &&
	       !memcmp(&a->to, &b->to, ss_len(&a->to));
}

/* Datagrams i.. that can share one GSO message: same destination, same
 * size (the last may be shorter), at most 64 KiB in all. */
static unsigned gso_run(const struct wg_txslot *s, unsigned i, unsigned n)
{
	unsigned j = i + 1, seg = s[i].len, total = seg;

	while (j < n && same_dest(&s[i], &s[j]) && s[j].len <= seg &&
	       total + s[j].len <= 65000) {
		total += s[j].len;
		if (s[j++].len < seg)
			break;
	}
	return j - i;
}

static void cb_flush(void *arg, struct wg_txslot *slots, unsigned n)
{
	struct wgp *w = arg;
	uint64_t bytes = 0;
	unsigned i, k, m = 0, done = 0;
	int rc;

	if (w->stream)
		n = divert_to_streams(w, slots, n);
	if (w->fd < 0 || !n)
		return;
	for (i = 0; i < n; i++) {
		w->txiov[i].iov_base = slots[i].data;
		w->txiov[i].iov_len = slots[i].len;
		bytes += slots[i].len;
	}
	for (i = 0; i < n; i += k, m++) {
		struct msghdr *h = &w->txmsg[m].msg_hdr;

		k = w->no_gso ? 1 : gso_run(slots, i, n);
		memset(h, 0, sizeof(*h));
		h->msg_name = &slots[i].to;
		h->msg_namelen = ss_len(&slots[i].to);
		h->msg_iov = &w->txiov[i];
		h->msg_iovlen = k;
		if (k > 1) {
			struct cmsghdr *c;
			uint16_t seg = (uint16_t)slots[i].len;

			h->msg_control = w->txcmsg[m].buf;
			h->msg_controllen = sizeof(w->txcmsg[m].buf);
			c = CMSG_FIRSTHDR(h);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(seg));
			memcpy(CMSG_DATA(c), &seg, sizeof(seg));
		}
	}
	while (done < m) {
		rc = sendmmsg(w->fd, w->txmsg + done, m - done, 0);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			if (w->txmsg[done].msg_hdr.msg_controllen &&
			    !w->no_gso &&
			    (errno == EINVAL || errno == EIO ||
			     errno == ENOPROTOOPT || errno == EOPNOTSUPP)) {
				/* No UDP GSO here: send without it from now
				 * on, these datagrams one by one. */
				struct msghdr *h = &w->txmsg[done].msg_hdr;
				size_t x;

				w->no_gso = true;
				for (x = 0; x < h->msg_iovlen; x++)
					(void)sendto(
						w->fd, h->msg_iov[x].iov_base,
						h->msg_iov[x].iov_len, 0,
						h->msg_name, h->msg_namelen);
				done++;
				continue;
			}
			/* A full socket buffer or an unreachable
			 * destination: skip that one datagram. UDP may
			 * lose packets; WireGuard copes. */
			wg_device_count_drop(&w->dev, WG_DROP_SEND_FAILED);
			done++;
			continue;
		}
		done += (unsigned)rc;
	}
	w->host->metric_add(w->m_tx_bytes, bytes);
}

/* ---------------------------------------------------------------- UDP */

static int parse_addr(const char *s, struct sockaddr_storage *out)
{
	char host[128];
	const char *colon, *port;
	struct addrinfo hints = {0}, *res = NULL;
	size_t hl;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return EVPN_ERR_CONFIG;
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(host))
			return EVPN_ERR_CONFIG;
		memcpy(host, s + 1, hl);
		port = rb + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return EVPN_ERR_CONFIG;
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			return EVPN_ERR_CONFIG;
		memcpy(host, s, hl);
		port = colon + 1;
	}
	host[hl] = 0;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (getaddrinfo(hl ? host : NULL, port, &hints, &res) != 0 || !res)
		return EVPN_ERR_CONFIG;
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return EVPN_OK;
}

static void on_udp(struct evpn_io *io, int fd, int revents, void *arg)
{
	struct wgp *w = arg;
	struct evpn_pkt_batch batch;
	uint64_t bytes = 0;
	int n, i, round;
	uint32_t nout;

	for (round = 0; round < RX_ROUNDS; round++) {
		for (i = 0; i < RX_BATCH; i++) {
			w->rxmsg[i].msg_hdr.msg_namelen = sizeof(w->rxaddr[i]);
			w->rxmsg[i].msg_hdr.msg_flags = 0;
		}
		n = recvmmsg(fd, w->rxmsg, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		nout = 0;
		for (i = 0; i < n; i++) {
			size_t len = w->rxmsg[i].msg_len;

			bytes += len;
			if (w->rxmsg[i].msg_hdr.msg_flags & MSG_TRUNC) {
				wg_device_count_drop(&w->dev, WG_DROP_TOO_BIG);
				continue;
			}
			if (wg_device_rx(&w->dev, w->rxbuf[i], len, RX_BUF,
					 &w->rxaddr[i], &w->out[nout]))
				nout++;
		}
		/* Replies first (handshake responses, keepalives), then the
		 * decrypted packets to the egress, which may answer at once
		 * through send(). */
		wg_device_flush(&w->dev);
		if (nout && w->attached) {
			batch.pkts = w->out;
			batch.n = nout;
			w->to_egress.deliver(w->to_egress.self, &batch);
		}
		wg_device_flush(&w->dev);
		if (n < RX_BATCH)
			break;
	}
	w->host->metric_add(w->m_rx_bytes, bytes);
	rate_kick(w);
}

/* Datagrams from streams take the UDP path's buffers (never in use at the
 * same time: one loop thread) and reach the egress in batches too. */
static void on_stream_rx_end(void *arg)
{
	struct wgp *w = arg;
	struct evpn_pkt_batch batch;

	wg_device_flush(&w->dev);
	if (w->srx_n && w->attached) {
		batch.pkts = w->out;
		batch.n = w->srx_n;
		w->to_egress.deliver(w->to_egress.self, &batch);
	}
	w->srx_n = 0;
	wg_device_flush(&w->dev);
	rate_kick(w);
}

static void on_stream_rx(void *arg, uint8_t *buf, size_t len, size_t cap,
			 const struct sockaddr_storage *from)
{
	struct wgp *w = arg;
	uint8_t *slot;

	if (w->srx_n == RX_BATCH)
		on_stream_rx_end(w);
	if (len > RX_BUF)
		return;
	slot = w->rxbuf[w->srx_n];
	memcpy(slot, buf, len);
	if (wg_device_rx(&w->dev, slot, len, RX_BUF, from, &w->out[w->srx_n]))
		w->srx_n++;
}

static void on_tick(struct evpn_timer *t, void *arg)
{
	struct wgp *w = arg;

	wg_device_tick(&w->dev);
	wg_device_flush(&w->dev);
	rate_kick(w);
	w->host->metric_set(w->m_peers, w->dev.n_peers);
}

/* ---------------------------------------------------------------- UAPI */

static void conn_close(struct uapi_conn *c)
{
	struct wgp *w = c->w;
	int i;

	for (i = 0; i < UAPI_MAX_CONN; i++)
		if (w->conns[i] == c)
			w->conns[i] = NULL;
	w->host->io_free(c->io);
	close(c->fd);
	free(c);
}

static void write_all(int fd, const char *s, size_t n)
{
	ssize_t r;

	/* Answers are small; the socket is made blocking for the write,
	 * with a send timeout so a stuck reader cannot hold the loop. */
	while (n) {
		r = write(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		s += r;
		n -= (size_t)r;
	}
}

static void on_conn(struct evpn_io *io, int fd, int revents, void *arg)
{
	struct uapi_conn *c = arg;
	struct wgp *w = c->w;
	enum wg_uapi_op op;
	struct timeval tv = {.tv_sec = 1};
	char *ans;
	size_t n;
	ssize_t r;

	r = read(fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)r;
	op = wg_uapi_parse(c->buf, c->len);
	if (op == WG_UAPI_INCOMPLETE && c->len < sizeof(c->buf))
		return;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (op == WG_UAPI_GET) {
		ans = wg_uapi_get(&w->dev, w->port, w->uapi_private_key, &n);
		if (ans) {
			write_all(fd, ans, n);
			/* The answer may hold the private key. */
			wg_wipe(ans, n);
			free(ans);
		} else {
			write_all(fd, "errno=12\n\n", 10);
		}
	} else if (op == WG_UAPI_SET) {
		/* Peers come from the users service; see README. */
		write_all(fd, "errno=95\n\n", 10);
	} else {
		write_all(fd, "errno=22\n\n", 10);
	}
	conn_close(c);
}

static void on_uapi(struct evpn_io *io, int fd, int revents, void *arg)
{
	struct wgp *w = arg;
	struct uapi_conn *c;
	int cfd, i;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	for (i = 0; i < UAPI_MAX_CONN && w->conns[i]; i++)
		;
	if (i == UAPI_MAX_CONN) {
		close(cfd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return;
	}
	c->w = w;
	c->fd = cfd;
	c->io = w->host->io_new(w->host, cfd, EVPN_IO_READ, on_conn, c);
	if (!c->io) {
		close(cfd);
		free(c);
		return;
	}
	w->conns[i] = c;
}

/* mkdir -p with mode 0700 for what is created; 0 if DIR exists after. */
static int mkdir_0700(const char *dir)
{
	char p[256];
	size_t i, n = strlen(dir);

	if (n == 0 || n >= sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(p, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -1;
		p[i] = dir[i];
	}
	return 0;
}

/* Listen on DIR/NAME.sock: the socket 0600 (umask 0077 at bind, then
 * chmod), so only the daemon's own user and root can connect; DIR is
 * created 0700 (with its parents) if missing. Returns the fd, or -1 with *err
 * set (*in_use: another live process answers there - no reason to look
 * elsewhere). */
static int uapi_listen(const char *dir, const char *name,
		       struct sockaddr_un *sa, const char **err, bool *in_use)
{
	mode_t old;
	int fd, rc;

	*in_use = false;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	rc = snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s.sock", dir,
		      name);
	if (rc < 0 || (size_t)rc >= sizeof(sa->sun_path)) {
		*err = "socket path too long";
		return -1;
	}
	if (mkdir_0700(dir) < 0)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* A stale socket of a dead process is replaced; a live one is not. */
	if (connect(fd, (struct sockaddr *)sa, sizeof(*sa)) == 0) {
		*err = "in use by another process";
		*in_use = true;
		close(fd);
		return -1;
	}
	unlink(sa->sun_path);
	old = umask(0077);
	rc = bind(fd, (struct sockaddr *)sa, sizeof(*sa));
	umask(old);
	if (rc < 0)
		goto fail_close;
	if (chmod(sa->sun_path, 0600) < 0 || listen(fd, 8) < 0) {
		rc = errno;
		unlink(sa->sun_path); /* ours: bound a moment ago */
		errno = rc;
		goto fail_close;
	}
	return fd;
fail_close:
	rc = errno;
	close(fd);
	errno = rc;
fail:
	*err = strerror(errno);
	return -1;
}

static void uapi_start(struct wgp *w, const char *name)
{
	struct sockaddr_un sa;
	const char *err, *err2;
	char why[128];
	bool in_use;
	int fd;

	if (!name[0])
		return;
	fd = uapi_listen(w->uapi_dir, name, &sa, &err, &in_use);
	if (fd < 0 && !in_use && w->uapi_fallback_dir[0] &&
	    strcmp(w->uapi_fallback_dir, w->uapi_dir)) {
		/* strerror's text may not survive the next call */
		snprintf(why, sizeof(why), "%s", err);
		/* Not root (a container, a plain user): the configured
		 * fallback is the expected place, hence info, not warn. */
		fd = uapi_listen(w->uapi_fallback_dir, name, &sa, &err2,
				 &in_use);
		if (fd >= 0)
			evpn_info(w->host,
				  "UAPI: %s not usable (%s); using %s (`wg` "
				  "looks only in /var/run/wireguard)",
				  w->uapi_dir, why, w->uapi_fallback_dir);
		else
			evpn_warn(w->host,
				  "UAPI disabled: %s: %s; fallback %s: %s",
				  w->uapi_dir, why, w->uapi_fallback_dir, err2);
		if (fd < 0)
			return;
	} else if (fd < 0) {
		evpn_warn(w->host, "UAPI disabled: %s/%s.sock: %s", w->uapi_dir,
			  name, err);
		return;
	}
	w->uapi_io = w->host->io_new(w->host, fd, EVPN_IO_READ, on_uapi, w);
	if (!w->uapi_io) {
		close(fd);
		unlink(sa.sun_path);
		return;
	}
	w->uapi_fd = fd;
	snprintf(w->uapi_path, sizeof(w->uapi_path), "%s", sa.sun_path);
	evpn_info(w->host, "UAPI socket %s (wg show %s; private key %s)",
		  w->uapi_path, name,
		  w->uapi_private_key ? "included" : "withheld");
}

static void uapi_stop(struct wgp *w)
{
	int i;

	for (i = 0; i < UAPI_MAX_CONN; i++)
		if (w->conns[i])
			conn_close(w->conns[i]);
	if (w->uapi_io)
		w->host->io_free(w->uapi_io);
	w->uapi_io = NULL;
	if (w->uapi_fd >= 0) {
		close(w->uapi_fd);
		unlink(w->uapi_path);
	}
	w->uapi_fd = -1;
}

/* ---------------------------------------------------------------- lifecycle */

static int wgp_create(const struct evpn_host *host,
		      const struct evpn_config_node *cfg, void **self)
{
	const struct evpn_config_ops *c = host->config;
	struct wg_device_ops ops = {0};
	struct wg_device_config dc = {0};
	struct sockaddr_storage ss;
	struct wgp *w;
	char labels[96];
	int rc, i;
	static const char *const ev_names[WG_EV__COUNT] = {
		"initiation_sent", "response_sent", "completed", "cookie_sent",
		"keepalive_sent"};

	w = calloc(1, sizeof(*w));
	if (!w)
		return EVPN_ERR_NOMEM;
	w->host = host;
	w->fd = -1;
	w->uapi_fd = -1;
	snprintf(w->listen, sizeof(w->listen), "%s",
		 c->get_str(cfg, "listen", "0.0.0.0:51820"));
	snprintf(w->uapi_name, sizeof(w->uapi_name), "%s",
		 c->get_str(cfg, "uapi_name", "evpn0"));
	snprintf(w->uapi_dir, sizeof(w->uapi_dir), "%s",
		 c->get_str(cfg, "uapi_dir", "/var/run/wireguard"));
	snprintf(w->uapi_fallback_dir, sizeof(w->uapi_fallback_dir), "%s",
		 c->get_str(cfg, "uapi_fallback_dir", ""));
	w->uapi_private_key = c->get_bool(cfg, "uapi_private_key", false);
	if (parse_addr(w->listen, &ss) != EVPN_OK ||
	    strchr(w->uapi_name, '/')) {
		evpn_error(host, "bad listen address '%s' or uapi_name",
			   w->listen);
		rc = EVPN_ERR_CONFIG;
		goto fail;
	}
	dc.mtu =
		host->network && host->network->mtu ? host->network->mtu : 1420;
	dc.handshake_load_threshold =
		(unsigned)c->get_int(cfg, "handshake_load_threshold", 1000);
	dc.ratelimit_per_source =
		(unsigned)c->get_int(cfg, "ratelimit_per_source", 20);
	dc.ratelimit_burst = (unsigned)c->get_int(cfg, "ratelimit_burst", 5);
	rc = wg_stream_config(host, c->get(cfg, "stream"), &w->stream_cfg);
	if (rc != EVPN_OK)
		goto fail;
	ops.arg = w;
	ops.flush = cb_flush;
	ops.now = cb_now;
	ops.drop = cb_drop;
	ops.event = cb_event;
	ops.peer_ok = cb_peer_ok;
	ops.deliver = cb_deliver;
	rc = wg_device_init(&w->dev, &ops, &dc);
	if (rc != EVPN_OK)
		goto fail_free;

	w->rxbuf = calloc(RX_BATCH, RX_BUF);
	if (!w->rxbuf) {
		rc = EVPN_ERR_NOMEM;
		goto fail_dev;
	}
	for (i = 0; i < RX_BATCH; i++) {
		w->rxiov[i].iov_base = w->rxbuf[i];
		w->rxiov[i].iov_len = RX_BUF;
		w->rxmsg[i].msg_hdr.msg_name = &w->rxaddr[i];
		w->rxmsg[i].msg_hdr.msg_iov = &w->rxiov[i];
		w->rxmsg[i].msg_hdr.msg_iovlen = 1;
	}
	for (i = 0; i < WG_DROP__COUNT; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"",
			 wg_drop_name(i));
		w->m_drops[i] = host->metric(
			host, EVPN_METRIC_COUNTER, "evpn_wg_drops_total",
			"WireGuard datagrams/packets dropped, by reason",
			labels);
	}
	for (i = 0; i < WG_EV__COUNT; i++) {
		snprintf(labels, sizeof(labels), "event=\"%s\"", ev_names[i]);
		w->m_events[i] = host->metric(
			host, EVPN_METRIC_COUNTER, "evpn_wg_handshakes_total",
			"WireGuard handshake events", labels);
	}
	for (i = 0; i < 2; i++)
		w->m_rate[i] = host->metric(
			host, EVPN_METRIC_COUNTER,
			"evpn_transport_rate_limited_packets_total",
			"Tunnelled packets dropped by users' rate limits, by "
			"direction (rx: sent by the user, tx: sent to it)",
			i ? "direction=\"tx\"" : "direction=\"rx\"");
	w->m_peers = host->metric(host, EVPN_METRIC_GAUGE, "evpn_wg_peers",
				  "configured WireGuard peers", NULL);
	w->m_rx_bytes = host->metric(host, EVPN_METRIC_COUNTER,
				     "evpn_wg_rx_bytes_total",
				     "UDP bytes received", NULL);
	w->m_tx_bytes =
		host->metric(host, EVPN_METRIC_COUNTER,
			     "evpn_wg_tx_bytes_total", "UDP bytes sent", NULL);
	*self = w;
	return EVPN_OK;

fail_dev:
	wg_device_destroy(&w->dev);
fail_free:
fail:
	free(w);
	return rc;
}

static int wgp_start(void *self)
{
	struct wgp *w = self;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(w->bound);
	int one = 1, size = 4 << 20;

	if (parse_addr(w->listen, &ss) != EVPN_OK)
		return EVPN_ERR_CONFIG;
	w->fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (w->fd < 0)
		return EVPN_ERR_IO;
	if (ss.ss_family == AF_INET6) {
		int zero = 0; /* dual-stack on "[::]:port" */

		setsockopt(w->fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero,
			   sizeof(zero));
	}
	setsockopt(w->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(w->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	setsockopt(w->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (bind(w->fd, (struct sockaddr *)&ss, ss_len(&ss)) < 0) {
		evpn_error(w->host, "cannot bind UDP %s: %s", w->listen,
			   strerror(errno));
		goto fail;
	}
	getsockname(w->fd, (struct sockaddr *)&w->bound, &sl);
	w->port = ntohs(w->bound.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&w->bound)->sin6_port
				: ((struct sockaddr_in *)&w->bound)->sin_port);
	w->io = w->host->io_new(w->host, w->fd, EVPN_IO_READ, on_udp, w);
	w->tick = w->host->timer_new(w->host, on_tick, w);
	w->rate_timer = w->host->timer_new(w->host, on_rate_timer, w);
	if (!w->io || !w->tick || !w->rate_timer)
		goto fail;
	w->host->timer_arm(w->tick, 0.1, 0.1);
	if (wg_stream_start(w->host, &w->stream_cfg, on_stream_rx,
			    on_stream_rx_end, w, &w->stream) != EVPN_OK)
		goto fail;
	uapi_start(w, w->uapi_name);
	evpn_info(w->host, "WireGuard listening on UDP port %u, %u peers",
		  w->port, w->dev.n_peers);
	return EVPN_OK;
fail:
	if (w->io)
		w->host->io_free(w->io);
	if (w->tick)
		w->host->timer_free(w->tick);
	if (w->rate_timer)
		w->host->timer_free(w->rate_timer);
	w->io = NULL;
	w->tick = NULL;
	w->rate_timer = NULL;
	close(w->fd);
	w->fd = -1;
	return EVPN_ERR_IO;
}

static void wgp_stop(void *self)
{
	struct wgp *w = self;

	uapi_stop(w);
	wg_stream_stop(w->stream);
	w->stream = NULL;
	if (w->tick)
		w->host->timer_free(w->tick);
	w->tick = NULL;
	if (w->rate_timer)
		w->host->timer_free(w->rate_timer);
	w->rate_timer = NULL;
	if (w->io)
		w->host->io_free(w->io);
	w->io = NULL;
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

static void wgp_destroy(void *self)
{
	struct wgp *w = self;

	if (!w)
		return;
	wgp_stop(w);
	wg_device_destroy(&w->dev);
	free(w->rxbuf);
	free(w);
}

/* ---------------------------------------------------------------- vtable */

static int wgp_attach(void *self, const struct evpn_sink *to_egress)
{
	struct wgp *w = self;

	if (!to_egress || !to_egress->deliver)
		return EVPN_ERR_INVAL;
	w->to_egress = *to_egress;
	w->attached = true;
	return EVPN_OK;
}

static void wgp_send(void *self, const struct evpn_pkt_batch *batch)
{
	struct wgp *w = self;
	uint32_t i;

	for (i = 0; i < batch->n; i++)
		wg_device_tx(&w->dev, batch->pkts[i].data, batch->pkts[i].len);
	wg_device_flush(&w->dev);
	rate_kick(w);
}

static int wgp_set_private_key(void *self, const uint8_t key[EVPN_KEY_LEN])
{
	struct wgp *w = self;

	return wg_device_set_private_key(&w->dev, key);
}

static int wgp_peer_upsert(void *self, const struct evpn_peer_config *peer)
{
	struct wgp *w = self;
	int rc;

	/* callers built before rate_limit_bps was appended are welcome */
	if (!peer ||
	    peer->size < offsetof(struct evpn_peer_config, rate_limit_bps))
		return EVPN_ERR_INVAL;
	rc = wg_device_peer_upsert(&w->dev, peer);
	if (rc == EVPN_OK && !peer->enabled)
		wg_stream_peer_removed(w->stream, peer->public_key);
	w->host->metric_set(w->m_peers, w->dev.n_peers);
	return rc;
}

static int wgp_peer_remove(void *self, const uint8_t key[EVPN_KEY_LEN])
{
	struct wgp *w = self;
	int rc = wg_device_peer_remove(&w->dev, key);

	wg_stream_peer_removed(w->stream, key);

	w->host->metric_set(w->m_peers, w->dev.n_peers);
	return rc;
}

static int wgp_peer_stats(void *self, const uint8_t key[EVPN_KEY_LEN],
			  struct evpn_peer_stats *out)
{
	struct wgp *w = self;
	struct wg_peer *p = wg_device_peer_find(&w->dev, key);
	uint32_t size;

	if (!p)
		return EVPN_ERR_NOTFOUND;
	if (!out || out->size < sizeof(*out))
		return EVPN_ERR_INVAL;
	size = out->size;
	memset(out, 0, sizeof(*out));
	out->size = size;
	out->last_handshake_sec = p->last_handshake.tv_sec;
	out->last_handshake_nsec = p->last_handshake.tv_nsec;
	out->rx_bytes = p->rx_bytes;
	out->tx_bytes = p->tx_bytes;
	memcpy(&out->endpoint, &p->endpoint, sizeof(p->endpoint));
	return EVPN_OK;
}

static uint32_t wgp_peer_count(void *self)
{
	struct wgp *w = self;

	return w->dev.n_peers;
}

static int wgp_bound_address(void *self, struct sockaddr_storage *out)
{
	struct wgp *w = self;

	if (w->fd < 0)
		return EVPN_ERR_UNAVAILABLE;
	*out = w->bound;
	return EVPN_OK;
}

static const struct evpn_transport_ops wgp_ops = {
	.size = sizeof(struct evpn_transport_ops),
	.attach = wgp_attach,
	.send = wgp_send,
	.set_private_key = wgp_set_private_key,
	.peer_upsert = wgp_peer_upsert,
	.peer_remove = wgp_peer_remove,
	.peer_stats = wgp_peer_stats,
	.peer_count = wgp_peer_count,
	.bound_address = wgp_bound_address,
};

static const struct evpn_plugin_desc wgp_desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "wireguard",
	.kind = EVPN_KIND_TRANSPORT,
	.version = "0.1.0",
	.description = "WireGuard protocol (Noise_IKpsk2) on a UDP socket",
	.schema = wg_schema,
	.create = wgp_create,
	.start = wgp_start,
	.stop = wgp_stop,
	.destroy = wgp_destroy,
	.vtable = &wgp_ops,
};

EVPN_PLUGIN_DEFINE(wgp_desc)
