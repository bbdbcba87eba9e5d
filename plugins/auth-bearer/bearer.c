/* SPDX-License-Identifier: MIT */
/*
 * auth:bearer — `Authorization: Bearer <token>` to a principal.
 *
 * The token is never stored or logged: we hash it (SHA-256) and compare the
 * hash with the master key hash in constant time, else ask the users service
 * which user owns that hash. Wrong tokens are throttled per remote address;
 * a right one is never refused for its address's failures.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <evpn/auth.h>
#include <evpn/config.h>
#include <evpn/host.h>
#include <evpn/users.h>

#include "bearer_parse.h"
#include "throttle.h"

struct bearer {
	const struct evpn_host *host;
	struct bearer_throttle throttle;
	struct evpn_metric *m_ok, *m_fail, *m_throttled;
};

static const struct evpn_config_key bearer_schema[] = {
	{.key = "max_failures",
	 .type = EVPN_CFG_INT,
	 .def = "10",
	 .desc = "failed attempts from one address before it is locked out",
	 .min = 1,
	 .max = 1000000},
	{.key = "window",
	 .type = EVPN_CFG_DURATION,
	 .def = "60s",
	 .desc = "period in which max_failures failures cause a lockout"},
	{.key = "lockout",
	 .type = EVPN_CFG_DURATION,
	 .def = "60s",
	 .desc = "how long a locked-out address gets 429 (Retry-After)"},
	{.key = "max_tracked",
	 .type = EVPN_CFG_INT,
	 .def = "4096",
	 .desc = "addresses tracked at once (bounded memory; oldest evicted)",
	 .min = 16,
	 .max = 1048576},
	EVPN_CONFIG_KEYS_END,
};

static int bearer_create(const struct evpn_host *host,
			 const struct evpn_config_node *cfg, void **self)
{
	const struct evpn_config_ops *c = host->config;
	struct bearer *b;
	int64_t max_failures, max_tracked;
	double window, lockout;
	int rc;

	if (sodium_init() < 0)
		return EVPN_ERR_INTERNAL;
	max_failures = c->get_int(cfg, "max_failures", 10);
	max_tracked = c->get_int(cfg, "max_tracked", 4096);
	window = c->get_duration(cfg, "window", 60);
	lockout = c->get_duration(cfg, "lockout", 60);
	if (max_failures < 1 || max_failures > 1000000 || max_tracked < 16 ||
	    max_tracked > 1048576 || window <= 0 || lockout <= 0) {
		evpn_error(host, "invalid throttling settings");
		return EVPN_ERR_CONFIG;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return EVPN_ERR_NOMEM;
	b->host = host;
	rc = bearer_throttle_init(&b->throttle, (size_t)max_tracked,
				  (unsigned)max_failures, window, lockout);
	if (rc != EVPN_OK) {
		free(b);
		return rc;
	}
	b->m_ok = host->metric(
		host, EVPN_METRIC_COUNTER, "evpn_auth_attempts_total",
		"Authentication attempts by result", "result=\"ok\"");
	b->m_fail = host->metric(
		host, EVPN_METRIC_COUNTER, "evpn_auth_attempts_total",
		"Authentication attempts by result", "result=\"failed\"");
	b->m_throttled = host->metric(
		host, EVPN_METRIC_COUNTER, "evpn_auth_attempts_total",
		"Authentication attempts by result", "result=\"throttled\"");
	*self = b;
	return EVPN_OK;
}

static int bearer_start(void *self)
{
	return EVPN_OK;
}

static void bearer_stop(void *self)
{
}

static void bearer_destroy(void *self)
{
	struct bearer *b = self;

	if (!b)
		return;
	bearer_throttle_free(&b->throttle);
	free(b);
}

static void count(struct bearer *b, struct evpn_metric *m)
{
	if (m)
		b->host->metric_add(m, 1);
}

/* Who owns the token hash: admin, a user, or nobody. */
static int identify(struct bearer *b, const uint8_t hash[EVPN_HASH_LEN],
		    struct evpn_principal *out)
{
	const struct evpn_users_ops *users;
	struct evpn_ref ref;
	uint8_t master[EVPN_HASH_LEN];
	char id[EVPN_CLIENT_ID_MAX + 1] = "";
	int rc;

