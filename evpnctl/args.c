// SPDX-License-Identifier: MIT
/*
 * Argument parsing. Options may come before or after the positional
 * arguments ("create alice --ttl 1h" and "create --ttl 1h alice"); "--" ends
 * the options. Everything is validated here so commands never see a name
 * that could escape the client directory or a URL path segment.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rate.h"
#include "args.h"

struct cmd_spec {
	const char *name;
	enum evpnctl_cmd cmd;
	int npos, npos_min; /* positional arguments: npos_min..npos */
	bool ttl, qr, limit, stream;
};

static const struct cmd_spec cmds[] = {
	{"setup", EVPNCTL_CMD_SETUP, 2, 1, false, false, false, false},
	{"create", EVPNCTL_CMD_CREATE, 1, 1, true, false, false, false},
	{"connect", EVPNCTL_CMD_CONNECT, 1, 1, false, false, false, true},
	{"disconnect", EVPNCTL_CMD_DISCONNECT, 1, 1, false, false, false,
	 false},
	{"list", EVPNCTL_CMD_LIST, 0, 0, false, false, false, false},
	{"status", EVPNCTL_CMD_STATUS, 1, 1, false, false, false, false},
	{"delete", EVPNCTL_CMD_DELETE, 1, 1, false, false, false, false},
	{"config", EVPNCTL_CMD_CONFIG, 1, 1, false, true, false, false},
	{"audit", EVPNCTL_CMD_AUDIT, 0, 0, false, false, true, false},
	{"link", EVPNCTL_CMD_LINK, 1, 1, true, false, false, false},
};

#define GLOBAL_HELP                                                            \
	"usage: evpnctl COMMAND [ARGS]\n"                                      \
	"\n"                                                                   \
	"Client for an evpn server: creates WireGuard users and connects.\n"   \
	"\n"                                                                   \
	"commands:\n"                                                          \
	"  setup URL [KEY|-]          save the server URL and API key (the\n"  \
	"                             key from EVPN_MASTER_KEY or stdin)\n"    \
	"  create NAME [--ttl D] [--allowed-ips CIDRS] [--quota SIZE]\n"       \
	"              [--rate-limit RATE]\n"                                  \
	"                             create a user with a locally generated " \
	"key pair\n"                                                           \
	"  connect NAME [--over M]    wg-quick up NAME's config (root); "      \
	"over\n"                                                               \
	"                             UDP, or WebSocket/TLS when UDP fails\n"  \
	"  disconnect NAME            wg-quick down NAME's config (root)\n"    \
	"  list                       list the users on the server\n"          \
	"  status NAME                server record and local `wg show`\n"     \
	"  delete NAME                delete the user and its local files\n"   \
	"  config NAME [--qr]         print NAME's config (or a QR code)\n"    \
	"  link NAME [--ttl D]        a one-time link to NAME's config\n"      \
	"  audit [--limit N]          the server's audit log, newest first "   \
	"(admin)\n"                                                            \
	"\n"                                                                   \
	"`evpnctl COMMAND --help` describes one command.\n"                    \
	"\n"                                                                   \
	"files: $EVPN_CLIENT_DIR, else ~/.config/evpn/ (client.json, "         \
	"NAME.conf,\n"                                                         \
	"       NAME.key), all mode 0600.\n"                                   \
	"\n"                                                                   \
	"exit status:\n"                                                       \
	"  0  success\n"                                                       \
	"  1  usage error (bad command, option or argument)\n"                 \
	"  2  server error: unreachable, rejected key (401/403), not found,\n" \
	"     name taken (409), bad request, server failure\n"                 \
	"  3  local error: not set up, missing or unwritable files, a\n"       \
	"     NAME.conf with keys evpnctl does not write\n"                    \
	"  4  connect/disconnect need root\n"                                  \
	"  5  wg-quick or wg missing, or it failed\n"                          \
	"  6  connect: a program wg-quick needs is missing (named, with the\n" \
	"     package to install; nothing was changed)\n"

