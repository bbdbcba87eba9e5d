// SPDX-License-Identifier: MIT
/* connect's stream fallback (stream.h). */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sodium.h>

#include "relay.h"
#include "store.h"
#include "stream.h"
#include "wg.h"

#define UDP_WAIT_SECONDS 5.0

/* A "Key = value" line's value (wg-quick reads names case-insensitively and
 * cuts comments at '#'). */
static bool line_value(const char *line, size_t n, const char *key, char *out,
		       size_t outlen)
{
	size_t kl = strlen(key), i = 0, e;

	while (i < n && isspace((unsigned char)line[i]))
		i++;
	if (n - i < kl || strncasecmp(line + i, key, kl))
		return false;
	i += kl;
	while (i < n && isspace((unsigned char)line[i]))
		i++;
	if (i >= n || line[i] != '=')
		return false;
	i++;
	while (i < n && isspace((unsigned char)line[i]))
		i++;
	for (e = i; e < n && line[e] != '#'; e++)
		;
	while (e > i && isspace((unsigned char)line[e - 1]))
		e--;
	if (e == i || e - i >= outlen)
		return false;
	memcpy(out, line + i, e - i);
	out[e - i] = 0;
	return true;
}

int evpnctl_conf_endpoint(const char *conf, char *host, size_t hostlen,
			  char *pub, size_t publen)
{
	char ep[300] = "";
	const char *p = conf, *nl, *colon;
	bool peer = false;
	size_t n;

	pub[0] = 0;
	while (*p) {
		nl = strchrnul(p, '\n');
		n = (size_t)(nl - p);
		if (n && p[0] == '[')
			peer = !strncasecmp(p, "[Peer]", 6);
		else if (peer && !ep[0])
			(void)line_value(p, n, "Endpoint", ep, sizeof(ep));
		if (peer && !pub[0])
			(void)line_value(p, n, "PublicKey", pub, publen);
		p = *nl ? nl + 1 : nl;
	}
	if (!ep[0] || !pub[0])
		return -1;
	if (ep[0] == '[') {
		colon = strchr(ep, ']');
		if (!colon || (size_t)(colon - ep - 1) >= hostlen)
			return -1;
		memcpy(host, ep + 1, (size_t)(colon - ep - 1));
		host[colon - ep - 1] = 0;
		return 0;
	}
	colon = strrchr(ep, ':');
	n = colon ? (size_t)(colon - ep) : strlen(ep);
	if (!n || n >= hostlen)
		return -1;
	memcpy(host, ep, n);
	host[n] = 0;
	return 0;
}

/* "HOST:PORT:ADDR" for libcurl when HOST is a name; "" for an address. */
static void pin(char *out, size_t len, const char *host, unsigned port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	unsigned char tmp[16];
	char addr[INET6_ADDRSTRLEN];
	size_t used = strlen(out);
	bool v6;

	if (inet_pton(AF_INET, host, tmp) == 1 ||
	    inet_pton(AF_INET6, host, tmp) == 1)
		return;
	if (getaddrinfo(host, NULL, &hints, &res) || !res)
		return; /* libcurl will say it cannot resolve */
	v6 = res->ai_family == AF_INET6;
	if (v6)
		inet_ntop(AF_INET6,
			  &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr,
			  addr, sizeof(addr));
	else
		inet_ntop(AF_INET,
			  &((struct sockaddr_in *)res->ai_addr)->sin_addr, addr,
			  sizeof(addr));
	freeaddrinfo(res);
	snprintf(out + used, len - used, "%s%s:%u:%s%s%s", used ? ";" : "",
		 host, port, v6 ? "[" : "", addr, v6 ? "]" : "");
}

