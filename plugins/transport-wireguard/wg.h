/* SPDX-License-Identifier: MIT */
/*
 * The WireGuard device: peers, sessions, index table, receive and send
 * paths and timers, with no I/O of its own. The plugin glue feeds it
 * datagrams and egress packets and gives it callbacks to send datagrams, so
 * the whole protocol is testable in memory (two devices talking).
 *
 * The types come first, then one section per source file, each listing
 * what that file defines (the layout of the Linux module: device, peer,
 * peerlookup, receive, send, noise, cookie, ratelimiter, timers).
 *
 * Single-threaded: every function runs on the caller's (loop) thread.
 */
#ifndef WG_H
#define WG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <evpn/egress.h>
#include <evpn/plugin.h>
#include <evpn/transport.h>

#include "allowedips.h"
#include "rate.h"
#include "list.h"
#include "messages.h"
#include "replay.h"

/* Drop reasons, each a counter (evpn_wg_drops_total{reason=...}). */
#define WG_DROP_REASONS(X)                        \
	X(SHORT, "short")                         \
	X(BAD_TYPE, "bad_type")                   \
	X(BAD_SIZE, "bad_size")                   \
	X(TOO_BIG, "too_big")                     \
	X(BAD_MAC1, "bad_mac1")                   \
	X(BAD_MAC2, "bad_mac2")                   \
	X(COOKIE_SENT, "under_load_cookie_sent")  \
	X(RATELIMIT, "ratelimit")                 \
	X(HANDSHAKE_INVALID, "handshake_invalid") \
	X(UNKNOWN_PEER, "unknown_peer")           \
	X(PEER_DISABLED, "peer_disabled")         \
	X(STALE_TIMESTAMP, "stale_timestamp")     \
	X(HANDSHAKE_FLOOD, "handshake_flood")     \
	X(UNKNOWN_INDEX, "unknown_index")         \
	X(BAD_STATE, "bad_state")                 \
	X(COOKIE_INVALID, "cookie_invalid")       \
	X(KEY_EXPIRED, "key_expired")             \
	X(DECRYPT, "decrypt")                     \
	X(REPLAY, "replay")                       \
	X(BAD_IP, "bad_ip_packet")                \
	X(ALLOWED_IPS, "allowed_ips")             \
	X(NO_PEER, "no_peer")                     \
	X(NO_ENDPOINT, "no_endpoint")             \
	X(STAGE_FULL, "stage_full")               \
	X(NO_KEY, "no_private_key")               \
	X(SEND_FAILED, "send_failed")             \
	X(WRONG_SOURCE, "wrong_source")           \
	X(RATE_LIMIT_RX, "rate_limit_rx")         \
	X(RATE_LIMIT_TX, "rate_limit_tx")

enum wg_drop {
#define X(e, s) WG_DROP_##e,
	WG_DROP_REASONS(X)
#undef X
		WG_DROP__COUNT
};

enum wg_event {
	WG_EV_HANDSHAKE_INITIATION_SENT,
	WG_EV_HANDSHAKE_RESPONSE_SENT,
	WG_EV_HANDSHAKE_COMPLETED,
	WG_EV_COOKIE_SENT,
	WG_EV_KEEPALIVE_SENT,
	WG_EV__COUNT
};

#define WG_BUF_SIZE 2048 /* staged / tx buffer bytes */
#define WG_TXQ_LEN 64
#define WG_STAGE_POOL 1024
#define WG_MAX_STAGED 64
/* Rate limits: a queue holds WG_RATEQ_SECONDS of the rate (at least
 * WG_RATEQ_MIN_BYTES), at most WG_RATEQ_LEN packets; WG_RATE_POOL packets
 * in all. */
#define WG_RATEQ_SECONDS 0.1
#define WG_RATEQ_MIN_BYTES (64 * 1024)
#define WG_RATEQ_LEN 128
#define WG_RATE_POOL 4096

struct wg_peer;
struct wg_device;

struct wg_index_entry {
	struct wg_index_entry *next;
	struct wg_peer *peer;
	uint32_t index;
	uint8_t kind; /* WG_INDEX_HANDSHAKE / WG_INDEX_KEYPAIR */
	bool hashed;
};
enum { WG_INDEX_HANDSHAKE = 1, WG_INDEX_KEYPAIR = 2 };

struct wg_keypair {
	struct wg_index_entry entry; /* must stay first */
	uint8_t send_key[WG_KEY_LEN];
	uint8_t recv_key[WG_KEY_LEN];
	uint64_t send_counter;
	uint32_t remote_index;
	double birth;
	bool initiator;
	struct wg_replay replay;
};

