/* SPDX-License-Identifier: MIT */
/*
 * The evpn REST API as evpnctl uses it (docs/api.md), and the mapping
 * of its answers to messages and exit codes.
 */
#ifndef EVPNCTL_API_H
#define EVPNCTL_API_H

#include <stddef.h>

#include "exitcodes.h"
#include "http.h"

/*
 * For a response that is not the expected success: writes a one-line,
 * actionable message (401: bad key, 403: key not allowed, 404: no such
 * user, 409: name taken, 429: slowed down, ...) using the server's
 * {"error": ...} text when present, and returns the exit code
 * (EVPNCTL_EXIT_SERVER). name may be NULL. Pure, unit-tested.
 */
int evpnctl_api_error(const struct evpnctl_http_resp *resp, const char *name,
		      char *msg, size_t len);

#endif /* EVPNCTL_API_H */
