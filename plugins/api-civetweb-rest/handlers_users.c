/* SPDX-License-Identifier: MIT */
/*
 * /users routes. Handlers run on civetweb's workers, on a large stack
 * (bigstack.h), and reach the rest of evpn only through the (thread-safe)
 * users service.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "api_internal.h"
#include "rate.h"
#include "errmap.h"
#include "json_util.h"
#include "qr_png.h"
#include "validate.h"

static int forbid(struct api_req *r)
{
	return api_send_error(r, 403, API_CODE_FORBIDDEN,
			      "this key may not do that");
}

static bool is_admin(const struct api_req *r)
{
	return r->who.role == EVPN_ROLE_ADMIN;
}

/* Admin, or the user the record belongs to. A user asking for someone
 * else gets 403 whether or not that user exists: no enumeration. */
static bool may_read(const struct api_req *r, const char *id)
{
	return is_admin(r) ||
	       (r->who.role == EVPN_ROLE_USER && strcmp(r->who.user, id) == 0);
}

/* The common start of the admin routes with a JSON body (POST, PATCH):
 * 403, 415, 413 in that order, then the body (free it). */
static int admin_json_body(struct api_req *r, char **body, size_t *len)
{
	int rc;

	if (!is_admin(r))
		return forbid(r);
	rc = api_require_json(r);
	if (rc)
		return rc;
	return api_read_body(r, body, len);
}

static int no_users(struct api_req *r)
{
	return api_send_error(r, 503, API_CODE_UNAVAILABLE,
			      "users service unavailable");
}

static json_int_t clamp64(uint64_t v)
{
	return v > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)v;
}

static json_t *endpoint_json(const struct sockaddr_storage *ss)
{
	char ip[INET6_ADDRSTRLEN], text[INET6_ADDRSTRLEN + 10];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		if (!inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip)))
			return json_null();
		snprintf(text, sizeof(text), "%s:%u", ip, ntohs(s4->sin_port));
		return json_string(text);
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		if (!inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip)))
			return json_null();
		snprintf(text, sizeof(text), "[%s]:%u", ip,
			 ntohs(s6->sin6_port));
		return json_string(text);
	}
	return json_null();
}

/* "a/b, c/d" as ["a/b", "c/d"]. */
static json_t *allowed_json(const char *s)
{
	json_t *a = json_array();

	while (a && s && *s) {
		size_t n = strcspn(s, ", ");

		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s += n;
		s += strspn(s, ", ");
	}
	return a;
}

/* A user's quota state into its record: quota and used_bytes when it has
 * a quota, reason when the quota made it inactive. Returns j. */
static json_t *with_quota(json_t *j, const struct evpn_user_quota *q)
{
	if (!j || !q)
		return j;
	if (q->quota_bytes) {
		json_object_set_new(j, "quota",
				    json_integer(clamp64(q->quota_bytes)));
		json_object_set_new(j, "used_bytes",
				    json_integer(clamp64(q->used_bytes)));
	}
	if (q->reason[0])
		json_object_set_new(j, "reason", json_string(q->reason));
	return j;
}

/* The user's quota state; NULL when it cannot be read (best effort: the
 * record is what matters). */
static const struct evpn_user_quota *
quota_of(const struct evpn_users_ops *users, void *self, const char *id,
	 struct evpn_user_quota *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	return users->quota(self, id, q) == EVPN_OK ? q : NULL;
}

/* The rate limit in force into the record: rate_limit (bits per second)
 * when there is one, with rate_limit_default when it is users.rate_limit's
 * rather than the user's own. Resident in the service: no store read.
 * Returns j. */
static json_t *with_rate(json_t *j, const struct evpn_users_ops *users,
			 void *self, const char *id)
{
	uint64_t bps = 0;
	bool dflt = false;

	if (!j || !EVPN_HAS_FIELD(users, rate_limit) ||
	    users->rate_limit(self, id, &bps, &dflt) != EVPN_OK || !bps)
		return j;
	json_object_set_new(j, "rate_limit", json_integer(clamp64(bps)));
	if (dflt)
		json_object_set_new(j, "rate_limit_default", json_true());
	return j;
}

/* The user record, plus its split tunnel when `allowed` is given and live
 * peer state when `st` is. A status that is none (an unfilled record) has
 * no name, and json_pack fails on it: NULL, a 500, never a wrong status. */
