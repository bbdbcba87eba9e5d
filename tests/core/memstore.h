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
/* get calls so far */
size_t memstore_gets(struct memstore *m);
int memstore_put_raw(struct memstore *m, const char *key, const char *value);
/* Run fn(arg) once, right after the next list of `prefix` has returned its
 * records (outside the store's lock): a change that lands while a load is
 * between its listing and its install. */
void memstore_after_list(struct memstore *m, const char *prefix,
			 void (*fn)(void *), void *arg);

#endif
