/* SPDX-License-Identifier: MIT */
#include "validate.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sodium.h>

#include <evpn/transport.h>
#include <evpn/users.h>

#include "rate.h"

#include "errmap.h"

bool api_client_id_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n < 1 || n > 63)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int api_parse_ttl(const char *s, int64_t *seconds)
{
	int64_t v = 0, mult = 1;
	const char *p = s;

	*seconds = 0;
	if (!s || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > API_TTL_MAX_SECONDS)
			return -1; /* also keeps the multiply below safe */
	}
	switch (*p) {
	case '\0': mult = 1; break;
	case 's':
		mult = 1;
		p++;
		break;
	case 'm':
		mult = 60;
		p++;
		break;
	case 'h':
		mult = 3600;
		p++;
		break;
	case 'd':
		mult = 86400;
		p++;
		break;
	default: return -1;
	}
	if (*p != '\0')
		return -1;
	v *= mult;
	if (v <= 0 || v > API_TTL_MAX_SECONDS)
		return -1;
	*seconds = v;
	return 0;
}

int api_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{"", 1},
		{"B", 1},
		{"KB", 1000ULL},
		{"MB", 1000ULL * 1000},
		{"GB", 1000ULL * 1000 * 1000},
		{"TB", 1000ULL * 1000 * 1000 * 1000},
		{"KiB", 1ULL << 10},
		{"MiB", 1ULL << 20},
		{"GiB", 1ULL << 30},
		{"TiB", 1ULL << 40},
	};
	const uint64_t max = 1000ULL * 1000 * 1000 * 1000 * 1000 * 1000;
	uint64_t v = 0;
	const char *p = s;

	*bytes = 0;
	if (!s || !isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > max)
			return -1;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) != 0)
			continue;
		if (v == 0 || v > max / units[i].mult)
			return -1;
		*bytes = v * units[i].mult;
		return 0;
	}
	return -1;
}

bool api_public_key_valid(const char *s)
{
	unsigned char key[EVPN_KEY_LEN];
	size_t n = 0;
	bool ok;

	if (!s || strlen(s) != EVPN_KEY_B64_LEN)
		return false;
	ok = sodium_base642bin(key, sizeof(key), s, EVPN_KEY_B64_LEN, NULL, &n,
			       NULL, sodium_base64_VARIANT_ORIGINAL) == 0 &&
	     n == sizeof(key);
	sodium_memzero(key, sizeof(key));
	return ok;
}

bool api_content_type_is_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

static int fail(struct api_err *err, const char *code, const char *msg)
{
	err->status = 400;
	err->code = code;
	snprintf(err->message, sizeof(err->message), "%s", msg);
	return -1;
}

bool api_json_depth_ok(const char *body, size_t len, unsigned max)
{
	unsigned depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		char c = body[i];

		if (in_string) {
			if (c == '\\')
				i++; /* the escaped character is text */
			else if (c == '"')
				in_string = false;
			continue;
		}
		switch (c) {
		case '"': in_string = true; break;
		case '[':
		case '{':
			if (++depth > max)
				return false;
			break;
		case ']':
		case '}':
			/* A stray closer must not buy room for more openers. */
			if (depth > 0)
				depth--;
			break;
		default: break;
		}
	}
	return true;
}

/* Parses `body` into an object; reports syntax errors with their place. */
static json_t *load_object(const char *body, size_t len, struct api_err *err)
{
	json_error_t jerr;
	json_t *j;

	if (!body || len == 0) {
		fail(err, API_CODE_INVALID_JSON, "request body is empty");
		return NULL;
	}
	if (!api_json_depth_ok(body, len, API_JSON_MAX_DEPTH)) {
		fail(err, API_CODE_INVALID_JSON, "");
		snprintf(err->message, sizeof(err->message),
			 "request body is nested deeper than %d levels",
			 API_JSON_MAX_DEPTH);
		return NULL;
	}
	j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!j) {
		err->status = 400;
		err->code = API_CODE_INVALID_JSON;
		snprintf(err->message, sizeof(err->message),
			 "invalid JSON at line %d column %d: %s", jerr.line,
			 jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		fail(err, API_CODE_INVALID_JSON,
		     "request body must be a JSON object");
		return NULL;
	}
	return j;
}

