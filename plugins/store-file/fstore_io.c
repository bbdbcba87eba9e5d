/* SPDX-License-Identifier: MIT */
/* fstore: get, put and del of single keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "fstore_int.h"

/* A put retries its temporary file this often when a concurrent del removes
 * the (then empty) directory between our mkdir and our create. */
#define FSTORE_RETRIES 1000

/* The directory part of key ("" for a top-level key) into dir. */
static size_t key_dir(const char *key, char *dir)
{
	const char *slash = strrchr(key, '/');
	size_t n = slash ? (size_t)(slash - key) : 0;

	memcpy(dir, key, n);
	dir[n] = '\0';
	return n;
}

/* Cut the last segment off a relative directory path; false at the root. */
static bool up(char *dir)
{
	char *slash;

	if (!*dir)
		return false;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		dir[0] = '\0';
	return true;
}

/* Best effort: drop the directories of dir that are empty, bottom up.
 * rmdir fails on a non-empty one, and a put racing with us retries its
 * mkdir when its directory vanishes. */
static void prune(struct fstore *fs, char *dir)
{
	char parent[FSTORE_PATH_MAX];

	while (*dir) {
		if (unlinkat(fs->rootfd, dir, AT_REMOVEDIR) < 0)
			break;
		fstore_dirset_del(fs->durable, dir);
		strcpy(parent, dir);
		up(parent);
		if (fstore_sync_dir(fs, parent))
			break;
		up(dir);
	}
}

