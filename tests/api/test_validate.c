/* SPDX-License-Identifier: MIT */
/* api:civetweb-rest request validation, routes and error mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <evpn/users.h>

#include "errmap.h"
#include "json_util.h"
#include "route.h"
#include "validate.h"

#define KEY "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="

static void test_client_id(void **state)
{
	char long_ok[64], too_long[65];

	assert_true(api_client_id_valid("a"));
	assert_true(api_client_id_valid("0"));
	assert_true(api_client_id_valid("alice"));
	assert_true(api_client_id_valid("a.b_c-d9"));
	assert_false(api_client_id_valid(""));
	assert_false(api_client_id_valid(NULL));
	assert_false(api_client_id_valid("Alice"));
	assert_false(api_client_id_valid("-a"));
	assert_false(api_client_id_valid(".a"));
	assert_false(api_client_id_valid("_a"));
	assert_false(api_client_id_valid("a b"));
	assert_false(api_client_id_valid("a/b"));
	assert_false(api_client_id_valid("a\xc3\xa9"));
	memset(long_ok, 'a', 63);
	long_ok[63] = '\0';
	assert_true(api_client_id_valid(long_ok));
	memset(too_long, 'a', 64);
	too_long[64] = '\0';
	assert_false(api_client_id_valid(too_long));
}

static void test_ttl(void **state)
{
	int64_t s;

	assert_int_equal(api_parse_ttl("90s", &s), 0);
	assert_int_equal(s, 90);
	assert_int_equal(api_parse_ttl("30m", &s), 0);
	assert_int_equal(s, 1800);
	assert_int_equal(api_parse_ttl("24h", &s), 0);
	assert_int_equal(s, 86400);
	assert_int_equal(api_parse_ttl("7d", &s), 0);
	assert_int_equal(s, 7 * 86400);
	assert_int_equal(api_parse_ttl("2", &s), 0);
	assert_int_equal(s, 2);
	assert_int_equal(api_parse_ttl("365d", &s), 0);
	assert_int_equal(s, API_TTL_MAX_SECONDS);

	assert_int_equal(api_parse_ttl("366d", &s), -1);
	assert_int_equal(api_parse_ttl("0s", &s), -1);
	assert_int_equal(api_parse_ttl("0", &s), -1);
	assert_int_equal(api_parse_ttl("", &s), -1);
	assert_int_equal(api_parse_ttl("s", &s), -1);
	assert_int_equal(api_parse_ttl("-5m", &s), -1);
	assert_int_equal(api_parse_ttl("5 m", &s), -1);
	assert_int_equal(api_parse_ttl("5mm", &s), -1);
	assert_int_equal(api_parse_ttl("5w", &s), -1);
	assert_int_equal(api_parse_ttl("1.5h", &s), -1);
	assert_int_equal(api_parse_ttl("99999999999999999999999d", &s), -1);
	assert_int_equal(api_parse_ttl(NULL, &s), -1);
}

static void test_public_key(void **state)
{
	assert_true(api_public_key_valid(KEY));
	assert_false(api_public_key_valid("abc"));
	assert_false(api_public_key_valid(
		"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw")); /* no pad */
	assert_false(api_public_key_valid(
		"HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8yk!="));
	assert_false(api_public_key_valid(NULL));
}

static void test_content_type(void **state)
{
	assert_true(api_content_type_is_json("application/json"));
	assert_true(api_content_type_is_json("Application/JSON"));
	assert_true(
		api_content_type_is_json("application/json; charset=utf-8"));
	assert_false(api_content_type_is_json(NULL));
	assert_false(api_content_type_is_json("text/plain"));
	assert_false(api_content_type_is_json("application/jsonx"));
	assert_false(
		api_content_type_is_json("application/x-www-form-urlencoded"));
}

static int create(const char *body, struct api_create_req *r, struct api_err *e)
{
	memset(e, 0, sizeof(*e));
	return api_parse_create(body, strlen(body), r, e);
}

