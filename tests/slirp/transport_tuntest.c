// SPDX-License-Identifier: MIT
/*
 * Test transport "tuntest": a transport without any tunnel protocol. It
 * reads IP packets from an existing Linux TUN device and hands them to the
 * egress in batches, and writes what the egress delivers back into the
 * TUN. Peer operations are accepted and ignored. Lets the slirp egress be
 * tested inside evpnd with ordinary Linux clients (curl, ping, dig) in a
 * network namespace, before the WireGuard transport exists.
 *
 * The device is created by the test (`ip tuntap add NAME mode tun user
 * nobody`), so an unprivileged evpnd can attach to it. Opening
 * /dev/net/tun itself needs permission on the node, which is root-only
 * (0600) on a stock machine: the test opens it as root and hands the
 * descriptor down (config key "fd"); TUNSETIFF on a device owned by our
 * user needs no capability.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <evpn/config.h>
#include <evpn/host.h>
#include <evpn/plugin.h>
#include <evpn/transport.h>

#define TT_BATCH 64
#define TT_BUF 65536

struct tt {
	const struct evpn_host *host;
	char dev[IFNAMSIZ];
	int fd;
	int inherited_fd; /* -1, or a descriptor the parent opened for us */
	struct evpn_io *io;
	struct evpn_sink to_egress;
	bool attached;
	struct evpn_metric *m_rx, *m_tx, *m_txdrop;
	uint8_t *buf; /* TT_BATCH slots of TT_BUF */
	struct evpn_pkt pkts[TT_BATCH];
};

static const struct evpn_config_key tt_schema[] = {
	{.key = "device",
	 .type = EVPN_CFG_STRING,
	 .flags = EVPN_CFG_REQUIRED,
	 .desc = "name of an existing TUN device to attach to"},
	{.key = "fd",
	 .type = EVPN_CFG_INT,
	 .def = "-1",
	 .min = -1,
	 .max = 65535,
	 .desc = "an inherited, already open /dev/net/tun descriptor to use "
		 "instead of opening the node (-1: open it)"},
	EVPN_CONFIG_KEYS_END,
};

static int tt_create(const struct evpn_host *host,
		     const struct evpn_config_node *cfg, void **self)
{
	struct tt *t = calloc(1, sizeof(*t));

	if (!t)
		return EVPN_ERR_NOMEM;
	t->host = host;
	t->fd = -1;
	snprintf(t->dev, sizeof(t->dev), "%s",
		 host->config->get_str(cfg, "device", ""));
	t->inherited_fd = (int)host->config->get_int(cfg, "fd", -1);
	t->m_rx = host->metric(
		host, EVPN_METRIC_COUNTER, "evpn_tuntest_packets_total",
		"packets read from / written to the TUN", "dir=\"rx\"");
	t->m_tx = host->metric(
		host, EVPN_METRIC_COUNTER, "evpn_tuntest_packets_total",
		"packets read from / written to the TUN", "dir=\"tx\"");
	t->m_txdrop = host->metric(host, EVPN_METRIC_COUNTER,
				   "evpn_tuntest_tx_dropped_total",
				   "packets the TUN did not take", NULL);
	*self = t;
	return EVPN_OK;
}

static void tt_on_read(struct evpn_io *w, int fd, int revents, void *arg)
{
	struct tt *t = arg;
	struct evpn_pkt_batch b = {.pkts = t->pkts};

	while (b.n < TT_BATCH) {
		uint8_t *p = t->buf + (size_t)b.n * TT_BUF;
		ssize_t n = read(fd, p, TT_BUF);

		if (n <= 0)
			break;
		t->pkts[b.n].data = p;
		t->pkts[b.n].len = (uint32_t)n;
		t->pkts[b.n].cap = TT_BUF;
		t->pkts[b.n].peer = 0;
		t->pkts[b.n].flags = 0;
		b.n++;
	}
	if (!b.n)
		return;
	t->host->metric_add(t->m_rx, b.n);
	if (t->attached)
		t->to_egress.deliver(t->to_egress.self, &b);
}