	if (b->host->get_service(b->host, EVPN_SERVICE_USERS, &ref) != EVPN_OK)
		return EVPN_ERR_UNAVAILABLE;
	users = ref.vtable;

	rc = users->master_key_hash(ref.self, master);
	if (rc == EVPN_OK) {
		bool admin = sodium_memcmp(master, hash, sizeof(master)) == 0;

		sodium_memzero(master, sizeof(master));
		if (admin) {
			out->role = EVPN_ROLE_ADMIN;
			return EVPN_OK;
		}
	} else if (rc != EVPN_ERR_NOTFOUND) {
		/* Cannot tell an admin from a stranger: do not guess. */
		return EVPN_ERR_UNAVAILABLE;
	}

	rc = users->find_by_key_hash(ref.self, hash, id);
	if (rc == EVPN_OK) {
		out->role = EVPN_ROLE_USER;
		memcpy(out->user, id, sizeof(out->user) - 1);
		out->user[sizeof(out->user) - 1] = '\0';
		return EVPN_OK;
	}
	if (rc == EVPN_ERR_NOTFOUND)
		return EVPN_ERR_PERM;
	return EVPN_ERR_UNAVAILABLE;
}

static int bearer_authenticate(void *self, const char *authorization,
			       const char *remote, struct evpn_principal *out,
			       unsigned *retry_after)
{
	struct bearer *b = self;
	const char *tok;
	size_t len;
	uint8_t hash[crypto_hash_sha256_BYTES];
	unsigned ra = 0;
	bool locked;
	int rc;

	memset(out, 0, sizeof(*out));
	out->role = EVPN_ROLE_NONE;
	if (retry_after)
		*retry_after = 0;

	/* The address may be shared (a NAT, an office, a load balancer that
	 * hides client addresses): its lockout must not lock out the admin
	 * behind it. So every token is checked, locked or not, and only a
	 * wrong one is refused with 429. See README "Security". */
	locked = bearer_throttle_check(&b->throttle, remote,
				       b->host->now(b->host), &ra) != EVPN_OK;

	switch (bearer_parse(authorization, &tok, &len)) {
	case BEARER_OK: break;
	case BEARER_MISSING:
		/* No guess was made: not counted as a failure. */
		return EVPN_ERR_PERM;
	default: rc = EVPN_ERR_PERM; goto failed;
	}

	/* The same work whether the address is locked or not: the time of
	 * an answer says nothing the answer does not. */
	crypto_hash_sha256(hash, (const unsigned char *)tok, len);
	rc = identify(b, hash, out);
	sodium_memzero(hash, sizeof(hash));
	if (rc == EVPN_OK) {
		/* A success resets no counter: a guesser who also holds a
		 * valid key gains no extra guesses by interleaving it. */
		count(b, b->m_ok);
		return EVPN_OK;
	}
	if (rc != EVPN_ERR_PERM)
		return rc; /* store trouble is not the client's failure */
failed:
	memset(out, 0, sizeof(*out));
	if (locked) {
		/* Already locked: 429, and the lockout does not grow (that
		 * would let a guesser extend an admin's wait forever). */
		if (retry_after)
			*retry_after = ra;
		count(b, b->m_throttled);
		return EVPN_ERR_AGAIN;
	}
	bearer_throttle_fail(&b->throttle, remote, b->host->now(b->host));
	count(b, b->m_fail);
	return rc;
}

static const struct evpn_auth_ops bearer_ops = {
	.size = sizeof(struct evpn_auth_ops),
	.authenticate = bearer_authenticate,
};

static const struct evpn_plugin_desc bearer_desc = {
	EVPN_PLUGIN_DESC_INIT,
	.name = "bearer",
	.kind = EVPN_KIND_AUTH,
	.version = "1.0.0",
	.description = "Bearer tokens: the master key (admin) or a user's key",
	.schema = bearer_schema,
	.create = bearer_create,
	.start = bearer_start,
	.stop = bearer_stop,
	.destroy = bearer_destroy,
	.vtable = &bearer_ops,
};

EVPN_PLUGIN_DEFINE(bearer_desc)
