/* SPDX-License-Identifier: MIT */
#include "ssm.h"
#include "creds.h"
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

struct ssm_client {
	char *region;
	char *url;
	char *sigv4; /* libcurl's "aws:amz:REGION:ssm" */
	double connect_timeout, timeout, base_delay, max_delay;
	int max_attempts;
	struct ssm_creds_provider *creds;
	struct ssm_log log;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

const struct ssm_log *ssm_client_log(const struct ssm_client *c)
{
	return &c->log;
}

static bool region_ok(const char *r)
{
	if (!*r)
		return false;
	for (; *r; r++)
		if (!isalnum((unsigned char)*r) && *r != '-')
			return false;
	return true;
}

int ssm_client_new(const struct ssm_config *cfg, const struct ssm_log *log,
		   struct ssm_client **out)
{
	struct ssm_client *c;
	struct ssm_creds_cfg cc = {0};
	const char *region, *ep, *why = NULL;
	int rc = EVPN_ERR_NOMEM;

	*out = NULL;
	/* sodium_init is idempotent and thread-safe; the backoff jitter and
	 * the wiping need it even when no host called it. */
	if (sodium_init() < 0 || ssm_http_global_init())
		return EVPN_ERR_INTERNAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return EVPN_ERR_NOMEM;
	if (log)
		c->log = *log;
	region = cfg->region && *cfg->region ? cfg->region : NULL;
	if (!region)
		region = env("AWS_REGION");
	if (!region)
		region = env("AWS_DEFAULT_REGION");
	if (!region)
		region = "us-east-1";
	c->region = strdup(region);
	if (!c->region)
		goto fail;
	/* The SDKs' endpoint precedence: explicit config, then the
	 * service-specific variable, then the global one. Read here too
	 * because the config expander may not support nested ${}. */
	ep = cfg->endpoint && *cfg->endpoint ? cfg->endpoint : NULL;
	if (!ep)
		ep = env("AWS_ENDPOINT_URL_SSM");
	if (!ep)
		ep = env("AWS_ENDPOINT_URL");
	if (ep)
		c->url = strdup(ep);
	else if (asprintf(&c->url, "https://ssm.%s.amazonaws.com", c->region) <
		 0)
		c->url = NULL;
	if (!c->url)
		goto fail;
	rc = ssm_http_endpoint_check(c->url, &why);
	if (rc) {
		ssm_logf(&c->log, SSM_LOG_ERROR, "SSM endpoint \"%s\" %s",
			 c->url, why);
		goto fail;
	}
	if (!region_ok(c->region)) {
		/* ':' would split libcurl's SigV4 parameter; AWS regions are
		 * letters, digits and '-'. */
		ssm_logf(&c->log, SSM_LOG_ERROR,
			 "SSM region \"%s\" is invalid (letters, digits and "
			 "'-' only)",
			 c->region);
		rc = EVPN_ERR_CONFIG;
		goto fail;
	}
	rc = EVPN_ERR_NOMEM;
	if (asprintf(&c->sigv4, "aws:amz:%s:ssm", c->region) < 0) {
		c->sigv4 = NULL;
		goto fail;
	}
	c->connect_timeout =
		cfg->connect_timeout > 0 ? cfg->connect_timeout : 3;
	c->timeout = cfg->timeout > 0 ? cfg->timeout : 10;
	c->max_attempts = cfg->max_attempts > 0 ? cfg->max_attempts : 8;
	c->base_delay = cfg->retry_base_delay > 0 ? cfg->retry_base_delay : 0.1;
	c->max_delay = cfg->retry_max_delay > 0 ? cfg->retry_max_delay : 5;
	cc.container_endpoint = cfg->container_endpoint;
	cc.connect_timeout = 2;
	cc.timeout = 5;
	cc.refresh_margin = cfg->credentials_refresh_margin > 0
				    ? cfg->credentials_refresh_margin
				    : 300;
	cc.log = &c->log;
	rc = ssm_creds_provider_new(&cc, &c->creds);
	if (rc)
		goto fail;
	ssm_logf(&c->log, SSM_LOG_INFO, "SSM endpoint %s, region %s", c->url,
		 c->region);
	*out = c;
	return EVPN_OK;
fail:
	ssm_client_free(c);
	return rc;
}

void ssm_client_free(struct ssm_client *c)
{
	if (!c)
		return;
	ssm_creds_provider_free(c->creds);
	free(c->region);
	free(c->url);
	free(c->sigv4);
	free(c);
}

void ssm_result_clear(struct ssm_result *res)
{
	json_decref(res->body);
	memset(res, 0, sizeof(*res));
}

enum verdict {
	V_OK,
	V_RETRY,       /* not executed (throttled, never connected) */
	V_RETRY_AMBIG, /* may have been executed (5xx, lost reply) */
	V_EXPIRED,     /* credentials expired: refresh and retry */
	V_FATAL,
};

static bool is_one_of(const char *t, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(t, *list))
			return true;
	return false;
}

