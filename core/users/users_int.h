/* SPDX-License-Identifier: MIT */
/* Internals shared by the users service's files. */
#ifndef EVPN_CORE_USERS_INT_H
#define EVPN_CORE_USERS_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <sodium.h>

#include <evpn/transport.h>

#include "pool.h"
#include "users_service.h"

/* A user as requests, loads and the store see it: binary and text forms. */
struct user_rec {
	struct evpn_user u;
	uint8_t pub[EVPN_KEY_LEN];
	uint8_t key_hash[crypto_hash_sha256_BYTES];
	bool has_hash;
	int64_t expires;   /* unix seconds, 0 = never */
	bool has_rate;	   /* its own rate limit; else users.rate_limit's */
	uint64_t rate_bps; /* with has_rate: bits per second, 0: none */
};

/*
 * A user as the service keeps it resident, one per user, sorted by id.
 * Only the binary forms: the base64 key, the address and the RFC 3339 times
 * are derived when a request wants them (users_slot_unpack). With 100,000
 * users this is 15 MB instead of 33 MB; evpnd's whole cost per idle peer
 * (this plus the transport's) has to stay under 1 KiB.
 */
struct user_slot {
	char client_id[EVPN_CLIENT_ID_MAX + 1];
	uint8_t pub[EVPN_KEY_LEN];
	uint8_t key_hash[crypto_hash_sha256_BYTES];
	int64_t created; /* unix seconds */
	int64_t expires; /* unix seconds, 0 = never */
	uint32_t addr4;	 /* the user's /32, host order */
	bool active;
	bool has_hash;
	bool has_rate;	   /* as in user_rec */
	uint64_t rate_bps; /* bits per second */
};

/* A set of client_ids (users_touch.c). */
struct users_ids {
	char (*id)[EVPN_CLIENT_ID_MAX + 1];
	size_t n, cap;
	bool oom; /* an id could not be recorded */
};

struct quota_ent; /* users_quota.c */

/* users_cache.c: a user's allowed-ips, quota and reason as GET /users/{id}
 * last read them from the store. */
struct users_cache_ent;
struct users_cache {
	pthread_mutex_t mu;	   /* guards e */
	struct users_cache_ent *e; /* USERS_CACHE_SLOTS, made at first use */
	/* bumped after every local write of those records and every load;
	 * an entry filled under an older value is not used */
	atomic_uint_fast64_t gen;
};

struct evpn_users {
	const struct evpn_host *host;
	const struct evpn_store_ops *st;
	void *sts;
	struct evpn_users_opts opts;
	char *master_key_opt;

	pthread_mutex_t mu;	/* guards everything below */
	struct user_slot *recs; /* sorted by client_id */
	size_t n, cap;
	struct evpn_pool pool;
	struct evpn_pool6 pool6; /* derives each user's IPv6 address */
	uint8_t master_hash[crypto_hash_sha256_BYTES];
	bool has_master;
	uint8_t *server_priv; /* sodium_malloc'd, EVPN_KEY_LEN bytes */
	uint8_t server_pub[EVPN_KEY_LEN];
	char server_pub_b64[EVPN_KEY_B64_SIZE];
	bool has_server_key;
	bool live; /* the transport has our peers: push changes */
	/* Shared-store sync: the change marker last written or seen here. */
	char gen_seen[65];
	bool gen_dirty;	       /* a change awaits its marker write */
	double gen_next_write; /* monotonic; spacing between marker writes */
	double next_sync;
	double next_reconcile;
	double audit_next_sweep; /* monotonic */
	bool audit_swept_full;	 /* the first, whole-log sweep is done */
	double links_next_sweep; /* monotonic */
	/* data quotas (users_quota.c): the users with one, guarded by
	 * quota_mu, which may be held across store I/O (never take mu
	 * first) */
	pthread_mutex_t quota_mu;
	struct quota_ent *quota;
	size_t nquota;
	double quota_next_tick, quota_refresh_at; /* monotonic */
	bool quota_listed;
	/* the transport's counters of a user (a seam for the unit tests) */
	int (*quota_stats)(struct evpn_users *u, const char *id,
			   struct evpn_peer_stats *out);
	/* Changes through this instance while a load runs (users_touch.c). */
	pthread_mutex_t load_mu;   /* one load at a time; taken before mu */
	struct users_ids inflight; /* ids being changed right now */
	struct users_ids touched;  /* ids changed since the load began */
	bool loading;

