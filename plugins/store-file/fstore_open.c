/* SPDX-License-Identifier: MIT */
/* fstore: opening the directory (creation, ownership, lock, clean-up). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fstore_int.h"

static int sync_path(const char *path)
{
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fsync(fd) < 0)
		rc = -1;
	close(fd);
	return rc;
}

/* fsync the directory that holds the entry `path` (which may be relative). */
static int sync_parent_of(char *path)
{
	char *slash = strrchr(path, '/');
	int rc;

	if (!slash)
		return sync_path(".");
	if (slash == path)
		return sync_path("/");
	*slash = '\0';
	rc = sync_path(path);
	*slash = '/';
	return rc;
}

/* mkdir -p with mode 0700; the entries of created directories are made
 * durable, so the state directory survives a crash right after open. */
static int make_dirs(struct fstore *fs, const char *dir)
{
	char *p = strdup(dir), *c;
	int rc = EVPN_OK;
	bool last = false;

	if (!p)
		return EVPN_ERR_NOMEM;
	for (c = p + 1; !last; c++) {
		if (*c != '/' && *c != '\0')
			continue;
		last = (*c == '\0');
		if (c[-1] == '/') /* "a//b" or a trailing slash */
			continue;
		*c = '\0';
		if (mkdir(p, 0700) == 0) {
			if (sync_parent_of(p) < 0) {
				rc = fstore_errno(errno);
				fstore_logf(fs, EVPN_LOG_ERROR,
					    "cannot sync the parent of %s: %s",
					    p, strerror(errno));
				goto out;
			}
		} else if (errno != EEXIST) {
			rc = fstore_errno(errno);
			fstore_logf(fs, EVPN_LOG_ERROR,
				    "cannot create state directory %s: %s", p,
				    strerror(errno));
			goto out;
		}
		if (!last)
			*c = '/';
	}
out:
	free(p);
	return rc;
}

static int check_owner(struct fstore *fs)
{
	struct stat st;

	if (fstat(fs->rootfd, &st) < 0)
		return fstore_errno(errno);
	if (st.st_uid != geteuid()) {
		fstore_logf(fs, EVPN_LOG_ERROR,
			    "state directory %s belongs to uid %u, not to us "
			    "(uid %u): refusing to keep secrets there (chown "
			    "it, or use another directory)",
			    fs->dir, (unsigned)st.st_uid, (unsigned)geteuid());
		return EVPN_ERR_PERM;
	}
	if (st.st_mode & 077) {
		fstore_logf(fs, EVPN_LOG_WARN,
			    "state directory %s had mode %04o; tightening it "
			    "to 0700",
			    fs->dir, (unsigned)(st.st_mode & 07777));
		if (fchmod(fs->rootfd, 0700) < 0) {
			fstore_logf(fs, EVPN_LOG_ERROR,
				    "cannot chmod state directory %s: %s",
				    fs->dir, strerror(errno));
			return EVPN_ERR_PERM;
		}
	}
	return EVPN_OK;
}

