/* SPDX-License-Identifier: MIT */
/* wg-quick file handling: pure string functions, unit-tested. */
#ifndef EVPNCTL_CONF_H
#define EVPNCTL_CONF_H

#include "exitcodes.h"

/*
 * Returns a malloc'd copy of conf whose [Interface] section has
 * "PrivateKey = key": the server's line (a placeholder, as the server never
 * holds a client private key) is replaced, or one is added right after the
 * [Interface] header when the server sent none. Comment lines directly
 * above a replaced line (the server's note about its placeholder) go with
 * it; every other line is kept byte for byte. 0, -EINVAL (no [Interface]
 * section, bad key) or -ENOMEM. The caller wipes and frees *out.
 */
int evpnctl_conf_set_private_key(const char *conf, const char *key_b64,
				 char **out) EVPNCTL_WUR;

#endif /* EVPNCTL_CONF_H */
