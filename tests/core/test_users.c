/* The users service over an in-memory store: creation, uniqueness,
 * rollback on store failure at every step, crash sweeping, expiry. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core.h"
#include "memstore.h"
#include "users/users_service.h"
#include "users/users_int.h"

static void evpn_key_b64_for_test(const uint8_t k[32], char out[45])
{
	evpn_key_b64(k, out);
}

static void evpn_rfc3339_for_test(char out[32])
{
	evpn_rfc3339(time(NULL), out);
}

static const struct evpn_users_ops *U = &evpn_users_ops_impl;

struct fixture {
	struct evpn_core core;
	struct memstore *ms;
	struct evpn_users *u;
	const char *dns[2];
	bool shared; /* ms belongs to another fixture */
};

static const char *fx_pool6;	/* network.pool6 of the next fx_new */
static double fx_sync_interval; /* users.sync_interval of the next fx_new */

/* An instance on a store: a new one, or (ms != NULL) another instance's. */
static struct fixture *fx_new_on(const char *pool, struct memstore *ms)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct evpn_users_opts opts = {.master_key = NULL,
				       .partial_grace = 30,
				       .sync_interval = fx_sync_interval};
	char pub[45];
	bool created;

	assert_int_equal(evpn_core_loop_init(&f->core), EVPN_OK);
	f->core.net.size = sizeof(f->core.net);
	f->core.net.pool = pool;
	f->core.net.pool6 = fx_pool6;
	f->core.net.endpoint = "vpn.example.com:51820";
	f->core.net.mtu = 1420;
	f->dns[0] = "10.9.0.1";
	f->core.net.dns = f->dns;
	snprintf(f->core.core_inst.origin, sizeof(f->core.core_inst.origin),
		 "users");
	evpn_core_host_init(&f->core, &f->core.core_inst);
	f->ms = ms ? ms : memstore_new();
	f->shared = ms != NULL;
	f->u = evpn_users_new(&f->core.core_inst.host, &memstore_ops, f->ms,
			      &opts);
	assert_non_null(f->u);
	f->core.users = f->u;
	assert_int_equal(
		evpn_users_server_key(f->u, true, false, NULL, pub, &created),
		EVPN_OK);
	assert_true(created == !ms);
	assert_int_equal(evpn_users_master_key(f->u, NULL, 0, &created),
			 EVPN_OK);
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	return f;
}

static struct fixture *fx_new(const char *pool)
{
	return fx_new_on(pool, NULL);
}

static void fx_free(struct fixture *f)
{
	/* as the daemon does: stop the service's thread, run what it posted
	 * to the loop, then free it */
	evpn_users_stop(f->u);
	evpn_core_loop_close(&f->core);
	evpn_users_free(f->u);
	if (!f->shared)
		memstore_free(f->ms);
	free(f);
}

static int create(struct fixture *f, const char *id, const char *pub,
		  int64_t ttl, struct evpn_user_created *out)
{
	struct evpn_user_create req = {
		.client_id = id, .public_key = pub, .ttl_seconds = ttl};
	struct evpn_users_error err = {0};
	int r = U->create(f->u, &req, out, &err);

	if (r != EVPN_OK)
		assert_int_equal(err.code, r);
	return r;
}

static void test_create_generated(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_user_created out;
	struct evpn_user u;
	uint8_t h[32];
	char id[64];

	assert_int_equal(create(f, "alice", NULL, 0, &out), EVPN_OK);
	assert_string_equal(out.user.client_id, "alice");
	assert_int_equal(out.user.status, EVPN_USER_ACTIVE);
	assert_string_equal(out.user.address, "10.9.0.2/32");
	assert_string_equal(out.user.expires_at, "");
	assert_int_equal(strlen(out.api_key), 64);
	assert_non_null(strstr(out.config, "PrivateKey = "));
	assert_null(strstr(out.config, "<paste"));
	assert_non_null(strstr(out.config, "Address = 10.9.0.2/32"));
	assert_non_null(strstr(out.config, "DNS = 10.9.0.1"));
	assert_non_null(strstr(out.config, "Endpoint = vpn.example.com:51820"));
	assert_non_null(strstr(out.config, "AllowedIPs = 0.0.0.0/0, ::/0"));
	/* the key hash finds the user; the store never sees the key */
	crypto_hash_sha256(h, (unsigned char *)out.api_key, 64);
	assert_int_equal(U->find_by_key_hash(f->u, h, id), EVPN_OK);
	assert_string_equal(id, "alice");
	h[0] ^= 1;
	assert_int_equal(U->find_by_key_hash(f->u, h, id), EVPN_ERR_NOTFOUND);
	assert_int_equal(memstore_count(f->ms, "users/alice/"), 5);
	assert_int_equal(memstore_count(f->ms, "addresses/10.9.0.2"), 1);
	U->release(f->u, &out);
	/* the config rendered later has no private key */
	char *cfg;
	assert_int_equal(U->render_config(f->u, "alice", &cfg), EVPN_OK);
	assert_non_null(strstr(cfg, "<paste"));
	free(cfg);
	assert_int_equal(U->get(f->u, "alice", &u), EVPN_OK);
	assert_int_equal(U->count(f->u), 1);
	fx_free(f);
}

static void test_create_with_key_and_errors(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_user_created out;
	uint8_t sk[32], pk[32];
	char b64[45];

	crypto_box_keypair(pk, sk);
	evpn_key_b64_for_test(pk, b64);
	assert_int_equal(create(f, "bob", b64, 0, &out), EVPN_OK);
	assert_string_equal(out.user.public_key, b64);
	assert_non_null(strstr(out.config, "<paste"));
	U->release(f->u, &out);

	assert_int_equal(create(f, "bob", NULL, 0, &out), EVPN_ERR_EXISTS);
	assert_int_equal(create(f, "Bob", NULL, 0, &out), EVPN_ERR_INVAL);
	assert_int_equal(create(f, "-bob", NULL, 0, &out), EVPN_ERR_INVAL);
	assert_int_equal(create(f, "", NULL, 0, &out), EVPN_ERR_INVAL);
	assert_int_equal(create(f, "a/b", NULL, 0, &out), EVPN_ERR_INVAL);
	assert_int_equal(create(f, "x", "not base64", 0, &out), EVPN_ERR_INVAL);
	/* all-zero point: low order, refused */
	assert_int_equal(
		create(f, "x",
		       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0, &out),
		EVPN_ERR_INVAL);
	assert_int_equal(create(f, "x", NULL, -5, &out), EVPN_ERR_INVAL);
	assert_int_equal(U->count(f->u), 1);
	fx_free(f);
}

static void test_pool_exhaustion_and_reuse(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/29"); /* 5 clients */
	struct evpn_user_created out;
	struct evpn_users_error err;
	char id[16];

	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "u%d", i);
		assert_int_equal(create(f, id, NULL, 0, &out), EVPN_OK);
		U->release(f->u, &out);
	}
	assert_int_equal(create(f, "u5", NULL, 0, &out), EVPN_ERR_FULL);
	/* the failed create left nothing behind */
	assert_int_equal(memstore_count(f->ms, "users/u5/"), 0);
	assert_int_equal(U->remove(f->u, "u2", &err), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "users/u2/"), 0);
	assert_int_equal(memstore_count(f->ms, "addresses/10.9.0.4"), 0);
	assert_int_equal(create(f, "u5", NULL, 0, &out), EVPN_OK);
	assert_string_equal(out.user.address, "10.9.0.4/32");
	U->release(f->u, &out);
	assert_int_equal(U->remove(f->u, "nobody", &err), EVPN_ERR_NOTFOUND);
	fx_free(f);
}

/* The store dies after k writes, for every k of a create: the create fails
 * with UNAVAILABLE and, once the store is back, nothing of it remains. */
