// SPDX-License-Identifier: MIT
/* RFC 6455 frames: the examples of section 5.7, the rules a peer must keep
 * (masking, control frames, minimal lengths), bounds and the message
 * layer's reassembly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ws_frame.h"

static const uint8_t mask_rfc[4] = {0x37, 0xfa, 0x21, 0x3d};

/* Parse buf (a copy) as one frame; returns the result. */
static int parse(const uint8_t *in, size_t len, enum ws_role role, uint64_t max,
		 struct ws_frame *f, uint16_t *code, uint8_t *scratch)
{
	memcpy(scratch, in, len);
	return ws_frame_parse(scratch, len, role, max, f, code);
}

static void test_rfc_unmasked_hello(void **state)
{
	static const uint8_t fr[] = {0x81, 0x05, 'H', 'e', 'l', 'l', 'o'};
	uint8_t buf[64];
	struct ws_frame f;
	uint16_t code = 0;

	assert_int_equal(parse(fr, sizeof(fr), WS_READ_FROM_SERVER, 1000, &f,
			       &code, buf),
			 WS_PARSE_FRAME);
	assert_true(f.fin);
	assert_int_equal(f.opcode, WS_OP_TEXT);
	assert_false(f.masked);
	assert_int_equal(f.payload_len, 5);
	assert_memory_equal(f.payload, "Hello", 5);
	assert_int_equal(f.frame_len, sizeof(fr));
	/* A server must refuse an unmasked frame from a client. */
	assert_int_equal(parse(fr, sizeof(fr), WS_READ_FROM_CLIENT, 1000, &f,
			       &code, buf),
			 WS_PARSE_ERROR);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
}

static void test_rfc_masked_hello(void **state)
{
	static const uint8_t fr[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
				     0x7f, 0x9f, 0x4d, 0x51, 0x58};
	uint8_t buf[64], out[64];
	struct ws_frame f;
	uint16_t code = 0;

	assert_int_equal(parse(fr, sizeof(fr), WS_READ_FROM_CLIENT, 1000, &f,
			       &code, buf),
			 WS_PARSE_FRAME);
	assert_true(f.masked);
	assert_memory_equal(f.payload, "Hello", 5);
	/* and a client must refuse a masked frame from a server */
	assert_int_equal(parse(fr, sizeof(fr), WS_READ_FROM_SERVER, 1000, &f,
			       &code, buf),
			 WS_PARSE_ERROR);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
	/* the builder writes the RFC's bytes */
	assert_int_equal(ws_frame_build(out, sizeof(out), WS_OP_TEXT, true,
					mask_rfc, (const uint8_t *)"Hello", 5),
			 sizeof(fr));
	assert_memory_equal(out, fr, sizeof(fr));
}

static void test_rfc_fragmented(void **state)
{
	/* "Hel" then "lo", unmasked: a text message at frame level. */
	static const uint8_t fr[] = {0x01, 0x03, 'H', 'e', 'l',
				     0x80, 0x02, 'l', 'o'};
	uint8_t buf[64];
	struct ws_frame f;
	uint16_t code = 0;

	assert_int_equal(parse(fr, sizeof(fr), WS_READ_FROM_SERVER, 1000, &f,
			       &code, buf),
			 WS_PARSE_FRAME);
	assert_false(f.fin);
	assert_int_equal(f.opcode, WS_OP_TEXT);
	assert_int_equal(f.frame_len, 5);
	assert_int_equal(ws_frame_parse(buf + 5, sizeof(fr) - 5,
					WS_READ_FROM_SERVER, 1000, &f, &code),
			 WS_PARSE_FRAME);
	assert_true(f.fin);
	assert_int_equal(f.opcode, WS_OP_CONT);
	assert_memory_equal(f.payload, "lo", 2);
}

