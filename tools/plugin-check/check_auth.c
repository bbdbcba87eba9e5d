/* SPDX-License-Identifier: MIT */
/*
 * The auth contract (include/evpn/auth.h): the master key is the admin,
 * a user's key is that user and never the admin, everything else -- wrong,
 * empty, missing, malformed, oversized, a disabled or deleted user's key --
 * is EVPN_ERR_PERM; repeated failures from one address are throttled with
 * EVPN_ERR_AGAIN and a retry-after, a valid key still passes there, and
 * another address is not affected. The users service runs on the checker's
 * memory store, as evpnd's does on the configured store.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <evpn/auth.h>
#include <evpn/users.h>

#include "check.h"
#include "users/users_service.h"

struct au {
	struct ck *c;
	const struct evpn_auth_ops *a;
	void *self;
	char admin[512];
	char user_key[EVPN_API_KEY_LEN + 1];
	char user2_key[EVPN_API_KEY_LEN + 1]; /* "check-user-2" */
	unsigned remote_n;
};

/* A fresh client address per check, so earlier failures never throttle
 * a later check (documentation range: only ever a string here). */
static const char *fresh_remote(struct au *t, char *buf, size_t len)
{
	snprintf(buf, len, "192.0.2.%u", ++t->remote_n % 250 + 1);
	return buf;
}

static int auth(struct au *t, const char *header, const char *remote,
		struct evpn_principal *p, unsigned *retry)
{
	memset(p, 0xA5, sizeof(*p)); /* a plugin must fill it */
	*retry = 0;
	return t->a->authenticate(t->self, header, remote, p, retry);
}

static char *bearer(const char *tok)
{
	size_t n = strlen(tok) + 8;
	char *h = malloc(n);

	if (h)
		snprintf(h, n, "Bearer %s", tok);
	return h;
}

/* One check: header must be refused with PERM (*out is the caller's to
 * ignore on an error, auth.h). */
static void refused(struct au *t, const char *header, const char *what)
{
	struct evpn_principal p;
	char remote[32];
	unsigned ra;
	int rc = auth(t, header, fresh_remote(t, remote, sizeof(remote)), &p,
		      &ra);

	ck_rc(t->c, rc, EVPN_ERR_PERM, "%s: PERM", what);
}

static bool is_user(const struct evpn_principal *p, const char *id)
{
	return p->role == EVPN_ROLE_USER &&
	       strnlen(p->user, sizeof(p->user)) < sizeof(p->user) &&
	       strcmp(p->user, id) == 0;
}

static void user_key_is(struct au *t, const char *key, const char *id,
			const char *what)
{
	struct evpn_principal p;
	char *h = bearer(key), remote[32];
	unsigned ra;
	int rc = auth(t, h, fresh_remote(t, remote, sizeof(remote)), &p, &ra);

	ck_ok(t->c, rc == EVPN_OK && is_user(&p, id),
	      "%s: OK as user '%s' (got %d %s, role %d)", what, id, rc,
	      evpn_strerror(rc), (int)p.role);
	free(h);
}

static void tokens(struct au *t)
{
	struct ck *c = t->c;
	struct evpn_principal p;
	char *h, *big, remote[32];
	unsigned ra;
	int rc;

	h = bearer(t->admin);
	rc = auth(t, h, fresh_remote(t, remote, sizeof(remote)), &p, &ra);
	ck_ok(c, rc == EVPN_OK && p.role == EVPN_ROLE_ADMIN,
	      "master token: OK as admin (got %d %s, role %d)", rc,
	      evpn_strerror(rc), (int)p.role);
	free(h);

	h = bearer(t->user_key);
	rc = auth(t, h, fresh_remote(t, remote, sizeof(remote)), &p, &ra);
	ck_ok(c, !(rc == EVPN_OK && p.role == EVPN_ROLE_ADMIN),
	      "user token: never the admin");
	free(h);
	if (c->admin_only)
		ck_skip(c, "user token: OK as that user (--admin-only)");
	else
		user_key_is(t, t->user_key, "check-user", "user token");

	refused(t, NULL, "no Authorization header");
	refused(t, "", "empty header");
	refused(t, "Bearer ", "empty token");
	refused(t, "Bearer", "scheme without a token");
	h = malloc(strlen(t->admin) + 8);
	if (h) {
		snprintf(h, strlen(t->admin) + 8, "Basic %s", t->admin);
		refused(t, h, "master token with the Basic scheme");
		free(h);
	}
	{
		char wrong[65], *w;
		unsigned char r[32];

		randombytes_buf(r, sizeof(r));
		sodium_bin2hex(wrong, sizeof(wrong), r, sizeof(r));
		w = bearer(wrong);
		refused(t, w, "wrong token (random 64 hex)");
		free(w);
	}
	h = malloc(strlen(t->admin) + 16);
	if (h) {
		snprintf(h, strlen(t->admin) + 16, "Bearer %sx", t->admin);
		refused(t, h, "master token with a byte appended");
		snprintf(h, strlen(t->admin) + 16, "Bearer %.*s",
			 (int)strlen(t->admin) - 1, t->admin);
		refused(t, h, "master token minus its last byte");
		snprintf(h, strlen(t->admin) + 16, "Bearer  %s", t->admin);
		/* Not asserted: RFC 7235 lets a parser skip extra spaces. */
		free(h);
	}
	big = malloc(65536 + 8);
	if (big) {
		memcpy(big, "Bearer ", 7);
		memset(big + 7, 'A', 65536);
		big[65536 + 7] = '\0';
		refused(t, big, "oversized token (64 KiB)");
		memcpy(big + 7, t->admin, strlen(t->admin));
		refused(t, big, "oversized token starting with the master key");
		free(big);
	}
}