static void test_rollback_every_step(void **state)
{
	for (long k = 0; k < 9; k++) {
		struct fixture *f = fx_new("10.9.0.0/24");
		struct evpn_user_created out;
		size_t before = memstore_count(f->ms, "");

		memstore_fail_after(f->ms, k);
		assert_int_equal(create(f, "carol", NULL, 3600, &out),
				 EVPN_ERR_UNAVAILABLE);
		memstore_fail_after(f->ms, -1);
		/* what the rollback could not remove, the next load sweeps
		 * (grace 0 here: the crash is "old") */
		f->u->opts.partial_grace = -1;
		assert_int_equal(evpn_users_load(f->u), EVPN_OK);
		if (k == 8) {
			/* The store died after the commit mark, before the
			 * answer: the user exists, complete, never half; a
			 * full load indexes it. (The client saw 503 and gets
			 * 409 on retry: the usual ambiguity of a lost reply.)
			 */
			assert_int_equal(U->count(f->u), 1);
			assert_int_equal(memstore_count(f->ms, "users/carol/"),
					 6);
			assert_int_equal(memstore_count(f->ms, "peers/carol"),
					 1);
			fx_free(f);
			continue;
		}
		assert_int_equal(U->count(f->u), 0);
		assert_int_equal(memstore_count(f->ms, "users/"), 0);
		assert_int_equal(memstore_count(f->ms, "addresses/"), 0);
		assert_int_equal(memstore_count(f->ms, ""), before);
		fx_free(f);
	}
}

static void test_load_sweeps_and_keeps(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_user_created out;
	struct evpn_user u;

	assert_int_equal(create(f, "dave", NULL, 0, &out), EVPN_OK);
	U->release(f->u, &out);
	/* a crash mid-create long ago: claim + created-at, no status */
	memstore_put_raw(f->ms, "users/old/created-at", "2020-01-01T00:00:00Z");
	memstore_put_raw(f->ms, "users/old/address", "10.9.0.9/32");
	memstore_put_raw(f->ms, "addresses/10.9.0.9", "old");
	/* a create in progress elsewhere, right now: must be kept */
	char now[32];
	evpn_rfc3339_for_test(now);
	memstore_put_raw(f->ms, "users/new/created-at", now);
	memstore_put_raw(f->ms, "addresses/10.9.0.10", "new");
	/* an orphan claim */
	memstore_put_raw(f->ms, "addresses/10.9.0.11", "ghost");
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	assert_int_equal(U->count(f->u), 1);
	assert_int_equal(U->get(f->u, "dave", &u), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "users/old/"), 0);
	assert_int_equal(memstore_count(f->ms, "addresses/10.9.0.9"), 0);
	assert_int_equal(memstore_count(f->ms, "addresses/10.9.0.11"), 0);
	assert_int_equal(memstore_count(f->ms, "users/new/"), 1);
	assert_int_equal(memstore_count(f->ms, "addresses/10.9.0.10"), 1);
	fx_free(f);
}

/* The compact index: what start-up reads; repaired by full loads. */
static void test_index(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_user_created out;
	struct evpn_users_error err;
	struct evpn_user u;

	assert_int_equal(create(f, "ivy", NULL, 0, &out), EVPN_OK);
	U->release(f->u, &out);
	assert_int_equal(create(f, "jay", NULL, 0, &out), EVPN_OK);
	U->release(f->u, &out);
	assert_int_equal(memstore_count(f->ms, "peers/"), 2);
	assert_int_equal(memstore_count(f->ms, "meta/peers-index"), 1);
	assert_int_equal(U->set_status(f->u, "jay", false, &u, &err), EVPN_OK);
	/* the quick load serves from the index alone, status included */
	assert_int_equal(evpn_users_load_quick(f->u), EVPN_OK);
	assert_int_equal(U->count(f->u), 2);
	assert_int_equal(U->get(f->u, "jay", &u), EVPN_OK);
	assert_int_equal(u.status, EVPN_USER_INACTIVE);
	/* a crash between status and the index: only a full load sees it,
	 * and repairs the index */
	assert_int_equal(memstore_ops.del(f->ms, "peers/ivy"), EVPN_OK);
	assert_int_equal(evpn_users_load_quick(f->u), EVPN_OK);
	assert_int_equal(U->count(f->u), 1);
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	assert_int_equal(U->count(f->u), 2);
	assert_int_equal(memstore_count(f->ms, "peers/ivy"), 1);
	/* a stale index record of a deleted user is dropped */
	memstore_put_raw(f->ms, "peers/ghost", "{\"public_key\":\"x\"}");
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "peers/ghost"), 0);
	/* delete removes the index record first */
	assert_int_equal(U->remove(f->u, "jay", &err), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "peers/jay"), 0);
	assert_int_equal(evpn_users_load_quick(f->u), EVPN_OK);
	assert_int_equal(U->count(f->u), 1);
	fx_free(f);
}

/* The value of a store key, "" when absent. */
static void stored(struct fixture *f, const char *key, char *out, size_t len)
{
	char *v = NULL;
	size_t vl;

	out[0] = '\0';
	if (memstore_ops.get(f->ms, key, &v, &vl) == EVPN_OK) {
		snprintf(out, len, "%.*s", (int)vl, v);
		free(v);
	}
}

static void test_status_and_master(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_user_created out;
	struct evpn_users_error err;
	struct evpn_user u;
	uint8_t h[32];
	char v[512];

	assert_int_equal(create(f, "erin", NULL, 0, &out), EVPN_OK);
	assert_int_equal(out.user.status, EVPN_USER_ACTIVE);
	U->release(f->u, &out);
	stored(f, "users/erin/status", v, sizeof(v));
	assert_string_equal(v, "active");
	stored(f, "peers/erin", v, sizeof(v));
	assert_non_null(strstr(v, "\"status\":\"active\""));
	assert_int_equal(U->set_status(f->u, "erin", false, &u, &err), EVPN_OK);
	assert_int_equal(u.status, EVPN_USER_INACTIVE);
	/* the store keeps the name, in the record and in the index */
	stored(f, "users/erin/status", v, sizeof(v));
	assert_string_equal(v, "inactive");
	stored(f, "peers/erin", v, sizeof(v));
	assert_non_null(strstr(v, "\"status\":\"inactive\""));
	/* and both loads read it back into the enum */
	assert_int_equal(evpn_users_load_quick(f->u), EVPN_OK);
	assert_int_equal(U->get(f->u, "erin", &u), EVPN_OK);
	assert_int_equal(u.status, EVPN_USER_INACTIVE);
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	assert_int_equal(U->get(f->u, "erin", &u), EVPN_OK);
	assert_int_equal(u.status, EVPN_USER_INACTIVE);
	assert_int_equal(U->set_status(f->u, "nope", true, &u, &err),
			 EVPN_ERR_NOTFOUND);
	assert_int_equal(U->master_key_hash(f->u, h), EVPN_OK);
	assert_int_equal(U->health(f->u), EVPN_OK);
	memstore_fail_after(f->ms, 0);
	assert_int_equal(U->health(f->u), EVPN_ERR_UNAVAILABLE);
	assert_int_equal(U->set_status(f->u, "erin", true, &u, &err),
			 EVPN_ERR_UNAVAILABLE);
	memstore_fail_after(f->ms, -1);
	fx_free(f);
}

static void test_ttl_expiry(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_user_created out;

	assert_int_equal(create(f, "brief", NULL, 1, &out), EVPN_OK);
	assert_true(out.user.expires_at[0] != '\0');
	U->release(f->u, &out);
	assert_int_equal(create(f, "stays", NULL, 0, &out), EVPN_OK);
	U->release(f->u, &out);
	assert_int_equal(evpn_users_start(f->u), EVPN_OK);
	for (int i = 0; i < 40 && U->count(f->u) != 1; i++)
		usleep(100000);
	evpn_users_stop(f->u);
	assert_int_equal(U->count(f->u), 1);
	assert_int_equal(memstore_count(f->ms, "users/brief/"), 0);
	fx_free(f);
}

struct racer {
	struct fixture *f;
	int idx;
	char addr[5][64];
	int ok;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (int i = 0; i < 5; i++) {
		struct evpn_user_created out;
		char id[32];

		snprintf(id, sizeof(id), "r%d-%d", r->idx, i);
		if (create(r->f, id, NULL, 0, &out) == EVPN_OK) {
			snprintf(r->addr[r->ok++], 64, "%s", out.user.address);
			U->release(r->f->u, &out);
		}
	}
	return NULL;
}

