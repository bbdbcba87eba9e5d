// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
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

/* Filters conf; checks the result and the issues reported, as
 * "what@line" joined by ",". */
static void filt(const char *in, const char *want, const char *issues)
{
	struct evpnctl_conf_report rep;
	char *out = NULL, got[512] = "";

	assert_int_equal(evpnctl_conf_filter(in, &out, &rep), 0);
	assert_string_equal(out, want);
	for (size_t i = 0; i < rep.n && i < EVPNCTL_CONF_ISSUES_MAX; i++) {
		char one[80];

		snprintf(one, sizeof(one), "%s%s@%u", i ? "," : "",
			 rep.first[i].what, rep.first[i].line);
		strcat(got, one);
	}
	assert_string_equal(got, issues);
	free(out);
	/* a check without output reports the same */
	assert_int_equal(evpnctl_conf_filter(in, NULL, &rep), 0);
	assert_int_equal(rep.n == 0, issues[0] == '\0');
}

#define PUB "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg="

static void test_filter_keeps_known_keys(void **state)
{
	const char *ok =
		"# the server's config\n[Interface]\r\nPrivateKey = " KEY
		"\r\nAddress = 10.77.0.2/32, fd00::2/128\n"
		"DNS = 10.77.0.1, fd00::1, corp.example\nMTU = 1420\n"
		"\n[peer]\npublickey=" PUB "\nPresharedKey = " KEY
		"\nEndpoint = vpn.example.com:51820\n"
		"Endpoint = [2001:db8::1]:51820 # inline note\n"
		"AllowedIPs = 0.0.0.0/0, ::/0\n"
		"PersistentKeepalive = 25\nPersistentKeepalive = off\n";

	filt(ok, ok, "");
}

static void test_filter_drops_the_rest(void **state)
{
	/* hooks, Table, SaveConfig and keys wg would take but evpnctl does
	 * not write are dropped, each reported */
	filt("[Interface]\nPrivateKey = " KEY "\nPostUp = id > /tmp/x\n"
	     "PreDown = rm -rf /\nTable = off\nSaveConfig = true\n"
	     "Address = 10.0.0.2/32\nListenPort = 1\npreup=x\n"
	     "[Peer]\nPublicKey = " PUB "\nPostDown = y\n",
	     "[Interface]\nPrivateKey = " KEY "\nAddress = 10.0.0.2/32\n"
	     "[Peer]\nPublicKey = " PUB "\n",
	     "PostUp@3,PreDown@4,Table@5,SaveConfig@6,ListenPort@8,preup@9,"
	     "PostDown@12");
	/* a key valid only in the other section */
	filt("[Peer]\nDNS = 1.1.1.1\n[Interface]\nEndpoint = a:1\n",
	     "[Peer]\n[Interface]\n", "DNS@2,Endpoint@4");
	/* wg-quick cuts at '#' before '=': this line is the hook
	 * "PostUp" */
	filt("[Interface]\nPostUp # = harmless?\n", "[Interface]\n",
	     "line without '='@2");
	/* an unknown section goes whole; a known one resumes */
	filt("[Interface]\nAddress = 10.0.0.2/32\n[Hooks]\nPostUp = x\n"
	     "Address = 10.0.0.3/32\n[Peer]\nAllowedIPs = ::/0\n",
	     "[Interface]\nAddress = 10.0.0.2/32\n[Peer]\nAllowedIPs = ::/0\n",
	     "[Hooks] section@3");
	/* wg-quick takes "[Interface] = x" for a header, wg rejects it */
	filt("[Interface] = x\nAddress = 10.0.0.2/32\n[Peer]\n", "[Peer]\n",
	     "unknown section@1");
	/* before any section */
	filt("Address = 1.2.3.4/32\n[Interface]\n", "[Interface]\n",
	     "Address outside [Interface]/[Peer]@1");
}

