// SPDX-License-Identifier: MIT
/* The opening handshake: the RFC 6455 accept example, well-formed and
 * malformed upgrade requests, and the client's check of the answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ws_http.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static void test_accept_rfc(void **state)
{
	char acc[WS_ACCEPT_LEN + 1];

	assert_true(ws_accept_key(KEY, acc));
	assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_false(ws_accept_key("short", acc));
}

static int parse(const char *req, struct ws_upgrade *u, int *status)
{
	size_t head = 0;

	*status = 0;
	return ws_http_parse_upgrade(req, strlen(req), u, &head, status);
}

static void test_good_request(void **state)
{
	char req[1024];
	struct ws_upgrade u;
	size_t head = 0, n;
	int status = 0;

	n = ws_http_build_request(req, sizeof(req), "vpn.example:443", "/wg",
				  KEY, "Bearer abc");
	assert_true(n > 0);
	/* a datagram frame right behind the head stays unread */
	memcpy(req + n, "\x82\x00", 3);
	assert_int_equal(ws_http_parse_upgrade(req, n + 2, &u, &head, &status),
			 WS_HTTP_OK);
	assert_int_equal(head, n);
	assert_string_equal(u.path, "/wg");
	assert_string_equal(u.key, KEY);
	assert_string_equal(u.authorization, "Bearer abc");
	/* every prefix of the head is "more" */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(
			ws_http_parse_upgrade(req, k, &u, &head, &status),
			WS_HTTP_MORE);
	/* header names in any case, token lists */
	assert_int_equal(parse("GET /x HTTP/1.1\r\nhost: h\r\n"
			       "upgrade: WebSocket\r\n"
			       "connection: keep-alive, Upgrade\r\n"
			       "sec-websocket-key: " KEY "\r\n"
			       "sec-websocket-version: 13\r\n\r\n",
			       &u, &status),
			 WS_HTTP_OK);
	assert_string_equal(u.authorization, "");
}

static void test_bad_requests(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{"POST /wg HTTP/1.1\r\nHost: h\r\n\r\n", 405},
		{"GET /wg HTTP/1.0\r\nHost: h\r\n\r\n", 400},
		{"GET /wg\r\n\r\n", 400},
		{"GET /wg HTTP/1.1\r\nHost: h\r\n\r\n", 426},
		{"GET /wg HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		 "Sec-WebSocket-Version: 8\r\n\r\n",
		 426},
		{"GET /wg HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: abc\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n",
		 400},
		{"GET /wg HTTP/1.1\r\nUpgrade: websocket\r\n"
		 "Connection: Upgrade\r\nSec-WebSocket-Key: " KEY "\r\n"
		 "Sec-WebSocket-Version: 13\r\n\r\n",
		 400},
		{"GET /wg HTTP/1.1\r\nHost h\r\n\r\n", 400},
		{"GET /wg HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", 400},
	};
	struct ws_upgrade u;
	int status;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].req, &u, &status), WS_HTTP_BAD);
		if (status != cases[i].status)
			fail_msg("case %zu: status %d, want %d", i, status,
				 cases[i].status);
	}
}

static void test_head_too_large(void **state)
{
	static char big[WS_HTTP_HEAD_MAX + 100];
	struct ws_upgrade u;
	size_t head;
	int status = 0;

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(
		ws_http_parse_upgrade(big, sizeof(big), &u, &head, &status),
		WS_HTTP_BAD);
	assert_int_equal(status, 431);
}

static void test_client_check(void **state)
{
	char resp[512], err[256];
	size_t n, head = 0;
	int status;

	n = ws_http_build_accept(resp, sizeof(resp), KEY);
	assert_true(n > 0);
	assert_non_null(strstr(resp, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
	assert_int_equal(ws_http_check_response(resp, n, KEY, &head, &status),
			 WS_HTTP_OK);
	assert_int_equal(head, n);
	assert_int_equal(status, 101);
	assert_int_equal(
		ws_http_check_response(resp, n - 1, KEY, &head, &status),
		WS_HTTP_MORE);
	/* the accept of another key */
	assert_int_equal(
		ws_http_check_response(
			resp, n, "AAAAAAAAAAAAAAAAAAAAAA==", &head, &status),
		WS_HTTP_BAD);
	n = ws_http_build_error(err, sizeof(err), 401, "unknown key");
	assert_true(n > 0);
	assert_non_null(strstr(err, "WWW-Authenticate: Bearer"));
	assert_int_equal(ws_http_check_response(err, n, KEY, &head, &status),
			 WS_HTTP_BAD);
	assert_int_equal(status, 401);
	assert_int_equal(ws_http_check_response("SSH-2.0-x\r\n\r\n", 13, KEY,
						&head, &status),
			 WS_HTTP_BAD);
	assert_int_equal(status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_rfc),
		cmocka_unit_test(test_good_request),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_head_too_large),
		cmocka_unit_test(test_client_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
