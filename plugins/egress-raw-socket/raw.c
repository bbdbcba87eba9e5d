/* SPDX-License-Identifier: MIT */
/*
 * egress `raw-socket`: the privileged path. Decrypted packets are handed to
 * the host kernel through a TUN device; the kernel routes and NATs them
 * (one-time host setup in README.md), and packets it routes back to the
 * pool come out of the TUN device to the transport. Needs CAP_NET_ADMIN
 * (or a TUN device created beforehand for our uid).
 *
 * Before a client packet reaches the kernel it goes through the same
 * destination policy as the slirp egress (plugins/common/egress: the cloud
 * metadata service, the host's own addresses, other clients, allow/deny);
 * a refused one is answered with a TCP RST or an ICMP "administratively
 * prohibited" and counted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <evpn/config.h>
#include <evpn/egress.h>
#include <evpn/host.h>
#include <evpn/plugin.h>

#include "gro.h"
#include "gso.h"
#include "policy.h"
#include "tun.h"

#define BATCH 64
#define BUF 65536 /* a TUN read returns at most one packet of <= 64 KiB */
#define VNET_HDR sizeof(struct virtio_net_hdr)
#define SEG 4096 /* one TSO segment: headers + MSS */

struct raw {
	const struct evpn_host *host;
	char name[16];
	bool configure;
	bool offload; /* reads and writes carry a virtio_net_hdr */
	bool gro;     /* merge clients' TCP segments into TSO writes */
	unsigned mtu;
	uint32_t addr_be;
	unsigned prefix;
	uint8_t addr6[16]; /* with network.pool6: the server's, and */
	unsigned prefix6;  /* the pool's prefix (0: no IPv6) */
	int fd;
	struct evpn_io *io;
	struct evpn_sink to_transport;
	uint8_t *bufs; /* BATCH * BUF, allocated once: no malloc per packet */
	struct evpn_pkt pkts[BATCH];
	struct evpn_pkt_batch batch; /* being filled (offload path) */
	uint8_t *rbuf;		     /* VNET_HDR + BUF: one read (offload) */
	uint8_t seg[SEG];	     /* one segment being built */
	struct sle_policy pol;
	struct evpn_pkt ok[BATCH];  /* client packets the policy passed */
	struct evpn_pkt rej[BATCH]; /* refusals on their way to clients */
	uint32_t nrej;
	uint8_t rejbuf[BATCH][SLE_REJECT_MAX];
	struct evpn_metric *m_rx, *m_tx, *m_drop_write, *m_drop_short, *m_gso,
		*m_gro;
};

static const struct evpn_config_key schema[] = {
	{.key = "device",
	 .type = EVPN_CFG_STRING,
	 .def = "evpn0",
	 .desc = "TUN device name (created if absent)"},
	{.key = "address",
	 .type = EVPN_CFG_CIDR,
	 .desc = "address of the device; default: the pool's server address "
		 "with the pool's prefix"},
	{.key = "mtu",
	 .type = EVPN_CFG_INT,
	 .def = "0",
	 .min = 0,
	 .max = 65535,
	 .desc = "device MTU; 0: network.mtu"},
	{.key = "offload",
	 .type = EVPN_CFG_BOOL,
	 .def = "true",
	 .desc = "TUN offloads (virtio-net header, TSO): the kernel passes "
		 "TCP super-packets that the egress segments, instead of "
		 "one read per packet"},
	{.key = "gro",
	 .type = EVPN_CFG_BOOL,
	 .def = "true",
	 .desc = "with offload: clients' consecutive TCP segments of one flow "
		 "are written as one TSO super-packet (fewer writes, one "
		 "packet for the kernel to route)"},
	SLE_POLICY_KEYS,
	{.key = "configure",
	 .type = EVPN_CFG_BOOL,
	 .def = "true",
	 .desc = "set address and MTU and bring the device up (false: it "
		 "was configured beforehand)"},
	EVPN_CONFIG_KEYS_END,
};

/* The destination policy: the kernel routes the pool (other clients are
 * reached through it), the device's address is the server's. */
