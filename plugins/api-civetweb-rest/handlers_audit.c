/* SPDX-License-Identifier: MIT */
/*
 * The audit log on the API side: recording each change request with who
 * asked and from where (router.c calls api_audit_request after the
 * handler answered), and GET /audit, newest first, paged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_internal.h"
#include "errmap.h"

#define AUDIT_PAGE_DEFAULT 50
#define AUDIT_PAGE_MAX 500

void api_audit_request(struct api_req *r, const char *action, int status)
{
	const struct evpn_users_ops *users;
	struct evpn_audit_event ev;
	char actor[80];
	void *self;
	int rc;

	users = api_users(r->api, &self);
	if (!users)
		return;
	if (r->who.role == EVPN_ROLE_ADMIN)
		snprintf(actor, sizeof(actor), "master");
	else if (r->who.role == EVPN_ROLE_USER)
		snprintf(actor, sizeof(actor), "user:%s", r->who.user);
	else /* a link's GET: the token is the only credential */
		snprintf(actor, sizeof(actor), "link");
	memset(&ev, 0, sizeof(ev));
	ev.size = sizeof(ev);
	ev.action = action;
	ev.actor = actor;
	ev.source = r->ri->remote_addr;
	ev.target = r->match.user[0] ? r->match.user : r->audit_target;
	ev.status = status;
	ev.outcome = status >= 200 && status < 300 ? "ok"
		     : status == 401 || status == 403 || status == 410
			     ? "denied"
			     : "error";
	ev.detail = r->audit_detail[0] ? r->audit_detail : NULL;
	ev.time_ns = r->t_start_ns;
	/* a store failure is logged by the users service; the log line
	 * is written either way */
	rc = users->audit(self, &ev);
	(void)rc;
}

static json_t *entry_json(const struct evpn_audit_entry *e)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id",
			      e->id, "time", e->time, "action", e->action,
			      "actor", e->actor, "source", e->source, "target",
			      e->target, "outcome", e->outcome);

	if (!j)
		return NULL;
	if (e->status)
		json_object_set_new(j, "status", json_integer(e->status));
	if (e->detail[0])
		json_object_set_new(j, "detail", json_string(e->detail));
	return j;
}

static int list_cb(void *arg, const struct evpn_audit_entry *e)
{
	json_t *arr = arg, *j = entry_json(e);

	if (!j || json_array_append_new(arr, j) != 0)
		return 1;
	return 0;
}

/* GET /audit?limit=N&after=CURSOR (admin). */
int api_audit_list(struct api_req *r)
{
	const struct evpn_users_ops *users;
	const char *qs = r->ri->query_string;
	char lim[16] = "", after[64] = "", next[48];
	json_t *arr, *out;
	long limit = AUDIT_PAGE_DEFAULT;
	void *self;
	char *end;
	int rc;

	if (r->who.role != EVPN_ROLE_ADMIN)
		return api_send_error(r, 403, API_CODE_FORBIDDEN,
				      "this key may not do that");
	if (qs) {
		size_t n = strlen(qs);

		if (mg_get_var(qs, n, "limit", lim, sizeof(lim)) == -2 ||
		    mg_get_var(qs, n, "after", after, sizeof(after)) == -2)
			return api_send_error(r, 400, API_CODE_INVALID_FIELD,
					      "query parameter too long");
	}
	if (lim[0]) {
		limit = strtol(lim, &end, 10);
		if (*end || limit < 1 || limit > AUDIT_PAGE_MAX)
			return api_send_error(r, 400, API_CODE_INVALID_FIELD,
					      "limit must be 1-500");
	}
	users = api_users(r->api, &self);
	if (!users)
		return api_send_error(r, 503, API_CODE_UNAVAILABLE,
				      "users service unavailable");
	arr = json_array();
	if (!arr)
		return api_send_json(r, 500, NULL);
	rc = users->audit_list(self, after, (unsigned)limit, list_cb, arr,
			       next);
	if (rc == EVPN_ERR_INVAL) {
		json_decref(arr);
		return api_send_error(r, 400, API_CODE_INVALID_FIELD,
				      "after must be the next value of a "
				      "previous page");
	}
	if (rc != EVPN_OK) {
		json_decref(arr);
		return api_send_evpn_error(r, rc, "cannot read the audit log");
	}
	out = json_pack("{s:o, s:o}", "entries", arr, "next",
			next[0] ? json_string(next) : json_null());
	return api_send_json(r, 200, out);
}