	/* maintenance thread */
	pthread_t thread;
	bool thread_running, thread_stop, reload_requested;
	pthread_cond_t cond;

	struct users_cache cache; /* users_cache.c */

	struct evpn_metric *m_created, *m_deleted, *m_expired, *m_users;
	struct evpn_metric *m_quota_reached;
};

/* users_store.c */
int users_store_err(int err);
int users_put(struct evpn_users *u, const char *id, const char *leaf,
	      const char *value, uint32_t flags) EVPN_WUR;
void users_delete_records(struct evpn_users *u, const char *id,
			  const char *address, const uint8_t *pub);

/* users_slot.c */
void users_slot_pack(struct user_slot *s, const struct user_rec *r);
void users_slot_unpack(const struct evpn_users *u, const struct user_slot *s,
		       struct user_rec *r);
void users_fill_address6(const struct evpn_users *u, struct user_rec *r);
int users_slots_pack(const struct user_rec *recs, size_t n,
		     struct user_slot **out) EVPN_WUR;
void users_install_locked(struct evpn_users *u, struct user_slot *slots,
			  size_t n);

/* users.c */
struct user_slot *users_find_locked(struct evpn_users *u, const char *id);
int users_insert_locked(struct evpn_users *u, const struct user_rec *r);
void users_remove_locked(struct evpn_users *u, const char *id);
int users_remove_internal(struct evpn_users *u, const char *id, const char *why,
			  struct evpn_users_error *err);
void users_set_err(struct evpn_users_error *err, int code, const char *fmt, ...)
	EVPN_PRINTF(3, 4);
/* Any store failure is "unavailable" to the caller. */
int users_store_failed(struct evpn_users_error *err, int rc);
void evpn_metrics_gauge_users(struct evpn_users *u);
/* users_create.c */
int users_op_create(void *self, const struct evpn_user_create *req,
		    struct evpn_user_created *out,
		    struct evpn_users_error *err) EVPN_WUR;
int users_op_create_more(void *self, const struct evpn_user_create *req,
			 const struct evpn_user_create_more *more,
			 struct evpn_user_created *out,
			 struct evpn_user_created_more *out_more,
			 struct evpn_users_error *err) EVPN_WUR;
void users_op_release(void *self, struct evpn_user_created *out);
/* users_peers.c */
void users_push_peer(struct evpn_users *u, const struct user_rec *r,
		     bool remove);
int users_op_peer_stats(void *self, const char *id,
			struct evpn_peer_stats *out) EVPN_WUR;
/* users_sync.c */
void users_bump_generation(struct evpn_users *u);
void users_write_generation(struct evpn_users *u);
double users_generation_tick_locked(struct evpn_users *u);
void users_sync_tick(struct evpn_users *u);
void users_reconcile_tick(struct evpn_users *u);
int users_read_generation(struct evpn_users *u, char out[65]);
/* users_touch.c */
void users_change_begin(struct evpn_users *u, const char *id);
void users_change_end(struct evpn_users *u, const char *id);
void users_load_begin(struct evpn_users *u);
void users_load_end(struct evpn_users *u);
bool users_touched_locked(const struct evpn_users *u, const char *id);
bool users_touched(struct evpn_users *u, const char *id);
int users_merge_touched_locked(struct evpn_users *u, struct user_slot **slots,
			       size_t *n, struct evpn_pool *pool) EVPN_WUR;
