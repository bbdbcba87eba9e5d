/* SPDX-License-Identifier: MIT */
/*
 * ssm_delmany KEY...: deletes keys with ssm_store_del_many (DeleteParameters,
 * 10 names per call). The store vtable has no batch delete yet, so this
 * drives the internal API directly; endpoint and credentials come from the
 * environment (AWS_ENDPOINT_URL_SSM, AWS_ACCESS_KEY_ID, ...), the prefix
 * from EVPN_SSM_CFG_prefix. Exit status: the negated evpn error code.
 */
#include <stdio.h>
#include <stdlib.h>

#include "ssm_store.h"

static void log_stderr(void *arg, enum ssm_log_level lvl, const char *msg)
{
	if (lvl >= SSM_LOG_WARN)
		fprintf(stderr, "[ssm] %s\n", msg);
}

int main(int argc, char **argv)
{
	struct ssm_log log = {.fn = log_stderr};
	struct ssm_config cfg = {
		.prefix = getenv("EVPN_SSM_CFG_prefix")
				  ? getenv("EVPN_SSM_CFG_prefix")
				  : "/ephem-vpn",
		.max_attempts = 8,
		.retry_base_delay = 0.01,
		.retry_max_delay = 0.2,
	};
	struct ssm_store *s;
	int rc;

	rc = ssm_store_new(&cfg, &log, &s);
	if (rc)
		return -rc;
	rc = ssm_store_del_many(s, (const char *const *)argv + 1,
				(size_t)argc - 1);
	ssm_store_free(s);
	return -rc;
}
