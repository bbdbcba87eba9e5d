/* SPDX-License-Identifier: MIT */
/* Parsers for configuration value types. Strict: trailing junk is an error. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config_impl.h"

bool evpn_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};

	if (!s)
		return false;
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return true;
		}
	}
	return false;
}

bool evpn_parse_int(const char *s, long long *out)
{
	char *end;

	if (!s || !*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

bool evpn_parse_duration(const char *s, double *seconds)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {{"ms", 0.001}, {"s", 1},	  {"m", 60},
		     {"h", 3600},   {"d", 86400}, {"", 1}};
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			*seconds = v * units[i].mult;
			return true;
		}
	}
	return false;
}

bool evpn_parse_size(const char *s, unsigned long long *bytes)
{
	char *end;
	unsigned long long v, mult = 1;

	if (!s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return false;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	default: return false;
	}
	if (mult > 1 &&
	    (strcasecmp(end, "ib") == 0 || strcasecmp(end, "b") == 0))
		end += strlen(end);
	if (*end)
		return false;
	if (v > ~0ULL / mult)
		return false;
	*bytes = v * mult;
	return true;
}

bool evpn_parse_addr(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon, *h = s;
	size_t hl;
	long long p;

	if (!s || !*s)
		return false;
	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (!rb || rb[1] != ':')
			return false;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return false; /* bare IPv6 needs brackets */
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return false;
	if (!evpn_parse_int(colon + 1, &p) || p < 0 || p > 65535)
		return false;
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (*s == '[') {
		unsigned char tmp[16];

		if (inet_pton(AF_INET6, host, tmp) != 1)
			return false;
	}
	*port = (unsigned)p;
	return true;
}

bool evpn_parse_cidr(const char *s, int *family, unsigned char addr[16],
		     unsigned *prefix)
{
	char buf[64];
	const char *slash;
	long long p;
	size_t n;
	int fam;

	if (!s)
		return false;
	slash = strchr(s, '/');
	n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		fam = AF_INET6;
	else
		return false;
	if (slash) {
		if (!evpn_parse_int(slash + 1, &p) || p < 0 ||
		    p > (fam == AF_INET ? 32 : 128))
			return false;
	} else {
		p = fam == AF_INET ? 32 : 128;
	}
	*family = fam;
	*prefix = (unsigned)p;
	return true;
}