static const char *const helps[] = {
	[EVPNCTL_CMD_NONE] = GLOBAL_HELP,
	[EVPNCTL_CMD_VERSION] = GLOBAL_HELP,
	[EVPNCTL_CMD_SETUP] =
		"usage: evpnctl setup URL [KEY | -]\n"
		"\n"
		"Saves the server's URL (http:// or https://) and an API key\n"
		"in client.json (mode 0600), then checks them with GET "
		"/users.\n"
		"\n"
		"Where the key comes from:\n"
		"  -                 from stdin (one line)\n"
		"  (no KEY)          from $EVPN_MASTER_KEY when set, else "
		"from\n"
		"                    stdin (a prompt without echo on a "
		"terminal)\n"
		"  KEY               from the command line: works, but ps and\n"
		"                    the shell history show it; prefer the "
		"others\n"
		"\n"
		"e.g.  evpnctl setup https://vpn.example.com < key.txt\n"
		"      EVPN_MASTER_KEY=... evpnctl setup "
		"https://vpn.example.com\n"
		"\n"
		"Plain http:// to another machine works but warns: the key "
		"and\n"
		"the configs would cross the network unencrypted.\n",
	[EVPNCTL_CMD_CREATE] = "usage: evpnctl create NAME [--ttl D] "
			       "[--allowed-ips CIDRS] [--quota SIZE]\n"
			       "                      [--rate-limit RATE]\n"
			       "\n"
			       "Generates an X25519 key pair on this machine, "
			       "creates user NAME\n"
			       "on the server with only the public key (the "
			       "private key never\n"
			       "leaves this machine), writes NAME.conf (0600) "
			       "with the private\n"
			       "key filled in, saves the user's API key in "
			       "NAME.key (0600) and\n"
			       "prints it. Of the server's config only "
			       "[Interface] PrivateKey,\n"
			       "Address, DNS, MTU and [Peer] PublicKey, "
			       "PresharedKey, Endpoint,\n"
			       "AllowedIPs, PersistentKeepalive are kept; "
			       "anything else (hooks\n"
			       "wg-quick would run as root) is dropped "
			       "with a warning.\n"
			       "\n"
			       "  --ttl D   the user expires after D (e.g. "
			       "30m, 24h, 7d) and is\n"
			       "            deleted by the server\n"
			       "  --allowed-ips CIDRS   split tunnel: only "
			       "these networks go\n"
			       "            through the VPN, e.g. "
			       "\"10.0.0.0/8, fd00::/8\"\n"
			       "            (default: everything)\n"
			       "  --quota SIZE   data quota (e.g. 10GB, "
			       "500MiB): at it the user\n"
			       "            becomes inactive\n"
			       "  --rate-limit RATE   the user's speed, each "
			       "way (e.g. 20mbit,\n"
			       "            500kbit, 1gbit, 2MB/s); 0: none, "
			       "even when the server\n"
			       "            has a default (users.rate_limit)\n"
			       "\n"
			       "NAME: ^[a-z0-9][a-z0-9_.-]{0,62}$; at most 15 "
			       "characters if it\n"
			       "is to be used with connect (wg-quick names the "
			       "interface NAME).\n",
	[EVPNCTL_CMD_CONNECT] =
		"usage: evpnctl connect NAME [--over auto|udp|https]\n"
		"                            [--proxy URL] [--stream-url URL]\n"
		"                            [--cacert FILE]\n"
		"\n"
		"Runs `wg-quick up` with NAME.conf. Needs root. Where the "
		"kernel\n"
		"has no WireGuard, set WG_QUICK_USERSPACE_IMPLEMENTATION=\n"
		"wireguard-go; the environment is passed to wg-quick as is.\n"
		"\n"
		"Before anything changes it checks what wg-quick will run "
		"(ip,\n"
		"wg, kernel WireGuard or wireguard-go; nft or iptables for a\n"
		"0.0.0.0/0 or ::/0 route; resolvconf for DNS) and names what "
		"to\n"
		"install (exit 6). It refuses a NAME.conf with keys evpnctl "
		"does\n"
		"not write (PostUp and the other hooks wg-quick would run as\n"
		"root, Table, SaveConfig...; exit 3).\n"
		"\n"
		"Where UDP is blocked (hotels, airports, offices) the "
		"tunnel's\n"
		"datagrams can travel over a TLS WebSocket to the server's\n"
		"stream listener, authorised by NAME's own API key "
		"(NAME.key):\n"
		"a relay on 127.0.0.1 takes the place of the Endpoint, its "
		"own\n"
		"connection marked with wg-quick's fwmark so it stays outside\n"
		"the tunnel. disconnect stops it.\n"
		"  --over auto     UDP; when no handshake completes within 5 "
		"s,\n"
		"                  the stream (the default)\n"
		"  --over udp      UDP only, as before\n"
		"  --over https    the stream from the start\n"
		"  --stream-url U  wss://HOST[:PORT]/PATH of the stream "
		"(default:\n"
		"                  wss://ENDPOINT-HOST/wg)\n"
		"  --proxy URL     an HTTP proxy to tunnel through (CONNECT); "
		"by\n"
		"                  default HTTPS_PROXY / https_proxy, "
		"NO_PROXY\n"
		"  --cacert FILE   CA certificates to verify the server with\n"
		"                  (default: the system's)\n",
	[EVPNCTL_CMD_DISCONNECT] =
		"usage: evpnctl disconnect NAME\n"
		"\n"
		"Runs `wg-quick down` with NAME.conf. Needs root. Refuses a\n"
		"NAME.conf with keys evpnctl does not write, like connect.\n",
	[EVPNCTL_CMD_LINK] =
		"usage: evpnctl link NAME [--ttl D]\n"
		"\n"
		"Asks the server for a one-time link to NAME's config and "
		"prints\n"
		"it. Whoever opens it first gets the config (a browser: a "
		"page\n"
		"with the QR code); then it is spent. It has the placeholder\n"
		"private key, like `evpnctl config`.\n"
		"\n"
		"  --ttl D   how long the link stays valid (default 15m, at "
		"most\n"
		"            7d)\n",
	[EVPNCTL_CMD_AUDIT] =
		"usage: evpnctl audit [--limit N]\n"
		"\n"
		"Prints the server's audit log, newest first, one change a "
		"line:\n"
		"time, action, target, actor, source address, outcome, HTTP\n"
		"status, detail. --limit N: the N newest (default 50, at most\n"
		"100000). Needs the master key.\n",
	[EVPNCTL_CMD_LIST] = "usage: evpnctl list\n"
			     "\n"
			     "Lists the users the saved key may see, one per "
			     "line.\n",
	[EVPNCTL_CMD_STATUS] =
		"usage: evpnctl status NAME\n"
		"\n"
		"Shows the server's record of NAME (status, address, last\n"
		"handshake, bytes) and, when interface NAME is up here, the\n"
		"output of `wg show NAME`. Uses NAME's own API key (NAME.key)\n"
		"when it exists, else the key saved by setup.\n",
	[EVPNCTL_CMD_DELETE] = "usage: evpnctl delete NAME\n"
			       "\n"
			       "Deletes user NAME on the server (its peer is "
			       "dropped at once)\n"
			       "and removes NAME.conf and NAME.key here.\n",
	[EVPNCTL_CMD_CONFIG] =
		"usage: evpnctl config NAME [--qr [--invert]]\n"
		"\n"
		"Prints NAME.conf (the wg-quick file with the private key).\n"
		"\n"
		"  --qr       draw it as a QR code in the terminal, for the\n"
		"             WireGuard mobile apps\n"
		"  --invert   swap dark and light (for dark-on-light "
		"terminals)\n",
};

