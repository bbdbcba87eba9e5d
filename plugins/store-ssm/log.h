/* SPDX-License-Identifier: MIT */
/*
 * Logging sink of the SSM code: the plugin glue routes it to the host's
 * logger, the test driver to stderr. Callers never pass secrets: values,
 * secret keys, session tokens and signatures are not logged, at any level.
 */
#ifndef EVPN_SSM_LOG_H
#define EVPN_SSM_LOG_H

#include <evpn/plugin.h>

enum ssm_log_level {
	SSM_LOG_DEBUG = 0,
	SSM_LOG_INFO = 1,
	SSM_LOG_WARN = 2,
	SSM_LOG_ERROR = 3,
};

struct ssm_log {
	void (*fn)(void *arg, enum ssm_log_level lvl, const char *msg);
	void *arg;
};

void ssm_logf(const struct ssm_log *log, enum ssm_log_level lvl,
	      const char *fmt, ...) EVPN_PRINTF(3, 4);

#endif
