/* SPDX-License-Identifier: MIT */
/* wg-quick file handling: pure string functions, unit-tested. */
#ifndef EVPNCTL_CONF_H
#define EVPNCTL_CONF_H

#include "exitcodes.h"

/*
 * Returns a malloc'd copy of conf whose [Interface] section has
 * "PrivateKey = key": the server's line (a placeholder, as the server never
 * holds a client private key) is replaced, or one is added right after the
 * [Interface] header when the server sent none. Comment lines directly
 * above a replaced line (the server's note about its placeholder) go with
 * it; every other line is kept byte for byte. 0, -EINVAL (no [Interface]
 * section, bad key) or -ENOMEM. The caller wipes and frees *out.
 */
int evpnctl_conf_set_private_key(const char *conf, const char *key_b64,
				 char **out) EVPNCTL_WUR;

#include <stdbool.h>
#include <stddef.h>

/*
 * wg-quick runs PreUp/PostUp/PreDown/PostDown with bash, as root, and
 * honours Table and SaveConfig: a config must never carry what its author
 * (the server) wants run here. The filter keeps only what evpnctl writes:
 *   [Interface] PrivateKey, Address, DNS, MTU
 *   [Peer]      PublicKey, PresharedKey, Endpoint, AllowedIPs,
 *               PersistentKeepalive
 * each with a value of the expected shape (keys are 44 base64 characters,
 * addresses are hex digits, '.', ':', '/' and ','; no shell characters),
 * plus blank and comment lines. Lines are parsed the way wg-quick does:
 * cut at the first '#', then split at the first '='; names are
 * case-insensitive. Everything else is dropped: other keys, lines without
 * '=', lines before the first section, lines with control characters, and
 * sections other than [Interface] and [Peer] with all their lines.
 */
struct evpnctl_conf_issue {
	unsigned line; /* 1-based */
	char what[64]; /* "PostUp", "DNS (bad value)", "[Hooks] section" */
};

#define EVPNCTL_CONF_ISSUES_MAX 8

struct evpnctl_conf_report {
	size_t n; /* issues found; the first EVPNCTL_CONF_ISSUES_MAX kept */
	struct evpnctl_conf_issue first[EVPNCTL_CONF_ISSUES_MAX];
};

/* Fills rep and, when out is not NULL, a malloc'd copy of conf without
 * the dropped lines (kept lines are byte for byte). 0 or -ENOMEM. The
 * caller wipes and frees *out (it holds the private key). */
int evpnctl_conf_filter(const char *conf, char **out,
			struct evpnctl_conf_report *rep) EVPNCTL_WUR;
/* "PostUp (line 3), Table (line 4) and 2 more" into buf. */
void evpnctl_conf_report_str(const struct evpnctl_conf_report *rep, char *buf,
			     size_t len);

/* Does an [Interface] section say "PrivateKey = key"? */
bool evpnctl_conf_has_private_key(const char *conf, const char *key);

/* What `wg-quick up` will need beyond the basics for this config. */
struct evpnctl_conf_needs {
	bool dns;      /* a DNS server in [Interface]: resolvconf */
	bool default4; /* AllowedIPs has an IPv4 /0: iptables or nft */
	bool default6; /* AllowedIPs has an IPv6 /0: ip6tables or nft */
};
void evpnctl_conf_needs(const char *conf, struct evpnctl_conf_needs *n);

#endif /* EVPNCTL_CONF_H */
