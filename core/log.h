/* SPDX-License-Identifier: MIT */
#ifndef EVPN_CORE_LOG_H
#define EVPN_CORE_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include <evpn/host.h>

void evpn_log_set_level(enum evpn_log_level lvl);
enum evpn_log_level evpn_log_get_level(void);
/* "debug" | "info" | "warn" | "error"; returns false when unknown. */
bool evpn_log_parse_level(const char *s, enum evpn_log_level *out);
bool evpn_log_would(enum evpn_log_level lvl);
/* One line to stderr: "2026-11-25T17:05:03.123Z info  [store/file] msg". */
void evpn_vlogf(enum evpn_log_level lvl, const char *origin, const char *fmt,
		va_list ap) EVPN_PRINTF(3, 0);
void evpn_logf(enum evpn_log_level lvl, const char *origin, const char *fmt,
	       ...) EVPN_PRINTF(3, 4);

#define core_debug(...) evpn_logf(EVPN_LOG_DEBUG, "core", __VA_ARGS__)
#define core_info(...) evpn_logf(EVPN_LOG_INFO, "core", __VA_ARGS__)
#define core_warn(...) evpn_logf(EVPN_LOG_WARN, "core", __VA_ARGS__)
#define core_error(...) evpn_logf(EVPN_LOG_ERROR, "core", __VA_ARGS__)

#endif
