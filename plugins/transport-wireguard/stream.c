// SPDX-License-Identifier: MIT
/*
 * The stream listener (see stream.h): accept, the HTTP upgrade with the
 * user's key, then WebSocket frames to and from the device.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include <evpn/auth.h>
#include <evpn/users.h>

#include "stream.h"
#include "ws_frame.h"
#include "ws_http.h"

#define ST_IN_CAP (WS_HTTP_HEAD_MAX + 64)
#define ST_MSG_MAX 2048	      /* a WireGuard datagram: MTU + 32, with room */
#define ST_READS 4	      /* reads per wake-up, so one stream cannot hog */
#define ST_SCRATCH (64 << 10) /* one read of an open stream */
#define ST_SLOT_BITS 20	      /* 240.0.0.0/4 holds 2^28 addresses */

enum st_state { ST_UPGRADE, ST_OPEN };

/* Outcomes of an upgrade and reasons a stream ends, each a counter. */
#define ST_RESULTS(X)                           \
	X(UPGRADED, "upgraded")                 \
	X(BAD_UPGRADE, "bad_upgrade")           \
	X(BAD_PATH, "bad_path")                 \
	X(UNAUTHORIZED, "unauthorized")         \
	X(MASTER_KEY, "master_key_refused")     \
	X(INACTIVE, "user_inactive")            \
	X(THROTTLED, "throttled")               \
	X(AUTH_UNAVAILABLE, "auth_unavailable") \
	X(FULL, "too_many_streams")             \
	X(UPGRADE_TIMEOUT, "upgrade_timeout")

#define ST_CLOSES(X)                       \
	X(CLIENT, "client_close")          \
	X(EOF, "eof")                      \
	X(IO, "io_error")                  \
	X(PROTOCOL, "protocol_error")      \
	X(TOO_BIG, "too_big")              \
	X(UNSUPPORTED, "unsupported_data") \
	X(IDLE, "idle")                    \
	X(PEER_MISMATCH, "peer_mismatch")  \
	X(PEER_REMOVED, "peer_removed")    \
	X(SHUTDOWN, "shutdown")

#define ST_DROPS(X)                 \
	X(QUEUE_FULL, "queue_full") \
	X(NO_STREAM, "no_stream")

enum st_result {
#define X(e, s) ST_R_##e,
	ST_RESULTS(X)
#undef X
		ST_R__COUNT
};
enum st_close {
#define X(e, s) ST_C_##e,
	ST_CLOSES(X)
#undef X
		ST_C__COUNT
};
enum st_drop {
#define X(e, s) ST_D_##e,
	ST_DROPS(X)
#undef X
		ST_D__COUNT
};

struct wg_stream {
	struct wg_stream_srv *srv;
	int fd;
	struct evpn_io *io;
	uint32_t slot, gen;
	enum st_state state;
	bool dirty;  /* on the srv's list of streams with output */
	bool doomed; /* close once the current callback returns */
	enum st_close doom_why;
	uint16_t doom_code;
	struct wg_stream *dnext;
	double opened, last_rx, last_ping;
	uint8_t key[EVPN_KEY_LEN]; /* its user's WireGuard public key */
	char remote[INET6_ADDRSTRLEN];
	size_t in_len;
	uint8_t in[ST_IN_CAP];
	uint8_t msgbuf[ST_MSG_MAX]; /* a fragmented message, joined */
	struct ws_msg msg;
	/* Send queue: frames, at most srv->cfg.queue_bytes; allocated while
	 * non-empty only, so an idle stream costs little. */
	uint8_t *out;
	size_t out_off, out_len;
};

struct wg_stream_srv {
	const struct evpn_host *host;
	struct wg_stream_cfg cfg;
	wg_stream_rx_cb rx;
	wg_stream_rx_end_cb rx_end;
	void *rx_arg;
	/* An open stream reads into this, after the partial frame it kept:
	 * big reads, and only a frame's worth of buffer per stream. */
	uint8_t scratch[ST_IN_CAP + ST_SCRATCH];
	int fd;
	uint16_t port;
	struct evpn_io *io;
	struct evpn_timer *tick;
	struct evpn_hook *flush_hook;
	bool accept_paused; /* out of descriptors: the tick resumes */
	struct wg_stream **slots;
	uint32_t n_slots, n_open;
	uint32_t gen;
	struct wg_stream *dirty;
	struct evpn_metric *m_open, *m_rx, *m_tx;
	struct evpn_metric *m_result[ST_R__COUNT];
	struct evpn_metric *m_close[ST_C__COUNT];
	struct evpn_metric *m_drop[ST_D__COUNT];
};

