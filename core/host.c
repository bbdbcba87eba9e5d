/* SPDX-License-Identifier: MIT */
/*
 * The host services handed to plugins (include/evpn/host.h): logging with
 * the plugin's prefix, libev timers/io/hooks, post() from other threads,
 * the registry, secure memory and metrics.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core.h"
#include "log.h"
#include "users/users_service.h"

#define INST(h) ((struct evpn_plugin_inst *)(h)->priv)

/* ------------------------------------------------------------- logging */

static void h_vlog(const struct evpn_host *h, enum evpn_log_level lvl,
		   const char *fmt, va_list ap)
{
	evpn_vlogf(lvl, INST(h)->origin, fmt, ap);
}

static void h_log(const struct evpn_host *h, enum evpn_log_level lvl,
		  const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	evpn_vlogf(lvl, INST(h)->origin, fmt, ap);
	va_end(ap);
}

static bool h_log_enabled(const struct evpn_host *h, enum evpn_log_level lvl)
{
	return evpn_log_would(lvl);
}

/* ---------------------------------------------------------------- loop */

struct evpn_timer {
	ev_timer w;
	struct ev_loop *loop;
	evpn_timer_cb cb;
	void *arg;
};

struct evpn_io {
	ev_io w;
	struct ev_loop *loop;
	evpn_io_cb cb;
	void *arg;
};

struct evpn_hook {
	union {
		ev_prepare p;
		ev_check c;
	} w;
	enum evpn_hook_type type;
	struct ev_loop *loop;
	evpn_hook_cb cb;
	void *arg;
};

static double h_now_mono(const struct evpn_host *h)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void timer_thunk(struct ev_loop *loop, ev_timer *w, int revents)
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
	t->loop = INST(h)->core->loop;
	t->cb = cb;
	t->arg = arg;
	ev_init(&t->w, timer_thunk);
	return t;
}

static void h_timer_arm(struct evpn_timer *t, double after, double repeat)
{
	ev_timer_stop(t->loop, &t->w);
	ev_timer_set(&t->w, after < 0 ? 0 : after, repeat < 0 ? 0 : repeat);
	ev_timer_start(t->loop, &t->w);
}

static void h_timer_stop(struct evpn_timer *t)
{
	ev_timer_stop(t->loop, &t->w);
}

static void h_timer_free(struct evpn_timer *t)
{
	if (!t)
		return;
	ev_timer_stop(t->loop, &t->w);
	free(t);
}

static void io_thunk(struct ev_loop *loop, ev_io *w, int revents)
{
	struct evpn_io *io = (struct evpn_io *)w;
	int ev = 0;

	if (revents & EV_READ)
		ev |= EVPN_IO_READ;
	if (revents & EV_WRITE)
		ev |= EVPN_IO_WRITE;
	io->cb(io, w->fd, ev, io->arg);
}

static int to_ev(int events)
{
	return ((events & EVPN_IO_READ) ? EV_READ : 0) |
	       ((events & EVPN_IO_WRITE) ? EV_WRITE : 0);
}

static struct evpn_io *h_io_new(const struct evpn_host *h, int fd, int events,
				evpn_io_cb cb, void *arg)
{
	struct evpn_io *io = calloc(1, sizeof(*io));

	if (!io)
		return NULL;
	io->loop = INST(h)->core->loop;
	io->cb = cb;
	io->arg = arg;
	ev_io_init(&io->w, io_thunk, fd, to_ev(events));
	if (events)
		ev_io_start(io->loop, &io->w);
	return io;
}

static void h_io_set(struct evpn_io *io, int events)
{
	ev_io_stop(io->loop, &io->w);
	if (events) {
		ev_io_set(&io->w, io->w.fd, to_ev(events));
		ev_io_start(io->loop, &io->w);
	}
}

static void h_io_free(struct evpn_io *io)
{
	if (!io)
		return;
	ev_io_stop(io->loop, &io->w);
	free(io);
}

static void prepare_thunk(struct ev_loop *loop, ev_prepare *w, int revents)
{
	struct evpn_hook *hk = (struct evpn_hook *)w;

	hk->cb(hk, hk->arg);
}

static void check_thunk(struct ev_loop *loop, ev_check *w, int revents)
{
	struct evpn_hook *hk = (struct evpn_hook *)w;

	hk->cb(hk, hk->arg);
}