static void test_create_ok(void **state)
{
	struct api_create_req r;
	struct api_err e;

	assert_int_equal(create("{\"client_id\":\"alice\"}", &r, &e), 0);
	assert_string_equal(r.client_id, "alice");
	assert_false(r.has_public_key);
	assert_int_equal(r.ttl_seconds, 0);

	assert_int_equal(create("{\"client_id\":\"bob\",\"public_key\":\"" KEY
				"\",\"ttl\":\"30m\"}",
				&r, &e),
			 0);
	assert_string_equal(r.client_id, "bob");
	assert_true(r.has_public_key);
	assert_string_equal(r.public_key, KEY);
	assert_int_equal(r.ttl_seconds, 1800);

	/* null optional fields mean "absent" */
	assert_int_equal(create("{\"client_id\":\"c\",\"public_key\":null,"
				"\"ttl\":null}",
				&r, &e),
			 0);
	assert_false(r.has_public_key);
	assert_false(r.has_allowed_ips);

	/* allowed_ips: a string as given, or an array joined */
	assert_int_equal(create("{\"client_id\":\"d\",\"allowed_ips\":"
				"[\"10.0.0.0/8\",\"::/0\"]}",
				&r, &e),
			 0);
	assert_true(r.has_allowed_ips);
	assert_string_equal(r.allowed_ips, "10.0.0.0/8, ::/0");
	assert_int_equal(create("{\"client_id\":\"d\",\"allowed_ips\":"
				"\"10.0.0.0/8\"}",
				&r, &e),
			 0);
	assert_string_equal(r.allowed_ips, "10.0.0.0/8");
}

static void expect_400(const char *body, const char *code)
{
	struct api_create_req r;
	struct api_err e;

	assert_int_equal(create(body, &r, &e), -1);
	assert_int_equal(e.status, 400);
	assert_string_equal(e.code, code);
	assert_true(strlen(e.message) > 0);
}

static void test_create_bad(void **state)
{
	expect_400("{\"client_id\":\"a\",\"allowed_ips\":[]}",
		   API_CODE_INVALID_FIELD);
	expect_400("{\"client_id\":\"a\",\"allowed_ips\":{}}",
		   API_CODE_INVALID_FIELD);
	expect_400("", API_CODE_INVALID_JSON);
	expect_400("{", API_CODE_INVALID_JSON);
	expect_400("not json", API_CODE_INVALID_JSON);
	expect_400("[\"alice\"]", API_CODE_INVALID_JSON);
	expect_400("\"alice\"", API_CODE_INVALID_JSON);
	expect_400("{\"client_id\":\"a\",\"client_id\":\"b\"}",
		   API_CODE_INVALID_JSON);
	expect_400("{\"client_id\":\"alice\",\"admin\":true}",
		   API_CODE_UNKNOWN_FIELD);
	expect_400("{\"name\":\"alice\"}", API_CODE_UNKNOWN_FIELD);
	expect_400("{}", API_CODE_INVALID_FIELD);
	expect_400("{\"client_id\":5}", API_CODE_INVALID_FIELD);
	expect_400("{\"client_id\":null}", API_CODE_INVALID_FIELD);
	expect_400("{\"client_id\":\"Alice\"}", API_CODE_INVALID_FIELD);
	/* jansson refuses NUL escapes outright */
	expect_400("{\"client_id\":\"a\\u0000b\"}", API_CODE_INVALID_JSON);
	expect_400("{\"client_id\":\"alice\",\"ttl\":60}",
		   API_CODE_INVALID_FIELD);
	expect_400("{\"client_id\":\"alice\",\"ttl\":\"0s\"}",
		   API_CODE_INVALID_FIELD);
	expect_400("{\"client_id\":\"alice\",\"ttl\":\"forever\"}",
		   API_CODE_INVALID_FIELD);
	expect_400("{\"client_id\":\"alice\",\"public_key\":\"xyz\"}",
		   API_CODE_INVALID_FIELD);
	expect_400("{\"client_id\":\"alice\",\"public_key\":42}",
		   API_CODE_INVALID_FIELD);
}

/* n nested arrays, "[[...]]", malloc'd. */
static char *nest(size_t n, char open, char close)
{
	char *s = malloc(2 * n + 1);

	assert_non_null(s);
	memset(s, open, n);
	memset(s + n, close, n);
	s[2 * n] = '\0';
	return s;
}

static bool depth_ok(const char *s, unsigned max)
{
	return api_json_depth_ok(s, strlen(s), max);
}