const struct evpn_config_key wg_stream_keys[] = {
	{.key = "listen",
	 .type = EVPN_CFG_STRING,
	 .def = "",
	 .desc = "TCP address:port of the WebSocket stream listener (behind "
		 "a TLS terminator); empty: off"},
	{.key = "path",
	 .type = EVPN_CFG_STRING,
	 .def = "/wg",
	 .desc = "request path of the WebSocket upgrade"},
	{.key = "max_streams",
	 .type = EVPN_CFG_INT,
	 .def = "4096",
	 .desc = "open streams at most; more are refused with 503",
	 .min = 1,
	 .max = 1 << ST_SLOT_BITS},
	{.key = "queue",
	 .type = EVPN_CFG_SIZE,
	 .def = "256k",
	 .desc = "send queue bound per stream; datagrams beyond it are "
		 "dropped (WireGuard's inner TCP slows down)"},
	{.key = "idle_timeout",
	 .type = EVPN_CFG_DURATION,
	 .def = "120s",
	 .desc = "close a stream that sent nothing (not even a pong) this "
		 "long; pings go out after a quarter of it"},
	EVPN_CONFIG_KEYS_END,
};

int wg_stream_config(const struct evpn_host *h,
		     const struct evpn_config_node *node,
		     struct wg_stream_cfg *out)
{
	const struct evpn_config_ops *c = h->config;
	uint64_t q;

	memset(out, 0, sizeof(*out));
	snprintf(out->listen, sizeof(out->listen), "%s",
		 c->get_str(node, "listen", ""));
	snprintf(out->path, sizeof(out->path), "%s",
		 c->get_str(node, "path", "/wg"));
	out->max_streams = (unsigned)c->get_int(node, "max_streams", 4096);
	q = c->get_size(node, "queue", 256 << 10);
	out->idle_timeout = c->get_duration(node, "idle_timeout", 120);
	out->upgrade_timeout = 10;
	if (out->path[0] != '/' || q < 4096 || q > (64u << 20) ||
	    out->idle_timeout < 4) {
		evpn_error(h, "stream: path must start with '/', queue be "
			      "4k..64M, idle_timeout at least 4s");
		return EVPN_ERR_CONFIG;
	}
	out->queue_bytes = (size_t)q;
	return EVPN_OK;
}

/* ---------------------------------------------------------------- addresses */

/* 240.0.0.0/4: slot in the low bits, a generation in the port, so an old
 * stream's address never reaches a newer stream in the same slot. The
 * address alone could be a real (if odd) UDP source, so sin_zero carries
 * a mark no received datagram has: the kernel zeroes it. */
static const uint8_t stream_mark[8] = {'e', 'v', 'p', 'n', 'w', 's', 0, 1};

static void stream_addr(const struct wg_stream *st, struct sockaddr_storage *a)
{
	struct sockaddr_in *in = (struct sockaddr_in *)a;

	memset(a, 0, sizeof(*a));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(0xf0000000u | st->slot);
	in->sin_port = htons((uint16_t)st->gen);
	memcpy(in->sin_zero, stream_mark, sizeof(stream_mark));
}

bool wg_stream_addr(const struct sockaddr_storage *a)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)a;

	return a->ss_family == AF_INET &&
	       !memcmp(in->sin_zero, stream_mark, sizeof(stream_mark));
}

static struct wg_stream *stream_of(struct wg_stream_srv *s,
				   const struct sockaddr_storage *a)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)a;
	uint32_t slot;
	struct wg_stream *st;

	if (!s || !wg_stream_addr(a))
		return NULL;
	slot = ntohl(in->sin_addr.s_addr) & 0x0fffffffu;
	if ((ntohl(in->sin_addr.s_addr) >> 28) != 0xf || slot >= s->n_slots)
		return NULL;
	st = s->slots[slot];
	if (!st || (uint16_t)st->gen != ntohs(in->sin_port) || st->doomed ||
	    st->state != ST_OPEN)
		return NULL;
	return st;
}

/* ---------------------------------------------------------------- metrics */