static void test_concurrent_creates(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct racer r[10];
	pthread_t t[10];

	for (int i = 0; i < 10; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].f = f;
		r[i].idx = i;
		pthread_create(&t[i], NULL, race, &r[i]);
	}
	for (int i = 0; i < 10; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(r[i].ok, 5);
		for (int j = 0; j < 10; j++)
			for (int a = 0; a < 5; a++)
				for (int b = 0; b < 5; b++)
					if (i != j || a != b)
						assert_string_not_equal(
							r[i].addr[a],
							r[j].addr[b]);
	}
	assert_int_equal(memstore_count(f->ms, "addresses/"), 50);
	fx_free(f);
}

/* network.pool6: each user also gets the paired IPv6 address, in the API
 * record and the config, without a record of its own in the store; and the
 * resident (compact) form gives back exactly what create answered. */
static void test_pool6_and_resident_form(void **state)
{
	struct fixture *f;
	struct evpn_user_created out;
	struct evpn_user u;
	char *cfg;

	(void)state;
	fx_pool6 = "fd09::/64";
	f = fx_new("10.9.0.0/24");
	fx_pool6 = NULL;
	assert_int_equal(create(f, "alice", NULL, 3600, &out), EVPN_OK);
	assert_string_equal(out.user.address, "10.9.0.2/32");
	assert_string_equal(out.user.address6, "fd09::2/128");
	assert_non_null(
		strstr(out.config, "Address = 10.9.0.2/32, fd09::2/128\n"));
	assert_int_equal(memstore_count(f->ms, "users/alice/"), 6);
	/* reloaded from the index and from the records: the same user */
	for (int full = 0; full < 2; full++) {
		assert_int_equal(full ? evpn_users_load(f->u)
				      : evpn_users_load_quick(f->u),
				 EVPN_OK);
		assert_int_equal(U->get(f->u, "alice", &u), EVPN_OK);
		assert_memory_equal(&u, &out.user, sizeof(u));
	}
	U->release(f->u, &out);
	assert_int_equal(U->render_config(f->u, "alice", &cfg), EVPN_OK);
	assert_non_null(strstr(cfg, "Address = 10.9.0.2/32, fd09::2/128\n"));
	free(cfg);
	fx_free(f);

	/* without pool6: no IPv6 address anywhere */
	f = fx_new("10.9.0.0/24");
	assert_int_equal(create(f, "bob", NULL, 0, &out), EVPN_OK);
	assert_string_equal(out.user.address6, "");
	assert_non_null(strstr(out.config, "Address = 10.9.0.2/32\n"));
	U->release(f->u, &out);
	fx_free(f);
}

/* 2.0: the status is an enum in struct evpn_user; its names are the wire
 * format (JSON, store, evpnctl), and 0 is no status. */
static void test_status_names(void **state)
{
	assert_null(evpn_user_status_name((enum evpn_user_status)0));
	assert_null(evpn_user_status_name((enum evpn_user_status)3));
	assert_string_equal(evpn_user_status_name(EVPN_USER_ACTIVE), "active");
	assert_string_equal(evpn_user_status_name(EVPN_USER_INACTIVE),
			    "inactive");
	assert_int_equal(evpn_user_status_parse("active"), EVPN_USER_ACTIVE);
	assert_int_equal(evpn_user_status_parse("inactive"),
			 EVPN_USER_INACTIVE);
	assert_int_equal(evpn_user_status_parse("Active"), 0);
	assert_int_equal(evpn_user_status_parse(""), 0);
	assert_int_equal(evpn_user_status_parse(NULL), 0);
}

static void key_pair(char b64[45], char claim[96])
{
	uint8_t sk[32], pk[32];
	char hex[65];

	crypto_box_keypair(pk, sk);
	evpn_key_b64_for_test(pk, b64);
	sodium_bin2hex(hex, sizeof(hex), pk, 32);
	snprintf(claim, 96, "public-keys/%s", hex);
}

static int create_err(struct fixture *f, const char *id, const char *pub,
		      struct evpn_users_error *err)
{
	struct evpn_user_create req = {.client_id = id, .public_key = pub};
	struct evpn_user_created out;
	int r;

	memset(err, 0, sizeof(*err));
	r = U->create(f->u, &req, &out, err);
	if (r == EVPN_OK)
		U->release(f->u, &out);
	return r;
}

/* One public key, one user: a second user with alice's key would take over
 * her peer (the transport knows peers by key). The key is claimed in the
 * store like an address, so this holds across instances too. */
static void test_public_key_unique(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24"), *g;
	struct evpn_users_error err;
	struct evpn_user u;
	char b64[45], claim[96], v[96], other[45];

	(void)state;
	key_pair(b64, claim);
	assert_int_equal(create_err(f, "alice", b64, &err), EVPN_OK);
	stored(f, claim, v, sizeof(v));
	assert_string_equal(v, "alice");

	assert_int_equal(create_err(f, "mallory", b64, &err), EVPN_ERR_EXISTS);
	assert_int_equal(err.code, EVPN_ERR_EXISTS);
	assert_string_equal(err.reason, "public_key_in_use");
	assert_null(strstr(err.message, b64));
	/* nothing of mallory; alice untouched */
	assert_int_equal(memstore_count(f->ms, "users/mallory/"), 0);
	assert_int_equal(memstore_count(f->ms, "peers/mallory"), 0);
	assert_int_equal(memstore_count(f->ms, "addresses/"), 1);
	assert_int_equal(U->get(f->u, "mallory", &u), EVPN_ERR_NOTFOUND);
	assert_int_equal(U->remove(f->u, "mallory", &err), EVPN_ERR_NOTFOUND);
	assert_int_equal(U->get(f->u, "alice", &u), EVPN_OK);
	assert_string_equal(u.public_key, b64);
	assert_string_equal(u.address, "10.9.0.2/32");
	stored(f, claim, v, sizeof(v));
	assert_string_equal(v, "alice");
	/* a duplicate client_id is still the plain 409 */
	key_pair(other, v);
	assert_int_equal(create_err(f, "alice", other, &err), EVPN_ERR_EXISTS);
	assert_string_equal(err.reason, "");
	assert_int_equal(memstore_count(f->ms, v), 0);

	/* another instance on the same store, which has not loaded alice */
	g = fx_new_on("10.9.0.0/24", f->ms);
	key_pair(b64, claim);
	assert_int_equal(create_err(f, "bob", b64, &err), EVPN_OK);
	assert_int_equal(create_err(g, "eve", b64, &err), EVPN_ERR_EXISTS);
	assert_string_equal(err.reason, "public_key_in_use");
	assert_int_equal(memstore_count(f->ms, "users/eve/"), 0);
	stored(f, claim, v, sizeof(v));
	assert_string_equal(v, "bob");

	/* deleting the owner frees the key */
	assert_int_equal(U->remove(f->u, "bob", &err), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, claim), 0);
	assert_int_equal(create_err(g, "eve", b64, &err), EVPN_OK);
	stored(f, claim, v, sizeof(v));
	assert_string_equal(v, "eve");
	fx_free(g);
	fx_free(f);
}

static void put_user(struct fixture *f, const char *id, const char *created,
		     const char *pub, const char *ip)
{
	char k[128], v[64];

	snprintf(k, sizeof(k), "users/%s/created-at", id);
	memstore_put_raw(f->ms, k, created);
	snprintf(k, sizeof(k), "users/%s/public-key", id);
	memstore_put_raw(f->ms, k, pub);
	snprintf(k, sizeof(k), "users/%s/address", id);
	snprintf(v, sizeof(v), "%s/32", ip);
	memstore_put_raw(f->ms, k, v);
	snprintf(k, sizeof(k), "users/%s/status", id);
	memstore_put_raw(f->ms, k, "active");
	snprintf(k, sizeof(k), "addresses/%s", ip);
	memstore_put_raw(f->ms, k, id);
}

