/* SPDX-License-Identifier: MIT */
/*
 * The lifecycle every kind shares (include/evpn/plugin.h): create, start,
 * stop, destroy -- twice in a row (no global state left behind, a store's
 * lock released), stop without start, stop twice (stop is idempotent), and
 * destroy right after create.
 */
#include "check.h"

void ck_lifecycle(struct ck *c)
{
	void *self;
	int rc;

	for (int round = 1; round <= 2; round++) {
		rc = ck_create(c, NULL, &self);
		if (!ck_rc(c, rc, EVPN_OK, "lifecycle %d/2: create", round))
			return;
		rc = ck_start(c, self);
		ck_rc(c, rc, EVPN_OK, "lifecycle %d/2: start", round);
		ck_run_until(c, 0.05, NULL, NULL);
		ck_stop(c, self);
		ck_stop(c, self);
		ck_ok(c, true, "lifecycle %d/2: stop twice returns", round);
		ck_destroy(c, self);
		ck_ok(c, true, "lifecycle %d/2: destroy returns", round);
	}
	rc = ck_create(c, NULL, &self);
	if (!ck_rc(c, rc, EVPN_OK, "lifecycle: create for stop without start"))
		return;
	ck_stop(c, self);
	ck_destroy(c, self);
	ck_ok(c, true, "lifecycle: stop without start, then destroy");
	rc = ck_create(c, NULL, &self);
	if (!ck_rc(c, rc, EVPN_OK, "lifecycle: create for destroy only"))
		return;
	ck_destroy(c, self);
	ck_ok(c, true, "lifecycle: destroy right after create");
}
