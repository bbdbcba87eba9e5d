/* SPDX-License-Identifier: MIT */
#include "errmap.h"

#include <evpn/plugin.h>

void api_err_map(int evpn_err, int *status, const char **code)
{
	switch (evpn_err) {
	case EVPN_OK:
		*status = 200;
		*code = "ok";
		break;
	case EVPN_ERR_INVAL:
		*status = 400;
		*code = API_CODE_INVALID_FIELD;
		break;
	case EVPN_ERR_PERM:
		*status = 403;
		*code = API_CODE_FORBIDDEN;
		break;
	case EVPN_ERR_NOTFOUND:
		*status = 404;
		*code = API_CODE_NOT_FOUND;
		break;
	case EVPN_ERR_EXISTS:
		*status = 409;
		*code = API_CODE_CONFLICT;
		break;
	case EVPN_ERR_AGAIN:
		*status = 429;
		*code = API_CODE_THROTTLED;
		break;
	case EVPN_ERR_UNSUPPORTED:
		*status = 501;
		*code = API_CODE_UNSUPPORTED;
		break;
	/* An exhausted pool is the server's capacity, not the request's
	 * fault: 503 lets clients retry once an address is freed. */
	case EVPN_ERR_FULL:
		*status = 503;
		*code = API_CODE_POOL_FULL;
		break;
	case EVPN_ERR_UNAVAILABLE:
	case EVPN_ERR_LOCKED:
		*status = 503;
		*code = API_CODE_UNAVAILABLE;
		break;
	default:
		*status = 500;
		*code = API_CODE_INTERNAL;
		break;
	}
}

const char *api_status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}
