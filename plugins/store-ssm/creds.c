/* SPDX-License-Identifier: MIT */
#include "creds.h"
#include "http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <sodium.h>

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_TOKEN_TTL "21600"
#define TOKEN_MAX 16384

struct ssm_creds_provider {
	pthread_mutex_t lock;
	struct ssm_creds cached; /* access_key_id == NULL: none */
	char *container_endpoint;
	double connect_timeout, timeout, refresh_margin;
	const struct ssm_log *log;
};

static void wipe_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

void ssm_creds_clear(struct ssm_creds *c)
{
	free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

static int creds_copy(struct ssm_creds *dst, const struct ssm_creds *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->access_key_id = strdup(src->access_key_id);
	dst->secret_access_key = strdup(src->secret_access_key);
	dst->session_token =
		src->session_token ? strdup(src->session_token) : NULL;
	dst->expiration = src->expiration;
	dst->source = src->source;
	if (!dst->access_key_id || !dst->secret_access_key ||
	    (src->session_token && !dst->session_token)) {
		ssm_creds_clear(dst);
		return EVPN_ERR_NOMEM;
	}
	return EVPN_OK;
}

time_t ssm_parse_iso8601(const char *s)
{
	struct tm tm = {0};
	int n = 0;

	if (!s ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
		   &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n < 19)
		return -1;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	if (strcmp(s, "Z") && strcmp(s, "+00:00"))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

int ssm_creds_provider_new(const struct ssm_creds_cfg *cfg,
			   struct ssm_creds_provider **out)
{
	struct ssm_creds_provider *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (!p)
		return EVPN_ERR_NOMEM;
	p->container_endpoint =
		strdup(cfg->container_endpoint && *cfg->container_endpoint
			       ? cfg->container_endpoint
			       : "http://169.254.170.2");
	if (!p->container_endpoint) {
		free(p);
		return EVPN_ERR_NOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->connect_timeout =
		cfg->connect_timeout > 0 ? cfg->connect_timeout : 2;
	p->timeout = cfg->timeout > 0 ? cfg->timeout : 5;
	p->refresh_margin =
		cfg->refresh_margin >= 0 ? cfg->refresh_margin : 300;
	p->log = cfg->log;
	*out = p;
	return EVPN_OK;
}

void ssm_creds_provider_free(struct ssm_creds_provider *p)
{
	if (!p)
		return;
	ssm_creds_clear(&p->cached);
	pthread_mutex_destroy(&p->lock);
	free(p->container_endpoint);
	free(p);
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static int from_env(struct ssm_creds *out)
{
	const char *ak = env("AWS_ACCESS_KEY_ID"),
		   *sk = env("AWS_SECRET_ACCESS_KEY"),
		   *tok = env("AWS_SESSION_TOKEN");
	struct ssm_creds c = {.access_key_id = (char *)ak,
			      .secret_access_key = (char *)sk,
			      .session_token = (char *)tok,
			      .source = "env"};

	if (!ak || !sk)
		return EVPN_ERR_NOTFOUND;
	return creds_copy(out, &c);
}

/* {"AccessKeyId","SecretAccessKey","Token","Expiration"} -> creds. */
static int parse_creds_json(const struct ssm_http_resp *r, const char *source,
			    struct ssm_creds *out, const struct ssm_log *log)
{
	json_t *j = json_loadb(r->body, r->len, 0, NULL);
	const char *ak, *sk, *tok, *exp, *code;
	struct ssm_creds c = {0};
	int rc = EVPN_ERR_UNAVAILABLE;

	if (!j) {
		ssm_logf(log, SSM_LOG_ERROR,
			 "%s credentials: response is not JSON", source);
		return rc;
	}
	code = json_string_value(json_object_get(j, "Code"));
	ak = json_string_value(json_object_get(j, "AccessKeyId"));
	sk = json_string_value(json_object_get(j, "SecretAccessKey"));
	tok = json_string_value(json_object_get(j, "Token"));
	exp = json_string_value(json_object_get(j, "Expiration"));
	if ((code && strcmp(code, "Success")) || !ak || !sk || !*ak || !*sk) {
		ssm_logf(log, SSM_LOG_ERROR,
			 "%s credentials: unusable response (Code %s)", source,
			 code ? code : "absent");
		goto out;
	}
	c.access_key_id = (char *)ak;
	c.secret_access_key = (char *)sk;
	c.session_token = tok && *tok ? (char *)tok : NULL;
	c.source = source;
	if (exp) {
		c.expiration = ssm_parse_iso8601(exp);
		if (c.expiration == (time_t)-1) {
			ssm_logf(log, SSM_LOG_ERROR,
				 "%s credentials: bad Expiration \"%s\"",
				 source, exp);
			goto out;
		}
	}
	rc = creds_copy(out, &c);
out:
	/* jansson copies are freed unwiped; the HTTP body is wiped. */
	json_decref(j);
	return rc;
}

static int http_get(struct ssm_creds_provider *p, const char *method,
		    const char *url, struct curl_slist *h,
		    struct ssm_http_resp *r)
{
	struct ssm_http_req req = {.method = method,
				   .url = url,
				   .headers = h,
				   .connect_timeout = p->connect_timeout,
				   .timeout = p->timeout};
	int rc = ssm_http_do(&req, r);

	if (rc == EVPN_ERR_UNAVAILABLE)
		ssm_logf(p->log, SSM_LOG_WARN, "credentials: %s %s: %s", method,
			 url, r->error);
	return rc;
}

/* The exact host of an http URL, as curl itself will connect to it: one
 * of the addresses the AWS SDKs trust over plain HTTP. */
static bool plain_http_host_allowed(const char *host)
{
	unsigned char a[16];
	char ip6[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return true; /* curl resolves it to loopback itself */
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127 ||
		       (a[0] == 169 && a[1] == 254 && a[2] == 170 &&
			(a[3] == 2 || a[3] == 23));
	if (n < 3 || n - 2 >= sizeof(ip6) || host[0] != '[' ||
	    host[n - 1] != ']')
		return false;
	memcpy(ip6, host + 1, n - 2);
	ip6[n - 2] = '\0';
	if (inet_pton(AF_INET6, ip6, a) != 1)
		return false;
	{
		static const unsigned char lo[16] = {[15] = 1};
		static const unsigned char eks[16] = {0xfd, 0x00, 0x0e,
						      0xc2, [15] = 0x23};

		return memcmp(a, lo, 16) == 0 || memcmp(a, eks, 16) == 0;
	}
}

bool ssm_creds_full_uri_allowed(const char *url)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL, *user = NULL, *pw = NULL,
	     *zone = NULL;
	bool ok = false;

	if (!url || !*url)
		return false;
	u = curl_url();
	if (!u)
		return false;
	/* curl's own parser: the host checked is the host curl connects to,
	 * not a prefix of the text (http://127.0.0.1.nip.io/ and
	 * http://127.0.0.1@evil/ are not loopback). */
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
		goto out;
	if (strcmp(scheme, "https") == 0) {
		ok = true;
		goto out;
	}
	if (strcmp(scheme, "http") != 0)
		goto out;
	/* userinfo or an IPv6 zone id: nothing the SDKs' agents use */
	if (curl_url_get(u, CURLUPART_USER, &user, 0) != CURLUE_NO_USER ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) != CURLUE_NO_PASSWORD ||
	    curl_url_get(u, CURLUPART_ZONEID, &zone, 0) != CURLUE_NO_ZONEID)
		goto out;
	ok = plain_http_host_allowed(host);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pw);
	curl_free(zone);
	curl_url_cleanup(u);
	return ok;
}

static char *read_token_file(const char *path, const struct ssm_log *log)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f) {
		ssm_logf(log, SSM_LOG_ERROR,
			 "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s: cannot "
			 "open",
			 path);
		return NULL;
	}
	buf = calloc(1, TOKEN_MAX + 1);
	if (buf) {
		n = fread(buf, 1, TOKEN_MAX, f);
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
	}
	fclose(f);
	return buf;
}

