/* SPDX-License-Identifier: MIT */
/*
 * AWS Signature Version 4. See sigv4.h for the contract; the steps follow
 * the AWS "Create a canonical request / string to sign / signature" pages,
 * and the path and query rules follow botocore (the reference the test
 * server checks us against).
 */
#include "sigv4.h"
#include "sbuf.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

static bool is_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static void uri_encode(struct sbuf *b, const char *s, size_t n, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (is_unreserved(c) || (keep_slash && c == '/')) {
			sbuf_addc(b, (char)c);
		} else {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};

			sbuf_addn(b, e, 3);
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into a fresh buffer. A '%' not followed by two
 * hex digits is kept literally (it will be re-encoded as %25). */
static char *pct_decode(const char *s, size_t n, size_t *out_len)
{
	char *o = malloc(n + 1);
	size_t i, j = 0;

	if (!o)
		return NULL;
	for (i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			o[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
	*out_len = j;
	return o;
}

static void sha256_hex(struct sbuf *b, const void *p, size_t n)
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, p, n);
	sbuf_addhex(b, h, sizeof(h));
}

/* RFC 3986 5.2.4 plus collapsing of empty segments, as AWS wants. */
static void canonical_path(struct sbuf *b, const char *path)
{
	size_t n = strlen(path), i, nseg = 0;
	const char **seg;
	size_t *seglen;
	struct sbuf tmp;
	char *norm;

	if (n == 0) {
		sbuf_addc(b, '/');
		return;
	}
	seg = calloc(n + 1, sizeof(*seg));
	seglen = calloc(n + 1, sizeof(*seglen));
	if (!seg || !seglen) {
		b->oom = true;
		goto out;
	}
	for (i = 0; i < n;) {
		size_t j = i;

		while (j < n && path[j] != '/')
			j++;
		if (j > i && !(j - i == 1 && path[i] == '.')) {
			if (j - i == 2 && path[i] == '.' &&
			    path[i + 1] == '.') {
				if (nseg)
					nseg--;
			} else {
				seg[nseg] = path + i;
				seglen[nseg++] = j - i;
			}
		}
		i = j + 1;
	}
	sbuf_init(&tmp);
	if (path[0] == '/')
		sbuf_addc(&tmp, '/');
	for (i = 0; i < nseg; i++) {
		if (i)
			sbuf_addc(&tmp, '/');
		sbuf_addn(&tmp, seg[i], seglen[i]);
	}
	if (path[n - 1] == '/' && nseg)
		sbuf_addc(&tmp, '/');
	norm = sbuf_finish(&tmp);
	if (!norm) {
		b->oom = true;
		goto out;
	}
	/* The wire path is already encoded once; encoding it again is what
	 * every service but S3 expects ("encode each segment twice"). */
	uri_encode(b, norm, strlen(norm), true);
	free(norm);
out:
	free(seg);
	free(seglen);
}

struct qpair {
	char *k, *v;
};

static int qpair_cmp(const void *a, const void *b)
{
	const struct qpair *x = a, *y = b;
	int c = strcmp(x->k, y->k);

	return c ? c : strcmp(x->v, y->v);
}

static char *reencode(const char *s, size_t n)
{
	struct sbuf b;
	size_t dlen;
	char *d = pct_decode(s, n, &dlen);

	if (!d)
		return NULL;
	sbuf_init(&b);
	uri_encode(&b, d, dlen, false);
	free(d);
	return sbuf_finish(&b);
}

static int canonical_query(struct sbuf *b, const char *q)
{
	struct qpair *pairs;
	size_t n = 1, np = 0, i;
	const char *p;
	int rc = EVPN_ERR_NOMEM;

	if (!q || !*q)
		return EVPN_OK;
	for (p = q; *p; p++)
		n += *p == '&';
	pairs = calloc(n, sizeof(*pairs));
	if (!pairs)
		return EVPN_ERR_NOMEM;
	for (p = q; *p;) {
		const char *end = strchr(p, '&'), *eq;
		size_t len;

		if (!end)
			end = p + strlen(p);
		len = (size_t)(end - p);
		if (len) {
			eq = memchr(p, '=', len);
			pairs[np].k = reencode(p, eq ? (size_t)(eq - p) : len);
			pairs[np].v =
				eq ? reencode(eq + 1, (size_t)(end - eq - 1))
				   : strdup("");
			if (!pairs[np].k || !pairs[np].v) {
				np++;
				goto out;
			}
			np++;
		}
		p = *end ? end + 1 : end;
	}
	qsort(pairs, np, sizeof(*pairs), qpair_cmp);
	for (i = 0; i < np; i++) {
		if (i)
			sbuf_addc(b, '&');
		sbuf_add(b, pairs[i].k);
		sbuf_addc(b, '=');
		sbuf_add(b, pairs[i].v);
	}
	rc = EVPN_OK;
out:
	for (i = 0; i < np; i++) {
		free(pairs[i].k);
		free(pairs[i].v);
	}
	free(pairs);
	return rc;
}

struct hdr {
	char *name;  /* lower case, trimmed */
	char *value; /* trimmed, inner whitespace runs collapsed */
	size_t idx;  /* original position: duplicates keep their order */
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static char *lower_trim(const char *s)
{
	size_t n;
	char *o;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	o = strndup(s, n);
	if (o)
		for (size_t i = 0; i < n; i++)
			o[i] = (char)tolower((unsigned char)o[i]);
	return o;
}

/* Trimall: strip, and turn every run of whitespace into one space (the
 * suite's get-header-value-trim does this inside quotes too). */
static char *trimall(const char *s)
{
	struct sbuf b;
	bool space = false;

	sbuf_init(&b);
	while (isspace((unsigned char)*s))
		s++;
	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			space = true;
			continue;
		}
		if (space)
			sbuf_addc(&b, ' ');
		space = false;
		sbuf_addc(&b, *s);
	}
	return sbuf_finish(&b);
}

