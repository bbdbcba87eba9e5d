/* SPDX-License-Identifier: MIT */
/* Rendering a client's wg-quick file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users_int.h"

#define PRIVATE_KEY_PLACEHOLDER "<paste the client's private key here>"

char *evpn_render_wg_config(const struct evpn_network *net,
			    const char *server_pub_b64,
			    const struct evpn_user *user,
			    const char *private_key_b64,
			    const char *allowed_ips)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "[Interface]\n");
	if (private_key_b64)
		fprintf(f, "PrivateKey = %s\n", private_key_b64);
	else
		fprintf(f,
			"# The server never stores client private keys: put "
			"yours here.\nPrivateKey = %s\n",
			PRIVATE_KEY_PLACEHOLDER);
	if (user->address6[0])
		fprintf(f, "Address = %s, %s\n", user->address, user->address6);
	else
		fprintf(f, "Address = %s\n", user->address);
	if (net->dns && net->dns[0]) {
		fprintf(f, "DNS = ");
		for (size_t i = 0; net->dns[i]; i++)
			fprintf(f, "%s%s", i ? ", " : "", net->dns[i]);
		fprintf(f, "\n");
	}
	if (net->mtu)
		fprintf(f, "MTU = %u\n", net->mtu);
	fprintf(f,
		"\n[Peer]\nPublicKey = %s\nEndpoint = %s\n"
		"AllowedIPs = %s\nPersistentKeepalive = 25\n",
		server_pub_b64, net->endpoint,
		allowed_ips ? allowed_ips : EVPN_ALLOWED_IPS_DEFAULT);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}
