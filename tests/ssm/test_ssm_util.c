/* SPDX-License-Identifier: MIT */
/* Pure helpers of the ssm store: Expiration parsing, URL splitting (the
 * Host header must match what curl sends), the string builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "creds.h"
#include "http.h"
#include "sbuf.h"

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

static void split(const char *url, int want_rc, const char *hp,
		  const char *path)
{
	char *h = NULL, *p = NULL;

	assert_int_equal(ssm_http_split_url(url, &h, &p), want_rc);
	if (want_rc == 0) {
		assert_string_equal(h, hp);
		assert_string_equal(p, path);
	}
	free(h);
	free(p);
}

static void split_url(void **state)
{
	split("https://ssm.us-east-1.amazonaws.com", 0,
	      "ssm.us-east-1.amazonaws.com", "/");
	split("http://127.0.0.1:4566/", 0, "127.0.0.1:4566", "/");
	split("http://[::1]:8080/x", 0, "[::1]:8080", "/x");
	split("ftp://example.com/", EVPN_ERR_CONFIG, NULL, NULL);
	split("not a url", EVPN_ERR_CONFIG, NULL, NULL);
}

static void sbuf_basic(void **state)
{
	struct sbuf b;
	const unsigned char bytes[] = {0x00, 0xab, 0xff};
	char *s;

	sbuf_init(&b);
	sbuf_add(&b, "a");
	sbuf_addc(&b, '-');
	sbuf_addf(&b, "%d/%s", 42, "x");
	sbuf_addhex(&b, bytes, sizeof(bytes));
	for (int i = 0; i < 100; i++)
		sbuf_add(&b, "0123456789");
	s = sbuf_finish(&b);
	assert_non_null(s);
	assert_int_equal(strncmp(s, "a-42/x00abff0123", 16), 0);
	assert_int_equal(strlen(s), 16 + 1000 - 4);
	free(s);
	sbuf_init(&b);
	s = sbuf_finish(&b);
	assert_string_equal(s, "");
	free(s);
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
		cmocka_unit_test(split_url),
		cmocka_unit_test(sbuf_basic),
		cmocka_unit_test(full_uri_hosts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
