/* SPDX-License-Identifier: MIT */
/* fstore: recursive directory walk and list. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fstore_int.h"

struct ent {
	char *name;
	unsigned char type;
};

/* Can keys below directory path[0..m) start with prefix? */
static bool dir_may_match(const char *path, size_t m, const char *prefix)
{
	size_t plen = strlen(prefix);

	if (plen <= m)
		return strncmp(path, prefix, plen) == 0;
	return strncmp(path, prefix, m) == 0 && prefix[m] == '/';
}

/* Read the names of a directory up front, so that a deep tree holds one
 * directory fd at a time and entries may be removed while we walk. */
static int read_entries(struct fstore *fs, const char *path, size_t n,
			struct ent **out, size_t *count)
{
	struct ent *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int fd, rc = EVPN_OK;

	*out = NULL;
	*count = 0;
	fd = openat(fs->rootfd, n ? path : ".",
		    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		/* A missing prefix is an empty one. */
		if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
			return EVPN_OK;
		return fstore_errno(errno);
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return EVPN_ERR_NOMEM;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				rc = fstore_errno(errno);
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				rc = EVPN_ERR_NOMEM;
				break;
			}
			v = nv;
		}
		v[cnt].name = strdup(de->d_name);
		if (!v[cnt].name) {
			rc = EVPN_ERR_NOMEM;
			break;
		}
		v[cnt++].type = de->d_type;
	}
	closedir(d);
	*out = v;
	*count = cnt;
	return rc;
}

static unsigned char entry_type(struct fstore *fs, const char *path,
				unsigned char type)
{
	struct stat st;

	if (type != DT_UNKNOWN)
		return type;
	if (fstatat(fs->rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return DT_UNKNOWN;
	if (S_ISDIR(st.st_mode))
		return DT_DIR;
	if (S_ISREG(st.st_mode))
		return DT_REG;
	return DT_UNKNOWN;
}

int fstore_walk(struct fstore *fs, char *path, size_t n, const char *prefix,
		fstore_walk_fn fn, void *arg)
{
	struct ent *v;
	size_t cnt, i, len, m;
	unsigned char type;
	int rc;

	rc = read_entries(fs, path, n, &v, &cnt);
	for (i = 0; i < cnt && rc == EVPN_OK; i++) {
		len = strlen(v[i].name);
		m = n ? n + 1 + len : len;
		if (m + 1 > FSTORE_PATH_MAX)
			continue;
		if (n)
			path[n] = '/';
		memcpy(path + (n ? n + 1 : 0), v[i].name, len + 1);
		type = entry_type(fs, path, v[i].type);
		if (type == DT_DIR) {
			if (fstore_segment_ok(v[i].name, len) &&
			    dir_may_match(path, m, prefix))
				rc = fstore_walk(fs, path, m, prefix, fn, arg);
		} else {
			rc = fn(fs, path, v[i].name, type, arg);
		}
		path[n] = '\0';
	}
	for (i = 0; i < cnt; i++)
		free(v[i].name);
	free(v);
	return rc;
}

struct list_ctx {
	const char *prefix;
	size_t plen;
	evpn_store_list_cb cb;
	void *arg;
};

static int list_one(struct fstore *fs, const char *path, const char *name,
		    unsigned char type, void *arg)
{
	struct list_ctx *c = arg;
	char *value;
	size_t len;
	int rc;

	if (type != DT_REG || strncmp(path, c->prefix, c->plen) != 0)
		return 0;
	/* Temporary files ("~tmp.*"), the lock, foreign files: not keys. */
	if (fstore_key_check(path) != EVPN_OK)
		return 0;
	rc = fstore_read_at(fs, path, &value, &len);
	if (rc == EVPN_ERR_NOTFOUND)
		return 0; /* deleted since we read the directory */
	if (rc)
		return rc;
	rc = c->cb(c->arg, path, value, len);
	fstore_free_value(value, len);
	return rc;
}

int fstore_list(struct fstore *fs, const char *prefix, evpn_store_list_cb cb,
		void *arg)
{
	struct list_ctx c = {.prefix = prefix, .cb = cb, .arg = arg};
	char path[FSTORE_PATH_MAX];
	const char *slash;
	size_t n;
	int rc;

	rc = fstore_prefix_check(prefix);
	if (rc || !cb)
		return rc ? rc : EVPN_ERR_INVAL;
	c.plen = strlen(prefix);
	/* Start in the deepest directory the prefix names completely. */
	slash = strrchr(prefix, '/');
	n = slash ? (size_t)(slash - prefix) : 0;
	memcpy(path, prefix, n);
	path[n] = '\0';
	return fstore_walk(fs, path, n, prefix, list_one, &c);
}
