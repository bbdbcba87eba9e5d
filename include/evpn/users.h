/* SPDX-License-Identifier: MIT */
/*
 * The users service: the core's domain logic for VPN users, shared by every
 * front end (the API plugin, evpnd's commands, tests). Obtain it with
 * host->get_service(host, EVPN_SERVICE_USERS, &ref).
 *
 * Threading: every op is thread-safe and may block on the store; call them
 * from worker threads, not from the packet path. Writes are serialised inside
 * the service; changes to live peers are posted to the loop thread.
 */
#ifndef EVPN_USERS_H
#define EVPN_USERS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "plugin.h"
#include "transport.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EVPN_CLIENT_ID_MAX 63
#define EVPN_API_KEY_LEN 64 /* hex of 32 random bytes */
/* A SHA-256 digest (crypto_hash_sha256_BYTES): how API keys are stored. */
#define EVPN_HASH_LEN 32
/* A user's split tunnel: the CIDRs its config routes through the VPN,
 * normalised as "10.0.0.0/8, fd00::/8". Without one, everything. */
#define EVPN_ALLOWED_IPS_MAX 1024
#define EVPN_ALLOWED_IPS_DEFAULT "0.0.0.0/0, ::/0"

/* A user's state (2.0; 1.x had the name in a char[16]). 0 is no state, so
 * a struct evpn_user that nobody filled in is caught, not read as either. */
enum evpn_user_status {
	EVPN_USER_ACTIVE = 1,	/* its peer is served */
	EVPN_USER_INACTIVE = 2, /* disabled (by an operator or its quota) */
};

/* The status's name on the wire: the API's JSON, the store's records and
 * evpnctl's output ("active", "inactive"). NULL for a value that is not a
 * status, so a caller cannot print an unset one as if it were valid. */
static inline const char *evpn_user_status_name(enum evpn_user_status s)
{
	switch (s) {
	case EVPN_USER_ACTIVE: return "active";
	case EVPN_USER_INACTIVE: return "inactive";
	default: return NULL;
	}
}

/* The reverse of evpn_user_status_name; 0 for anything else (NULL too). */
static inline enum evpn_user_status evpn_user_status_parse(const char *name)
{
	if (!name)
		return (enum evpn_user_status)0;
	if (strcmp(name, "active") == 0)
		return EVPN_USER_ACTIVE;
	if (strcmp(name, "inactive") == 0)
		return EVPN_USER_INACTIVE;
	return (enum evpn_user_status)0;
}

struct evpn_user {
	char client_id[EVPN_CLIENT_ID_MAX + 1];
	enum evpn_user_status status;
	char created_at[32]; /* RFC 3339, UTC */
	char expires_at[32]; /* "" when the user does not expire */
	char address[64];    /* "10.77.0.2/32" */
	char public_key[EVPN_KEY_B64_SIZE]; /* base64 */
	char address6[64]; /* "fd77::2/128"; "" without network.pool6 */
};

struct evpn_user_create {
	const char *client_id;
	const char *public_key; /* base64 X25519 key, or NULL: generate one */
	int64_t ttl_seconds;	/* 0: never expires */
};

/* What create_more asks beyond struct evpn_user_create (which, like every
 * struct without a size, keeps its 2.0 layout until the next major). */
struct evpn_user_create_more {
	uint32_t size; /* sizeof: the fields the caller knows */
	/* CIDRs separated by commas and/or spaces, or NULL: the default
	 * (EVPN_ALLOWED_IPS_DEFAULT). */
	const char *allowed_ips;
	/* > 0: also make a one-time config link valid this long; a generated
	 * private key then goes only into the link's answer, and `config`
	 * has the placeholder. */
	int64_t link_ttl_seconds;
	/* > 0: a data quota, rx + tx bytes; the user becomes inactive with
	 * reason "quota" when it is used up. 0: none. */
	uint64_t quota_bytes;
	/* Appended: with set_rate_limit, the user's own rate limit in bits
	 * per second each way (0: none, whatever users.rate_limit says;
	 * EVPN_RATE_LIMIT_DEFAULT: the default). Without: the default. */
	bool set_rate_limit;
	uint64_t rate_limit_bps;
};

/* A rate limit that follows users.rate_limit (the configured default). */
#define EVPN_RATE_LIMIT_DEFAULT UINT64_MAX

/* One-time config links: the token (hex of 32 random bytes) is shown once
 * and stored only as a hash. */
#define EVPN_LINK_TOKEN_LEN 64
#define EVPN_LINK_TTL_DEFAULT (15 * 60)
#define EVPN_LINK_TTL_MAX (7 * 86400)

struct evpn_link {
	char token[EVPN_LINK_TOKEN_LEN + 1]; /* wiped by the caller */
	char expires_at[32];		     /* RFC 3339 */
};