static void user_states(struct au *t)
{
	const struct evpn_users_ops *u = &evpn_users_ops_impl;
	struct ck *c = t->c;
	struct evpn_user_create req = {.client_id = "check-user-2"};
	struct evpn_user_created out;
	struct evpn_users_error err;
	struct evpn_user user;
	char key2[EVPN_API_KEY_LEN + 1], *h;
	int rc;

	if (c->admin_only) {
		ck_skip(c, "user keys: disabled/deleted users (--admin-only)");
		return;
	}
	memset(&out, 0, sizeof(out));
	rc = u->create(c->core.users, &req, &out, &err);
	if (!ck_rc(c, rc, EVPN_OK, "users service: a second user"))
		return;
	memcpy(key2, out.api_key, sizeof(key2));
	memcpy(t->user2_key, key2, sizeof(key2));
	ck_secret(key2);
	u->release(c->core.users, &out);
	user_key_is(t, key2, "check-user-2", "a second user's token");

	rc = u->set_status(c->core.users, "check-user", false, &user, &err);
	ck_rc(c, rc, EVPN_OK, "users service: disable the user");
	h = bearer(t->user_key);
	{
		/* Disabling stops the tunnel ("inactive peers cannot
		 * handshake"); whether the key still reads the user's own
		 * record is the plugin's choice. Never more than that user. */
		struct evpn_principal p;
		char remote[32];
		unsigned ra;

		rc = auth(t, h, fresh_remote(t, remote, sizeof(remote)), &p,
			  &ra);
		ck_ok(c,
		      (rc == EVPN_OK && is_user(&p, "check-user")) ||
			      rc == EVPN_ERR_PERM,
		      "a disabled user's token: that user or PERM (got %d %s, "
		      "role %d)",
		      rc, evpn_strerror(rc), (int)p.role);
	}
	rc = u->set_status(c->core.users, "check-user", true, &user, &err);
	ck_rc(c, rc, EVPN_OK, "users service: enable the user again");
	user_key_is(t, t->user_key, "check-user", "a re-enabled user's token");
	rc = u->remove(c->core.users, "check-user", &err);
	ck_rc(c, rc, EVPN_OK, "users service: delete the user");
	refused(t, h, "a deleted user's token");
	user_key_is(t, key2, "check-user-2",
		    "the other user's token after the delete");
	free(h);
	sodium_memzero(key2, sizeof(key2));
}

