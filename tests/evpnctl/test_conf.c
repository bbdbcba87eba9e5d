// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "conf.h"

#define KEY "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk="

static void check(const char *in, const char *want)
{
	char *out = NULL;

	assert_int_equal(evpnctl_conf_set_private_key(in, KEY, &out), 0);
	assert_string_equal(out, want);
	free(out);
}

static void test_replace_placeholder(void **state)
{
	check("[Interface]\nPrivateKey = <placeholder>\nAddress = "
	      "10.77.0.2/32\n"
	      "\n[Peer]\nPublicKey = abc\n",
	      "[Interface]\nPrivateKey = " KEY "\nAddress = 10.77.0.2/32\n"
	      "\n[Peer]\nPublicKey = abc\n");
	/* spacing and case variations wg-quick accepts */
	check("[interface]\n  privatekey=x\n",
	      "[interface]\nPrivateKey = " KEY "\n");
	/* CRLF line ends are kept */
	check("[Interface]\r\nPrivateKey = x\r\nMTU = 1420\r\n",
	      "[Interface]\r\nPrivateKey = " KEY "\r\nMTU = 1420\r\n");
	/* the server's note about its placeholder goes with it; other
	 * comments stay */
	check("# top\n[Interface]\n# keep\nAddress = a\n# The server never "
	      "stores client private keys: put yours here.\nPrivateKey = "
	      "<paste the client's private key here>\nDNS = d\n",
	      "# top\n[Interface]\n# keep\nAddress = a\nPrivateKey = " KEY
	      "\nDNS = d\n");
	/* no final newline */
	check("[Interface]\nPrivateKey = x", "[Interface]\nPrivateKey = " KEY);
}

static void test_insert(void **state)
{
	check("# comment\n[Interface]\nAddress = 10.77.0.2/32\n[Peer]\n"
	      "PublicKey = abc\n",
	      "# comment\n[Interface]\nPrivateKey = " KEY
	      "\nAddress = 10.77.0.2/32\n[Peer]\nPublicKey = abc\n");
	check("[Interface]", "[Interface]\nPrivateKey = " KEY "\n");
	/* a PrivateKey in [Peer] is not the interface's */
	check("[Interface]\nAddress = a\n[Peer]\nPrivateKey = nope\n",
	      "[Interface]\nPrivateKey = " KEY
	      "\nAddress = a\n[Peer]\nPrivateKey = nope\n");
}

static void test_duplicates_and_errors(void **state)
{
	char *out = NULL;

	/* a second PrivateKey would override ours in wg-quick: dropped */
	check("[Interface]\nPrivateKey = a\nPrivateKey = b\nDNS = 1.1.1.1\n",
	      "[Interface]\nPrivateKey = " KEY "\nDNS = 1.1.1.1\n");
	/* PrivateKeyFile is a different key */
	check("[Interface]\nPrivateKeyX = a\n",
	      "[Interface]\nPrivateKey = " KEY "\nPrivateKeyX = a\n");
	assert_int_equal(
		evpnctl_conf_set_private_key("[Peer]\nA = b\n", KEY, &out),
		-EINVAL);
	assert_int_equal(evpnctl_conf_set_private_key("", KEY, &out), -EINVAL);
	assert_int_equal(
		evpnctl_conf_set_private_key("[Interface]\n", "short", &out),
		-EINVAL);
	assert_int_equal(
		evpnctl_conf_set_private_key(
			"[Interface]\n",
			"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fB\nk=", &out),
		-EINVAL);
	assert_null(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_placeholder),
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_duplicates_and_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
