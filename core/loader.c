/* SPDX-License-Identifier: MIT */
/*
 * Plugin loader: dlopen with RTLD_NOW|RTLD_LOCAL (unresolved symbols fail
 * here, not at the first packet; plugins cannot interpose on each other),
 * one entry symbol, two-way ABI negotiation, size and build checks.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <evpn/api.h>
#include <evpn/auth.h>
#include <evpn/egress.h>
#include <evpn/store.h>
#include <evpn/transport.h>

#include "core.h"

/* The smallest vtable of each kind this host drives: all of ABI 1.0. */
static uint32_t min_vtable_size(enum evpn_kind k)
{
	switch (k) {
	case EVPN_KIND_TRANSPORT: return sizeof(struct evpn_transport_ops);
	case EVPN_KIND_EGRESS: return sizeof(struct evpn_egress_ops);
	case EVPN_KIND_STORE: return sizeof(struct evpn_store_ops);
	case EVPN_KIND_API: return sizeof(struct evpn_api_ops);
	case EVPN_KIND_AUTH: return sizeof(struct evpn_auth_ops);
	default: return UINT32_MAX;
	}
}

char *evpn_loader_path(const char *plugin_dir, enum evpn_kind kind,
		       const char *use)
{
	size_t n;
	char *p;

	if (strchr(use, '/') ||
	    (strlen(use) > 3 && strcmp(use + strlen(use) - 3, ".so") == 0))
		return strdup(use);
	n = strlen(plugin_dir) + strlen(use) + 32;
	p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s-%s.so", plugin_dir, evpn_kind_name(kind),
			 use);
	return p;
}

/* "built for plugin ABI a.b, this evpnd provides c.d", and what to do. */
static void abi_mismatch(char *err, size_t errlen, const char *path,
			 unsigned major, unsigned minor)
{
	snprintf(err, errlen,
		 "%s: built for plugin ABI %u.%u, this evpnd provides %d.%d: "
		 "%s",
		 path, major, minor, EVPN_ABI_MAJOR, EVPN_ABI_MINOR,
		 major < EVPN_ABI_MAJOR
			 ? "rebuild the plugin against this evpnd's headers "
			   "(pkg-config evpn-plugin)"
			 : "the plugin needs a newer evpnd");
}

/*
 * A plugin that refused this host: ask it again as a host of each major
 * up to ours + 1 would, with the largest minor, only to learn which ABI it
 * was built for. The first three fields of the descriptor (size,
 * abi_major, abi_minor) are the same in every major; nothing else of it is
 * read. False when no major gets an answer.
 */
static bool probe_abi(evpn_plugin_entry_fn entry, unsigned *major,
		      unsigned *minor)
{
	const struct evpn_plugin_desc *d;

	for (unsigned m = 1; m <= EVPN_ABI_MAJOR + 1u; m++) {
		d = entry((uint16_t)m, UINT16_MAX);
		if (d &&
		    d->size >= offsetof(struct evpn_plugin_desc, abi_minor) +
				       sizeof(d->abi_minor) &&
		    d->abi_major == m) {
			*major = d->abi_major;
			*minor = d->abi_minor;
			return true;
		}
	}
	return false;
}

int evpn_loader_open(const char *path, struct evpn_plugin_inst *pi,
		     enum evpn_kind expect, char *err, size_t errlen)
{
	const struct evpn_plugin_desc *d;
	evpn_plugin_entry_fn entry;
	struct stat st;
	const char *e;
	uint32_t vsz;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return EVPN_ERR_NOTFOUND;
	}
	pi->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!pi->dl) {
		e = dlerror();
		snprintf(err, errlen, "%s: cannot load: %s", path,
			 e ? e : "unknown dlopen error");
		return EVPN_ERR_INVAL;
	}
	*(void **)&entry = dlsym(pi->dl, EVPN_PLUGIN_ENTRY_SYMBOL);
	if (!entry) {
		snprintf(err, errlen,
			 "%s: not an evpn plugin (no %s symbol exported)", path,
			 EVPN_PLUGIN_ENTRY_SYMBOL);
		goto fail;
	}
	d = entry(EVPN_ABI_MAJOR, EVPN_ABI_MINOR);
	if (!d) {
		unsigned major, minor;

		if (probe_abi(entry, &major, &minor))
			abi_mismatch(err, errlen, path, major, minor);
		else
			snprintf(err, errlen,
				 "%s: the plugin refused host ABI %d.%d (built "
				 "for another ABI major version?)",
				 path, EVPN_ABI_MAJOR, EVPN_ABI_MINOR);
		goto fail;
	}
	if (d->size <
	    offsetof(struct evpn_plugin_desc, vtable) + sizeof(void *)) {
		snprintf(err, errlen,
			 "%s: plugin descriptor too small (%u bytes)", path,
			 d->size);
		goto fail;
	}
	if (d->abi_major != EVPN_ABI_MAJOR || d->abi_minor > EVPN_ABI_MINOR) {
		abi_mismatch(err, errlen, path, d->abi_major, d->abi_minor);
		goto fail;
	}
	if (d->build_sig != EVPN_BUILD_SIGNATURE) {
		snprintf(err, errlen,
			 "%s: built with a different data model or sanitizer "
			 "(build signature 0x%08x, evpnd 0x%08x)",
			 path, d->build_sig, (unsigned)EVPN_BUILD_SIGNATURE);
		goto fail;
	}
	if (!d->name || !*d->name || !d->create || !d->destroy || !d->vtable) {
		snprintf(err, errlen,
			 "%s: incomplete descriptor (name, create, destroy and "
			 "vtable are required)",
			 path);
		goto fail;
	}
	if (expect != EVPN_KIND_NONE && d->kind != expect) {
		snprintf(err, errlen,
			 "%s: plugin '%s' is a %s plugin, not a %s plugin",
			 path, d->name, evpn_kind_name(d->kind),
			 evpn_kind_name(expect));
		goto fail;
	}
	vsz = *(const uint32_t *)d->vtable;
	if (vsz < min_vtable_size(d->kind)) {
		snprintf(err, errlen,
			 "%s: %s vtable too small (%u bytes, need %u)", path,
			 evpn_kind_name(d->kind), vsz,
			 min_vtable_size(d->kind));
		goto fail;
	}
	pi->desc = d;
	pi->kind = d->kind;
	free(pi->path);
	pi->path = strdup(path);
	return EVPN_OK;
fail:
	dlclose(pi->dl);
	pi->dl = NULL;
	return EVPN_ERR_INVAL;
}

void evpn_loader_close(struct evpn_plugin_inst *pi)
{
	/* EVPN_NO_DLCLOSE (scripts/test) keeps the object mapped so that leak
	 * reports can still name the plugin's frames. */
	if (pi->dl && !getenv("EVPN_NO_DLCLOSE"))
		dlclose(pi->dl);
	pi->dl = NULL;
	free(pi->path);
	pi->path = NULL;
}