static void tt_stop(void *self);

static int tt_open(struct tt *t)
{
	int fd;

	if (t->inherited_fd < 0) {
		fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0)
			evpn_error(t->host, "/dev/net/tun: %s",
				   strerror(errno));
		return fd;
	}
	fd = t->inherited_fd;
	t->inherited_fd = -1; /* ours now: tt_stop closes it */
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		evpn_error(t->host, "inherited TUN descriptor %d: %s", fd,
			   strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int tt_start(void *self)
{
	struct tt *t = self;
	struct ifreq ifr;
	int err = EVPN_ERR_IO;

	t->buf = malloc((size_t)TT_BATCH * TT_BUF);
	if (!t->buf)
		return EVPN_ERR_NOMEM;
	t->fd = tt_open(t);
	if (t->fd < 0)
		goto fail;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", t->dev);
	if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
		evpn_error(t->host, "attach to TUN '%s': %s", t->dev,
			   strerror(errno));
		goto fail;
	}
	t->io = t->host->io_new(t->host, t->fd, EVPN_IO_READ, tt_on_read, t);
	if (!t->io) {
		err = EVPN_ERR_NOMEM;
		goto fail;
	}
	evpn_info(t->host, "attached to TUN %s", t->dev);
	return EVPN_OK;

fail:
	/* The host does not call stop() after a failed start. */
	tt_stop(t);
	return err;
}

static void tt_stop(void *self)
{
	struct tt *t = self;

	if (t->io)
		t->host->io_free(t->io);
	t->io = NULL;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->buf);
	t->buf = NULL;
}

static void tt_destroy(void *self)
{
	free(self);
}

static int tt_attach(void *self, const struct evpn_sink *to)
{
	struct tt *t = self;

	t->to_egress = *to;
	t->attached = true;
	return EVPN_OK;
}

static void tt_send(void *self, const struct evpn_pkt_batch *b)
{
	struct tt *t = self;

	for (uint32_t i = 0; i < b->n; i++) {
		if (t->fd < 0 ||
		    write(t->fd, b->pkts[i].data, b->pkts[i].len) < 0)
			t->host->metric_add(t->m_txdrop, 1);
		else
			t->host->metric_add(t->m_tx, 1);
	}
}

static int tt_set_key(void *self, const uint8_t key[EVPN_KEY_LEN])
{
	return EVPN_OK;
}

static int tt_upsert(void *self, const struct evpn_peer_config *peer)
{
	return EVPN_OK;
}

static int tt_remove(void *self, const uint8_t key[EVPN_KEY_LEN])
{
	return EVPN_OK;
}

static int tt_stats(void *self, const uint8_t key[EVPN_KEY_LEN],
		    struct evpn_peer_stats *out)
{
	return EVPN_ERR_NOTFOUND;
}

static uint32_t tt_count(void *self)
{
	return 0;
}

static int tt_bound(void *self, struct sockaddr_storage *out)
{
	return EVPN_ERR_UNSUPPORTED;
}

static const struct evpn_transport_ops tt_ops = {
	.size = sizeof(struct evpn_transport_ops),
	.attach = tt_attach,
	.send = tt_send,
	.set_private_key = tt_set_key,
	.peer_upsert = tt_upsert,
	.peer_remove = tt_remove,
	.peer_stats = tt_stats,
	.peer_count = tt_count,
	.bound_address = tt_bound,
};

static const struct evpn_plugin_desc tt_desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "tuntest",
	.kind = EVPN_KIND_TRANSPORT,
	.version = "0.0.1",
	.description = "test transport: IP packets from/to a TUN device",
	.schema = tt_schema,
	.create = tt_create,
	.start = tt_start,
	.stop = tt_stop,
	.destroy = tt_destroy,
	.vtable = &tt_ops,
};

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtype-limits"
EVPN_PLUGIN_DEFINE(tt_desc)
#pragma GCC diagnostic pop