static const char *const throttle_types[] = {
	"ThrottlingException",
	"Throttling",
	"ThrottledException",
	"TooManyRequestsException",
	"RequestLimitExceeded",
	"TooManyUpdates",
	"RequestThrottledException",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"ProvisionedThroughputExceededException",
	NULL};
static const char *const expired_types[] = {
	"ExpiredTokenException", "ExpiredToken", "RequestExpired", NULL};
static const char *const auth_types[] = {
	"UnrecognizedClientException",	"InvalidSignatureException",
	"IncompleteSignatureException", "MissingAuthenticationTokenException",
	"InvalidClientTokenId",		"SignatureDoesNotMatch",
	"MissingAuthenticationToken",	NULL};

static enum verdict classify(const struct ssm_result *res)
{
	if (res->status == 200)
		return V_OK;
	if (is_one_of(res->type, throttle_types) || res->status == 429)
		return V_RETRY;
	if (is_one_of(res->type, expired_types))
		return V_EXPIRED;
	if (res->status >= 500 || !strcmp(res->type, "InternalServerError") ||
	    !strcmp(res->type, "ServiceUnavailable"))
		return V_RETRY_AMBIG;
	return V_FATAL;
}

/* Logs and maps a final AWS error. */
static int map_error(struct ssm_client *c, const char *op,
		     const struct ssm_result *res, const char *msg)
{
	const char *t = res->type;

	if (!strcmp(t, "ParameterNotFound"))
		return EVPN_ERR_NOTFOUND;
	if (!strcmp(t, "ParameterAlreadyExists"))
		return EVPN_ERR_EXISTS;
	if (!strcmp(t, "InvalidKeyId") || !strncmp(t, "KMS", 3) ||
	    (!strcmp(t, "AccessDeniedException") && msg &&
	     strstr(msg, "KMS"))) {
		ssm_logf(&c->log, SSM_LOG_ERROR,
			 "SSM %s: the KMS key cannot be used (%s: %s); check "
			 "kms_key_id and the role's kms:Encrypt/Decrypt "
			 "permission",
			 op, t, msg ? msg : "");
		return EVPN_ERR_CONFIG;
	}
	if (!strcmp(t, "AccessDeniedException")) {
		ssm_logf(&c->log, SSM_LOG_ERROR,
			 "SSM %s: access denied (%s); the role needs ssm:%s on "
			 "the prefix",
			 op, msg ? msg : "", op);
		return EVPN_ERR_PERM;
	}
	if (is_one_of(t, expired_types)) {
		ssm_logf(&c->log, SSM_LOG_ERROR,
			 "SSM %s: AWS credentials expired and could not be "
			 "refreshed",
			 op);
		return EVPN_ERR_PERM;
	}
	if (is_one_of(t, auth_types)) {
		/* The message of InvalidSignatureException echoes the
		 * canonical request: no secret, but noise; keep it at debug. */
		ssm_logf(&c->log, SSM_LOG_ERROR,
			 "SSM %s: AWS rejected the credentials or signature "
			 "(%s); check the access key, secret and clock",
			 op, t);
		ssm_logf(&c->log, SSM_LOG_DEBUG, "SSM %s: %s", op,
			 msg ? msg : "");
		return EVPN_ERR_PERM;
	}
	if (!strcmp(t, "ValidationException") ||
	    !strcmp(t, "SerializationException") ||
	    !strcmp(t, "HierarchyTypeMismatchException") ||
	    !strcmp(t, "UnsupportedParameterType")) {
		ssm_logf(&c->log, SSM_LOG_ERROR, "SSM %s: %s: %s", op, t,
			 msg ? msg : "");
		return EVPN_ERR_INVAL;
	}
	if (!strcmp(t, "ParameterLimitExceeded") ||
	    !strcmp(t, "HierarchyLevelLimitExceededException") ||
	    !strcmp(t, "ParameterMaxVersionLimitExceeded")) {
		ssm_logf(&c->log, SSM_LOG_ERROR, "SSM %s: %s: %s", op, t,
			 msg ? msg : "");
		return EVPN_ERR_FULL;
	}
	ssm_logf(&c->log, SSM_LOG_ERROR, "SSM %s: HTTP %ld %s: %s", op,
		 res->status, *t ? t : "(no error type)", msg ? msg : "");
	return EVPN_ERR_IO;
}

