// SPDX-License-Identifier: MIT
/* connect's stream fallback, its pure parts: the Endpoint host and peer
 * key of a wg-quick file, and stream URLs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "relay.h"
#include "stream.h"

#define PUB "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

static void test_conf_endpoint(void **state)
{
	char host[256], pub[64];

	assert_int_equal(
		evpnctl_conf_endpoint("[Interface]\nPrivateKey = x\n"
				      "[Peer]\nPublicKey = " PUB "\n"
				      "Endpoint = vpn.example.com:51820\n",
				      host, sizeof(host), pub, sizeof(pub)),
		0);
	assert_string_equal(host, "vpn.example.com");
	assert_string_equal(pub, PUB);
	/* names in any case, blanks, a comment, IPv6 in brackets */
	assert_int_equal(
		evpnctl_conf_endpoint("[Peer]\n  endpoint=[2001:db8::1]:"
				      "51820 # the server\n"
				      "publickey =  " PUB "  \n",
				      host, sizeof(host), pub, sizeof(pub)),
		0);
	assert_string_equal(host, "2001:db8::1");
	assert_string_equal(pub, PUB);
	/* the Interface's keys are not the peer's */
	assert_int_equal(evpnctl_conf_endpoint("[Interface]\nPublicKey = " PUB
					       "\nEndpoint = a:1\n[Peer]\n",
					       host, sizeof(host), pub,
					       sizeof(pub)),
			 -1);
	assert_int_equal(evpnctl_conf_endpoint("[Peer]\nPublicKey = " PUB "\n",
					       host, sizeof(host), pub,
					       sizeof(pub)),
			 -1);
}

static void test_ws_url(void **state)
{
	struct evpnctl_ws_url u;

	assert_true(evpnctl_ws_url_parse("wss://vpn.example.com/wg", &u));
	assert_string_equal(u.host, "vpn.example.com");
	assert_int_equal(u.port, 443);
	assert_true(u.tls);
	assert_string_equal(u.path, "/wg");
	assert_true(evpnctl_ws_url_parse("ws://10.0.0.1:8081", &u));
	assert_int_equal(u.port, 8081);
	assert_false(u.tls);
	assert_string_equal(u.path, "/");
	assert_true(evpnctl_ws_url_parse("wss://[2001:db8::1]:8443/x/y", &u));
	assert_string_equal(u.host, "2001:db8::1");
	assert_int_equal(u.port, 8443);
	assert_string_equal(u.path, "/x/y");
	assert_false(evpnctl_ws_url_parse("https://vpn.example.com/wg", &u));
	assert_false(evpnctl_ws_url_parse("wss://:443/wg", &u));
	assert_false(evpnctl_ws_url_parse("wss://h:0/wg", &u));
	assert_false(evpnctl_ws_url_parse("wss://h:99999/wg", &u));
	assert_false(evpnctl_ws_url_parse("wss://h:12x/wg", &u));
	assert_false(evpnctl_ws_url_parse("wss://[2001:db8::1/wg", &u));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_endpoint),
		cmocka_unit_test(test_ws_url),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
