/* SPDX-License-Identifier: MIT */
/*
 * The checker's in-memory store (memstore.c): the store the users service
 * runs on while an auth or api plugin is checked, and, built into a store
 * plugin with a fault switch, the broken stores of the checker's own tests
 * (tests/plugin_check).
 */
#ifndef EVPN_CHECK_MEMSTORE_H
#define EVPN_CHECK_MEMSTORE_H

#include <evpn/host.h>
#include <evpn/store.h>

struct ck_memstore;

extern const struct evpn_store_ops ck_memstore_ops;
/* host: whom a store plugin logs through; NULL in the checker itself. */
struct ck_memstore *ck_memstore_new(const struct evpn_host *host);
void ck_memstore_free(struct ck_memstore *m);

#endif
