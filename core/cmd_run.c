/* SPDX-License-Identifier: MIT */
/* evpnd run: the server. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <evpn/api.h>

#include "commands.h"
#include "log.h"
#include "users/users_service.h"

static void on_stop(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct evpn_core *core = w->data;

	core->exit_signal = w->signum;
	core_info("received %s, stopping", strsignal(w->signum));
	ev_break(loop, EVBREAK_ALL);
}

static void on_hup(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct evpn_core *core = w->data;

	core_info("SIGHUP: reloading users from the store");
	if (core->users)
		evpn_users_request_reload(core->users);
	for (int k = 1; k < EVPN_KIND__COUNT; k++) {
		struct evpn_plugin_inst *pi = core->plugins[k];

		if (pi && pi->started && pi->desc->reload &&
		    pi->desc->reload(pi->self) != EVPN_OK)
			core_warn("plugin '%s' failed to reload", pi->name);
	}
}

static void print_hints(struct evpn_core *core, const struct evpnd_args *a)
{
	struct evpn_plugin_inst *api = core->plugins[EVPN_KIND_API];
	char addr[128] = "127.0.0.1:8000", self[512];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	/* copy-paste ready: the binary as it is, not as it may be on PATH */
	if (n > 0)
		self[n] = '\0';
	else
		snprintf(self, sizeof(self), "evpnd");

	if (api) {
		const struct evpn_api_ops *ops = api->desc->vtable;

		if (ops->bound_address)
			(void)ops->bound_address(api->self, addr, sizeof(addr));
		core_info("API listening on http://%s", addr);
	}
	core_info("master API key: run `%s master-key -c %s` to print it", self,
		  a->config);
	if (api)
		core_info("create a first user: curl -sS -X POST "
			  "http://%s/users -H \"Authorization: Bearer "
			  "$(%s master-key -c %s)\" -H 'Content-Type: "
			  "application/json' -d '{\"client_id\":\"alice\"}'",
			  addr, self, a->config);
}

int evpnd_cmd_run(const struct evpnd_args *a)
{
	struct evpn_core core;
	struct evpn_errors errs = {0};
	int r, status = 1;

	memset(&core, 0, sizeof(core));
	signal(SIGPIPE, SIG_IGN);
	if (evpn_core_loop_init(&core) != EVPN_OK) {
		fprintf(stderr, "evpnd: cannot create the event loop\n");
		return 1;
	}
	r = evpn_daemon_load(&core, a->config, EVPN_KINDS_ALL, &errs);
	if (r != EVPN_OK) {
		evpn_errors_print(&errs);
		fprintf(stderr,
			"evpnd: configuration is invalid, not starting\n");
		goto out;
	}
	core_info("evpnd %s starting with %s", EVPN_VERSION, core.cfg->file);
	r = evpn_daemon_create(&core);
	if (r == EVPN_OK)
		r = evpn_daemon_start(&core, true);
	if (r != EVPN_OK) {
		core_error("start-up failed; stopping");
		goto out;
	}
	ev_signal_init(&core.sig_term, on_stop, SIGTERM);
	ev_signal_init(&core.sig_int, on_stop, SIGINT);
	ev_signal_init(&core.sig_hup, on_hup, SIGHUP);
	core.sig_term.data = core.sig_int.data = core.sig_hup.data = &core;
	ev_signal_start(core.loop, &core.sig_term);
	ev_signal_start(core.loop, &core.sig_int);
	ev_signal_start(core.loop, &core.sig_hup);
	print_hints(&core, a);
	core_info("ready: %u user%s",
		  core.users ? evpn_users_ops_impl.count(core.users) : 0,
		  core.users && evpn_users_ops_impl.count(core.users) == 1
			  ? ""
			  : "s");
	ev_run(core.loop, 0);
	ev_signal_stop(core.loop, &core.sig_term);
	ev_signal_stop(core.loop, &core.sig_int);
	ev_signal_stop(core.loop, &core.sig_hup);
	status = 0;
out:
	evpn_daemon_teardown(&core);
	evpn_errors_free(&errs);
	if (status == 0)
		core_info("stopped");
	return status;
}
