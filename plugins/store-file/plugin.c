/* SPDX-License-Identifier: MIT */
/*
 * The `file` store plugin: glue between the plugin ABI and fstore.
 *
 * Locking: the directory is opened in start() and kept until destroy(). The
 * daemon (host->command "run") takes the lock of the config key `lock` on
 * <dir>/.lock:
 *   exclusive (default) - one daemon per directory: a second `evpnd run`
 *                         fails at start with EVPN_ERR_LOCKED and a message
 *                         naming the directory and the holder's pid;
 *   shared              - several cooperating daemons may share it (every
 *                         operation is atomic across processes), but not
 *                         with an exclusive one;
 *   none                - no lock.
 * One-shot commands (keygen, master-key, ...) take no lock, so that they
 * work next to a running daemon, as `evpnd run` tells its user to do. That
 * is safe: their writes are atomic and create-only (a key they race the
 * daemon for is created once), and the daemon's start-up clean-up spares the
 * temporary files of live writers. `keygen --force` next to a running daemon
 * replaces the key in the store; the daemon keeps its old key until
 * restarted.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <evpn/config.h>
#include <evpn/host.h>
#include <evpn/plugin.h>
#include <evpn/store.h>

#include "fstore.h"

struct file_store {
	const struct evpn_host *host;
	char *dir;
	unsigned lock;
	struct fstore *fs;
};

static const struct evpn_config_key file_schema[] = {
	{
		.key = "dir",
		.type = EVPN_CFG_STRING,
		.def = "./var",
		.desc = "state directory, created 0700 (with parents); one "
			"0600 file per key. A relative path is relative to "
			"the working directory, as EVPN_STATE_DIR is",
	},
	{
		.key = "lock",
		.type = EVPN_CFG_STRING,
		.def = "exclusive",
		.desc = "lock the daemon (evpnd run) takes on <dir>/.lock: "
			"exclusive (one daemon per directory), shared "
			"(cooperating daemons share it) or none; one-shot "
			"commands never lock",
	},
	EVPN_CONFIG_KEYS_END,
};

static void fs_log(void *arg, enum evpn_log_level lvl, const char *msg)
{
	const struct evpn_host *host = arg;

	host->log(host, lvl, "%s", msg);
}

static bool debug_on(const struct file_store *st)
{
	return st->host->log_enabled &&
	       st->host->log_enabled(st->host, EVPN_LOG_DEBUG);
}

/* Key names (never values) at debug level only: they name users. */
static int trace(const struct file_store *st, const char *op, const char *key,
		 int rc)
{
	if (debug_on(st))
		evpn_debug(st->host, "%s %s: %s", op, key ? key : "(null)",
			   evpn_strerror(rc));
	return rc;
}

static int parse_lock(const char *s, unsigned *out)
{
	if (!strcmp(s, "exclusive"))
		*out = FSTORE_LOCK_EXCLUSIVE;
	else if (!strcmp(s, "shared"))
		*out = FSTORE_LOCK_SHARED;
	else if (!strcmp(s, "none"))
		*out = FSTORE_LOCK_NONE;
	else
		return EVPN_ERR_CONFIG;
	return EVPN_OK;
}

static int file_create(const struct evpn_host *host,
		       const struct evpn_config_node *config, void **self)
{
	const struct evpn_config_ops *c = host->config;
	struct file_store *st;
	const char *dir, *lock;

	*self = NULL;
	dir = c->get_str(config, "dir", "./var");
	lock = c->get_str(config, "lock", "exclusive");
	st = calloc(1, sizeof(*st));
	if (!st)
		return EVPN_ERR_NOMEM;
	st->host = host;
	if (parse_lock(lock, &st->lock) != EVPN_OK) {
		evpn_error(host,
			   "lock: \"%s\" is not one of exclusive, shared, none",
			   lock);
		free(st);
		return EVPN_ERR_CONFIG;
	}
	if (!dir || !*dir) {
		evpn_error(host, "dir: must not be empty");
		free(st);
		return EVPN_ERR_CONFIG;
	}
	st->dir = strdup(dir);
	if (!st->dir) {
		free(st);
		return EVPN_ERR_NOMEM;
	}
	*self = st;
	return EVPN_OK;
}

