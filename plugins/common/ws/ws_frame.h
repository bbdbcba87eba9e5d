/* SPDX-License-Identifier: MIT */
/*
 * WebSocket frames (RFC 6455 section 5): a pure parser and builder, no I/O,
 * shared by the server's stream listener and evpnctl's relay.
 *
 * The parser reads one frame at a time from a byte buffer and unmasks its
 * payload in place. It enforces the rules a peer must follow (reserved bits
 * clear, known opcodes, control frames short and unfragmented, minimal
 * length encoding, the masking rule of the side it listens to) and answers
 * every violation with the close code to send.
 *
 * The message layer (ws_msg) joins fragments into one bounded message and
 * passes control frames through, so a caller sees whole binary messages,
 * pings, pongs and closes.
 */
#ifndef EVPN_WS_FRAME_H
#define EVPN_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_opcode {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xA,
};

/* Close codes (RFC 6455 section 7.4.1). */
enum ws_close_code {
	WS_CLOSE_NORMAL = 1000,
	WS_CLOSE_GOING_AWAY = 1001,
	WS_CLOSE_PROTOCOL = 1002,
	WS_CLOSE_UNSUPPORTED = 1003,
	WS_CLOSE_NO_STATUS = 1005, /* never on the wire */
	WS_CLOSE_BAD_DATA = 1007,
	WS_CLOSE_POLICY = 1008,
	WS_CLOSE_TOO_BIG = 1009,
	WS_CLOSE_INTERNAL = 1011,
};

#define WS_CONTROL_MAX 125 /* payload bytes of a control frame */
#define WS_HEADER_MAX 14   /* 2 + 8 (64-bit length) + 4 (mask) */

/* Which side's frames are parsed: a server reads masked frames only, a
 * client unmasked ones only (RFC 6455 section 5.1). */
enum ws_role { WS_READ_FROM_CLIENT, WS_READ_FROM_SERVER };

enum ws_parse_result {
	WS_PARSE_ERROR = -1, /* *close_code says why */
	WS_PARSE_MORE = 0,   /* not a whole frame yet */
	WS_PARSE_FRAME = 1,  /* *f filled, f->frame_len bytes consumed */
};

struct ws_frame {
	bool fin;
	uint8_t opcode;
	bool masked;
	uint64_t payload_len;
	uint8_t *payload; /* inside the caller's buffer, unmasked */
	size_t frame_len; /* header + payload */
};

/*
 * One frame from buf[0..len). max_payload bounds a data frame's payload
 * (a larger one is an error with WS_CLOSE_TOO_BIG, even before it has
 * arrived whole). On WS_PARSE_FRAME the payload is unmasked in place.
 */
enum ws_parse_result ws_frame_parse(uint8_t *buf, size_t len, enum ws_role role,
				    uint64_t max_payload, struct ws_frame *f,
				    uint16_t *close_code);

/* Header bytes of a frame with this payload length. */
size_t ws_frame_header_len(uint64_t payload_len, bool masked);

/*
 * Write one frame into out[0..cap): the header, then the payload (masked
 * with mask when mask is not NULL). Returns the bytes written, or 0 when
 * cap is too small or a control frame breaks the rules.
 */
size_t ws_frame_build(uint8_t *out, size_t cap, uint8_t opcode, bool fin,
		      const uint8_t mask[4], const uint8_t *payload,
		      uint64_t payload_len);

/* A close frame's payload: is this code one a peer may send? */
bool ws_close_code_valid(uint16_t code);
/*
 * Read a close frame's payload: *code is its status (WS_CLOSE_NO_STATUS
 * when empty). False when the payload is malformed (one byte, a code that
 * may not be sent, a reason that is not UTF-8).
 */
bool ws_close_parse(const uint8_t *payload, size_t len, uint16_t *code);

/* True when s[0..n) is well-formed UTF-8. */
bool ws_utf8_valid(const uint8_t *s, size_t n);

/* ---- messages ---- */

enum ws_msg_kind {
	WS_MSG_NONE = 0,   /* a fragment was taken; nothing to hand out yet */
	WS_MSG_BINARY = 1, /* msg->data[0..msg->len) is a whole message */
	WS_MSG_PING = 2,   /* f.payload: answer with a pong */
	WS_MSG_PONG = 3,
	WS_MSG_CLOSE = 4, /* *close_code: the peer's code */
};

struct ws_msg {
	uint8_t *data; /* the caller's buffer of cap bytes */
	size_t cap;
	size_t len;
	bool in_message; /* fragments of a message are arriving */
};

/*
 * Feed one parsed frame. Returns the kind, or -1 with *close_code (a text
 * message, a continuation without a start, a new message inside another,
 * a message larger than cap, a malformed close).
 */
int ws_msg_feed(struct ws_msg *m, const struct ws_frame *f,
		uint16_t *close_code);

#endif