static int raw_policy(struct raw *r, const struct evpn_config_node *cfg)
{
	const struct evpn_network *net = r->host->network;
	struct sle_filter *f = &r->pol.filter;
	struct sle_cidr pool;

	if (sle_policy_init(&r->pol, r->host, cfg) != EVPN_OK)
		return EVPN_ERR_CONFIG;
	if (!sle_cidr_parse(net->pool, &pool) || pool.family != 4) {
		evpn_error(r->host, "network.pool '%s' is not an IPv4 pool",
			   net->pool);
		return EVPN_ERR_CONFIG;
	}
	f->routed = true;
	f->pool_mask = pool.prefix ? ~0u << (32 - pool.prefix) : 0;
	f->pool = sle_v4(pool.addr) & f->pool_mask;
	f->vhost = f->dns = ntohl(r->addr_be);
	if (r->prefix6 && sle_cidr_parse(net->pool6, &f->pool6) &&
	    f->pool6.family == 6) {
		f->has6 = true;
		memcpy(f->dns6, r->addr6, 16);
		memcpy(f->vhost6, r->addr6, 16);
	}
	return EVPN_OK;
}

static int raw_create(const struct evpn_host *h,
		      const struct evpn_config_node *cfg, void **self)
{
	const struct evpn_config_ops *c = h->config;
	struct raw *r = calloc(1, sizeof(*r));
	const char *addr;
	char buf[64];

	if (!r)
		return EVPN_ERR_NOMEM;
	r->host = h;
	r->fd = -1;
	snprintf(r->name, sizeof(r->name), "%s",
		 c->get_str(cfg, "device", "evpn0"));
	if (strlen(c->get_str(cfg, "device", "evpn0")) >= sizeof(r->name)) {
		evpn_error(h, "device: name longer than 15 characters");
		free(r);
		return EVPN_ERR_CONFIG;
	}
	r->configure = c->get_bool(cfg, "configure", true);
	r->offload = c->get_bool(cfg, "offload", true);
	r->gro = c->get_bool(cfg, "gro", true);
	r->mtu = (unsigned)c->get_int(cfg, "mtu", 0);
	if (!r->mtu)
		r->mtu = h->network->mtu ? h->network->mtu : 1420;
	addr = c->get_str(cfg, "address", NULL);
	if (addr) {
		snprintf(buf, sizeof(buf), "%s", addr);
	} else {
		snprintf(buf, sizeof(buf), "%s/%u", h->network->server_address,
			 h->network->prefix_len);
	}
	{
		char *slash = strchr(buf, '/');

		r->prefix = slash ? (unsigned)atoi(slash + 1) : 32;
		if (slash)
			*slash = '\0';
		if (inet_pton(AF_INET, buf, &r->addr_be) != 1) {
			evpn_error(h, "address: '%s' is not an IPv4 address",
				   buf);
			free(r);
			return EVPN_ERR_CONFIG;
		}
	}
	if (h->network->pool6 && h->network->server_address6) {
		const char *slash = strchr(h->network->pool6, '/');

		r->prefix6 = slash ? (unsigned)atoi(slash + 1) : 0;
		if (!r->prefix6 || r->prefix6 > 128 ||
		    inet_pton(AF_INET6, h->network->server_address6,
			      r->addr6) != 1) {
			evpn_error(h, "network.pool6 '%s' is not usable here",
				   h->network->pool6);
			free(r);
			return EVPN_ERR_CONFIG;
		}
	}
	if (raw_policy(r, cfg) != EVPN_OK) {
		sle_policy_free(&r->pol);
		free(r);
		return EVPN_ERR_CONFIG;
	}
	r->bufs = malloc((size_t)BATCH * BUF);
	r->rbuf = malloc(VNET_HDR + BUF);
	if (!r->bufs || !r->rbuf) {
		sle_policy_free(&r->pol);
		free(r->bufs);
		free(r->rbuf);
		free(r);
		return EVPN_ERR_NOMEM;
	}
	for (int i = 0; i < BATCH; i++) {
		r->pkts[i].data = r->bufs + (size_t)i * BUF;
		r->pkts[i].cap = BUF;
	}
	r->m_rx = h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_packets_total",
			    "Packets through the egress", "dir=\"in\"");
	r->m_tx = h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_packets_total",
			    "Packets through the egress", "dir=\"out\"");
	r->m_drop_write =
		h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_drops_total",
			  "Packets the egress dropped", "reason=\"tun_write\"");
	r->m_gso = h->metric(
		h, EVPN_METRIC_COUNTER, "evpn_egress_gso_packets_total",
		"TCP super-packets (TSO) read and segmented", NULL);
	r->m_gro = h->metric(
		h, EVPN_METRIC_COUNTER, "evpn_egress_gro_packets_total",
		"TCP super-packets (TSO) built from clients' segments and "
		"written",
		NULL);
	r->m_drop_short =
		h->metric(h, EVPN_METRIC_COUNTER, "evpn_egress_drops_total",
			  "Packets the egress dropped", "reason=\"malformed\"");
	*self = r;
	return EVPN_OK;
}

