/* SPDX-License-Identifier: MIT */
/*
 * Leveled logging to stderr. Each line is formatted into one buffer and
 * written with a single write(2), so lines from API worker threads and the
 * loop never interleave.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static _Atomic int log_level = EVPN_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void evpn_log_set_level(enum evpn_log_level lvl)
{
	atomic_store(&log_level, (int)lvl);
}

enum evpn_log_level evpn_log_get_level(void)
{
	return (enum evpn_log_level)atomic_load(&log_level);
}

bool evpn_log_parse_level(const char *s, enum evpn_log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (s && strcasecmp(s, level_names[i]) == 0) {
			*out = (enum evpn_log_level)i;
			return true;
		}
	}
	if (s && strcasecmp(s, "warning") == 0) {
		*out = EVPN_LOG_WARN;
		return true;
	}
	return false;
}

bool evpn_log_would(enum evpn_log_level lvl)
{
	return (int)lvl >= atomic_load(&log_level);
}

void evpn_vlogf(enum evpn_log_level lvl, const char *origin, const char *fmt,
		va_list ap)
{
	char line[2048];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int r;

	if (!evpn_log_would(lvl))
		return;
	if (lvl > EVPN_LOG_ERROR)
		lvl = EVPN_LOG_ERROR;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %-5s [%s] ",
		     (long)(tv.tv_usec / 1000), level_names[lvl],
		     origin ? origin : "core");
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r
						  : sizeof(line) - n - 1;
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r
						  : sizeof(line) - n - 1;
	/* Never let a message forge extra log lines. */
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nothing sensible to do */
	}
}

void evpn_logf(enum evpn_log_level lvl, const char *origin, const char *fmt,
	       ...)
{
	va_list ap;

	va_start(ap, fmt);
	evpn_vlogf(lvl, origin, fmt, ap);
	va_end(ap);
}
