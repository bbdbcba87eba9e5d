/* SPDX-License-Identifier: MIT */
/* The file store plugin through its ABI: dlopen'd, with a fake host. */
#include <dlfcn.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <evpn/config.h>
#include <evpn/host.h>
#include <evpn/plugin.h>
#include <evpn/store.h>

#define SECRET "s3cr3t-V4LUE-never-logged"

/* The fake config "node": what get_str answers. */
struct fake_cfg {
	const char *dir;
	const char *lock;
};

static char logbuf[16384];
static size_t loglen;

static void fake_vlog(const struct evpn_host *h, enum evpn_log_level lvl,
		      const char *fmt, va_list ap)
{
	int n;

	if (loglen >= sizeof(logbuf) - 2)
		return;
	n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen - 1, fmt, ap);
	if (n > 0)
		loglen += (size_t)n < sizeof(logbuf) - loglen - 1
				  ? (size_t)n
				  : sizeof(logbuf) - loglen - 2;
	logbuf[loglen++] = '\n';
	logbuf[loglen] = '\0';
}

static void fake_log(const struct evpn_host *h, enum evpn_log_level lvl,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fake_vlog(h, lvl, fmt, ap);
	va_end(ap);
}

static bool fake_log_enabled(const struct evpn_host *h, enum evpn_log_level lvl)
{
	return true; /* debug on: key names appear, values must not */
}

static const char *fake_get_str(const struct evpn_config_node *map,
				const char *key, const char *fallback)
{
	const struct fake_cfg *c = (const void *)map;

	if (!strcmp(key, "lock") && c->lock)
		return c->lock;
	if (!strcmp(key, "dir") && c->dir)
		return c->dir;
	return fallback;
}

static const struct evpn_config_ops fake_config = {
	.size = sizeof(struct evpn_config_ops),
	.get_str = fake_get_str,
};

#define FAKE_HOST(cmd)                                                         \
	{                                                                      \
		.size = sizeof(struct evpn_host), .abi_major = EVPN_ABI_MAJOR, \
		.abi_minor = EVPN_ABI_MINOR, .log = fake_log,                  \
		.vlog = fake_vlog, .log_enabled = fake_log_enabled,            \
		.config = &fake_config, .command = cmd,                        \
	}

static const struct evpn_host fake_host = FAKE_HOST("run");
static const struct evpn_host oneshot_host = FAKE_HOST("master-key");
/* An older host, without the command field: treated as the daemon. */
static struct evpn_host old_host = FAKE_HOST(NULL);

struct ctx {
	void *dl;
	const struct evpn_plugin_desc *desc;
	const struct evpn_store_ops *ops;
	char base[64];
	char dir[128];
};

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(p);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	evpn_plugin_entry_fn entry;

	assert_non_null(c);
	c->dl = dlopen(STORE_FILE_SO, RTLD_NOW | RTLD_LOCAL);
	if (!c->dl)
		fail_msg("dlopen %s: %s", STORE_FILE_SO, dlerror());
	*(void **)&entry = dlsym(c->dl, EVPN_PLUGIN_ENTRY_SYMBOL);
	assert_non_null(entry);
	assert_null(entry(EVPN_ABI_MAJOR + 1, 0));
	c->desc = entry(EVPN_ABI_MAJOR, EVPN_ABI_MINOR);
	assert_non_null(c->desc);
	c->ops = c->desc->vtable;
	snprintf(c->base, sizeof(c->base), "/tmp/fstore-plugin.XXXXXX");
	assert_non_null(mkdtemp(c->base));
	snprintf(c->dir, sizeof(c->dir), "%s/var", c->base);
	loglen = 0;
	logbuf[0] = '\0';
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	nftw(c->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	dlclose(c->dl);
	free(c);
	return 0;
}

static void test_descriptor(void **state)
{
	struct ctx *c = *state;
	const struct evpn_plugin_desc *d = c->desc;
	const struct evpn_config_key *k;
	bool dir = false, lock = false;

	assert_int_equal(d->size, sizeof(*d));
	assert_int_equal(d->build_sig, EVPN_BUILD_SIGNATURE);
	assert_string_equal(d->name, "file");
	assert_int_equal(d->kind, EVPN_KIND_STORE);
	assert_int_equal(c->ops->size, sizeof(struct evpn_store_ops));
	assert_non_null(c->ops->get);
	assert_non_null(c->ops->put);
	assert_non_null(c->ops->del);
	assert_non_null(c->ops->list);
	assert_non_null(c->ops->free_value);
	assert_non_null(c->ops->ping);
	for (k = d->schema; k->key; k++) {
		if (!strcmp(k->key, "dir")) {
			/* relative to the working directory, like a shell */
			assert_int_equal(k->type, EVPN_CFG_STRING);
			assert_string_equal(k->def, "./var");
			dir = true;
		} else if (!strcmp(k->key, "lock")) {
			assert_int_equal(k->type, EVPN_CFG_STRING);
			assert_string_equal(k->def, "exclusive");
			lock = true;
		}
		assert_non_null(k->desc);
	}
	assert_true(dir && lock);
	/* nothing but the entry point is exported */
	assert_null(dlsym(c->dl, "fstore_open"));
	assert_null(dlsym(c->dl, "fstore_put"));
}

static int count_cb(void *arg, const char *key, const char *value, size_t len)
{
	(*(int *)arg)++;
	return 0;
}