/* Users stored before keys were claimed: a load claims their keys; two that
 * share one keep the first, and the other is reported, not served, and not
 * deleted. */
static void test_public_key_claims_for_old_users(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_users_error err;
	struct evpn_user u;
	char k1[45], c1[96], k3[45], c3[96], v[80];

	(void)state;
	key_pair(k1, c1);
	key_pair(k3, c3);
	put_user(f, "old2", "2021-01-01T00:00:00Z", k1, "10.9.0.6");
	put_user(f, "old1", "2020-01-01T00:00:00Z", k1, "10.9.0.5");
	put_user(f, "old3", "2020-06-01T00:00:00Z", k3, "10.9.0.7");
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	assert_int_equal(U->get(f->u, "old1", &u), EVPN_OK);
	assert_int_equal(U->get(f->u, "old2", &u), EVPN_ERR_NOTFOUND);
	assert_int_equal(U->get(f->u, "old3", &u), EVPN_OK);
	stored(f, c1, v, sizeof(v));
	assert_string_equal(v, "old1");
	stored(f, c3, v, sizeof(v));
	assert_string_equal(v, "old3");
	/* old2 is not served, but nothing of it is lost */
	assert_int_equal(memstore_count(f->ms, "users/old2/"), 4);
	assert_int_equal(memstore_count(f->ms, "addresses/10.9.0.6"), 1);
	assert_int_equal(memstore_count(f->ms, "peers/old2"), 0);
	assert_int_equal(create_err(f, "new", k3, &err), EVPN_ERR_EXISTS);
	assert_string_equal(err.reason, "public_key_in_use");
	/* the same again (the decision is stable) */
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	assert_int_equal(U->get(f->u, "old1", &u), EVPN_OK);
	assert_int_equal(U->get(f->u, "old2", &u), EVPN_ERR_NOTFOUND);

	/* a store whose index is complete but whose keys were never claimed
	 * (written by an evpnd before claims): the quick start-up load does
	 * not trust it and claims the keys */
	assert_int_equal(memstore_ops.del(f->ms, c3), EVPN_OK);
	assert_int_equal(memstore_ops.del(f->ms, "meta/public-key-claims"),
			 EVPN_OK);
	assert_int_equal(evpn_users_load_quick(f->u), EVPN_OK);
	stored(f, c3, v, sizeof(v));
	assert_string_equal(v, "old3");
	/* an orphan key claim (its user is gone) is swept by a full load */
	memstore_put_raw(f->ms, "public-keys/00ff", "ghost");
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "public-keys/00ff"), 0);
	fx_free(f);
}

/* A reload lists the store, then installs what it listed. Changes made
 * through this instance in between (the listing of thousands of users over
 * SSM takes seconds) must survive it: a user just created here (201) must
 * not vanish, a user just deleted here must not come back, and the index
 * other instances read must not lose or regain them either. */
static void during_load(void *arg)
{
	struct fixture *f = arg;
	struct evpn_users_error err;
	struct evpn_user u;

	assert_int_equal(create_err(f, "during", NULL, &err), EVPN_OK);
	assert_int_equal(U->remove(f->u, "early", &err), EVPN_OK);
	assert_int_equal(U->set_status(f->u, "flip", false, &u, &err), EVPN_OK);
}

static void test_reload_keeps_local_changes(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_users_error err;
	struct evpn_user u;
	char v[16];

	(void)state;
	for (int full = 0; full < 2; full++) {
		assert_int_equal(create_err(f, "early", NULL, &err), EVPN_OK);
		if (full)
			assert_int_equal(
				U->set_status(f->u, "flip", true, &u, &err),
				EVPN_OK);
		else
			assert_int_equal(create_err(f, "flip", NULL, &err),
					 EVPN_OK);
		memstore_after_list(f->ms, full ? "users/" : "peers/",
				    during_load, f);
		assert_int_equal(full ? evpn_users_load(f->u)
				      : evpn_users_load_quick(f->u),
				 EVPN_OK);
		assert_int_equal(U->get(f->u, "during", &u), EVPN_OK);
		assert_int_equal(U->get(f->u, "early", &u), EVPN_ERR_NOTFOUND);
		assert_int_equal(U->get(f->u, "flip", &u), EVPN_OK);
		assert_int_equal(u.status, EVPN_USER_INACTIVE);
		assert_int_equal(U->count(f->u), 2);
		/* the store (and its index) agree */
		assert_int_equal(memstore_count(f->ms, "peers/during"), 1);
		assert_int_equal(memstore_count(f->ms, "peers/early"), 0);
		assert_int_equal(memstore_count(f->ms, "users/during/"), 5);
		assert_int_equal(memstore_count(f->ms, "addresses/"), 2);
		stored(f, "users/flip/status", v, sizeof(v));
		assert_string_equal(v, "inactive");
		assert_int_equal(evpn_users_load_quick(f->u), EVPN_OK);
		assert_int_equal(U->get(f->u, "during", &u), EVPN_OK);
		assert_int_equal(U->get(f->u, "early", &u), EVPN_ERR_NOTFOUND);
		assert_int_equal(U->remove(f->u, "during", &err), EVPN_OK);
	}
	fx_free(f);
}

/* A create that loses the client_id to another instance (the store already
 * has users/{id}/created-at) must not leave the id noted as changing here:
 * a noted id keeps its resident state (none) over every later load's, so
 * the other instance's user would never be served by this one. */
static void test_lost_id_race_still_loads(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24"), *g;
	struct evpn_users_error err;
	struct evpn_user u;

	(void)state;
	g = fx_new_on("10.9.0.0/24", f->ms);
	assert_int_equal(create_err(f, "alice", NULL, &err), EVPN_OK);
	/* g has not loaded alice: the store refuses its claim of the id */
	assert_int_equal(create_err(g, "alice", NULL, &err), EVPN_ERR_EXISTS);
	assert_int_equal(U->get(g->u, "alice", &u), EVPN_ERR_NOTFOUND);
	assert_int_equal(evpn_users_load(g->u), EVPN_OK);
	assert_int_equal(U->get(g->u, "alice", &u), EVPN_OK);
	assert_int_equal(evpn_users_load_quick(g->u), EVPN_OK);
	assert_int_equal(U->get(g->u, "alice", &u), EVPN_OK);
	fx_free(g);
	fx_free(f);
}

/* Split tunnels: normalised, validated, written only when not the default,
 * in the config, changed by update (also from a second instance on the
 * store), gone with the user. */
