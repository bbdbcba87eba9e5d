/* SPDX-License-Identifier: MIT */
/*
 * The audit log: one store record per change, `audit/{day}/{rev}-{rand}`.
 *
 * {day} is 99999999 minus the UTC date as YYYYMMDD and {rev} is 10^19-1
 * minus the time in nanoseconds, 19 digits: the keys sort newest first,
 * across days too, so the cursor of a page is simply the last key it
 * showed. A page only lists the days it needs (SSM returns 10 records per list
 * call, so listing the whole log for every page would not scale). {rand}
 * keeps two instances writing in the same nanosecond apart, and the write
 * is create-only. Records older than users.audit_retention are swept by
 * the maintenance thread.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sodium.h>

#include "users_int.h"

#define REV_BASE 9999999999999999999ULL
#define DAY_SECONDS 86400
/* how often the retention sweep runs, and how many days past the horizon
 * it looks at after the first (full) sweep */
#define SWEEP_INTERVAL 3600.0
#define SWEEP_DAYS 3

static pthread_mutex_t clock_mu = PTHREAD_MUTEX_INITIALIZER;
static uint64_t last_ns;

/* Strictly increasing nanoseconds, so one instance's entries keep their
 * order even when the clock gives the same value twice. */
static uint64_t now_ns(void)
{
	struct timespec ts;
	uint64_t ns;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	pthread_mutex_lock(&clock_mu);
	if (ns <= last_ns)
		ns = last_ns + 1;
	last_ns = ns;
	pthread_mutex_unlock(&clock_mu);
	return ns;
}

/* The day segment of time t: 99999999 - YYYYMMDD, so newer sorts first. */
static void day_of(int64_t t, char out[9])
{
	time_t tt = (time_t)t;
	struct tm tm;

	unsigned v;

	gmtime_r(&tt, &tm);
	v = 99999999u -
	    ((unsigned)((tm.tm_year + 1900) % 10000) * 10000u +
	     (unsigned)(tm.tm_mon + 1) * 100u + (unsigned)tm.tm_mday);
	snprintf(out, 9, "%08u", v % 100000000u);
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

static char *event_json(const struct evpn_audit_event *ev, uint64_t ns)
{
	time_t t = (time_t)(ns / 1000000000ULL);
	char ts[64];
	struct tm tm;
	json_t *o;
	char *s;

	gmtime_r(&t, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec,
		 (unsigned)(ns % 1000000000ULL / 1000000ULL));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "time", ts,
		      "action", or_empty(ev->action), "actor",
		      or_empty(ev->actor), "source", or_empty(ev->source),
		      "target", or_empty(ev->target), "outcome",
		      or_empty(ev->outcome), "status", ev->status, "detail",
		      or_empty(ev->detail));
	if (!o)
		return NULL;
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	return s;
}

int users_op_audit(void *self, const struct evpn_audit_event *ev)
{
	struct evpn_users *u = self;
	uint64_t ns;
	char key[80], day[9], st[16], *v;
	uint8_t rnd[4];
	int r = EVPN_ERR_EXISTS;

	if (!EVPN_HAS_FIELD(ev, time_ns))
		return EVPN_ERR_INVAL;
	ns = ev->time_ns ? ev->time_ns : now_ns();
	if (ev->status)
		snprintf(st, sizeof(st), " (%d)", ev->status);
	else
		st[0] = '\0';
	evpn_info(u->host, "audit: %s%s%s by %s from %s: %s%s%s%s",
		  or_empty(ev->action), ev->target ? " " : "",
		  or_empty(ev->target), ev->actor ? ev->actor : "?",
		  ev->source && *ev->source ? ev->source : "-",
		  or_empty(ev->outcome), st, ev->detail ? ", " : "",
		  or_empty(ev->detail));
	v = event_json(ev, ns);
	if (!v)
		return EVPN_ERR_NOMEM;
	day_of((int64_t)(ns / 1000000000ULL), day);
	for (int i = 0; i < 3 && r == EVPN_ERR_EXISTS; i++) {
		randombytes_buf(rnd, sizeof(rnd));
		snprintf(key, sizeof(key), "audit/%s/%019llu-%02x%02x%02x%02x",
			 day, (unsigned long long)(REV_BASE - ns), rnd[0],
			 rnd[1], rnd[2], rnd[3]);
		r = u->st->put(u->sts, key, v, strlen(v), EVPN_STORE_CREATE);
	}
	free(v);
	if (r != EVPN_OK) {
		evpn_error(u->host,
			   "audit: could not store the entry above: %s",
			   evpn_strerror(r));
		return EVPN_ERR_UNAVAILABLE;
	}
	return EVPN_OK;
}

