// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "preflight.h"
#include "store.h"
#include "wg.h"

static bool file_lists_wireguard(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	/* modules.dep: "kernel/drivers/net/wireguard/wireguard.ko.xz: deps";
	 * modules.builtin: "kernel/drivers/net/wireguard/wireguard.ko" */
	while (!found && getline(&line, &cap, f) > 0)
		found = strstr(line, "/wireguard.ko") != NULL;
	free(line);
	fclose(f);
	return found;
}

bool evpnctl_kernel_has_wireguard(const char *root, const char *release)
{
	static const char *const dirs[] = {"/lib/modules", "/usr/lib/modules"};
	static const char *const files[] = {"modules.builtin", "modules.dep"};
	char path[EVPNCTL_PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/sys/module/wireguard", root);
	if (stat(path, &st) == 0)
		return true;
	if (!release || !*release || strchr(release, '/'))
		return false;
	for (size_t d = 0; d < 2; d++) {
		for (size_t f = 0; f < 2; f++) {
			int n = snprintf(path, sizeof(path), "%s%s/%s/%s", root,
					 dirs[d], release, files[f]);

			if (n > 0 && (size_t)n < sizeof(path) &&
			    file_lists_wireguard(path))
				return true;
		}
	}
	return false;
}

struct msgbuf {
	char *buf;
	size_t len, off;
	size_t missing;
};

__attribute__((format(printf, 2, 3))) static void missing(struct msgbuf *m,
							  const char *fmt, ...)
{
	va_list ap;
	int n;

	m->missing++;
	if (m->off >= m->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(m->buf + m->off, m->len - m->off, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->off += (size_t)n;
}

static bool have(const struct evpnctl_preflight *p, const char *name)
{
	char exe[EVPNCTL_PATH_MAX];

	return evpnctl_find_exe_in(p->path, name, exe, sizeof(exe));
}

size_t evpnctl_preflight_check(const struct evpnctl_preflight *p, char *msg,
			       size_t len)
{
	struct msgbuf m = {msg, len, 0, 0};
	bool nft = have(p, "nft");
	const char *impl = p->impl && *p->impl ? p->impl : NULL;

	if (len)
		msg[0] = '\0';
	if (!have(p, "ip"))
		missing(&m, "  ip: apt-get install iproute2\n");
	if (!have(p, "wg"))
		missing(&m, "  wg: apt-get install wireguard-tools\n");
	/* wg-quick tries the kernel first, then
	 * ${WG_QUICK_USERSPACE_IMPLEMENTATION:-wireguard-go} */
	if (!evpnctl_kernel_has_wireguard(p->root, p->release) &&
	    !have(p, impl ? impl : "wireguard-go")) {
		if (impl)
			missing(&m,
				"  WG_QUICK_USERSPACE_IMPLEMENTATION=%s: not "
				"found, and this kernel has no WireGuard: "
				"apt-get install wireguard-go and set it to "
				"wireguard-go (or unset it)\n",
				impl);
		else
			missing(&m, "  WireGuard: this kernel has none "
				    "(no wireguard module) and wireguard-go is "
				    "not installed: apt-get install "
				    "wireguard-go\n");
	}
	if (p->needs.default4 && !have(p, "sysctl"))
		missing(&m, "  sysctl (AllowedIPs has 0.0.0.0/0): apt-get "
			    "install procps\n");
	if (p->needs.default4 && !nft && !have(p, "iptables-restore"))
		missing(&m, "  iptables-restore or nft (AllowedIPs has "
			    "0.0.0.0/0): apt-get install iptables (or "
			    "nftables)\n");
	if (p->needs.default6 && !nft && !have(p, "ip6tables-restore"))
		missing(&m, "  ip6tables-restore or nft (AllowedIPs has ::/0): "
			    "apt-get install iptables (or nftables)\n");
	if (p->needs.dns && !have(p, "resolvconf"))
		missing(&m, "  resolvconf (the config has a DNS = line): "
			    "apt-get install openresolv\n");
	return m.missing;
}
