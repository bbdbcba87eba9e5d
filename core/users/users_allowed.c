/* SPDX-License-Identifier: MIT */
/*
 * Split tunnels: the CIDRs a user's config routes through the VPN
 * (AllowedIPs of its [Peer]). Kept in users/{id}/allowed-ips only when set;
 * absent means EVPN_ALLOWED_IPS_DEFAULT. Not resident: the value is read
 * from the store when a config is asked for, so a change made on one
 * instance is what every instance serves next, and 100,000 users with the
 * default cost no memory. A record (GET /users/{id}) shows it as last read
 * within users.sync_interval (users_cache.c).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "users_int.h"

#define ALLOWED_MAX_ENTRIES 64

/* One "addr/len": valid, and no host bits set (a typo such as 10.1.2.3/8
 * for 10.0.0.0/8 is refused rather than silently widened or narrowed). */
static bool parse_cidr(const char *s, char *norm, size_t normlen, char *why,
		       size_t whylen)
{
	char addr[INET6_ADDRSTRLEN + 1], *end;
	unsigned char bin[16];
	const char *slash = strchr(s, '/');
	int fam, bits;
	long len;

	if (!slash || (size_t)(slash - s) >= sizeof(addr) || !slash[1]) {
		snprintf(why, whylen, "'%.60s' is not a CIDR (address/length)",
			 s);
		return false;
	}
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	if (inet_pton(AF_INET, addr, bin) == 1) {
		fam = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, addr, bin) == 1) {
		fam = AF_INET6;
		bits = 128;
	} else {
		snprintf(why, whylen, "'%.60s' is not an IP address", addr);
		return false;
	}
	if (!isdigit((unsigned char)slash[1]))
		len = -1;
	else
		len = strtol(slash + 1, &end, 10);
	if (len < 0 || len > bits || *end != '\0') {
		snprintf(why, whylen, "'%.60s': the prefix length must be 0-%d",
			 s, bits);
		return false;
	}
	for (int i = (int)len; i < bits; i++)
		if (bin[i / 8] & (0x80 >> (i % 8))) {
			snprintf(why, whylen,
				 "'%.60s' has host bits set after /%ld", s,
				 len);
			return false;
		}
	if (!inet_ntop(fam, bin, addr, sizeof(addr)))
		return false;
	snprintf(norm, normlen, "%s/%ld", addr, len);
	return true;
}

int evpn_allowed_ips_normalize(const char *in, char out[EVPN_ALLOWED_IPS_MAX],
			       char *why, size_t whylen)
{
	size_t used = 0, n = 0;
	const char *p = in;

	out[0] = '\0';
	while (p && *p) {
		char item[96], norm[INET6_ADDRSTRLEN + 8];
		size_t k = strcspn(p, ", \t");

		if (k == 0) {
			p++;
			continue;
		}
		if (k >= sizeof(item)) {
			snprintf(why, whylen, "an entry is too long");
			return EVPN_ERR_INVAL;
		}
		memcpy(item, p, k);
		item[k] = '\0';
		p += k;
		if (!parse_cidr(item, norm, sizeof(norm), why, whylen))
			return EVPN_ERR_INVAL;
		if (++n > ALLOWED_MAX_ENTRIES ||
		    used + strlen(norm) + 3 > EVPN_ALLOWED_IPS_MAX) {
			snprintf(why, whylen,
				 "allowed_ips may list at most %d entries",
				 ALLOWED_MAX_ENTRIES);
			return EVPN_ERR_INVAL;
		}
		used += (size_t)snprintf(out + used,
					 EVPN_ALLOWED_IPS_MAX - used, "%s%s",
					 used ? ", " : "", norm);
	}
	if (n == 0) {
		snprintf(why, whylen,
			 "allowed_ips needs at least one CIDR (all traffic: "
			 "0.0.0.0/0, ::/0)");
		return EVPN_ERR_INVAL;
	}
	return EVPN_OK;
}

int users_allowed_check(const char *in, char out[EVPN_ALLOWED_IPS_MAX],
			struct evpn_users_error *err)
{
	char why[160];

	if (!in) {
		snprintf(out, EVPN_ALLOWED_IPS_MAX, "%s",
			 EVPN_ALLOWED_IPS_DEFAULT);
		return EVPN_OK;
	}
	if (evpn_allowed_ips_normalize(in, out, why, sizeof(why)) != EVPN_OK) {
		users_set_err(err, EVPN_ERR_INVAL, "allowed_ips: %s", why);
		return EVPN_ERR_INVAL;
	}
	return EVPN_OK;
}

int users_allowed_read(struct evpn_users *u, const char *id,
		       char out[EVPN_ALLOWED_IPS_MAX])
{
	char key[160], *v = NULL, why[160];
	size_t len;
	int r;

	snprintf(key, sizeof(key), "users/%s/allowed-ips", id);
	r = u->st->get(u->sts, key, &v, &len);
	if (r == EVPN_ERR_NOTFOUND) {
		snprintf(out, EVPN_ALLOWED_IPS_MAX, "%s",
			 EVPN_ALLOWED_IPS_DEFAULT);
		return EVPN_OK;
	}
	if (r != EVPN_OK)
		return EVPN_ERR_UNAVAILABLE;
	r = evpn_allowed_ips_normalize(v, out, why, sizeof(why));
	u->st->free_value(u->sts, v, len);
	if (r != EVPN_OK) {
		/* hand-edited into something unusable: the full tunnel is
		 * what the user had before split tunnels existed */
		evpn_warn(u->host,
			  "user '%s': stored allowed-ips unusable "
			  "(%s); serving the default",
			  id, why);
		snprintf(out, EVPN_ALLOWED_IPS_MAX, "%s",
			 EVPN_ALLOWED_IPS_DEFAULT);
	}
	return EVPN_OK;
}

int users_op_allowed_ips(void *self, const char *id,
			 char out[EVPN_ALLOWED_IPS_MAX])
{
	struct evpn_users *u = self;
	struct users_extras x;
	bool known;
	int r;

	pthread_mutex_lock(&u->mu);
	known = users_find_locked(u, id) != NULL;
	pthread_mutex_unlock(&u->mu);
	if (!known)
		return EVPN_ERR_NOTFOUND;
	/* GET /users/{id}: as last read, fresh within users.sync_interval
	 * (users_cache.c); a config is rendered from a fresh read */
	r = users_extras_get(u, id, &x);
	if (r == EVPN_OK)
		memcpy(out, x.allowed, EVPN_ALLOWED_IPS_MAX);
	return r;
}
