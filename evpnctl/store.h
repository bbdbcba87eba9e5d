/* SPDX-License-Identifier: MIT */
/*
 * The client directory: $EVPN_CLIENT_DIR, else ~/.config/evpn. Holds
 * client.json (server URL + API key), NAME.conf (wg-quick file with the
 * private key) and NAME.key (the user's API key). Directory 0700, files 0600.
 */
#ifndef EVPNCTL_STORE_H
#define EVPNCTL_STORE_H

#include <stddef.h>

#include "exitcodes.h"

#define EVPNCTL_PATH_MAX 4096

struct evpnctl_client {
	char url[512];
	char key[256]; /* secret: wipe with sodium_memzero */
};

/* Resolves the client directory into dir. 0 or -ENOENT (no HOME). */
int evpnctl_store_dir(char *dir, size_t len) EVPNCTL_WUR;
/* mkdir -p with mode 0700 for what it creates. 0 or -errno. */
int evpnctl_store_mkdir(const char *dir) EVPNCTL_WUR;
/* dir/name + ext, e.g. ("/d", "alice", ".conf"). 0 or -ENAMETOOLONG. */
int evpnctl_store_path(char *out, size_t len, const char *dir, const char *name,
		       const char *ext) EVPNCTL_WUR;

/* Writes data atomically (temp file + rename) with mode 0600 whatever the
 * umask. 0 or -errno. */
int evpnctl_store_write_secret(const char *path, const char *data,
			       size_t len) EVPNCTL_WUR;
/* Reads a whole file, NUL-terminated; *out is malloc'd. 0 or -errno. */
int evpnctl_store_read(const char *path, char **out, size_t *len) EVPNCTL_WUR;
/* unlink() that treats a missing file as done. 0 or -errno. */
int evpnctl_store_remove(const char *path) EVPNCTL_WUR;

/* client.json. load: 0, -ENOENT (not set up), -EINVAL (malformed), -errno. */
int evpnctl_client_save(const char *dir,
			const struct evpnctl_client *c) EVPNCTL_WUR;
int evpnctl_client_load(const char *dir, struct evpnctl_client *c) EVPNCTL_WUR;

#endif /* EVPNCTL_STORE_H */
