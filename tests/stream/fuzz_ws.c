// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for what a stream's client controls: the upgrade
 * request and the frames after it. The first byte picks the role (bit 0:
 * parse as the client would, unmasked frames) and the message buffer's
 * size; the rest is the byte stream, fed frame by frame through the
 * message layer as the server does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ws_frame.h"
#include "ws_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_upgrade u;
	struct ws_frame f;
	uint8_t msgbuf[2048];
	struct ws_msg m = {.data = msgbuf};
	enum ws_role role;
	uint8_t *buf;
	size_t off = 0, head = 0;
	uint16_t code;
	int status, r;

	if (size < 1)
		return 0;
	role = data[0] & 1 ? WS_READ_FROM_SERVER : WS_READ_FROM_CLIENT;
	m.cap = (size_t)(data[0] >> 1) * 16 + 1;
	if (m.cap > sizeof(msgbuf))
		m.cap = sizeof(msgbuf);
	data++;
	size--;
	buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	(void)ws_http_parse_upgrade((const char *)buf, size, &u, &head,
				    &status);
	(void)ws_http_check_response((const char *)buf, size,
				     "dGhlIHNhbXBsZSBub25jZQ==", &head,
				     &status);
	while (off < size) {
		r = ws_frame_parse(buf + off, size - off, role, m.cap, &f,
				   &code);
		if (r != WS_PARSE_FRAME)
			break;
		if (f.frame_len == 0 || f.frame_len > size - off)
			abort(); /* the parser must always move forward */
		if (ws_msg_feed(&m, &f, &code) < 0)
			break;
		if (m.len > m.cap)
			abort();
		off += f.frame_len;
	}
	free(buf);
	return 0;
}
