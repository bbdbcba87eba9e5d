// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"

static const char *msg_for(long status, const char *body, const char *name,
			   const char *retry)
{
	static char msg[400];
	struct evpnctl_http_resp r = {.status = status,
				      .body = (char *)body,
				      .len = body ? strlen(body) : 0};

	snprintf(r.retry_after, sizeof(r.retry_after), "%s", retry);
	assert_int_equal(evpnctl_api_error(&r, name, msg, sizeof(msg)),
			 EVPNCTL_EXIT_SERVER);
	return msg;
}

static void test_messages(void **state)
{
	assert_non_null(
		strstr(msg_for(401, "{\"error\":\"bad token\"}", NULL, ""),
		       "rejected the API key (401): bad token"));
	assert_non_null(strstr(msg_for(403, "", "alice", ""), "(403)"));
	assert_non_null(strstr(msg_for(404, "", "alice", ""),
			       "user 'alice' does not exist"));
	assert_non_null(strstr(msg_for(409, "{}", "alice", ""),
			       "'alice' is already taken"));
	assert_non_null(
		strstr(msg_for(429, "", NULL, "12"), "retry after 12 seconds"));
	assert_non_null(strstr(msg_for(400, "{\"error\":\"bad ttl\"}", "a", ""),
			       "(400): bad ttl"));
	/* not JSON, or no "error": no server text, no crash */
	assert_string_equal(msg_for(500, "<html>", NULL, ""),
			    "unexpected answer from the server (500)");
	assert_string_equal(msg_for(502, NULL, NULL, ""),
			    "unexpected answer from the server (502)");
	assert_non_null(strstr(msg_for(503, "{\"error\":\"store\"}", NULL, ""),
			       "unavailable (503): store"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