static void test_allowed_ips(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24"), *g;
	struct evpn_user_create req = {.client_id = "split"};
	struct evpn_user_update up = {.size = sizeof(up)};
	struct evpn_user_create_more more = {.size = sizeof(more)};
	struct evpn_user_created_more om = {.size = sizeof(om)};
	struct evpn_user_created out;
	struct evpn_users_error err = {0};
	char allowed[EVPN_ALLOWED_IPS_MAX], why[160], *cfg;
	static const char *const bad[] = {"",
					  "10.0.0.0",
					  "10.0.0.0/33",
					  "10.1.0.0/8",
					  "fd00::1/8",
					  "300.0.0.0/8",
					  "10.0.0.0/-1",
					  "10.0.0.0/8x",
					  "10.0.0.0/8,,nope",
					  " , ",
					  "::/129",
					  "10.0.0.0/"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(evpn_allowed_ips_normalize(bad[i], allowed,
							    why, sizeof(why)),
				 EVPN_ERR_INVAL);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(evpn_allowed_ips_normalize(" 10.0.0.0/8,FD00:0::/8 "
						    "192.168.1.0/24",
						    allowed, why, sizeof(why)),
			 EVPN_OK);
	assert_string_equal(allowed, "10.0.0.0/8, fd00::/8, 192.168.1.0/24");

	/* a bad list refuses the create and writes nothing */
	more.allowed_ips = "10.0.0.1/8";
	assert_int_equal(U->create_more(f->u, &req, &more, &out, &om, &err),
			 EVPN_ERR_INVAL);
	assert_non_null(strstr(err.message, "allowed_ips"));
	assert_int_equal(memstore_count(f->ms, "users/"), 0);

	/* the default is not stored */
	struct evpn_user_create full = {.client_id = "full"};
	assert_int_equal(U->create_more(f->u, &full, NULL, &out, &om, &err),
			 EVPN_OK);
	assert_string_equal(om.allowed_ips, EVPN_ALLOWED_IPS_DEFAULT);
	U->release(f->u, &out);
	assert_int_equal(memstore_count(f->ms, "users/full/allowed-ips"), 0);
	assert_int_equal(U->allowed_ips(f->u, "full", allowed), EVPN_OK);
	assert_string_equal(allowed, EVPN_ALLOWED_IPS_DEFAULT);

	more.allowed_ips = "10.0.0.0/8, 192.168.0.0/16";
	assert_int_equal(U->create_more(f->u, &req, &more, &out, &om, &err),
			 EVPN_OK);
	assert_string_equal(om.allowed_ips, "10.0.0.0/8, 192.168.0.0/16");
	assert_non_null(strstr(out.config, "AllowedIPs = 10.0.0.0/8, "
					   "192.168.0.0/16\n"));
	U->release(f->u, &out);
	assert_int_equal(U->render_config(f->u, "split", &cfg), EVPN_OK);
	assert_non_null(
		strstr(cfg, "AllowedIPs = 10.0.0.0/8, 192.168.0.0/16\n"));
	free(cfg);
	assert_int_equal(U->allowed_ips(f->u, "nobody", allowed),
			 EVPN_ERR_NOTFOUND);

	/* a second instance on the store sees a change made by the first
	 * at once: the value is read from the store */
	g = fx_new_on("10.9.0.0/24", f->ms);
	up.allowed_ips = "fd00::/8";
	assert_int_equal(U->update(f->u, "split", &up, NULL, &err), EVPN_OK);
	assert_int_equal(U->render_config(g->u, "split", &cfg), EVPN_OK);
	assert_non_null(strstr(cfg, "AllowedIPs = fd00::/8\n"));
	free(cfg);
	/* a bad update changes nothing */
	up.allowed_ips = "fd00::/200";
	up.set_status = true;
	up.active = false;
	assert_int_equal(U->update(f->u, "split", &up, NULL, &err),
			 EVPN_ERR_INVAL);
	assert_int_equal(U->allowed_ips(f->u, "split", allowed), EVPN_OK);
	assert_string_equal(allowed, "fd00::/8");
	/* status and allowed_ips together; back to the default drops the
	 * record */
	up.allowed_ips = "0.0.0.0/0 ::/0";
	struct evpn_user u;
	assert_int_equal(U->update(f->u, "split", &up, &u, &err), EVPN_OK);
	assert_int_equal(u.status, EVPN_USER_INACTIVE);
	assert_int_equal(memstore_count(f->ms, "users/split/allowed-ips"), 0);
	up.allowed_ips = "10.0.0.0/8";
	up.set_status = false;
	assert_int_equal(U->update(f->u, "split", &up, NULL, &err), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "users/split/allowed-ips"), 1);
	assert_int_equal(U->remove(f->u, "split", &err), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "users/split/"), 0);
	fx_free(g);
	fx_free(f);
}

/* Audit log: entries stored and listed newest first in pages whose
 * cursors chain without loss or repeat, seen by a second instance,
 * swept after the retention; malformed cursors refused. */
struct audit_seen {
	struct evpn_audit_entry e[64];
	size_t n;
};

static int audit_cb(void *arg, const struct evpn_audit_entry *e)
{
	struct audit_seen *s = arg;

	assert_true(s->n < 64);
	s->e[s->n++] = *e;
	return 0;
}

static void test_audit(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24"), *g;
	struct audit_seen seen = {0};
	char next[48], cursor[48] = "", target[16];
	size_t pages = 0;

	(void)state;
	for (int i = 0; i < 23; i++) {
		struct evpn_audit_event ev = {.size = sizeof(ev),
					      .action = "patch",
					      .actor = "master",
					      .source = "127.0.0.1",
					      .target = target,
					      .outcome =
						      i == 5 ? "error" : "ok",
					      .status = i == 5 ? 409 : 200,
					      .detail = "status inactive"};

		snprintf(target, sizeof(target), "u%02d", i);
		assert_int_equal(U->audit(f->u, &ev), EVPN_OK);
	}
	assert_int_equal(memstore_count(f->ms, "audit/"), 23);
	/* from another instance, in pages of 5 */
	g = fx_new_on("10.9.0.0/24", f->ms);
	do {
		assert_int_equal(
			U->audit_list(g->u, cursor, 5, audit_cb, &seen, next),
			EVPN_OK);
		memcpy(cursor, next, sizeof(cursor));
		pages++;
	} while (next[0] && pages < 10);
	assert_int_equal(seen.n, 23);
	assert_true(pages == 5);
	for (size_t i = 0; i < seen.n; i++) {
		snprintf(target, sizeof(target), "u%02zu", 22 - i);
		assert_string_equal(seen.e[i].target, target);
		assert_string_equal(seen.e[i].action, "patch");
		assert_string_equal(seen.e[i].actor, "master");
		assert_string_equal(seen.e[i].source, "127.0.0.1");
		assert_int_equal(seen.e[i].status, 22 - i == 5 ? 409 : 200);
		assert_string_equal(seen.e[i].outcome,
				    22 - i == 5 ? "error" : "ok");
		assert_int_equal(strlen(seen.e[i].time), 24);
		if (i)
			assert_true(strcmp(seen.e[i - 1].id, seen.e[i].id) < 0);
	}
	/* bad cursors */
	assert_int_equal(U->audit_list(g->u, "nope", 5, audit_cb, &seen, next),
			 EVPN_ERR_INVAL);
	assert_int_equal(U->audit_list(g->u,
				       "7997879/9999999999999999999-0000000x",
				       5, audit_cb, &seen, next),
			 EVPN_ERR_INVAL);
	/* retention: an entry from 2020 goes, today's stay */
	memstore_put_raw(f->ms, "audit/79799898/8422000000000000000-00000000",
			 "{\"action\":\"create\"}");
	assert_int_equal(memstore_count(f->ms, "audit/"), 24);
	users_audit_sweep(f->u, 1e9);
	assert_int_equal(memstore_count(f->ms, "audit/"), 23);
	fx_free(g);
	fx_free(f);
}

/* One-time links: once, on any instance, exactly one of concurrent
 * redeems; a generated private key only in the link's answer (never in
 * the store in clear); expiry; sweep. */
struct redeem_race {
	struct evpn_users *u;
	const char *token;
	int rc;
};

static void *redeem_thread(void *arg)
{
	struct redeem_race *r = arg;
	struct evpn_users_error err = {0};
	char id[EVPN_CLIENT_ID_MAX + 1], *cfg = NULL;

	r->rc = U->link_redeem(r->u, r->token, &cfg, id, &err);
	free(cfg);
	return NULL;
}

struct find_ctx {
	const char *needle;
	bool found;
};

static int find_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct find_ctx *f = arg;

	(void)key;
	if (memmem(value, len, f->needle, strlen(f->needle)))
		f->found = true;
	return 0;
}

