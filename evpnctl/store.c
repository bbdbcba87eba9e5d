// SPDX-License-Identifier: MIT
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "store.h"

int evpnctl_store_dir(char *dir, size_t len)
{
	const char *env = getenv("EVPN_CLIENT_DIR");
	const char *home = getenv("HOME");
	int n;

	if (env && *env)
		n = snprintf(dir, len, "%s", env);
	else if (home && *home)
		n = snprintf(dir, len, "%s/.config/evpn", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int evpnctl_store_mkdir(const char *dir)
{
	char buf[EVPNCTL_PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, dir, n + 1);
	/* Create each missing component; existing ones keep their mode. */
	for (char *p = buf + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char c = *p;

			*p = '\0';
			if (mkdir(buf, 0700) && errno != EEXIST)
				return -errno;
			*p = c;
			if (c == '\0')
				break;
		}
	}
	return 0;
}

int evpnctl_store_path(char *out, size_t len, const char *dir, const char *name,
		       const char *ext)
{
	int n = snprintf(out, len, "%s/%s%s", dir, name, ext);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int evpnctl_store_write_secret(const char *path, const char *data, size_t len)
{
	char tmp[EVPNCTL_PATH_MAX];
	int fd, r = 0;
	size_t off = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* The umask can only take bits away; fchmod makes the mode exact. */
	if (fchmod(fd, 0600)) {
		r = -errno;
		goto fail;
	}
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd)) {
		r = -errno;
		goto fail;
	}
	if (close(fd)) {
		fd = -1;
		r = -errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path)) {
		r = -errno;
		goto fail;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

int evpnctl_store_read(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t cap = 0, n = 0;
	int r = 0;

	if (!f)
		return -errno;
	for (;;) {
		if (cap - n < 4096) {
			char *nb;

			if (cap > (1u << 24)) {
				r = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap ? cap * 2 : 8192);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
			cap = cap ? cap * 2 : 8192;
		}
		size_t got = fread(buf + n, 1, cap - n - 1, f);

		n += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		r = -EIO;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	if (len)
		*len = n;
	buf = NULL;
out:
	if (buf) {
		sodium_memzero(buf, cap);
		free(buf);
	}
	fclose(f);
	return r;
}

int evpnctl_store_remove(const char *path)
{
	if (unlink(path) && errno != ENOENT)
		return -errno;
	return 0;
}

int evpnctl_client_save(const char *dir, const struct evpnctl_client *c)
{
	char path[EVPNCTL_PATH_MAX];
	json_t *obj;
	char *text = NULL;
	int r;

	r = evpnctl_store_mkdir(dir);
	if (r)
		return r;
	r = evpnctl_store_path(path, sizeof(path), dir, "client", ".json");
	if (r)
		return r;
	obj = json_pack("{s:s, s:s}", "url", c->url, "api_key", c->key);
	if (!obj)
		return -ENOMEM;
	text = json_dumps(obj, JSON_INDENT(2));
	json_decref(obj);
	if (!text)
		return -ENOMEM;
	r = evpnctl_store_write_secret(path, text, strlen(text));
	sodium_memzero(text, strlen(text));
	free(text);
	return r;
}

int evpnctl_client_load(const char *dir, struct evpnctl_client *c)
{
	char path[EVPNCTL_PATH_MAX];
	const char *url = NULL, *key = NULL;
	json_error_t jerr;
	json_t *obj;
	char *text;
	size_t len;
	int r;

	memset(c, 0, sizeof(*c));
	r = evpnctl_store_path(path, sizeof(path), dir, "client", ".json");
	if (r)
		return r;
	r = evpnctl_store_read(path, &text, &len);
	if (r)
		return r;
	obj = json_loadb(text, len, 0, &jerr);
	sodium_memzero(text, len);
	free(text);
	if (!obj)
		return -EINVAL;
	r = -EINVAL;
	if (json_unpack(obj, "{s:s, s:s}", "url", &url, "api_key", &key) ||
	    strlen(url) >= sizeof(c->url) || strlen(key) >= sizeof(c->key))
		goto out;
	strcpy(c->url, url);
	strcpy(c->key, key);
	r = 0;
out:
	json_decref(obj);
	return r;
}
