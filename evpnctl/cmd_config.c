// SPDX-License-Identifier: MIT
/* evpnctl config NAME [--qr [--invert]] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "commands.h"
#include "qr.h"

int evpnctl_cmd_config(const struct evpnctl_args *a)
{
	char path[EVPNCTL_PATH_MAX];
	struct evpnctl_ctx ctx;
	char *conf = NULL;
	size_t len = 0;
	int code, r;

	code = evpnctl_ctx_init(&ctx, false);
	if (code)
		return code;
	code = evpnctl_ctx_path(&ctx, path, a->name, ".conf");
	if (code)
		goto out;
	r = evpnctl_store_read(path, &conf, &len);
	if (r == -ENOENT) {
		evpnctl_err("no config for '%s' here (%s): it is written by "
			    "`evpnctl create %s` on the machine that holds the "
			    "private key",
			    a->name, path, a->name);
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	if (r) {
		evpnctl_err("cannot read %s: %s", path, strerror(-r));
		code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	if (!a->qr) {
		if (fwrite(conf, 1, len, stdout) != len)
			code = EVPNCTL_EXIT_LOCAL;
		goto out;
	}
	if (evpnctl_qr_print(conf, a->invert, stdout)) {
		evpnctl_err("%s does not fit in a QR code", path);
		code = EVPNCTL_EXIT_LOCAL;
	}
out:
	if (conf) {
		sodium_memzero(conf, len);
		free(conf);
	}
	evpnctl_ctx_fini(&ctx);
	return code;
}
