// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

/* Skips blanks; wg-quick allows them around keys, '=' and section names. */
static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

static bool is_section(const char *p, const char *end)
{
	p = skip_ws(p, end);
	return p < end && *p == '[';
}

static bool is_interface(const char *p, const char *end)
{
	p = skip_ws(p, end);
	return (size_t)(end - p) >= 11 && !strncasecmp(p, "[Interface]", 11);
}

static bool is_private_key(const char *p, const char *end)
{
	p = skip_ws(p, end);
	if ((size_t)(end - p) < 10 || strncasecmp(p, "PrivateKey", 10))
		return false;
	p = skip_ws(p + 10, end);
	return p < end && *p == '=';
}

static bool valid_key(const char *k)
{
	size_t n = strlen(k);

	if (n != 44 || k[43] != '=')
		return false;
	for (size_t i = 0; i < 43; i++) {
		char c = k[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return false;
	}
	return true;
}

int evpnctl_conf_set_private_key(const char *conf, const char *key_b64,
				 char **out)
{
	size_t len = strlen(conf);
	/* The result is at most conf + one added line; a replaced line can
	 * only be longer by the key and the fixed text. */
	size_t cap = len + strlen(key_b64) + 32;
	char *res, *w;
	const char *p = conf, *end = conf + len;
	bool in_iface = false, done = false, seen_iface = false;
	char *comment = NULL; /* where the comment right above us starts */

	if (!valid_key(key_b64))
		return -EINVAL;
	res = malloc(cap);
	if (!res)
		return -ENOMEM;
	w = res;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;	      /* line end */
		const char *next = nl ? nl + 1 : end; /* next line */
		const char *ce = le;		      /* content end */

		if (ce > p && ce[-1] == '\r')
			ce--;
		if (is_section(p, ce)) {
			in_iface = is_interface(p, ce);
			memcpy(w, p, (size_t)(next - p));
			w += next - p;
			if (in_iface && !seen_iface) {
				seen_iface = true;
				/* Remember where to add the key if the section
				 * has no PrivateKey line: right after it. */
				if (!nl) {
					*w++ = '\n';
				}
				const char *q = next;
				bool has = false;

				while (q < end) {
					const char *qn = memchr(
						q, '\n', (size_t)(end - q));
					const char *qe = qn ? qn : end;

					if (is_section(q, qe))
						break;
					if (is_private_key(q, qe))
						has = true;
					q = qn ? qn + 1 : end;
				}
				if (!has) {
					w += sprintf(w, "PrivateKey = %s\n",
						     key_b64);
					done = true;
				}
			}
		} else if (in_iface && !done && is_private_key(p, ce)) {
			/* A comment right above the placeholder is the server's
			 * note about it ("put yours here"): no longer true. */
			if (comment)
				w = comment;
			w += sprintf(w, "PrivateKey = %s", key_b64);
			memcpy(w, ce, (size_t)(next - ce)); /* keep EOL */
			w += next - ce;
			done = true;
		} else if (in_iface && done && is_private_key(p, ce)) {
			/* A second PrivateKey would override ours: drop. */
		} else {
			const char *t = skip_ws(p, ce);
			char *start = w;

			memcpy(w, p, (size_t)(next - p));
			w += next - p;
			if (in_iface && t < ce && (*t == '#' || *t == ';')) {
				comment = comment ? comment : start;
				p = next;
				continue;
			}
		}
		comment = NULL;
		p = next;
	}
	*w = '\0';
	if (!seen_iface) {
		free(res);
		return -EINVAL;
	}
	*out = res;
	return 0;
}