static void test_depth_scan(void **state)
{
	char *s;

	assert_true(depth_ok("{}", 1));
	assert_false(depth_ok("{\"a\":{}}", 1));
	assert_true(depth_ok("{\"a\":{}}", 2));
	assert_true(depth_ok("", 1));
	/* brackets inside strings are text, not nesting, whatever the
	 * escapes around them */
	assert_true(depth_ok("{\"a\":\"[[[[{{{{\"}", 1));
	assert_true(depth_ok("{\"a\":\"\\\"[[[\"}", 1));
	assert_false(depth_ok("{\"a\":\"\\\\\",\"b\":[]}", 1));
	assert_true(depth_ok("{\"a\":\"\\\\\",\"b\":[]}", 2));
	/* closers without openers cannot hide depth */
	assert_false(depth_ok("]]]][[", 1));
	/* the length bounds the scan, not a NUL */
	assert_true(api_json_depth_ok("[][[[[", 2, 1));

	s = nest(16, '[', ']');
	assert_true(api_json_depth_ok(s, strlen(s), API_JSON_MAX_DEPTH));
	free(s);
	s = nest(17, '{', '}');
	assert_false(api_json_depth_ok(s, strlen(s), API_JSON_MAX_DEPTH));
	free(s);
	s = nest(100000, '[', ']');
	assert_false(api_json_depth_ok(s, strlen(s), API_JSON_MAX_DEPTH));
	free(s);
}

static void test_create_too_deep(void **state)
{
	static const size_t depths[] = {17, 600, 2048, 100000};
	struct api_create_req r;
	struct api_err e;

	for (size_t i = 0; i < sizeof(depths) / sizeof(depths[0]); i++) {
		size_t n = depths[i];
		char *s = malloc(n + 64);
		size_t o = 0;

		assert_non_null(s);
		o += (size_t)sprintf(s, "{\"client_id\":\"a\",\"x\":");
		memset(s + o, '[', n - 1);
		o += n - 1;
		s[o] = '\0';
		/* unterminated on purpose: refused before any parsing */
		assert_int_equal(api_parse_create(s, o, &r, &e), -1);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.code, API_CODE_INVALID_JSON);
		assert_non_null(strstr(e.message, "nested"));
		free(s);
	}
	/* 16 levels in all is still parsed (and then judged on its fields) */
	assert_int_equal(
		api_parse_patch(
			"{\"status\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}",
			strlen("{\"status\":[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]}"),
			&(struct api_patch_req){0}, &e),
		-1);
	assert_string_equal(e.code, API_CODE_INVALID_FIELD);
}

