// SPDX-License-Identifier: MIT
/*
 * wg_testd: runs the wireguard transport plugin (.so, loaded as evpnd
 * would) inside a minimal fake host on a libev loop, with an "echo" egress
 * that answers ICMP/ICMPv6 echo requests. For the interop test with
 * wireguard-go while the core's evpnd is not available.
 *
 *   wg_testd --plugin SO --key B64 [--listen ADDR] [--uapi-name N]
 *            [--uapi-dir D] [--metrics FILE] [--threshold N]
 *            [--ping-to IPV4] --peer PUB_B64=CIDR[,CIDR...][@IP:PORT] ...
 * --ping-to makes the server side originate an ICMP echo request from
 * 10.77.0.1 every 0.5 s (the transport then handshakes as initiator toward
 * a peer with a known endpoint); replies are counted in
 * wg_testd_echo_replies_total.
 * SIGUSR1 writes the metrics to FILE, SIGTERM/SIGINT stop.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <evpn/host.h>
#include <evpn/transport.h>

static struct ev_loop *loop;
static const struct evpn_transport_ops *tops;
static void *tself;
static const char *metrics_file;

/* ---- config: a flat list of key=value, enough for the plugin ---- */
#define MAX_KV 16
static const char *cfg_k[MAX_KV], *cfg_v[MAX_KV];
static int cfg_n;
static const struct evpn_config_node *const cfg_root =
	(const void *)&cfg_n; /* any non-NULL token */

/* Like the real host: a NULL node (an absent map) has no keys. */
static const char *cfg_lookup_in(const struct evpn_config_node *m,
				 const char *key)
{
	int i;

	if (!m)
		return NULL;
	for (i = 0; i < cfg_n; i++)
		if (!strcmp(cfg_k[i], key))
			return cfg_v[i];
	return NULL;
}

static const char *c_get_str(const struct evpn_config_node *m, const char *k,
			     const char *fb)
{
	const char *v = cfg_lookup_in(m, k);

	return v ? v : fb;
}

static int64_t c_get_int(const struct evpn_config_node *m, const char *k,
			 int64_t fb)
{
	const char *v = cfg_lookup_in(m, k);

	return v ? strtoll(v, NULL, 10) : fb;
}

static bool c_get_bool(const struct evpn_config_node *m, const char *k, bool fb)
{
	const char *v = cfg_lookup_in(m, k);

	return v ? !strcmp(v, "true") : fb;
}

static double c_get_duration(const struct evpn_config_node *m, const char *k,
			     double fb)
{
	const char *v = cfg_lookup_in(m, k);

	return v ? strtod(v, NULL) : fb;
}

static uint64_t c_get_size(const struct evpn_config_node *m, const char *k,
			   uint64_t fb)
{
	const char *v = cfg_lookup_in(m, k);

	return v ? strtoull(v, NULL, 10) : fb;
}

/* No nested maps here (the stream listener's `stream:` stays off). */
static const struct evpn_config_node *c_get(const struct evpn_config_node *m,
					    const char *k)
{
	return NULL;
}

static const struct evpn_config_ops cfg_ops = {
	.size = sizeof(struct evpn_config_ops),
	.get = c_get,
	.get_str = c_get_str,
	.get_int = c_get_int,
	.get_bool = c_get_bool,
	.get_duration = c_get_duration,
	.get_size = c_get_size,
	.get_path = c_get_str,
};