static void count(struct wg_stream_srv *s, struct evpn_metric *m)
{
	if (m)
		s->host->metric_add(m, 1);
}

static void metrics_init(struct wg_stream_srv *s)
{
	const struct evpn_host *h = s->host;
	static const char *const results[] = {
#define X(e, n) n,
		ST_RESULTS(X)
#undef X
	};
	static const char *const closes[] = {
#define X(e, n) n,
		ST_CLOSES(X)
#undef X
	};
	static const char *const drops[] = {
#define X(e, n) n,
		ST_DROPS(X)
#undef X
	};
	char l[96];
	int i;

	for (i = 0; i < ST_R__COUNT; i++) {
		snprintf(l, sizeof(l), "result=\"%s\"", results[i]);
		s->m_result[i] = h->metric(h, EVPN_METRIC_COUNTER,
					   "evpn_wg_stream_upgrades_total",
					   "WebSocket stream upgrade requests, "
					   "by outcome",
					   l);
	}
	for (i = 0; i < ST_C__COUNT; i++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", closes[i]);
		s->m_close[i] = h->metric(
			h, EVPN_METRIC_COUNTER, "evpn_wg_stream_closes_total",
			"WebSocket streams closed, by reason", l);
	}
	for (i = 0; i < ST_D__COUNT; i++) {
		snprintf(l, sizeof(l), "reason=\"%s\"", drops[i]);
		s->m_drop[i] = h->metric(h, EVPN_METRIC_COUNTER,
					 "evpn_wg_stream_drops_total",
					 "datagrams not sent on a stream, by "
					 "reason",
					 l);
	}
	s->m_open = h->metric(h, EVPN_METRIC_GAUGE, "evpn_wg_streams",
			      "open WebSocket streams", NULL);
	s->m_rx = h->metric(h, EVPN_METRIC_COUNTER,
			    "evpn_wg_stream_rx_bytes_total",
			    "datagram bytes received on streams", NULL);
	s->m_tx = h->metric(h, EVPN_METRIC_COUNTER,
			    "evpn_wg_stream_tx_bytes_total",
			    "datagram bytes queued to streams", NULL);
}

/* ---------------------------------------------------------------- lifetime */

static void stream_free(struct wg_stream *st)
{
	struct wg_stream_srv *s = st->srv;
	struct wg_stream **pp;

	if (st->dirty)
		for (pp = &s->dirty; *pp; pp = &(*pp)->dnext)
			if (*pp == st) {
				*pp = st->dnext;
				break;
			}
	if (st->io)
		s->host->io_free(st->io);
	close(st->fd);
	s->slots[st->slot] = NULL;
	s->n_open--;
	s->host->metric_set(s->m_open, s->n_open);
	sodium_memzero(st->in, sizeof(st->in));
	free(st->out);
	free(st);
}

/* Best effort: the close frame (or an HTTP refusal) goes out if the
 * socket takes it now; a client that does not read loses it. */