static void deliver(struct raw *r)
{
	if (!r->batch.n)
		return;
	r->host->metric_add(r->m_rx, r->batch.n);
	if (r->to_transport.deliver)
		r->to_transport.deliver(r->to_transport.self, &r->batch);
	r->batch.n = 0;
}

static int emit(void *arg, const uint8_t *pkt, size_t len)
{
	struct raw *r = arg;
	struct evpn_pkt *p = &r->pkts[r->batch.n];

	if (len < 20 || len > BUF) {
		r->host->metric_add(r->m_drop_short, 1);
		return 0;
	}
	memcpy(p->data, pkt, len);
	p->len = (uint32_t)len;
	p->peer = 0;
	p->flags = 0;
	if (++r->batch.n == BATCH)
		deliver(r);
	return 0;
}

/* Kernel -> clients with offloads: each read is one packet or one TCP
 * super-packet, cut into segments into the batch. */
static void read_offload(struct raw *r, int fd)
{
	struct virtio_net_hdr vh;
	int reads;

	r->batch.pkts = r->pkts;
	r->batch.n = 0;
	for (reads = 0; reads < BATCH; reads++) {
		ssize_t n = read(fd, r->rbuf, VNET_HDR + BUF);

		if (n <= 0)
			break;
		if ((size_t)n < VNET_HDR + 20) {
			r->host->metric_add(r->m_drop_short, 1);
			continue;
		}
		memcpy(&vh, r->rbuf, VNET_HDR);
		if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			r->host->metric_add(r->m_gso, 1);
		if (gso_split(&vh, r->rbuf + VNET_HDR, (size_t)n - VNET_HDR,
			      r->seg, sizeof(r->seg), emit, r) < 0)
			r->host->metric_add(r->m_drop_short, 1);
	}
	deliver(r);
}

/* Kernel -> clients: drain the TUN device in batches. */
static void on_readable(struct evpn_io *w, int fd, int revents, void *arg)
{
	struct raw *r = arg;

	if (r->offload) {
		read_offload(r, fd);
		return;
	}

	for (;;) {
		struct evpn_pkt_batch b = {.pkts = r->pkts, .n = 0};

		while (b.n < BATCH) {
			ssize_t n = read(fd, r->pkts[b.n].data, BUF);

			if (n <= 0)
				break;
			if (n < 20) {
				r->host->metric_add(r->m_drop_short, 1);
				continue;
			}
			r->pkts[b.n].len = (uint32_t)n;
			r->pkts[b.n].peer = 0;
			r->pkts[b.n].flags = 0;
			b.n++;
		}
		if (b.n == 0)
			return;
		r->host->metric_add(r->m_rx, b.n);
		if (r->to_transport.deliver)
			r->to_transport.deliver(r->to_transport.self, &b);
		if (b.n < BATCH)
			return;
	}
}

static int raw_start(void *self)
{
	struct raw *r = self;
	char err[256];

	sle_policy_start(&r->pol);
	r->fd = tun_open(r->name, &r->offload, err, sizeof(err));
	if (r->fd < 0) {
		evpn_error(r->host, "%s", err);
		return r->fd == -EPERM || r->fd == -EACCES
			       ? EVPN_ERR_PERM
			       : EVPN_ERR_UNAVAILABLE;
	}
	if (r->configure && tun_configure(r->name, r->addr_be, r->prefix,
					  r->mtu, err, sizeof(err)) != 0) {
		evpn_error(r->host, "%s", err);
		close(r->fd);
		r->fd = -1;
		return EVPN_ERR_PERM;
	}
	if (r->configure && r->prefix6 &&
	    tun_configure6(r->name, r->addr6, r->prefix6, err, sizeof(err)) !=
		    0) {
		evpn_error(r->host, "%s", err);
		close(r->fd);
		r->fd = -1;
		return EVPN_ERR_PERM;
	}
	r->io = r->host->io_new(r->host, r->fd, EVPN_IO_READ, on_readable, r);
	if (!r->io) {
		close(r->fd);
		r->fd = -1;
		return EVPN_ERR_NOMEM;
	}
	evpn_info(r->host, "TUN device %s up (mtu %u)%s", r->name, r->mtu,
		  r->configure ? "" : " (configured beforehand)");
	return EVPN_OK;
}

static void raw_stop(void *self)
{
	struct raw *r = self;

	r->host->io_free(r->io);
	r->io = NULL;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	sle_policy_stop(&r->pol);
}

static void raw_destroy(void *self)
{
	struct raw *r = self;

	raw_stop(r);
	sle_policy_free(&r->pol);
	free(r->bufs);
	free(r->rbuf);
	free(r);
}