const char *evpnctl_help(enum evpnctl_cmd cmd)
{
	if ((size_t)cmd >= sizeof(helps) / sizeof(helps[0]) || !helps[cmd])
		return GLOBAL_HELP;
	return helps[cmd];
}

bool evpnctl_valid_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || !strchr("_.-", c)))
			return false;
	}
	return true;
}

bool evpnctl_valid_allowed_ips(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 1024 &&
	       strspn(s, "0123456789abcdefABCDEF.:/, ") == n && strchr(s, '/');
}

bool evpnctl_valid_ttl(const char *ttl)
{
	size_t n = strlen(ttl), digits = strspn(ttl, "0123456789");

	/* Nine digits is already decades; more would only overflow. */
	return digits >= 1 && digits <= 9 && n == digits + 1 &&
	       strchr("smhd", ttl[digits]);
}

bool evpnctl_valid_api_key(const char *key)
{
	size_t n = strlen(key);

	if (n < 1 || n > 200 || !strcmp(key, "-"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)key[i] <= ' ' || key[i] == 0x7f)
			return false;
	}
	return true;
}

bool evpnctl_url_cleartext(const char *url)
{
	char host[256];
	const char *a, *ae, *h, *he, *at;
	unsigned char addr[16];

	if (strncasecmp(url, "http://", 7))
		return false;
	a = url + 7;
	ae = a + strcspn(a, "/?#");
	/* user:password@host: the host is after the last '@' */
	for (at = a; at < ae; at++) {
		if (*at == '@')
			a = at + 1;
	}
	if (*a == '[') {
		h = a + 1;
		he = memchr(h, ']', (size_t)(ae - h));
		if (!he)
			return true;
	} else {
		h = a;
		he = memchr(h, ':', (size_t)(ae - h));
		he = he ? he : ae;
	}
	if ((size_t)(he - h) >= sizeof(host))
		return true;
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';
	if (!strcasecmp(host, "localhost"))
		return false;
	if (inet_pton(AF_INET, host, addr) == 1)
		return addr[0] != 127;
	if (*a == '[' && inet_pton(AF_INET6, host, addr) == 1)
		return memcmp(addr, &in6addr_loopback, 16) != 0;
	return true;
}