static int from_container(struct ssm_creds_provider *p, struct ssm_creds *out)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
		   *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
		   *tokfile = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"),
		   *tokenv = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	struct curl_slist *h = NULL, *nh;
	struct ssm_http_resp r;
	char *url = NULL, *tok = NULL, *hdr = NULL;
	int rc;

	if (rel) {
		if (asprintf(&url, "%s%s%s", p->container_endpoint,
			     rel[0] == '/' ? "" : "/", rel) < 0)
			return EVPN_ERR_NOMEM;
	} else if (full) {
		if (!ssm_creds_full_uri_allowed(full)) {
			ssm_logf(p->log, SSM_LOG_ERROR,
				 "AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
				 "https or a loopback/ECS agent address");
			return EVPN_ERR_CONFIG;
		}
		url = strdup(full);
		if (!url)
			return EVPN_ERR_NOMEM;
		if (tokfile)
			tok = read_token_file(tokfile, p->log);
		else if (tokenv)
			tok = strdup(tokenv);
		if ((tokfile || tokenv) && !tok) {
			rc = tokfile ? EVPN_ERR_CONFIG : EVPN_ERR_NOMEM;
			goto out;
		}
		if (tok && strpbrk(tok, "\r\n")) {
			ssm_logf(p->log, SSM_LOG_ERROR,
				 "container authorization token has a line "
				 "break");
			rc = EVPN_ERR_CONFIG;
			goto out;
		}
		if (tok) {
			if (asprintf(&hdr, "Authorization: %s", tok) < 0) {
				hdr = NULL;
				rc = EVPN_ERR_NOMEM;
				goto out;
			}
			nh = curl_slist_append(h, hdr);
			if (!nh) {
				rc = EVPN_ERR_NOMEM;
				goto out;
			}
			h = nh;
		}
	} else {
		return EVPN_ERR_NOTFOUND;
	}
	rc = http_get(p, "GET", url, h, &r);
	if (rc == EVPN_OK) {
		if (r.status == 200) {
			rc = parse_creds_json(&r, "container", out, p->log);
		} else {
			ssm_logf(p->log, SSM_LOG_ERROR,
				 "container credentials endpoint answered HTTP "
				 "%ld",
				 r.status);
			rc = r.status == 401 || r.status == 403
				     ? EVPN_ERR_PERM
				     : EVPN_ERR_UNAVAILABLE;
		}
	}
	ssm_http_resp_free(&r);
