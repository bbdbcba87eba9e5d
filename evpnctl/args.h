/* SPDX-License-Identifier: MIT */
/* Command-line parsing for evpnctl: pure, no I/O, unit-tested. */
#ifndef EVPNCTL_ARGS_H
#define EVPNCTL_ARGS_H

#include <stdbool.h>

#include "exitcodes.h"

enum evpnctl_cmd {
	EVPNCTL_CMD_NONE = 0, /* no command: global help */
	EVPNCTL_CMD_SETUP,
	EVPNCTL_CMD_CREATE,
	EVPNCTL_CMD_CONNECT,
	EVPNCTL_CMD_DISCONNECT,
	EVPNCTL_CMD_LIST,
	EVPNCTL_CMD_STATUS,
	EVPNCTL_CMD_DELETE,
	EVPNCTL_CMD_CONFIG,
	EVPNCTL_CMD_AUDIT,
	EVPNCTL_CMD_LINK,
	EVPNCTL_CMD_VERSION,
};

struct evpnctl_args {
	enum evpnctl_cmd cmd;
	bool help;	 /* print cmd's help (global help when cmd is NONE) */
	const char *url; /* setup */
	const char
		*key; /* setup: NULL (env or stdin), "-" (stdin) or the key */
	const char *name;
	const char *ttl; /* create --ttl */
	/* create --allowed-ips: CIDRs (the server validates them) */
	const char *allowed_ips;
	const char *quota; /* create --quota: a size (the server judges it) */
	const char *rate_limit; /* create --rate-limit: "20mbit" (checked) */
	bool qr;		/* config --qr */
	unsigned limit;		/* audit --limit N (0: the default) */
	bool invert;		/* config --qr --invert */
	/* connect: how the tunnel's datagrams travel */
	enum evpnctl_over {
		EVPNCTL_OVER_AUTO = 0, /* UDP; the stream when UDP fails */
		EVPNCTL_OVER_UDP,
		EVPNCTL_OVER_HTTPS,
	} over;
	const char *proxy;	/* connect --proxy URL (else HTTPS_PROXY) */
	const char *stream_url; /* connect --stream-url wss://HOST/PATH */
	const char *cacert;	/* connect --cacert FILE */
	char error[200];	/* why parsing failed */
};

/* Parses argv (argv[0] is the program). 0, or -1 with args->error set. */
int evpnctl_args_parse(int argc, char *const *argv,
		       struct evpnctl_args *args) EVPNCTL_WUR;

/* client_id as the API defines it: ^[a-z0-9][a-z0-9_.-]{0,62}$ */
bool evpnctl_valid_name(const char *name);
/* A duration: digits followed by one of s, m, h, d (e.g. "30m", "24h"). */
bool evpnctl_valid_ttl(const char *ttl);
/* Text that can only be a list of CIDRs: hex digits, '.', ':', '/',
 * ',' and spaces, not empty. The server judges the CIDRs. */
bool evpnctl_valid_allowed_ips(const char *s);
/* http:// or https:// followed by a host. */
bool evpnctl_valid_url(const char *url);

/* An API key: 1-200 printable characters, no blanks; not "-". */
bool evpnctl_valid_api_key(const char *key);
/* Plain http:// to anything but this machine (127.0.0.0/8, ::1,
 * localhost): the API key and the configs cross the network readable. */
bool evpnctl_url_cleartext(const char *url);

/* The help text of one command (EVPNCTL_CMD_NONE: the global help). */
const char *evpnctl_help(enum evpnctl_cmd cmd);

#endif /* EVPNCTL_ARGS_H */