/* The evpnd command we run in ("run", "keygen", ...; NULL outside evpnd). */
static const char *host_command(const struct evpn_host *h)
{
	return h->command;
}

static const char *lock_name(unsigned lock)
{
	switch (lock) {
	case FSTORE_LOCK_EXCLUSIVE: return "exclusive";
	case FSTORE_LOCK_SHARED: return "shared";
	default: return "none";
	}
}

static int file_start(void *self)
{
	struct file_store *st = self;
	const struct fstore_log log = {.fn = fs_log, .arg = (void *)st->host};
	const char *cmd = host_command(st->host);
	/* Unknown host: behave as the daemon, the safe side. */
	bool daemon = !cmd || !strcmp(cmd, "run");
	unsigned lock = daemon ? st->lock : FSTORE_LOCK_NONE;
	int rc;

	if (st->fs)
		return EVPN_OK;
	rc = fstore_open(st->dir, lock, &log, &st->fs);
	if (rc) {
		evpn_error(st->host, "cannot open the store in %s: %s", st->dir,
			   evpn_strerror(rc));
		return rc;
	}
	if (daemon)
		evpn_info(st->host, "state in %s (lock: %s)", st->dir,
			  lock_name(lock));
	else
		evpn_debug(st->host, "state in %s (one-shot `%s`: no lock)",
			   st->dir, cmd);
	return EVPN_OK;
}

/* The store stays open (and locked) until destroy: plugins stopped after
 * us may still flush state on their way down. */
static void file_stop(void *self)
{
}

static void file_destroy(void *self)
{
	struct file_store *st = self;

	if (!st)
		return;
	fstore_close(st->fs);
	free(st->dir);
	free(st);
}

static int file_get(void *self, const char *key, char **value, size_t *len)
{
	struct file_store *st = self;

	if (!st->fs)
		return EVPN_ERR_UNAVAILABLE;
	return trace(st, "get", key, fstore_get(st->fs, key, value, len));
}

static int file_put(void *self, const char *key, const char *value, size_t len,
		    uint32_t flags)
{
	struct file_store *st = self;

	if (!st->fs)
		return EVPN_ERR_UNAVAILABLE;
	return trace(st, "put", key,
		     fstore_put(st->fs, key, value, len, flags));
}

static int file_del(void *self, const char *key)
{
	struct file_store *st = self;

	if (!st->fs)
		return EVPN_ERR_UNAVAILABLE;
	return trace(st, "del", key, fstore_del(st->fs, key));
}

static int file_list(void *self, const char *prefix, evpn_store_list_cb cb,
		     void *arg)
{
	struct file_store *st = self;

	if (!st->fs)
		return EVPN_ERR_UNAVAILABLE;
	return trace(st, "list", prefix, fstore_list(st->fs, prefix, cb, arg));
}

static void file_free_value(void *self, char *value, size_t len)
{
	fstore_free_value(value, len);
}

static int file_ping(void *self)
{
	struct file_store *st = self;

	if (!st->fs)
		return EVPN_ERR_UNAVAILABLE;
	return fstore_ping(st->fs);
}

static const struct evpn_store_ops file_ops = {
	.size = sizeof(struct evpn_store_ops),
	.get = file_get,
	.put = file_put,
	.del = file_del,
	.list = file_list,
	.free_value = file_free_value,
	.ping = file_ping,
};

static const struct evpn_plugin_desc file_desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "file",
	.kind = EVPN_KIND_STORE,
	.version = "1.0.0",
	.description = "durable key/value state in a local directory "
		       "(atomic, fsync'd writes; one file per key)",
	.schema = file_schema,
	.create = file_create,
	.start = file_start,
	.stop = file_stop,
	.destroy = file_destroy,
	.vtable = &file_ops,
};

EVPN_PLUGIN_DEFINE(file_desc)