static struct evpn_hook *h_hook_new(const struct evpn_host *h,
				    enum evpn_hook_type type, evpn_hook_cb cb,
				    void *arg)
{
	struct evpn_hook *hk;

	if (type != EVPN_HOOK_PREPARE && type != EVPN_HOOK_CHECK)
		return NULL;
	hk = calloc(1, sizeof(*hk));
	if (!hk)
		return NULL;
	hk->type = type;
	hk->loop = INST(h)->core->loop;
	hk->cb = cb;
	hk->arg = arg;
	if (type == EVPN_HOOK_PREPARE) {
		ev_prepare_init(&hk->w.p, prepare_thunk);
		ev_prepare_start(hk->loop, &hk->w.p);
	} else {
		ev_check_init(&hk->w.c, check_thunk);
		ev_check_start(hk->loop, &hk->w.c);
	}
	return hk;
}

static void h_hook_free(struct evpn_hook *hk)
{
	if (!hk)
		return;
	if (hk->type == EVPN_HOOK_PREPARE)
		ev_prepare_stop(hk->loop, &hk->w.p);
	else
		ev_check_stop(hk->loop, &hk->w.c);
	free(hk);
}

/* ----------------------------------------------------------------- post */

struct post_item {
	struct post_item *next;
	evpn_post_cb cb;
	void *arg;
};

static int core_post(struct evpn_core *core, evpn_post_cb cb, void *arg)
{
	struct post_item *it = malloc(sizeof(*it));

	if (!it)
		return EVPN_ERR_NOMEM;
	it->next = NULL;
	it->cb = cb;
	it->arg = arg;
	pthread_mutex_lock(&core->post_mu);
	if (core->post_closed) {
		pthread_mutex_unlock(&core->post_mu);
		free(it);
		return EVPN_ERR_UNAVAILABLE;
	}
	if (core->post_tail)
		core->post_tail->next = it;
	else
		core->post_head = it;
	core->post_tail = it;
	pthread_mutex_unlock(&core->post_mu);
	ev_async_send(core->loop, &core->post_async);
	return EVPN_OK;
}

static int h_post(const struct evpn_host *h, evpn_post_cb cb, void *arg)
{
	return core_post(INST(h)->core, cb, arg);
}

static void run_posted(struct evpn_core *core)
{
	struct post_item *it;

	for (;;) {
		pthread_mutex_lock(&core->post_mu);
		it = core->post_head;
		if (it) {
			core->post_head = it->next;
			if (!core->post_head)
				core->post_tail = NULL;
		}
		pthread_mutex_unlock(&core->post_mu);
		if (!it)
			return;
		it->cb(it->arg);
		free(it);
	}
}

static void post_thunk(struct ev_loop *loop, ev_async *w, int revents)
{
	run_posted((struct evpn_core *)w->data);
}

static bool h_on_loop(const struct evpn_host *h)
{
	struct evpn_core *core = INST(h)->core;

	return core->loop_set &&
	       pthread_equal(pthread_self(), core->loop_thread);
}

