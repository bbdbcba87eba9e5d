/* SPDX-License-Identifier: MIT */
/*
 * AWS credentials, resolved in the SDKs' order:
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY [,
 *      AWS_SESSION_TOKEN];
 *   2. ECS container endpoint: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 *      against the container endpoint (http://169.254.170.2, configurable
 *      so tests never touch link-local addresses), or
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI with the token of
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE / _TOKEN in Authorization;
 *   3. EC2 IMDSv2 (AWS_EC2_METADATA_SERVICE_ENDPOINT, default
 *      http://169.254.169.254; off when AWS_EC2_METADATA_DISABLED=true).
 * Temporary credentials are cached and refreshed `refresh_margin` seconds
 * before their Expiration. Thread-safe.
 */
#ifndef EVPN_SSM_CREDS_H
#define EVPN_SSM_CREDS_H

#include <stdbool.h>
#include <time.h>

#include <evpn/plugin.h>

#include "log.h"

struct ssm_creds {
	char *access_key_id;
	char *secret_access_key; /* secret: wiped on clear */
	char *session_token;	 /* secret; NULL for long-term keys */
	time_t expiration;	 /* 0: does not expire */
	const char *source;	 /* "env", "container", "imds" */
};

struct ssm_creds_cfg {
	const char *container_endpoint; /* base for the relative URI */
	double connect_timeout, timeout;
	double refresh_margin; /* seconds */
	const struct ssm_log *log;
};

struct ssm_creds_provider;

int ssm_creds_provider_new(const struct ssm_creds_cfg *cfg,
			   struct ssm_creds_provider **out) EVPN_WUR;
void ssm_creds_provider_free(struct ssm_creds_provider *p);

/* A private copy of usable credentials (clear it with ssm_creds_clear).
 * EVPN_ERR_PERM: no source has credentials; EVPN_ERR_UNAVAILABLE: a source
 * that should have them did not answer. */
int ssm_creds_get(struct ssm_creds_provider *p, struct ssm_creds *out) EVPN_WUR;
/* AWS said these credentials expired: drop them from the cache. */
void ssm_creds_invalidate(struct ssm_creds_provider *p, const char *akid);
void ssm_creds_clear(struct ssm_creds *c);

/* May the container credentials of AWS_CONTAINER_CREDENTIALS_FULL_URI be
 * fetched from url? https: any host; http: only loopback (127.0.0.0/8,
 * [::1], localhost) and the ECS/EKS agents (169.254.170.2, 169.254.170.23,
 * [fd00:ec2::23]), compared on the exact host; no userinfo. */
bool ssm_creds_full_uri_allowed(const char *url);

/* "2026-11-25T18:00:00Z" (fractional seconds allowed) -> time_t, or -1. */
time_t ssm_parse_iso8601(const char *s);

#endif
