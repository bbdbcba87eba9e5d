/* SPDX-License-Identifier: MIT */
/* fstore: key validation, error mapping and logging helpers. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fstore_int.h"

static bool seg_char_ok(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == ':' ||
	       c == '-';
}

bool fstore_segment_ok(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > FSTORE_SEGMENT_MAX)
		return false;
	/* "." and ".." would walk the directory tree, not name a key. */
	if (name[0] == '.' && (len == 1 || (len == 2 && name[1] == '.')))
		return false;
	for (i = 0; i < len; i++)
		if (!seg_char_ok((unsigned char)name[i]))
			return false;
	return true;
}

/* Checks the complete segments of s[0..len); returns the length of the
 * trailing incomplete segment through *tail (0 when s ends with '/'). */
static int check_segments(const char *s, size_t len, size_t *tail)
{
	size_t start = 0, i;

	for (i = 0; i < len; i++) {
		if (s[i] != '/')
			continue;
		if (!fstore_segment_ok(s + start, i - start))
			return EVPN_ERR_INVAL;
		start = i + 1;
	}
	*tail = len - start;
	return EVPN_OK;
}

int fstore_key_check(const char *key)
{
	size_t len, tail;

	if (!key)
		return EVPN_ERR_INVAL;
	len = strnlen(key, EVPN_STORE_KEY_MAX + 1);
	if (len == 0 || len > EVPN_STORE_KEY_MAX)
		return EVPN_ERR_INVAL;
	if (check_segments(key, len, &tail) != EVPN_OK)
		return EVPN_ERR_INVAL;
	if (!fstore_segment_ok(key + len - tail, tail))
		return EVPN_ERR_INVAL;
	/* The lock file lives at the top of the directory. */
	if (strcmp(key, FSTORE_LOCK_NAME) == 0)
		return EVPN_ERR_INVAL;
	return EVPN_OK;
}

int fstore_prefix_check(const char *prefix)
{
	size_t len, tail, i;

	if (!prefix)
		return EVPN_ERR_INVAL;
	len = strnlen(prefix, EVPN_STORE_KEY_MAX + 1);
	if (len > EVPN_STORE_KEY_MAX)
		return EVPN_ERR_INVAL;
	if (check_segments(prefix, len, &tail) != EVPN_OK)
		return EVPN_ERR_INVAL;
	/* The last, partial segment is only compared as a string: any key
	 * characters will do, even "." (it may start ".foo"). */
	for (i = len - tail; i < len; i++)
		if (!seg_char_ok((unsigned char)prefix[i]))
			return EVPN_ERR_INVAL;
	return EVPN_OK;
}

int fstore_errno(int e)
{
	switch (e) {
	case 0: return EVPN_OK;
	case ENOMEM: return EVPN_ERR_NOMEM;
	case ENAMETOOLONG: return EVPN_ERR_INVAL;
	/* ENOSPC, EDQUOT, EIO, EROFS, EACCES, ...: the disk let us down. */
	default: return EVPN_ERR_IO;
	}
}

void fstore_logf(const struct fstore *fs, enum evpn_log_level lvl,
		 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!fs->log.fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fs->log.fn(fs->log.arg, lvl, msg);
}