static json_t *user_json(const struct evpn_user *u, const char *allowed,
			 const struct evpn_peer_stats *st)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s}", "client_id",
			      u->client_id, "status",
			      evpn_user_status_name(u->status), "created_at",
			      u->created_at, "address", u->address,
			      "public_key", u->public_key);

	if (!j)
		return NULL;
	if (u->expires_at[0])
		json_object_set_new(j, "expires_at",
				    json_string(u->expires_at));
	if (u->address6[0]) /* with network.pool6 */
		json_object_set_new(j, "address6", json_string(u->address6));
	if (allowed)
		json_object_set_new(j, "allowed_ips", allowed_json(allowed));
	if (st) {
		char ts[32];

		if (st->last_handshake_sec > 0) {
			api_rfc3339(st->last_handshake_sec, ts);
			json_object_set_new(j, "last_handshake",
					    json_string(ts));
		} else {
			json_object_set_new(j, "last_handshake", json_null());
		}
		json_object_set_new(j, "rx_bytes",
				    json_integer(clamp64(st->rx_bytes)));
		json_object_set_new(j, "tx_bytes",
				    json_integer(clamp64(st->tx_bytes)));
		json_object_set_new(j, "endpoint",
				    endpoint_json(&st->endpoint));
	}
	return j;
}

/*
 * The 201 body carries the API key and maybe a private key: those two are
 * spliced into a buffer we wipe, never into jansson strings (freed without
 * wiping).
 */
static int send_created(struct api_req *r, const struct evpn_user_created *c,
			const struct evpn_user_created_more *m, uint64_t quota,
			const char *base, const struct evpn_users_ops *users,
			void *self)
{
	struct evpn_user_quota q = {.size = sizeof(q), .quota_bytes = quota};
	json_t *j = with_rate(
		with_quota(user_json(&c->user, m->allowed_ips, NULL), &q),
		users, self, c->user.client_id);
	char *head = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	const char *config = c->config ? c->config : "";
	size_t hl, cap;
	char *buf = NULL;
	long n1, n2;
	int rc;

	json_decref(j);
	if (!head)
		goto oom;
	hl = strlen(head);
	if (hl < 2 || head[hl - 1] != '}')
		goto oom;
	cap = hl + api_json_quote_bound(c->api_key) +
	      api_json_quote_bound(config) + strlen(base) + 200;
	buf = malloc(cap);
	if (!buf)
		goto oom;
	memcpy(buf, head, hl - 1);
	memcpy(buf + hl - 1, ",\"api_key\":", 11);
	n1 = api_json_quote(c->api_key, buf + hl + 10, cap - hl - 10);
	if (n1 < 0)
		goto oom;
	memcpy(buf + hl + 10 + n1, ",\"config\":", 10);
	n2 = api_json_quote(config, buf + hl + 20 + n1, cap - hl - 20 - n1);
	if (n2 < 0 || hl + 20 + (size_t)n1 + (size_t)n2 + 2 > cap)
		goto oom;
	buf[hl + 20 + n1 + n2] = '\0';
	if (m->link.token[0]) /* hex and a checked URL: no quoting needed */
		snprintf(buf + hl + 20 + n1 + n2, cap - hl - 20 - n1 - n2,
			 ",\"link\":{\"url\":\"%s/links/%s\",\"expires_at\":"
			 "\"%s\"}",
			 base, m->link.token, m->link.expires_at);
	if (strlen(buf) + 2 > cap)
		goto oom;
	strcat(buf, "}");
	rc = api_send(r, 201, "application/json", buf, strlen(buf), NULL);
	sodium_memzero(buf, cap);
	free(buf);
	free(head);
	return rc;
oom:
	if (buf)
		sodium_memzero(buf, cap);
	free(buf);
	free(head);
	return api_send_error(r, 500, API_CODE_INTERNAL, "out of memory");
}