static void throttling(struct au *t)
{
	struct ck *c = t->c;
	const char *remote = "198.51.100.7";
	struct evpn_principal p;
	char *wrong = bearer("0000000000000000000000000000000000000000000000"
			     "000000000000000000"),
	     *h;
	unsigned ra = 0;
	int rc = EVPN_ERR_PERM, tries = 0, other = 0;

	if (!wrong)
		return;
	while (tries < 1000) {
		tries++;
		rc = auth(t, wrong, remote, &p, &ra);
		if (rc != EVPN_ERR_PERM)
			break;
	}
	if (c->no_throttle) {
		ck_ok(c, rc == EVPN_ERR_PERM,
		      "throttling: 1000 wrong tokens are all PERM (got %d %s "
		      "at try %d)",
		      rc, evpn_strerror(rc), tries);
		ck_skip(c, "throttling: not checked (--no-throttle)");
		free(wrong);
		return;
	}
	ck_ok(c, rc == EVPN_ERR_AGAIN,
	      "throttling: repeated wrong tokens from one address get AGAIN "
	      "(after %d tries: %d %s)",
	      tries, rc, evpn_strerror(rc));
	if (rc != EVPN_ERR_AGAIN) {
		free(wrong);
		return;
	}
	ck_ok(c, ra > 0, "throttling: AGAIN comes with a retry-after (%u s)",
	      ra);
	rc = auth(t, wrong, remote, &p, &ra);
	ck_rc(c, rc, EVPN_ERR_AGAIN, "throttling: the address stays throttled");
	h = bearer(t->admin);
	rc = auth(t, h, remote, &p, &ra);
	ck_ok(c, rc == EVPN_OK && p.role == EVPN_ROLE_ADMIN,
	      "throttling: the master token from a throttled address still "
	      "passes (got %d %s)",
	      rc, evpn_strerror(rc));
	free(h);
	rc = auth(t, wrong, "198.51.100.8", &p, &ra);
	ck_rc(c, rc, EVPN_ERR_PERM,
	      "throttling: another address is not throttled");
	for (int i = 0; i < 3; i++)
		other +=
			auth(t, wrong, "2001:db8::7", &p, &ra) != EVPN_ERR_PERM;
	ck_ok(c, other == 0,
	      "throttling: an IPv6 address's first failures are PERM");
	free(wrong);
}

struct worker {
	struct au *t;
	int id, wrong;
};

static void *hammer(void *arg)
{
	struct worker *w = arg;
	char *adm = bearer(w->t->admin),
	     *usr = bearer(w->t->c->admin_only ? w->t->admin : w->t->user2_key),
	     remote[32];

	snprintf(remote, sizeof(remote), "203.0.113.%d", w->id + 1);
	for (int i = 0; i < 200 && adm && usr; i++) {
		struct evpn_principal p;
		unsigned ra;
		bool admin = (i + w->id) % 2 || w->t->c->admin_only;
		int rc = auth(w->t, admin ? adm : usr, remote, &p, &ra);

		if (rc != EVPN_OK || (admin ? p.role != EVPN_ROLE_ADMIN
					    : !is_user(&p, "check-user-2")))
			w->wrong++;
	}
	free(adm);
	free(usr);
	return NULL;
}

static void concurrency(struct au *t)
{
	pthread_t th[4];
	struct worker w[4];
	int wrong = 0;

	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){t, i, 0};
		if (pthread_create(&th[i], NULL, hammer, &w[i]) != 0)
			exit(1);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		wrong += w[i].wrong;
	}
	ck_ok(t->c, wrong == 0,
	      "4 threads x 200 authentications: every answer right (%d "
	      "wrong)",
	      wrong);
}

void ck_auth(struct ck *c)
{
	static const char *const names[] = {"authenticate"};
	const struct evpn_users_ops *u = &evpn_users_ops_impl;
	struct au t = {.c = c, .a = c->pi.desc->vtable};
	struct evpn_user_create req = {.client_id = "check-user"};
	struct evpn_user_created out;
	struct evpn_users_error err;
	int rc;

	ck_vtable_entries(c, names, 1, 1);
	if (c->failed)
		return;
	rc = ck_users_up(c);
	if (!ck_rc(c, rc, EVPN_OK, "users service on the checker's store"))
		return;
	snprintf(t.admin, sizeof(t.admin), "%s",
		 c->admin_token ? c->admin_token : c->master);
	memset(&out, 0, sizeof(out));
	rc = u->create(c->core.users, &req, &out, &err);
	if (!ck_rc(c, rc, EVPN_OK, "users service: a user with an API key"))
		return;
	memcpy(t.user_key, out.api_key, sizeof(t.user_key));
	ck_secret(t.admin);
	ck_secret(t.user_key);
	u->release(c->core.users, &out);

	rc = ck_create(c, NULL, &t.self);
	if (!ck_rc(c, rc, EVPN_OK, "create succeeds"))
		return;
	rc = ck_start(c, t.self);
	if (ck_rc(c, rc, EVPN_OK, "start succeeds")) {
		tokens(&t);
		user_states(&t);
		throttling(&t);
		concurrency(&t);
		ck_stop(c, t.self);
	}
	ck_destroy(c, t.self);
	sodium_memzero(&t, sizeof(t));
	ck_lifecycle(c);
}