int evpn_core_loop_init(struct evpn_core *core)
{
	core->loop = ev_default_loop(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (!core->loop)
		return EVPN_ERR_INTERNAL;
	core->loop_thread = pthread_self();
	core->loop_set = true;
	pthread_mutex_init(&core->post_mu, NULL);
	evpn_listeners_init(&core->listeners);
	ev_async_init(&core->post_async, post_thunk);
	core->post_async.data = core;
	ev_async_start(core->loop, &core->post_async);
	/* Posted work must not keep the loop alive on its own. */
	ev_unref(core->loop);
	return EVPN_OK;
}

void evpn_core_loop_close(struct evpn_core *core)
{
	if (!core->loop)
		return;
	pthread_mutex_lock(&core->post_mu);
	core->post_closed = true;
	pthread_mutex_unlock(&core->post_mu);
	/* Run what was posted before closing: each item owns its arg. */
	run_posted(core);
	ev_ref(core->loop);
	ev_async_stop(core->loop, &core->post_async);
	pthread_mutex_destroy(&core->post_mu);
	evpn_listeners_free(&core->listeners);
}

/* ------------------------------------------------------------- registry */

static int h_get_plugin(const struct evpn_host *h, enum evpn_kind kind,
			struct evpn_ref *out)
{
	struct evpn_core *core = INST(h)->core;
	struct evpn_plugin_inst *pi;

	if (kind <= EVPN_KIND_NONE || kind >= EVPN_KIND__COUNT)
		return EVPN_ERR_INVAL;
	pi = core->plugins[kind];
	if (!pi || !pi->created)
		return EVPN_ERR_NOTFOUND;
	out->vtable = pi->desc->vtable;
	out->self = pi->self;
	out->name = pi->name;
	return EVPN_OK;
}

static int h_get_service(const struct evpn_host *h, enum evpn_service svc,
			 struct evpn_ref *out)
{
	struct evpn_core *core = INST(h)->core;

	if (svc != EVPN_SERVICE_USERS || !core->users)
		return EVPN_ERR_NOTFOUND;
	out->vtable = &evpn_users_ops_impl;
	out->self = core->users;
	out->name = "users";
	return EVPN_OK;
}

static const char *h_plugin_name(const struct evpn_host *h, enum evpn_kind kind)
{
	struct evpn_core *core = INST(h)->core;

	if (kind <= EVPN_KIND_NONE || kind >= EVPN_KIND__COUNT ||
	    !core->plugins[kind])
		return NULL;
	return core->plugins[kind]->name;
}

/* --------------------------------------------------- listeners to protect */

static int h_listener_add(const struct evpn_host *h, int proto, uint16_t port)
{
	struct evpn_plugin_inst *pi = INST(h);
	int r = evpn_listeners_add(&pi->core->listeners, proto, port);

	if (r == EVPN_OK)
		core_debug("%s declares %s port %u: refused to clients",
			   pi->name[0] ? pi->name : "core",
			   proto == IPPROTO_TCP ? "TCP" : "UDP", port);
	return r;
}

static size_t h_listeners(const struct evpn_host *h, struct evpn_listener *out,
			  size_t max, uint64_t *generation)
{
	return evpn_listeners_get(&INST(h)->core->listeners, out, max,
				  generation);
}

/* ------------------------------------------------------ memory, metrics */

static void *h_secure_alloc(size_t n)
{
	return sodium_malloc(n);
}

static void h_secure_free(void *p)
{
	sodium_free(p);
}

static void h_memzero(void *p, size_t n)
{
	sodium_memzero(p, n);
}

static struct evpn_metric *h_metric(const struct evpn_host *h,
				    enum evpn_metric_type type,
				    const char *name, const char *help,
				    const char *labels)
{
	return evpn_metrics_get(type, name, help, labels);
}

static char *h_metrics_render(const struct evpn_host *h)
{
	return evpn_metrics_render();
}

void evpn_core_host_init(struct evpn_core *core, struct evpn_plugin_inst *pi)
{
	struct evpn_host *h = &pi->host;

	pi->core = core;
	memset(h, 0, sizeof(*h));
	h->size = sizeof(*h);
	h->abi_major = EVPN_ABI_MAJOR;
	h->abi_minor = EVPN_ABI_MINOR;
	h->priv = pi;
	h->log = h_log;
	h->vlog = h_vlog;
	h->log_enabled = h_log_enabled;
	h->config = &evpn_config_ops_impl;
	h->network = &core->net;
	h->version = EVPN_VERSION;
	h->now = h_now_mono;
	h->timer_new = h_timer_new;
	h->timer_arm = h_timer_arm;
	h->timer_stop = h_timer_stop;
	h->timer_free = h_timer_free;
	h->io_new = h_io_new;
	h->io_set = h_io_set;
	h->io_free = h_io_free;
	h->hook_new = h_hook_new;
	h->hook_free = h_hook_free;
	h->post = h_post;
	h->on_loop = h_on_loop;
	h->get_plugin = h_get_plugin;
	h->get_service = h_get_service;
	h->secure_alloc = h_secure_alloc;
	h->secure_free = h_secure_free;
	h->memzero = h_memzero;
	h->metric = h_metric;
	h->metric_add = evpn_metrics_add;
	h->metric_set = evpn_metrics_set;
	h->metrics_render = h_metrics_render;
	h->plugin_name = h_plugin_name;
	h->command = core->command ? core->command : "run";
	h->listener_add = h_listener_add;
	h->listeners = h_listeners;
}