/* ---- host services ---- */
static void h_vlog(const struct evpn_host *h, enum evpn_log_level l,
		   const char *fmt, va_list ap)
{
	static const char *const n[] = {"debug", "info", "warn", "error"};

	fprintf(stderr, "wg_testd [%s] ", n[l & 3]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void h_log(const struct evpn_host *h, enum evpn_log_level l,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	h_vlog(h, l, fmt, ap);
	va_end(ap);
}

static bool h_log_enabled(const struct evpn_host *h, enum evpn_log_level l)
{
	return true;
}

static double h_now(const struct evpn_host *h)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct evpn_timer {
	ev_timer w;
	evpn_timer_cb cb;
	void *arg;
};

static void timer_thunk(struct ev_loop *l, ev_timer *w, int ev)
{
	struct evpn_timer *t = (struct evpn_timer *)w;

	t->cb(t, t->arg);
}

static struct evpn_timer *h_timer_new(const struct evpn_host *h,
				      evpn_timer_cb cb, void *arg)
{
	struct evpn_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	ev_init(&t->w, timer_thunk);
	t->cb = cb;
	t->arg = arg;
	return t;
}

static void h_timer_arm(struct evpn_timer *t, double after, double repeat)
{
	ev_timer_stop(loop, &t->w);
	ev_timer_set(&t->w, after, repeat);
	ev_timer_start(loop, &t->w);
}

static void h_timer_stop(struct evpn_timer *t)
{
	ev_timer_stop(loop, &t->w);
}

static void h_timer_free(struct evpn_timer *t)
{
	if (!t)
		return;
	ev_timer_stop(loop, &t->w);
	free(t);
}

struct evpn_io {
	ev_io w;
	evpn_io_cb cb;
	void *arg;
};

static void io_thunk(struct ev_loop *l, ev_io *w, int ev)
{
	struct evpn_io *io = (struct evpn_io *)w;

	io->cb(io, w->fd,
	       ((ev & EV_READ) ? EVPN_IO_READ : 0) |
		       ((ev & EV_WRITE) ? EVPN_IO_WRITE : 0),
	       io->arg);
}

static struct evpn_io *h_io_new(const struct evpn_host *h, int fd, int events,
				evpn_io_cb cb, void *arg)
{
	struct evpn_io *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	ev_io_init(&io->w, io_thunk, fd,
		   ((events & EVPN_IO_READ) ? EV_READ : 0) |
			   ((events & EVPN_IO_WRITE) ? EV_WRITE : 0));
	io->cb = cb;
	io->arg = arg;
	if (events)
		ev_io_start(loop, &io->w);
	return io;
}

static void h_io_set(struct evpn_io *io, int events)
{
	ev_io_stop(loop, &io->w);
	if (!events)
		return;
	ev_io_set(&io->w, io->w.fd,
		  ((events & EVPN_IO_READ) ? EV_READ : 0) |
			  ((events & EVPN_IO_WRITE) ? EV_WRITE : 0));
	ev_io_start(loop, &io->w);
}

static void h_io_free(struct evpn_io *io)
{
	if (!io)
		return;
	ev_io_stop(loop, &io->w);
	free(io);
}

struct evpn_metric {
	struct evpn_metric *next;
	char name[64], labels[96];
	int64_t v;
};
static struct evpn_metric *metrics;

static struct evpn_metric *h_metric(const struct evpn_host *h,
				    enum evpn_metric_type t, const char *name,
				    const char *help, const char *labels)
{
	struct evpn_metric *m;

	for (m = metrics; m; m = m->next)
		if (!strcmp(m->name, name) &&
		    !strcmp(m->labels, labels ? labels : ""))
			return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->labels, sizeof(m->labels), "%s", labels ? labels : "");
	m->next = metrics;
	metrics = m;
	return m;
}

static void h_metric_add(struct evpn_metric *m, uint64_t v)
{
	if (m)
		m->v += (int64_t)v;
}

static void h_metric_set(struct evpn_metric *m, int64_t v)
{
	if (m)
		m->v = v;
}

static void dump_metrics(void)
{
	struct evpn_metric *m;
	FILE *f;
	char tmp[512];

	if (!metrics_file)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", metrics_file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	for (m = metrics; m; m = m->next) {
		if (m->labels[0])
			fprintf(f, "%s{%s} %lld\n", m->name, m->labels,
				(long long)m->v);
		else
			fprintf(f, "%s %lld\n", m->name, (long long)m->v);
	}
	fclose(f);
	rename(tmp, metrics_file);
}

static int h_get_plugin(const struct evpn_host *h, enum evpn_kind k,
			struct evpn_ref *out)
{
	return EVPN_ERR_NOTFOUND;
}

static int h_get_service(const struct evpn_host *h, enum evpn_service svc,
			 struct evpn_ref *out)
{
	return EVPN_ERR_NOTFOUND;
}

static void h_memzero(void *p, size_t n)
{
	sodium_memzero(p, n);
}

static void h_secure_free(void *p)
{
	if (p)
		sodium_free(p);
}

static const struct evpn_network network = {
	.size = sizeof(struct evpn_network),
	.pool = "10.77.0.0/16",
	.mtu = 1420,
	.server_address = "10.77.0.1",
	.prefix_len = 16,
};

static const struct evpn_host host = {
	.size = sizeof(struct evpn_host),
	.abi_major = EVPN_ABI_MAJOR,
	.abi_minor = EVPN_ABI_MINOR,
	.log = h_log,
	.vlog = h_vlog,
	.log_enabled = h_log_enabled,
	.config = &cfg_ops,
	.network = &network,
	.version = "test",
	.now = h_now,
	.timer_new = h_timer_new,
	.timer_arm = h_timer_arm,
	.timer_stop = h_timer_stop,
	.timer_free = h_timer_free,
	.io_new = h_io_new,
	.io_set = h_io_set,
	.io_free = h_io_free,
	.get_plugin = h_get_plugin,
	.get_service = h_get_service,
	.secure_alloc = sodium_malloc,
	.secure_free = h_secure_free,
	.memzero = h_memzero,
	.metric = h_metric,
	.metric_add = h_metric_add,
	.metric_set = h_metric_set,
};