static long lock_holder(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

static int take_lock(struct fstore *fs)
{
	unsigned mode = fs->flags & FSTORE_LOCK_MASK;
	char buf[32];
	long pid;
	int n;

	if (mode == FSTORE_LOCK_NONE)
		return EVPN_OK;
	fs->lockfd = openat(fs->rootfd, FSTORE_LOCK_NAME,
			    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fs->lockfd < 0) {
		fstore_logf(fs, EVPN_LOG_ERROR, "cannot open %s/%s: %s",
			    fs->dir, FSTORE_LOCK_NAME, strerror(errno));
		return fstore_errno(errno);
	}
	/* flock: the lock belongs to this open file description, so it is
	 * released by the kernel when the process dies, even on kill -9. */
	if (flock(fs->lockfd,
		  (mode == FSTORE_LOCK_EXCLUSIVE ? LOCK_EX : LOCK_SH) |
			  LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK) {
			fstore_logf(fs, EVPN_LOG_ERROR, "cannot lock %s/%s: %s",
				    fs->dir, FSTORE_LOCK_NAME, strerror(errno));
			return fstore_errno(errno);
		}
		pid = lock_holder(fs->lockfd);
		if (pid > 0)
			snprintf(buf, sizeof(buf), " (pid %ld)", pid);
		else
			buf[0] = '\0';
		fstore_logf(fs, EVPN_LOG_ERROR,
			    "state directory %s is locked by another "
			    "process%s: is another evpnd running on it? Stop "
			    "it first (daemons meant to share a directory "
			    "need `lock: shared`, all of them)",
			    fs->dir, buf);
		return EVPN_ERR_LOCKED;
	}
	/* The pid is only informative (for the message above), so no fsync.
	 * Shared holders are many: they clear a stale exclusive holder's. */
	n = mode == FSTORE_LOCK_EXCLUSIVE
		    ? snprintf(buf, sizeof(buf), "%ld\n", (long)fs->pid)
		    : 0;
	if (ftruncate(fs->lockfd, 0) < 0 ||
	    (n && pwrite(fs->lockfd, buf, (size_t)n, 0) != n))
		fstore_logf(fs, EVPN_LOG_WARN,
			    "cannot record our pid in %s/%s: %s", fs->dir,
			    FSTORE_LOCK_NAME, strerror(errno));
	return EVPN_OK;
}

struct clean_ctx {
	time_t now;
	unsigned removed;
};

/* Is the process that made this temporary file ("~tmp.<pid>.<n>") gone?
 * Our own pid counts as alive: another instance in this process may be
 * writing it. */
static bool writer_gone(const char *name)
{
	char *end;
	long pid = strtol(name + strlen(FSTORE_TMP_PREFIX), &end, 10);

	if (pid <= 0 || *end != '.' || pid == (long)getpid())
		return false;
	return kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

static int clean_one(struct fstore *fs, const char *path, const char *name,
		     unsigned char type, void *arg)
{
	struct clean_ctx *c = arg;
	struct stat st;

	if (strncmp(name, FSTORE_TMP_PREFIX, strlen(FSTORE_TMP_PREFIX)) != 0)
		return 0;
	/* A one-shot command may be writing next to a daemon, so even the
	 * exclusive holder only removes what a dead process left behind. A
	 * writer in another pid namespace (a shared volume) looks dead or
	 * alive at random, so anything old enough goes too. */
	if ((fs->flags & FSTORE_LOCK_MASK) != FSTORE_LOCK_EXCLUSIVE ||
	    !writer_gone(name)) {
		if (fstatat(fs->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    c->now - st.st_mtime < FSTORE_TMP_STALE_SECONDS)
			return 0;
	}
	if (unlinkat(fs->rootfd, path, 0) == 0)
		c->removed++;
	return 0;
}

void fstore_clean_tmp(struct fstore *fs)
{
	struct clean_ctx c = {.now = time(NULL)};
	char path[FSTORE_PATH_MAX];

	path[0] = '\0';
	if (fstore_walk(fs, path, 0, "", clean_one, &c) != EVPN_OK)
		fstore_logf(fs, EVPN_LOG_WARN,
			    "could not scan %s for temporary files", fs->dir);
	if (c.removed)
		fstore_logf(fs, EVPN_LOG_INFO,
			    "removed %u unfinished temporary file(s) from %s "
			    "(left by an interrupted write)",
			    c.removed, fs->dir);
}

int fstore_open(const char *dir, unsigned flags, const struct fstore_log *log,
		struct fstore **out)
{
	struct fstore *fs;
	int rc;

	*out = NULL;
	if (!dir || !*dir || (flags & ~FSTORE_LOCK_MASK) ||
	    (flags & FSTORE_LOCK_MASK) == FSTORE_LOCK_MASK)
		return EVPN_ERR_INVAL;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return EVPN_ERR_NOMEM;
	fs->rootfd = -1;
	fs->lockfd = -1;
	fs->flags = flags;
	fs->pid = getpid();
	atomic_init(&fs->tmp_seq, 0);
	fs->durable = fstore_dirset_new(); /* NULL: just slower */
	if (log)
		fs->log = *log;
	fs->dir = strdup(dir);
	if (!fs->dir) {
		rc = EVPN_ERR_NOMEM;
		goto fail;
	}
	rc = make_dirs(fs, dir);
	if (rc)
		goto fail;
	fs->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->rootfd < 0) {
		fstore_logf(fs, EVPN_LOG_ERROR,
			    "cannot open state directory %s: %s", dir,
			    strerror(errno));
		rc = errno == ENOTDIR ? EVPN_ERR_INVAL : fstore_errno(errno);
		goto fail;
	}
	rc = check_owner(fs);
	if (rc)
		goto fail;
	rc = take_lock(fs);
	if (rc)
		goto fail;
	fstore_clean_tmp(fs);
	*out = fs;
	return EVPN_OK;
fail:
	fstore_close(fs);
	return rc;
}

void fstore_close(struct fstore *fs)
{
	if (!fs)
		return;
	if (fs->lockfd >= 0)
		close(fs->lockfd); /* releases the flock */
	if (fs->rootfd >= 0)
		close(fs->rootfd);
	fstore_dirset_free(fs->durable);
	free(fs->dir);
	free(fs);
}

const char *fstore_dir(const struct fstore *fs)
{
	return fs->dir;
}

int fstore_ping(struct fstore *fs)
{
	struct stat st;

	if (fstat(fs->rootfd, &st) < 0 || st.st_nlink == 0)
		return EVPN_ERR_UNAVAILABLE; /* removed under our feet */
	if (faccessat(fs->rootfd, ".", R_OK | W_OK | X_OK, AT_EACCESS) < 0)
		return EVPN_ERR_UNAVAILABLE;
	return EVPN_OK;
}

int fstore_sync_dir(struct fstore *fs, const char *rel)
{
	int fd, e = 0;

	if (!*rel)
		return fsync(fs->rootfd) < 0 ? errno : 0;
	fd = openat(fs->rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fsync(fd) < 0)
		e = errno;
	close(fd);
	return e;
}