enum wg_hs_state {
	WG_HS_ZEROED = 0,
	WG_HS_CREATED_INITIATION,
	WG_HS_CONSUMED_INITIATION,
	WG_HS_CREATED_RESPONSE,
	WG_HS_CONSUMED_RESPONSE,
};

struct wg_handshake {
	struct wg_index_entry entry;
	enum wg_hs_state state;
	uint8_t ephemeral_priv[WG_KEY_LEN];
	uint8_t remote_ephemeral[WG_KEY_LEN];
	uint8_t hash[WG_HASH_LEN];
	uint8_t chain[WG_HASH_LEN];
	uint32_t remote_index;
	uint8_t latest_timestamp[WG_TAI64N_LEN];
	double last_initiation_consumption;
};

struct wg_staged {
	struct wg_staged *next;
	uint32_t len;
	uint8_t data[WG_BUF_SIZE];
};

/* A peer's endpoint: 28 bytes, not a 128-byte sockaddr_storage. */
union wg_endpoint {
	struct sockaddr sa;
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;
};

/* Packets held back by a rate limit (rate.c). */
struct wg_rateq {
	struct wg_staged *head, *tail;
	unsigned n;
	size_t bytes;
};

/* A peer's rate limit: a bucket and a queue for what it sends (rx), the
 * same for what it is sent (tx). Allocated only for peers with a limit. */
struct wg_rate {
	uint64_t bps;
	size_t qmax; /* bytes a queue may hold */
	struct tbf rx, tx;
	struct wg_rateq qrx, qtx;
	struct wg_list link; /* d->rate_peers while a queue holds packets */
	struct wg_peer *peer;
};

/* The static-static DH is computed lazily (at the first handshake, or a
 * few per tick in the background), so loading many peers is cheap. */
enum wg_ss_state { WG_SS_PENDING = 0, WG_SS_OK, WG_SS_BAD };

struct wg_peer {
	struct wg_list key_link;    /* d->peer_buckets: by public key */
	struct wg_list handle_link; /* d->handle_buckets: by handle */
	struct wg_list peer_link;   /* d->peers: every peer */
	struct wg_list timer_link; /* d->timer_peers, while it has a deadline */
	uint32_t handle;
	uint8_t public_key[WG_KEY_LEN];
	uint8_t psk[WG_KEY_LEN];
	uint8_t static_static[WG_KEY_LEN]; /* DH(our priv, their pub) */
	uint8_t ss_state;		   /* enum wg_ss_state */
	struct evpn_cidr *aips;		   /* this peer's prefixes, as given */
	uint32_t n_aips;
	/* HASH(initial hash || pub), HASH("mac1----" || pub) and
	 * HASH("cookie--" || pub) are derived when needed (a BLAKE2s each,
	 * next to a handshake's four X25519s), not stored: an idle peer
	 * should cost little memory. */
	bool enabled;
	uint16_t persistent_keepalive;

	struct wg_handshake hs;
	struct wg_keypair *cur, *prev, *next;

	union wg_endpoint endpoint;

	/* cookie received from this peer, for our mac2 */
	uint8_t cookie[WG_MAC_LEN];
	double cookie_birth;
	bool have_cookie;
	uint8_t last_mac1_sent[WG_MAC_LEN];
	bool have_mac1_sent;

	/* timers: absolute monotonic deadlines, 0 = not pending */
	double t_retransmit, t_send_keepalive, t_new_handshake, t_zero_keys,
		t_persistent;
	bool need_another_keepalive;
	unsigned handshake_attempts;
	double last_sent_handshake; /* 0 = never */
	bool sent_lastminute_handshake;

	/* stats */
	uint64_t rx_bytes, tx_bytes;
	struct timespec last_handshake; /* wall clock */

	struct wg_staged *staged_head, *staged_tail;
	unsigned n_staged;

	struct wg_rate *rate; /* NULL: no rate limit */
};

struct wg_txslot {
	struct sockaddr_storage to;
	uint32_t len;
	uint8_t data[WG_BUF_SIZE];
};

