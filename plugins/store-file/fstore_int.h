/* SPDX-License-Identifier: MIT */
/* fstore internals shared by its source files; not part of any API. */
#ifndef EVPN_FSTORE_INT_H
#define EVPN_FSTORE_INT_H

#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#include "fstore.h"

/* Longest relative path we ever build: a key, or a key's directory plus a
 * temporary file name. */
#define FSTORE_PATH_MAX (EVPN_STORE_KEY_MAX + 64)
/* A key's directory plus a temporary name ("~tmp.<pid>.<seq>"). */
#define FSTORE_TMP_PATH_MAX (FSTORE_PATH_MAX + 64)
/* Longest segment: what one directory entry can hold. */
#define FSTORE_SEGMENT_MAX 255
/* Temporary files of other (shared-lock) processes are only removed once
 * they are this old: a live writer never takes that long. */
#define FSTORE_TMP_STALE_SECONDS (15 * 60)

struct fstore {
	int rootfd; /* the state directory, O_DIRECTORY */
	int lockfd; /* <dir>/.lock, or -1 */
	unsigned flags;
	char *dir;
	struct fstore_log log;
	pid_t pid;
	atomic_uint tmp_seq; /* makes temporary names unique per process */
	struct fstore_dirset *durable; /* see fstore_dirset.c */
};

struct fstore_dirset *fstore_dirset_new(void);
void fstore_dirset_free(struct fstore_dirset *s);
bool fstore_dirset_has(struct fstore_dirset *s, const char *dir);
void fstore_dirset_add(struct fstore_dirset *s, const char *dir);
void fstore_dirset_del(struct fstore_dirset *s, const char *dir);

void fstore_logf(const struct fstore *fs, enum evpn_log_level lvl,
		 const char *fmt, ...) EVPN_PRINTF(3, 4);

/* Map an errno of a file system call to an evpn error. */
int fstore_errno(int e);

/* True when name[0..len) is a valid key segment. */
bool fstore_segment_ok(const char *name, size_t len);

/* fsync the directory at relative path rel ("" = the root): 0 or errno. */
int fstore_sync_dir(struct fstore *fs, const char *rel) EVPN_WUR;

/* Read the value stored at relative path rel (already validated). */
int fstore_read_at(struct fstore *fs, const char *rel, char **value,
		   size_t *len) EVPN_WUR;

/*
 * Recursive walk below the relative directory in path[0..n) ("" = root):
 * fn is called for every non-directory entry with its relative path and
 * d_type; directories whose name is a valid segment are entered when
 * `prefix` may match something below them. path must have room for
 * FSTORE_PATH_MAX bytes. A missing directory is an empty walk. A non-zero
 * return of fn stops the walk and is returned.
 */
typedef int (*fstore_walk_fn)(struct fstore *fs, const char *path,
			      const char *name, unsigned char type, void *arg);
int fstore_walk(struct fstore *fs, char *path, size_t n, const char *prefix,
		fstore_walk_fn fn, void *arg) EVPN_WUR;

/* Remove leftover temporary files (see fstore_open). */
void fstore_clean_tmp(struct fstore *fs);

#endif /* EVPN_FSTORE_INT_H */
