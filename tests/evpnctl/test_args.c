// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "args.h"

#define ARGV(...) ((char *[]){"evpnctl", __VA_ARGS__, NULL})
#define ARGC(...) \
	((int)(sizeof((char *[]){"evpnctl", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(a, ...) \
	evpnctl_args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), a)

static void test_global(void **state)
{
	struct evpnctl_args a;

	assert_int_equal(evpnctl_args_parse(1, (char *[]){"evpnctl", NULL}, &a),
			 0);
	assert_true(a.help);
	assert_int_equal(a.cmd, EVPNCTL_CMD_NONE);
	assert_int_equal(PARSE(&a, "--help"), 0);
	assert_true(a.help);
	assert_int_equal(PARSE(&a, "--version"), 0);
	assert_int_equal(a.cmd, EVPNCTL_CMD_VERSION);
	assert_int_equal(PARSE(&a, "help", "create"), 0);
	assert_true(a.help);
	assert_int_equal(a.cmd, EVPNCTL_CMD_CREATE);
	assert_int_equal(PARSE(&a, "help", "nope"), -1);
	assert_int_equal(PARSE(&a, "nope"), -1);
	assert_non_null(strstr(a.error, "unknown command 'nope'"));
}

static void test_create(void **state)
{
	struct evpnctl_args a;

	assert_int_equal(PARSE(&a, "create", "alice"), 0);
	assert_int_equal(a.cmd, EVPNCTL_CMD_CREATE);
	assert_string_equal(a.name, "alice");
	assert_null(a.ttl);
	assert_int_equal(PARSE(&a, "create", "alice", "--ttl", "30m"), 0);
	assert_string_equal(a.ttl, "30m");
	assert_int_equal(PARSE(&a, "create", "--ttl=24h", "bob"), 0);
	assert_string_equal(a.ttl, "24h");
	assert_string_equal(a.name, "bob");
	assert_int_equal(PARSE(&a, "create", "alice", "--ttl"), -1);
	assert_non_null(strstr(a.error, "needs a value"));
	assert_int_equal(PARSE(&a, "create", "alice", "--ttl", "1y"), -1);
	assert_null(a.allowed_ips);
	assert_null(a.quota);
	assert_int_equal(PARSE(&a, "create", "q", "--quota", "10GB"), 0);
	assert_string_equal(a.quota, "10GB");
	assert_int_equal(PARSE(&a, "create", "q", "--quota=5MiB"), 0);
	assert_string_equal(a.quota, "5MiB");
	assert_int_equal(PARSE(&a, "create", "q", "--quota", "lots"), -1);
	assert_int_equal(PARSE(&a, "link", "q", "--quota", "1GB"), -1);
	assert_null(a.rate_limit);
	assert_int_equal(PARSE(&a, "create", "r", "--rate-limit", "20mbit"), 0);
	assert_string_equal(a.rate_limit, "20mbit");
	assert_int_equal(PARSE(&a, "create", "r", "--rate-limit=2MB/s"), 0);
	assert_string_equal(a.rate_limit, "2MB/s");
	assert_int_equal(PARSE(&a, "create", "r", "--rate-limit", "0"), 0);
	assert_int_equal(PARSE(&a, "create", "r", "--rate-limit", "fast"), -1);
	assert_non_null(strstr(a.error, "bad --rate-limit 'fast'"));
	assert_int_equal(PARSE(&a, "create", "r", "--rate-limit", "1kbit"), -1);
	assert_int_equal(PARSE(&a, "create", "r", "--rate-limit"), -1);
	assert_int_equal(PARSE(&a, "link", "r", "--rate-limit", "1mbit"), -1);
	assert_int_equal(PARSE(&a, "create", "alice", "--allowed-ips",
			       "10.0.0.0/8, fd00::/8"),
			 0);
	assert_string_equal(a.allowed_ips, "10.0.0.0/8, fd00::/8");
	assert_int_equal(PARSE(&a, "create", "--allowed-ips=10.1.0.0/16", "b"),
			 0);
	assert_string_equal(a.allowed_ips, "10.1.0.0/16");
	assert_int_equal(PARSE(&a, "create", "alice", "--allowed-ips"), -1);
	assert_int_equal(
		PARSE(&a, "create", "alice", "--allowed-ips", "everything"),
		-1);
	assert_non_null(strstr(a.error, "--allowed-ips"));
	assert_int_equal(PARSE(&a, "config", "alice", "--allowed-ips", "::/0"),
			 -1);
	assert_int_equal(PARSE(&a, "create", "alice", "--qr"), -1);
	assert_non_null(strstr(a.error, "unknown option '--qr'"));
	assert_int_equal(PARSE(&a, "create"), -1);
	assert_int_equal(PARSE(&a, "create", "a", "b"), -1);
	/* --help wins over missing arguments */
	assert_int_equal(PARSE(&a, "create", "--help"), 0);
	assert_true(a.help);
	/* "--" ends options: a name may not start with '-' anyway */
	assert_int_equal(PARSE(&a, "create", "--", "-x"), -1);
	assert_non_null(strstr(a.error, "bad name"));
}

static void test_setup_and_others(void **state)
{
	struct evpnctl_args a;

	assert_int_equal(PARSE(&a, "audit"), 0);
	assert_int_equal(a.cmd, EVPNCTL_CMD_AUDIT);
	assert_int_equal(a.limit, 0);
	assert_int_equal(PARSE(&a, "audit", "--limit", "7"), 0);
	assert_int_equal(a.limit, 7);
	assert_int_equal(PARSE(&a, "audit", "--limit=100000"), 0);
	assert_int_equal(PARSE(&a, "audit", "--limit", "0"), -1);
	assert_int_equal(PARSE(&a, "audit", "--limit", "5x"), -1);
	assert_int_equal(PARSE(&a, "audit", "--limit"), -1);
	assert_int_equal(PARSE(&a, "audit", "x"), -1);
	assert_int_equal(PARSE(&a, "list", "--limit", "3"), -1);
	assert_int_equal(PARSE(&a, "link", "bob", "--ttl", "1h"), 0);
	assert_int_equal(a.cmd, EVPNCTL_CMD_LINK);
	assert_string_equal(a.name, "bob");
	assert_string_equal(a.ttl, "1h");
	assert_int_equal(PARSE(&a, "link"), -1);
	assert_int_equal(PARSE(&a, "link", "bob", "--ttl", "x"), -1);

	assert_int_equal(PARSE(&a, "setup", "https://vpn.example.com", "k"), 0);
	assert_string_equal(a.url, "https://vpn.example.com");
	assert_string_equal(a.key, "k");
	assert_int_equal(PARSE(&a, "setup", "vpn.example.com", "k"), -1);
	assert_int_equal(PARSE(&a, "setup", "http://x", "a b"), -1);
	/* the key from stdin ("-" or no key: EVPN_MASTER_KEY, else stdin) */
	assert_int_equal(PARSE(&a, "setup", "http://x"), 0);
	assert_null(a.key);
	assert_int_equal(PARSE(&a, "setup", "http://x", "-"), 0);
	assert_string_equal(a.key, "-");
	assert_int_equal(PARSE(&a, "setup"), -1);
	assert_int_equal(PARSE(&a, "setup", "http://x", "k", "l"), -1);
	assert_int_equal(PARSE(&a, "list"), 0);
	assert_int_equal(a.cmd, EVPNCTL_CMD_LIST);
	assert_int_equal(PARSE(&a, "list", "x"), -1);
	assert_int_equal(PARSE(&a, "config", "alice", "--qr"), 0);
	assert_true(a.qr);
	assert_false(a.invert);
	assert_int_equal(PARSE(&a, "config", "alice", "--qr", "--invert"), 0);
	assert_true(a.invert);
	assert_int_equal(PARSE(&a, "config", "alice", "--invert"), -1);
	assert_int_equal(PARSE(&a, "connect", "alice"), 0);
	assert_int_equal(a.cmd, EVPNCTL_CMD_CONNECT);
	assert_int_equal(PARSE(&a, "disconnect", "alice"), 0);
	assert_int_equal(a.cmd, EVPNCTL_CMD_DISCONNECT);
	assert_int_equal(PARSE(&a, "status", "alice"), 0);
	assert_int_equal(PARSE(&a, "delete", "alice"), 0);
	assert_int_equal(a.cmd, EVPNCTL_CMD_DELETE);
}

static void test_validators(void **state)
{
	char long_name[65];

	assert_true(evpnctl_valid_name("a"));
	assert_true(evpnctl_valid_name("0a_b.c-d"));
	assert_false(evpnctl_valid_name(""));
	assert_false(evpnctl_valid_name("_a"));
	assert_false(evpnctl_valid_name("Alice"));
	assert_false(evpnctl_valid_name("a/b"));
	assert_false(evpnctl_valid_name(".."));
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	assert_false(evpnctl_valid_name(long_name));
	long_name[63] = '\0';
	assert_true(evpnctl_valid_name(long_name));

	assert_true(evpnctl_valid_ttl("30m"));
	assert_true(evpnctl_valid_ttl("1s"));
	assert_true(evpnctl_valid_ttl("7d"));
	assert_false(evpnctl_valid_ttl("m"));
	assert_false(evpnctl_valid_ttl("30"));
	assert_false(evpnctl_valid_ttl("30mm"));
	assert_false(evpnctl_valid_ttl("-1h"));
	assert_false(evpnctl_valid_ttl("1234567890h"));

	assert_true(evpnctl_valid_url("http://127.0.0.1:8000"));
	assert_true(evpnctl_valid_url("https://vpn.example.com/"));
	assert_false(evpnctl_valid_url("https://"));
	assert_false(evpnctl_valid_url("http:///x"));
	assert_false(evpnctl_valid_url("ftp://x"));
	assert_false(evpnctl_valid_url("http://x y"));
	assert_true(evpnctl_valid_api_key("k"));
	assert_false(evpnctl_valid_api_key(""));
	assert_false(evpnctl_valid_api_key("a\nb"));
	assert_false(evpnctl_valid_api_key("-"));
}

static void test_cleartext(void **state)
{
	/* plain http only to this machine goes without a warning */
	assert_false(evpnctl_url_cleartext("https://vpn.example.com"));
	assert_false(evpnctl_url_cleartext("http://127.0.0.1:8000"));
	assert_false(evpnctl_url_cleartext("http://127.9.8.7/"));
	assert_false(evpnctl_url_cleartext("http://localhost:1"));
	assert_false(evpnctl_url_cleartext("HTTP://LocalHost"));
	assert_false(evpnctl_url_cleartext("http://[::1]:8000/x"));
	assert_false(evpnctl_url_cleartext("http://u:p@127.0.0.1:1"));
	assert_true(evpnctl_url_cleartext("http://vpn.example.com"));
	assert_true(evpnctl_url_cleartext("http://10.0.0.1:8000"));
	assert_true(evpnctl_url_cleartext("http://[::2]:8000"));
	assert_true(evpnctl_url_cleartext("http://127.0.0.1.example.com/"));
	assert_true(evpnctl_url_cleartext("http://localhost.example.com/"));
	assert_true(evpnctl_url_cleartext("http://127.0.0.1@example.com/"));
	assert_true(evpnctl_url_cleartext("http://[::1"));
}

static void test_connect_over(void **state)
{
	struct evpnctl_args a;

	assert_int_equal(PARSE(&a, "connect", "alice"), 0);
	assert_int_equal(a.over, EVPNCTL_OVER_AUTO);
	assert_null(a.proxy);
	assert_null(a.stream_url);
	assert_null(a.cacert);
	assert_int_equal(PARSE(&a, "connect", "alice", "--over", "https"), 0);
	assert_int_equal(a.over, EVPNCTL_OVER_HTTPS);
	assert_int_equal(PARSE(&a, "connect", "--over=udp", "alice"), 0);
	assert_int_equal(a.over, EVPNCTL_OVER_UDP);
	assert_int_equal(PARSE(&a, "connect", "alice", "--over", "tcp"), -1);
	assert_non_null(strstr(a.error, "bad --over 'tcp'"));
	assert_int_equal(PARSE(&a, "connect", "alice", "--over"), -1);
	assert_non_null(strstr(a.error, "needs a value"));
	assert_int_equal(PARSE(&a, "connect", "alice", "--proxy",
			       "http://10.0.0.1:3128", "--stream-url",
			       "wss://vpn.example.com/wg", "--cacert",
			       "/etc/ca.pem"),
			 0);
	assert_string_equal(a.proxy, "http://10.0.0.1:3128");
	assert_string_equal(a.stream_url, "wss://vpn.example.com/wg");
	assert_string_equal(a.cacert, "/etc/ca.pem");
	assert_int_equal(PARSE(&a, "connect", "alice", "--stream-url",
			       "https://vpn.example.com/wg"),
			 -1);
	assert_non_null(strstr(a.error, "bad --stream-url"));
	assert_int_equal(PARSE(&a, "connect", "alice", "--proxy", "a b"), -1);
	assert_int_equal(PARSE(&a, "connect", "alice", "--proxy="), -1);
	/* only connect has them */
	assert_int_equal(PARSE(&a, "disconnect", "alice", "--over", "https"),
			 -1);
	assert_non_null(strstr(a.error, "unknown option '--over'"));
}

static void test_help(void **state)
{
	for (int c = EVPNCTL_CMD_SETUP; c <= EVPNCTL_CMD_CONFIG; c++)
		assert_non_null(strstr(evpnctl_help(c), "usage: evpnctl "));
	assert_non_null(strstr(evpnctl_help(EVPNCTL_CMD_NONE), "exit status"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_global),
		cmocka_unit_test(test_create),
		cmocka_unit_test(test_setup_and_others),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_cleartext),
		cmocka_unit_test(test_connect_over),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
