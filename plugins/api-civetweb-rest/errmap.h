/* SPDX-License-Identifier: MIT */
/*
 * evpn error codes -> HTTP status and the stable "code" string of error
 * bodies ({"error": "...", "code": "..."}). Pure.
 */
#ifndef EVPN_API_ERRMAP_H
#define EVPN_API_ERRMAP_H

#define API_CODE_INVALID_JSON "invalid_json"
#define API_CODE_INVALID_FIELD "invalid_field"
#define API_CODE_UNKNOWN_FIELD "unknown_field"
#define API_CODE_UNAUTHORIZED "unauthorized"
#define API_CODE_FORBIDDEN "forbidden"
#define API_CODE_NOT_FOUND "not_found"
#define API_CODE_METHOD "method_not_allowed"
#define API_CODE_CONFLICT "conflict"
#define API_CODE_TOO_LARGE "payload_too_large"
#define API_CODE_MEDIA_TYPE "unsupported_media_type"
#define API_CODE_THROTTLED "too_many_requests"
#define API_CODE_UNAVAILABLE "unavailable"
#define API_CODE_POOL_FULL "pool_exhausted"
#define API_CODE_UNSUPPORTED "not_implemented"
#define API_CODE_INTERNAL "internal"

/* Maps an evpn_err (users service, auth) to a status and code. */
void api_err_map(int evpn_err, int *status, const char **code);
/* Reason phrase of a status ("Not Found"); "Unknown" when not listed. */
const char *api_status_text(int status);

#endif