static int canonical_headers(struct sbuf *b, struct sbuf *signed_hdrs,
			     const struct evpn_sigv4_header *h, size_t n)
{
	struct hdr *v;
	size_t i;
	int rc = EVPN_ERR_NOMEM;

	if (n == 0)
		return EVPN_ERR_INVAL;
	v = calloc(n, sizeof(*v));
	if (!v)
		return EVPN_ERR_NOMEM;
	for (i = 0; i < n; i++) {
		if (!h[i].name || !h[i].value) {
			rc = EVPN_ERR_INVAL;
			goto out;
		}
		v[i].name = lower_trim(h[i].name);
		v[i].value = trimall(h[i].value);
		v[i].idx = i;
		if (!v[i].name || !v[i].value)
			goto out;
		if (!*v[i].name || strpbrk(v[i].name, ":\r\n") ||
		    strpbrk(v[i].value, "\r\n")) {
			rc = EVPN_ERR_INVAL;
			goto out;
		}
	}
	qsort(v, n, sizeof(*v), hdr_cmp);
	for (i = 0; i < n; i++) {
		if (i && !strcmp(v[i].name, v[i - 1].name)) {
			/* Repeated header: values joined by ',' in the order
			 * they appeared (get-header-key-duplicate). */
			sbuf_addc(b, ',');
			sbuf_add(b, v[i].value);
			continue;
		}
		if (i) {
			sbuf_addc(b, '\n');
			sbuf_addc(signed_hdrs, ';');
		}
		sbuf_add(b, v[i].name);
		sbuf_addc(b, ':');
		sbuf_add(b, v[i].value);
		sbuf_add(signed_hdrs, v[i].name);
	}
	sbuf_addc(b, '\n');
	rc = EVPN_OK;
out:
	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].value);
	}
	free(v);
	return rc;
}

void evpn_sigv4_amz_date(time_t t, char out[EVPN_SIGV4_DATE_LEN + 1])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, EVPN_SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm);
}

int evpn_sigv4_canonical_request(const struct evpn_sigv4_request *req,
				 char **creq, char **signed_headers)
{
	struct sbuf b, sh;
	char *shs;
	int rc;

	*creq = NULL;
	if (signed_headers)
		*signed_headers = NULL;
	if (!req->method || !*req->method || !req->path ||
	    (req->body_len && !req->body))
		return EVPN_ERR_INVAL;
	sbuf_init(&b);
	sbuf_init(&sh);
	for (const char *m = req->method; *m; m++)
		sbuf_addc(&b, (char)toupper((unsigned char)*m));
	sbuf_addc(&b, '\n');
	canonical_path(&b, req->path);
	sbuf_addc(&b, '\n');
	rc = canonical_query(&b, req->query);
	if (rc)
		goto fail;
	sbuf_addc(&b, '\n');
	rc = canonical_headers(&b, &sh, req->headers, req->n_headers);
	if (rc)
		goto fail;
	sbuf_addc(&b, '\n');
	sbuf_addn(&b, sh.p ? sh.p : "", sh.len);
	sbuf_addc(&b, '\n');
	sha256_hex(&b, req->body_len ? req->body : "", req->body_len);
	shs = sbuf_finish(&sh);
	*creq = sbuf_finish(&b);
	if (!*creq || !shs) {
		free(*creq);
		free(shs);
		*creq = NULL;
		return EVPN_ERR_NOMEM;
	}
	if (signed_headers)
		*signed_headers = shs;
	else
		free(shs);
	return EVPN_OK;
fail:
	sbuf_wipe(&b);
	sbuf_wipe(&sh);
	return rc;
}

