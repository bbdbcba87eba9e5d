/* SPDX-License-Identifier: MIT */
/*
 * An example third-party plugin, built out of tree against the installed
 * headers (pkg-config evpn-plugin): an auth plugin that accepts one static
 * admin token from its config. Build:
 *
 *   cc -shared -o auth-static.so auth-static.c \
 *      $(pkg-config --cflags evpn-plugin) $(pkg-config --libs libsodium)
 *
 * and use it with `plugins: { auth: { use: /path/auth-static.so,
 * config: { token: ... } } }`.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <evpn/auth.h>
#include <evpn/config.h>
#include <evpn/host.h>
#include <evpn/plugin.h>

struct static_auth {
	const struct evpn_host *host;
	unsigned char hash[crypto_hash_sha256_BYTES];
};

static const struct evpn_config_key schema[] = {
	{.key = "token",
	 .type = EVPN_CFG_STRING,
	 .flags = EVPN_CFG_REQUIRED | EVPN_CFG_SECRET,
	 .desc = "the one accepted admin bearer token (at least 16 bytes)"},
	EVPN_CONFIG_KEYS_END,
};

static int sa_create(const struct evpn_host *host,
		     const struct evpn_config_node *config, void **self)
{
	const char *token = host->config->get_str(config, "token", "");
	struct static_auth *sa;

	if (sodium_init() < 0)
		return EVPN_ERR_INTERNAL;
	if (strlen(token) < 16) {
		evpn_error(host, "token must be at least 16 bytes");
		return EVPN_ERR_CONFIG;
	}
	sa = calloc(1, sizeof(*sa));
	if (!sa)
		return EVPN_ERR_NOMEM;
	sa->host = host;
	crypto_hash_sha256(sa->hash, (const unsigned char *)token,
			   strlen(token));
	*self = sa;
	evpn_info(host, "example static-token auth ready");
	return EVPN_OK;
}

static void sa_destroy(void *self)
{
	struct static_auth *sa = self;

	sodium_memzero(sa, sizeof(*sa));
	free(sa);
}

static int sa_authenticate(void *self, const char *authorization,
			   const char *remote, struct evpn_principal *out,
			   unsigned *retry_after)
{
	struct static_auth *sa = self;
	unsigned char h[crypto_hash_sha256_BYTES];

	(void)remote; /* a real plugin would throttle per address */
	(void)retry_after;
	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0)
		return EVPN_ERR_PERM;
	crypto_hash_sha256(h, (const unsigned char *)authorization + 7,
			   strlen(authorization + 7));
	if (sodium_memcmp(h, sa->hash, sizeof(h)) != 0)
		return EVPN_ERR_PERM;
	memset(out, 0, sizeof(*out));
	out->role = EVPN_ROLE_ADMIN;
	return EVPN_OK;
}

static const struct evpn_auth_ops ops = {
	.size = sizeof(ops),
	.authenticate = sa_authenticate,
};

static const struct evpn_plugin_desc desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "static",
	.kind = EVPN_KIND_AUTH,
	.version = "0.1.0",
	.description = "example: one static admin token",
	.schema = schema,
	.create = sa_create,
	.destroy = sa_destroy,
	.vtable = &ops,
};

EVPN_PLUGIN_DEFINE(desc)