static void backoff(const struct ssm_client *c, int attempt)
{
	double cap = c->base_delay * ldexp(1.0, attempt > 30 ? 30 : attempt);
	struct timespec ts;
	uint32_t us;

	if (cap > c->max_delay)
		cap = c->max_delay;
	/* Full jitter (AWS Architecture Blog, "Exponential Backoff And
	 * Jitter"): uniform in [0, cap], which spreads a thundering herd of
	 * throttled instances best. */
	us = randombytes_uniform((uint32_t)(cap * 1e6) + 1);
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* "name: value", or "name:" (curl: drop that default header) when v is
 * NULL. */
static int add_header(struct curl_slist **h, const char *name, const char *v)
{
	struct curl_slist *n;
	char *line;

	if (asprintf(&line, "%s:%s%s", name, v ? " " : "", v ? v : "") < 0)
		return EVPN_ERR_NOMEM;
	n = curl_slist_append(*h, line);
	sodium_memzero(line, strlen(line));
	free(line);
	if (!n)
		return EVPN_ERR_NOMEM;
	*h = n;
	return EVPN_OK;
}

static void free_headers(struct curl_slist *h)
{
	/* The token line is a credential: wipe the list's copy. */
	for (struct curl_slist *i = h; i; i = i->next)
		sodium_memzero(i->data, strlen(i->data));
	curl_slist_free_all(h);
}

/* One signed exchange; fills res->status/type/body or returns the
 * transport error. libcurl signs it (CURLOPT_AWS_SIGV4) at the moment it
 * sends, with its own X-Amz-Date: Host (with the port), Content-Type,
 * X-Amz-Target and X-Amz-Security-Token are signed, as AWS requires. */
static int attempt_once(struct ssm_client *c, const char *op, const char *body,
			size_t len, const struct ssm_creds *cr,
			struct ssm_result *res, bool *ambiguous, char **msg)
{
	char target[96];
	struct curl_slist *h = NULL;
	struct ssm_http_req hreq = {0};
	struct ssm_http_resp hres;
	json_t *j;
	int rc;

	snprintf(target, sizeof(target), "AmazonSSM.%s", op);
	/* No "Expect:" line to suppress 100-continue: libcurl 7.88 signs that
	 * header-removal entry as "expect:" though it sends no such header,
	 * and the signature fails. curl sends Expect only for bodies over
	 * 1 MiB; SSM bodies are a few KiB. The User-Agent goes through
	 * CURLOPT_USERAGENT so it is not signed (proxies may rewrite it). */
	rc = add_header(&h, "Content-Type", "application/x-amz-json-1.1");
	if (!rc)
		rc = add_header(&h, "X-Amz-Target", target);
	if (!rc && cr->session_token)
		rc = add_header(&h, "X-Amz-Security-Token", cr->session_token);
	if (rc)
		goto out;
	if (c->log.fn) {
		size_t n = strlen(cr->access_key_id);

		ssm_logf(&c->log, SSM_LOG_DEBUG,
			 "SSM %s -> %s (%s creds, SigV4 by libcurl, key "
			 "%.*s***%s)",
			 op, c->url, cr->source, (int)(n < 4 ? n : 4),
			 cr->access_key_id,
			 cr->session_token
				 ? ", X-Amz-Security-Token: <redacted>"
				 : "");
	}
	hreq.method = "POST";
	hreq.url = c->url;
	hreq.headers = h;
	hreq.body = body;
	hreq.body_len = len;
	hreq.connect_timeout = c->connect_timeout;
	hreq.timeout = c->timeout;
	hreq.user_agent = "evpn-store-ssm/1";
	hreq.aws_sigv4 = c->sigv4;
	hreq.access_key_id = cr->access_key_id;
	hreq.secret_access_key = cr->secret_access_key;
	rc = ssm_http_do(&hreq, &hres);
	if (rc == EVPN_ERR_UNAVAILABLE) {
		*ambiguous = hres.ambiguous;
		ssm_logf(&c->log, SSM_LOG_WARN, "SSM %s: %s (%s)", op,
			 hres.error,
			 hres.ambiguous ? "may have been executed"
					: "not sent");
	}
	if (rc)
		goto out_resp;
	res->status = hres.status;
	j = json_loadb(hres.body, hres.len, 0, NULL);
	if (hres.status == 200) {
		if (!json_is_object(j)) {
			json_decref(j);
			ssm_logf(&c->log, SSM_LOG_WARN,
				 "SSM %s: HTTP 200 without a JSON object", op);
			res->status = 502; /* retried as a server fault */
			snprintf(res->type, sizeof(res->type), "%s",
				 "InternalServerError");
			goto out_resp;
		}
		res->body = j;
		goto out_resp;
	}
	if (j) {
		const char *t = json_string_value(json_object_get(j, "__type"));
		const char *m =
			json_string_value(json_object_get(j, "message"));

		if (!m)
			m = json_string_value(json_object_get(j, "Message"));
		if (t) {
			const char *hash = strrchr(t, '#');

			snprintf(res->type, sizeof(res->type), "%s",
				 hash ? hash + 1 : t);
		}
		if (m && msg)
			*msg = strndup(m, 300);
		json_decref(j);
	}
	ssm_logf(&c->log, SSM_LOG_DEBUG, "SSM %s <- HTTP %ld %s", op,
		 hres.status, res->type);
out_resp:
	ssm_http_resp_free(&hres);
out:
	free_headers(h);
	return rc;
}

int ssm_call(struct ssm_client *c, const char *op, json_t *req, bool secret,
	     unsigned flags, struct ssm_result *res)
{
	int max = (flags & SSM_CALL_ONCE) ? 1 : c->max_attempts;
	bool last_throttle = false;
	char *body, *msg = NULL;
	size_t len;
	int rc = EVPN_ERR_UNAVAILABLE, i, refreshed = 0;

	memset(res, 0, sizeof(*res));
	body = json_dumps(req, JSON_COMPACT);
	if (!body)
		return EVPN_ERR_NOMEM;
	len = strlen(body);
	for (i = 0; i < max; i++) {
		struct ssm_creds cr;
		bool ambiguous = false;
		enum verdict v;

		if (i)
			backoff(c, i - 1);
		free(msg);
		msg = NULL;
		json_decref(res->body);
		res->body = NULL;
		res->type[0] = '\0';
		res->status = 0;
		res->attempts = i + 1;
		rc = ssm_creds_get(c->creds, &cr);
		if (rc == EVPN_ERR_UNAVAILABLE)
			continue; /* credential endpoint down: back off */
		if (rc)
			break;
		rc = attempt_once(c, op, body, len, &cr, res, &ambiguous, &msg);
		if (rc == EVPN_ERR_UNAVAILABLE) {
			/* transport error */
			res->ambiguous |= ambiguous;
			last_throttle = false;
			ssm_creds_clear(&cr);
			continue;
		}
		if (rc) {
			ssm_creds_clear(&cr);
			break;
		}
		v = classify(res);
		if (v == V_EXPIRED && strcmp(cr.source, "env") &&
		    refreshed < 2) {
			ssm_logf(&c->log, SSM_LOG_INFO,
				 "SSM %s: %s credentials expired; refreshing",
				 op, cr.source);
			ssm_creds_invalidate(c->creds, cr.access_key_id);
			refreshed++;
			i--; /* a refresh is not a failed attempt */
			ssm_creds_clear(&cr);
			continue;
		}
		ssm_creds_clear(&cr);
		if (v == V_OK) {
			rc = EVPN_OK;
			goto out;
		}
		if (v == V_RETRY || v == V_RETRY_AMBIG) {
			res->ambiguous |= v == V_RETRY_AMBIG;
			last_throttle = v == V_RETRY;
			ssm_logf(&c->log, SSM_LOG_DEBUG,
				 "SSM %s: attempt %d: HTTP %ld %s; retrying",
				 op, i + 1, res->status, res->type);
			rc = EVPN_ERR_UNAVAILABLE;
			continue;
		}
		rc = map_error(c, op, res, msg);
		goto out;
	}
	if (rc == EVPN_ERR_UNAVAILABLE) {
		if (last_throttle)
			rc = EVPN_ERR_AGAIN;
		ssm_logf(&c->log, SSM_LOG_ERROR,
			 "SSM %s failed after %d attempt(s): %s%s%s", op,
			 res->attempts,
			 last_throttle ? "throttled" : "unreachable",
			 res->type[0] ? " " : "", res->type);
	}
out:
	free(msg);
	if (secret)
		sodium_memzero(body, len);
	free(body);
	return rc;
}
