/* SPDX-License-Identifier: MIT */
/*
 * SSM client: one JSON 1.1 call (X-Amz-Target: AmazonSSM.<op>), signed
 * with SigV4 by libcurl (CURLOPT_AWS_SIGV4), retried with exponential
 * backoff and full jitter on throttling, 5xx and connection errors,
 * re-signed at every attempt, with refreshed credentials when AWS says
 * they expired. Thread-safe.
 */
#ifndef EVPN_SSM_SSM_H
#define EVPN_SSM_SSM_H

#include <stdbool.h>

#include <jansson.h>

#include <evpn/plugin.h>

#include "log.h"

struct ssm_config {
	const char *prefix;	/* "/ephem-vpn" */
	const char *region;	/* "us-east-1" */
	const char *endpoint;	/* "" = https://ssm.<region>.amazonaws.com */
	const char *kms_key_id; /* "alias/aws/ssm"; "" = account default */
	const char *container_endpoint;	   /* "http://169.254.170.2" */
	double connect_timeout;		   /* s */
	double timeout;			   /* s, per attempt */
	int max_attempts;		   /* >= 1 */
	double retry_base_delay;	   /* s */
	double retry_max_delay;		   /* s */
	double credentials_refresh_margin; /* s */
	int page_size; /* GetParametersByPath MaxResults 1..10 */
};

struct ssm_client;

struct ssm_result {
	json_t *body;	/* 200: the response object (caller decrefs) */
	char type[64];	/* AWS error type, "" when none */
	long status;	/* last HTTP status, 0 for a transport error */
	bool ambiguous; /* an earlier attempt may have been executed */
	int attempts;
};

#define SSM_CALL_ONCE (1u << 0) /* no retries (ping) */

int ssm_client_new(const struct ssm_config *cfg, const struct ssm_log *log,
		   struct ssm_client **out) EVPN_WUR;
void ssm_client_free(struct ssm_client *c);
const struct ssm_log *ssm_client_log(const struct ssm_client *c);

/*
 * Calls op with the request object req (not consumed). Returns EVPN_OK with
 * res->body, or an error: the AWS error type is in res->type and mapped to
 * NOTFOUND (ParameterNotFound), EXISTS (ParameterAlreadyExists), PERM
 * (access denied, bad or expired credentials), CONFIG (bad KMS key), INVAL
 * (ValidationException), AGAIN (still throttled after every attempt) or
 * UNAVAILABLE (unreachable / 5xx after every attempt). `secret` marks the
 * request body as secret (wiped after use).
 */
int ssm_call(struct ssm_client *c, const char *op, json_t *req, bool secret,
	     unsigned flags, struct ssm_result *res) EVPN_WUR;
void ssm_result_clear(struct ssm_result *res);

#endif
