/* An in-memory, thread-safe store with fault injection, for unit tests. */
#ifndef MEMSTORE_H
#define MEMSTORE_H

#include <evpn/store.h>

struct memstore;
extern const struct evpn_store_ops memstore_ops;
struct memstore *memstore_new(void);
void memstore_free(struct memstore *m);
/* After `n` more successful writes (put/del), every op fails (-1: never). */
void memstore_fail_after(struct memstore *m, long n);
size_t memstore_count(struct memstore *m, const char *prefix);
int memstore_put_raw(struct memstore *m, const char *key, const char *value);

#endif
