/* Config: ${VAR} expansion, YAML errors with positions, schema validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config_impl.h"

static const struct evpn_config_ops *C = &evpn_config_ops_impl;

static char *expand(const char *in)
{
	char err[200];

	return evpn_config_expand(in, err, sizeof(err));
}

static void test_expand(void **state)
{
	char *s;

	setenv("EVPN_T_A", "alpha", 1);
	setenv("EVPN_T_EMPTY", "", 1);
	unsetenv("EVPN_T_UNSET");
	s = expand("x${EVPN_T_A}y");
	assert_string_equal(s, "xalphay");
	free(s);
	s = expand("${EVPN_T_UNSET:-def}");
	assert_string_equal(s, "def");
	free(s);
	s = expand("${EVPN_T_EMPTY:-def}"); /* empty uses the default */
	assert_string_equal(s, "def");
	free(s);
	s = expand("${EVPN_T_UNSET:-${EVPN_T_A:-z}}"); /* nested */
	assert_string_equal(s, "alpha");
	free(s);
	s = expand("${EVPN_T_UNSET:-${EVPN_T_UNSET:-}}");
	assert_string_equal(s, "");
	free(s);
	s = expand("$${EVPN_T_A} $5 $");
	assert_string_equal(s, "${EVPN_T_A} $5 $");
	free(s);
	assert_null(expand("${EVPN_T_UNSET}"));
	assert_null(expand("${EVPN_T_A"));
	assert_null(expand("${}"));
	assert_null(expand("${A-B}"));
}

static void test_parsers(void **state)
{
	double d;
	unsigned long long sz;
	long long i;
	bool b;
	char host[64];
	unsigned port, prefix;
	unsigned char a[16];
	int fam;

	assert_true(evpn_parse_duration("30m", &d) && d == 1800);
	assert_true(evpn_parse_duration("250ms", &d) && d == 0.25);
	assert_true(evpn_parse_duration("24h", &d) && d == 86400);
	assert_true(evpn_parse_duration("7", &d) && d == 7);
	assert_false(evpn_parse_duration("-1s", &d));
	assert_false(evpn_parse_duration("5 m", &d));
	assert_false(evpn_parse_duration("5w", &d));
	assert_true(evpn_parse_size("64k", &sz) && sz == 65536);
	assert_true(evpn_parse_size("16MiB", &sz) && sz == 16u << 20);
	assert_false(evpn_parse_size("1T", &sz));
	assert_true(evpn_parse_int("-42", &i) && i == -42);
	assert_false(evpn_parse_int("42x", &i));
	assert_false(evpn_parse_int("", &i));
	assert_true(evpn_parse_bool("Yes", &b) && b);
	assert_true(evpn_parse_bool("off", &b) && !b);
	assert_false(evpn_parse_bool("maybe", &b));
	assert_true(
		evpn_parse_addr("0.0.0.0:51820", host, sizeof(host), &port));
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(port, 51820);
	assert_true(evpn_parse_addr("[::1]:8000", host, sizeof(host), &port));
	assert_string_equal(host, "::1");
	assert_true(evpn_parse_addr("vpn.example.com:443", host, sizeof(host),
				    &port));
	assert_false(evpn_parse_addr("::1:8000", host, sizeof(host), &port));
	assert_false(evpn_parse_addr("host:65536", host, sizeof(host), &port));
	assert_false(evpn_parse_addr(":80", host, sizeof(host), &port));
	assert_true(evpn_parse_cidr("10.77.0.0/16", &fam, a, &prefix));
	assert_int_equal(prefix, 16);
	assert_true(evpn_parse_cidr("fd00::/64", &fam, a, &prefix));
	assert_false(evpn_parse_cidr("10.0.0.0/33", &fam, a, &prefix));
	assert_false(evpn_parse_cidr("10.0.0/8", &fam, a, &prefix));
}

static struct evpn_config *load(const char *text, struct evpn_errors *e)
{
	return evpn_config_load("/tmp/evpn-test.yaml", text, e);
}

static void test_yaml_errors(void **state)
{
	struct evpn_errors e = {0};

	assert_null(load("a: [1, 2\n", &e));
	assert_int_equal(e.n, 1);
	assert_non_null(strstr(e.msg[0], "/tmp/evpn-test.yaml:"));
	evpn_errors_free(&e);

	assert_null(load("a: 1\na: 2\n", &e));
	assert_non_null(
		strstr(e.msg[0], "/tmp/evpn-test.yaml:2:1: duplicate key 'a'"));
	evpn_errors_free(&e);

	assert_null(load("- 1\n- 2\n", &e));
	assert_non_null(strstr(e.msg[0], "top level must be a map"));
	evpn_errors_free(&e);

	unsetenv("EVPN_T_UNSET");
	assert_null(load("a: 1\nb: ${EVPN_T_UNSET}\n", &e));
	assert_non_null(
		strstr(e.msg[0],
		       ":2:4: environment variable EVPN_T_UNSET is not set"));
	evpn_errors_free(&e);

	assert_null(load("", &e));
	assert_int_equal(e.n, 1);
	evpn_errors_free(&e);
}