/* "quota": a size string or a positive integer of bytes. */
static int parse_quota(json_t *v, uint64_t *out, struct api_err *err)
{
	static const char msg[] = "quota must be a size such as \"10GB\", "
				  "\"500MiB\" or a number of bytes (> 0)";

	if (json_is_integer(v) && json_integer_value(v) > 0) {
		*out = (uint64_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && api_parse_size(json_string_value(v), out) == 0)
		return 0;
	return fail(err, API_CODE_INVALID_FIELD, msg);
}

int api_parse_rate_limit(const json_t *v, uint64_t *bps, struct api_err *err)
{
	static const char msg[] =
		"rate_limit must be a rate such as \"20mbit\", \"500kbit\", "
		"\"1gbit\" or \"2MB/s\", or a number of bits per second "
		"(8kbit to 100gbit; 0: none)";

	*bps = 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		uint64_t x = (uint64_t)json_integer_value(v);

		if (x == 0 || (x >= RATE_MIN_BPS && x <= RATE_MAX_BPS)) {
			*bps = x;
			return 0;
		}
	} else if (json_is_string(v) &&
		   strlen(json_string_value(v)) == json_string_length(v) &&
		   rate_parse(json_string_value(v), bps) == 0) {
		return 0;
	}
	return fail(err, API_CODE_INVALID_FIELD, msg);
}

/* allowed_ips: "10.0.0.0/8, ::/0" or ["10.0.0.0/8", "::/0"], joined with
 * ", " into out. The CIDRs are judged by the users service. */
static int parse_allowed_ips(json_t *v, char out[API_ALLOWED_IPS_MAX],
			     struct api_err *err)
{
	static const char msg[] =
		"allowed_ips must be a list of CIDRs: a string such as "
		"\"10.0.0.0/8, fd00::/8\" or an array of strings";
	size_t used = 0, i;
	json_t *e;

	out[0] = '\0';
	if (json_is_string(v)) {
		if (json_string_length(v) >= API_ALLOWED_IPS_MAX ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return fail(err, API_CODE_INVALID_FIELD, msg);
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) == 0)
		return fail(err, API_CODE_INVALID_FIELD, msg);
	json_array_foreach(v, i, e)
	{
		size_t n;

		if (!json_is_string(e))
			return fail(err, API_CODE_INVALID_FIELD, msg);
		n = json_string_length(e);
		if (strlen(json_string_value(e)) != n ||
		    strchr(json_string_value(e), ',') ||
		    used + n + 3 > API_ALLOWED_IPS_MAX)
			return fail(err, API_CODE_INVALID_FIELD, msg);
		used += (size_t)snprintf(out + used, API_ALLOWED_IPS_MAX - used,
					 "%s%s", used ? ", " : "",
					 json_string_value(e));
	}
	return 0;
}

/* Rejects keys outside `allowed` (NULL-terminated). */
static int check_keys(json_t *obj, const char *const *allowed, const char *list,
		      struct api_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v)
	{
		bool ok = false;

		for (const char *const *a = allowed; *a; a++)
			if (strcmp(key, *a) == 0)
				ok = true;
		if (!ok) {
			err->status = 400;
			err->code = API_CODE_UNKNOWN_FIELD;
			snprintf(err->message, sizeof(err->message),
				 "unknown field \"%.64s\" (allowed: %s)", key,
				 list);
			return -1;
		}
	}
	return 0;
}

int api_parse_create(const char *body, size_t len, struct api_create_req *out,
		     struct api_err *err)
{
	static const char *const allowed[] = {
		"client_id", "public_key", "ttl",	 "allowed_ips",
		"link",	     "quota",	   "rate_limit", NULL};
	json_t *j, *v;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	j = load_object(body, len, err);
	if (!j)
		return -1;
	if (check_keys(j, allowed,
		       "client_id, public_key, ttl, allowed_ips, link, quota, "
		       "rate_limit",
		       err))
		goto out;

	v = json_object_get(j, "client_id");
	if (!v) {
		fail(err, API_CODE_INVALID_FIELD, "client_id is required");
		goto out;
	}
	if (!json_is_string(v)) {
		fail(err, API_CODE_INVALID_FIELD, "client_id must be a string");
		goto out;
	}
	if (!api_client_id_valid(json_string_value(v)) ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		fail(err, API_CODE_INVALID_FIELD,
		     "client_id must match ^[a-z0-9][a-z0-9_.-]{0,62}$");
		goto out;
	}
	strcpy(out->client_id, json_string_value(v));