static void send_now(struct wg_stream *st, const void *buf, size_t len)
{
	if (len)
		(void)send(st->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void stream_close(struct wg_stream *st, enum st_close why, uint16_t code)
{
	uint8_t fr[4], pl[2] = {(uint8_t)(code >> 8), (uint8_t)code};

	if (st->state == ST_OPEN) {
		/* What is queued first, then the close frame. */
		if (st->out_len > st->out_off)
			send_now(st, st->out + st->out_off,
				 st->out_len - st->out_off);
		send_now(st, fr,
			 ws_frame_build(fr, sizeof(fr), WS_OP_CLOSE, true, NULL,
					pl, sizeof(pl)));
		count(st->srv, st->srv->m_close[why]);
	}
	evpn_debug(st->srv->host, "stream %u from %s closed (%d)", st->slot,
		   st->remote, (int)code);
	stream_free(st);
}

/* Close later: the stream's own callback is still on the stack. */
static void stream_doom(struct wg_stream *st, enum st_close why, uint16_t code)
{
	if (st->doomed)
		return;
	st->doomed = true;
	st->doom_why = why;
	st->doom_code = code;
}

static void refuse(struct wg_stream *st, enum st_result r, int status,
		   const char *reason)
{
	char buf[512];

	count(st->srv, st->srv->m_result[r]);
	evpn_info(st->srv->host, "stream from %s refused: %d %s", st->remote,
		  status, reason);
	send_now(st, buf,
		 ws_http_build_error(buf, sizeof(buf), status, reason));
	stream_free(st);
}

/* ---------------------------------------------------------------- output */

static void mark_dirty(struct wg_stream *st)
{
	if (st->dirty)
		return;
	st->dirty = true;
	st->dnext = st->srv->dirty;
	st->srv->dirty = st;
}

/* Append a frame; false when it does not fit the queue's bound. */
static bool queue_frame(struct wg_stream *st, uint8_t op, const uint8_t *p,
			size_t len)
{
	size_t need = ws_frame_header_len(len, false) + len, cap;

	cap = st->srv->cfg.queue_bytes;
	if (!st->out) {
		st->out = malloc(cap);
		if (!st->out)
			return false;
		st->out_off = st->out_len = 0;
	}
	if (cap - st->out_len < need && st->out_off) {
		memmove(st->out, st->out + st->out_off,
			st->out_len - st->out_off);
		st->out_len -= st->out_off;
		st->out_off = 0;
	}
	if (cap - st->out_len < need)
		return false;
	st->out_len += ws_frame_build(st->out + st->out_len, cap - st->out_len,
				      op, true, NULL, p, len);
	mark_dirty(st);
	return true;
}

/* Write what is queued; watch for writability while some is left. */
static void stream_write(struct wg_stream *st)
{
	ssize_t n;

	while (st->out_off < st->out_len) {
		n = send(st->fd, st->out + st->out_off,
			 st->out_len - st->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			stream_doom(st, ST_C_IO, WS_CLOSE_GOING_AWAY);
			return;
		}
		st->out_off += (size_t)n;
	}
	if (st->out_off == st->out_len) {
		free(st->out);
		st->out = NULL;
		st->out_off = st->out_len = 0;
		st->srv->host->io_set(st->io, EVPN_IO_READ);
	} else {
		st->srv->host->io_set(st->io, EVPN_IO_READ | EVPN_IO_WRITE);
	}
}

/* Before the loop sleeps: every stream with new output writes it, so a
 * burst of datagrams leaves in few writes. */
static void on_prepare(struct evpn_hook *hk, void *arg)
{
	struct wg_stream_srv *s = arg;
	struct wg_stream *st;

	while ((st = s->dirty)) {
		s->dirty = st->dnext;
		st->dirty = false;
		stream_write(st);
		if (st->doomed)
			stream_close(st, st->doom_why, st->doom_code);
	}
}

void wg_stream_send(struct wg_stream_srv *s, const struct sockaddr_storage *to,
		    const uint8_t *data, size_t len)
{
	struct wg_stream *st = stream_of(s, to);

	if (!st) {
		if (s)
			count(s, s->m_drop[ST_D_NO_STREAM]);
		return;
	}
	if (!queue_frame(st, WS_OP_BINARY, data, len)) {
		count(s, s->m_drop[ST_D_QUEUE_FULL]);
		return;
	}
	s->host->metric_add(s->m_tx, len);
}

/* ---------------------------------------------------------------- auth */

/*
 * The user behind a bearer key, and its WireGuard public key. The auth
 * plugin and the users service answer from memory (a hash scan under a
 * mutex, no store I/O), so this runs on the loop thread.
 */
static enum st_result authorize(struct wg_stream *st, const char *authz,
				int *status, const char **reason)
{
	const struct evpn_host *h = st->srv->host;
	const struct evpn_auth_ops *auth;
	const struct evpn_users_ops *users;
	struct evpn_ref aref, uref;
	struct evpn_principal who;
	struct evpn_user u;
	unsigned retry = 0;
	size_t klen = 0;
	int rc;

	*status = 503;
	*reason = "authentication unavailable";
	if (h->get_plugin(h, EVPN_KIND_AUTH, &aref) != EVPN_OK ||
	    h->get_service(h, EVPN_SERVICE_USERS, &uref) != EVPN_OK)
		return ST_R_AUTH_UNAVAILABLE;
	auth = aref.vtable;
	users = uref.vtable;
	rc = auth->authenticate(aref.self, authz[0] ? authz : NULL, st->remote,
				&who, &retry);
	if (rc == EVPN_ERR_AGAIN) {
		*status = 429;
		*reason = "too many failed attempts";
		return ST_R_THROTTLED;
	}
	if (rc == EVPN_ERR_PERM) {
		*status = 401;
		*reason = "a user's API key is required";
		return ST_R_UNAUTHORIZED;
	}
	if (rc != EVPN_OK)
		return ST_R_AUTH_UNAVAILABLE;
	if (who.role != EVPN_ROLE_USER) {
		/* The master key has no tunnel of its own to carry. */
		*status = 403;
		*reason = "the master key cannot open a stream; use the "
			  "user's key";
		return ST_R_MASTER_KEY;
	}
	rc = users->get(uref.self, who.user, &u);
	if (rc != EVPN_OK) {
		*status = 401;
		*reason = "a user's API key is required";
		return ST_R_UNAUTHORIZED;
	}
	if (u.status != EVPN_USER_ACTIVE) {
		*status = 403;
		*reason = "user is not active";
		return ST_R_INACTIVE;
	}
	if (sodium_base642bin(st->key, sizeof(st->key), u.public_key,
			      strlen(u.public_key), NULL, &klen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    klen != sizeof(st->key))
		return ST_R_AUTH_UNAVAILABLE;
	return ST_R_UPGRADED;
}

/* ---------------------------------------------------------------- input */

enum up_result { UP_MORE, UP_OPEN, UP_GONE };

/* The upgrade request. UP_OPEN: the stream is open (bytes after the head,
 * frames already, are left in st->in); UP_GONE: refused and freed. */
static enum up_result on_upgrade(struct wg_stream *st)
{
	struct wg_stream_srv *s = st->srv;
	struct ws_upgrade u;
	enum st_result r;
	const char *reason;
	char buf[256];
	size_t head = 0, n;
	int status = 0;

	switch (ws_http_parse_upgrade((const char *)st->in, st->in_len, &u,
				      &head, &status)) {
	case WS_HTTP_MORE: return UP_MORE;
	case WS_HTTP_BAD:
		refuse(st, ST_R_BAD_UPGRADE, status,
		       "a WebSocket upgrade (RFC 6455) is expected");
		return UP_GONE;
	case WS_HTTP_OK: break;
	}
	if (strcmp(u.path, s->cfg.path)) {
		sodium_memzero(&u, sizeof(u));
		refuse(st, ST_R_BAD_PATH, 404, "no stream at this path");
		return UP_GONE;
	}
	r = authorize(st, u.authorization, &status, &reason);
	sodium_memzero(u.authorization, sizeof(u.authorization));
	if (r != ST_R_UPGRADED) {
		refuse(st, r, status, reason);
		return UP_GONE;
	}
	n = ws_http_build_accept(buf, sizeof(buf), u.key);
	/* The 101 is the first output: it fits any socket buffer. */
	if (!n ||
	    send(st->fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)n) {
		refuse(st, ST_R_AUTH_UNAVAILABLE, 503, "cannot answer");
		return UP_GONE;
	}
	memmove(st->in, st->in + head, st->in_len - head);
	st->in_len -= head;
	/* the request held the key: leave none of it behind */
	sodium_memzero(st->in + st->in_len, head);
	st->state = ST_OPEN;
	st->last_ping = st->last_rx;
	count(s, s->m_result[ST_R_UPGRADED]);
	evpn_info(s->host, "stream %u from %s open", st->slot, st->remote);
	return UP_OPEN;
}

static enum st_close close_reason(uint16_t code)
{
	switch (code) {
	case WS_CLOSE_TOO_BIG: return ST_C_TOO_BIG;
	case WS_CLOSE_UNSUPPORTED: return ST_C_UNSUPPORTED;
	default: return ST_C_PROTOCOL;
	}
}

/* Frames in buf[0..len): datagrams to the device, pings answered.
 * Returns the bytes used; the rest is a partial frame. */
static size_t on_frames(struct wg_stream *st, uint8_t *buf, size_t len)
{
	struct wg_stream_srv *s = st->srv;
	struct sockaddr_storage from;
	struct ws_frame f;
	size_t off = 0;
	uint16_t code = 0;
	int k;

	stream_addr(st, &from);
	while (!st->doomed) {
		k = ws_frame_parse(buf + off, len - off, WS_READ_FROM_CLIENT,
				   ST_MSG_MAX, &f, &code);
		if (k == WS_PARSE_MORE)
			break;
		if (k == WS_PARSE_ERROR) {
			stream_doom(st, close_reason(code), code);
			break;
		}
		off += f.frame_len;
		if (f.opcode == WS_OP_BINARY && f.fin && !st->msg.in_message) {
			/* the usual case, one frame: no reassembly copy */
			s->host->metric_add(s->m_rx, f.payload_len);
			s->rx(s->rx_arg, f.payload, (size_t)f.payload_len,
			      (size_t)f.payload_len, &from);
			continue;
		}
		k = ws_msg_feed(&st->msg, &f, &code);
		switch (k) {
		case WS_MSG_BINARY:
			s->host->metric_add(s->m_rx, st->msg.len);
			s->rx(s->rx_arg, st->msg.data, st->msg.len, st->msg.len,
			      &from);
			break;
		case WS_MSG_PING:
			if (!queue_frame(st, WS_OP_PONG, f.payload,
					 (size_t)f.payload_len))
				count(s, s->m_drop[ST_D_QUEUE_FULL]);
			break;
		case WS_MSG_CLOSE:
			stream_doom(st, ST_C_CLIENT,
				    code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL
							       : code);
			break;
		case WS_MSG_PONG:
		case WS_MSG_NONE: break;
		default: stream_doom(st, close_reason(code), code); break;
		}
	}
	return off;
}

/* An open stream's input: what it kept, then a big read, into scratch;
 * the partial frame at the end (smaller than st->in: a frame larger than
 * ST_MSG_MAX is refused from its header) is kept again. */
static ssize_t read_open(struct wg_stream *st)
{
	struct wg_stream_srv *s = st->srv;
	size_t kept = st->in_len, used;
	ssize_t n;

	memcpy(s->scratch, st->in, kept);
	n = recv(st->fd, s->scratch + kept, ST_SCRATCH, MSG_DONTWAIT);
	if (n <= 0)
		return n;
	used = on_frames(st, s->scratch, kept + (size_t)n);
	st->in_len = kept + (size_t)n - used;
	if (st->in_len > sizeof(st->in)) { /* cannot happen; never overflow */
		stream_doom(st, ST_C_PROTOCOL, WS_CLOSE_PROTOCOL);
		st->in_len = 0;
	}
	memcpy(st->in, s->scratch + used, st->in_len);
	return n;
}

static void on_stream(struct evpn_io *io, int fd, int revents, void *arg)
{
	struct wg_stream *st = arg;
	size_t used;
	ssize_t n;
	int round;

	if (revents & EVPN_IO_WRITE)
		stream_write(st);
	for (round = 0;
	     round < ST_READS && !st->doomed && (revents & EVPN_IO_READ);
	     round++) {
		if (st->state == ST_OPEN)
			n = read_open(st);
		else
			n = recv(fd, st->in + st->in_len,
				 sizeof(st->in) - st->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			if (st->state == ST_UPGRADE) {
				count(st->srv,
				      st->srv->m_result[ST_R_BAD_UPGRADE]);
				stream_free(st);
				return;
			}
			stream_doom(st, n == 0 ? ST_C_EOF : ST_C_IO,
				    WS_CLOSE_GOING_AWAY);
			break;
		}
		st->last_rx = st->srv->host->now(st->srv->host);
		if (st->state == ST_UPGRADE) {
			enum up_result u;

			st->in_len += (size_t)n;
			u = on_upgrade(st);
			if (u == UP_GONE)
				return;
			if (u == UP_MORE)
				continue;
			/* frames right behind the request */
			used = on_frames(st, st->in, st->in_len);
			memmove(st->in, st->in + used, st->in_len - used);
			st->in_len -= used;
		}
	}
	/* The datagrams of this wake-up reach the egress together. */
	st->srv->rx_end(st->srv->rx_arg);
	if (st->doomed)
		stream_close(st, st->doom_why, st->doom_code);
}

/* ---------------------------------------------------------------- accept */

static int slot_alloc(struct wg_stream_srv *s, uint32_t *slot)
{
	for (uint32_t i = 0; i < s->n_slots; i++)
		if (!s->slots[i]) {
			*slot = i;
			return EVPN_OK;
		}
	return EVPN_ERR_FULL;
}

static void on_accept(struct evpn_io *io, int fd, int revents, void *arg)
{
	struct wg_stream_srv *s = arg;
	struct sockaddr_storage ss;
	struct wg_stream *st;
	socklen_t sl;
	int c, one = 1, round;

	for (round = 0; round < 64; round++) {
		sl = sizeof(ss);
		c = accept4(fd, (struct sockaddr *)&ss, &sl,
			    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (c < 0 && (errno == EMFILE || errno == ENFILE ||
			      errno == ENOBUFS || errno == ENOMEM)) {
			/* The pending connection stays readable: without a
			 * pause the loop would spin on it. */
			evpn_warn(s->host,
				  "stream: cannot accept (%s); pausing 1 s",
				  strerror(errno));
			s->host->io_set(s->io, 0);
			s->accept_paused = true;
			return;
		}
		if (c < 0)
			return;
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		st = calloc(1, sizeof(*st));
		if (!st || slot_alloc(s, &st->slot) != EVPN_OK) {
			static const char busy[] =
				"HTTP/1.1 503 Service Unavailable\r\n"
				"Content-Length: 0\r\nConnection: "
				"close\r\n\r\n";

			(void)send(c, busy, sizeof(busy) - 1,
				   MSG_DONTWAIT | MSG_NOSIGNAL);
			close(c);
			free(st);
			count(s, s->m_result[ST_R_FULL]);
			continue;
		}
		st->srv = s;
		st->fd = c;
		do /* a generation is never 0, so no port is 0 */
			s->gen++;
		while (!(s->gen & 0xffff));
		st->gen = s->gen & 0xffff;
		st->msg.data = st->msgbuf;
		st->msg.cap = ST_MSG_MAX;
		st->opened = st->last_rx = s->host->now(s->host);
		if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&ss)->sin6_addr,
				  st->remote, sizeof(st->remote));
		else
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)&ss)->sin_addr,
				  st->remote, sizeof(st->remote));
		s->slots[st->slot] = st;
		s->n_open++;
		s->host->metric_set(s->m_open, s->n_open);
		st->io = s->host->io_new(s->host, c, EVPN_IO_READ, on_stream,
					 st);
		if (!st->io)
			stream_free(st);
	}
}

