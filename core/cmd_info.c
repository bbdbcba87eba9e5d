/* SPDX-License-Identifier: MIT */
/* evpnd check-config, plugins, describe. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "log.h"

int evpnd_cmd_check_config(const struct evpnd_args *a)
{
	struct evpn_core core;
	struct evpn_errors errs = {0};
	int r;

	memset(&core, 0, sizeof(core));
	core.command = "check-config";
	r = evpn_daemon_load(&core, a->config, EVPN_KINDS_ALL, &errs);
	if (r != EVPN_OK) {
		evpn_errors_print(&errs);
		if (!errs.n)
			fprintf(stderr, "%s: %s\n", a->config,
				evpn_strerror(r));
	} else {
		printf("%s: OK\n", core.cfg->file);
		for (int k = 1; k < EVPN_KIND__COUNT; k++)
			if (core.plugins[k])
				printf("  %-10s %-16s %s\n",
				       evpn_kind_name((enum evpn_kind)k),
				       core.plugins[k]->name,
				       core.plugins[k]->path);
	}
	evpn_daemon_teardown(&core);
	evpn_errors_free(&errs);
	return r == EVPN_OK ? 0 : 1;
}

/* The plugin directory from the config when it loads, else the default. */
static char *plugin_dir_of(const struct evpnd_args *a)
{
	struct evpn_config *cfg;
	struct evpn_errors errs = {0};
	char *dir = NULL;

	cfg = evpn_config_load(a->config, NULL, &errs);
	if (cfg && evpn_config_validate(cfg->root, evpn_core_schema, "config",
					&errs) == 0)
		dir = strdup(evpn_config_ops_impl.get_path(cfg->root,
							   "plugin_dir", "."));
	evpn_config_free(cfg);
	evpn_errors_free(&errs);
	if (!dir) {
		fprintf(stderr,
			"evpnd: cannot read plugin_dir from %s; using "
			"%s\n",
			a->config, "the built-in default");
		dir = strdup(EVPN_DEFAULT_PLUGIN_DIR_STR);
	}
	return dir;
}

typedef int (*plugin_visit)(void *arg, struct evpn_plugin_inst *pi,
			    const char *path, const char *err);

static int scan(const char *dir, plugin_visit visit, void *arg)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), rc = 0;

	if (n < 0) {
		fprintf(stderr, "evpnd: cannot read plugin directory %s: %m\n",
			dir);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = ents[i]->d_name;
		size_t len = strlen(nm);
		struct evpn_plugin_inst pi;
		char path[4096], err[1024];

		if (len > 3 && strcmp(nm + len - 3, ".so") == 0 && rc == 0) {
			memset(&pi, 0, sizeof(pi));
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			if (evpn_loader_open(path, &pi, EVPN_KIND_NONE, err,
					     sizeof(err)) == EVPN_OK) {
				rc = visit(arg, &pi, path, NULL);
				evpn_loader_close(&pi);
			} else {
				rc = visit(arg, NULL, path, err);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static int print_one(void *arg, struct evpn_plugin_inst *pi, const char *path,
		     const char *err)
{
	int *count = arg;

	if (!pi) {
		printf("%-16s %-10s %-8s %-5s %s  (not loadable: %s)\n", "?",
		       "?", "?", "?", path, err);
		return 0;
	}
	printf("%-16s %-10s %-8s %u.%-3u %s\n", pi->desc->name,
	       evpn_kind_name(pi->desc->kind),
	       pi->desc->version ? pi->desc->version : "-", pi->desc->abi_major,
	       pi->desc->abi_minor, path);
	(*count)++;
	return 0;
}

int evpnd_cmd_plugins(const struct evpnd_args *a)
{
	char *dir = plugin_dir_of(a);
	int count = 0, r;

	printf("%-16s %-10s %-8s %-5s %s\n", "NAME", "KIND", "VERSION", "ABI",
	       "FILE");
	r = scan(dir, print_one, &count);
	free(dir);
	return r == 0 && count > 0 ? 0 : 1;
}

struct describe_ctx {
	const char *want;
	bool found;
};

static int describe_one(void *arg, struct evpn_plugin_inst *pi,
			const char *path, const char *err)
{
	struct describe_ctx *d = arg;
	char full[128];

	if (!pi)
		return 0;
	snprintf(full, sizeof(full), "%s-%s", evpn_kind_name(pi->desc->kind),
		 pi->desc->name);
	if (strcmp(d->want, pi->desc->name) != 0 && strcmp(d->want, full) != 0)
		return 0;
	if (d->found)
		printf("\n");
	d->found = true;
	printf("%s (%s plugin, version %s, ABI %u.%u)\n%s\nfile: %s\n\n",
	       pi->desc->name, evpn_kind_name(pi->desc->kind),
	       pi->desc->version ? pi->desc->version : "-", pi->desc->abi_major,
	       pi->desc->abi_minor,
	       pi->desc->description ? pi->desc->description : "", path);
	printf("config keys (plugins.%s.config):\n",
	       evpn_kind_name(pi->desc->kind));
	evpn_config_describe(pi->desc->schema, 2);
	return 0;
}

int evpnd_cmd_describe(const struct evpnd_args *a)
{
	struct describe_ctx d = {0};
	char *dir;

	if (a->npositional != 1) {
		fprintf(stderr, "usage: evpnd describe NAME [-c FILE]\n");
		return 2;
	}
	d.want = a->positional[0];
	if (strcmp(d.want, "core") == 0) {
		printf("core configuration (top level of evpn.yaml):\n");
		evpn_config_describe(evpn_core_schema, 2);
		return 0;
	}
	dir = plugin_dir_of(a);
	scan(dir, describe_one, &d);
	free(dir);
	if (!d.found) {
		fprintf(stderr,
			"evpnd: no plugin named '%s' (see `evpnd plugins`)\n",
			d.want);
		return 1;
	}
	return 0;
}
