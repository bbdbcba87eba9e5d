/* SPDX-License-Identifier: MIT */
/*
 * The plugin's log lines, captured: while the checks run, stderr goes to a
 * temporary file and the core logs at debug level, so that every line a
 * plugin could write is there. At the end one check says whether any
 * secret the checker handed the plugin (a master key, a user key, a secret
 * value, a private key) appears in them; then the lines at the level asked
 * for (EVPN_CHECK_LOG, default warn) and anything that is not a log line
 * (a sanitizer report) go to the real stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "check.h"
#include "log.h"

static FILE *cap;
static int saved_fd = -1;
static char *secrets[16];
static size_t n_secrets;

void ck_secret(const char *s)
{
	if (s && *s && n_secrets < sizeof(secrets) / sizeof(secrets[0]))
		secrets[n_secrets++] = strdup(s);
}

void ck_logcap_start(void)
{
	fflush(stderr);
	cap = tmpfile();
	saved_fd = cap ? dup(STDERR_FILENO) : -1;
	if (saved_fd < 0 || dup2(fileno(cap), STDERR_FILENO) < 0) {
		if (cap)
			fclose(cap);
		cap = NULL;
	}
	evpn_log_set_level(EVPN_LOG_DEBUG);
}

/* The level of a core log line ("TIME LEVEL [origin] ..."), or -1. */
static int line_level(const char *l)
{
	static const char *const names[] = {"debug ", "info ", "warn ",
					    "error "};
	const char *sp = strchr(l, ' ');

	for (int i = 0; sp && i < 4; i++)
		if (strncmp(sp + 1, names[i], strlen(names[i])) == 0 &&
		    strchr(sp + 1, '['))
			return i;
	return -1;
}

void ck_logcap_finish(struct ck *c, enum evpn_log_level show)
{
	char *line = NULL;
	size_t cap_len = 0, lines = 0, leaks = 0;
	FILE *out;

	if (!cap) {
		ck_skip(c, "no secret in the log lines: stderr not captured");
		goto wipe;
	}
	fflush(stderr);
	dup2(saved_fd, STDERR_FILENO);
	close(saved_fd);
	out = stderr;
	rewind(cap);
	while (getline(&line, &cap_len, cap) > 0) {
		int lvl = line_level(line);

		lines++;
		for (size_t i = 0; i < n_secrets; i++)
			if (strstr(line, secrets[i]))
				leaks++;
		if (lvl < 0 || lvl >= (int)show)
			fputs(line, out);
	}
	if (line)
		sodium_memzero(line, cap_len);
	free(line);
	fclose(cap);
	cap = NULL;
	const char *prev = c->prefix;
	c->prefix = "log";
	ck_ok(c, leaks == 0,
	      "no secret in the plugin's %zu log lines at debug level (%zu "
	      "secrets looked for, %zu found)",
	      lines, n_secrets, leaks);
	c->prefix = prev;
wipe:
	for (size_t i = 0; i < n_secrets; i++) {
		sodium_memzero(secrets[i], strlen(secrets[i]));
		free(secrets[i]);
	}
	n_secrets = 0;
}
