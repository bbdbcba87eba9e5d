/* SPDX-License-Identifier: MIT */
/* Pure helpers of the ssm store: Expiration parsing, the endpoint check
 * (only URLs libcurl's SigV4 signs as AWS does), the full-URI check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "creds.h"
#include "http.h"

static void iso8601(void **state)
{
	assert_int_equal(ssm_parse_iso8601("2015-08-30T12:36:00Z"), 1440938160);
	assert_int_equal(ssm_parse_iso8601("2015-08-30T12:36:00.123Z"),
			 1440938160);
	assert_int_equal(ssm_parse_iso8601("2015-08-30T12:36:00+00:00"),
			 1440938160);
	assert_int_equal(ssm_parse_iso8601("2015-08-30T12:36:00+02:00"), -1);
	assert_int_equal(ssm_parse_iso8601("2015-08-30 12:36:00Z"), -1);
	assert_int_equal(ssm_parse_iso8601(""), -1);
	assert_int_equal(ssm_parse_iso8601(NULL), -1);
}

static void endpoint(const char *url, int want_rc)
{
	const char *why = "unset";

	assert_int_equal(ssm_http_endpoint_check(url, &why), want_rc);
	if (want_rc == 0)
		assert_null(why);
	else
		assert_non_null(why);
}

static void endpoint_check(void **state)
{
	endpoint("https://ssm.us-east-1.amazonaws.com", 0);
	endpoint("https://vpce-0a1b-c2d3.ssm.eu-west-1.vpce.amazonaws.com/", 0);
	endpoint("http://127.0.0.1:4566/", 0);
	endpoint("http://[::1]:8080/x/y-z_1.~/", 0);
	endpoint("http://h/x/../y", 0); /* curl removes dot segments */
	endpoint("http://h/a%20b", EVPN_ERR_CONFIG);
	endpoint("http://h/a%7Eb", EVPN_ERR_CONFIG);
	endpoint("http://h/a:b", EVPN_ERR_CONFIG);
	endpoint("http://h/a+b", EVPN_ERR_CONFIG);
	endpoint("http://h/x//y", EVPN_ERR_CONFIG);
	endpoint("http://h//", EVPN_ERR_CONFIG);
	endpoint("http://h/?a=1", EVPN_ERR_CONFIG);
	endpoint("http://h/?", 0); /* an empty query is no query */
	endpoint("http://u:p@h/", EVPN_ERR_CONFIG);
	endpoint("ftp://example.com/", EVPN_ERR_CONFIG);
	endpoint("not a url", EVPN_ERR_CONFIG);
	endpoint("", EVPN_ERR_CONFIG);
}

/* AWS_CONTAINER_CREDENTIALS_FULL_URI: the container authorization token is
 * sent there, so plain HTTP goes only to loopback and the ECS/EKS agents,
 * matched on the exact host (a pure check: nothing here is contacted). */
static void full_uri_hosts(void **state)
{
	static const char *const good[] = {
		"http://127.0.0.1/creds",
		"http://127.0.0.1:51679/creds",
		"http://127.1.2.3:8080/v1/credentials",
		"http://[::1]:8080/creds",
		"http://localhost:8080/creds",
		"http://169.254.170.2/v2/credentials/abc",
		"http://169.254.170.23/v1/credentials",
		"http://[fd00:ec2::23]/v1/credentials",
		"HTTP://169.254.170.2/creds",
		"https://creds.example.com/anything",
		"https://127.attacker.example/x",
	};
	static const char *const bad[] = {
		"http://127.attacker.example/creds",
		"http://127.0.0.1.nip.io/creds",
		"http://169.254.170.2.attacker.example/creds",
		"http://169.254.170.23.attacker.example/creds",
		"http://169.254.170.230/creds",
		"http://169.254.170.20/creds",
		"http://localhost.attacker.example/creds",
		"http://localhostx/creds",
		"http://127.0.0.1@attacker.example/creds",
		"http://user:pw@127.0.0.1/creds",
		"http://[::1].attacker.example/creds",
		"http://[fd00:ec2::23]x/creds",
		"http://[fd00:ec2::24]/creds",
		"http://[::ffff:8.8.8.8]/creds",
		"http://[fe80::1%25eth0]/creds",
		"http://10.0.0.1/creds",
		"http://attacker.example/creds",
		"ftp://127.0.0.1/creds",
		"file:///etc/passwd",
		"127.0.0.1/creds",
		"http:///creds",
		"",
		NULL,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!ssm_creds_full_uri_allowed(good[i]))
			fail_msg("refused %s", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ssm_creds_full_uri_allowed(bad[i]))
			fail_msg("allowed %s", bad[i] ? bad[i] : "(null)");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(iso8601),
		cmocka_unit_test(endpoint_check),
		cmocka_unit_test(full_uri_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
