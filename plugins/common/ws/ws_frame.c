// SPDX-License-Identifier: MIT
#include "ws_frame.h"

#include <string.h>

static bool is_control(uint8_t op)
{
	return op & 0x8;
}

static bool known_opcode(uint8_t op)
{
	switch (op) {
	case WS_OP_CONT:
	case WS_OP_TEXT:
	case WS_OP_BINARY:
	case WS_OP_CLOSE:
	case WS_OP_PING:
	case WS_OP_PONG: return true;
	default: return false;
	}
}

/* p[i] ^= mask[i & 3] for i < n, eight bytes at a time (masking is the
 * per-byte cost of every frame a client sends). */
static void xor_mask(uint8_t *p, uint64_t n, const uint8_t mask[4])
{
	uint8_t m8[8];
	uint64_t w, mw, i = 0;

	for (int k = 0; k < 8; k++)
		m8[k] = mask[k & 3];
	memcpy(&mw, m8, 8);
	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		w ^= mw;
		memcpy(p + i, &w, 8);
	}
	for (; i < n; i++)
		p[i] ^= mask[i & 3];
}

static enum ws_parse_result fail(uint16_t *close_code, uint16_t code)
{
	*close_code = code;
	return WS_PARSE_ERROR;
}

enum ws_parse_result ws_frame_parse(uint8_t *buf, size_t len, enum ws_role role,
				    uint64_t max_payload, struct ws_frame *f,
				    uint16_t *close_code)
{
	size_t hdr = 2, i;
	uint64_t plen;
	const uint8_t *mask;

	if (len < 2)
		return WS_PARSE_MORE;
	/* No extension was negotiated: the reserved bits must be clear. */
	if (buf[0] & 0x70)
		return fail(close_code, WS_CLOSE_PROTOCOL);
	f->fin = buf[0] & 0x80;
	f->opcode = buf[0] & 0x0f;
	f->masked = buf[1] & 0x80;
	if (!known_opcode(f->opcode))
		return fail(close_code, WS_CLOSE_PROTOCOL);
	if (f->masked != (role == WS_READ_FROM_CLIENT))
		return fail(close_code, WS_CLOSE_PROTOCOL);
	plen = buf[1] & 0x7f;
	if (is_control(f->opcode) && (!f->fin || plen > WS_CONTROL_MAX))
		return fail(close_code, WS_CLOSE_PROTOCOL);
	if (plen == 126) {
		if (len < 4)
			return WS_PARSE_MORE;
		plen = (uint64_t)buf[2] << 8 | buf[3];
		hdr = 4;
		/* The minimal number of bytes must be used (section 5.2). */
		if (plen < 126)
			return fail(close_code, WS_CLOSE_PROTOCOL);
	} else if (plen == 127) {
		if (len < 10)
			return WS_PARSE_MORE;
		plen = 0;
		for (i = 0; i < 8; i++)
			plen = plen << 8 | buf[2 + i];
		hdr = 10;
		if (plen >> 63 || plen <= 0xffff)
			return fail(close_code, WS_CLOSE_PROTOCOL);
	}
	if (!is_control(f->opcode) && plen > max_payload)
		return fail(close_code, WS_CLOSE_TOO_BIG);
	if (f->masked)
		hdr += 4;
	if (len < hdr || len - hdr < plen)
		return WS_PARSE_MORE;
	f->payload_len = plen;
	f->payload = buf + hdr;
	f->frame_len = hdr + (size_t)plen;
	if (f->masked) {
		mask = buf + hdr - 4;
		xor_mask(f->payload, plen, mask);
	}
	return WS_PARSE_FRAME;
}

size_t ws_frame_header_len(uint64_t payload_len, bool masked)
{
	size_t n = payload_len < 126 ? 2 : payload_len <= 0xffff ? 4 : 10;

	return n + (masked ? 4 : 0);
}

