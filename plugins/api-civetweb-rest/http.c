/* SPDX-License-Identifier: MIT */
/*
 * HTTP plumbing: writing responses and reading bounded request bodies.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_internal.h"
#include "bigstack.h"
#include "errmap.h"
#include "validate.h"

int api_send(struct api_req *r, int status, const char *content_type,
	     const void *body, size_t len, const char *extra_headers)
{
	/* A change is in the audit log before its answer leaves: a client
	 * (or a crash) can never see a change the log has not got. */
	if (r->audit_action && !r->audited) {
		r->audited = true;
		api_audit_request(r, r->audit_action, status);
	}
	/* Every response closes the connection (keep-alive is off): an
	 * unread request body can then never be mistaken for a request. */
	if (status == 204) {
		mg_printf(r->conn,
			  "HTTP/1.1 204 No Content\r\n"
			  "Cache-Control: no-store\r\n"
			  "Connection: close\r\n%s\r\n",
			  extra_headers ? extra_headers : "");
		return status;
	}
	mg_printf(r->conn,
		  "HTTP/1.1 %d %s\r\n"
		  "Content-Type: %s\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n"
		  "X-Content-Type-Options: nosniff\r\n"
		  "Connection: close\r\n%s\r\n",
		  status, api_status_text(status), content_type, len,
		  extra_headers ? extra_headers : "");
	if (len)
		mg_write(r->conn, body, len);
	return status;
}

int api_send_json(struct api_req *r, int status, void *json)
{
	json_t *j = json;
	char *text;
	int rc;

	if (!j)
		return api_send_error(r, 500, API_CODE_INTERNAL,
				      "out of memory");
	text = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(j);
	if (!text)
		return api_send_error(r, 500, API_CODE_INTERNAL,
				      "out of memory");
	rc = api_send(r, status, "application/json", text, strlen(text), NULL);
	free(text);
	return rc;
}

int api_send_error_hdr(struct api_req *r, int status, const char *code,
		       const char *message, const char *extra_headers)
{
	json_t *j = json_pack("{s:s, s:s}", "error", message, "code", code);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	int rc;

	json_decref(j);
	if (!text) {
		static const char oom[] =
			"{\"error\":\"out of memory\",\"code\":\"internal\"}";

		return api_send(r, status, "application/json", oom,
				sizeof(oom) - 1, extra_headers);
	}
	rc = api_send(r, status, "application/json", text, strlen(text),
		      extra_headers);
	free(text);
	return rc;
}

int api_send_error(struct api_req *r, int status, const char *code,
		   const char *message)
{
	return api_send_error_hdr(r, status, code, message, NULL);
}

int api_send_evpn_error(struct api_req *r, int evpn_err, const char *message)
{
	const char *code;
	int status;

	api_err_map(evpn_err, &status, &code);
	if (status == 500)
		evpn_warn(r->api->host, "%s %s: %s", r->ri->request_method,
			  api_route_log_path(r->ri->local_uri),
			  evpn_strerror(evpn_err));
	if (!message || !*message)
		message = evpn_strerror(evpn_err);
	return api_send_error(r, status, code, message);
}

int api_require_json(struct api_req *r)
{
	if (api_content_type_is_json(mg_get_header(r->conn, "Content-Type")))
		return 0;
	return api_send_error(r, 415, API_CODE_MEDIA_TYPE,
			      "Content-Type must be application/json");
}

int api_read_body(struct api_req *r, char **body, size_t *len)
{
	uint64_t max = r->api->max_body;
	long long cl = r->ri->content_length;
	char msg[96];
	size_t cap, n = 0;
	char *buf;

	*body = NULL;
	*len = 0;
	/* Bodies are parsed (jansson recurses): never on a worker's own
	 * 100 KiB stack. server.c runs every request on a large one; this
	 * keeps a future shortcut from silently bringing the crash back. */
	if (!api_stack_active()) {
		evpn_error(r->api->host,
			   "%s %s: request body read off the "
			   "handler stack: refused",
			   r->ri->request_method,
			   api_route_log_path(r->ri->local_uri));
		return api_send_error(r, 500, API_CODE_INTERNAL,
				      "request not run on a handler stack");
	}
	snprintf(msg, sizeof(msg), "request body is larger than %llu bytes",
		 (unsigned long long)max);
	/* Refuse by the announced length before reading anything. */
	if (cl > 0 && (uint64_t)cl > max)
		return api_send_error(r, 413, API_CODE_TOO_LARGE, msg);

	/* Chunked or unannounced bodies are counted while read: at most
	 * max + 1 bytes are ever buffered. */
	cap = cl >= 0 ? (size_t)cl + 1 : (size_t)max + 2;
	buf = malloc(cap);
	if (!buf)
		return api_send_error(r, 500, API_CODE_INTERNAL,
				      "out of memory");
	for (;;) {
		int got;

		if (n + 1 >= cap) {
			if (cl >= 0)
				break; /* read what was announced */
			free(buf);
			return api_send_error(r, 413, API_CODE_TOO_LARGE, msg);
		}
		got = mg_read(r->conn, buf + n, cap - 1 - n);
		if (got < 0) {
			free(buf);
			return api_send_error(r, 400, API_CODE_INVALID_JSON,
					      "could not read request body");
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	if (n > max) {
		free(buf);
		return api_send_error(r, 413, API_CODE_TOO_LARGE, msg);
	}
	buf[n] = '\0';
	*body = buf;
	*len = n;
	return 0;
}

const struct evpn_users_ops *api_users(struct api *a, void **self)
{
	struct evpn_ref ref;

	*self = NULL;
	if (a->host->get_service(a->host, EVPN_SERVICE_USERS, &ref) !=
		    EVPN_OK ||
	    !ref.vtable)
		return NULL;
	*self = ref.self;
	return ref.vtable;
}
