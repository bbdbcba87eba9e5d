/* SPDX-License-Identifier: MIT */
#include "route.h"

#include <string.h>

#include "validate.h"

/* /console/{file}: a plain name of [a-z0-9.-], no leading dot, so no
 * path can climb out or name a hidden file (the files are embedded anyway,
 * this only keeps the route table honest). */
static bool console_file(const char *name, struct api_match *m)
{
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(m->file) || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-'))
			return false;
	}
	memcpy(m->file, name, n + 1);
	m->route = API_R_CONSOLE;
	return true;
}

bool api_route_match(const char *path, struct api_match *m)
{
	static const char users[] = "/users/";
	static const char console[] = "/console/";
	const char *id, *slash;
	size_t n;

	memset(m, 0, sizeof(*m));
	if (!path)
		return false;
	if (strcmp(path, "/health") == 0)
		m->route = API_R_HEALTH;
	else if (strcmp(path, "/users") == 0)
		m->route = API_R_USERS;
	else if (strcmp(path, "/metrics") == 0)
		m->route = API_R_METRICS;
	else if (strcmp(path, "/openapi.json") == 0)
		m->route = API_R_OPENAPI;
	else if (strcmp(path, "/audit") == 0)
		m->route = API_R_AUDIT;
	else if (strcmp(path, "/") == 0)
		return console_file("index.html", m);
	if (m->route != API_R_NONE)
		return true;
	if (strncmp(path, "/links/", 7) == 0) {
		const char *t = path + 7;

		if (strlen(t) != 64 || strspn(t, "0123456789abcdef") != 64)
			return false;
		memcpy(m->token, t, 65);
		m->route = API_R_LINK;
		return true;
	}
	if (strncmp(path, console, sizeof(console) - 1) == 0) {
		if (console_file(path + sizeof(console) - 1, m))
			return true;
		memset(m, 0, sizeof(*m));
		return false;
	}
	if (strncmp(path, users, sizeof(users) - 1) != 0)
		return false;

	id = path + sizeof(users) - 1;
	slash = strchr(id, '/');
	n = slash ? (size_t)(slash - id) : strlen(id);
	if (n == 0 || n >= sizeof(m->user))
		return false;
	memcpy(m->user, id, n);
	m->user[n] = '\0';
	if (!api_client_id_valid(m->user))
		goto none;
	if (!slash)
		m->route = API_R_USER;
	else if (strcmp(slash, "/config") == 0)
		m->route = API_R_USER_CONFIG;
	else if (strcmp(slash, "/config.png") == 0)
		m->route = API_R_USER_PNG;
	else if (strcmp(slash, "/links") == 0)
		m->route = API_R_USER_LINKS;
	else
		goto none;
	return true;
none:
	memset(m, 0, sizeof(*m));
	return false;
}

const char *api_route_allow(enum api_route r)
{
	switch (r) {
	case API_R_USERS: return "GET, POST";
	case API_R_USER: return "GET, PATCH, DELETE";
	case API_R_USER_LINKS: return "POST";
	case API_R_NONE: return "";
	default: return "GET";
	}
}

bool api_route_allows(enum api_route r, const char *method)
{
	if (!method)
		return false;
	switch (r) {
	case API_R_NONE: return false;
	case API_R_USERS:
		return strcmp(method, "GET") == 0 ||
		       strcmp(method, "POST") == 0;
	case API_R_USER:
		return strcmp(method, "GET") == 0 ||
		       strcmp(method, "PATCH") == 0 ||
		       strcmp(method, "DELETE") == 0;
	case API_R_USER_LINKS: return strcmp(method, "POST") == 0;
	default: return strcmp(method, "GET") == 0;
	}
}

const char *api_route_log_path(const char *path)
{
	if (path && strncmp(path, "/links/", 7) == 0)
		return "/links/(token)";
	return path ? path : "";
}