bool evpnctl_valid_url(const char *url)
{
	const char *host;

	if (!strncmp(url, "http://", 7))
		host = url + 7;
	else if (!strncmp(url, "https://", 8))
		host = url + 8;
	else
		return false;
	if (!*host || *host == '/' || strlen(url) > 400)
		return false;
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return false;
	}
	return true;
}

__attribute__((format(printf, 2, 3))) static int fail(struct evpnctl_args *a,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_option(struct evpnctl_args *a, const struct cmd_spec *spec,
			int argc, char *const *argv, int *i)
{
	const char *opt = argv[*i];

	if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
		a->help = true;
		return 0;
	}
	if (spec->ttl && !strncmp(opt, "--ttl", 5) &&
	    (opt[5] == '\0' || opt[5] == '=')) {
		if (opt[5] == '=') {
			a->ttl = opt + 6;
		} else {
			if (*i + 1 >= argc)
				return fail(a, "option %s needs a value", opt);
			a->ttl = argv[++*i];
		}
		if (!evpnctl_valid_ttl(a->ttl))
			return fail(a,
				    "bad --ttl '%s': use a number and a unit, "
				    "e.g. 30m, 24h, 7d",
				    a->ttl);
		return 0;
	}
	if (spec->ttl && !strncmp(opt, "--allowed-ips", 13) &&
	    (opt[13] == '\0' || opt[13] == '=')) {
		if (opt[13] == '=') {
			a->allowed_ips = opt + 14;
		} else {
			if (*i + 1 >= argc)
				return fail(a, "option %s needs a value", opt);
			a->allowed_ips = argv[++*i];
		}
		if (!evpnctl_valid_allowed_ips(a->allowed_ips))
			return fail(a,
				    "bad --allowed-ips '%.100s': give CIDRs "
				    "such as \"10.0.0.0/8, fd00::/8\"",
				    a->allowed_ips);
		return 0;
	}
	if (spec->limit && !strncmp(opt, "--limit", 7) &&
	    (opt[7] == '\0' || opt[7] == '=')) {
		const char *v = opt[7] == '=' ? opt + 8 : NULL;
		char *end;
		long n;

		if (!v) {
			if (*i + 1 >= argc)
				return fail(a, "option %s needs a value", opt);
			v = argv[++*i];
		}
		n = strtol(v, &end, 10);
		if (!*v || *end || n < 1 || n > 100000)
			return fail(a, "bad --limit '%.20s': use 1-100000", v);
		a->limit = (unsigned)n;
		return 0;
	}
	if (spec->ttl && a->cmd == EVPNCTL_CMD_CREATE &&
	    !strncmp(opt, "--quota", 7) && (opt[7] == '\0' || opt[7] == '=')) {
		if (opt[7] == '=') {
			a->quota = opt + 8;
		} else {
			if (*i + 1 >= argc)
				return fail(a, "option %s needs a value", opt);
			a->quota = argv[++*i];
		}
		if (!*a->quota || strlen(a->quota) > 24 ||
		    strspn(a->quota, "0123456789KMGTiB") != strlen(a->quota))
			return fail(a,
				    "bad --quota '%.30s': use a size such as "
				    "10GB or 500MiB",
				    a->quota);
		return 0;
	}
	if (spec->ttl && a->cmd == EVPNCTL_CMD_CREATE &&
	    !strncmp(opt, "--rate-limit", 12) &&
	    (opt[12] == '\0' || opt[12] == '=')) {
		uint64_t bps;

		if (opt[12] == '=') {
			a->rate_limit = opt + 13;
		} else {
			if (*i + 1 >= argc)
				return fail(a, "option %s needs a value", opt);
			a->rate_limit = argv[++*i];
		}
		/* the server's own parser: a typo is caught here */
		if (rate_parse(a->rate_limit, &bps) != 0)
			return fail(a,
				    "bad --rate-limit '%.30s': use a rate such "
				    "as 20mbit, 500kbit, 1gbit or 2MB/s "
				    "(8kbit-100gbit; 0: none)",
				    a->rate_limit);
		return 0;
	}
	if (spec->stream) {
		static const char *const vopts[] = {"--over", "--proxy",
						    "--stream-url", "--cacert"};
		const char **dst[] = {NULL, &a->proxy, &a->stream_url,
				      &a->cacert};

		for (size_t k = 0; k < 4; k++) {
			size_t ol = strlen(vopts[k]);
			const char *v;

			if (strncmp(opt, vopts[k], ol) ||
			    (opt[ol] != '\0' && opt[ol] != '='))
				continue;
			if (opt[ol] == '=') {
				v = opt + ol + 1;
			} else {
				if (*i + 1 >= argc)
					return fail(a,
						    "option %s needs a value",
						    opt);
				v = argv[++*i];
			}
			if (!*v || strlen(v) > 400)
				return fail(a, "option %s: empty or too long",
					    vopts[k]);
			if (k == 0) {
				if (!strcmp(v, "auto"))
					a->over = EVPNCTL_OVER_AUTO;
				else if (!strcmp(v, "udp"))
					a->over = EVPNCTL_OVER_UDP;
				else if (!strcmp(v, "https"))
					a->over = EVPNCTL_OVER_HTTPS;
				else
					return fail(
						a,
						"bad --over '%s': auto, udp "
						"or https",
						v);
				return 0;
			}
			if (k == 2 && strncmp(v, "wss://", 6) &&
			    strncmp(v, "ws://", 5))
				return fail(a,
					    "bad --stream-url '%s': expected "
					    "wss://HOST[:PORT]/PATH",
					    v);
			for (const char *p = v; *p; p++)
				if ((unsigned char)*p <= ' ' || *p == 0x7f)
					return fail(a,
						    "option %s: blanks or "
						    "control characters",
						    vopts[k]);
			*dst[k] = v;
			return 0;
		}
	}
	if (spec->qr && !strcmp(opt, "--qr")) {
		a->qr = true;
		return 0;
	}
	if (spec->qr && !strcmp(opt, "--invert")) {
		a->invert = true;
		return 0;
	}
	return fail(a, "unknown option '%s'", opt);
}