void users_audit_system(struct evpn_users *u, const char *action,
			const char *target, const char *detail)
{
	struct evpn_audit_event ev = {.size = sizeof(ev),
				      .action = action,
				      .actor = "system",
				      .target = target,
				      .outcome = "ok",
				      .detail = detail};

	/* a failure is logged by users_op_audit */
	int r = users_op_audit(u, &ev);

	(void)r;
}

/* ------------------------------------------------------------ reading */

struct day_list {
	struct evpn_audit_entry *e;
	size_t n, cap;
	const char *after; /* only ids after (older than) this one; "": all */
	bool oom;
};

static void copy_str(json_t *o, const char *k, char *out, size_t len)
{
	const char *v = json_string_value(json_object_get(o, k));

	snprintf(out, len, "%s", v ? v : "");
}

static int day_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct day_list *d = arg;
	struct evpn_audit_entry *e;
	const char *id = key + 6; /* "audit/" */
	json_t *o;

	if (strncmp(key, "audit/", 6) != 0 || strlen(id) >= sizeof(e->id) ||
	    (d->after[0] && strcmp(id, d->after) <= 0))
		return 0;
	o = json_loadb(value, len, 0, NULL);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return 0; /* not ours: skipped */
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 64;
		struct evpn_audit_entry *p = realloc(d->e, cap * sizeof(*p));

		if (!p) {
			json_decref(o);
			d->oom = true;
			return 1;
		}
		d->e = p;
		d->cap = cap;
	}
	e = &d->e[d->n++];
	memset(e, 0, sizeof(*e));
	snprintf(e->id, sizeof(e->id), "%s", id);
	copy_str(o, "time", e->time, sizeof(e->time));
	copy_str(o, "action", e->action, sizeof(e->action));
	copy_str(o, "actor", e->actor, sizeof(e->actor));
	copy_str(o, "source", e->source, sizeof(e->source));
	copy_str(o, "target", e->target, sizeof(e->target));
	copy_str(o, "outcome", e->outcome, sizeof(e->outcome));
	copy_str(o, "detail", e->detail, sizeof(e->detail));
	e->status = (int)json_integer_value(json_object_get(o, "status"));
	json_decref(o);
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct evpn_audit_entry *)a)->id,
		      ((const struct evpn_audit_entry *)b)->id);
}

/* "YYYYMMDD/" + 19 digits + "-" + 8 hex */
static bool valid_cursor(const char *c)
{
	size_t n = strlen(c);

	if (n != 37 || c[8] != '/' || c[28] != '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (i == 8 || i == 28)
			continue;
		if (i < 28 ? !isdigit((unsigned char)c[i])
			   : !isxdigit((unsigned char)c[i]))
			return false;
	}
	return true;
}

static bool day_time(const char *day, int64_t *t)
{
	struct tm tm = {0};
	long v = 99999999 - strtol(day, NULL, 10);

	tm.tm_year = (int)(v / 10000);
	tm.tm_mon = (int)(v / 100 % 100);
	tm.tm_mday = (int)(v % 100);
	if (tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 ||
	    tm.tm_mday < 1 || tm.tm_mday > 31)
		return false;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = 12; /* the middle of the day: safe to step by 86400 */
	*t = (int64_t)timegm(&tm);
	return *t > 0;
}