void users_touch_free(struct evpn_users *u);
/* users_keyclaim.c: public-keys/{hex} -> client_id */
void users_key_claim_name(const uint8_t pub[EVPN_KEY_LEN], char out[96]);
int users_claim_key(struct evpn_users *u, const char *id,
		    const uint8_t pub[EVPN_KEY_LEN]) EVPN_WUR;
bool users_key_in_use_locked(const struct evpn_users *u,
			     const uint8_t pub[EVPN_KEY_LEN]);
struct users_key_claim {
	char name[96]; /* the store key */
	char owner[EVPN_CLIENT_ID_MAX + 1];
	uint8_t pub[EVPN_KEY_LEN];
	bool valid; /* public-keys/ + 64 hex digits */
	bool used;  /* held by a served user */
};
struct users_key_claims {
	struct users_key_claim *c;
	size_t n, cap;
	bool oom;
};
/* Has a full load claimed the keys of every user (err: store error)? */
bool users_key_claims_marked(struct evpn_users *u, int *err);
int users_key_claims_list(struct evpn_users *u,
			  struct users_key_claims *out) EVPN_WUR;
void users_key_claims_free(struct users_key_claims *c);
bool users_key_claims_settle(struct evpn_users *u, struct user_rec *recs,
			     size_t *nrec, struct user_rec *held, size_t *nheld,
			     struct users_key_claims *claims,
			     bool (*creating)(void *, const char *), void *arg);
/* users_index.c */
int users_index_put(struct evpn_users *u, const struct user_rec *r);
int users_index_del(struct evpn_users *u, const char *id);
int users_index_load(struct evpn_users *u, struct user_rec **recs, size_t *n,
		     bool *complete);
void users_index_repair(struct evpn_users *u, const struct user_rec *recs,
			size_t n);

/* users_allowed.c: split tunnels, users/{id}/allowed-ips */
/* Normalise "10.0.0.0/8 192.168.1.0/24, ::/0": EVPN_ERR_INVAL with why. */
int evpn_allowed_ips_normalize(const char *in, char out[EVPN_ALLOWED_IPS_MAX],
			       char *why, size_t whylen) EVPN_WUR;
/* in NULL: the default. */
int users_allowed_check(const char *in, char out[EVPN_ALLOWED_IPS_MAX],
			struct evpn_users_error *err) EVPN_WUR;
int users_allowed_read(struct evpn_users *u, const char *id,
		       char out[EVPN_ALLOWED_IPS_MAX]) EVPN_WUR;
int users_op_allowed_ips(void *self, const char *id,
			 char out[EVPN_ALLOWED_IPS_MAX]) EVPN_WUR;
int users_op_update(void *self, const char *id,
		    const struct evpn_user_update *req, struct evpn_user *out,
		    struct evpn_users_error *err) EVPN_WUR;

/* users_audit.c: audit/{day}/{rev}-{rand} */
int users_op_audit(void *self, const struct evpn_audit_event *ev) EVPN_WUR;
int users_op_audit_list(void *self, const char *after, unsigned limit,
			evpn_audit_cb cb, void *arg, char next[48]) EVPN_WUR;
void users_audit_sweep(struct evpn_users *u, double mono_now);
/* Record a change the service made on its own (expiry, quota). */
void users_audit_system(struct evpn_users *u, const char *action,
			const char *target, const char *detail);

/* users_links.c: links/{sha256 of the token}/record|burned */
int users_link_make(struct evpn_users *u, const char *id,
		    const char *created_at, int64_t ttl, const char *priv_b64,
		    struct evpn_link *out,
		    struct evpn_users_error *err) EVPN_WUR;
int users_op_link_create(void *self, const char *id, int64_t ttl,
			 struct evpn_link *out,
			 struct evpn_users_error *err) EVPN_WUR;
int users_op_link_redeem(void *self, const char *token, char **config,
			 char *client_id,
			 struct evpn_users_error *err) EVPN_WUR;