int evpn_sigv4_string_to_sign(const char *amz_date, const char *scope,
			      const char *creq, char **sts)
{
	struct sbuf b;

	sbuf_init(&b);
	sbuf_add(&b, EVPN_SIGV4_ALGORITHM "\n");
	sbuf_add(&b, amz_date);
	sbuf_addc(&b, '\n');
	sbuf_add(&b, scope);
	sbuf_addc(&b, '\n');
	sha256_hex(&b, creq, strlen(creq));
	*sts = sbuf_finish(&b);
	return *sts ? EVPN_OK : EVPN_ERR_NOMEM;
}

static void hmac(uint8_t out[32], const void *key, size_t keylen,
		 const char *msg)
{
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, key, keylen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg,
				      strlen(msg));
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
}

int evpn_sigv4_signing_key(uint8_t key[32], const char *secret,
			   const char *date8, const char *region,
			   const char *service)
{
	size_t slen = strlen(secret);
	uint8_t k[32];
	char *ksecret;

	ksecret = malloc(slen + 5);
	if (!ksecret)
		return EVPN_ERR_NOMEM;
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen + 1);
	hmac(k, ksecret, slen + 4, date8);
	sodium_memzero(ksecret, slen + 5);
	free(ksecret);
	hmac(key, k, 32, region);
	hmac(k, key, 32, service);
	hmac(key, k, 32, "aws4_request");
	sodium_memzero(k, sizeof(k));
	return EVPN_OK;
}

int evpn_sigv4_authorization(const struct evpn_sigv4_request *req,
			     const struct evpn_sigv4_creds *creds,
			     const char *region, const char *service,
			     const char *amz_date, char **authz,
			     char **creq_out, char **sts_out)
{
	char *creq = NULL, *sh = NULL, *sts = NULL, *scope = NULL;
	char date8[9];
	uint8_t key[32], sig[32];
	struct sbuf b;
	int rc;

	*authz = NULL;
	if (!creds || !creds->access_key_id || !creds->secret_access_key ||
	    !region || !service || !amz_date ||
	    strlen(amz_date) != EVPN_SIGV4_DATE_LEN)
		return EVPN_ERR_INVAL;
	memcpy(date8, amz_date, 8);
	date8[8] = '\0';

	rc = evpn_sigv4_canonical_request(req, &creq, &sh);
	if (rc)
		goto out;
	sbuf_init(&b);
	sbuf_addf(&b, "%s/%s/%s/aws4_request", date8, region, service);
	scope = sbuf_finish(&b);
	rc = EVPN_ERR_NOMEM;
	if (!scope)
		goto out;
	rc = evpn_sigv4_string_to_sign(amz_date, scope, creq, &sts);
	if (rc)
		goto out;
	rc = evpn_sigv4_signing_key(key, creds->secret_access_key, date8,
				    region, service);
	if (rc)
		goto out;
	hmac(sig, key, sizeof(key), sts);
	sodium_memzero(key, sizeof(key));

	sbuf_init(&b);
	sbuf_addf(&b,
		  EVPN_SIGV4_ALGORITHM
		  " Credential=%s/%s, SignedHeaders=%s, Signature=",
		  creds->access_key_id, scope, sh);
	sbuf_addhex(&b, sig, sizeof(sig));
	*authz = sbuf_finish(&b);
	rc = *authz ? EVPN_OK : EVPN_ERR_NOMEM;
	if (rc == EVPN_OK && creq_out) {
		*creq_out = creq;
		creq = NULL;
	}
	if (rc == EVPN_OK && sts_out) {
		*sts_out = sts;
		sts = NULL;
	}
out:
	free(creq);
	free(sh);
	free(sts);
	free(scope);
	return rc;
}

char *evpn_sigv4_redact(const char *authz)
{
	struct sbuf b;
	const char *p = authz, *q;

	sbuf_init(&b);
	if (!authz)
		return NULL;
	/* Credential=AKID...: keep 4 characters of the key id; the
	 * Signature: drop entirely (with the date it is a one-request
	 * credential). */
	while (*p) {
		if (!strncmp(p, "Credential=", 11)) {
			sbuf_add(&b, "Credential=");
			p += 11;
			for (q = p; *q && *q != '/'; q++)
				;
			sbuf_addn(&b, p,
				  (size_t)(q - p) < 4 ? (size_t)(q - p) : 4);
			sbuf_add(&b, "***");
			p = q;
		} else if (!strncmp(p, "Signature=", 10)) {
			sbuf_add(&b, "Signature=<redacted>");
			p += 10;
			while (*p && *p != ',' && *p != ' ')
				p++;
		} else {
			sbuf_addc(&b, *p++);
		}
	}
	return sbuf_finish(&b);
}
