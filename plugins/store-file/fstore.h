/* SPDX-License-Identifier: MIT */
/*
 * fstore: a durable key/value store in a directory, one file per key.
 *
 * The internal API of the `file` store plugin, usable without a host (unit
 * tests, helper programs). Semantics are those of include/evpn/store.h:
 *
 *   - keys are relative paths ("users/alice/status"); every segment maps to
 *     a subdirectory, the last one to a 0600 file holding the value;
 *   - put writes a temporary file in the key's directory, fsyncs it, renames
 *     it over the key (or, create-only, renames it without replacing), then
 *     fsyncs the directory chain: a put that returned EVPN_OK survives
 *     kill -9 and power loss, and a reader sees the old or the new value,
 *     never a mix;
 *   - temporary files are named "~tmp.<pid>.<n>" ('~' cannot appear in a
 *     key), are never listed or read, and are removed when the store is
 *     opened once their writer is gone;
 *   - all operations are thread-safe and safe against other processes using
 *     the same directory (they only rely on atomic file system operations);
 *     the lock only decides which processes may open the directory at all.
 */
#ifndef EVPN_FSTORE_H
#define EVPN_FSTORE_H

#include <stddef.h>
#include <stdint.h>

#include <evpn/host.h>
#include <evpn/store.h>

/* fstore_open flags: the lock taken on <dir>/.lock (flock, non-blocking). */
#define FSTORE_LOCK_NONE 0u
/* Cooperating processes may share the directory; excludes an exclusive
 * holder and is excluded by one. */
#define FSTORE_LOCK_SHARED 1u
/* This process owns the directory: any other locker fails. */
#define FSTORE_LOCK_EXCLUSIVE 2u
#define FSTORE_LOCK_MASK 3u

/* Name of the lock file inside the directory; the top-level key with this
 * name is therefore rejected. */
#define FSTORE_LOCK_NAME ".lock"
/* Prefix of temporary files; '~' is not a key character. */
#define FSTORE_TMP_PREFIX "~tmp."

/* Where fstore reports problems (never values; key names are not passed
 * either, since they name users). msg is a complete line without newline. */
struct fstore_log {
	void (*fn)(void *arg, enum evpn_log_level lvl, const char *msg);
	void *arg;
};

struct fstore;

/*
 * Open (creating it 0700, with parents, when absent) the store in dir.
 * The directory must belong to the effective user; group/other permission
 * bits are removed with a warning. With a lock flag, fails with
 * EVPN_ERR_LOCKED (and a log line naming dir) when another process holds a
 * conflicting lock. Leftover temporary files are removed: those of dead
 * writers under an exclusive lock, and any older than 15 minutes. log may
 * be NULL.
 */
int fstore_open(const char *dir, unsigned flags, const struct fstore_log *log,
		struct fstore **out) EVPN_WUR;
/* Releases the lock and frees fs; no operation may be in flight. */
void fstore_close(struct fstore *fs);

/* The store's directory as given to fstore_open. */
const char *fstore_dir(const struct fstore *fs);

/* EVPN_OK when key is a valid store key, else EVPN_ERR_INVAL. */
int fstore_key_check(const char *key) EVPN_WUR;
/* EVPN_OK when prefix may be passed to fstore_list, else EVPN_ERR_INVAL. */
int fstore_prefix_check(const char *prefix) EVPN_WUR;

/* *value is malloc'd and NUL-terminated; release it with fstore_free_value.
 * EVPN_ERR_NOTFOUND when absent. */
int fstore_get(struct fstore *fs, const char *key, char **value,
	       size_t *len) EVPN_WUR;
/* flags: EVPN_STORE_CREATE (EVPN_ERR_EXISTS when present), EVPN_STORE_SECRET
 * (accepted; every value is treated as a secret anyway). */
int fstore_put(struct fstore *fs, const char *key, const void *value,
	       size_t len, uint32_t flags) EVPN_WUR;
/* EVPN_ERR_NOTFOUND when absent. Empty parent directories are removed. */
int fstore_del(struct fstore *fs, const char *key) EVPN_WUR;
/* Every key starting with prefix (a plain string prefix: "users/" lists all
 * users' keys, "" everything), with its value, in no particular order. A
 * non-zero return of cb stops the walk and is returned. */
int fstore_list(struct fstore *fs, const char *prefix, evpn_store_list_cb cb,
		void *arg) EVPN_WUR;
/* Wipes and frees a value returned by fstore_get. */
void fstore_free_value(char *value, size_t len);
/* EVPN_OK when the directory is still there and usable. */
int fstore_ping(struct fstore *fs) EVPN_WUR;

#endif /* EVPN_FSTORE_H */