void users_links_sweep(struct evpn_users *u, double mono_now);

/* users_cache.c */
struct users_extras {
	char allowed[EVPN_ALLOWED_IPS_MAX]; /* normalised */
	uint64_t quota;			    /* bytes, 0: none */
	char reason[16];
};
void users_cache_init(struct evpn_users *u);
void users_cache_free(struct evpn_users *u);
/* After a local write of a user's allowed-ips, quota or reason (and after
 * it only: a read that began before must not be kept). */
void users_cache_invalidate(struct evpn_users *u);
/* A known user's allowed-ips, quota and reason: cached, else read. */
int users_extras_get(struct evpn_users *u, const char *id,
		     struct users_extras *out) EVPN_WUR;

/* users_quota.c: users/{id}/quota|usage|reason, quotas/{id} */
int users_quota_write(struct evpn_users *u, const char *id,
		      uint64_t quota) EVPN_WUR;
int users_quota_reset(struct evpn_users *u, const char *id) EVPN_WUR;
int users_quota_reason(struct evpn_users *u, const char *id,
		       char out[16]) EVPN_WUR;
/* users/{id}/quota, 0 when absent */
int users_quota_read_limit(struct evpn_users *u, const char *id,
			   uint64_t *quota) EVPN_WUR;
int users_quota_clear_reason(struct evpn_users *u, const char *id) EVPN_WUR;
int users_op_quota(void *self, const char *id,
		   struct evpn_user_quota *out) EVPN_WUR;
void users_quota_tick(struct evpn_users *u, double mono_now);
void users_quota_flush(struct evpn_users *u);
void users_quota_free(struct evpn_users *u);
/* users_rate.c: users/{id}/rate-limit (bits per second) */
/* The limit a user's peer gets: its own, or users.rate_limit. */
uint64_t users_rate_of(const struct evpn_users *u, bool has_rate,
		       uint64_t rate_bps);
/* Store the limit (EVPN_RATE_LIMIT_DEFAULT: remove the record). */
int users_rate_write(struct evpn_users *u, const char *id,
		     uint64_t bps) EVPN_WUR;
/* PATCH: store, index, the resident copy, the live peer, the marker. */
int users_rate_update(struct evpn_users *u, struct user_rec *rec, uint64_t bps,
		      struct evpn_users_error *err) EVPN_WUR;
int users_op_rate_limit(void *self, const char *id, uint64_t *bps,
			bool *from_default) EVPN_WUR;
/* users.c: what PATCH status does, for the service itself */
int users_set_status_internal(struct evpn_users *u, const char *id, bool active,
			      struct evpn_users_error *err) EVPN_WUR;

/* wgconf.c */
char *evpn_render_wg_config(const struct evpn_network *net,
			    const char *server_pub_b64,
			    const struct evpn_user *user,
			    const char *private_key_b64,
			    const char *allowed_ips);

/* util */
void evpn_rfc3339(int64_t t, char out[32]);

/* Store keys gathered during a listing, to delete after it (a store may
 * not be changed from inside its own list callback). */
#define USERS_KEYLIST_MAX 160 /* longer keys are not ours: skipped */
struct users_keylist {
	char (*v)[USERS_KEYLIST_MAX];
	size_t n, cap;
	bool oom; /* a push failed: the list is incomplete */
};
/* Appends key; false (and oom set) when out of memory. */
bool users_keylist_push(struct users_keylist *l, const char *key);
void users_keylist_free(struct users_keylist *l);
bool evpn_parse_rfc3339(const char *s, int64_t *t);
bool evpn_valid_client_id(const char *id);
bool evpn_b64_key(const char *b64, uint8_t key[EVPN_KEY_LEN]);
void evpn_key_b64(const uint8_t key[EVPN_KEY_LEN], char out[EVPN_KEY_B64_SIZE]);

#endif