static int parse_global(int argc, char *const *argv, struct evpnctl_args *a)
{
	const char *first = argc > 1 ? argv[1] : NULL;

	if (!first || !strcmp(first, "-h") || !strcmp(first, "--help")) {
		a->help = true;
		return 0;
	}
	if (!strcmp(first, "--version") || !strcmp(first, "version")) {
		a->cmd = EVPNCTL_CMD_VERSION;
		return 0;
	}
	if (!strcmp(first, "help")) {
		/* "evpnctl help create" = "evpnctl create --help" */
		a->help = true;
		if (argc > 2) {
			for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]);
			     i++) {
				if (!strcmp(argv[2], cmds[i].name)) {
					a->cmd = cmds[i].cmd;
					return 0;
				}
			}
			return fail(a, "unknown command '%s'", argv[2]);
		}
		return 0;
	}
	return 1; /* not global: a command */
}

int evpnctl_args_parse(int argc, char *const *argv, struct evpnctl_args *a)
{
	const struct cmd_spec *spec = NULL;
	const char *pos[3];
	int npos = 0, r;
	bool opts_done = false;

	memset(a, 0, sizeof(*a));
	r = parse_global(argc, argv, a);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name))
			spec = &cmds[i];
	}
	if (!spec)
		return fail(a, "unknown command '%s' (see evpnctl --help)",
			    argv[1]);
	a->cmd = spec->cmd;
	for (int i = 2; i < argc; i++) {
		const char *s = argv[i];

		if (!opts_done && !strcmp(s, "--")) {
			opts_done = true;
		} else if (!opts_done && s[0] == '-' && s[1] != '\0') {
			if (parse_option(a, spec, argc, argv, &i))
				return -1;
		} else {
			if (npos == 3)
				return fail(a, "too many arguments for %s",
					    spec->name);
			pos[npos++] = s;
		}
	}
	if (a->help)
		return 0;
	if (npos < spec->npos_min || npos > spec->npos) {
		if (spec->npos_min == spec->npos)
			snprintf(a->error, sizeof(a->error),
				 "%s takes %d argument%s, got %d (see evpnctl "
				 "%s --help)",
				 spec->name, spec->npos,
				 spec->npos == 1 ? "" : "s", npos, spec->name);
		else
			snprintf(a->error, sizeof(a->error),
				 "%s takes %d or %d arguments, got %d (see "
				 "evpnctl %s --help)",
				 spec->name, spec->npos_min, spec->npos, npos,
				 spec->name);
		return -1;
	}
	if (a->invert && !a->qr)
		return fail(a, "%s", "--invert only goes with --qr");
	if (spec->cmd == EVPNCTL_CMD_SETUP) {
		a->url = pos[0];
		a->key = npos > 1 ? pos[1] : NULL;
		if (!evpnctl_valid_url(a->url))
			return fail(a,
				    "bad URL '%s': expected http://HOST[:PORT] "
				    "or https://HOST[:PORT]",
				    a->url);
		if (a->key && strcmp(a->key, "-") &&
		    !evpnctl_valid_api_key(a->key))
			return fail(a, "%s",
				    "bad API key: empty, too long or has "
				    "whitespace");
		return 0;
	}
	if (spec->npos == 1) {
		a->name = pos[0];
		if (!evpnctl_valid_name(a->name))
			return fail(a,
				    "bad name '%s': use 1-63 of a-z 0-9 _ . - "
				    "starting with a letter or digit",
				    a->name);
	}
	return 0;
}
