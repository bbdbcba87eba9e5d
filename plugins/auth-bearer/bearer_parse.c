/* SPDX-License-Identifier: MIT */
#include "bearer_parse.h"

#include <strings.h>

static int is_ws(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 6750 b64token characters: ALPHA DIGIT "-._~+/" then "="*. We accept
 * any visible ASCII but no whitespace, which is a superset: the master key
 * may be an operator-chosen string. */
static int is_token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

enum bearer_status bearer_parse(const char *header, const char **tok,
				size_t *len)
{
	const char *p, *end;

	*tok = NULL;
	*len = 0;
	if (!header)
		return BEARER_MISSING;
	p = header;
	while (is_ws(*p))
		p++;
	if (!*p)
		return BEARER_MISSING;
	if (strncasecmp(p, "bearer", 6) != 0 || !is_ws(p[6]))
		return BEARER_MALFORMED;
	p += 6;
	while (is_ws(*p))
		p++;
	end = p;
	while (*end)
		end++;
	while (end > p && is_ws(end[-1]))
		end--;
	if (end == p || (size_t)(end - p) > BEARER_TOKEN_MAX)
		return BEARER_MALFORMED;
	for (const char *q = p; q < end; q++)
		if (!is_token_char((unsigned char)*q))
			return BEARER_MALFORMED;
	*tok = p;
	*len = (size_t)(end - p);
	return BEARER_OK;
}