#include "icmp_echo.h"

static uint64_t echo_rx;
static struct evpn_metric *m_replies;

static void echo_deliver(void *self, const struct evpn_pkt_batch *b)
{
	static uint8_t bufs[64][2048];
	static struct evpn_pkt out[64];
	struct evpn_pkt_batch ob = {.pkts = out};
	uint32_t i;

	for (i = 0; i < b->n && ob.n < 64; i++) {
		echo_rx++;
		if (b->pkts[i].len >= 28 && b->pkts[i].data[0] == 0x45 &&
		    b->pkts[i].data[9] == 1 && b->pkts[i].data[20] == 0)
			h_metric_add(m_replies, 1);
		if (b->pkts[i].len > sizeof(bufs[0]))
			continue;
		memcpy(bufs[ob.n], b->pkts[i].data, b->pkts[i].len);
		if (!icmp_echo_reply(bufs[ob.n], b->pkts[i].len))
			continue;
		out[ob.n].data = bufs[ob.n];
		out[ob.n].len = b->pkts[i].len;
		out[ob.n].cap = sizeof(bufs[0]);
		ob.n++;
	}
	if (ob.n)
		tops->send(tself, &ob);
}

/* ---- main ---- */
static void on_signal(struct ev_loop *l, ev_signal *w, int revents)
{
	if (w->signum == SIGUSR1) {
		dump_metrics();
		return;
	}
	ev_break(l, EVBREAK_ALL);
}

static int b64key(const char *s, uint8_t out[32])
{
	size_t n = 0;

	if (sodium_base642bin(out, 32, s, strlen(s), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    n != 32)
		return -1;
	return 0;
}

static int parse_cidr(const char *s, struct evpn_cidr *c)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(ip))
		return -1;
	memcpy(ip, s, n);
	ip[n] = 0;
	memset(c, 0, sizeof(*c));
	if (inet_pton(AF_INET, ip, c->addr) == 1) {
		c->family = AF_INET;
		c->prefix = (uint8_t)(slash ? atoi(slash + 1) : 32);
	} else if (inet_pton(AF_INET6, ip, c->addr) == 1) {
		c->family = AF_INET6;
		c->prefix = (uint8_t)(slash ? atoi(slash + 1) : 128);
	} else {
		return -1;
	}
	return 0;
}

/* PUB=CIDR[,CIDR...][@IP:PORT] */
static int add_peer(const char *arg)
{
	struct evpn_peer_config pc = {.size = sizeof(pc), .enabled = true};
	struct evpn_cidr cidrs[8];
	char buf[512], *eq, *at, *tok, *save = NULL;
	uint32_t n = 0;

	snprintf(buf, sizeof(buf), "%s", arg);
	at = strchr(buf, '@');
	if (at) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&pc.endpoint;
		char *colon = strrchr(at + 1, ':');

		*at = 0;
		if (!colon)
			return -1;
		*colon = 0;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, at + 1, &sin->sin_addr) != 1)
			return -1;
	}
	eq = strrchr(buf, '='); /* keys end in "=" too */
	if (!eq)
		return -1;
	*eq = 0;
	if (b64key(buf, pc.public_key))
		return -1;
	for (tok = strtok_r(eq + 1, ",", &save); tok && n < 8;
	     tok = strtok_r(NULL, ",", &save))
		if (parse_cidr(tok, &cidrs[n++]))
			return -1;
	pc.allowed_ips = cidrs;
	pc.n_allowed_ips = n;
	pc.id = "test-peer";
	return tops->peer_upsert(tself, &pc);
}

/* An ICMP echo request 10.77.0.1 -> ping_to, through the transport. */
static struct in_addr ping_to;
static uint16_t ping_seq;