int api_users_create(struct api_req *r)
{
	struct api_create_req req;
	char base[300] = "";
	struct evpn_user_create cr;
	struct evpn_user_create_more more;
	struct evpn_user_created_more out_more;
	struct evpn_user_created out;
	struct evpn_users_error uerr;
	const struct evpn_users_ops *users;
	struct api_err perr;
	void *self;
	char *body = NULL;
	size_t len;
	int rc;

	rc = admin_json_body(r, &body, &len);
	if (rc)
		return rc;
	rc = api_parse_create(body, len, &req, &perr);
	free(body);
	if (!rc) {
		snprintf(r->audit_target, sizeof(r->audit_target), "%s",
			 req.client_id);
		snprintf(r->audit_detail, sizeof(r->audit_detail),
			 "%s%s%s%s%.120s",
			 req.has_public_key ? "public key given"
					    : "key pair generated",
			 req.ttl_seconds ? ", ttl" : "",
			 req.link_ttl_seconds ? ", link" : "",
			 req.has_allowed_ips ? ", allowed_ips " : "",
			 req.has_allowed_ips ? req.allowed_ips : "");
		if (req.has_rate_limit) {
			size_t n = strlen(r->audit_detail);
			char rate[32];

			rate_format(req.rate_limit_bps, rate, sizeof(rate));
			snprintf(r->audit_detail + n,
				 sizeof(r->audit_detail) - n, ", rate_limit %s",
				 rate);
		}
	}
	if (rc)
		return api_send_error(r, perr.status, perr.code, perr.message);
	users = api_users(r->api, &self);
	if (!users)
		return no_users(r);

	memset(&cr, 0, sizeof(cr));
	memset(&out, 0, sizeof(out));
	memset(&uerr, 0, sizeof(uerr));
	cr.client_id = req.client_id;
	cr.public_key = req.has_public_key ? req.public_key : NULL;
	cr.ttl_seconds = req.ttl_seconds;
	memset(&more, 0, sizeof(more));
	more.size = sizeof(more);
	more.allowed_ips = req.has_allowed_ips ? req.allowed_ips : NULL;
	more.link_ttl_seconds = req.link_ttl_seconds;
	more.quota_bytes = req.quota_bytes;
	more.set_rate_limit = req.has_rate_limit;
	more.rate_limit_bps = req.rate_limit_bps;
	memset(&out_more, 0, sizeof(out_more));
	out_more.size = sizeof(out_more);
	if (req.link_ttl_seconds && !api_base_url(r, base, sizeof(base)))
		return api_send_error(r, 400, API_CODE_INVALID_FIELD,
				      "no usable Host header to build the "
				      "link from; set the API's public_url");
	rc = users->create_more(self, &cr, &more, &out, &out_more, &uerr);
	if (rc != EVPN_OK && uerr.reason[0]) {
		/* a more specific code than the status's, e.g.
		 * "public_key_in_use" for a 409 */
		int status;
		const char *code;

		api_err_map(rc, &status, &code);
		return api_send_error(r, status, uerr.reason, uerr.message);
	}
	if (rc != EVPN_OK)
		return api_send_evpn_error(r, rc, uerr.message);
	rc = send_created(r, &out, &out_more, req.quota_bytes, base, users,
			  self);
	users->release(self, &out);
	sodium_memzero(&out, sizeof(out));
	sodium_memzero(&out_more.link, sizeof(out_more.link));
	return rc;
}

struct list_ctx {
	json_t *arr;
	int oom;
};

static int list_cb(void *arg, const struct evpn_user *u)
{
	struct list_ctx *l = arg;

	if (json_array_append_new(l->arr, json_string(u->client_id)))
		l->oom = 1;
	return 0;
}

int api_users_list(struct api_req *r)
{
	const struct evpn_users_ops *users;
	struct list_ctx l = {.arr = json_array()};
	void *self;
	int rc;

	if (!l.arr)
		return api_send_json(r, 500, NULL);
	if (!is_admin(r)) {
		/* A user key sees only its own name. */
		json_array_append_new(l.arr, json_string(r->who.user));
		return api_send_json(r, 200, l.arr);
	}
	users = api_users(r->api, &self);
	if (!users) {
		json_decref(l.arr);
		return no_users(r);
	}
	rc = users->list(self, list_cb, &l);
	if (rc == EVPN_OK && l.oom)
		rc = EVPN_ERR_NOMEM;
	if (rc != EVPN_OK) {
		json_decref(l.arr);
		return api_send_evpn_error(r, rc, "cannot list users");
	}
	return api_send_json(r, 200, l.arr);
}

int api_users_get(struct api_req *r)
{
	const struct evpn_users_ops *users;
	struct evpn_peer_stats st;
	struct evpn_user_quota q;
	struct evpn_user u;
	char allowed[EVPN_ALLOWED_IPS_MAX];
	const char *id = r->match.user;
	void *self;
	int rc;

	if (!may_read(r, id))
		return forbid(r);
	users = api_users(r->api, &self);
	if (!users)
		return no_users(r);
	memset(&u, 0, sizeof(u));
	rc = users->get(self, id, &u);
	if (rc != EVPN_OK)
		return api_send_evpn_error(
			r, rc, rc == EVPN_ERR_NOTFOUND ? "no such user" : NULL);
	memset(&st, 0, sizeof(st));
	st.size = sizeof(st);
	if (users->peer_stats(self, id, &st) != EVPN_OK) {
		/* Live state is best effort: the record is what matters. */
		memset(&st, 0, sizeof(st));
	}
	rc = users->allowed_ips(self, id, allowed);
	if (rc != EVPN_OK)
		return api_send_evpn_error(
			r, rc, rc == EVPN_ERR_NOTFOUND ? "no such user" : NULL);
	return api_send_json(
		r, 200,
		with_rate(with_quota(user_json(&u, allowed, &st),
				     quota_of(users, self, id, &q)),
			  users, self, id));
}