static const struct evpn_config_key child[] = {
	{.key = "depth", .type = EVPN_CFG_INT, .def = "2"},
	EVPN_CONFIG_KEYS_END,
};
static const struct evpn_config_key schema[] = {
	{.key = "listen", .type = EVPN_CFG_ADDR, .def = "127.0.0.1:1"},
	{.key = "name", .type = EVPN_CFG_STRING, .flags = EVPN_CFG_REQUIRED},
	{.key = "count", .type = EVPN_CFG_INT, .def = "5", .min = 1, .max = 10},
	{.key = "on", .type = EVPN_CFG_BOOL, .def = "false"},
	{.key = "wait", .type = EVPN_CFG_DURATION, .def = "30s"},
	{.key = "cap", .type = EVPN_CFG_SIZE, .def = "64k"},
	{.key = "deny", .type = EVPN_CFG_CIDRLIST},
	{.key = "dir", .type = EVPN_CFG_PATH, .def = "var"},
	{.key = "secret", .type = EVPN_CFG_STRING, .flags = EVPN_CFG_SECRET},
	{.key = "sub", .type = EVPN_CFG_MAP, .children = child},
	EVPN_CONFIG_KEYS_END,
};

static void test_validate_ok_and_defaults(void **state)
{
	struct evpn_errors e = {0};
	struct evpn_config *cfg =
		load("name: n\ncount: 7\ndeny: [10.0.0.0/8, fd00::/8]\n", &e);

	assert_non_null(cfg);
	assert_int_equal(evpn_config_validate(cfg->root, schema, "x", &e), 0);
	assert_string_equal(C->get_str(cfg->root, "listen", NULL),
			    "127.0.0.1:1");
	assert_int_equal(C->get_int(cfg->root, "count", 0), 7);
	assert_false(C->get_bool(cfg->root, "on", true));
	assert_true(C->get_duration(cfg->root, "wait", 0) == 30.0);
	assert_int_equal(C->get_size(cfg->root, "cap", 0), 65536);
	assert_string_equal(C->get_path(cfg->root, "dir", NULL), "/tmp/var");
	assert_int_equal(C->len(C->get(cfg->root, "deny")), 2);
	assert_int_equal(C->get_int(C->get(cfg->root, "sub"), "depth", 0), 2);
	assert_null(C->get_str(cfg->root, "secret", NULL));
	assert_int_equal(C->line(C->get(cfg->root, "count")), 2);
	assert_int_equal(C->column(C->get(cfg->root, "count")), 8);
	evpn_config_free(cfg);
}

static bool has(const struct evpn_errors *e, const char *needle)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msg[i], needle))
			return true;
	return false;
}

static void test_validate_errors(void **state)
{
	struct evpn_errors e = {0};
	struct evpn_config *cfg = load("lisen: 1\n"
				       "count: 11\n"
				       "on: maybe\n"
				       "wait: soon\n"
				       "listen: nowhere\n"
				       "deny: [10.0.0.0/40]\n"
				       "secret: {a: 1}\n"
				       "sub: {depth: x}\n",
				       &e);

	assert_non_null(cfg);
	assert_int_equal(evpn_config_validate(cfg->root, schema, "x", &e), 9);
	assert_true(has(&e,
			":1:1: x: unknown key 'lisen' (allowed: listen, "
			"name, count, on, wait, cap, deny, dir, secret, sub)"));
	assert_true(has(&e, "x: missing required key 'name'"));
	assert_true(has(&e, ":2:8: x.count: 11 is out of range [1, 10]"));
	assert_true(has(&e, ":3:5: x.on: 'maybe' is not a valid boolean"));
	assert_true(has(&e, ":4:7: x.wait: 'soon' is not a valid duration"));
	assert_true(has(&e, "x.listen: 'nowhere' is not a valid host:port"));
	assert_true(has(&e, "x.deny[0]: '10.0.0.0/40' is not a CIDR"));
	assert_true(has(&e, "x.secret must be a string, not a map"));
	assert_true(has(&e, "x.sub.depth: 'x' is not a valid integer"));
	evpn_errors_free(&e);
	evpn_config_free(cfg);
}

static void test_secret_not_echoed(void **state)
{
	struct evpn_errors e = {0};
	static const struct evpn_config_key s[] = {
		{.key = "k", .type = EVPN_CFG_INT, .flags = EVPN_CFG_SECRET},
		EVPN_CONFIG_KEYS_END,
	};
	struct evpn_config *cfg = load("k: hunter2\n", &e);

	assert_int_equal(evpn_config_validate(cfg->root, s, "x", &e), 1);
	assert_null(strstr(e.msg[0], "hunter2"));
	evpn_errors_free(&e);
	evpn_config_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_validate_ok_and_defaults),
		cmocka_unit_test(test_validate_errors),
		cmocka_unit_test(test_secret_not_echoed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
