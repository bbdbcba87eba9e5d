/* SPDX-License-Identifier: MIT */
/* Store record helpers of the users service (docs/store-layout.md). */
#include <stdio.h>
#include <string.h>

#include "users_int.h"

/* Map a store error to what the users service reports: anything that is
 * not a semantic answer means the store cannot be trusted right now. */
int users_store_err(int err)
{
	switch (err) {
	case EVPN_OK:
	case EVPN_ERR_NOTFOUND:
	case EVPN_ERR_EXISTS:
	case EVPN_ERR_INVAL: return err;
	default: return EVPN_ERR_UNAVAILABLE;
	}
}

int users_put(struct evpn_users *u, const char *id, const char *leaf,
	      const char *value, uint32_t flags)
{
	char key[160];

	snprintf(key, sizeof(key), "users/%s/%s", id, leaf);
	return u->st->put(u->sts, key, value, strlen(value), flags);
}

/* Delete a claim (an address, a public key) when it is id's: never
 * another user's. */
static void release_claim(struct evpn_users *u, const char *id, const char *key)
{
	char *owner = NULL;
	size_t len;
	int r;

	if (u->st->get(u->sts, key, &owner, &len) != EVPN_OK)
		return;
	if (len == strlen(id) && memcmp(owner, id, len) == 0) {
		r = u->st->del(u->sts, key);
		if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
			evpn_warn(u->host, "could not free %s: %s", key,
				  evpn_strerror(r));
	}
	u->st->free_value(u->sts, owner, len);
}

/* Best effort, in the reverse order of creation: status first (the commit
 * marker), the id claim last, so a crash half-way leaves a record that the
 * sweep recognises as incomplete. */
void users_delete_records(struct evpn_users *u, const char *id,
			  const char *address, const uint8_t *pub)
{
	static const char *const leaves[] = {
		"status",     "expires-at", "allowed-ips", "quota",
		"usage",      "reason",	    "rate-limit",  "api-key-hash",
		"public-key", "address"};
	char key[160];
	int r;

	r = users_index_del(u, id);
	if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
		evpn_warn(u->host, "could not delete peers/%s: %s", id,
			  evpn_strerror(r));
	snprintf(key, sizeof(key), "quotas/%s", id);
	r = u->st->del(u->sts, key);
	if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
		evpn_warn(u->host, "could not delete %s: %s", key,
			  evpn_strerror(r));
	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		snprintf(key, sizeof(key), "users/%s/%s", id, leaves[i]);
		r = u->st->del(u->sts, key);
		if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
			evpn_warn(u->host, "could not delete %s: %s", key,
				  evpn_strerror(r));
	}
	if (address && *address) {
		char ip[64], *slash;

		snprintf(ip, sizeof(ip), "%s", address);
		slash = strchr(ip, '/');
		if (slash)
			*slash = '\0';
		snprintf(key, sizeof(key), "addresses/%s", ip);
		release_claim(u, id, key);
	}
	if (pub) {
		users_key_claim_name(pub, key);
		release_claim(u, id, key);
	}
	snprintf(key, sizeof(key), "users/%s/created-at", id);
	r = u->st->del(u->sts, key);
	if (r != EVPN_OK && r != EVPN_ERR_NOTFOUND)
		evpn_warn(u->host, "could not delete %s: %s", key,
			  evpn_strerror(r));
}