/* Once a second: upgrades that take too long, silent streams (pinged at a
 * quarter of the idle time, closed at all of it). */
static void on_tick(struct evpn_timer *t, void *arg)
{
	struct wg_stream_srv *s = arg;
	double now = s->host->now(s->host), idle = s->cfg.idle_timeout;

	if (s->accept_paused) {
		s->accept_paused = false;
		s->host->io_set(s->io, EVPN_IO_READ);
	}

	for (uint32_t i = 0; i < s->n_slots; i++) {
		struct wg_stream *st = s->slots[i];

		if (!st)
			continue;
		if (st->state == ST_UPGRADE) {
			if (now - st->opened > s->cfg.upgrade_timeout)
				refuse(st, ST_R_UPGRADE_TIMEOUT, 408,
				       "upgrade took too long");
			continue;
		}
		if (now - st->last_rx > idle) {
			stream_close(st, ST_C_IDLE, WS_CLOSE_GOING_AWAY);
			continue;
		}
		if (now - st->last_rx > idle / 4 &&
		    now - st->last_ping > idle / 4) {
			st->last_ping = now;
			(void)queue_frame(st, WS_OP_PING, NULL, 0);
		}
	}
}

/* ---------------------------------------------------------------- peers */

bool wg_stream_peer_ok(struct wg_stream_srv *s,
		       const struct sockaddr_storage *from,
		       const uint8_t public_key[EVPN_KEY_LEN])
{
	struct wg_stream *st;

	if (!wg_stream_addr(from))
		return true;
	st = stream_of(s, from);
	if (!st)
		return false;
	if (sodium_memcmp(st->key, public_key, EVPN_KEY_LEN) == 0)
		return true;
	evpn_warn(s->host,
		  "stream %u from %s carried another user's tunnel: closed",
		  st->slot, st->remote);
	stream_doom(st, ST_C_PEER_MISMATCH, WS_CLOSE_POLICY);
	return false;
}