static void test_filter_checks_values(void **state)
{
	filt("[Interface]\nAddress = 10.0.0.2/32; id\nDNS = $(id)\n"
	     "DNS = *\nMTU = 1420x\nPrivateKey = short\n[Peer]\n"
	     "Endpoint = a b:1\nEndpoint = `id`:1\nAllowedIPs =\n",
	     "[Interface]\n[Peer]\n",
	     "Address (bad value)@2,DNS (bad value)@3,DNS (bad value)@4,"
	     "MTU (bad value)@5,PrivateKey (bad value)@6,"
	     "Endpoint (bad value)@8,Endpoint (bad value)@9,"
	     "AllowedIPs (bad value)@10");
	filt("[Peer]\nPersistentKeepalive = 1e3\nPublicKey = " PUB "x\n"
	     "PresharedKey = " PUB "\n",
	     "[Peer]\nPresharedKey = " PUB "\n",
	     "PersistentKeepalive (bad value)@2,PublicKey (bad value)@3");
	/* control characters: the line goes, whatever it is */
	filt("[Interface]\nAddress = 10.0.0.2/32\x1b[2J\n# \x07\n"
	     "MTU\r= 1\n",
	     "[Interface]\n",
	     "control character@2,control character@3,control character@4");
}

static void test_filter_report(void **state)
{
	struct evpnctl_conf_report rep;
	char buf[300];
	char in[2000] = "[Interface]\n";

	for (int i = 0; i < 10; i++)
		strcat(in, "PostUp = x\n");
	strcat(in, "Table\x01Evil = 1\n");
	assert_int_equal(evpnctl_conf_filter(in, NULL, &rep), 0);
	assert_int_equal(rep.n, 11);
	evpnctl_conf_report_str(&rep, buf, sizeof(buf));
	assert_string_equal(buf, "PostUp (line 2), PostUp (line 3), PostUp "
				 "(line 4), PostUp (line 5), PostUp (line 6), "
				 "PostUp (line 7), PostUp (line 8), PostUp "
				 "(line 9) and 3 more");
	/* a key that is not a plain word is not echoed */
	assert_int_equal(
		evpnctl_conf_filter("[Interface]\nPost$Up = 1\n", NULL, &rep),
		0);
	evpnctl_conf_report_str(&rep, buf, sizeof(buf));
	assert_string_equal(buf, "unknown key (line 2)");
}

static void test_has_private_key(void **state)
{
	assert_true(evpnctl_conf_has_private_key(
		"[Peer]\n[interface]\n# x\n privatekey=" KEY " # k\n", KEY));
	assert_false(evpnctl_conf_has_private_key(
		"[Interface] = x\nPrivateKey = " KEY "\n", KEY));
	assert_false(evpnctl_conf_has_private_key(
		"[Peer]\nPrivateKey = " KEY "\n", KEY));
	assert_false(evpnctl_conf_has_private_key(
		"[Interface]\nPrivateKey = " PUB "\n", KEY));
	assert_false(evpnctl_conf_has_private_key("", KEY));
	/* keys are compared exactly, names are not */
	assert_false(evpnctl_conf_has_private_key(
		"[Interface]\nPrivateKey = "
		"yanz5tf+lxxjte14tji3zlmnq+hd2ryuigjbgb3fbmk=\n",
		KEY));
}

static void test_needs(void **state)
{
	struct evpnctl_conf_needs n;

	evpnctl_conf_needs("[Interface]\nDNS = 10.0.0.1\n[Peer]\nAllowedIPs = "
			   "10.0.0.0/8, ::/0\n",
			   &n);
	assert_true(n.dns && !n.default4 && n.default6);
	evpnctl_conf_needs("[Interface]\nAddress = 1.2.3.4/32\n[Peer]\n"
			   "AllowedIPs=0.0.0.0/0\n[Peer]\nAllowedIPs = "
			   "fd00::/64\n",
			   &n);
	assert_true(!n.dns && n.default4 && !n.default6);
	/* only search domains: wg-quick calls no resolvconf */
	evpnctl_conf_needs("[Interface]\nDNS = corp.example\n", &n);
	assert_false(n.dns);
	/* DNS in [Peer] and AllowedIPs in [Interface] mean nothing */
	evpnctl_conf_needs("[Interface]\nAllowedIPs = 0.0.0.0/0\n[Peer]\n"
			   "DNS = 1.1.1.1\n",
			   &n);
	assert_true(!n.dns && !n.default4 && !n.default6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replace_placeholder),
		cmocka_unit_test(test_insert),
		cmocka_unit_test(test_duplicates_and_errors),
		cmocka_unit_test(test_filter_keeps_known_keys),
		cmocka_unit_test(test_filter_drops_the_rest),
		cmocka_unit_test(test_filter_checks_values),
		cmocka_unit_test(test_filter_report),
		cmocka_unit_test(test_has_private_key),
		cmocka_unit_test(test_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
