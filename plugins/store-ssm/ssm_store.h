/* SPDX-License-Identifier: MIT */
/*
 * The evpn store contract (include/evpn/store.h) on SSM Parameter Store.
 * Key "a/b" is the parameter "{prefix}/a/b". Usable without a host (tests
 * drive it directly); plugin.c only wires it to the vtable.
 */
#ifndef EVPN_SSM_STORE_H
#define EVPN_SSM_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <evpn/store.h>

#include "ssm.h"

struct ssm_store;

int ssm_store_new(const struct ssm_config *cfg, const struct ssm_log *log,
		  struct ssm_store **out) EVPN_WUR;
void ssm_store_free(struct ssm_store *s);

int ssm_store_get(struct ssm_store *s, const char *key, char **value,
		  size_t *len) EVPN_WUR;
int ssm_store_put(struct ssm_store *s, const char *key, const char *value,
		  size_t len, uint32_t flags) EVPN_WUR;
int ssm_store_del(struct ssm_store *s, const char *key) EVPN_WUR;
/* Deletes up to any number of keys with DeleteParameters, 10 per call;
 * absent keys are not an error. */
int ssm_store_del_many(struct ssm_store *s, const char *const *keys,
		       size_t n) EVPN_WUR;
int ssm_store_list(struct ssm_store *s, const char *prefix,
		   evpn_store_list_cb cb, void *arg) EVPN_WUR;
void ssm_store_free_value(char *value, size_t len);
int ssm_store_ping(struct ssm_store *s) EVPN_WUR;

#endif
