// SPDX-License-Identifier: MIT
/* The stream relay (relay.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <sodium.h>

#include "relay.h"
#include "ws_frame.h"
#include "ws_http.h"

#define RL_MSG_MAX 4096
#define RL_OUT_CAP (64 << 10) /* frames sent with one write */
#define RL_IN_CAP (WS_HTTP_HEAD_MAX + 2 * (RL_MSG_MAX + WS_HEADER_MAX))

struct relay {
	const struct evpnctl_relay_opts *o;
	struct evpnctl_ws_url u;
	CURL *c;
	curl_socket_t sock;
	int udp;
	struct sockaddr_in wg; /* where replies go: wg's socket */
	bool have_wg;
	uint8_t in[RL_IN_CAP];
	size_t in_len;
	uint8_t msgbuf[RL_MSG_MAX];
	uint8_t out[RL_OUT_CAP];
	size_t out_len;
	struct ws_msg msg;
	struct curl_slist *pins;
};

static volatile sig_atomic_t stopping;

static void on_term(int sig)
{
	(void)sig;
	stopping = 1;
}

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	char ts[32];
	time_t t = time(NULL);

	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	fprintf(stderr, "%s evpnctl relay: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int evpnctl_ws_url_parse(const char *url, struct evpnctl_ws_url *out)
{
	const char *h, *he, *p;
	size_t hl;

	memset(out, 0, sizeof(*out));
	if (!strncmp(url, "wss://", 6)) {
		out->tls = 1;
		out->port = 443;
		h = url + 6;
	} else if (!strncmp(url, "ws://", 5)) {
		out->port = 80;
		h = url + 5;
	} else {
		return 0;
	}
	p = h + strcspn(h, "/?#");
	if (*h == '[') {
		he = memchr(h, ']', (size_t)(p - h));
		if (!he)
			return 0;
		h++;
		hl = (size_t)(he - h);
		he++;
	} else {
		he = memchr(h, ':', (size_t)(p - h));
		if (!he)
			he = p;
		hl = (size_t)(he - h);
	}
	if (!hl || hl >= sizeof(out->host))
		return 0;
	memcpy(out->host, h, hl);
	if (*he == ':') {
		char *end;
		long port = strtol(he + 1, &end, 10);

		if (end != p || port < 1 || port > 65535)
			return 0;
		out->port = (uint16_t)port;
	} else if (he != p) {
		return 0;
	}
	snprintf(out->path, sizeof(out->path), "%s", *p == '/' ? p : "/");
	return 1;
}

/* Every socket libcurl opens (to the server or the proxy) carries the
 * tunnel's fwmark: wg-quick's rules then route it outside the tunnel. */
static int sockopt_cb(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	const struct relay *r = arg;
	int mark = (int)r->o->fwmark;

	if (mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)))
		return CURL_SOCKOPT_ERROR;
	return CURL_SOCKOPT_OK;
}

static bool wait_sock(struct relay *r, short ev, int ms)
{
	struct pollfd p = {.fd = r->sock, .events = ev};

	return poll(&p, 1, ms) > 0;
}

static int send_all(struct relay *r, const uint8_t *b, size_t n)
{
	size_t sent;
	CURLcode rc;

	while (n) {
		rc = curl_easy_send(r->c, b, n, &sent);
		if (rc == CURLE_AGAIN) {
			if (!wait_sock(r, POLLOUT, 10000))
				return -1;
			continue;
		}
		if (rc != CURLE_OK)
			return -1;
		b += sent;
		n -= sent;
	}
	return 0;
}

static int send_frame(struct relay *r, uint8_t op, const uint8_t *p, size_t n)
{
	uint8_t fr[RL_MSG_MAX + WS_HEADER_MAX], mask[4];
	size_t len;

	/* A fresh mask per frame, from a strong source (RFC 6455 5.3). */
	randombytes_buf(mask, sizeof(mask));
	len = ws_frame_build(fr, sizeof(fr), op, true, mask, p, n);
	return len ? send_all(r, fr, len) : -1;
}

static void disconnect_ws(struct relay *r)
{
	if (r->c)
		curl_easy_cleanup(r->c);
	r->c = NULL;
	r->sock = CURL_SOCKET_BAD;
	r->in_len = 0;
	r->msg.in_message = false;
}

