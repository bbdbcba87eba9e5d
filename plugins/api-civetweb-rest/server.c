/* SPDX-License-Identifier: MIT */
/*
 * api:civetweb-rest — plugin glue and server lifecycle.
 *
 * No TLS here: Debian's civetweb 1.15 cannot do TLS with OpenSSL 3, so the
 * listener binds loopback by default and TLS is terminated in front (the
 * NLB's TLS listener, or a reverse proxy), restricted to admin CIDRs.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <evpn/api.h>
#include <evpn/config.h>

#include "api_internal.h"
#include "bigstack.h"
#include "errmap.h"

static const struct evpn_config_key api_schema[] = {
	{.key = "listen",
	 .type = EVPN_CFG_ADDR,
	 .def = "127.0.0.1:8000",
	 .desc = "address:port to listen on (port 0: any free port); plain "
		 "HTTP, terminate TLS in front"},
	{.key = "public_url",
	 .type = EVPN_CFG_STRING,
	 .def = "",
	 .desc = "the URL clients reach this API at (e.g. "
		 "https://vpn-api.example.com), for one-time config links; "
		 "empty: http:// and the request's Host header"},
	{.key = "threads",
	 .type = EVPN_CFG_INT,
	 .def = API_THREADS_DEFAULT_S,
	 .desc = "connections served at once (one civetweb worker each, "
		 "idle or slow ones included)",
	 .min = 1,
	 .max = API_THREADS_MAX},
	{.key = "max_body",
	 .type = EVPN_CFG_SIZE,
	 .def = "64k",
	 .desc = "largest accepted request body (413 beyond)"},
	{.key = "request_timeout",
	 .type = EVPN_CFG_DURATION,
	 .def = "10s",
	 .desc = "time allowed to receive a request (head and body), and "
		 "to send a response"},
	{.key = "console",
	 .type = EVPN_CFG_BOOL,
	 .def = "true",
	 .desc = "serve the web console (static page) at /"},
	EVPN_CONFIG_KEYS_END,
};

int api_handle_request(struct api *a, struct mg_connection *conn)
{
	struct api_req r = {
		.api = a,
		.conn = conn,
		.ri = mg_get_request_info(conn),
	};
	int status;

	if (!r.ri || !r.ri->local_uri || !r.ri->request_method) {
		status = api_send_error(&r, 400, "bad_request",
					"malformed request");
	} else {
		status = api_dispatch(&r);
		evpn_debug(a->host, "%s %s %s -> %d", r.ri->remote_addr,
			   r.ri->request_method,
			   api_route_log_path(r.ri->local_uri), status);
	}
	api_metrics_count(a, status);
	memset(&r.who, 0, sizeof(r.who));
	return status;
}

struct handler_job {
	struct api *a;
	struct mg_connection *conn;
	int status;
};

static void handler_job_run(void *arg)
{
	struct handler_job *j = arg;

	j->status = api_handle_request(j->a, j->conn);
}

/* On a civetweb worker (100 KiB stack): every request is handled on an
 * API_HANDLER_STACK stack that this worker switches to (bigstack.h), so
 * nothing a handler calls (jansson, a store's curl and TLS) can overflow
 * the worker, and no thread is made or waited for. */
static int on_begin_request(struct mg_connection *conn)
{
	struct handler_job j = {
		.a = mg_get_user_data(mg_get_context(conn)),
		.conn = conn,
	};
	int rc = api_stack_run(handler_job_run, &j);
	struct api_req r = {.api = j.a, .conn = conn};

	if (rc == 0)
		return j.status;
	evpn_warn(j.a->host, "cannot map a request stack: %s", strerror(rc));
	j.status = api_send_error(&r, 503, API_CODE_UNAVAILABLE, "server busy");
	api_metrics_count(j.a, j.status);
	return j.status;
}