/* The proxy libcurl will use, to resolve its name now as well. */
static void pin_proxy(struct evpnctl_stream_plan *p, bool tls)
{
	const char *u = p->proxy;
	char host[256];
	const char *h, *e;
	unsigned port = 1080; /* libcurl's default proxy port */

	if (!u)
		u = getenv(tls ? "https_proxy" : "http_proxy");
	if (!u && tls)
		u = getenv("HTTPS_PROXY");
	if (!u || !*u)
		return;
	h = strstr(u, "://");
	h = h ? h + 3 : u;
	if (strchr(h, '@'))
		h = strchr(h, '@') + 1;
	e = h + strcspn(h, ":/");
	if (*h == '[' || (size_t)(e - h) >= sizeof(host) || e == h)
		return;
	memcpy(host, h, (size_t)(e - h));
	host[e - h] = 0;
	if (*e == ':')
		port = (unsigned)atoi(e + 1);
	pin(p->resolve, sizeof(p->resolve), host, port);
}

int evpnctl_stream_prepare(const struct evpnctl_ctx *ctx,
			   const struct evpnctl_args *a, const char *conf_path,
			   struct evpnctl_stream_plan *p)
{
	struct evpnctl_ws_url u;
	char host[256], path[EVPNCTL_PATH_MAX], *text = NULL;
	size_t len = 0;
	int r;

	memset(p, 0, sizeof(*p));
	p->over = a->over;
	p->proxy = a->proxy;
	p->cacert = a->cacert;
	if (p->over == EVPNCTL_OVER_UDP)
		return EVPNCTL_EXIT_OK;
	if (evpnctl_store_path(p->pidfile, sizeof(p->pidfile), ctx->dir,
			       a->name, ".relay") ||
	    evpnctl_store_path(p->log, sizeof(p->log), ctx->dir, a->name,
			       ".relay.log") ||
	    evpnctl_store_path(path, sizeof(path), ctx->dir, a->name, ".key"))
		return EVPNCTL_EXIT_LOCAL;
	r = evpnctl_store_read(conf_path, &text, &len);
	if (r == 0) {
		r = evpnctl_conf_endpoint(text, host, sizeof(host), p->peer_pub,
					  sizeof(p->peer_pub));
		sodium_memzero(text, len);
		free(text);
		text = NULL;
	}
	if (r) {
		snprintf(p->why_not, sizeof(p->why_not),
			 "no [Peer] Endpoint and PublicKey in %.100s",
			 conf_path);
		goto unusable;
	}
	if (a->stream_url)
		snprintf(p->url, sizeof(p->url), "%s", a->stream_url);
	else
		snprintf(p->url, sizeof(p->url), "wss://%s%s%s/wg",
			 strchr(host, ':') ? "[" : "", host,
			 strchr(host, ':') ? "]" : "");
	if (!evpnctl_ws_url_parse(p->url, &u)) {
		snprintf(p->why_not, sizeof(p->why_not),
			 "bad stream URL %.150s", p->url);
		goto unusable;
	}
	/* The user's own key: it may open only this user's tunnel. */
	r = evpnctl_store_read(path, &text, &len);
	if (r == 0) {
		while (len && isspace((unsigned char)text[len - 1]))
			text[--len] = 0;
		if (len && len < sizeof(p->key))
			memcpy(p->key, text, len + 1);
		sodium_memzero(text, len);
		free(text);
	}
	if (!p->key[0]) {
		snprintf(p->why_not, sizeof(p->why_not),
			 "no API key of the user in %.100s (written by "
			 "`evpnctl create`)",
			 path);
		goto unusable;
	}
	/* After wg-quick up, DNS may only answer through the tunnel. */
	pin(p->resolve, sizeof(p->resolve), u.host, u.port);
	pin_proxy(p, u.tls);
	p->usable = true;
	return EVPNCTL_EXIT_OK;
unusable:
	if (p->over == EVPNCTL_OVER_HTTPS) {
		evpnctl_err("--over https: %s", p->why_not);
		return EVPNCTL_EXIT_LOCAL;
	}
	return EVPNCTL_EXIT_OK;
}