static void ping_tick(struct ev_loop *l, ev_timer *w, int revents)
{
	uint8_t p[28 + 16] = {0x45, 0, 0, sizeof(p), 0, 0, 0, 0, 64, 1};
	struct evpn_pkt pkt = {.data = p, .len = sizeof(p), .cap = sizeof(p)};
	struct evpn_pkt_batch b = {.pkts = &pkt, .n = 1};
	uint16_t c;

	p[12] = 10;
	p[13] = 77;
	p[15] = 1;
	memcpy(p + 16, &ping_to, 4);
	c = csum_fold(csum_add(0, p, 20));
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
	p[20] = 8; /* echo request */
	p[24] = 0x12;
	p[25] = 0x34;
	ping_seq++;
	p[26] = (uint8_t)(ping_seq >> 8);
	p[27] = (uint8_t)ping_seq;
	c = csum_fold(csum_add(0, p + 20, sizeof(p) - 20));
	p[22] = (uint8_t)(c >> 8);
	p[23] = (uint8_t)c;
	tops->send(tself, &b);
}

int main(int argc, char **argv)
{
	const struct evpn_plugin_desc *desc;
	evpn_plugin_entry_fn entry;
	struct evpn_sink sink = {.deliver = echo_deliver};
	const char *plugin = NULL, *key = NULL, *peers[32], *ping_arg = NULL;
	ev_timer ping_timer;
	int npeers = 0, i, rc;
	uint8_t priv[32];
	ev_signal s_int, s_term, s_usr1;
	void *dl;

	for (i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];

		if (!strcmp(k, "--plugin"))
			plugin = v;
		else if (!strcmp(k, "--key"))
			key = v;
		else if (!strcmp(k, "--metrics"))
			metrics_file = v;
		else if (!strcmp(k, "--ping-to"))
			ping_arg = v;
		else if (!strcmp(k, "--peer") && npeers < 32)
			peers[npeers++] = v;
		else if (!strncmp(k, "--", 2) && cfg_n < MAX_KV) {
			/* --listen, --uapi-name, --uapi-dir, --threshold...:
			 * plugin config keys with '-' as '_' */
			char *ck = strdup(k + 2), *c;

			for (c = ck; *c; c++)
				if (*c == '-')
					*c = '_';
			cfg_k[cfg_n] = ck;
			cfg_v[cfg_n++] = v;
		} else {
			fprintf(stderr, "bad argument %s\n", k);
			return 2;
		}
	}
	if (!plugin || !key || b64key(key, priv)) {
		fprintf(stderr, "usage: see the comment at the top\n");
		return 2;
	}
	if (sodium_init() < 0)
		return 1;
	loop = ev_default_loop(0);

	dl = dlopen(plugin, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 1;
	}
	*(void **)&entry = dlsym(dl, EVPN_PLUGIN_ENTRY_SYMBOL);
	desc = entry ? entry(EVPN_ABI_MAJOR, EVPN_ABI_MINOR) : NULL;
	if (!desc || desc->kind != EVPN_KIND_TRANSPORT ||
	    desc->build_sig != EVPN_BUILD_SIGNATURE) {
		fprintf(stderr, "not a compatible transport plugin\n");
		return 1;
	}
	tops = desc->vtable;
	rc = desc->create(&host, cfg_root, &tself);
	if (rc)
		goto out;
	rc = tops->attach(tself, &sink);
	if (!rc)
		rc = tops->set_private_key(tself, priv);
	sodium_memzero(priv, sizeof(priv));
	for (i = 0; !rc && i < npeers; i++)
		rc = add_peer(peers[i]);
	if (!rc)
		rc = desc->start(tself);
	if (rc) {
		desc->destroy(tself);
		goto out;
	}
	ev_signal_init(&s_int, on_signal, SIGINT);
	ev_signal_init(&s_term, on_signal, SIGTERM);
	ev_signal_init(&s_usr1, on_signal, SIGUSR1);
	ev_signal_start(loop, &s_int);
	ev_signal_start(loop, &s_term);
	ev_signal_start(loop, &s_usr1);
	m_replies = h_metric(&host, EVPN_METRIC_COUNTER,
			     "wg_testd_echo_replies_total", "", NULL);
	if (ping_arg) {
		if (inet_pton(AF_INET, ping_arg, &ping_to) != 1) {
			fprintf(stderr, "bad --ping-to\n");
			return 2;
		}
		ev_timer_init(&ping_timer, ping_tick, 0.5, 0.5);
		ev_timer_start(loop, &ping_timer);
	}
	fprintf(stderr, "wg_testd ready, %u peers\n", tops->peer_count(tself));
	ev_run(loop, 0);
	dump_metrics();
	desc->stop(tself);
	desc->destroy(tself);
	fprintf(stderr, "wg_testd stopped, echo saw %llu packets\n",
		(unsigned long long)echo_rx);
out:
	if (rc)
		fprintf(stderr, "wg_testd: %s\n", evpn_strerror(rc));
	return rc ? 1 : 0;
}