void wg_stream_peer_removed(struct wg_stream_srv *s,
			    const uint8_t public_key[EVPN_KEY_LEN])
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->n_slots; i++) {
		struct wg_stream *st = s->slots[i];

		if (st && st->state == ST_OPEN &&
		    sodium_memcmp(st->key, public_key, EVPN_KEY_LEN) == 0)
			stream_close(st, ST_C_PEER_REMOVED, WS_CLOSE_POLICY);
	}
}

/* ---------------------------------------------------------------- start/stop
 */

static int parse_tcp_addr(const char *s, struct sockaddr_storage *out)
{
	char host[128];
	const char *port;
	struct addrinfo hints = {0}, *res = NULL;
	size_t hl;

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':' || (size_t)(rb - s - 1) >= sizeof(host))
			return EVPN_ERR_CONFIG;
		hl = (size_t)(rb - s - 1);
		memcpy(host, s + 1, hl);
		port = rb + 2;
	} else {
		const char *colon = strrchr(s, ':');

		if (!colon || (size_t)(colon - s) >= sizeof(host))
			return EVPN_ERR_CONFIG;
		hl = (size_t)(colon - s);
		memcpy(host, s, hl);
		port = colon + 1;
	}
	host[hl] = 0;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
	if (getaddrinfo(hl ? host : NULL, port, &hints, &res) != 0 || !res)
		return EVPN_ERR_CONFIG;
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return EVPN_OK;
}

