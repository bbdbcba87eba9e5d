/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostaddr.h"

static int cmp4(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp6(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* Sorted, without duplicates (one address on several interfaces). */
static size_t uniq(void *base, size_t n, size_t sz,
		   int (*cmp)(const void *, const void *))
{
	uint8_t *b = base;
	size_t k = 0;

	if (!n)
		return 0;
	qsort(base, n, sz, cmp);
	for (size_t i = 1; i < n; i++)
		if (cmp(b + k * sz, b + i * sz) != 0)
			memmove(b + ++k * sz, b + i * sz, sz);
	return k + 1;
}

int sle_hostaddr_set(struct sle_hostaddr *h, size_t n, const uint8_t *family,
		     const uint8_t (*addr)[16])
{
	uint32_t *v4 = malloc((n ? n : 1) * sizeof(*v4));
	uint8_t(*v6)[16] = malloc((n ? n : 1) * sizeof(*v6));
	size_t n4 = 0, n6 = 0;

	if (!v4 || !v6) {
		free(v4);
		free(v6);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (family[i] == 4)
			v4[n4++] = (uint32_t)addr[i][0] << 24 |
				   (uint32_t)addr[i][1] << 16 |
				   (uint32_t)addr[i][2] << 8 | addr[i][3];
		else if (family[i] == 6)
			memcpy(v6[n6++], addr[i], 16);
	}
	free(h->v4);
	free(h->v6);
	h->v4 = v4;
	h->v6 = v6;
	h->n4 = uniq(v4, n4, sizeof(*v4), cmp4);
	h->n6 = uniq(v6, n6, sizeof(*v6), cmp6);
	h->reloads++;
	return 0;
}

/* One getifaddrs() pass into the set. */
static int reload(struct sle_hostaddr *h)
{
	struct ifaddrs *ifa, *i;
	uint8_t *fam = NULL, (*addr)[16] = NULL;
	size_t n = 0, cap = 0;
	int r = -1;

	if (getifaddrs(&ifa) != 0)
		return -1;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && (i->ifa_addr->sa_family == AF_INET ||
				    i->ifa_addr->sa_family == AF_INET6))
			cap++;
	fam = malloc(cap ? cap : 1);
	addr = malloc((cap ? cap : 1) * sizeof(*addr));
	if (!fam || !addr)
		goto out;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			fam[n] = 4;
			memcpy(addr[n++],
			       &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
			       4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			fam[n] = 6;
			memcpy(addr[n++],
			       ((struct sockaddr_in6 *)i->ifa_addr)
				       ->sin6_addr.s6_addr,
			       16);
		}
	}
	r = sle_hostaddr_set(h, n, fam, (const uint8_t(*)[16])addr);
out:
	free(fam);
	free(addr);
	freeifaddrs(ifa);
	return r;
}

static int nl_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
				 .nl_groups = RTMGRP_IPV4_IFADDR |
					      RTMGRP_IPV6_IFADDR};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
			NETLINK_ROUTE);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int sle_hostaddr_open(struct sle_hostaddr *h)
{
	memset(h, 0, sizeof(*h));
	/* subscribed before the first read: no change falls in between */
	h->nl = nl_open();
	if (reload(h) != 0) {
		h->stale = true;
		return -1;
	}
	return 0;
}

void sle_hostaddr_close(struct sle_hostaddr *h)
{
	if (h->nl >= 0)
		close(h->nl);
	h->nl = -1;
	free(h->v4);
	free(h->v6);
	h->v4 = NULL;
	h->v6 = NULL;
	h->n4 = h->n6 = 0;
}

/* Any message on the address groups is a change; an overflow (ENOBUFS)
 * lost some, which is a change too. */
static void drain(struct sle_hostaddr *h)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(h->nl, buf, sizeof(buf), MSG_DONTWAIT);

		if (n > 0 || (n < 0 && errno == ENOBUFS)) {
			h->stale = true;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* the socket broke: poll from now on */
		close(h->nl);
		h->nl = -1;
		h->stale = true;
		return;
	}
}

void sle_hostaddr_refresh(struct sle_hostaddr *h, double now)
{
	if (h->nl >= 0)
		drain(h);
	else if (now >= h->next)
		h->stale = true;
	if (!h->stale)
		return;
	if (reload(h) == 0)
		h->stale = false;
	h->next = now + SLE_HOSTADDR_POLL;
}

bool sle_hostaddr_has(const struct sle_hostaddr *h, int family,
		      const uint8_t *a)
{
	if (!h)
		return false;
	if (family == 4) {
		uint32_t k = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 |
			     (uint32_t)a[2] << 8 | a[3];

		return h->n4 && bsearch(&k, h->v4, h->n4, sizeof(*h->v4), cmp4);
	}
	if (family == 6)
		return h->n6 && bsearch(a, h->v6, h->n6, sizeof(*h->v6), cmp6);
	return false;
}
