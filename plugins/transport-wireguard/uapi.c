// SPDX-License-Identifier: MIT
#include "uapi.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum wg_uapi_op wg_uapi_parse(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\n\n", 2);

	if (!end)
		return len > 0 && buf[0] == '\n' ? WG_UAPI_INVALID
						 : WG_UAPI_INCOMPLETE;
	if (end - buf == 5 && !memcmp(buf, "get=1", 5))
		return WG_UAPI_GET;
	if (end - buf >= 5 && !memcmp(buf, "set=1", 5) &&
	    (end - buf == 5 || buf[5] == '\n'))
		return WG_UAPI_SET;
	return WG_UAPI_INVALID;
}

void wg_format_endpoint(char *out, size_t n, const void *addr)
{
	const struct sockaddr *ss = addr;
	char ip[INET6_ADDRSTRLEN];

	if (ss->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)ss;

		inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
		snprintf(out, n, "%s:%u", ip, ntohs(s->sin_port));
	} else if (ss->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)ss;

		inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
		snprintf(out, n, "[%s]:%u", ip, ntohs(s->sin6_port));
	} else {
		snprintf(out, n, "%s", "");
	}
}

static void hex(FILE *f, const char *key, const uint8_t *b, size_t n)
{
	size_t i;

	fprintf(f, "%s=", key);
	for (i = 0; i < n; i++)
		fprintf(f, "%02x", b[i]);
	fputc('\n', f);
}

static void print_aip(void *arg, int family, const uint8_t *addr, uint8_t cidr)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, ip, sizeof(ip));
	fprintf(arg, "allowed_ip=%s/%u\n", ip, cidr);
}

char *wg_uapi_get(struct wg_device *d, uint16_t listen_port,
		  bool with_private_key, size_t *len)
{
	char *buf = NULL, ep[INET6_ADDRSTRLEN + 16];
	struct wg_list *pos;
	FILE *f;

	f = open_memstream(&buf, len);
	if (!f)
		return NULL;
	/* `wg` derives the interface's public key from this line, and `wg
	 * showconf` prints it; anyone who can read the socket would get the
	 * server's identity, so it is there only when configured. */
	if (with_private_key && d->has_key)
		hex(f, "private_key", d->priv, WG_KEY_LEN);
	fprintf(f, "listen_port=%u\n", listen_port);
	wg_list_for_each(pos, &d->peers)
	{
		struct wg_peer *p =
			wg_list_entry(pos, struct wg_peer, peer_link);

		hex(f, "public_key", p->public_key, WG_KEY_LEN);
		if (!wg_key_is_zero(p->psk))
			hex(f, "preshared_key", p->psk, WG_KEY_LEN);
		fprintf(f, "protocol_version=1\n");
		if (p->endpoint.sa.sa_family) {
			wg_format_endpoint(ep, sizeof(ep), &p->endpoint);
			fprintf(f, "endpoint=%s\n", ep);
		}
		fprintf(f, "last_handshake_time_sec=%lld\n",
			(long long)p->last_handshake.tv_sec);
		fprintf(f, "last_handshake_time_nsec=%ld\n",
			p->last_handshake.tv_nsec);
		fprintf(f, "tx_bytes=%llu\nrx_bytes=%llu\n",
			(unsigned long long)p->tx_bytes,
			(unsigned long long)p->rx_bytes);
		fprintf(f, "persistent_keepalive_interval=%u\n",
			p->persistent_keepalive);
		/* The peer's own list: walking the trie per peer would make
		 * `wg show` quadratic in the number of peers. */
		for (uint32_t i = 0; i < p->n_aips; i++)
			print_aip(f, p->aips[i].family, p->aips[i].addr,
				  p->aips[i].prefix);
	}
	fprintf(f, "errno=0\n\n");
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
