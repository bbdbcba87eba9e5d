/* SPDX-License-Identifier: MIT */
#include "ssm_store.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define SSM_STANDARD_MAX 4096
#define SSM_BATCH 10
#define LIST_MAX_PAGES 1000000

struct ssm_store {
	struct ssm_client *c;
	char *prefix; /* "/ephem-vpn", no trailing '/'; "" for the root */
	char *kms_key_id;
	int page_size;
};

int ssm_store_new(const struct ssm_config *cfg, const struct ssm_log *log,
		  struct ssm_store **out)
{
	struct ssm_store *s = calloc(1, sizeof(*s));
	const char *p = cfg->prefix ? cfg->prefix : "/ephem-vpn";
	size_t n;
	int rc = EVPN_ERR_NOMEM;

	*out = NULL;
	if (!s)
		return EVPN_ERR_NOMEM;
	n = strlen(p);
	while (n && p[n - 1] == '/')
		n--;
	if (n && p[0] != '/') {
		ssm_logf(log, SSM_LOG_ERROR,
			 "prefix \"%s\" must start with '/'", p);
		rc = EVPN_ERR_CONFIG;
		goto fail;
	}
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ0123456789_.-/",
			    p[i]) ||
		    (p[i] == '/' && i + 1 < n && p[i + 1] == '/')) {
			ssm_logf(log, SSM_LOG_ERROR,
				 "prefix \"%s\": only [A-Za-z0-9_.-] segments "
				 "joined by '/'",
				 p);
			rc = EVPN_ERR_CONFIG;
			goto fail;
		}
	s->prefix = strndup(p, n);
	s->kms_key_id =
		strdup(cfg->kms_key_id ? cfg->kms_key_id : "alias/aws/ssm");
	if (!s->prefix || !s->kms_key_id)
		goto fail;
	s->page_size = cfg->page_size >= 1 && cfg->page_size <= 10
			       ? cfg->page_size
			       : 10;
	rc = ssm_client_new(cfg, log, &s->c);
	if (rc)
		goto fail;
	*out = s;
	return EVPN_OK;
fail:
	ssm_store_free(s);
	return rc;
}

void ssm_store_free(struct ssm_store *s)
{
	if (!s)
		return;
	ssm_client_free(s->c);
	free(s->prefix);
	free(s->kms_key_id);
	free(s);
}

/* store.h keys: [A-Za-z0-9_.:-] segments joined by '/'. SSM names do not
 * allow ':' (hence no IPv6 address claims on SSM; said in the log). */
static int check_key(struct ssm_store *s, const char *key, bool allow_prefix)
{
	size_t n = strlen(key), seg = 0;

	if (n > EVPN_STORE_KEY_MAX || strlen(s->prefix) + 1 + n > 1011)
		return EVPN_ERR_INVAL;
	if (!n)
		return allow_prefix ? EVPN_OK : EVPN_ERR_INVAL;
	for (size_t i = 0; i <= n; i++) {
		char ch = key[i];

		if (ch == '/' || ch == '\0') {
			if (seg == 0 && !(allow_prefix && ch == '\0'))
				return EVPN_ERR_INVAL;
			if ((seg == 1 && key[i - 1] == '.') ||
			    (seg == 2 && key[i - 1] == '.' &&
			     key[i - 2] == '.'))
				return EVPN_ERR_INVAL;
			seg = 0;
			continue;
		}
		if (ch == ':') {
			ssm_logf(ssm_client_log(s->c), SSM_LOG_ERROR,
				 "key \"%s\": SSM parameter names cannot hold "
				 "':'",
				 key);
			return EVPN_ERR_INVAL;
		}
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"
			    "YZ0123456789_.-",
			    ch))
			return EVPN_ERR_INVAL;
		seg++;
	}
	return EVPN_OK;
}

static char *param_name(struct ssm_store *s, const char *key)
{
	char *n;

	if (asprintf(&n, "%s/%s", s->prefix, key) < 0)
		return NULL;
	return n;
}

/* GetParameter WithDecryption: value copy in *value (NUL-terminated). */
static int get_param(struct ssm_store *s, const char *name, char **value,
		     size_t *len)
{
	json_t *req =
		json_pack("{s:s, s:b}", "Name", name, "WithDecryption", 1);
	struct ssm_result res;
	json_t *v;
	int rc;

	if (!req)
		return EVPN_ERR_NOMEM;
	rc = ssm_call(s->c, "GetParameter", req, false, 0, &res);
	json_decref(req);
	if (rc)
		goto out;
	v = json_object_get(json_object_get(res.body, "Parameter"), "Value");
	rc = EVPN_ERR_INTERNAL;
	if (!json_is_string(v))
		goto out;
	*len = json_string_length(v);
	*value = malloc(*len + 1);
	rc = EVPN_ERR_NOMEM;
	if (!*value)
		goto out;
	memcpy(*value, json_string_value(v), *len);
	(*value)[*len] = '\0';
	rc = EVPN_OK;
out:
	ssm_result_clear(&res);
	return rc;
}

