// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

static char tmp[64];

static int setup(void **state)
{
	strcpy(tmp, "/tmp/evpnctl-store-XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static void test_dir(void **state)
{
	char dir[EVPNCTL_PATH_MAX];

	setenv("EVPN_CLIENT_DIR", "/x/y", 1);
	assert_int_equal(evpnctl_store_dir(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/x/y");
	unsetenv("EVPN_CLIENT_DIR");
	setenv("HOME", "/home/u", 1);
	assert_int_equal(evpnctl_store_dir(dir, sizeof(dir)), 0);
	assert_string_equal(dir, "/home/u/.config/evpn");
	unsetenv("HOME");
	assert_int_equal(evpnctl_store_dir(dir, sizeof(dir)), -ENOENT);
	assert_int_equal(evpnctl_store_dir(dir, 4), -ENOENT);
	setenv("HOME", "/home/u", 1);
	assert_int_equal(evpnctl_store_dir(dir, 4), -ENAMETOOLONG);
}

static void test_modes_under_open_umask(void **state)
{
	char dir[256], path[EVPNCTL_PATH_MAX], *text;
	size_t len;
	mode_t old = umask(0);

	snprintf(dir, sizeof(dir), "%s/a/b", tmp);
	assert_int_equal(evpnctl_store_mkdir(dir), 0);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(evpnctl_store_mkdir(dir), 0); /* idempotent */
	assert_int_equal(
		evpnctl_store_path(path, sizeof(path), dir, "alice", ".conf"),
		0);
	assert_int_equal(evpnctl_store_write_secret(path, "abc", 3), 0);
	assert_int_equal(mode_of(path), 0600);
	/* overwrite keeps 0600 even if someone loosened the old file */
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(evpnctl_store_write_secret(path, "defg", 4), 0);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(evpnctl_store_read(path, &text, &len), 0);
	assert_int_equal(len, 4);
	assert_string_equal(text, "defg");
	free(text);
	assert_int_equal(evpnctl_store_remove(path), 0);
	assert_int_equal(evpnctl_store_remove(path), 0); /* already gone */
	assert_int_equal(evpnctl_store_read(path, &text, &len), -ENOENT);
	umask(old);
	/* a too-strict umask cannot take the owner's bits either */
	old = umask(0777);
	assert_int_equal(evpnctl_store_write_secret(path, "x", 1), 0);
	umask(old);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(evpnctl_store_path(path, 8, dir, "alice", ".conf"),
			 -ENAMETOOLONG);
}

static void test_client_json(void **state)
{
	struct evpnctl_client c = {0}, d;
	char dir[256], path[300];
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/client", tmp);
	assert_int_equal(evpnctl_client_load(dir, &d), -ENOENT);
	strcpy(c.url, "http://127.0.0.1:8000");
	strcpy(c.key, "s3cr\"et");
	assert_int_equal(evpnctl_client_save(dir, &c), 0);
	snprintf(path, sizeof(path), "%s/client.json", dir);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(mode_of(dir), 0700);
	assert_int_equal(evpnctl_client_load(dir, &d), 0);
	assert_string_equal(d.url, c.url);
	assert_string_equal(d.key, c.key);
	f = fopen(path, "w");
	fputs("{\"url\": 1}", f);
	fclose(f);
	assert_int_equal(evpnctl_client_load(dir, &d), -EINVAL);
	f = fopen(path, "w");
	fputs("not json", f);
	fclose(f);
	assert_int_equal(evpnctl_client_load(dir, &d), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir),
		cmocka_unit_test(test_modes_under_open_umask),
		cmocka_unit_test(test_client_json),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