struct wg_device_ops {
	void *arg;
	/* Send slots[0..n) as UDP datagrams. */
	void (*flush)(void *arg, struct wg_txslot *slots, unsigned n);
	/* Monotonic seconds (NULL: CLOCK_MONOTONIC). */
	double (*now)(void *arg);
	/* Wall clock for TAI64N and handshake times (NULL: CLOCK_REALTIME). */
	void (*walltime)(void *arg, struct timespec *ts);
	void (*drop)(void *arg, enum wg_drop reason); /* optional */
	void (*event)(void *arg, enum wg_event ev);   /* optional */
	/* A packet from peer `pkt->peer` that its rate limit held back and
	 * releases now, outside wg_device_rx (optional: without it such
	 * packets are lost). */
	void (*deliver)(void *arg, struct evpn_pkt *pkt);
	/* Optional: may a message authenticated as peer p come from this
	 * address? False drops it (the stream listener binds a stream to
	 * its user's peer). */
	bool (*peer_ok)(void *arg, const struct wg_peer *p,
			const struct sockaddr_storage *from);
};

struct wg_device_config {
	unsigned mtu;			   /* tunnel MTU, for padding (1420) */
	unsigned handshake_load_threshold; /* handshakes/s before cookies */
	unsigned ratelimit_per_source; /* initiations/s per source address */
	unsigned ratelimit_burst;
	bool force_under_load; /* tests: always demand cookies */
};

#define WG_RL_SLOTS 4096

struct wg_rl_entry {
	uint8_t addr[16];
	uint8_t family;
	double tokens;
	double last;
};

#define WG_INDEX_BUCKETS (1u << 14)
#define WG_PEER_BUCKETS (1u << 12)

struct wg_device {
	struct wg_device_ops ops;
	struct wg_device_config cfg;

	bool has_key;
	uint8_t priv[WG_KEY_LEN];
	uint8_t pub[WG_KEY_LEN];
	uint8_t hash0[WG_HASH_LEN];	 /* HASH(initial hash || our pub) */
	uint8_t mac1_key[WG_HASH_LEN];	 /* HASH("mac1----" || our pub) */
	uint8_t cookie_key[WG_HASH_LEN]; /* HASH("cookie--" || our pub) */
	uint8_t cookie_secret[WG_HASH_LEN];
	double cookie_secret_birth;

	struct wg_list *peer_buckets;	/* by public key */
	struct wg_list *handle_buckets; /* by handle */
	struct wg_list peers;		/* every peer, newest first */
	struct wg_list timer_peers;	/* peers with a pending deadline */
	uint32_t *ss_pending; /* handles whose static-static DH is pending */
	uint32_t ss_n, ss_cap;
	uint32_t n_peers;
	uint32_t next_handle;

	struct wg_index_entry **index;
	struct wg_allowedips aip;

	/* load detection: handshake messages seen in the current second */
	double load_window_start;
	unsigned load_count;
	double last_under_load;

	struct wg_rl_entry *rl;
	uint8_t rl_key[16];

	struct wg_txslot *txq;
	unsigned txq_len;

	struct wg_staged *stage_pool;
	struct wg_staged *stage_free;

	struct wg_list rate_peers; /* peers with rate-limited packets queued */
	struct wg_staged *rate_free; /* queue buffers, WG_RATE_POOL at most */
	unsigned rate_nodes;

	uint64_t drops[WG_DROP__COUNT];
	uint64_t events[WG_EV__COUNT];
};

/* ---- device.c: lifecycle, clocks, counters, the tx queue ---- */
const char *wg_drop_name(enum wg_drop d);
int wg_device_init(struct wg_device *d, const struct wg_device_ops *ops,
		   const struct wg_device_config *cfg) EVPN_WUR;
void wg_device_destroy(struct wg_device *d);
int wg_device_set_private_key(struct wg_device *d,
			      const uint8_t key[WG_KEY_LEN]) EVPN_WUR;
double wg_device_now(struct wg_device *d);
void wg_device_walltime(struct wg_device *d, struct timespec *ts);
void wg_device_count_drop(struct wg_device *d, enum wg_drop r);
/* ops.peer_ok's answer (true without one; peer_source.c). */
bool wg_device_peer_ok(struct wg_device *d, const struct wg_peer *p,
		       const struct sockaddr_storage *from);
void wg_device_event(struct wg_device *d, enum wg_event ev);
/* A free tx slot (flushing the queue first when it is full). */
struct wg_txslot *wg_tx_slot(struct wg_device *d);
/* Queue the slot; to: a sockaddr_storage or a union wg_endpoint (AF_INET
 * or AF_INET6). */
void wg_tx_commit(struct wg_device *d, struct wg_txslot *s, const void *to,
		  uint32_t len);
