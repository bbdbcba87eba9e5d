/* SPDX-License-Identifier: MIT */
/*
 * ${VAR} and ${VAR:-default} expansion of configuration scalars.
 *
 * Defaults may themselves contain ${...} (so ${A:-${B:-x}} works, as in the
 * shipped config's endpoint override). "$${" writes a literal "${". A plain
 * ${VAR} whose variable is unset is an error rather than an empty string: a
 * typo in a variable name should stop the daemon, not silently configure it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_impl.h"

struct sbuf {
	char *p;
	size_t n, cap;
};

static int sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
	return 0;
}

/* Expand s[*i..] until end or an unbalanced '}' (when nested). */
static int expand_into(struct sbuf *out, const char *s, size_t *i, int depth,
		       char *err, size_t errlen)
{
	while (s[*i]) {
		if (depth > 0 && s[*i] == '}')
			return 0;
		if (s[*i] == '$' && s[*i + 1] == '$' && s[*i + 2] == '{') {
			if (sb_put(out, "${", 2))
				goto nomem;
			*i += 3;
			continue;
		}
		if (s[*i] == '$' && s[*i + 1] == '{') {
			size_t start = *i + 2, j = start;
			char name[128];
			const char *val;

			if (depth > 8) {
				snprintf(err, errlen,
					 "variables nested too deep");
				return -1;
			}
			while (isalnum((unsigned char)s[j]) || s[j] == '_')
				j++;
			if (j == start || j - start >= sizeof(name)) {
				snprintf(err, errlen,
					 "bad variable reference at \"%.20s\"",
					 s + *i);
				return -1;
			}
			memcpy(name, s + start, j - start);
			name[j - start] = '\0';
			val = getenv(name);
			if (s[j] == '}') {
				if (!val) {
					snprintf(
						err, errlen,
						"environment variable %s is "
						"not "
						"set (write ${%s:-default} for "
						"a default)",
						name, name);
					return -1;
				}
				if (sb_put(out, val, strlen(val)))
					goto nomem;
				*i = j + 1;
				continue;
			}
			if (s[j] == ':' && s[j + 1] == '-') {
				struct sbuf def = {0};
				size_t k = j + 2;

				if (sb_put(&def, "", 0))
					goto nomem;
				if (expand_into(&def, s, &k, depth + 1, err,
						errlen)) {
					free(def.p);
					return -1;
				}
				if (s[k] != '}') {
					free(def.p);
					snprintf(err, errlen,
						 "unterminated ${%s:-...}",
						 name);
					return -1;
				}
				/* As in POSIX sh: an empty value uses the
				 * default. */
				if (val && *val) {
					if (sb_put(out, val, strlen(val))) {
						free(def.p);
						goto nomem;
					}
				} else if (sb_put(out, def.p, def.n)) {
					free(def.p);
					goto nomem;
				}
				free(def.p);
				*i = k + 1;
				continue;
			}
			snprintf(err, errlen, "bad variable reference ${%s%.1s",
				 name, s + j);
			return -1;
		}
		if (sb_put(out, s + *i, 1))
			goto nomem;
		(*i)++;
	}
	if (depth > 0) {
		snprintf(err, errlen, "unterminated ${");
		return -1;
	}
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

char *evpn_config_expand(const char *in, char *err, size_t errlen)
{
	struct sbuf out = {0};
	size_t i = 0;

	if (sb_put(&out, "", 0)) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (expand_into(&out, in, &i, 0, err, errlen)) {
		free(out.p);
		return NULL;
	}
	return out.p;
}