int fstore_read_at(struct fstore *fs, const char *rel, char **value,
		   size_t *len)
{
	struct stat st;
	size_t size, n = 0;
	ssize_t r;
	char *buf = NULL;
	int fd, rc;

	/* O_NOFOLLOW/O_NONBLOCK: whatever else sits in the directory (a
	 * symlink, a FIFO), it is not one of our values. */
	fd = openat(fs->rootfd, rel,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return EVPN_ERR_NOTFOUND;
		return fstore_errno(errno);
	}
	if (fstat(fd, &st) < 0) {
		rc = fstore_errno(errno);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = EVPN_ERR_NOTFOUND; /* a directory: a prefix, not a key */
		goto out;
	}
	if (st.st_size > EVPN_STORE_VALUE_MAX) {
		fstore_logf(fs, EVPN_LOG_WARN,
			    "a file of %lld bytes in %s is larger than any "
			    "value; ignored",
			    (long long)st.st_size, fs->dir);
		rc = EVPN_ERR_IO;
		goto out;
	}
	size = (size_t)st.st_size;
	buf = malloc(size + 1);
	if (!buf) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	/* The file is never modified once renamed into place, so its size
	 * is final. */
	while (n < size) {
		r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = fstore_errno(errno);
			sodium_memzero(buf, n);
			free(buf);
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*value = buf;
	*len = n;
	rc = EVPN_OK;
out:
	close(fd);
	return rc;
}

int fstore_get(struct fstore *fs, const char *key, char **value, size_t *len)
{
	int rc = fstore_key_check(key);

	*value = NULL;
	*len = 0;
	if (rc)
		return rc;
	return fstore_read_at(fs, key, value, len);
}

void fstore_free_value(char *value, size_t len)
{
	if (!value)
		return;
	sodium_memzero(value, len);
	free(value);
}

/* mkdir -p of a key's directory, relative to the root. EVPN_ERR_AGAIN when
 * a concurrent del pruned a directory we just made or found. */
static int make_key_dirs(struct fstore *fs, char *dir)
{
	char *c;
	bool last = false;

	for (c = dir;; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		last = (*c == '\0');
		*c = '\0';
		if (mkdirat(fs->rootfd, dir, 0700) == 0)
			fstore_dirset_del(fs->durable, dir); /* new: not yet */
		else if (errno != EEXIST) {
			int e = errno;

			if (!last)
				*c = '/';
			if (e == ENOENT)
				return EVPN_ERR_AGAIN;
			if (e == ENOTDIR)
				return EVPN_ERR_INVAL; /* a segment is a value
							*/
			fstore_logf(fs, EVPN_LOG_ERROR,
				    "cannot create a directory in %s: %s",
				    fs->dir, strerror(e));
			return fstore_errno(e);
		}
		if (last)
			return EVPN_OK;
		*c = '/';
	}
}

/* Create the temporary file for a put in dir; returns the fd or a negative
 * evpn error. tmp receives its relative path. */
static int open_tmp(struct fstore *fs, char *dir, size_t dlen, char *tmp)
{
	int fd, rc, tries;

	for (tries = 0; tries < FSTORE_RETRIES; tries++) {
		snprintf(tmp, FSTORE_TMP_PATH_MAX,
			 "%s%s" FSTORE_TMP_PREFIX "%ld.%u", dir,
			 dlen ? "/" : "", (long)fs->pid,
			 atomic_fetch_add(&fs->tmp_seq, 1));
		fd = openat(fs->rootfd, tmp,
			    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
				    O_NOFOLLOW,
			    0600);
		if (fd >= 0)
			return fd;
		if (errno == EEXIST)
			continue; /* left by an earlier process with our pid */
		if (errno == ENOTDIR)
			return EVPN_ERR_INVAL;
		if (errno != ENOENT || !dlen) {
			fstore_logf(fs, EVPN_LOG_ERROR,
				    "cannot create a file in %s: %s", fs->dir,
				    strerror(errno));
			return fstore_errno(errno);
		}
		rc = make_key_dirs(fs, dir);
		if (rc && rc != EVPN_ERR_AGAIN)
			return rc;
	}
	fstore_logf(fs, EVPN_LOG_ERROR,
		    "cannot create a file in %s: too much contention", fs->dir);
	return EVPN_ERR_IO;
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	ssize_t r;

	while (len) {
		r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Put the temporary file at its key without replacing an existing one. */
static int rename_noreplace(struct fstore *fs, const char *tmp, const char *key)
{
	if (renameat2(fs->rootfd, tmp, fs->rootfd, key, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: link() never replaces
	 * either; the temporary name is removed afterwards. */
	if (linkat(fs->rootfd, tmp, fs->rootfd, key, 0) < 0)
		return -1;
	unlinkat(fs->rootfd, tmp, 0);
	return 0;
}

/* Make a new entry in dir durable: dir, and the entries of dir and the
 * directories above it, since dir may have been created just now (by us or
 * by a concurrent put that has not synced its parent yet) -- except those
 * already known to be durable. */
static int sync_chain(struct fstore *fs, char *dir)
{
	char child[FSTORE_PATH_MAX];
	int e;

	e = fstore_sync_dir(fs, dir);
	while (!e) {
		if (fstore_dirset_has(fs->durable, dir))
			return 0;
		strcpy(child, dir);
		if (!up(dir))
			return 0;
		e = fstore_sync_dir(fs, dir);
		if (!e)
			fstore_dirset_add(fs->durable, child);
	}
	/* Pruned: our key was deleted concurrently, nothing to keep. */
	return e == ENOENT ? 0 : e;
}

int fstore_put(struct fstore *fs, const char *key, const void *value,
	       size_t len, uint32_t flags)
{
	char dir[FSTORE_PATH_MAX], tmp[FSTORE_TMP_PATH_MAX];
	struct stat st;
	size_t dlen;
	int fd, rc, e;

	rc = fstore_key_check(key);
	if (rc)
		return rc;
	if (len > EVPN_STORE_VALUE_MAX || (!value && len) ||
	    (flags & ~(EVPN_STORE_SECRET | EVPN_STORE_CREATE)))
		return EVPN_ERR_INVAL;
	dlen = key_dir(key, dir);
	fd = open_tmp(fs, dir, dlen, tmp);
	if (fd < 0) {
		prune(fs, dir); /* a directory made before the disk filled */
		return fd;
	}
	if (write_all(fd, value, len) < 0 || fsync(fd) < 0) {
		e = errno;
		close(fd);
		goto fail_io;
	}
	if (close(fd) < 0) {
		e = errno;
		goto fail_io;
	}
	if (flags & EVPN_STORE_CREATE
		    ? rename_noreplace(fs, tmp, key)
		    : renameat(fs->rootfd, tmp, fs->rootfd, key)) {
		e = errno;
		unlinkat(fs->rootfd, tmp, 0);
		if (e == EEXIST &&
		    fstatat(fs->rootfd, key, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISDIR(st.st_mode))
			return EVPN_ERR_EXISTS;
		/* The key names a directory: it is a prefix of other keys. */
		if (e == EEXIST || e == EISDIR || e == ENOTEMPTY ||
		    e == ENOTDIR)
			return EVPN_ERR_INVAL;
		fstore_logf(fs, EVPN_LOG_ERROR,
			    "cannot rename a file in %s: %s", fs->dir,
			    strerror(e));
		return fstore_errno(e);
	}
	e = sync_chain(fs, dir);
	if (e) {
		/* The value is in place but may not survive a power loss. */
		fstore_logf(fs, EVPN_LOG_ERROR,
			    "cannot sync a directory in %s: %s", fs->dir,
			    strerror(e));
		return fstore_errno(e);
	}
	return EVPN_OK;

fail_io:
	/* Disk full, EIO: leave nothing behind, the old value stays. */
	unlinkat(fs->rootfd, tmp, 0);
	prune(fs, dir);
	fstore_logf(fs, EVPN_LOG_ERROR, "cannot write a value in %s: %s",
		    fs->dir, strerror(e));
	return e == ENOMEM ? EVPN_ERR_NOMEM : EVPN_ERR_IO;
}

int fstore_del(struct fstore *fs, const char *key)
{
	char dir[FSTORE_PATH_MAX];
	int rc, e;

	rc = fstore_key_check(key);
	if (rc)
		return rc;
	if (unlinkat(fs->rootfd, key, 0) < 0) {
		if (errno == ENOENT || errno == ENOTDIR || errno == EISDIR)
			return EVPN_ERR_NOTFOUND;
		fstore_logf(fs, EVPN_LOG_ERROR,
			    "cannot delete a file in %s: %s", fs->dir,
			    strerror(errno));
		return fstore_errno(errno);
	}
	key_dir(key, dir);
	e = fstore_sync_dir(fs, dir);
	if (e && e != ENOENT) {
		fstore_logf(fs, EVPN_LOG_ERROR,
			    "cannot sync a directory in %s: %s", fs->dir,
			    strerror(e));
		return fstore_errno(e);
	}
	prune(fs, dir);
	return EVPN_OK;
}