static int raw_attach(void *self, const struct evpn_sink *to_transport)
{
	struct raw *r = self;

	r->to_transport = *to_transport;
	return EVPN_OK;
}

/* Refusals go back to the clients in one batch per send. */
static void flush_refusals(struct raw *r)
{
	struct evpn_pkt_batch b = {.pkts = r->rej, .n = r->nrej};

	if (r->nrej && r->to_transport.deliver)
		r->to_transport.deliver(r->to_transport.self, &b);
	r->nrej = 0;
}

static void refuse(struct raw *r, const uint8_t *ip,
		   const struct sle_pkt_info *pi, enum sle_reason why)
{
	struct evpn_pkt *p = &r->rej[r->nrej];
	size_t n = sle_policy_refuse(&r->pol, ip, pi, why, r->rejbuf[r->nrej]);

	if (!n)
		return;
	p->data = r->rejbuf[r->nrej];
	p->len = (uint32_t)n;
	p->cap = SLE_REJECT_MAX;
	p->peer = 0;
	p->flags = 0;
	if (++r->nrej == BATCH)
		flush_refusals(r);
}

/* Packets the policy passed -> kernel. With offloads, runs of one TCP
 * flow's segments go as one super-packet (gro.c); else one write per
 * packet (a TUN device has no batch write). A full queue drops, as a
 * router would. */
static void write_pkts(struct raw *r, struct evpn_pkt *pkts, uint32_t cnt)
{
	static const struct virtio_net_hdr none; /* no GSO, checksum done */
	uint32_t sent = 0, merged = 0;
	struct iovec iov[GRO_MAX_SEGS + 1];
	struct virtio_net_hdr vh;

	for (uint32_t i = 0; i < cnt;) {
		uint32_t n = 1, hl;
		ssize_t rc;

		if (!r->offload) {
			rc = write(r->fd, pkts[i].data, pkts[i].len);
			goto done;
		}
		if (r->gro)
			n = gro_run(pkts + i, cnt - i, &vh);
		iov[0].iov_base = n > 1 ? &vh : (void *)&none;
		iov[0].iov_len = VNET_HDR;
		iov[1].iov_base = pkts[i].data;
		iov[1].iov_len = pkts[i].len;
		if (n > 1) {
			hl = vh.hdr_len;
			for (uint32_t k = 1; k < n; k++) {
				iov[k + 1].iov_base = pkts[i + k].data + hl;
				iov[k + 1].iov_len = pkts[i + k].len - hl;
			}
			merged++;
		}
		rc = writev(r->fd, iov, (int)n + 1);
	done:
		if (rc < 0)
			r->host->metric_add(r->m_drop_write, n);
		else
			sent += n;
		i += n;
	}
	r->host->metric_add(r->m_tx, sent);
	if (merged)
		r->host->metric_add(r->m_gro, merged);
}

/* Clients -> kernel: each packet checked by the destination policy; the
 * ones it passes are written in order, the others answered. */
static void raw_send(void *self, const struct evpn_pkt_batch *b)
{
	struct raw *r = self;
	uint32_t n = 0;

	if (r->fd < 0)
		return;
	sle_policy_begin(&r->pol);
	for (uint32_t i = 0; i < b->n; i++) {
		const struct evpn_pkt *p = &b->pkts[i];
		struct sle_pkt_info pi;
		enum sle_reason why = SLE_R_MALFORMED;

		if (sle_pkt_parse(p->data, p->len, &pi))
			why = sle_filter_check(&r->pol.filter, &pi);
		if (why != SLE_PASS) {
			refuse(r, p->data, &pi, why);
			continue;
		}
		r->ok[n++] = *p;
		if (n == BATCH) {
			write_pkts(r, r->ok, n);
			n = 0;
		}
	}
	if (n)
		write_pkts(r, r->ok, n);
	flush_refusals(r);
}

static const struct evpn_egress_ops ops = {
	.size = sizeof(ops),
	.attach = raw_attach,
	.send = raw_send,
};

static const struct evpn_plugin_desc desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "raw-socket",
	.kind = EVPN_KIND_EGRESS,
	.version = "1.0.0",
	.description = "decrypted packets to the host kernel through a TUN "
		       "device (privileged: CAP_NET_ADMIN)",
	.schema = schema,
	.create = raw_create,
	.start = raw_start,
	.stop = raw_stop,
	.destroy = raw_destroy,
	.vtable = &ops,
};

EVPN_PLUGIN_DEFINE(desc)