int wg_stream_start(const struct evpn_host *h, const struct wg_stream_cfg *cfg,
		    wg_stream_rx_cb rx, wg_stream_rx_end_cb rx_end,
		    void *rx_arg, struct wg_stream_srv **out)
{
	struct wg_stream_srv *s;
	struct sockaddr_storage ss, bound;
	socklen_t sl = sizeof(bound);
	int one = 1;

	*out = NULL;
	if (!cfg->listen[0])
		return EVPN_OK;
	if (parse_tcp_addr(cfg->listen, &ss) != EVPN_OK) {
		evpn_error(h, "stream: bad listen address '%s'", cfg->listen);
		return EVPN_ERR_CONFIG;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return EVPN_ERR_NOMEM;
	s->host = h;
	s->fd = -1;
	s->cfg = *cfg;
	s->rx = rx;
	s->rx_end = rx_end;
	s->rx_arg = rx_arg;
	s->n_slots = cfg->max_streams;
	s->slots = calloc(s->n_slots, sizeof(*s->slots));
	s->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (!s->slots || s->fd < 0)
		goto fail;
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&ss,
		 ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					  : sizeof(struct sockaddr_in)) < 0 ||
	    listen(s->fd, 512) < 0) {
		evpn_error(h, "stream: cannot listen on TCP %s: %s",
			   cfg->listen, strerror(errno));
		goto fail;
	}
	getsockname(s->fd, (struct sockaddr *)&bound, &sl);
	s->port = ntohs(bound.ss_family == AF_INET6
				? ((struct sockaddr_in6 *)&bound)->sin6_port
				: ((struct sockaddr_in *)&bound)->sin_port);
	/* One of the server's front doors: the egress must refuse tunnel
	 * clients' packets to it (a tunnel inside the tunnel, or a way round
	 * the failed-key throttle from a pool address). */
	if (h->listener_add &&
	    h->listener_add(h, IPPROTO_TCP, s->port) != EVPN_OK)
		evpn_warn(h,
			  "stream: could not declare TCP port %u as a "
			  "listener to protect",
			  s->port);
	metrics_init(s);
	s->io = h->io_new(h, s->fd, EVPN_IO_READ, on_accept, s);
	s->tick = h->timer_new(h, on_tick, s);
	s->flush_hook = h->hook_new(h, EVPN_HOOK_PREPARE, on_prepare, s);
	if (!s->io || !s->tick || !s->flush_hook)
		goto fail;
	h->timer_arm(s->tick, 1, 1);
	evpn_info(h, "WireGuard stream listener on TCP port %u, path %s",
		  s->port, cfg->path);
	*out = s;
	return EVPN_OK;
fail:
	wg_stream_stop(s);
	return EVPN_ERR_IO;
}

void wg_stream_stop(struct wg_stream_srv *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; s->slots && i < s->n_slots; i++)
		if (s->slots[i])
			stream_close(s->slots[i], ST_C_SHUTDOWN,
				     WS_CLOSE_GOING_AWAY);
	if (s->flush_hook)
		s->host->hook_free(s->flush_hook);
	if (s->tick)
		s->host->timer_free(s->tick);
	if (s->io)
		s->host->io_free(s->io);
	if (s->fd >= 0)
		close(s->fd);
	free(s->slots);
	free(s);
}

uint16_t wg_stream_port(const struct wg_stream_srv *s)
{
	return s ? s->port : 0;
}