static void test_links(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24"), *g;
	struct evpn_user_create req = {.client_id = "ln"};
	struct evpn_user_create_more more = {.size = sizeof(more),
					     .link_ttl_seconds = 600};
	struct evpn_user_created_more om = {.size = sizeof(om)};
	struct evpn_users_error err = {0};
	struct evpn_user_created out;
	struct evpn_link link;
	struct redeem_race race[8];
	pthread_t th[8];
	char id[EVPN_CLIENT_ID_MAX + 1], *cfg, *p, priv_b64[45];
	uint8_t priv[32], pub[32];
	int wins = 0;

	(void)state;
	assert_int_equal(U->create_more(f->u, &req, &more, &out, &om, &err),
			 EVPN_OK);
	assert_int_equal(strlen(om.link.token), 64);
	/* a link asked for with nowhere to answer it: refused, nothing made */
	struct evpn_user_create req2 = {.client_id = "ln2"};
	struct evpn_user_created out2;
	assert_int_equal(U->create_more(f->u, &req2, &more, &out2, NULL, &err),
			 EVPN_ERR_INVAL);
	assert_int_equal(memstore_count(f->ms, "users/ln2/"), 0);
	/* a caller that knows fewer fields (a smaller size) asks for none */
	struct evpn_user_create_more small = {
		.size = offsetof(struct evpn_user_create_more, allowed_ips),
		.allowed_ips = "bogus",
		.link_ttl_seconds = 600};
	assert_int_equal(U->create_more(f->u, &req2, &small, &out2, NULL, &err),
			 EVPN_OK);
	U->release(f->u, &out2);
	assert_non_null(strstr(out.config, "<paste"));
	memcpy(&link, &om.link, sizeof(link));
	U->release(f->u, &out);
	/* redeemed on another instance: the key pair's private half */
	g = fx_new_on("10.9.0.0/24", f->ms);
	assert_int_equal(U->link_redeem(g->u, link.token, &cfg, id, &err),
			 EVPN_OK);
	assert_string_equal(id, "ln");
	p = strstr(cfg, "PrivateKey = ");
	assert_non_null(p);
	snprintf(priv_b64, sizeof(priv_b64), "%.44s", p + 13);
	assert_true(evpn_b64_key(priv_b64, priv));
	crypto_scalarmult_base(pub, priv);
	struct evpn_user u;
	assert_int_equal(U->get(f->u, "ln", &u), EVPN_OK);
	char pub_b64[45];
	evpn_key_b64(pub, pub_b64);
	assert_string_equal(pub_b64, u.public_key);
	free(cfg);
	/* the private key is nowhere in the store */
	struct find_ctx fc = {.needle = priv_b64};
	assert_int_equal(memstore_ops.list(f->ms, "", find_cb, &fc), EVPN_OK);
	assert_false(fc.found);
	/* once */
	memset(&err, 0, sizeof(err));
	assert_int_equal(U->link_redeem(f->u, link.token, &cfg, id, &err),
			 EVPN_ERR_NOTFOUND);
	assert_string_equal(err.reason, "link_gone");
	assert_null(cfg);
	/* a token nobody made */
	memset(&err, 0, sizeof(err));
	link.token[0] = link.token[0] == 'a' ? 'b' : 'a';
	assert_int_equal(U->link_redeem(f->u, link.token, &cfg, id, &err),
			 EVPN_ERR_NOTFOUND);
	assert_string_equal(err.reason, "");
	assert_int_equal(U->link_redeem(f->u, "../x", &cfg, id, &err),
			 EVPN_ERR_NOTFOUND);

	/* a later link: the placeholder (the server has no private key) */
	assert_int_equal(U->link_create(f->u, "ln", 600, &link, &err), EVPN_OK);
	assert_int_equal(U->link_create(f->u, "nobody", 600, &link, &err),
			 EVPN_ERR_NOTFOUND);
	assert_int_equal(U->link_create(f->u, "ln", 0, &link, &err),
			 EVPN_ERR_INVAL);
	assert_int_equal(U->link_create(f->u, "ln", 600, &link, &err), EVPN_OK);
	/* eight redeems at once, on two instances: one wins */
	for (int i = 0; i < 8; i++) {
		race[i] = (struct redeem_race){i % 2 ? g->u : f->u, link.token,
					       -99};
		assert_int_equal(
			pthread_create(&th[i], NULL, redeem_thread, &race[i]),
			0);
	}
	for (int i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		wins += race[i].rc == EVPN_OK;
		if (race[i].rc != EVPN_OK)
			assert_int_equal(race[i].rc, EVPN_ERR_NOTFOUND);
	}
	assert_int_equal(wins, 1);

	/* expiry */
	assert_int_equal(U->link_create(f->u, "ln", 1, &link, &err), EVPN_OK);
	sleep(2);
	memset(&err, 0, sizeof(err));
	assert_int_equal(U->link_redeem(f->u, link.token, &cfg, id, &err),
			 EVPN_ERR_NOTFOUND);
	assert_string_equal(err.reason, "link_gone");
	/* a link outlives neither its user nor a namesake created later */
	assert_int_equal(U->link_create(f->u, "ln", 600, &link, &err), EVPN_OK);
	assert_int_equal(U->remove(f->u, "ln", &err), EVPN_OK);
	sleep(1); /* a new created-at */
	assert_int_equal(create(f, "ln", NULL, 0, &out), EVPN_OK);
	U->release(f->u, &out);
	cfg = NULL;
	assert_int_equal(U->link_redeem(f->u, link.token, &cfg, id, &err),
			 EVPN_ERR_NOTFOUND);
	assert_null(cfg);
	/* the sweep drops what expired over an hour ago, keeps the rest */
	memstore_put_raw(f->ms, "links/00/record", "{\"expires\":1000}");
	memstore_put_raw(f->ms, "links/00/burned", "{\"expires\":1000}");
	size_t before = memstore_count(f->ms, "links/");
	users_links_sweep(f->u, 1e9);
	assert_int_equal(memstore_count(f->ms, "links/"), before - 2);
	fx_free(g);
	fx_free(f);
}

/* Data quotas, with the transport's counters played by the test: usage
 * counted and written at the interval, at the quota the user goes
 * inactive with reason "quota" (audited), a PATCH that raises the quota
 * brings it back, a reset counts from 0, a second instance reads the
 * same state, a delete leaves nothing. */
static uint64_t fake_counter;

static int fake_stats(struct evpn_users *u, const char *id,
		      struct evpn_peer_stats *out)
{
	(void)u;
	(void)id;
	memset(out, 0, sizeof(*out));
	out->rx_bytes = fake_counter / 2;
	out->tx_bytes = fake_counter - fake_counter / 2;
	return EVPN_OK;
}

static uint64_t used_of(struct evpn_users *u, const char *id, char *reason)
{
	struct evpn_user_quota q = {.size = sizeof(q)};

	assert_int_equal(U->quota(u, id, &q), EVPN_OK);
	if (reason)
		memcpy(reason, q.reason, sizeof(q.reason));
	return q.used_bytes;
}

static void test_quota(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24"), *g;
	struct evpn_user_create req = {.client_id = "q"};
	struct evpn_user_create_more more = {.size = sizeof(more),
					     .quota_bytes = 1000};
	struct evpn_user_update up = {.size = sizeof(up)};
	struct evpn_users_error err = {0};
	struct evpn_user_created out;
	struct audit_seen seen = {0};
	struct evpn_user u;
	char reason[16], next[48];

	(void)state;
	f->u->quota_stats = fake_stats;
	fake_counter = 0;
	assert_int_equal(U->create_more(f->u, &req, &more, &out, NULL, &err),
			 EVPN_OK);
	U->release(f->u, &out);
	assert_int_equal(memstore_count(f->ms, "quotas/q"), 1);
	users_quota_tick(f->u, 100);
	fake_counter = 400;
	users_quota_tick(f->u, 101); /* first write is due at once */
	assert_int_equal(used_of(f->u, "q", reason), 400);
	assert_string_equal(reason, "");
	fake_counter = 600;
	users_quota_tick(f->u, 102); /* counted, written only at 131 */
	assert_int_equal(used_of(f->u, "q", NULL), 600);
	g = fx_new_on("10.9.0.0/24", f->ms);
	assert_int_equal(used_of(g->u, "q", NULL), 400);
	users_quota_tick(f->u, 131.5);
	assert_int_equal(used_of(g->u, "q", NULL), 600);

	/* the quota: written and enforced at once */
	fake_counter = 1100;
	users_quota_tick(f->u, 132.5);
	assert_int_equal(U->get(f->u, "q", &u), EVPN_OK);
	assert_int_equal(u.status, EVPN_USER_INACTIVE);
	assert_int_equal(used_of(g->u, "q", reason), 1100);
	assert_string_equal(reason, "quota");
	assert_int_equal(U->audit_list(f->u, "", 1, audit_cb, &seen, next),
			 EVPN_OK);
	assert_string_equal(seen.e[0].action, "quota");
	assert_string_equal(seen.e[0].actor, "system");
	assert_string_equal(seen.e[0].target, "q");

	/* a higher quota brings it back */
	up.set_quota = true;
	up.quota_bytes = 5000;
	assert_int_equal(U->update(g->u, "q", &up, &u, &err), EVPN_OK);
	assert_int_equal(u.status, EVPN_USER_ACTIVE);
	assert_int_equal(used_of(f->u, "q", reason), 1100);
	assert_string_equal(reason, "");
	/* a reset counts from 0; a peer added again (counter back at 0)
	 * is counted from there */
	up.set_quota = false;
	up.reset_usage = true;
	assert_int_equal(U->update(f->u, "q", &up, NULL, &err), EVPN_OK);
	assert_int_equal(used_of(f->u, "q", NULL), 0);
	fake_counter = 50;
	users_quota_tick(f->u, 200);
	assert_int_equal(used_of(f->u, "q", NULL), 50);
	/* no quota: the records go */
	up.reset_usage = false;
	up.set_quota = true;
	up.quota_bytes = 0;
	assert_int_equal(U->update(f->u, "q", &up, NULL, &err), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "quotas/"), 0);
	assert_int_equal(memstore_count(f->ms, "users/q/quota"), 0);
	assert_int_equal(U->remove(f->u, "q", &err), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "users/q/"), 0);
	fx_free(g);
	fx_free(f);
}