static void test_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(api_parse_size("10GB", &v), 0);
	assert_int_equal(v, 10000000000ULL);
	assert_int_equal(api_parse_size("500MiB", &v), 0);
	assert_int_equal(v, 500ULL << 20);
	assert_int_equal(api_parse_size("1TB", &v), 0);
	assert_int_equal(v, 1000000000000ULL);
	assert_int_equal(api_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(api_parse_size("7B", &v), 0);
	assert_int_equal(v, 7);
	static const char *const bad[] = {
		"",	    "GB",  "10 GB", "10gb", "1.5GB",
		"0",	    "0MB", "-1",    "10XB", "99999999999999999999",
		"1000001TB"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(api_parse_size(bad[i], &v), -1);
	assert_int_equal(api_parse_size(NULL, &v), -1);
}

static void test_rate_limit(void **state)
{
	static const char *const bad[] = {
		"{\"client_id\":\"a\",\"rate_limit\":\"fast\"}",
		"{\"client_id\":\"a\",\"rate_limit\":\"20mbits\"}",
		"{\"client_id\":\"a\",\"rate_limit\":\"-1mbit\"}",
		"{\"client_id\":\"a\",\"rate_limit\":\"1kbit\"}",
		"{\"client_id\":\"a\",\"rate_limit\":\"1tbit\"}",
		"{\"client_id\":\"a\",\"rate_limit\":-5}",
		"{\"client_id\":\"a\",\"rate_limit\":100}",
		"{\"client_id\":\"a\",\"rate_limit\":1.5}",
		"{\"client_id\":\"a\",\"rate_limit\":true}",
		"{\"client_id\":\"a\",\"rate_limit\":[\"1mbit\"]}"};
	struct api_create_req r;
	struct api_patch_req p;
	struct api_err e;
	const char *b;

	(void)state;
	assert_int_equal(create("{\"client_id\":\"a\",\"rate_limit\":"
				"\"20mbit\"}",
				&r, &e),
			 0);
	assert_true(r.has_rate_limit);
	assert_int_equal(r.rate_limit_bps, 20000000);
	assert_int_equal(
		create("{\"client_id\":\"a\",\"rate_limit\":\"2MB/s\"}", &r,
		       &e),
		0);
	assert_int_equal(r.rate_limit_bps, 16000000);
	assert_int_equal(
		create("{\"client_id\":\"a\",\"rate_limit\":500000}", &r, &e),
		0);
	assert_int_equal(r.rate_limit_bps, 500000);
	/* 0: none (not the default); null or absent: the default */
	assert_int_equal(
		create("{\"client_id\":\"a\",\"rate_limit\":\"0\"}", &r, &e),
		0);
	assert_true(r.has_rate_limit);
	assert_int_equal(r.rate_limit_bps, 0);
	assert_int_equal(
		create("{\"client_id\":\"a\",\"rate_limit\":null}", &r, &e), 0);
	assert_false(r.has_rate_limit);
	assert_int_equal(create("{\"client_id\":\"a\"}", &r, &e), 0);
	assert_false(r.has_rate_limit);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (create(bad[i], &r, &e) != -1)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(e.status, 400);
		assert_string_equal(e.code, API_CODE_INVALID_FIELD);
		assert_non_null(strstr(e.message, "rate_limit must be"));
	}
	/* PATCH: a rate, 0, or null (back to the default) */
	b = "{\"rate_limit\":\"1gbit\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_true(p.has_rate_limit);
	assert_int_equal(p.rate_limit_bps, 1000000000);
	b = "{\"rate_limit\":0}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_true(p.has_rate_limit);
	assert_int_equal(p.rate_limit_bps, 0);
	b = "{\"rate_limit\":null}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_true(p.has_rate_limit);
	assert_true(p.rate_limit_bps == EVPN_RATE_LIMIT_DEFAULT);
	b = "{\"rate_limit\":\"20 mbit/s\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	assert_non_null(strstr(e.message, "rate_limit must be"));
	b = "{\"ratelimit\":\"1mbit\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	assert_non_null(strstr(e.message, "rate_limit"));
}