int ssm_store_get(struct ssm_store *s, const char *key, char **value,
		  size_t *len)
{
	char *name;
	int rc;

	*value = NULL;
	*len = 0;
	rc = check_key(s, key, false);
	if (rc)
		return rc;
	name = param_name(s, key);
	if (!name)
		return EVPN_ERR_NOMEM;
	rc = get_param(s, name, value, len);
	free(name);
	return rc;
}

void ssm_store_free_value(char *value, size_t len)
{
	if (value) {
		sodium_memzero(value, len);
		free(value);
	}
}

int ssm_store_put(struct ssm_store *s, const char *key, const char *value,
		  size_t len, uint32_t flags)
{
	bool create = flags & EVPN_STORE_CREATE,
	     secret = flags & EVPN_STORE_SECRET;
	struct ssm_result res;
	json_t *req = NULL, *jv;
	char *name = NULL, *cur = NULL;
	size_t curlen = 0;
	int rc;

	rc = check_key(s, key, false);
	if (rc)
		return rc;
	if (len == 0 || len > EVPN_STORE_VALUE_MAX) {
		/* SSM refuses empty values; evpn never writes one. */
		ssm_logf(ssm_client_log(s->c), SSM_LOG_ERROR,
			 "put %s: SSM values must be 1..%d bytes", key,
			 EVPN_STORE_VALUE_MAX);
		return EVPN_ERR_INVAL;
	}
	name = param_name(s, key);
	jv = json_stringn(value, len); /* NULL: not UTF-8 */
	if (!name || !jv) {
		rc = name ? EVPN_ERR_INVAL : EVPN_ERR_NOMEM;
		json_decref(jv);
		goto out;
	}
	req = json_pack("{s:s, s:o, s:s, s:b}", "Name", name, "Value", jv,
			"Type", secret ? "SecureString" : "String", "Overwrite",
			!create);
	if (!req) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	if (secret && *s->kms_key_id &&
	    json_object_set_new(req, "KeyId", json_string(s->kms_key_id))) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	/* Standard parameters hold 4 KiB; Intelligent-Tiering upgrades only
	 * the (rare) larger ones to Advanced. */
	if (len > SSM_STANDARD_MAX &&
	    json_object_set_new(req, "Tier",
				json_string("Intelligent-Tiering"))) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	rc = ssm_call(s->c, "PutParameter", req, secret, 0, &res);
	if (rc == EVPN_ERR_EXISTS && res.ambiguous) {
		/*
		 * A create-only put is not idempotent: an earlier attempt may
		 * have been executed although we saw no reply (5xx, lost
		 * connection), and then our own write answers "already
		 * exists". Read back to decide: our value means it was ours.
		 * (Another writer with the byte-identical value is
		 * indistinguishable, and for an address claim, whose value is
		 * the client id, equivalent.)
		 */
		int grc = get_param(s, name, &cur, &curlen);

		if (grc == EVPN_OK)
			rc = curlen == len &&
					     sodium_memcmp(cur, value, len) == 0
				     ? EVPN_OK
				     : EVPN_ERR_EXISTS;
		else if (grc != EVPN_ERR_NOTFOUND)
			rc = grc;
		ssm_logf(ssm_client_log(s->c), SSM_LOG_INFO,
			 "create %s after an ambiguous failure: read back says "
			 "%s",
			 key, rc == EVPN_OK ? "ours" : evpn_strerror(rc));
	}
	ssm_result_clear(&res);
out:
	ssm_store_free_value(cur, curlen);
	/* jansson's internal copy of a secret value is freed unwiped: the
	 * only hook is the process-wide allocator, shared with other plugins.
	 */
	json_decref(req);
	free(name);
	return rc;
}

int ssm_store_del(struct ssm_store *s, const char *key)
{
	struct ssm_result res;
	json_t *req;
	char *name;
	int rc;

	rc = check_key(s, key, false);
	if (rc)
		return rc;
	name = param_name(s, key);
	req = name ? json_pack("{s:s}", "Name", name) : NULL;
	free(name);
	if (!req)
		return EVPN_ERR_NOMEM;
	rc = ssm_call(s->c, "DeleteParameter", req, false, 0, &res);
	/* After an attempt that may have run, "not found" can be our own
	 * delete having succeeded. */
	if (rc == EVPN_ERR_NOTFOUND && res.ambiguous)
		rc = EVPN_OK;
	ssm_result_clear(&res);
	json_decref(req);
	return rc;
}