size_t ws_frame_build(uint8_t *out, size_t cap, uint8_t opcode, bool fin,
		      const uint8_t mask[4], const uint8_t *payload,
		      uint64_t payload_len)
{
	size_t hdr = ws_frame_header_len(payload_len, mask != NULL), p = 2, i;

	if (!known_opcode(opcode) ||
	    (is_control(opcode) && (!fin || payload_len > WS_CONTROL_MAX)))
		return 0;
	if (cap < hdr || cap - hdr < payload_len)
		return 0;
	out[0] = (uint8_t)((fin ? 0x80 : 0) | opcode);
	out[1] = mask ? 0x80 : 0;
	if (payload_len < 126) {
		out[1] |= (uint8_t)payload_len;
	} else if (payload_len <= 0xffff) {
		out[1] |= 126;
		out[2] = (uint8_t)(payload_len >> 8);
		out[3] = (uint8_t)payload_len;
		p = 4;
	} else {
		out[1] |= 127;
		for (i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)(payload_len >> (56 - 8 * i));
		p = 10;
	}
	if (mask) {
		memcpy(out + p, mask, 4);
		p += 4;
	}
	if (payload_len)
		memmove(out + p, payload, (size_t)payload_len);
	if (mask)
		xor_mask(out + p, payload_len, mask);
	return p + (size_t)payload_len;
}

bool ws_close_code_valid(uint16_t code)
{
	if (code >= 3000 && code <= 4999)
		return true; /* libraries' and applications' own */
	switch (code) {
	case 1000:
	case 1001:
	case 1002:
	case 1003:
	case 1007:
	case 1008:
	case 1009:
	case 1010:
	case 1011: return true;
	default:
		return false; /* 1004-1006, 1015: never sent; others reserved */
	}
}

bool ws_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = s[i];
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + j] & 0x3f);
		}
		/* overlong forms, surrogates, beyond U+10FFFF */
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		i += k + 1;
	}
	return true;
}

bool ws_close_parse(const uint8_t *payload, size_t len, uint16_t *code)
{
	if (len == 0) {
		*code = WS_CLOSE_NO_STATUS;
		return true;
	}
	if (len == 1)
		return false;
	*code = (uint16_t)(payload[0] << 8 | payload[1]);
	return ws_close_code_valid(*code) &&
	       ws_utf8_valid(payload + 2, len - 2);
}

int ws_msg_feed(struct ws_msg *m, const struct ws_frame *f,
		uint16_t *close_code)
{
	switch (f->opcode) {
	case WS_OP_PING: return WS_MSG_PING;
	case WS_OP_PONG: return WS_MSG_PONG;
	case WS_OP_CLOSE:
		if (!ws_close_parse(f->payload, (size_t)f->payload_len,
				    close_code)) {
			*close_code = WS_CLOSE_PROTOCOL;
			return -1;
		}
		return WS_MSG_CLOSE;
	case WS_OP_TEXT:
		/* Datagrams are binary; a text message is not ours. */
		*close_code = WS_CLOSE_UNSUPPORTED;
		return -1;
	case WS_OP_BINARY:
		if (m->in_message) {
			*close_code = WS_CLOSE_PROTOCOL;
			return -1;
		}
		m->len = 0;
		m->in_message = true;
		break;
	case WS_OP_CONT:
		if (!m->in_message) {
			*close_code = WS_CLOSE_PROTOCOL;
			return -1;
		}
		break;
	default: *close_code = WS_CLOSE_PROTOCOL; return -1;
	}
	if (f->payload_len > m->cap - m->len) {
		*close_code = WS_CLOSE_TOO_BIG;
		return -1;
	}
	memcpy(m->data + m->len, f->payload, (size_t)f->payload_len);
	m->len += (size_t)f->payload_len;
	if (!f->fin)
		return WS_MSG_NONE;
	m->in_message = false;
	return WS_MSG_BINARY;
}
