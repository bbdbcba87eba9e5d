/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tun.h"

int tun_open(char name[16], bool *offload, char *err, size_t errlen)
{
	struct ifreq ifr;
	int fd, e;

	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		snprintf(err, errlen,
			 "cannot open /dev/net/tun: %s (the raw-socket egress "
			 "needs a TUN device: on Fargate or without privilege "
			 "use the slirp egress)",
			 strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (*offload ? IFF_VNET_HDR : 0);
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		e = errno;
		snprintf(err, errlen, "cannot create TUN device %s: %s%s", name,
			 strerror(e),
			 e == EPERM ? " (needs CAP_NET_ADMIN; or create it "
				      "beforehand with `ip tuntap add dev NAME "
				      "mode tun user UID`)"
				    : "");
		close(fd);
		return -e;
	}
	snprintf(name, 16, "%s", ifr.ifr_name);
	/* TSO: the kernel hands over TCP super-packets (one read per up to
	 * 64 KiB, segmented by us) instead of segmenting them itself. */
	if (*offload && ioctl(fd, TUNSETOFFLOAD,
			      TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		/* Still IFF_VNET_HDR: headers come, without GSO. */
		(void)0;
	}
	return fd;
}

/* A configuration step failed (errno set): say which, on which device,
 * and what may help; close the socket. Returns -errno. */
static int config_failed(int s, const char *what, const char *name,
			 const char *hint, char *err, size_t errlen)
{
	int e = errno;

	snprintf(err, errlen, "cannot %s of %s: %s%s", what, name, strerror(e),
		 hint);
	close(s);
	return -e;
}

int tun_configure(const char *name, uint32_t addr_be, unsigned prefix,
		  unsigned mtu, char *err, size_t errlen)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	const char *what = "";

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	ifr.ifr_mtu = (int)mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
		what = "set the MTU";
		goto fail;
	}
	if (addr_be) {
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = addr_be;
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0) {
			what = "set the address";
			goto fail;
		}
		sin->sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0) {
			what = "set the netmask";
			goto fail;
		}
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		what = "read the flags";
		goto fail;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		what = "bring the link up";
		goto fail;
	}
	close(s);
	return 0;
fail:
	return config_failed(
		s, what, name,
		errno == EPERM ? " (needs CAP_NET_ADMIN, or set `configure: "
				 "false` and configure it beforehand)"
			       : "",
		err, errlen);
}

/* The kernel's struct in6_ifreq (linux/ipv6.h clashes with netinet/in.h). */
struct tun_in6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

int tun_configure6(const char *name, const uint8_t addr[16], unsigned prefix,
		   char *err, size_t errlen)
{
	struct tun_in6_ifreq req;
	struct ifreq ifr;
	int s = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0), e;
	const char *what = "find the interface index";

	if (s < 0) {
		e = errno;
		snprintf(err, errlen,
			 "cannot add an IPv6 address to %s: no IPv6 on this "
			 "host (%s)",
			 name, strerror(e));
		return -e;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(s, SIOCGIFINDEX, &ifr) < 0)
		goto fail;
	memset(&req, 0, sizeof(req));
	memcpy(&req.addr, addr, 16);
	req.prefixlen = prefix;
	req.ifindex = ifr.ifr_ifindex;
	what = "set the IPv6 address";
	/* EEXIST: a restart finds the address still there. */
	if (ioctl(s, SIOCSIFADDR, &req) < 0 && errno != EEXIST)
		goto fail;
	close(s);
	return 0;
fail:
	return config_failed(s, what, name,
			     errno == EACCES || errno == EPERM
				     ? " (needs CAP_NET_ADMIN)"
			     : errno == ENODEV || errno == EADDRNOTAVAIL
				     ? " (is IPv6 disabled on it? sysctl "
				       "net.ipv6.conf.<dev>.disable_ipv6)"
				     : "",
			     err, errlen);
}