/* Connect (TLS, proxy) and upgrade. 0, or -1 with err filled. */
static int connect_ws(struct relay *r, char *err, size_t errlen)
{
	char url[600], key[WS_KEY_B64_LEN + 1], auth[300], host[300];
	char req[1400], cerr[CURL_ERROR_SIZE] = "";
	size_t n, got, head = 0;
	curl_socket_t s;
	CURLcode rc;
	int status = 0;

	r->c = curl_easy_init();
	if (!r->c) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	/* The TLS and proxy part is an https:// (or http://) connection. */
	snprintf(url, sizeof(url), "%s://%s%s%s:%u/",
		 r->u.tls ? "https" : "http", strchr(r->u.host, ':') ? "[" : "",
		 r->u.host, strchr(r->u.host, ':') ? "]" : "", r->u.port);
	curl_easy_setopt(r->c, CURLOPT_URL, url);
	curl_easy_setopt(r->c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(r->c, CURLOPT_HTTPPROXYTUNNEL, 1L);
	curl_easy_setopt(r->c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(r->c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(r->c, CURLOPT_SOCKOPTFUNCTION, sockopt_cb);
	curl_easy_setopt(r->c, CURLOPT_SOCKOPTDATA, r);
	curl_easy_setopt(r->c, CURLOPT_NOSIGNAL, 1L);
	if (r->o->proxy)
		curl_easy_setopt(r->c, CURLOPT_PROXY, r->o->proxy);
	if (r->o->cacert)
		curl_easy_setopt(r->c, CURLOPT_CAINFO, r->o->cacert);
	if (r->pins)
		curl_easy_setopt(r->c, CURLOPT_RESOLVE, r->pins);
	rc = curl_easy_perform(r->c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "cannot connect to %.100s: %.150s", url,
			 cerr[0] ? cerr : curl_easy_strerror(rc));
		goto fail;
	}
	if (curl_easy_getinfo(r->c, CURLINFO_ACTIVESOCKET, &s) != CURLE_OK ||
	    s == CURL_SOCKET_BAD) {
		snprintf(err, errlen, "no socket from libcurl");
		goto fail;
	}
	r->sock = s;
	ws_client_key(key);
	snprintf(auth, sizeof(auth), "Bearer %s", r->o->key);
	if ((r->u.tls && r->u.port == 443) || (!r->u.tls && r->u.port == 80))
		snprintf(host, sizeof(host), "%s", r->u.host);
	else
		snprintf(host, sizeof(host), "%s:%u", r->u.host, r->u.port);
	n = ws_http_build_request(req, sizeof(req), host, r->u.path, key, auth);
	sodium_memzero(auth, sizeof(auth));
	if (!n || send_all(r, (const uint8_t *)req, n)) {
		sodium_memzero(req, sizeof(req));
		snprintf(err, errlen, "cannot send the upgrade request");
		goto fail;
	}
	sodium_memzero(req, sizeof(req));
	r->in_len = 0;
	for (;;) {
		rc = curl_easy_recv(r->c, r->in + r->in_len,
				    WS_HTTP_HEAD_MAX - r->in_len, &got);
		if (rc == CURLE_AGAIN) {
			if (!wait_sock(r, POLLIN, 10000)) {
				snprintf(err, errlen,
					 "no answer to the upgrade request");
				goto fail;
			}
			continue;
		}
		if (rc != CURLE_OK || got == 0) {
			snprintf(err, errlen,
				 "the server closed the connection during "
				 "the upgrade");
			goto fail;
		}
		r->in_len += got;
		switch (ws_http_check_response((const char *)r->in, r->in_len,
					       key, &head, &status)) {
		case WS_HTTP_MORE: continue;
		case WS_HTTP_OK:
			memmove(r->in, r->in + head, r->in_len - head);
			r->in_len -= head;
			return 0;
		case WS_HTTP_BAD:
			if (status == 401)
				snprintf(err, errlen,
					 "the server refused the key (401): "
					 "is the user deleted?");
			else if (status == 403)
				snprintf(err, errlen,
					 "the server refused the stream "
					 "(403: a master key, or the user is "
					 "inactive)");
			else if (status)
				snprintf(err, errlen,
					 "the server answered %d, not a "
					 "WebSocket upgrade (stream off, or "
					 "another path?)",
					 status);
			else
				snprintf(err, errlen,
					 "the answer is not HTTP, or a wrong "
					 "Sec-WebSocket-Accept");
			goto fail;
		}
	}
fail:
	disconnect_ws(r);
	return -1;
}

/* Append a masked binary frame to r->out. */
static void out_frame(struct relay *r, const uint8_t *p, size_t n)
{
	uint8_t mask[4];

	randombytes_buf(mask, sizeof(mask));
	r->out_len +=
		ws_frame_build(r->out + r->out_len, sizeof(r->out) - r->out_len,
			       WS_OP_BINARY, true, mask, p, n);
}

/* Datagrams from wg: one message each, sent together (one TLS record and
 * one write for a burst). */
static int pump_udp(struct relay *r)
{
	uint8_t d[RL_MSG_MAX];
	struct sockaddr_in from;
	socklen_t fl;
	ssize_t n;
	int i;

	r->out_len = 0;
	for (i = 0; i < 64; i++) {
		fl = sizeof(from);
		n = recvfrom(r->udp, d, sizeof(d), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (from.sin_addr.s_addr != htonl(INADDR_LOOPBACK) ||
		    (r->o->wg_port && ntohs(from.sin_port) != r->o->wg_port))
			continue; /* only wg's own socket */
		r->wg = from;
		r->have_wg = true;
		if (!r->c)
			continue; /* reconnecting: WireGuard retransmits */
		if (sizeof(r->out) - r->out_len < (size_t)n + WS_HEADER_MAX) {
			if (send_all(r, r->out, r->out_len))
				return -1;
			r->out_len = 0;
		}
		out_frame(r, d, (size_t)n);
	}
	if (r->out_len && r->c && send_all(r, r->out, r->out_len))
		return -1;
	return 0;
}

/* Frames from the server: datagrams to wg, pings answered. */
static int pump_ws(struct relay *r)
{
	struct ws_frame f;
	size_t got, off;
	uint16_t code;
	CURLcode rc;
	int k;

	for (;;) {
		rc = curl_easy_recv(r->c, r->in + r->in_len,
				    sizeof(r->in) - r->in_len, &got);
		if (rc == CURLE_AGAIN)
			return 0;
		if (rc != CURLE_OK || got == 0) {
			logf_("the server closed the connection");
			return -1;
		}
		r->in_len += got;
		off = 0;
		for (;;) {
			k = ws_frame_parse(r->in + off, r->in_len - off,
					   WS_READ_FROM_SERVER, RL_MSG_MAX, &f,
					   &code);
			if (k == WS_PARSE_MORE)
				break;
			if (k == WS_PARSE_ERROR) {
				logf_("bad frame from the server (%u)", code);
				return -1;
			}
			off += f.frame_len;
			switch (ws_msg_feed(&r->msg, &f, &code)) {
			case WS_MSG_BINARY:
				if (r->have_wg)
					(void)sendto(r->udp, r->msg.data,
						     r->msg.len, MSG_DONTWAIT,
						     (struct sockaddr *)&r->wg,
						     sizeof(r->wg));
				break;
			case WS_MSG_PING:
				if (send_frame(r, WS_OP_PONG, f.payload,
					       (size_t)f.payload_len))
					return -1;
				break;
			case WS_MSG_CLOSE:
				logf_("the server closed the stream (%u)",
				      code);
				return -1;
			case WS_MSG_PONG:
			case WS_MSG_NONE: break;
			default:
				logf_("bad message from the server (%u)", code);
				return -1;
			}
		}
		memmove(r->in, r->in + off, r->in_len - off);
		r->in_len -= off;
	}
}

/* The child's life: relay until SIGTERM, reconnecting (with a growing
 * pause) when the stream drops. */
static void relay_loop(struct relay *r)
{
	char err[300];
	int backoff = 1;
	double next_try = 0;

	while (!stopping) {
		struct pollfd p[2] = {
			{.fd = r->udp, .events = POLLIN},
			{.fd = r->c ? r->sock : -1, .events = POLLIN}};
		struct timespec now;

		if (!r->c) {
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec >= next_try) {
				if (connect_ws(r, err, sizeof(err)) == 0) {
					logf_("reconnected");
					backoff = 1;
				} else {
					logf_("%s; again in %d s", err,
					      backoff);
					next_try = (double)now.tv_sec + backoff;
					backoff =
						backoff < 30 ? backoff * 2 : 30;
				}
				continue;
			}
		}
		if (poll(p, 2, 1000) < 0 && errno != EINTR)
			break;
		if ((p[0].revents & POLLIN) && pump_udp(r))
			disconnect_ws(r);
		if (r->c && (p[1].revents & (POLLIN | POLLHUP | POLLERR)) &&
		    pump_ws(r))
			disconnect_ws(r);
	}
	if (r->c) {
		uint8_t code[2] = {WS_CLOSE_GOING_AWAY >> 8,
				   WS_CLOSE_GOING_AWAY & 0xff};

		(void)send_frame(r, WS_OP_CLOSE, code, sizeof(code));
	}
	disconnect_ws(r);
}

static struct curl_slist *pins_parse(const char *s)
{
	struct curl_slist *l = NULL, *t;
	char *dup, *tok, *save = NULL;

	if (!s)
		return NULL;
	dup = strdup(s);
	if (!dup)
		return NULL;
	for (tok = strtok_r(dup, ";", &save); tok;
	     tok = strtok_r(NULL, ";", &save)) {
		t = curl_slist_append(l, tok);
		if (!t)
			break;
		l = t;
	}
	free(dup);
	return l;
}

static void report(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void report(int fd, const char *fmt, ...)
{
	char b[400];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > 0)
		(void)!write(fd, b,
			     (size_t)n < sizeof(b) ? (size_t)n : sizeof(b) - 1);
}

/* In the child: set up, tell the parent how it went, then relay. */
static int child_main(const struct evpnctl_relay_opts *o, int pfd)
{
	static struct relay r;
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	char err[300];
	int logfd;

	r.o = o;
	r.sock = CURL_SOCKET_BAD;
	r.msg.data = r.msgbuf;
	r.msg.cap = sizeof(r.msgbuf);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (!evpnctl_ws_url_parse(o->url, &r.u)) {
		report(pfd, "err bad stream URL '%s'", o->url);
		return 1;
	}
	r.pins = pins_parse(o->resolve);
	r.udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (r.udp < 0 || bind(r.udp, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(r.udp, (struct sockaddr *)&a, &al)) {
		report(pfd, "err cannot bind a UDP socket on 127.0.0.1: %s",
		       strerror(errno));
		return 1;
	}
	if (connect_ws(&r, err, sizeof(err))) {
		report(pfd, "err %s", err);
		return 1;
	}
	report(pfd, "ok %u", ntohs(a.sin_port));
	close(pfd);
	/* From here on the parent is gone: output to the log only. */
	logfd = o->log ? open(o->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0600)
		       : -1;
	if (logfd < 0)
		logfd = open("/dev/null", O_WRONLY);
	dup2(logfd, STDERR_FILENO);
	dup2(logfd, STDOUT_FILENO);
	close(logfd);
	logf_("relaying 127.0.0.1:%u <-> %s", ntohs(a.sin_port), o->url);
	relay_loop(&r);
	logf_("stopped");
	curl_slist_free_all(r.pins);
	return 0;
}

int evpnctl_relay_start(const struct evpnctl_relay_opts *o, uint16_t *port,
			int *pid, char *err, size_t errlen)
{
	int pfd[2], st;
	char buf[400];
	ssize_t n;
	size_t len = 0;
	pid_t c;

	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	c = fork();
	if (c < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (c == 0) {
		close(pfd[0]);
		setsid();
		if (chdir("/"))
			_exit(1);
		int fd = open("/dev/null", O_RDONLY);

		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			close(fd);
		}
		_exit(child_main(o, pfd[1]));
	}
	close(pfd[1]);
	while (len < sizeof(buf) - 1) {
		n = read(pfd[0], buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(pfd[0]);
	buf[len] = 0;
	if (!strncmp(buf, "ok ", 3)) {
		*port = (uint16_t)atoi(buf + 3);
		*pid = c;
		return 0;
	}
	/* The child failed and exits: reap it. */
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	snprintf(err, errlen, "%s",
		 !strncmp(buf, "err ", 4) ? buf + 4
					  : "the relay did not start");
	return -EPROTO;
}

int evpnctl_relay_stop(const char *pidfile)
{
	char buf[32], comm[64], path[64];
	FILE *f;
	long pid;
	int i;

	f = fopen(pidfile, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		unlink(pidfile);
		return 0;
	}
	fclose(f);
	pid = strtol(buf, NULL, 10);
	/* Only the relay: the pid may have been reused since. */
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = pid > 1 ? fopen(path, "re") : NULL;
	if (f) {
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, "evpnctl", 7)) {
			kill((pid_t)pid, SIGTERM);
			for (i = 0; i < 50 && kill((pid_t)pid, 0) == 0; i++)
				usleep(100000);
		}
		fclose(f);
	}
	unlink(pidfile);
	return 0;
}