static void test_lifecycle(void **state)
{
	struct ctx *c = *state;
	struct fake_cfg cfg = {.dir = c->dir};
	const struct evpn_config_node *node = (const void *)&cfg;
	const struct evpn_store_ops *ops = c->ops;
	void *self = NULL, *other = NULL;
	char *v;
	size_t len;
	int n = 0;

	assert_int_equal(c->desc->create(&fake_host, node, &self), EVPN_OK);
	assert_non_null(self);
	/* not started yet: no directory, no access */
	assert_int_equal(access(c->dir, F_OK), -1);
	assert_int_equal(ops->ping(self), EVPN_ERR_UNAVAILABLE);
	assert_int_equal(ops->put(self, "k", "v", 1, 0), EVPN_ERR_UNAVAILABLE);

	assert_int_equal(c->desc->start(self), EVPN_OK);
	assert_int_equal(ops->ping(self), EVPN_OK);
	assert_int_equal(ops->put(self, "users/alice/api-key-hash", SECRET,
				  strlen(SECRET),
				  EVPN_STORE_SECRET | EVPN_STORE_CREATE),
			 EVPN_OK);
	assert_int_equal(ops->put(self, "users/alice/api-key-hash", SECRET,
				  strlen(SECRET), EVPN_STORE_CREATE),
			 EVPN_ERR_EXISTS);
	assert_int_equal(ops->get(self, "users/alice/api-key-hash", &v, &len),
			 EVPN_OK);
	assert_int_equal(len, strlen(SECRET));
	assert_string_equal(v, SECRET);
	ops->free_value(self, v, len);
	assert_int_equal(ops->list(self, "users/", count_cb, &n), EVPN_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ops->get(self, "users/bob/status", &v, &len),
			 EVPN_ERR_NOTFOUND);
	assert_int_equal(ops->put(self, "../escape", "v", 1, 0),
			 EVPN_ERR_INVAL);

	/* a second instance on the same directory is refused at start */
	assert_int_equal(c->desc->create(&fake_host, node, &other), EVPN_OK);
	assert_int_equal(c->desc->start(other), EVPN_ERR_LOCKED);
	assert_non_null(strstr(logbuf, c->dir));
	assert_non_null(strstr(logbuf, "locked"));
	c->desc->stop(other);
	c->desc->destroy(other);

	assert_int_equal(ops->del(self, "users/alice/api-key-hash"), EVPN_OK);
	assert_int_equal(ops->del(self, "users/alice/api-key-hash"),
			 EVPN_ERR_NOTFOUND);
	c->desc->stop(self);
	c->desc->stop(self); /* idempotent */
	c->desc->destroy(self);

	/* key names at debug level, never values */
	assert_non_null(strstr(logbuf, "users/alice/api-key-hash"));
	assert_null(strstr(logbuf, SECRET));

	/* the lock went with destroy */
	assert_int_equal(c->desc->create(&fake_host, node, &self), EVPN_OK);
	assert_int_equal(c->desc->start(self), EVPN_OK);
	c->desc->stop(self);
	c->desc->destroy(self);
}

static void test_lock_modes(void **state)
{
	struct ctx *c = *state;
	struct fake_cfg shared = {.dir = c->dir, .lock = "shared"};
	struct fake_cfg bad = {.dir = c->dir, .lock = "sometimes"};
	struct fake_cfg excl = {.dir = c->dir, .lock = "exclusive"};
	void *a = NULL, *b = NULL, *x = NULL;

	assert_int_equal(c->desc->create(&fake_host, (const void *)&bad, &x),
			 EVPN_ERR_CONFIG);
	assert_null(x);
	assert_non_null(strstr(logbuf, "sometimes"));

	assert_int_equal(c->desc->create(&fake_host, (const void *)&shared, &a),
			 EVPN_OK);
	assert_int_equal(c->desc->create(&fake_host, (const void *)&shared, &b),
			 EVPN_OK);
	assert_int_equal(c->desc->create(&fake_host, (const void *)&excl, &x),
			 EVPN_OK);
	assert_int_equal(c->desc->start(a), EVPN_OK);
	assert_int_equal(c->desc->start(b), EVPN_OK);
	assert_int_equal(c->desc->start(x), EVPN_ERR_LOCKED);
	c->desc->destroy(x);
	c->desc->destroy(b);
	c->desc->destroy(a);
}

/* One-shot commands work next to a running daemon; daemons exclude each
 * other. */
static void test_oneshot(void **state)
{
	struct ctx *c = *state;
	struct fake_cfg cfg = {.dir = c->dir};
	const struct evpn_config_node *node = (const void *)&cfg;
	const struct evpn_store_ops *ops = c->ops;
	void *daemon = NULL, *one = NULL, *two = NULL, *old = NULL;
	char *v;
	size_t len;

	old_host.size = offsetof(struct evpn_host, command);
	assert_int_equal(c->desc->create(&fake_host, node, &daemon), EVPN_OK);
	assert_int_equal(c->desc->start(daemon), EVPN_OK);
	assert_int_equal(c->desc->create(&oneshot_host, node, &one), EVPN_OK);
	assert_int_equal(c->desc->start(one), EVPN_OK);
	assert_int_equal(ops->put(one, "master-api-key", SECRET, strlen(SECRET),
				  EVPN_STORE_CREATE),
			 EVPN_OK);
	assert_int_equal(ops->get(daemon, "master-api-key", &v, &len), EVPN_OK);
	assert_string_equal(v, SECRET);
	ops->free_value(daemon, v, len);
	c->desc->destroy(one);
	/* an older host without `command` is the daemon, and locks */
	assert_int_equal(c->desc->create(&old_host, node, &old), EVPN_OK);
	assert_int_equal(c->desc->start(old), EVPN_ERR_LOCKED);
	c->desc->destroy(old);
	assert_int_equal(c->desc->create(&fake_host, node, &two), EVPN_OK);
	assert_int_equal(c->desc->start(two), EVPN_ERR_LOCKED);
	c->desc->destroy(two);
	c->desc->destroy(daemon);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_descriptor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lifecycle, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lock_modes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oneshot, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
