/* SPDX-License-Identifier: MIT */
/* WireGuard wire formats and protocol constants (whitepaper section 5.4
 * and 6). All integers on the wire are little-endian. */
#ifndef WG_MESSAGES_H
#define WG_MESSAGES_H

#include <stdint.h>

#include "wg_crypto.h"

enum wg_msg_type {
	WG_MSG_INITIATION = 1,
	WG_MSG_RESPONSE = 2,
	WG_MSG_COOKIE = 3,
	WG_MSG_DATA = 4,
};

struct wg_msg_macs {
	uint8_t mac1[WG_MAC_LEN];
	uint8_t mac2[WG_MAC_LEN];
} __attribute__((packed));

struct wg_msg_initiation {
	uint32_t type; /* type byte + 3 reserved zero bytes */
	uint32_t sender;
	uint8_t ephemeral[WG_KEY_LEN];
	uint8_t enc_static[WG_KEY_LEN + WG_AEAD_TAG];
	uint8_t enc_timestamp[WG_TAI64N_LEN + WG_AEAD_TAG];
	struct wg_msg_macs macs;
} __attribute__((packed));

struct wg_msg_response {
	uint32_t type;
	uint32_t sender;
	uint32_t receiver;
	uint8_t ephemeral[WG_KEY_LEN];
	uint8_t enc_nothing[WG_AEAD_TAG];
	struct wg_msg_macs macs;
} __attribute__((packed));

struct wg_msg_cookie {
	uint32_t type;
	uint32_t receiver;
	uint8_t nonce[WG_XNONCE_LEN];
	uint8_t enc_cookie[WG_MAC_LEN + WG_AEAD_TAG];
} __attribute__((packed));

struct wg_msg_data {
	uint32_t type;
	uint32_t receiver;
	uint64_t counter;
	uint8_t encrypted[];
} __attribute__((packed));

_Static_assert(sizeof(struct wg_msg_initiation) == 148, "initiation size");
_Static_assert(sizeof(struct wg_msg_response) == 92, "response size");
_Static_assert(sizeof(struct wg_msg_cookie) == 64, "cookie size");
_Static_assert(sizeof(struct wg_msg_data) == 16, "data header size");

#define WG_DATA_MIN_LEN (sizeof(struct wg_msg_data) + WG_AEAD_TAG)
#define WG_DATA_OVERHEAD WG_DATA_MIN_LEN

/* Timers and limits (whitepaper section 6.1), in seconds. */
#define WG_REKEY_AFTER_TIME 120.0
#define WG_REJECT_AFTER_TIME 180.0
#define WG_REKEY_ATTEMPT_TIME 90.0
#define WG_REKEY_TIMEOUT 5.0
#define WG_KEEPALIVE_TIMEOUT 10.0
#define WG_REKEY_TIMEOUT_JITTER 0.333
#define WG_MAX_TIMER_HANDSHAKES (int)(WG_REKEY_ATTEMPT_TIME / WG_REKEY_TIMEOUT)
#define WG_COOKIE_SECRET_MAX_AGE 120.0
#define WG_COOKIE_SECRET_LATENCY 5.0
#define WG_INITIATIONS_PER_SECOND 50

#define WG_LABEL_MAC1 "mac1----"
#define WG_LABEL_COOKIE "cookie--"

#endif