static int on_log_message(const struct mg_connection *conn, const char *msg)
{
	struct api *a = conn ? mg_get_user_data(mg_get_context(conn)) : NULL;

	if (a)
		evpn_debug(a->host, "civetweb: %s", msg);
	return 1; /* never let civetweb write to stderr on its own */
}

static int api_create(const struct evpn_host *host,
		      const struct evpn_config_node *cfg, void **self)
{
	const struct evpn_config_ops *c = host->config;
	const char *listen = c->get_str(cfg, "listen", "127.0.0.1:8000");
	int64_t threads = c->get_int(cfg, "threads", API_THREADS_DEFAULT);
	uint64_t max_body = c->get_size(cfg, "max_body", 64 * 1024);
	double timeout = c->get_duration(cfg, "request_timeout", 10);
	const char *public_url = c->get_str(cfg, "public_url", "");
	bool console = c->get_bool(cfg, "console", true);
	struct api *a;

	if (public_url && *public_url &&
	    (strlen(public_url) >= sizeof(a->public_url) ||
	     (strncmp(public_url, "http://", 7) != 0 &&
	      strncmp(public_url, "https://", 8) != 0) ||
	     strpbrk(public_url, " \t\r\n\"<>"))) {
		evpn_error(host, "public_url must be an http:// or https:// "
				 "URL");
		return EVPN_ERR_CONFIG;
	}
	if (!listen || strlen(listen) >= sizeof(a->listen) || threads < 1 ||
	    threads > API_THREADS_MAX || max_body < 1 ||
	    max_body > (64u << 20) || timeout <= 0 || timeout > 3600) {
		evpn_error(host, "invalid listen/threads/max_body/"
				 "request_timeout (max_body <= 64M, "
				 "request_timeout <= 1h)");
		return EVPN_ERR_CONFIG;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return EVPN_ERR_NOMEM;
	a->host = host;
	strcpy(a->listen, listen);
	if (public_url) {
		snprintf(a->public_url, sizeof(a->public_url), "%s",
			 public_url);
		/* links append "/links/...": no trailing slash */
		while (a->public_url[0] &&
		       a->public_url[strlen(a->public_url) - 1] == '/')
			a->public_url[strlen(a->public_url) - 1] = '\0';
	}
	a->threads = (unsigned)threads;
	a->max_body = max_body;
	a->timeout_ms = (unsigned)(timeout * 1000);
	a->console = console;
	if (a->timeout_ms == 0)
		a->timeout_ms = 1;
	*self = a;
	return EVPN_OK;
}

/* Every connection is a descriptor: raise the soft open-file limit to the
 * hard one when it cannot hold `threads` connections, and say so. */
static void raise_fd_limit(struct api *a)
{
	rlim_t need = (rlim_t)a->threads + API_FD_RESERVE;
	struct rlimit rl;
	rlim_t was;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
		return;
	was = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			evpn_info(a->host,
				  "open-file limit raised from %llu to %llu "
				  "for %u connections",
				  (unsigned long long)was,
				  (unsigned long long)rl.rlim_cur, a->threads);
		else
			rl.rlim_cur = was;
	}
	if (rl.rlim_cur < need)
		evpn_warn(a->host,
			  "open-file limit %llu (hard %llu) is below the "
			  "%llu that %u connections need: clients beyond it "
			  "are refused",
			  (unsigned long long)rl.rlim_cur,
			  (unsigned long long)rl.rlim_max,
			  (unsigned long long)need, a->threads);
}

/* "host:port" of what we bound: the configured host and the real port. */
static void set_bound(struct api *a, int port)
{
	const char *colon = strrchr(a->listen, ':');
	int hl = colon ? (int)(colon - a->listen) : (int)strlen(a->listen);

	snprintf(a->bound, sizeof(a->bound), "%.*s:%d", hl, a->listen, port);
}