/* Send whatever is queued. */
void wg_device_flush(struct wg_device *d);
/* IP version, source and destination of a plaintext packet; *iplen is the
 * length its header claims (the rest is padding). */
bool wg_ip_parse(const uint8_t *pkt, size_t len, int *family,
		 const uint8_t **src, const uint8_t **dst, size_t *iplen);

/* ---- peerlookup.c: peers by public key and by handle, the index ---- */
int wg_peerlookup_init(struct wg_device *d) EVPN_WUR;
void wg_peerlookup_free(struct wg_device *d);
struct wg_peer *wg_device_peer_find(struct wg_device *d,
				    const uint8_t key[WG_KEY_LEN]);
struct wg_peer *wg_peer_by_handle(struct wg_device *d, uint32_t handle);
/* Hash a new peer by its public key and its handle, or unhash it. */
void wg_peer_hash_add(struct wg_device *d, struct wg_peer *p);
void wg_peer_hash_del(struct wg_peer *p);
void wg_index_insert(struct wg_device *d, struct wg_index_entry *e,
		     struct wg_peer *p, uint8_t kind);
void wg_index_remove(struct wg_device *d, struct wg_index_entry *e);
struct wg_index_entry *wg_index_find(struct wg_device *d, uint32_t index);

/* ---- peer.c: adding, changing and removing peers ---- */
int wg_device_peer_upsert(struct wg_device *d,
			  const struct evpn_peer_config *pc) EVPN_WUR;
int wg_device_peer_remove(struct wg_device *d,
			  const uint8_t key[WG_KEY_LEN]) EVPN_WUR;
void wg_peer_remove_all(struct wg_device *d);
/* Forget sessions, handshake, staged packets and timers. */
void wg_peer_clear_keys(struct wg_device *d, struct wg_peer *p);
void wg_endpoint_set(union wg_endpoint *e, const struct sockaddr_storage *ss);

/* ---- rate.c: per-peer rate limits ---- */
/* Set, change (keeping what the buckets hold) or with 0 remove a limit. */
int wg_peer_rate_set(struct wg_device *d, struct wg_peer *p,
		     uint64_t bps) EVPN_WUR;
/* Drop what the peer's queues hold (it is disabled). */
void wg_peer_rate_purge(struct wg_device *d, struct wg_peer *p);
void wg_peer_rate_free(struct wg_device *d, struct wg_peer *p);
/* A packet in direction rx (from the peer) or tx (to it): true when it may
 * go now; false when the limit queued a copy or dropped it (counted). */
bool wg_peer_rate_ok(struct wg_device *d, struct wg_peer *p, bool rx,
		     const uint8_t *pkt, size_t len);
/* Release the queued packets the buckets allow now. */
void wg_device_rate_poll(struct wg_device *d);
/* When the next queued packet may go (the device's clock); 0: none. */
double wg_device_rate_next(struct wg_device *d);
void wg_rate_pool_free(struct wg_device *d);

/* ---- receive.c ---- */
/*
 * One received datagram. buf is writable with cap bytes. When it carries a
 * tunnelled IP packet, *out is filled (pointing into buf, decrypted in
 * place) and 1 is returned; else 0. Replies go to the tx queue.
 */
int wg_device_rx(struct wg_device *d, uint8_t *buf, size_t len, size_t cap,
		 const struct sockaddr_storage *from, struct evpn_pkt *out);

/* ---- send.c ---- */
/* Whether data may still be sent on kp (NULL: no). */
bool wg_keypair_usable_for_send(struct wg_device *d,
				const struct wg_keypair *kp);
/* One IP packet from the egress toward its peer. */
void wg_device_tx(struct wg_device *d, const uint8_t *pkt, size_t len);
/* The same for a packet whose peer is known and within its rate limit. */
void wg_tx_to_peer(struct wg_device *d, struct wg_peer *p, const uint8_t *pkt,
		   size_t len);
/* Send a handshake initiation to the peer now (at most one per
 * REKEY_TIMEOUT); restarts the count of retransmissions. */
void wg_device_initiate(struct wg_device *d, struct wg_peer *p);
/* Answer a consumed initiation and derive the session. */
void wg_send_handshake_response(struct wg_device *d, struct wg_peer *p);
void wg_send_keepalive(struct wg_device *d, struct wg_peer *p);
/* Encrypt and send the packets staged for the peer (or initiate). */
void wg_send_staged(struct wg_device *d, struct wg_peer *p);
/* Drop the packets staged for the peer, back to the pool. */
void wg_staged_purge(struct wg_device *d, struct wg_peer *p);