	v = json_object_get(j, "public_key");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    !api_public_key_valid(json_string_value(v))) {
			fail(err, API_CODE_INVALID_FIELD,
			     "public_key must be a base64 X25519 key "
			     "(44 characters)");
			goto out;
		}
		strcpy(out->public_key, json_string_value(v));
		out->has_public_key = true;
	}

	v = json_object_get(j, "ttl");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v) ||
		    api_parse_ttl(json_string_value(v), &out->ttl_seconds)) {
			fail(err, API_CODE_INVALID_FIELD,
			     "ttl must be a duration string such as \"90s\", "
			     "\"30m\", \"24h\" or \"7d\" (at most 365d)");
			goto out;
		}
	}
	v = json_object_get(j, "allowed_ips");
	if (v && !json_is_null(v)) {
		if (parse_allowed_ips(v, out->allowed_ips, err))
			goto out;
		out->has_allowed_ips = true;
	}
	v = json_object_get(j, "quota");
	if (v && !json_is_null(v) && parse_quota(v, &out->quota_bytes, err))
		goto out;
	v = json_object_get(j, "rate_limit");
	if (v && !json_is_null(v)) {
		if (api_parse_rate_limit(v, &out->rate_limit_bps, err))
			goto out;
		out->has_rate_limit = true;
	}
	v = json_object_get(j, "link");
	if (json_is_true(v)) {
		out->link_ttl_seconds = API_LINK_TTL_DEFAULT;
	} else if (v && !json_is_null(v) && !json_is_false(v)) {
		if (!json_is_string(v) ||
		    api_parse_ttl(json_string_value(v),
				  &out->link_ttl_seconds) ||
		    out->link_ttl_seconds > API_LINK_TTL_MAX) {
			out->link_ttl_seconds = 0;
			fail(err, API_CODE_INVALID_FIELD,
			     "link must be true or a duration such as "
			     "\"15m\" (at most 7d)");
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int api_parse_patch(const char *body, size_t len, struct api_patch_req *out,
		    struct api_err *err)
{
	static const char *const allowed[] = {"status",	    "allowed_ips",
					      "quota",	    "reset_usage",
					      "rate_limit", NULL};
	json_t *j, *v;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	j = load_object(body, len, err);
	if (!j)
		return -1;
	if (check_keys(j, allowed,
		       "status, allowed_ips, quota, reset_usage, rate_limit",
		       err))
		goto out;
	v = json_object_get(j, "status");
	if (v) {
		enum evpn_user_status st =
			evpn_user_status_parse(json_string_value(v));

		if (!st) {
			fail(err, API_CODE_INVALID_FIELD,
			     "status must be \"active\" or \"inactive\"");
			goto out;
		}
		out->has_status = true;
		out->active = st == EVPN_USER_ACTIVE;
	}
	v = json_object_get(j, "allowed_ips");
	if (v) {
		if (parse_allowed_ips(v, out->allowed_ips, err))
			goto out;
		out->has_allowed_ips = true;
	}
	v = json_object_get(j, "quota");
	if (v) {
		if (!json_is_null(v) && parse_quota(v, &out->quota_bytes, err))
			goto out;
		out->has_quota = true;
	}
	v = json_object_get(j, "rate_limit");
	if (v) {
		if (json_is_null(v))
			out->rate_limit_bps = EVPN_RATE_LIMIT_DEFAULT;
		else if (api_parse_rate_limit(v, &out->rate_limit_bps, err))
			goto out;
		out->has_rate_limit = true;
	}
	v = json_object_get(j, "reset_usage");
	if (v) {
		if (!json_is_boolean(v)) {
			fail(err, API_CODE_INVALID_FIELD,
			     "reset_usage must be true or false");
			goto out;
		}
		out->reset_usage = json_is_true(v);
	}
	if (!out->has_status && !out->has_allowed_ips && !out->has_quota &&
	    !out->reset_usage && !out->has_rate_limit) {
		fail(err, API_CODE_INVALID_FIELD,
		     "nothing to change: give status, allowed_ips, quota, "
		     "reset_usage and/or rate_limit");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}

int api_parse_link(const char *body, size_t len, int64_t *ttl_seconds,
		   struct api_err *err)
{
	static const char *const allowed[] = {"ttl", NULL};
	json_t *j, *v;
	int rc = -1;

	*ttl_seconds = API_LINK_TTL_DEFAULT;
	if (!body || len == 0)
		return 0;
	j = load_object(body, len, err);
	if (!j)
		return -1;
	if (check_keys(j, allowed, "ttl", err))
		goto out;
	v = json_object_get(j, "ttl");
	if (v && !json_is_null(v) &&
	    (!json_is_string(v) ||
	     api_parse_ttl(json_string_value(v), ttl_seconds) ||
	     *ttl_seconds > API_LINK_TTL_MAX)) {
		fail(err, API_CODE_INVALID_FIELD,
		     "ttl must be a duration such as \"15m\" (at most 7d)");
		goto out;
	}
	rc = 0;
out:
	json_decref(j);
	return rc;
}