static int api_start(void *self)
{
	struct api *a = self;
	struct mg_callbacks cb;
	struct mg_server_port ports[4];
	char threads[16], timeout[16];
	const char *opts[] = {
		"listening_ports",
		a->listen,
		"num_threads",
		threads,
		"request_timeout_ms",
		timeout,
		"enable_keep_alive",
		"no",
		/* a burst of connections waits in the kernel, not refused */
		"listen_backlog",
		"4096",
		"max_request_size",
		"16384",
		"enable_directory_listing",
		"no",
		NULL,
	};
	int n;

	if (a->ctx)
		return EVPN_OK;
	if (a->host->get_plugin(a->host, EVPN_KIND_AUTH, &a->auth) == EVPN_OK &&
	    a->auth.vtable) {
		a->have_auth = true;
	} else {
		evpn_error(a->host, "api needs an auth plugin");
		return EVPN_ERR_CONFIG;
	}
	api_metrics_init(a);
	raise_fd_limit(a);
	snprintf(threads, sizeof(threads), "%u", a->threads);
	snprintf(timeout, sizeof(timeout), "%u", a->timeout_ms);
	memset(&cb, 0, sizeof(cb));
	cb.begin_request = on_begin_request;
	cb.log_message = on_log_message;

	mg_init_library(0);
	a->ctx = mg_start(&cb, a, opts);
	if (!a->ctx) {
		mg_exit_library();
		evpn_error(a->host,
			   "cannot listen on %s (in use, or not an "
			   "address of this host?)",
			   a->listen);
		return EVPN_ERR_IO;
	}
	n = mg_get_server_ports(a->ctx, 4, ports);
	set_bound(a, n > 0 ? ports[0].port : 0);
	/* Clients must never reach the API through the tunnel: the egress
	 * refuses every port declared here on all of the host's addresses. */
	for (int i = 0; i < n; i++)
		if (ports[i].port > 0 && ports[i].port <= 65535 &&
		    a->host->listener_add(a->host, IPPROTO_TCP,
					  (uint16_t)ports[i].port) != EVPN_OK)
			evpn_warn(a->host,
				  "could not declare port %d as a listener "
				  "to protect",
				  ports[i].port);
	evpn_info(a->host,
		  "listening on http://%s (plain HTTP: terminate TLS "
		  "in front)",
		  a->bound);
	return EVPN_OK;
}

static void api_stop(void *self)
{
	struct api *a = self;

	if (!a || !a->ctx)
		return;
	/* Waits for in-flight requests; they only block on the users
	 * service, never on this (loop) thread. */
	mg_stop(a->ctx);
	a->ctx = NULL;
	mg_exit_library();
	api_stack_release();
	evpn_info(a->host, "stopped");
}

static void api_destroy(void *self)
{
	struct api *a = self;

	if (!a)
		return;
	api_stop(a);
	free(a);
}

static int api_bound_address(void *self, char *buf, size_t len)
{
	struct api *a = self;

	if (!buf || len == 0)
		return EVPN_ERR_INVAL;
	if (!a->ctx)
		return EVPN_ERR_NOTFOUND;
	if ((size_t)snprintf(buf, len, "%s", a->bound) >= len)
		return EVPN_ERR_INVAL;
	return EVPN_OK;
}

static const struct evpn_api_ops api_ops = {
	.size = sizeof(struct evpn_api_ops),
	.bound_address = api_bound_address,
};

static const struct evpn_plugin_desc api_desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "civetweb-rest",
	.kind = EVPN_KIND_API,
	.version = "1.0.0",
	.description = "HTTP management API (civetweb): users, health, metrics",
	.requires = EVPN_KIND_BIT(EVPN_KIND_AUTH),
	.wants = EVPN_KIND_BIT(EVPN_KIND_STORE) |
		 EVPN_KIND_BIT(EVPN_KIND_TRANSPORT),
	.schema = api_schema,
	.create = api_create,
	.start = api_start,
	.stop = api_stop,
	.destroy = api_destroy,
	.vtable = &api_ops,
};

EVPN_PLUGIN_DEFINE(api_desc)