/* Rate limits: stored with the user and in its index record, resident,
 * the default from users.rate_limit for users without one of their own,
 * changed and removed by PATCH, seen by a second instance after its
 * reload, refused out of range, gone with the user. */
static uint64_t rate_of(struct evpn_users *u, const char *id, bool *dflt)
{
	uint64_t bps = 42;

	assert_int_equal(U->rate_limit(u, id, &bps, dflt), EVPN_OK);
	return bps;
}

static char *stored_value(struct memstore *ms, const char *key)
{
	static char buf[512];
	char *v = NULL;
	size_t len;

	if (memstore_ops.get(ms, key, &v, &len) != EVPN_OK)
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, v);
	memstore_ops.free_value(ms, v, len);
	return buf;
}

static void test_rate_limit(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24"), *g;
	struct evpn_user_create req = {.client_id = "r"};
	struct evpn_user_create_more more = {.size = sizeof(more),
					     .set_rate_limit = true,
					     .rate_limit_bps = 20000000};
	struct evpn_user_update up = {.size = sizeof(up),
				      .set_rate_limit = true};
	struct evpn_users_error err = {0};
	struct evpn_user_created out;
	bool dflt;

	(void)state;
	assert_int_equal(U->create_more(f->u, &req, &more, &out, NULL, &err),
			 EVPN_OK);
	U->release(f->u, &out);
	req.client_id = "d";
	assert_int_equal(U->create_more(f->u, &req, NULL, &out, NULL, &err),
			 EVPN_OK);
	U->release(f->u, &out);
	assert_int_equal(rate_of(f->u, "r", &dflt), 20000000);
	assert_false(dflt);
	assert_string_equal(stored_value(f->ms, "users/r/rate-limit"),
			    "20000000");
	assert_non_null(strstr(stored_value(f->ms, "peers/r"),
			       "\"rate_limit\":20000000"));
	/* without one of its own: the default, none unless configured */
	assert_int_equal(rate_of(f->u, "d", &dflt), 0);
	assert_true(dflt);
	assert_null(stored_value(f->ms, "users/d/rate-limit"));
	f->u->opts.rate_limit = 5000000;
	assert_int_equal(rate_of(f->u, "d", &dflt), 5000000);
	assert_true(dflt);

	/* a second instance loads it (in full, then from the index) */
	g = fx_new_on("10.9.0.0/24", f->ms);
	assert_int_equal(rate_of(g->u, "r", &dflt), 20000000);
	up.rate_limit_bps = 1000000;
	assert_int_equal(U->update(f->u, "r", &up, NULL, &err), EVPN_OK);
	assert_int_equal(rate_of(f->u, "r", NULL), 1000000);
	assert_int_equal(rate_of(g->u, "r", NULL), 20000000);
	assert_int_equal(evpn_users_load_quick(g->u), EVPN_OK);
	assert_int_equal(rate_of(g->u, "r", NULL), 1000000);
	/* 0: none, even with a default */
	up.rate_limit_bps = 0;
	assert_int_equal(U->update(f->u, "r", &up, NULL, &err), EVPN_OK);
	assert_int_equal(rate_of(f->u, "r", &dflt), 0);
	assert_false(dflt);
	assert_string_equal(stored_value(f->ms, "users/r/rate-limit"), "0");
	assert_int_equal(evpn_users_load(g->u), EVPN_OK);
	assert_int_equal(rate_of(g->u, "r", &dflt), 0);
	assert_false(dflt);
	/* back to the default: the record goes */
	up.rate_limit_bps = EVPN_RATE_LIMIT_DEFAULT;
	assert_int_equal(U->update(f->u, "r", &up, NULL, &err), EVPN_OK);
	assert_int_equal(rate_of(f->u, "r", &dflt), 5000000);
	assert_true(dflt);
	assert_null(stored_value(f->ms, "users/r/rate-limit"));
	assert_null(strstr(stored_value(f->ms, "peers/r"), "rate_limit"));
	/* out of range: refused, nothing changed */
	up.rate_limit_bps = 7999;
	assert_int_equal(U->update(f->u, "r", &up, NULL, &err), EVPN_ERR_INVAL);
	assert_non_null(strstr(err.message, "rate_limit"));
	assert_int_equal(rate_of(f->u, "r", &dflt), 5000000);
	more.rate_limit_bps = 200000000000ULL;
	req.client_id = "big";
	assert_int_equal(U->create_more(f->u, &req, &more, &out, NULL, &err),
			 EVPN_ERR_INVAL);
	assert_int_equal(memstore_count(f->ms, "users/big/"), 0);
	/* a limit of its own goes with the user */
	up.rate_limit_bps = 3000000;
	assert_int_equal(U->update(f->u, "r", &up, NULL, &err), EVPN_OK);
	assert_int_equal(U->remove(f->u, "r", &err), EVPN_OK);
	assert_int_equal(memstore_count(f->ms, "users/r/"), 0);
	assert_int_equal(U->rate_limit(f->u, "r", NULL, NULL),
			 EVPN_ERR_NOTFOUND);
	fx_free(g);
	fx_free(f);
}

/* The rate limit reaches the transport: with the peer when it is added,
 * at once on a PATCH, and on another instance when its reload sees the
 * change (the transport is played by the test). */
struct fake_transport {
	uint8_t pub[EVPN_KEY_LEN];
	uint64_t rate;
	bool has_field;
	unsigned upserts;
};

static int ft_key(void *self, const uint8_t key[EVPN_KEY_LEN])
{
	(void)self;
	(void)key;
	return EVPN_OK;
}

static int ft_upsert(void *self, const struct evpn_peer_config *pc)
{
	struct fake_transport *t = self;

	memcpy(t->pub, pc->public_key, EVPN_KEY_LEN);
	t->has_field = EVPN_HAS_FIELD(pc, rate_limit_bps);
	t->rate = t->has_field ? pc->rate_limit_bps : 0;
	t->upserts++;
	return EVPN_OK;
}

static const struct evpn_transport_ops ft_ops = {
	.size = sizeof(ft_ops),
	.set_private_key = ft_key,
	.peer_upsert = ft_upsert,
};
static const struct evpn_plugin_desc ft_desc = {
	.size = sizeof(ft_desc),
	.name = "fake",
	.kind = EVPN_KIND_TRANSPORT,
	.vtable = &ft_ops,
};

