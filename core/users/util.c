/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "users_int.h"

void evpn_rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool evpn_parse_rfc3339(const char *s, int64_t *t)
{
	struct tm tm = {0};
	const char *end;

	if (!s)
		return false;
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return false;
	if (*end == '.') /* fractional seconds: ignored */
		for (end++; isdigit((unsigned char)*end); end++)
			;
	if (strcmp(end, "Z") != 0 && strcmp(end, "+00:00") != 0)
		return false;
	*t = (int64_t)timegm(&tm);
	return true;
}

/* ^[a-z0-9][a-z0-9_.-]{0,62}$ */
bool evpn_valid_client_id(const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strlen(id);
	if (n < 1 || n > 63)
		return false;
	if (!(islower((unsigned char)id[0]) || isdigit((unsigned char)id[0])))
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

bool evpn_b64_key(const char *b64, uint8_t key[EVPN_KEY_LEN])
{
	size_t bin_len;
	const char *end;

	if (!b64 || strlen(b64) != EVPN_KEY_B64_LEN)
		return false;
	if (sodium_base642bin(key, EVPN_KEY_LEN, b64, EVPN_KEY_B64_LEN, NULL,
			      &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    bin_len != EVPN_KEY_LEN || *end)
		return false;
	return true;
}

void evpn_key_b64(const uint8_t key[EVPN_KEY_LEN], char out[EVPN_KEY_B64_SIZE])
{
	sodium_bin2base64(out, EVPN_KEY_B64_SIZE, key, EVPN_KEY_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
}

bool users_keylist_push(struct users_keylist *l, const char *key)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char(*p)[USERS_KEYLIST_MAX] = realloc(l->v, cap * sizeof(*p));

		if (!p) {
			l->oom = true;
			return false;
		}
		l->v = p;
		l->cap = cap;
	}
	snprintf(l->v[l->n++], sizeof(*l->v), "%s", key);
	return true;
}

void users_keylist_free(struct users_keylist *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}
