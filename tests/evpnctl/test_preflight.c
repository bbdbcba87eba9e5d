// SPDX-License-Identifier: MIT
/* What `evpnctl connect` checks before wg-quick changes anything: programs
 * in a fake PATH, kernel WireGuard in a fake /sys and /lib/modules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "preflight.h"

struct fx {
	char dir[64], bin[96], root[96];
};

static void touch(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void add_exe(struct fx *x, const char *name)
{
	char p[200];

	snprintf(p, sizeof(p), "%s/%s", x->bin, name);
	touch(p, "#!/bin/sh\n", 0755);
}

static int setup(void **state)
{
	struct fx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	snprintf(x->dir, sizeof(x->dir), "/tmp/evpnctl-pf-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->bin, sizeof(x->bin), "%s/bin", x->dir);
	snprintf(x->root, sizeof(x->root), "%s/root", x->dir);
	assert_int_equal(mkdir(x->bin, 0755), 0);
	assert_int_equal(mkdir(x->root, 0755), 0);
	/* always there in these tests; what each test removes is missing */
	add_exe(x, "ip");
	add_exe(x, "wg");
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct fx *x = *state;
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x);
	return 0;
}

static size_t check(struct fx *x, const char *impl, bool dns, bool v4, bool v6,
		    char *msg, size_t len)
{
	struct evpnctl_preflight p = {
		.path = x->bin,
		.impl = impl,
		.root = x->root,
		.release = "6.1.0-test",
		.needs = {.dns = dns, .default4 = v4, .default6 = v6},
	};

	msg[0] = '\0';
	return evpnctl_preflight_check(&p, msg, len);
}

static void kernel_module(struct fx *x)
{
	char p[200];

	snprintf(p, sizeof(p), "%s/sys", x->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sys/module", x->root);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/sys/module/wireguard", x->root);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void test_all_there(void **state)
{
	struct fx *x = *state;
	char msg[1000];

	kernel_module(x);
	add_exe(x, "iptables-restore");
	add_exe(x, "ip6tables-restore");
	add_exe(x, "sysctl");
	add_exe(x, "resolvconf");
	assert_int_equal(check(x, NULL, true, true, true, msg, sizeof(msg)), 0);
	assert_string_equal(msg, "");
}

static void test_fresh_debian(void **state)
{
	struct fx *x = *state;
	char msg[1000];

	/* the case that failed half-way: no iptables, no resolvconf */
	kernel_module(x);
	add_exe(x, "sysctl");
	assert_int_equal(check(x, NULL, true, true, true, msg, sizeof(msg)), 3);
	assert_non_null(strstr(msg, "iptables-restore or nft"));
	assert_non_null(strstr(msg, "ip6tables-restore or nft"));
	assert_non_null(strstr(msg, "apt-get install iptables"));
	assert_non_null(strstr(msg, "nftables"));
	assert_non_null(strstr(msg, "resolvconf"));
	assert_non_null(strstr(msg, "apt-get install openresolv"));
	/* without 0.0.0.0/0, ::/0 and DNS none of it is needed */
	assert_int_equal(check(x, NULL, false, false, false, msg, sizeof(msg)),
			 0);
	/* nft does for both families */
	add_exe(x, "nft");
	assert_int_equal(check(x, NULL, false, true, true, msg, sizeof(msg)),
			 0);
}

static void test_basics(void **state)
{
	struct fx *x = *state;
	char msg[1000], p[200];

	kernel_module(x);
	snprintf(p, sizeof(p), "%s/ip", x->bin);
	unlink(p);
	snprintf(p, sizeof(p), "%s/wg", x->bin);
	unlink(p);
	/* IPv4 default route: sysctl src_valid_mark */
	add_exe(x, "nft");
	assert_int_equal(check(x, NULL, false, true, false, msg, sizeof(msg)),
			 3);
	assert_non_null(strstr(msg, "apt-get install iproute2"));
	assert_non_null(strstr(msg, "apt-get install wireguard-tools"));
	assert_non_null(strstr(msg, "sysctl"));
	assert_non_null(strstr(msg, "apt-get install procps"));
	/* not executable: not found, like wg-quick's `type -p` */
	snprintf(p, sizeof(p), "%s/sysctl", x->bin);
	touch(p, "", 0644);
	assert_int_equal(check(x, NULL, false, true, false, msg, sizeof(msg)),
			 3);
}

static void test_kernel_or_userspace(void **state)
{
	struct fx *x = *state;
	char msg[1000], p[200];

	assert_int_equal(check(x, NULL, false, false, false, msg, sizeof(msg)),
			 1);
	assert_non_null(strstr(msg, "WireGuard"));
	assert_non_null(strstr(msg, "apt-get install wireguard-go"));
	/* wg-quick falls back to wireguard-go by default */
	add_exe(x, "wireguard-go");
	assert_int_equal(check(x, NULL, false, false, false, msg, sizeof(msg)),
			 0);
	/* ... or to the implementation named in the environment */
	assert_int_equal(
		check(x, "my-wg", false, false, false, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "WG_QUICK_USERSPACE_IMPLEMENTATION=my-wg"));
	snprintf(p, sizeof(p), "%s/my-wg", x->bin);
	assert_int_equal(check(x, p, false, false, false, msg, sizeof(msg)), 1);
	add_exe(x, "my-wg");
	assert_int_equal(check(x, p, false, false, false, msg, sizeof(msg)), 0);
	assert_int_equal(
		check(x, "my-wg", false, false, false, msg, sizeof(msg)), 0);
}

static void test_kernel_module_on_disk(void **state)
{
	struct fx *x = *state;
	char msg[1000], p[300];
	const char *dirs[] = {"lib", "lib/modules", "lib/modules/6.1.0-test"};

	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s/%s", x->root, dirs[i]);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	/* another module does not count */
	snprintf(p, sizeof(p), "%s/lib/modules/6.1.0-test/modules.dep",
		 x->root);
	touch(p, "kernel/net/foo/notwireguard.ko: \n", 0644);
	assert_int_equal(check(x, NULL, false, false, false, msg, sizeof(msg)),
			 1);
	/* not loaded yet, but `ip link add type wireguard` loads it */
	touch(p,
	      "kernel/net/ipv4/udp_tunnel.ko:\n"
	      "kernel/drivers/net/wireguard/wireguard.ko.xz: "
	      "kernel/net/ipv4/udp_tunnel.ko\n",
	      0644);
	assert_int_equal(check(x, NULL, false, false, false, msg, sizeof(msg)),
			 0);
	/* built in */
	unlink(p);
	snprintf(p, sizeof(p), "%s/lib/modules/6.1.0-test/modules.builtin",
		 x->root);
	touch(p, "kernel/drivers/net/wireguard/wireguard.ko\n", 0644);
	assert_int_equal(check(x, NULL, false, false, false, msg, sizeof(msg)),
			 0);
}

static void test_small_buffer(void **state)
{
	struct fx *x = *state;
	char msg[16];

	/* truncated, still terminated, the count is right */
	assert_int_equal(check(x, NULL, true, true, true, msg, sizeof(msg)), 5);
	assert_true(strlen(msg) < sizeof(msg));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_there, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fresh_debian, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_or_userspace, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kernel_module_on_disk,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_buffer, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