static void test_patch(void **state)
{
	struct api_err e;
	struct api_patch_req p;
	const char *b;

	b = "{\"status\":\"inactive\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_true(p.has_status);
	assert_false(p.active);
	assert_false(p.has_allowed_ips);
	b = "{\"status\":\"active\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_true(p.active);

	b = "{\"allowed_ips\":[\"10.0.0.0/8\",\"fd00::/8\"]}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_false(p.has_status);
	assert_true(p.has_allowed_ips);
	assert_string_equal(p.allowed_ips, "10.0.0.0/8, fd00::/8");
	b = "{\"allowed_ips\":\"10.0.0.0/8 fd00::/8\",\"status\":\"active\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_true(p.has_status && p.has_allowed_ips);
	assert_string_equal(p.allowed_ips, "10.0.0.0/8 fd00::/8");
	/* wrong shapes: the CIDRs themselves are the users service's */
	static const char *const bad_ips[] = {
		"{\"allowed_ips\":[]}", "{\"allowed_ips\":[1]}",
		"{\"allowed_ips\":7}", "{\"allowed_ips\":null}",
		"{\"allowed_ips\":[\"10.0.0.0/8,::/0\"]}"};
	for (size_t i = 0; i < sizeof(bad_ips) / sizeof(bad_ips[0]); i++) {
		assert_int_equal(
			api_parse_patch(bad_ips[i], strlen(bad_ips[i]), &p, &e),
			-1);
		assert_string_equal(e.code, API_CODE_INVALID_FIELD);
	}

	b = "{\"quota\":\"10GB\",\"reset_usage\":true}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_true(p.has_quota && p.reset_usage && !p.has_status);
	assert_int_equal(p.quota_bytes, 10000000000ULL);
	b = "{\"quota\":null}"; /* no quota any more */
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), 0);
	assert_true(p.has_quota);
	assert_int_equal(p.quota_bytes, 0);
	b = "{\"reset_usage\":1}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	b = "{\"quota\":\"0GB\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	b = "{\"status\":\"disabled\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	assert_string_equal(e.code, API_CODE_INVALID_FIELD);
	b = "{\"status\":true}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	assert_string_equal(e.code, API_CODE_INVALID_FIELD);
	b = "{}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	assert_string_equal(e.code, API_CODE_INVALID_FIELD);
	b = "{\"status\":\"active\",\"ttl\":\"1h\"}";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	assert_string_equal(e.code, API_CODE_UNKNOWN_FIELD);
	b = "{\"status\":";
	assert_int_equal(api_parse_patch(b, strlen(b), &p, &e), -1);
	assert_string_equal(e.code, API_CODE_INVALID_JSON);
	assert_int_equal(e.status, 400);
}

static void test_errmap(void **state)
{
	static const struct {
		int err, status;
		const char *code;
	} v[] = {
		{EVPN_ERR_INVAL, 400, API_CODE_INVALID_FIELD},
		{EVPN_ERR_PERM, 403, API_CODE_FORBIDDEN},
		{EVPN_ERR_NOTFOUND, 404, API_CODE_NOT_FOUND},
		{EVPN_ERR_EXISTS, 409, API_CODE_CONFLICT},
		{EVPN_ERR_AGAIN, 429, API_CODE_THROTTLED},
		{EVPN_ERR_UNAVAILABLE, 503, API_CODE_UNAVAILABLE},
		{EVPN_ERR_LOCKED, 503, API_CODE_UNAVAILABLE},
		{EVPN_ERR_FULL, 503, API_CODE_POOL_FULL},
		{EVPN_ERR_UNSUPPORTED, 501, API_CODE_UNSUPPORTED},
		{EVPN_ERR_IO, 500, API_CODE_INTERNAL},
		{EVPN_ERR_NOMEM, 500, API_CODE_INTERNAL},
		{EVPN_ERR_INTERNAL, 500, API_CODE_INTERNAL},
		{-999, 500, API_CODE_INTERNAL},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const char *code = NULL;
		int status = 0;

		api_err_map(v[i].err, &status, &code);
		assert_int_equal(status, v[i].status);
		assert_string_equal(code, v[i].code);
		assert_string_not_equal(api_status_text(status), "Unknown");
	}
	assert_string_equal(api_status_text(404), "Not Found");
	assert_string_equal(api_status_text(413), "Payload Too Large");
	assert_string_equal(api_status_text(299), "Unknown");
}

static void test_routes(void **state)
{
	struct api_match m;

	assert_true(api_route_match("/health", &m));
	assert_int_equal(m.route, API_R_HEALTH);
	assert_true(api_route_match("/users", &m));
	assert_int_equal(m.route, API_R_USERS);
	assert_true(api_route_match("/metrics", &m));
	assert_int_equal(m.route, API_R_METRICS);
	assert_true(api_route_match("/openapi.json", &m));
	assert_int_equal(m.route, API_R_OPENAPI);
	assert_true(api_route_match("/users/alice", &m));
	assert_int_equal(m.route, API_R_USER);
	assert_string_equal(m.user, "alice");
	assert_true(api_route_match("/users/a.b/config", &m));
	assert_int_equal(m.route, API_R_USER_CONFIG);
	assert_string_equal(m.user, "a.b");
	assert_true(api_route_match("/users/bob/config.png", &m));
	assert_int_equal(m.route, API_R_USER_PNG);
	assert_string_equal(m.user, "bob");

	/* the web console: "/" is its page, /console/{file} the rest */
	assert_true(api_route_match("/", &m));
	assert_int_equal(m.route, API_R_CONSOLE);
	assert_string_equal(m.file, "index.html");
	assert_true(api_route_match("/console/console.js", &m));
	assert_int_equal(m.route, API_R_CONSOLE);
	assert_string_equal(m.file, "console.js");
	assert_true(api_route_allows(API_R_CONSOLE, "GET"));
	assert_false(api_route_allows(API_R_CONSOLE, "POST"));
	assert_false(api_route_match("/console/", &m));
	assert_false(api_route_match("/console", &m));
	assert_false(api_route_match("/console/../users", &m));
	assert_false(api_route_match("/console/.hidden", &m));
	assert_false(api_route_match("/console/a/b.js", &m));
	assert_false(api_route_match("/console/App.js", &m));
	assert_false(api_route_match("/console/"
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				     &m));
	assert_int_equal(m.route, API_R_NONE);
	assert_false(api_route_match("//", &m));
	assert_false(api_route_match("/index.html", &m));
	assert_false(api_route_match("/users/", &m));
	assert_false(api_route_match("/users/Alice", &m));
	assert_false(api_route_match("/users/alice/", &m));
	assert_false(api_route_match("/users/alice/keys", &m));
	assert_false(api_route_match("/users/alice/config/x", &m));
	assert_true(api_route_match("/audit", &m));
	assert_int_equal(m.route, API_R_AUDIT);
	assert_true(api_route_allows(API_R_AUDIT, "GET"));
	assert_false(api_route_allows(API_R_AUDIT, "POST"));
	assert_false(api_route_match("/audit/x", &m));
	assert_true(api_route_match("/users/bob/links", &m));
	assert_int_equal(m.route, API_R_USER_LINKS);
	assert_true(api_route_allows(API_R_USER_LINKS, "POST"));
	assert_false(api_route_allows(API_R_USER_LINKS, "GET"));
	{
		char p[80] = "/links/";

		memset(p + 7, 'a', 64);
		p[71] = '\0';
		assert_true(api_route_match(p, &m));
		assert_int_equal(m.route, API_R_LINK);
		assert_int_equal(strlen(m.token), 64);
		assert_string_equal(api_route_log_path(p), "/links/(token)");
		p[70] = 'A';
		assert_false(api_route_match(p, &m));
		p[70] = '\0';
		assert_false(api_route_match(p, &m));
	}
	assert_string_equal(api_route_log_path("/users/x"), "/users/x");
	assert_false(api_route_match("/healthz", &m));
	assert_false(api_route_match("/health/", &m));
	assert_false(api_route_match(NULL, &m));

	assert_true(api_route_allows(API_R_USERS, "POST"));
	assert_true(api_route_allows(API_R_USERS, "GET"));
	assert_false(api_route_allows(API_R_USERS, "DELETE"));
	assert_true(api_route_allows(API_R_USER, "PATCH"));
	assert_true(api_route_allows(API_R_USER, "DELETE"));
	assert_false(api_route_allows(API_R_USER, "POST"));
	assert_false(api_route_allows(API_R_HEALTH, "POST"));
	assert_false(api_route_allows(API_R_USER_PNG, "HEAD"));
	assert_string_equal(api_route_allow(API_R_USERS), "GET, POST");
	assert_string_equal(api_route_allow(API_R_USER), "GET, PATCH, DELETE");
	assert_string_equal(api_route_allow(API_R_METRICS), "GET");
}

static void test_json_quote(void **state)
{
	char buf[64];

	assert_int_equal(api_json_quote("abc", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "\"abc\"");
	assert_true(api_json_quote("a\"b\\c\nd\te\x01", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "\"a\\\"b\\\\c\\nd\\te\\u0001\"");
	assert_true(api_json_quote_bound("a\"b\\c\nd\te\x01") > strlen(buf));
	assert_int_equal(api_json_quote("abcdef", buf, 5), -1);
	assert_int_equal(api_json_quote("abc", buf, 6), 5);
	assert_int_equal(api_json_quote("abc", buf, 5), -1);
}

static void test_rfc3339(void **state)
{
	char buf[32];

	api_rfc3339(0, buf);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	api_rfc3339(1700000000, buf);
	assert_string_equal(buf, "2023-11-14T22:13:20Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_id),
		cmocka_unit_test(test_ttl),
		cmocka_unit_test(test_public_key),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_create_ok),
		cmocka_unit_test(test_create_bad),
		cmocka_unit_test(test_depth_scan),
		cmocka_unit_test(test_create_too_deep),
		cmocka_unit_test(test_patch),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_errmap),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_json_quote),
		cmocka_unit_test(test_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
