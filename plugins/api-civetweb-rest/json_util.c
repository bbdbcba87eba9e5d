/* SPDX-License-Identifier: MIT */
#include "json_util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

size_t api_json_quote_bound(const char *s)
{
	return strlen(s) * 6 + 3;
}

long api_json_quote(const char *s, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

#define PUT(c)                        \
	do {                          \
		if (o + 1 >= len)     \
			return -1;    \
		buf[o++] = (char)(c); \
	} while (0)
	PUT('"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			PUT('\\');
			PUT('"');
			break;
		case '\\':
			PUT('\\');
			PUT('\\');
			break;
		case '\n':
			PUT('\\');
			PUT('n');
			break;
		case '\r':
			PUT('\\');
			PUT('r');
			break;
		case '\t':
			PUT('\\');
			PUT('t');
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				PUT('\\');
				PUT('u');
				PUT('0');
				PUT('0');
				PUT(hex[*p >> 4]);
				PUT(hex[*p & 15]);
			} else {
				PUT(*p);
			}
		}
	}
	PUT('"');
#undef PUT
	buf[o] = '\0';
	return (long)o;
}

void api_rfc3339(int64_t unix_sec, char buf[32])
{
	time_t t = (time_t)unix_sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, 32, "1970-01-01T00:00:00Z");
}
