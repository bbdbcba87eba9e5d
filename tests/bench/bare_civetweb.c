/* SPDX-License-Identifier: MIT */
/*
 * The reference server of scripts/bench-api: Debian's libcivetweb with one
 * begin_request handler and nothing else, configured like api:civetweb-rest
 * (same thread count, keep-alive off, same request limits). It serves fixed
 * bodies captured from evpnd with the same status line and header block as
 * plugins/api-civetweb-rest/http.c, so the difference wrk measures is our
 * routing, auth, users service and JSON work, not civetweb or the payload.
 *
 *   bare_civetweb THREADS HEALTH_BODY_FILE USER_BODY_FILE
 *
 * Listens on 127.0.0.1 (a free port), prints "listening on PORT" on stdout
 * and runs until SIGTERM/SIGINT. Built by scripts/bench-api with cc.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <civetweb.h>

struct body {
	char *data;
	size_t len;
};

static struct body health_body, user_body;

static int load(const char *path, struct body *b)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0)
		goto fail;
	b->data = malloc((size_t)n + 1);
	if (!b->data || fread(b->data, 1, (size_t)n, f) != (size_t)n)
		goto fail;
	b->len = (size_t)n;
	fclose(f);
	return 0;
fail:
	fclose(f);
	return -1;
}

/* The same bytes on the wire as api_send() for a 200 JSON response. */
static int send_body(struct mg_connection *conn, int status, const char *text,
		     const struct body *b)
{
	mg_printf(conn,
		  "HTTP/1.1 %d %s\r\n"
		  "Content-Type: %s\r\n"
		  "Content-Length: %zu\r\n"
		  "Cache-Control: no-store\r\n"
		  "X-Content-Type-Options: nosniff\r\n"
		  "Connection: close\r\n\r\n",
		  status, text, "application/json", b->len);
	if (b->len)
		mg_write(conn, b->data, b->len);
	return status;
}

static int on_begin_request(struct mg_connection *conn)
{
#define NOT_FOUND "{\"error\":\"no such route\",\"code\":\"not_found\"}"
	static const struct body not_found = {
		.data = NOT_FOUND,
		.len = sizeof(NOT_FOUND) - 1,
	};
	const struct mg_request_info *ri = mg_get_request_info(conn);

	if (ri && ri->local_uri && strcmp(ri->local_uri, "/health") == 0)
		return send_body(conn, 200, "OK", &health_body);
	if (ri && ri->local_uri && strncmp(ri->local_uri, "/users/", 7) == 0)
		return send_body(conn, 200, "OK", &user_body);
	return send_body(conn, 404, "Not Found", &not_found);
}

static int on_log_message(const struct mg_connection *conn, const char *msg)
{
	(void)conn;
	(void)msg;
	return 1; /* quiet, like the plugin */
}

int main(int argc, char **argv)
{
	struct mg_callbacks cb;
	struct mg_server_port ports[4];
	struct mg_context *ctx;
	const char *opts[] = {
		"listening_ports",
		"127.0.0.1:0",
		"num_threads",
		argc > 1 ? argv[1] : "8",
		"request_timeout_ms",
		"30000",
		"enable_keep_alive",
		"no",
		"max_request_size",
		"16384",
		"enable_directory_listing",
		"no",
		NULL,
	};
	sigset_t stop;
	int n, sig;

	if (argc != 4) {
		fprintf(stderr, "usage: %s THREADS HEALTH_BODY USER_BODY\n",
			argv[0]);
		return 2;
	}
	if (load(argv[2], &health_body) || load(argv[3], &user_body)) {
		perror("bare_civetweb: cannot read a body file");
		return 1;
	}
	/* Blocked before civetweb's threads exist, so they inherit the mask
	 * and the signal can only be taken by sigwait() below. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	memset(&cb, 0, sizeof(cb));
	cb.begin_request = on_begin_request;
	cb.log_message = on_log_message;
	mg_init_library(0);
	ctx = mg_start(&cb, NULL, opts);
	if (!ctx) {
		fprintf(stderr, "bare_civetweb: cannot start civetweb\n");
		return 1;
	}
	n = mg_get_server_ports(ctx, 4, ports);
	printf("listening on %d\n", n > 0 ? ports[0].port : 0);
	fflush(stdout);
	sigwait(&stop, &sig);
	mg_stop(ctx);
	mg_exit_library();
	free(health_body.data);
	free(user_body.data);
	return 0;
}