/* ---- noise.c ---- */
void wg_noise_init_device(struct wg_device *d);
void wg_noise_init_peer(struct wg_device *d, struct wg_peer *p);
/* The peer's static-static DH, computed now if still pending. */
bool wg_noise_static_static(struct wg_device *d, struct wg_peer *p);
/* Compute up to max pending static-static DHs (idle work). */
void wg_noise_precompute(struct wg_device *d, unsigned max);
bool wg_noise_create_initiation(struct wg_device *d, struct wg_peer *p,
				struct wg_msg_initiation *m) EVPN_WUR;
/* Returns the peer, or NULL with *why set. */
struct wg_peer *wg_noise_consume_initiation(struct wg_device *d,
					    const struct wg_msg_initiation *m,
					    enum wg_drop *why);
bool wg_noise_create_response(struct wg_device *d, struct wg_peer *p,
			      struct wg_msg_response *m) EVPN_WUR;
struct wg_peer *wg_noise_consume_response(struct wg_device *d,
					  const struct wg_msg_response *m,
					  enum wg_drop *why);
/* Derive the session from a finished handshake and install it. */
bool wg_noise_begin_session(struct wg_device *d, struct wg_peer *p) EVPN_WUR;
void wg_noise_handshake_clear(struct wg_device *d, struct wg_peer *p);
/* Responder side: a data packet arrived on `next`: promote it. */
void wg_noise_confirm(struct wg_device *d, struct wg_peer *p,
		      struct wg_keypair *kp);
/* Free the peer's current, previous and next sessions. */
void wg_noise_keypairs_clear(struct wg_device *d, struct wg_peer *p);
void wg_keypair_free(struct wg_device *d, struct wg_keypair *kp);
/* Past REJECT_AFTER_TIME: neither sent nor accepted on any more. */
bool wg_keypair_expired(struct wg_device *d, const struct wg_keypair *kp);

/* ---- cookie.c ---- */
enum wg_mac_state {
	WG_MAC_INVALID,
	WG_MAC_VALID_NO_COOKIE,
	WG_MAC_VALID_WITH_COOKIE,
};
enum wg_mac_state wg_cookie_validate(struct wg_device *d, const void *msg,
				     size_t len,
				     const struct sockaddr_storage *from,
				     bool check_cookie);
/* Fill mac1 (and mac2 when we hold a fresh cookie) of an outgoing message. */
void wg_cookie_add_macs(struct wg_device *d, struct wg_peer *p, void *msg,
			size_t len);
void wg_cookie_send_reply(struct wg_device *d, const void *msg, size_t len,
			  uint32_t receiver,
			  const struct sockaddr_storage *from);
bool wg_cookie_consume_reply(struct wg_device *d, const struct wg_msg_cookie *m,
			     enum wg_drop *why);

/* ---- ratelimiter.c: handshake messages per source address ---- */
int wg_ratelimiter_init(struct wg_device *d) EVPN_WUR;
void wg_ratelimiter_free(struct wg_device *d);
/* Whether one more handshake message from this source may be processed. */
bool wg_ratelimit_allow(struct wg_device *d,
			const struct sockaddr_storage *from);

/* ---- timers.c ---- */
double wg_jitter(void);
void wg_timers_handshake_initiated(struct wg_device *d, struct wg_peer *p);
void wg_timers_handshake_complete(struct wg_device *d, struct wg_peer *p);
void wg_timers_session_derived(struct wg_device *d, struct wg_peer *p);
void wg_timers_data_sent(struct wg_device *d, struct wg_peer *p);
void wg_timers_data_received(struct wg_device *d, struct wg_peer *p);
void wg_timers_any_authenticated_sent(struct wg_device *d, struct wg_peer *p);
void wg_timers_any_authenticated_received(struct wg_device *d,
					  struct wg_peer *p);
void wg_timers_any_authenticated_traversal(struct wg_device *d,
					   struct wg_peer *p);
void wg_timers_stop(struct wg_peer *p);
/* Put the peer on the tick's list (it has, or is about to have, a
 * deadline); the tick drops peers without one. */
void wg_timers_arm(struct wg_device *d, struct wg_peer *p);
void wg_timers_disarm(struct wg_device *d, struct wg_peer *p);
void wg_timers_peer_tick(struct wg_device *d, struct wg_peer *p, double now);
/* Run due timers; call every ~100-250 ms. */
void wg_device_tick(struct wg_device *d);

#endif
