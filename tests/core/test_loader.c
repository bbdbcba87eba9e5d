/* Loader: ABI negotiation and every way a plugin file can be wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <evpn/store.h>

#include "core.h"
#include "daemon.h"

static int open_plugin(const char *name, enum evpn_kind kind, char *err,
		       size_t errlen)
{
	struct evpn_plugin_inst pi;
	char path[512];
	int r;

	memset(&pi, 0, sizeof(pi));
	snprintf(path, sizeof(path), "%s/store-%s.so", TEST_PLUGIN_DIR, name);
	err[0] = '\0';
	r = evpn_loader_open(path, &pi, kind, err, errlen);
	if (r == EVPN_OK) {
		assert_string_equal(pi.desc->name, name);
		evpn_loader_close(&pi);
	}
	return r;
}

static void test_good(void **state)
{
	char err[512];

	assert_int_equal(open_plugin("good", EVPN_KIND_STORE, err, sizeof(err)),
			 EVPN_OK);
	assert_int_equal(open_plugin("good", EVPN_KIND_NONE, err, sizeof(err)),
			 EVPN_OK);
}

/* ABI 1.0 is every field of the headers: a vtable missing one is refused. */
static void test_short_vtable(void **state)
{
	char err[512];

	assert_int_equal(
		open_plugin("short", EVPN_KIND_STORE, err, sizeof(err)),
		EVPN_ERR_INVAL);
	assert_non_null(strstr(err, "store vtable too small"));
}

/* EVPN_HAS_FIELD: how a side tests for a field appended after 1.0. */
static void test_has_field(void **state)
{
	struct evpn_store_ops o = {
		.size = offsetof(struct evpn_store_ops, ping)};

	assert_true(EVPN_HAS_FIELD(&o, get));
	assert_true(EVPN_HAS_FIELD(&o, free_value));
	assert_false(EVPN_HAS_FIELD(&o, ping));
	o.size = sizeof(o);
	assert_true(EVPN_HAS_FIELD(&o, ping));
}

/* A plugin built for another ABI is refused, named with both versions and
 * what to do: whether it refuses this host itself (as every plugin built
 * with EVPN_PLUGIN_DEFINE does) or wrongly accepts any host. */
static void expect_abi(const char *name, const char *versions,
		       const char *advice)
{
	char err[512], so[64];

	assert_int_equal(open_plugin(name, EVPN_KIND_STORE, err, sizeof(err)),
			 EVPN_ERR_INVAL);
	snprintf(so, sizeof(so), "store-%s.so: ", name);
	assert_non_null(strstr(err, so));
	assert_non_null(strstr(err, versions));
	assert_non_null(strstr(err, advice));
}

static void test_wrong_abi(void **state)
{
	char v[80];

	/* the test plugins are built for the majors around 2 (CMakeLists) */
	assert_int_equal(EVPN_ABI_MAJOR, 2);
	snprintf(v, sizeof(v),
		 "built for plugin ABI 1.1, this evpnd provides %d.%d",
		 EVPN_ABI_MAJOR, EVPN_ABI_MINOR);
	/* 1.x: struct evpn_user's status was a char[16] */
	expect_abi("abi1", v,
		   "rebuild the plugin against this evpnd's headers");
	expect_abi("wrongabi", v,
		   "rebuild the plugin against this evpnd's headers");
	snprintf(v, sizeof(v),
		 "built for plugin ABI 3.0, this evpnd provides %d.%d",
		 EVPN_ABI_MAJOR, EVPN_ABI_MINOR);
	expect_abi("newabi", v, "the plugin needs a newer evpnd");
	snprintf(v, sizeof(v),
		 "built for plugin ABI %d.60000, this evpnd provides %d.%d",
		 EVPN_ABI_MAJOR, EVPN_ABI_MAJOR, EVPN_ABI_MINOR);
	expect_abi("newminor", v, "the plugin needs a newer evpnd");
}

static void test_refuses(void **state)
{
	char err[512];

	assert_int_not_equal(
		open_plugin("refuses", EVPN_KIND_STORE, err, sizeof(err)),
		EVPN_OK);
	assert_non_null(strstr(err, "refused host ABI"));
}

static void test_no_entry(void **state)
{
	char err[512];

	assert_int_not_equal(
		open_plugin("noentry", EVPN_KIND_STORE, err, sizeof(err)),
		EVPN_OK);
	assert_non_null(strstr(err, "not an evpn plugin"));
}

static void test_wrong_kind(void **state)
{
	char err[512];

	assert_int_not_equal(
		open_plugin("wrongkind", EVPN_KIND_STORE, err, sizeof(err)),
		EVPN_OK);
	assert_non_null(strstr(err, "is a auth plugin, not a store plugin"));
}

static void test_garbage_and_missing(void **state)
{
	char err[512];

	assert_int_not_equal(
		open_plugin("garbage", EVPN_KIND_STORE, err, sizeof(err)),
		EVPN_OK);
	assert_non_null(strstr(err, "cannot load"));
	assert_int_equal(
		open_plugin("missing", EVPN_KIND_STORE, err, sizeof(err)),
		EVPN_ERR_NOTFOUND);
	assert_non_null(strstr(err, "No such file"));
}