/* A change to a user (PATCH): only the fields set are applied. */
struct evpn_user_update {
	uint32_t size; /* sizeof: the fields the caller knows */
	bool set_status;
	bool active;
	const char *allowed_ips; /* NULL: unchanged; as in evpn_user_create */
	bool set_quota;
	uint64_t quota_bytes; /* with set_quota: the new quota, 0: none */
	bool reset_usage;     /* count from 0 again */
	/* Appended: with set_rate_limit, the new rate limit, bits per second
	 * (0: none; EVPN_RATE_LIMIT_DEFAULT: back to users.rate_limit). The
	 * live peer follows at once, other instances at their next sync. */
	bool set_rate_limit;
	uint64_t rate_limit_bps;
};

/* A user's data quota and what is used of it. */
struct evpn_user_quota {
	uint32_t size;	      /* sizeof, set by the caller */
	uint64_t quota_bytes; /* 0: no quota */
	uint64_t used_bytes;  /* rx + tx, every instance's, this one's live */
	char reason[16];      /* "quota" when the quota made it inactive */
};

struct evpn_user_created {
	struct evpn_user user;
	char api_key[EVPN_API_KEY_LEN + 1]; /* shown once; wiped by release */
	char *config; /* wg-quick file (with the private key when generated) */
};

/* What create_more answers beyond struct evpn_user_created. */
struct evpn_user_created_more {
	uint32_t size;				/* sizeof, set by the caller */
	char allowed_ips[EVPN_ALLOWED_IPS_MAX]; /* normalised */
	struct evpn_link link; /* token "" when none was asked for; wipe it */
};

/* Why a request failed, for the API to map to a status code. */
struct evpn_users_error {
	int code;	   /* evpn_err */
	char message[200]; /* human-readable, never contains secrets */
	/* A stable machine-readable reason when `code` alone is too coarse
	 * (e.g. "public_key_in_use" for an EVPN_ERR_EXISTS that is not a
	 * duplicate client_id); "" otherwise. */
	char reason[32];
};

typedef int (*evpn_users_list_cb)(void *arg, const struct evpn_user *u);

/* One change to record in the audit log (README "Audit log"). Every field
 * is text of ours, never a secret: no key, token or config goes here. */
struct evpn_audit_event {
	uint32_t size;	     /* sizeof: the fields the caller knows */
	const char *action;  /* "create", "patch", "delete", "expire", ... */
	const char *actor;   /* "master", "user:alice", "system" */
	const char *source;  /* the client's address, or NULL */
	const char *target;  /* the client_id acted on, or NULL */
	const char *outcome; /* "ok", "denied" or "error" */
	int status;	     /* the HTTP status answered, 0 when none */
	const char *detail;  /* a few words, or NULL */
	/* when it was asked (ns since the epoch, CLOCK_REALTIME), so that
	 * entries keep the order of requests even when their records are
	 * written later; 0: now */
	uint64_t time_ns;
};

/* A stored audit entry. */
struct evpn_audit_entry {
	char id[48];   /* the paging cursor: "20261204/..." */
	char time[40]; /* RFC 3339 with milliseconds, UTC */
	char action[32];
	char actor[80];
	char source[64];
	char target[EVPN_CLIENT_ID_MAX + 1];
	char outcome[16];
	int status;
	char detail[200];
};

typedef int (*evpn_audit_cb)(void *arg, const struct evpn_audit_entry *e);

