/* SPDX-License-Identifier: MIT */
/*
 * The checker's own memory store (tools/plugin-check/memstore.c) as a store
 * plugin, for the checker's tests: built as is it keeps the store contract,
 * built with one of memstore.c's fault switches (CK_BROKEN_*) it breaks it
 * in one way, which evpn-plugin-check must notice.
 */
#include <evpn/host.h>
#include <evpn/store.h>

#include "memstore.h"

static int m_create(const struct evpn_host *host,
		    const struct evpn_config_node *config, void **self)
{
	*self = ck_memstore_new(host);
	return *self ? EVPN_OK : EVPN_ERR_NOMEM;
}

static void m_destroy(void *self)
{
	ck_memstore_free(self);
}

static const struct evpn_plugin_desc desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = TEST_NAME,
	.kind = EVPN_KIND_STORE,
	.version = "0.0.1",
	.description = "in-memory store for the checker's tests",
	.create = m_create,
	.destroy = m_destroy,
	.vtable = &ck_memstore_ops,
};

EVPN_PLUGIN_DEFINE(desc)