static void test_rfc_ping_pong(void **state)
{
	static const uint8_t ping[] = {0x89, 0x05, 'H', 'e', 'l', 'l', 'o'};
	static const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
				       0x7f, 0x9f, 0x4d, 0x51, 0x58};
	uint8_t buf[64], out[64];
	struct ws_frame f;
	uint16_t code = 0;

	assert_int_equal(parse(ping, sizeof(ping), WS_READ_FROM_SERVER, 0, &f,
			       &code, buf),
			 WS_PARSE_FRAME);
	assert_int_equal(f.opcode, WS_OP_PING);
	assert_int_equal(parse(pong, sizeof(pong), WS_READ_FROM_CLIENT, 0, &f,
			       &code, buf),
			 WS_PARSE_FRAME);
	assert_int_equal(f.opcode, WS_OP_PONG);
	assert_memory_equal(f.payload, "Hello", 5);
	assert_int_equal(ws_frame_build(out, sizeof(out), WS_OP_PONG, true,
					mask_rfc, (const uint8_t *)"Hello", 5),
			 sizeof(pong));
	assert_memory_equal(out, pong, sizeof(pong));
}

static void test_lengths_16_and_64(void **state)
{
	static uint8_t payload[70000], out[70100], buf[70100];
	struct ws_frame f;
	uint16_t code = 0;
	size_t n;

	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)i;
	/* 256 bytes: 126 + 16-bit length (RFC 5.7) */
	n = ws_frame_build(out, sizeof(out), WS_OP_BINARY, true, NULL, payload,
			   256);
	assert_int_equal(n, 4 + 256);
	assert_memory_equal(out, "\x82\x7e\x01\x00", 4);
	/* 64 KiB: 127 + 64-bit length (RFC 5.7) */
	n = ws_frame_build(out, sizeof(out), WS_OP_BINARY, true, NULL, payload,
			   65536);
	assert_int_equal(n, 10 + 65536);
	assert_memory_equal(out, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00",
			    10);
	assert_int_equal(
		parse(out, n, WS_READ_FROM_SERVER, 70000, &f, &code, buf),
		WS_PARSE_FRAME);
	assert_int_equal(f.payload_len, 65536);
	assert_memory_equal(f.payload, payload, 65536);
	/* masked, 64-bit */
	n = ws_frame_build(out, sizeof(out), WS_OP_BINARY, true, mask_rfc,
			   payload, 65537);
	assert_int_equal(n, 14 + 65537);
	assert_int_equal(
		parse(out, n, WS_READ_FROM_CLIENT, 70000, &f, &code, buf),
		WS_PARSE_FRAME);
	assert_memory_equal(f.payload, payload, 65537);
	/* every prefix is "more", never a frame or an error */
	for (size_t k = 0; k < n; k += 997)
		assert_int_equal(parse(out, k, WS_READ_FROM_CLIENT, 70000, &f,
				       &code, buf),
				 WS_PARSE_MORE);
}

static void test_bad_lengths(void **state)
{
	/* 16-bit form for a length that fits 7 bits */
	static const uint8_t nonmin16[] = {0x82, 0xfe, 0x00, 0x05, 0, 0, 0, 0};
	/* 64-bit form for a length that fits 16 bits */
	static const uint8_t nonmin64[] = {0x82, 0xff, 0, 0, 0, 0, 0,
					   0,	 1,    0, 0, 0, 0, 0};
	/* most significant bit set */
	static const uint8_t msb[] = {0x82, 0xff, 0x80, 0, 0, 0, 0,
				      0,    0,	  0,	0, 0, 0, 0};
	/* 2^40 bytes: oversized long before it could arrive */
	static const uint8_t huge[] = {0x82, 0x7f, 0, 0, 1, 0, 0, 0, 0, 0};
	uint8_t buf[64];
	struct ws_frame f;
	uint16_t code = 0;

	assert_int_equal(parse(nonmin16, sizeof(nonmin16), WS_READ_FROM_CLIENT,
			       2048, &f, &code, buf),
			 WS_PARSE_ERROR);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
	assert_int_equal(parse(nonmin64, sizeof(nonmin64), WS_READ_FROM_CLIENT,
			       1 << 20, &f, &code, buf),
			 WS_PARSE_ERROR);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
	assert_int_equal(parse(msb, sizeof(msb), WS_READ_FROM_CLIENT, 2048, &f,
			       &code, buf),
			 WS_PARSE_ERROR);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
	assert_int_equal(parse(huge, sizeof(huge), WS_READ_FROM_SERVER, 2048,
			       &f, &code, buf),
			 WS_PARSE_ERROR);
	assert_int_equal(code, WS_CLOSE_TOO_BIG);
}

