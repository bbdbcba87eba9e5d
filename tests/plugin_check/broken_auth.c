/* SPDX-License-Identifier: MIT */
/*
 * An auth plugin for the checker's own tests that breaks the contract in
 * one way: any user's key is taken for the admin (role escalation).
 * evpn-plugin-check must fail it.
 */
#include <string.h>

#include <sodium.h>

#include <evpn/auth.h>
#include <evpn/host.h>
#include <evpn/users.h>

static int ba_create(const struct evpn_host *host,
		     const struct evpn_config_node *config, void **self)
{
	*self = (void *)host;
	return sodium_init() < 0 ? EVPN_ERR_INTERNAL : EVPN_OK;
}

static void ba_destroy(void *self)
{
}

static int ba_authenticate(void *self, const char *authorization,
			   const char *remote, struct evpn_principal *out,
			   unsigned *retry_after)
{
	const struct evpn_host *host = self;
	const struct evpn_users_ops *users;
	struct evpn_ref ref;
	uint8_t h[32], master[32];
	char id[EVPN_CLIENT_ID_MAX + 1];
	int rc = EVPN_ERR_PERM;

	memset(out, 0, sizeof(*out));
	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0 ||
	    !authorization[7])
		return EVPN_ERR_PERM;
	if (host->get_service(host, EVPN_SERVICE_USERS, &ref) != EVPN_OK)
		return EVPN_ERR_UNAVAILABLE;
	users = ref.vtable;
	crypto_hash_sha256(h, (const unsigned char *)authorization + 7,
			   strlen(authorization + 7));
	if (users->master_key_hash(ref.self, master) == EVPN_OK &&
	    sodium_memcmp(h, master, 32) == 0)
		rc = EVPN_OK;
	else if (users->find_by_key_hash(ref.self, h, id) == EVPN_OK)
		rc = EVPN_OK; /* the bug: a user is made the admin */
	if (rc == EVPN_OK)
		out->role = EVPN_ROLE_ADMIN;
	return rc;
}

static const struct evpn_auth_ops ops = {
	.size = sizeof(ops),
	.authenticate = ba_authenticate,
};

static const struct evpn_plugin_desc desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "broken-admin",
	.kind = EVPN_KIND_AUTH,
	.version = "0.0.1",
	.description = "auth that makes every user the admin (broken)",
	.create = ba_create,
	.destroy = ba_destroy,
	.vtable = &ops,
};

EVPN_PLUGIN_DEFINE(desc)
