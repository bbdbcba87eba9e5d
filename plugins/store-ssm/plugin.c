/* SPDX-License-Identifier: MIT */
/*
 * store "ssm": glue between the evpn plugin ABI and ssm_store.c.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <evpn/config.h>
#include <evpn/host.h>
#include <evpn/plugin.h>
#include <evpn/store.h>

#include "ssm_store.h"

static const struct evpn_config_key ssm_schema[] = {
	{.key = "prefix",
	 .type = EVPN_CFG_STRING,
	 .def = "/ephem-vpn",
	 .desc = "parameter name prefix; key k is {prefix}/k"},
	{.key = "region",
	 .type = EVPN_CFG_STRING,
	 .def = "us-east-1",
	 .desc = "AWS region (empty: AWS_REGION, then AWS_DEFAULT_REGION)"},
	{.key = "endpoint",
	 .type = EVPN_CFG_STRING,
	 .def = "",
	 .desc = "SSM endpoint URL; empty: AWS_ENDPOINT_URL_SSM, then "
		 "AWS_ENDPOINT_URL, then https://ssm.<region>.amazonaws.com"},
	{.key = "kms_key_id",
	 .type = EVPN_CFG_STRING,
	 .def = "alias/aws/ssm",
	 .desc = "KMS key for SecureString values (empty: the account "
		 "default)"},
	{.key = "connect_timeout",
	 .type = EVPN_CFG_DURATION,
	 .def = "3s",
	 .desc = "TCP/TLS connect timeout per attempt"},
	{.key = "timeout",
	 .type = EVPN_CFG_DURATION,
	 .def = "10s",
	 .desc = "whole-request timeout per attempt"},
	{.key = "max_attempts",
	 .type = EVPN_CFG_INT,
	 .def = "8",
	 .min = 1,
	 .max = 50,
	 .desc = "attempts per call on throttling, 5xx and connection errors"},
	{.key = "retry_base_delay",
	 .type = EVPN_CFG_DURATION,
	 .def = "100ms",
	 .desc = "backoff base: attempt n waits uniform(0, min(max, "
		 "base*2^n))"},
	{.key = "retry_max_delay",
	 .type = EVPN_CFG_DURATION,
	 .def = "5s",
	 .desc = "backoff cap"},
	{.key = "page_size",
	 .type = EVPN_CFG_INT,
	 .def = "10",
	 .min = 1,
	 .max = 10,
	 .desc = "GetParametersByPath MaxResults"},
	{.key = "container_endpoint",
	 .type = EVPN_CFG_STRING,
	 .def = "http://169.254.170.2",
	 .desc = "ECS agent base URL for "
		 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"},
	{.key = "credentials_refresh",
	 .type = EVPN_CFG_DURATION,
	 .def = "5m",
	 .desc = "refresh temporary credentials this long before they expire"},
	EVPN_CONFIG_KEYS_END};

struct ssm_plugin {
	const struct evpn_host *host;
	struct ssm_log log;
	struct ssm_store *store;
};

static void host_log(void *arg, enum ssm_log_level lvl, const char *msg)
{
	const struct evpn_host *h = arg;
	enum evpn_log_level l = lvl == SSM_LOG_DEBUG  ? EVPN_LOG_DEBUG
				: lvl == SSM_LOG_INFO ? EVPN_LOG_INFO
				: lvl == SSM_LOG_WARN ? EVPN_LOG_WARN
						      : EVPN_LOG_ERROR;

	if (h->log_enabled && !h->log_enabled(h, l))
		return;
	h->log(h, l, "%s", msg);
}

static int ssm_create(const struct evpn_host *host,
		      const struct evpn_config_node *cfg, void **self)
{
	const struct evpn_config_ops *c = host->config;
	struct ssm_config sc = {0};
	struct ssm_plugin *p;
	int rc;

	*self = NULL;
	if (sodium_init() < 0)
		return EVPN_ERR_INTERNAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return EVPN_ERR_NOMEM;
	p->host = host;
	p->log.fn = host_log;
	p->log.arg = (void *)host;
	sc.prefix = c->get_str(cfg, "prefix", "/ephem-vpn");
	sc.region = c->get_str(cfg, "region", "");
	sc.endpoint = c->get_str(cfg, "endpoint", "");
	sc.kms_key_id = c->get_str(cfg, "kms_key_id", "alias/aws/ssm");
	sc.connect_timeout = c->get_duration(cfg, "connect_timeout", 3);
	sc.timeout = c->get_duration(cfg, "timeout", 10);
	sc.max_attempts = (int)c->get_int(cfg, "max_attempts", 8);
	sc.retry_base_delay = c->get_duration(cfg, "retry_base_delay", 0.1);
	sc.retry_max_delay = c->get_duration(cfg, "retry_max_delay", 5);
	sc.page_size = (int)c->get_int(cfg, "page_size", 10);
	sc.container_endpoint =
		c->get_str(cfg, "container_endpoint", "http://169.254.170.2");
	sc.credentials_refresh_margin =
		c->get_duration(cfg, "credentials_refresh", 300);
	rc = ssm_store_new(&sc, &p->log, &p->store);
	if (rc) {
		free(p);
		return rc;
	}
	*self = p;
	return EVPN_OK;
}

static int ssm_start(void *self)
{
	return EVPN_OK;
}

static void ssm_stop(void *self)
{
}

static void ssm_destroy(void *self)
{
	struct ssm_plugin *p = self;

	if (!p)
		return;
	ssm_store_free(p->store);
	free(p);
}

static int op_get(void *self, const char *key, char **value, size_t *len)
{
	return ssm_store_get(((struct ssm_plugin *)self)->store, key, value,
			     len);
}

static int op_put(void *self, const char *key, const char *value, size_t len,
		  uint32_t flags)
{
	return ssm_store_put(((struct ssm_plugin *)self)->store, key, value,
			     len, flags);
}

static int op_del(void *self, const char *key)
{
	return ssm_store_del(((struct ssm_plugin *)self)->store, key);
}

static int op_list(void *self, const char *prefix, evpn_store_list_cb cb,
		   void *arg)
{
	return ssm_store_list(((struct ssm_plugin *)self)->store, prefix, cb,
			      arg);
}

static void op_free_value(void *self, char *value, size_t len)
{
	ssm_store_free_value(value, len);
}

static int op_ping(void *self)
{
	return ssm_store_ping(((struct ssm_plugin *)self)->store);
}

static const struct evpn_store_ops ssm_ops = {
	.size = sizeof(struct evpn_store_ops),
	.get = op_get,
	.put = op_put,
	.del = op_del,
	.list = op_list,
	.free_value = op_free_value,
	.ping = op_ping,
};

static const struct evpn_plugin_desc ssm_desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "ssm",
	.kind = EVPN_KIND_STORE,
	.version = "1.0.0",
	.description = "AWS SSM Parameter Store (SigV4, SecureString via KMS)",
	.schema = ssm_schema,
	.create = ssm_create,
	.start = ssm_start,
	.stop = ssm_stop,
	.destroy = ssm_destroy,
	.vtable = &ssm_ops,
};

EVPN_PLUGIN_DEFINE(ssm_desc)