static void test_protocol_rules(void **state)
{
	static const uint8_t rsv[] = {0xc2, 0x80, 0, 0, 0, 0};	 /* RSV1 */
	static const uint8_t op3[] = {0x83, 0x80, 0, 0, 0, 0};	 /* opcode 3 */
	static const uint8_t opb[] = {0x8b, 0x80, 0, 0, 0, 0};	 /* opcode B */
	static const uint8_t fping[] = {0x09, 0x80, 0, 0, 0, 0}; /* no FIN */
	static const uint8_t bigping[] = {0x89, 0xfe, 0x00, 0x7e, 0, 0, 0, 0};
	const uint8_t *bad[] = {rsv, op3, opb, fping, bigping};
	size_t lens[] = {sizeof(rsv), sizeof(op3), sizeof(opb), sizeof(fping),
			 sizeof(bigping)};
	uint8_t buf[64], out[256], big[126] = {0};
	struct ws_frame f;
	uint16_t code;

	for (size_t i = 0; i < 5; i++) {
		code = 0;
		assert_int_equal(parse(bad[i], lens[i], WS_READ_FROM_CLIENT,
				       2048, &f, &code, buf),
				 WS_PARSE_ERROR);
		assert_int_equal(code, WS_CLOSE_PROTOCOL);
	}
	/* the builder refuses what the parser refuses */
	assert_int_equal(ws_frame_build(out, sizeof(out), WS_OP_PING, true,
					NULL, big, 126),
			 0);
	assert_int_equal(ws_frame_build(out, sizeof(out), WS_OP_CLOSE, false,
					NULL, big, 2),
			 0);
	assert_int_equal(
		ws_frame_build(out, 3, WS_OP_BINARY, true, NULL, big, 2), 0);
}

static void test_close_codes(void **state)
{
	uint16_t code;

	assert_true(ws_close_parse((const uint8_t *)"", 0, &code));
	assert_int_equal(code, WS_CLOSE_NO_STATUS);
	assert_true(ws_close_parse((const uint8_t *)"\x03\xe8", 2, &code));
	assert_int_equal(code, 1000);
	assert_true(ws_close_parse((const uint8_t *)"\x03\xe9"
						    "bye",
				   5, &code));
	assert_int_equal(code, 1001);
	assert_true(ws_close_parse((const uint8_t *)"\x0f\xa0", 2, &code));
	assert_int_equal(code, 4000);
	/* one byte, codes never sent, reserved, out of range */
	assert_false(ws_close_parse((const uint8_t *)"\x03", 1, &code));
	assert_false(ws_close_parse((const uint8_t *)"\x03\xed", 2, &code));
	assert_false(ws_close_parse((const uint8_t *)"\x03\xee", 2, &code));
	assert_false(ws_close_parse((const uint8_t *)"\x03\xf7", 2, &code));
	assert_false(ws_close_parse((const uint8_t *)"\x00\x00", 2, &code));
	assert_false(ws_close_parse((const uint8_t *)"\x13\x88", 2, &code));
	/* the reason must be UTF-8 */
	assert_false(ws_close_parse((const uint8_t *)"\x03\xe8\xff", 3, &code));
	assert_false(ws_close_parse((const uint8_t *)"\x03\xe8\xc0\xaf", 4,
				    &code)); /* overlong '/' */
	assert_false(ws_close_parse((const uint8_t *)"\x03\xe8\xed\xa0\x80", 5,
				    &code)); /* surrogate */
	assert_true(
		ws_close_parse((const uint8_t *)"\x03\xe8\xc3\xa9", 4, &code));
}