out:
	curl_slist_free_all(h);
	wipe_free(hdr);
	wipe_free(tok);
	free(url);
	return rc;
}

static int from_imds(struct ssm_creds_provider *p, struct ssm_creds *out)
{
	const char *dis = env("AWS_EC2_METADATA_DISABLED");
	const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct curl_slist *h = NULL;
	struct ssm_http_resp r = {0};
	char *url = NULL, *hdr = NULL, *role = NULL;
	size_t blen;
	int rc;

	if (dis && !strcasecmp(dis, "true"))
		return EVPN_ERR_NOTFOUND;
	if (!base)
		base = IMDS_DEFAULT;
	blen = strlen(base);
	while (blen && base[blen - 1] == '/')
		blen--;

	/* 1. session token (IMDSv2) */
	h = curl_slist_append(
		NULL, "X-aws-ec2-metadata-token-ttl-seconds: " IMDS_TOKEN_TTL);
	if (!h)
		return EVPN_ERR_NOMEM;
	if (asprintf(&url, "%.*s/latest/api/token", (int)blen, base) < 0) {
		url = NULL;
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	rc = http_get(p, "PUT", url, h, &r);
	if (rc == EVPN_ERR_UNAVAILABLE) {
		/* Not on EC2 (or IMDS off): no credentials from here. */
		rc = EVPN_ERR_NOTFOUND;
		goto out;
	}
	if (rc)
		goto out;
	if (r.status != 200 || !r.len || strpbrk(r.body, "\r\n")) {
		ssm_logf(p->log, SSM_LOG_ERROR,
			 "IMDSv2 token request: HTTP %ld", r.status);
		rc = EVPN_ERR_UNAVAILABLE;
		goto out;
	}
	curl_slist_free_all(h);
	h = NULL;
	if (asprintf(&hdr, "X-aws-ec2-metadata-token: %s", r.body) < 0) {
		hdr = NULL;
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	ssm_http_resp_free(&r);
	h = curl_slist_append(NULL, hdr);
	if (!h) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}

	/* 2. role name */
	free(url);
	if (asprintf(&url, "%.*s/latest/meta-data/iam/security-credentials/",
		     (int)blen, base) < 0) {
		url = NULL;
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	rc = http_get(p, "GET", url, h, &r);
	if (rc)
		goto out;
	if (r.status == 404) {
		ssm_logf(p->log, SSM_LOG_ERROR,
			 "IMDS: no IAM role attached to this instance");
		rc = EVPN_ERR_PERM;
		goto out;
	}
	if (r.status != 200 || !r.len) {
		ssm_logf(p->log, SSM_LOG_ERROR, "IMDS role lookup: HTTP %ld",
			 r.status);
		rc = EVPN_ERR_UNAVAILABLE;
		goto out;
	}
	role = strndup(r.body, strcspn(r.body, "\r\n"));
	ssm_http_resp_free(&r);
	if (!role) {
		rc = EVPN_ERR_NOMEM;
		goto out;
	}

	/* 3. the role's credentials */
	free(url);
	if (asprintf(&url, "%.*s/latest/meta-data/iam/security-credentials/%s",
		     (int)blen, base, role) < 0) {
		url = NULL;
		rc = EVPN_ERR_NOMEM;
		goto out;
	}
	rc = http_get(p, "GET", url, h, &r);
	if (rc)
		goto out;
	if (r.status != 200) {
		ssm_logf(p->log, SSM_LOG_ERROR, "IMDS credentials: HTTP %ld",
			 r.status);
		rc = EVPN_ERR_UNAVAILABLE;
		goto out;
	}
	rc = parse_creds_json(&r, "imds", out, p->log);
out:
	ssm_http_resp_free(&r);
	curl_slist_free_all(h);
	wipe_free(hdr);
	free(role);
	free(url);
	return rc;
}

static bool fresh(const struct ssm_creds_provider *p, const struct ssm_creds *c,
		  time_t now)
{
	return c->access_key_id &&
	       (!c->expiration || now + p->refresh_margin < c->expiration);
}

int ssm_creds_get(struct ssm_creds_provider *p, struct ssm_creds *out)
{
	struct ssm_creds n = {0};
	time_t now = time(NULL);
	int rc;

	memset(out, 0, sizeof(*out));
	rc = from_env(out);
	if (rc != EVPN_ERR_NOTFOUND)
		return rc;

	pthread_mutex_lock(&p->lock);
	if (fresh(p, &p->cached, now)) {
		rc = creds_copy(out, &p->cached);
		goto out;
	}
	rc = from_container(p, &n);
	if (rc == EVPN_ERR_NOTFOUND)
		rc = from_imds(p, &n);
	if (rc == EVPN_OK) {
		if (n.expiration && n.expiration <= now)
			ssm_logf(p->log, SSM_LOG_WARN,
				 "%s credentials are already expired",
				 n.source);
		ssm_logf(p->log, SSM_LOG_DEBUG,
			 "credentials from %s (key %.4s***), expire in %lds",
			 n.source, n.access_key_id,
			 n.expiration ? (long)(n.expiration - now) : -1L);
		ssm_creds_clear(&p->cached);
		p->cached = n;
		rc = creds_copy(out, &p->cached);
		goto out;
	}
	if (p->cached.access_key_id &&
	    (!p->cached.expiration || now < p->cached.expiration)) {
		/* Refresh failed but the old ones still work: use them, the
		 * next call tries again. */
		ssm_logf(p->log, SSM_LOG_WARN,
			 "credential refresh failed (%s); using cached %s "
			 "credentials until they expire",
			 evpn_strerror(rc), p->cached.source);
		rc = creds_copy(out, &p->cached);
		goto out;
	}
	if (rc == EVPN_ERR_NOTFOUND) {
		ssm_logf(p->log, SSM_LOG_ERROR,
			 "no AWS credentials: set "
			 "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run with "
			 "an ECS task role or an EC2 instance profile");
		rc = EVPN_ERR_PERM;
	}
out:
	pthread_mutex_unlock(&p->lock);
	return rc;
}

void ssm_creds_invalidate(struct ssm_creds_provider *p, const char *akid)
{
	pthread_mutex_lock(&p->lock);
	if (p->cached.access_key_id && akid &&
	    !strcmp(p->cached.access_key_id, akid))
		ssm_creds_clear(&p->cached);
	pthread_mutex_unlock(&p->lock);
}