int users_op_audit_list(void *self, const char *after, unsigned limit,
			evpn_audit_cb cb, void *arg, char next[48])
{
	struct evpn_users *u = self;
	struct day_list d = {.after = after ? after : ""};
	int64_t now = (int64_t)time(NULL), t, horizon;
	char day[9], prefix[16];
	size_t sent = 0;
	int r = EVPN_OK;

	next[0] = '\0';
	if (d.after[0] && !valid_cursor(d.after))
		return EVPN_ERR_INVAL;
	if (limit == 0)
		return EVPN_OK;
	horizon = now - (int64_t)u->opts.audit_retention - DAY_SECONDS;
	if (d.after[0]) {
		memcpy(day, d.after, 8);
		day[8] = '\0';
		if (!day_time(day, &t))
			return EVPN_ERR_INVAL;
	} else {
		/* tomorrow too: an instance whose clock runs ahead */
		day_of(now + DAY_SECONDS, day);
		if (!day_time(day, &t))
			return EVPN_ERR_INVAL;
	}
	for (; t >= horizon && sent < limit; t -= DAY_SECONDS) {
		day_of(t, day);
		snprintf(prefix, sizeof(prefix), "audit/%s/", day);
		d.n = 0;
		r = u->st->list(u->sts, prefix, day_cb, &d);
		if (r == EVPN_OK && d.oom)
			r = EVPN_ERR_NOMEM;
		if (r != EVPN_OK)
			break;
		if (d.n)
			qsort(d.e, d.n, sizeof(*d.e), entry_cmp);
		for (size_t i = 0; i < d.n && sent < limit; i++) {
			sent++;
			if (cb(arg, &d.e[i]) != 0) {
				sent = limit;
				break;
			}
			if (sent == limit)
				snprintf(next, 48, "%s", d.e[i].id);
		}
	}
	free(d.e);
	if (r != EVPN_OK) {
		next[0] = '\0';
		return r == EVPN_ERR_NOMEM ? r : EVPN_ERR_UNAVAILABLE;
	}
	return EVPN_OK;
}

/* ------------------------------------------------------------ retention */

#define AUDIT_KEY_MAX 80 /* "audit/{day}/{time}-{random}" is ~45 */

struct sweep {
	struct evpn_users *u;
	char horizon[9]; /* days after (older than) this one go */
	struct users_keylist keys;
};

static int sweep_cb(void *arg, const char *key, const char *value, size_t len)
{
	struct sweep *s = arg;

	(void)value;
	(void)len;
	if (strncmp(key, "audit/", 6) != 0 || strlen(key) >= AUDIT_KEY_MAX ||
	    strncmp(key + 6, s->horizon, 8) <= 0)
		return 0;
	return users_keylist_push(&s->keys, key) ? 0 : 1;
}

static size_t sweep_prefix(struct sweep *s, const char *prefix)
{
	struct evpn_users *u = s->u;
	size_t gone = 0;
	int r;

	s->keys.n = 0;
	s->keys.oom = false;
	r = u->st->list(u->sts, prefix, sweep_cb, s);
	if (r != EVPN_OK)
		return 0;
	for (size_t i = 0; i < s->keys.n; i++) {
		r = u->st->del(u->sts, s->keys.v[i]);
		if (r == EVPN_OK)
			gone++;
		else if (r != EVPN_ERR_NOTFOUND)
			break; /* store trouble: the next sweep goes on */
	}
	return gone;
}

/* Maintenance thread: drop entries older than the retention. The first
 * sweep lists the whole log (an instance may have been down for long);
 * later ones only the few days that have just passed the horizon. */
void users_audit_sweep(struct evpn_users *u, double mono_now)
{
	struct sweep s = {.u = u};
	int64_t now = (int64_t)time(NULL);
	int64_t horizon = now - (int64_t)u->opts.audit_retention;
	char prefix[16], day[9];
	size_t gone = 0;

	if (u->opts.audit_retention <= 0 || mono_now < u->audit_next_sweep)
		return;
	u->audit_next_sweep = mono_now + SWEEP_INTERVAL;
	day_of(horizon, s.horizon);
	if (!u->audit_swept_full) {
		gone = sweep_prefix(&s, "audit/");
		u->audit_swept_full = !s.keys.oom;
	} else {
		for (int i = 1; i <= SWEEP_DAYS; i++) {
			day_of(horizon - (int64_t)i * DAY_SECONDS, day);
			snprintf(prefix, sizeof(prefix), "audit/%s/", day);
			gone += sweep_prefix(&s, prefix);
		}
	}
	users_keylist_free(&s.keys);
	if (gone)
		evpn_info(u->host,
			  "audit: removed %zu entr%s older than the retention",
			  gone, gone == 1 ? "y" : "ies");
}
