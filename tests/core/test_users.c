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
#include "users.h"
#include "users_int.h"

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
};

static const char *fx_pool6; /* network.pool6 of the next fx_new */

static struct fixture *fx_new(const char *pool)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct evpn_users_opts opts = {.master_key = NULL, .partial_grace = 30};
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
	f->ms = memstore_new();
	f->u = evpn_users_new(&f->core.core_inst.host, &memstore_ops, f->ms,
			      &opts);
	assert_non_null(f->u);
	f->core.users = f->u;
	assert_int_equal(
		evpn_users_server_key(f->u, true, false, NULL, pub, &created),
		EVPN_OK);
	assert_true(created);
	assert_int_equal(evpn_users_master_key(f->u, NULL, 0, &created),
			 EVPN_OK);
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	return f;
}

static void fx_free(struct fixture *f)
{
	/* as the daemon does: stop the service's thread, run what it posted
	 * to the loop, then free it */
	evpn_users_stop(f->u);
	evpn_core_loop_close(&f->core);
	evpn_users_free(f->u);
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
	assert_string_equal(out.user.status, "active");
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
	for (long k = 0; k < 8; k++) {
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
		if (k == 7) {
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
	assert_string_equal(u.status, "inactive");
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

static void test_status_and_master(void **state)
{
	struct fixture *f = fx_new("10.9.0.0/24");
	struct evpn_user_created out;
	struct evpn_users_error err;
	struct evpn_user u;
	uint8_t h[32];

	assert_int_equal(create(f, "erin", NULL, 0, &out), EVPN_OK);
	U->release(f->u, &out);
	assert_int_equal(U->set_status(f->u, "erin", false, &u, &err), EVPN_OK);
	assert_string_equal(u.status, "inactive");
	assert_int_equal(evpn_users_load(f->u), EVPN_OK);
	assert_int_equal(U->get(f->u, "erin", &u), EVPN_OK);
	assert_string_equal(u.status, "inactive");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_generated),
		cmocka_unit_test(test_create_with_key_and_errors),
		cmocka_unit_test(test_pool_exhaustion_and_reuse),
		cmocka_unit_test(test_rollback_every_step),
		cmocka_unit_test(test_load_sweeps_and_keeps),
		cmocka_unit_test(test_index),
		cmocka_unit_test(test_status_and_master),
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_concurrent_creates),
		cmocka_unit_test(test_pool6_and_resident_form),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