/* Run argv, its stdout into out (NUL-terminated). 0 or -1. */
static int capture(char *const argv[], char *out, size_t len)
{
	int fds[2], st;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	while (got < len - 1 &&
	       ((n = read(fds[0], out + got, len - 1 - got)) > 0 ||
		(n < 0 && errno == EINTR)))
		if (n > 0)
			got += (size_t)n;
	out[got] = 0;
	close(fds[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int wg_show(const char *name, const char *what, char *out, size_t len)
{
	char *argv[] = {"wg", "show", (char *)name, (char *)what, NULL};

	return capture(argv, out, len);
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Did a handshake complete within the wait? */
static bool udp_handshake(const char *name, const char *pub)
{
	char out[4096], *line;
	double end = mono() + UDP_WAIT_SECONDS;

	do {
		if (wg_show(name, "latest-handshakes", out, sizeof(out)) == 0 &&
		    (line = strstr(out, pub)) &&
		    strtoll(line + strlen(pub), NULL, 10) > 0)
			return true;
		usleep(200000);
	} while (mono() < end);
	return false;
}

int evpnctl_stream_after_up(struct evpnctl_stream_plan *p, const char *name,
			    const char **via)
{
	struct evpnctl_relay_opts o = {0};
	char out[64], ep[32], err[400], pidtxt[32];
	char *argv[] = {"wg",	     "set",	 (char *)name, "peer",
			p->peer_pub, "endpoint", ep,	       NULL};
	uint16_t port = 0;
	int pid = 0, st;

	*via = "udp";
	if (p->over == EVPNCTL_OVER_UDP)
		return EVPNCTL_EXIT_OK;
	if (p->over == EVPNCTL_OVER_AUTO) {
		if (!p->usable || udp_handshake(name, p->peer_pub))
			return EVPNCTL_EXIT_OK;
		fprintf(stderr,
			"evpnctl: no handshake over UDP within %.0f s; trying "
			"%s\n",
			UDP_WAIT_SECONDS, p->url);
	}
	o.url = p->url;
	o.key = p->key;
	o.proxy = p->proxy;
	o.cacert = p->cacert;
	o.resolve = p->resolve[0] ? p->resolve : NULL;
	o.log = p->log;
	/* wg-quick's fwmark (set for a 0.0.0.0/0 or ::/0 route): the relay's
	 * own connection carries it, so it is routed outside the tunnel. */
	if (wg_show(name, "fwmark", out, sizeof(out)) == 0)
		o.fwmark = (unsigned)strtoul(out, NULL, 0);
	if (wg_show(name, "listen-port", out, sizeof(out)) == 0)
		o.wg_port = (uint16_t)atoi(out);
	st = evpnctl_relay_start(&o, &port, &pid, err, sizeof(err));
	if (st) {
		evpnctl_err("the stream did not start: %s",
			    st == -EPROTO ? err : strerror(-st));
		if (p->over == EVPNCTL_OVER_HTTPS)
			return EVPNCTL_EXIT_SERVER;
		fprintf(stderr, "evpnctl: staying on UDP\n");
		return EVPNCTL_EXIT_OK;
	}
	snprintf(pidtxt, sizeof(pidtxt), "%d\n", pid);
	snprintf(ep, sizeof(ep), "127.0.0.1:%u", port);
	if (evpnctl_store_write_secret(p->pidfile, pidtxt, strlen(pidtxt)) ||
	    evpnctl_run(argv)) {
		evpnctl_err("cannot point %s at the relay", name);
		kill(pid, SIGTERM);
		if (evpnctl_store_remove(p->pidfile))
			evpnctl_err("cannot remove %s", p->pidfile);
		return p->over == EVPNCTL_OVER_HTTPS ? EVPNCTL_EXIT_WG
						     : EVPNCTL_EXIT_OK;
	}
	*via = "https";
	return EVPNCTL_EXIT_OK;
}

void evpnctl_stream_stop(const struct evpnctl_ctx *ctx, const char *name)
{
	char pidfile[EVPNCTL_PATH_MAX];

	if (evpnctl_store_path(pidfile, sizeof(pidfile), ctx->dir, name,
			       ".relay"))
		return;
	if (evpnctl_relay_stop(pidfile))
		evpnctl_err("cannot stop the relay of %s (%s)", name, pidfile);
}

void evpnctl_stream_fini(struct evpnctl_stream_plan *p)
{
	sodium_memzero(p->key, sizeof(p->key));
}