static char *write_config(const char *body)
{
	static char path[] = "/tmp/evpn-loader-XXXXXX";
	int fd;
	FILE *f;

	strcpy(path, "/tmp/evpn-loader-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fprintf(f, "plugin_dir: %s\n%s", TEST_PLUGIN_DIR, body);
	fclose(f);
	return path;
}

static void test_daemon_schema_and_create(void **state)
{
	struct evpn_core core;
	struct evpn_errors e = {0};
	char *path;

	/* plugin config validated against the plugin's schema */
	path = write_config("plugins:\n  store:\n    use: good\n    config: "
			    "{count: 99, bogus: 1}\n");
	memset(&core, 0, sizeof(core));
	assert_int_equal(evpn_core_loop_init(&core), EVPN_OK);
	assert_int_equal(evpn_daemon_load(&core, path, EVPN_KINDS_ALL, &e),
			 EVPN_ERR_CONFIG);
	assert_int_equal(e.n, 2);
	assert_non_null(
		strstr(e.msg[0], "unknown key 'bogus' (allowed: name, count)"));
	assert_non_null(strstr(
		e.msg[1], "plugins.store.config.count: 99 is out of range"));
	evpn_daemon_teardown(&core);
	evpn_errors_free(&e);
	unlink(path);

	/* create failing: start-up refused */
	path = write_config("plugins:\n  store: {use: failcreate}\n");
	memset(&core, 0, sizeof(core));
	assert_int_equal(evpn_core_loop_init(&core), EVPN_OK);
	assert_int_equal(evpn_daemon_load(&core, path, EVPN_KINDS_ALL, &e),
			 EVPN_OK);
	assert_int_equal(evpn_daemon_create(&core), EVPN_ERR_IO);
	evpn_daemon_teardown(&core);
	unlink(path);

	/* no store; unknown kind; api without auth; missing plugin */
	path = write_config("plugins:\n  proxy: {use: x}\n"
			    "  api: {use: " TEST_PLUGIN_DIR "/store-good.so}\n"
			    "  transport: {use: nothere}\n");
	memset(&core, 0, sizeof(core));
	assert_int_equal(evpn_core_loop_init(&core), EVPN_OK);
	assert_int_equal(evpn_daemon_load(&core, path, EVPN_KINDS_ALL, &e),
			 EVPN_ERR_CONFIG);
	for (size_t i = 0; i < e.n; i++)
		fprintf(stderr, "  error %zu: %s\n", i, e.msg[i]);
	assert_true(e.n >= 3);
	assert_non_null(strstr(e.msg[0], "unknown kind 'proxy'"));
	assert_non_null(
		strstr(e.msg[1], "is a store plugin, not a api plugin"));
	assert_non_null(strstr(e.msg[2], "transport-nothere.so"));
	evpn_daemon_teardown(&core);
	evpn_errors_free(&e);
	unlink(path);
}

/* An api with no auth is refused once, with one message, whether or not its
 * plugin declares that it needs auth, and whichever kinds the command
 * loads. */
static void test_api_requires_auth(void **state)
{
	static const char *const apis[] = {"api", "apiauth"};
	static const uint32_t kinds[] = {EVPN_KINDS_ALL,
					 EVPN_KIND_BIT(EVPN_KIND_STORE)};

	(void)state;
	for (size_t a = 0; a < 2; a++)
		for (size_t k = 0; k < 2; k++) {
			struct evpn_core core;
			struct evpn_errors e = {0};
			char body[512], *path;

			snprintf(body, sizeof(body),
				 "plugins:\n  store: {use: good}\n"
				 "  api: {use: %s/store-%s.so}\n",
				 TEST_PLUGIN_DIR, apis[a]);
			path = write_config(body);
			memset(&core, 0, sizeof(core));
			assert_int_equal(evpn_core_loop_init(&core), EVPN_OK);
			assert_int_equal(
				evpn_daemon_load(&core, path, kinds[k], &e),
				EVPN_ERR_CONFIG);
			for (size_t i = 0; i < e.n; i++)
				fprintf(stderr, "  error %zu: %s\n", i,
					e.msg[i]);
			assert_int_equal(e.n, 1);
			assert_non_null(strstr(
				e.msg[0], "'api' requires an 'auth' entry"));
			evpn_daemon_teardown(&core);
			evpn_errors_free(&e);
			unlink(path);
		}
}

/* The core's rule holds for an api plugin that does not declare it. */
static void test_api_needs_auth_undeclared(void **state)
{
	struct evpn_core core;
	struct evpn_errors e = {0};
	char *path;

	(void)state;
	path = write_config("plugins:\n  store: {use: good}\n"
			    "  api: {use: " TEST_PLUGIN_DIR "/store-api.so}\n"
			    "  auth: {use: " TEST_PLUGIN_DIR
			    "/store-wrongkind.so}\n");
	memset(&core, 0, sizeof(core));
	assert_int_equal(evpn_core_loop_init(&core), EVPN_OK);
	assert_int_equal(evpn_daemon_load(&core, path, EVPN_KINDS_ALL, &e),
			 EVPN_OK);
	assert_int_equal(core.plugins[EVPN_KIND_API]->desc->requires, 0);
	assert_true(evpn_daemon_kind_needs(&core, EVPN_KIND_API) &
		    EVPN_KIND_BIT(EVPN_KIND_AUTH));
	evpn_daemon_teardown(&core);
	evpn_errors_free(&e);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_short_vtable),
		cmocka_unit_test(test_has_field),
		cmocka_unit_test(test_wrong_abi),
		cmocka_unit_test(test_refuses),
		cmocka_unit_test(test_no_entry),
		cmocka_unit_test(test_wrong_kind),
		cmocka_unit_test(test_garbage_and_missing),
		cmocka_unit_test(test_daemon_schema_and_create),
		cmocka_unit_test(test_api_requires_auth),
		cmocka_unit_test(test_api_needs_auth_undeclared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