static void attach_fake(struct fixture *f, struct evpn_plugin_inst *pi,
			struct fake_transport *t)
{
	memset(pi, 0, sizeof(*pi));
	memset(t, 0, sizeof(*t));
	pi->desc = &ft_desc;
	pi->self = t;
	pi->created = true;
	pi->kind = EVPN_KIND_TRANSPORT;
	f->core.plugins[EVPN_KIND_TRANSPORT] = pi;
	assert_int_equal(evpn_users_attach_transport(f->u), EVPN_OK);
}

static void test_rate_limit_peers(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24"), *g;
	struct evpn_plugin_inst fi, gi;
	struct fake_transport ft, gt;
	struct evpn_user_create req = {.client_id = "r"};
	struct evpn_user_create_more more = {.size = sizeof(more),
					     .set_rate_limit = true,
					     .rate_limit_bps = 20000000};
	struct evpn_user_update up = {.size = sizeof(up),
				      .set_rate_limit = true};
	struct evpn_users_error err = {0};
	struct evpn_user_created out;
	unsigned n;

	(void)state;
	attach_fake(f, &fi, &ft);
	assert_int_equal(U->create_more(f->u, &req, &more, &out, NULL, &err),
			 EVPN_OK);
	assert_true(ft.has_field);
	assert_int_equal(ft.rate, 20000000);
	U->release(f->u, &out);
	g = fx_new_on("10.9.0.0/24", f->ms);
	attach_fake(g, &gi, &gt);
	assert_int_equal(gt.rate, 20000000); /* handed over with the peer */
	/* PATCH: this instance's peer at once */
	n = ft.upserts;
	up.rate_limit_bps = 1000000;
	assert_int_equal(U->update(f->u, "r", &up, NULL, &err), EVPN_OK);
	assert_int_equal(ft.upserts, n + 1);
	assert_int_equal(ft.rate, 1000000);
	/* the other instance: at its reload (the sync) */
	assert_int_equal(gt.rate, 20000000);
	n = gt.upserts;
	assert_int_equal(evpn_users_load_quick(g->u), EVPN_OK);
	assert_int_equal(gt.upserts, n + 1);
	assert_int_equal(gt.rate, 1000000);
	/* a reload that changes nothing pushes nothing */
	assert_int_equal(evpn_users_load_quick(g->u), EVPN_OK);
	assert_int_equal(gt.upserts, n + 1);
	/* back to the default (configured on both) */
	f->u->opts.rate_limit = g->u->opts.rate_limit = 5000000;
	up.rate_limit_bps = EVPN_RATE_LIMIT_DEFAULT;
	assert_int_equal(U->update(f->u, "r", &up, NULL, &err), EVPN_OK);
	assert_int_equal(ft.rate, 5000000);
	assert_int_equal(evpn_users_load(g->u), EVPN_OK);
	assert_int_equal(gt.rate, 5000000);
	f->core.plugins[EVPN_KIND_TRANSPORT] = NULL;
	g->core.plugins[EVPN_KIND_TRANSPORT] = NULL;
	fx_free(g);
	fx_free(f);
}

/* GET /users/{id}'s split tunnel, quota and reason: read from the store
 * once, then served without store reads; a change through the same
 * instance shows at once, one through another instance sharing the store
 * within users.sync_interval; with a quota, usage and reason are read on
 * every call (they change with traffic, on every instance). */
static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_cached_extras(void **state)
{
	struct evpn_user_create req = {.client_id = "c"};
	struct evpn_user_update up = {.size = sizeof(up)};
	struct evpn_user_quota q = {.size = sizeof(q)};
	struct evpn_users_error err = {0};
	char allowed[EVPN_ALLOWED_IPS_MAX];
	struct evpn_user_created out;
	struct fixture *f, *g;
	double t0, seen = -1;
	size_t gets;

	(void)state;
	fx_sync_interval = 0.3;
	f = fx_new("10.9.0.0/24");
	assert_int_equal(U->create(f->u, &req, &out, &err), EVPN_OK);
	U->release(f->u, &out);
	g = fx_new_on("10.9.0.0/24", f->ms);
	fx_sync_interval = 0;
	for (int i = 0; i < 2; i++) {
		struct fixture *x = i ? g : f;

		assert_int_equal(U->allowed_ips(x->u, "c", allowed), EVPN_OK);
		assert_string_equal(allowed, EVPN_ALLOWED_IPS_DEFAULT);
		assert_int_equal(U->quota(x->u, "c", &q), EVPN_OK);
		assert_true(q.quota_bytes == 0 && q.reason[0] == '\0');
	}
	/* read once: the next GETs cost no store read */
	gets = memstore_gets(f->ms);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(U->allowed_ips(g->u, "c", allowed), EVPN_OK);
		assert_int_equal(U->quota(g->u, "c", &q), EVPN_OK);
		assert_int_equal(U->allowed_ips(f->u, "c", allowed), EVPN_OK);
	}
	assert_int_equal(memstore_gets(f->ms), gets);
	assert_int_equal(U->allowed_ips(f->u, "nobody", allowed),
			 EVPN_ERR_NOTFOUND);

	/* a change through f: on f at once */
	up.allowed_ips = "10.0.0.0/8";
	up.set_quota = true;
	up.quota_bytes = 1000;
	assert_int_equal(U->update(f->u, "c", &up, NULL, &err), EVPN_OK);
	assert_int_equal(U->allowed_ips(f->u, "c", allowed), EVPN_OK);
	assert_string_equal(allowed, "10.0.0.0/8");
	assert_int_equal(U->quota(f->u, "c", &q), EVPN_OK);
	assert_int_equal(q.quota_bytes, 1000);
	/* on g within sync_interval (0.3 s; the margin is for slow runs) */
	t0 = mono();
	while (seen < 0 && mono() - t0 < 2) {
		assert_int_equal(U->allowed_ips(g->u, "c", allowed), EVPN_OK);
		assert_int_equal(U->quota(g->u, "c", &q), EVPN_OK);
		if (strcmp(allowed, "10.0.0.0/8") == 0 && q.quota_bytes == 1000)
			seen = mono() - t0;
		else
			usleep(10 * 1000);
	}
	assert_true(seen >= 0 && seen <= 0.3 + 0.2);

	/* with a quota, usage and reason come from the store every time */
	assert_int_equal(memstore_put_raw(f->ms, "users/c/usage", "700"),
			 EVPN_OK);
	assert_int_equal(memstore_put_raw(f->ms, "users/c/reason", "quota"),
			 EVPN_OK);
	gets = memstore_gets(f->ms);
	assert_int_equal(U->quota(g->u, "c", &q), EVPN_OK);
	assert_int_equal(memstore_gets(f->ms), gets + 2);
	assert_int_equal(q.used_bytes, 700);
	assert_string_equal(q.reason, "quota");
	assert_int_equal(U->allowed_ips(g->u, "c", allowed), EVPN_OK);
	assert_int_equal(memstore_gets(f->ms), gets + 2);

	/* deleted on f: not found on f at once, whatever was cached */
	assert_int_equal(U->remove(f->u, "c", &err), EVPN_OK);
	assert_int_equal(U->allowed_ips(f->u, "c", allowed), EVPN_ERR_NOTFOUND);
	assert_int_equal(U->quota(f->u, "c", &q), EVPN_ERR_NOTFOUND);
	fx_free(g);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_generated),
		cmocka_unit_test(test_status_names),
		cmocka_unit_test(test_create_with_key_and_errors),
		cmocka_unit_test(test_pool_exhaustion_and_reuse),
		cmocka_unit_test(test_rollback_every_step),
		cmocka_unit_test(test_load_sweeps_and_keeps),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_status_and_master),
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_concurrent_creates),
		cmocka_unit_test(test_pool6_and_resident_form),
		cmocka_unit_test(test_public_key_unique),
		cmocka_unit_test(test_public_key_claims_for_old_users),
		cmocka_unit_test(test_reload_keeps_local_changes),
		cmocka_unit_test(test_lost_id_race_still_loads),
		cmocka_unit_test(test_allowed_ips),
		cmocka_unit_test(test_audit),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_rate_limit_peers),
		cmocka_unit_test(test_cached_extras),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