int ssm_store_del_many(struct ssm_store *s, const char *const *keys, size_t n)
{
	size_t i = 0;
	int rc = EVPN_OK;

	while (i < n && rc == EVPN_OK) {
		json_t *names = json_array(), *req;
		struct ssm_result res;

		if (!names)
			return EVPN_ERR_NOMEM;
		for (size_t k = 0; k < SSM_BATCH && i < n; k++, i++) {
			char *name;

			rc = check_key(s, keys[i], false);
			if (rc)
				break;
			name = param_name(s, keys[i]);
			if (!name ||
			    json_array_append_new(names, json_string(name))) {
				free(name);
				rc = EVPN_ERR_NOMEM;
				break;
			}
			free(name);
		}
		if (rc) {
			json_decref(names);
			break;
		}
		req = json_pack("{s:o}", "Names", names);
		if (!req)
			return EVPN_ERR_NOMEM;
		rc = ssm_call(s->c, "DeleteParameters", req, false, 0, &res);
		ssm_result_clear(&res);
		json_decref(req);
	}
	return rc;
}

int ssm_store_list(struct ssm_store *s, const char *prefix,
		   evpn_store_list_cb cb, void *arg)
{
	char *full = NULL, *path = NULL, *token = NULL, *slash;
	size_t plen = strlen(s->prefix) + 1, flen;
	int rc, pages = 0;

	rc = check_key(s, prefix, true);
	if (rc)
		return rc;
	if (asprintf(&full, "%s/%s", s->prefix, prefix) < 0)
		return EVPN_ERR_NOMEM;
	flen = strlen(full);
	/* GetParametersByPath works on hierarchy levels: ask for the level
	 * that contains the prefix and filter by the string prefix. */
	path = strdup(full);
	if (!path) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	if (!*path) {
		free(path);
		path = strdup("/");
		if (!path) {
			rc = EVPN_ERR_NOMEM;
			goto out;
		}
	}
	do {
		json_t *req, *params, *p, *nt;
		struct ssm_result res;
		size_t i;

		if (++pages > LIST_MAX_PAGES) {
			rc = EVPN_ERR_INTERNAL;
			goto out;
		}
		req = json_pack("{s:s, s:b, s:b, s:i}", "Path", path,
				"Recursive", 1, "WithDecryption", 1,
				"MaxResults", s->page_size);
		if (!req ||
		    (token && json_object_set_new(req, "NextToken",
						  json_string(token)))) {
			json_decref(req);
			rc = EVPN_ERR_NOMEM;
			goto out;
		}
		rc = ssm_call(s->c, "GetParametersByPath", req, false, 0, &res);
		json_decref(req);
		if (rc)
			goto out;
		params = json_object_get(res.body, "Parameters");
		json_array_foreach(params, i, p)
		{
			const char *n =
				json_string_value(json_object_get(p, "Name"));
			json_t *v = json_object_get(p, "Value");

			if (!n || !json_is_string(v) ||
			    strncmp(n, full, flen) || strlen(n) <= plen)
				continue;
			rc = cb(arg, n + plen, json_string_value(v),
				json_string_length(v));
			if (rc) {
				ssm_result_clear(&res);
				goto out;
			}
		}
		/* Pages may be empty while a NextToken follows: keep going
		 * until the token is absent. */
		nt = json_object_get(res.body, "NextToken");
		free(token);
		token = json_is_string(nt) && json_string_length(nt)
				? strdup(json_string_value(nt))
				: NULL;
		if (json_is_string(nt) && json_string_length(nt) && !token)
			rc = EVPN_ERR_NOMEM;
		ssm_result_clear(&res);
	} while (token && rc == EVPN_OK);
out:
	free(token);
	free(path);
	free(full);
	return rc;
}

int ssm_store_ping(struct ssm_store *s)
{
	struct ssm_result res;
	json_t *req;
	char *name = param_name(s, ".evpn-ping");
	int rc;

	req = name ? json_pack("{s:s}", "Name", name) : NULL;
	free(name);
	if (!req)
		return EVPN_ERR_NOMEM;
	/* Any authenticated answer proves the store works; "not found" is
	 * the usual one. Two quick attempts, no long backoff for /health. */
	rc = ssm_call(s->c, "GetParameter", req, false, SSM_CALL_ONCE, &res);
	if (rc == EVPN_ERR_UNAVAILABLE || rc == EVPN_ERR_AGAIN) {
		ssm_result_clear(&res);
		rc = ssm_call(s->c, "GetParameter", req, false, SSM_CALL_ONCE,
			      &res);
	}
	if (rc == EVPN_ERR_NOTFOUND)
		rc = EVPN_OK;
	ssm_result_clear(&res);
	json_decref(req);
	return rc;
}