struct evpn_users_ops {
	uint32_t size;
	/* EVPN_ERR_INVAL (bad id/key/ttl), EVPN_ERR_EXISTS (duplicate id, or
	 * reason "public_key_in_use": another user has that public key),
	 * EVPN_ERR_FULL (pool exhausted), EVPN_ERR_UNAVAILABLE (store down). */
	int (*create)(void *self, const struct evpn_user_create *req,
		      struct evpn_user_created *out,
		      struct evpn_users_error *err) EVPN_WUR;
	/* Wipes the secrets in out and frees out->config. */
	void (*release)(void *self, struct evpn_user_created *out);
	int (*get)(void *self, const char *client_id,
		   struct evpn_user *out) EVPN_WUR;
	/* Every user, sorted by client_id. */
	int (*list)(void *self, evpn_users_list_cb cb, void *arg) EVPN_WUR;
	int (*set_status)(void *self, const char *client_id, bool active,
			  struct evpn_user *out,
			  struct evpn_users_error *err) EVPN_WUR;
	/* Deletes the user's records, frees its address, drops the peer. */
	int (*remove)(void *self, const char *client_id,
		      struct evpn_users_error *err) EVPN_WUR;
	/* wg-quick file; *out malloc'd, free() it. The private key line is a
	 * placeholder: the server never keeps a client private key. */
	int (*render_config)(void *self, const char *client_id,
			     char **out) EVPN_WUR;
	/* Live peer state from the transport (zeroes when no transport). */
	int (*peer_stats)(void *self, const char *client_id,
			  struct evpn_peer_stats *out) EVPN_WUR;
	/* Which user owns an API key (by SHA-256 of the key): writes the
	 * client_id (EVPN_CLIENT_ID_MAX+1 bytes) or EVPN_ERR_NOTFOUND. */
	int (*find_by_key_hash)(void *self, const uint8_t hash[EVPN_HASH_LEN],
				char *client_id) EVPN_WUR;
	/* Store reachable? EVPN_OK or EVPN_ERR_UNAVAILABLE. */
	int (*health)(void *self) EVPN_WUR;
	/* Number of users loaded (the peers the transport serves). */
	uint32_t (*count)(void *self);
	/* The master API key hash, for auth; EVPN_OK or an error. */
	int (*master_key_hash)(void *self,
			       uint8_t hash[EVPN_HASH_LEN]) EVPN_WUR;
	/* Split tunnels, the audit log, config links and quotas (appended
	 * in 1.1; part of 2.0, so a 2.x users service has every one). */
	/* Apply the fields of req that are set; EVPN_ERR_INVAL (bad
	 * allowed_ips), EVPN_ERR_NOTFOUND, EVPN_ERR_UNAVAILABLE. */
	int (*update)(void *self, const char *client_id,
		      const struct evpn_user_update *req, struct evpn_user *out,
		      struct evpn_users_error *err) EVPN_WUR;
	/* The user's split tunnel, normalised, read from the store (so every
	 * instance sees a change at once): EVPN_ERR_NOTFOUND (no such user),
	 * EVPN_ERR_UNAVAILABLE. */
	int (*allowed_ips)(void *self, const char *client_id,
			   char out[EVPN_ALLOWED_IPS_MAX]) EVPN_WUR;
	/* Store an audit entry and log it (one line). EVPN_ERR_UNAVAILABLE
	 * when the store refused it (the log line is written anyway). */
	int (*audit)(void *self, const struct evpn_audit_event *ev) EVPN_WUR;
	/* Entries newest first, at most `limit`, older than the cursor
	 * `after` ("" or NULL: from the newest). next (48 bytes) receives the
	 * cursor of the next page, "" when there is none. EVPN_ERR_INVAL for
	 * a malformed cursor. */
	int (*audit_list)(void *self, const char *after, unsigned limit,
			  evpn_audit_cb cb, void *arg, char next[48]) EVPN_WUR;
	/* A one-time link to client_id's config (with the placeholder
	 * private key), valid ttl_seconds (1..EVPN_LINK_TTL_MAX).
	 * EVPN_ERR_NOTFOUND, EVPN_ERR_INVAL, EVPN_ERR_UNAVAILABLE. */
	int (*link_create)(void *self, const char *client_id,
			   int64_t ttl_seconds, struct evpn_link *out,
			   struct evpn_users_error *err) EVPN_WUR;
	/* Burn a link and render its config (*config malloc'd: wipe and free
	 * it). Exactly one of any number of concurrent calls, on any
	 * instance, gets EVPN_OK. Otherwise EVPN_ERR_NOTFOUND, with reason
	 * "link_gone" for a link that existed (used or expired: HTTP 410).
	 * client_id (EVPN_CLIENT_ID_MAX+1 bytes) names the user when known. */
	int (*link_redeem)(void *self, const char *token, char **config,
			   char *client_id,
			   struct evpn_users_error *err) EVPN_WUR;
	/* The user's quota state, from the store plus this instance's
	 * traffic not yet written: EVPN_ERR_NOTFOUND, EVPN_ERR_UNAVAILABLE. */
	int (*quota)(void *self, const char *client_id,
		     struct evpn_user_quota *out) EVPN_WUR;
	/* create, with a split tunnel and/or a link (more, out_more may be
	 * NULL); release(out) as for create, and wipe out_more->link. */
	int (*create_more)(void *self, const struct evpn_user_create *req,
			   const struct evpn_user_create_more *more,
			   struct evpn_user_created *out,
			   struct evpn_user_created_more *out_more,
			   struct evpn_users_error *err) EVPN_WUR;
	/* Appended: the rate limit in force for the user, bits per second
	 * each way (0: none), and whether it is users.rate_limit's (the user
	 * has none of its own). Resident: no store read.
	 * EVPN_ERR_NOTFOUND. */
	int (*rate_limit)(void *self, const char *client_id, uint64_t *bps,
			  bool *from_default) EVPN_WUR;
};

#ifdef __cplusplus
}
#endif
#endif /* EVPN_USERS_H */