/* Messages: fragments joined, control frames between them, bounds. */
static void test_msg_layer(void **state)
{
	uint8_t wire[256], data[8], out[16];
	struct ws_msg m = {.data = data, .cap = sizeof(data)};
	struct ws_frame f;
	uint16_t code = 0;
	size_t n = 0, off = 0;

	n += ws_frame_build(wire + n, sizeof(wire) - n, WS_OP_BINARY, false,
			    mask_rfc, (const uint8_t *)"abc", 3);
	n += ws_frame_build(wire + n, sizeof(wire) - n, WS_OP_PING, true,
			    mask_rfc, (const uint8_t *)"p", 1);
	n += ws_frame_build(wire + n, sizeof(wire) - n, WS_OP_CONT, true,
			    mask_rfc, (const uint8_t *)"de", 2);
	assert_int_equal(
		ws_frame_parse(wire, n, WS_READ_FROM_CLIENT, 2048, &f, &code),
		WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), WS_MSG_NONE);
	off += f.frame_len;
	assert_int_equal(ws_frame_parse(wire + off, n - off,
					WS_READ_FROM_CLIENT, 2048, &f, &code),
			 WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), WS_MSG_PING);
	off += f.frame_len;
	assert_int_equal(ws_frame_parse(wire + off, n - off,
					WS_READ_FROM_CLIENT, 2048, &f, &code),
			 WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), WS_MSG_BINARY);
	assert_int_equal(m.len, 5);
	assert_memory_equal(m.data, "abcde", 5);

	/* a continuation with no message started */
	n = ws_frame_build(wire, sizeof(wire), WS_OP_CONT, true, NULL,
			   (const uint8_t *)"x", 1);
	assert_int_equal(
		ws_frame_parse(wire, n, WS_READ_FROM_SERVER, 2048, &f, &code),
		WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), -1);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
	/* a text message */
	n = ws_frame_build(wire, sizeof(wire), WS_OP_TEXT, true, NULL,
			   (const uint8_t *)"x", 1);
	assert_int_equal(
		ws_frame_parse(wire, n, WS_READ_FROM_SERVER, 2048, &f, &code),
		WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), -1);
	assert_int_equal(code, WS_CLOSE_UNSUPPORTED);
	/* fragments adding up past the buffer */
	memset(out, 'z', sizeof(out));
	n = ws_frame_build(wire, sizeof(wire), WS_OP_BINARY, false, NULL, out,
			   6);
	assert_int_equal(
		ws_frame_parse(wire, n, WS_READ_FROM_SERVER, 2048, &f, &code),
		WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), WS_MSG_NONE);
	n = ws_frame_build(wire, sizeof(wire), WS_OP_CONT, true, NULL, out, 6);
	assert_int_equal(
		ws_frame_parse(wire, n, WS_READ_FROM_SERVER, 2048, &f, &code),
		WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), -1);
	assert_int_equal(code, WS_CLOSE_TOO_BIG);
	/* a new message inside another */
	m.in_message = true;
	n = ws_frame_build(wire, sizeof(wire), WS_OP_BINARY, true, NULL, out,
			   1);
	assert_int_equal(
		ws_frame_parse(wire, n, WS_READ_FROM_SERVER, 2048, &f, &code),
		WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), -1);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
	/* a close with a bad payload */
	m.in_message = false;
	n = ws_frame_build(wire, sizeof(wire), WS_OP_CLOSE, true, NULL,
			   (const uint8_t *)"\x03", 1);
	assert_int_equal(
		ws_frame_parse(wire, n, WS_READ_FROM_SERVER, 2048, &f, &code),
		WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), -1);
	assert_int_equal(code, WS_CLOSE_PROTOCOL);
	n = ws_frame_build(wire, sizeof(wire), WS_OP_CLOSE, true, NULL,
			   (const uint8_t *)"\x03\xe8", 2);
	assert_int_equal(
		ws_frame_parse(wire, n, WS_READ_FROM_SERVER, 2048, &f, &code),
		WS_PARSE_FRAME);
	assert_int_equal(ws_msg_feed(&m, &f, &code), WS_MSG_CLOSE);
	assert_int_equal(code, 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_unmasked_hello),
		cmocka_unit_test(test_rfc_masked_hello),
		cmocka_unit_test(test_rfc_fragmented),
		cmocka_unit_test(test_rfc_ping_pong),
		cmocka_unit_test(test_lengths_16_and_64),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_protocol_rules),
		cmocka_unit_test(test_close_codes),
		cmocka_unit_test(test_msg_layer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