int api_users_config(struct api_req *r, bool png)
{
	const struct evpn_users_ops *users;
	const char *id = r->match.user;
	unsigned char *img = NULL;
	char *text = NULL;
	size_t len;
	void *self;
	int rc;

	if (!may_read(r, id))
		return forbid(r);
	users = api_users(r->api, &self);
	if (!users)
		return no_users(r);
	rc = users->render_config(self, id, &text);
	if (rc != EVPN_OK)
		return api_send_evpn_error(
			r, rc, rc == EVPN_ERR_NOTFOUND ? "no such user" : NULL);
	if (!png) {
		rc = api_send(r, 200, "text/plain; charset=utf-8", text,
			      strlen(text), NULL);
		free(text);
		return rc;
	}
	rc = api_qr_png(text, &img, &len);
	free(text);
	if (rc != EVPN_OK)
		return api_send_evpn_error(r, rc, "cannot draw the QR code");
	rc = api_send(r, 200, "image/png", img, len, NULL);
	free(img);
	return rc;
}

int api_users_patch(struct api_req *r)
{
	const struct evpn_users_ops *users;
	struct evpn_users_error uerr;
	struct evpn_user_update up;
	struct evpn_user_quota q;
	struct api_patch_req req;
	struct evpn_user u;
	struct api_err perr;
	char allowed[EVPN_ALLOWED_IPS_MAX];
	char *body = NULL;
	size_t len;
	void *self;
	int rc;

	rc = admin_json_body(r, &body, &len);
	if (rc)
		return rc;
	rc = api_parse_patch(body, len, &req, &perr);
	free(body);
	if (!rc)
		snprintf(r->audit_detail, sizeof(r->audit_detail),
			 "%s%s%s%.120s",
			 !req.has_status ? ""
			 : req.active	 ? "status active"
					 : "status inactive",
			 req.has_status && req.has_allowed_ips ? ", " : "",
			 req.has_allowed_ips ? "allowed_ips " : "",
			 req.has_allowed_ips ? req.allowed_ips : "");
	if (!rc && (req.has_quota || req.reset_usage)) {
		size_t n = strlen(r->audit_detail);

		snprintf(r->audit_detail + n, sizeof(r->audit_detail) - n,
			 "%s%s%llu%s", n ? ", " : "",
			 req.has_quota ? "quota " : "",
			 (unsigned long long)req.quota_bytes,
			 req.reset_usage ? ", usage reset" : "");
		if (!req.has_quota) /* no number without a quota */
			snprintf(r->audit_detail + n,
				 sizeof(r->audit_detail) - n, "%susage reset",
				 n ? ", " : "");
	}
	if (!rc && req.has_rate_limit) {
		size_t n = strlen(r->audit_detail);
		char rate[32] = "default";

		if (req.rate_limit_bps != EVPN_RATE_LIMIT_DEFAULT)
			rate_format(req.rate_limit_bps, rate, sizeof(rate));
		snprintf(r->audit_detail + n, sizeof(r->audit_detail) - n,
			 "%srate_limit %s", n ? ", " : "", rate);
	}
	if (rc)
		return api_send_error(r, perr.status, perr.code, perr.message);
	users = api_users(r->api, &self);
	if (!users)
		return no_users(r);
	memset(&u, 0, sizeof(u));
	memset(&uerr, 0, sizeof(uerr));
	memset(&up, 0, sizeof(up));
	up.size = sizeof(up);
	up.set_status = req.has_status;
	up.active = req.active;
	up.allowed_ips = req.has_allowed_ips ? req.allowed_ips : NULL;
	up.set_quota = req.has_quota;
	up.quota_bytes = req.quota_bytes;
	up.reset_usage = req.reset_usage;
	up.set_rate_limit = req.has_rate_limit;
	up.rate_limit_bps = req.rate_limit_bps;
	rc = users->update(self, r->match.user, &up, &u, &uerr);
	if (rc != EVPN_OK)
		return api_send_evpn_error(r, rc, uerr.message);
	return api_send_json(
		r, 200,
		with_rate(with_quota(user_json(&u,
					       users->allowed_ips(
						       self, r->match.user,
						       allowed) == EVPN_OK
						       ? allowed
						       : NULL,
					       NULL),
				     quota_of(users, self, r->match.user, &q)),
			  users, self, r->match.user));
}

int api_users_delete(struct api_req *r)
{
	const struct evpn_users_ops *users;
	struct evpn_users_error uerr;
	void *self;
	int rc;

	if (!is_admin(r))
		return forbid(r);
	users = api_users(r->api, &self);
	if (!users)
		return no_users(r);
	memset(&uerr, 0, sizeof(uerr));
	rc = users->remove(self, r->match.user, &uerr);
	if (rc != EVPN_OK)
		return api_send_evpn_error(r, rc, uerr.message);
	return api_send(r, 204, NULL, NULL, 0, NULL);
}
