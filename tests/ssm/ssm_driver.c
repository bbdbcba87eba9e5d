/* SPDX-License-Identifier: MIT */
/*
 * Test driver for the `ssm` store: dlopens build/plugins/store-ssm.so (the
 * real artifact) with a minimal fake host and runs store operations from
 * the command line, so shell tests can check store semantics against the
 * SSM test server.
 *
 *   ssm_driver PLUGIN.so CMD ARGS...
 *     put KEY VALUE [secret] [create]   get KEY   del KEY   ping
 *     list PREFIX                       (prints "key=value" lines)
 *     race THREADS KEY                  (create-only from N threads)
 *     stress COUNT THREADS PREFIX       (puts under faults, then verifies)
 *     sleep SECONDS
 *   Several commands run in one process (one plugin instance, so cached
 *   credentials carry over) when separated by "--then".
 *
 * Plugin config comes from EVPN_SSM_CFG_<key> environment variables (e.g.
 * EVPN_SSM_CFG_prefix); absent ones take the schema default, as the core
 * would fill it in. EVPN_SSM_LOG=debug|info|warn|error sets the log level.
 * Exit status: 0 on success, else the negated evpn error code (4 = EXISTS,
 * 3 = NOTFOUND, 6 = UNAVAILABLE, 7 = PERM, ...), 100+ for a test failure.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <evpn/config.h>
#include <evpn/host.h>
#include <evpn/plugin.h>
#include <evpn/store.h>

static const struct evpn_store_ops *ops;
static void *self;
static enum evpn_log_level min_level = EVPN_LOG_WARN;
static const struct evpn_plugin_desc *desc;

/* ---- fake config: a NULL node whose keys come from the environment ---- */

static const char *cfg_raw(const char *key)
{
	char name[128];
	const struct evpn_config_key *k;

	snprintf(name, sizeof(name), "EVPN_SSM_CFG_%s", key);
	if (getenv(name))
		return getenv(name);
	for (k = desc->schema; k && k->key; k++)
		if (!strcmp(k->key, key))
			return k->def;
	return NULL;
}

static const char *cfg_get_str(const struct evpn_config_node *m,
			       const char *key, const char *fb)
{
	const char *v = cfg_raw(key);

	return v ? v : fb;
}

static int64_t cfg_get_int(const struct evpn_config_node *m, const char *key,
			   int64_t fb)
{
	const char *v = cfg_raw(key);

	return v ? strtoll(v, NULL, 10) : fb;
}

static bool cfg_get_bool(const struct evpn_config_node *m, const char *key,
			 bool fb)
{
	const char *v = cfg_raw(key);

	return v ? !strcmp(v, "true") : fb;
}

static double cfg_get_duration(const struct evpn_config_node *m,
			       const char *key, double fb)
{
	const char *v = cfg_raw(key);
	char *end;
	double d;

	if (!v)
		return fb;
	d = strtod(v, &end);
	if (!strcmp(end, "ms"))
		return d / 1000;
	if (!strcmp(end, "m"))
		return d * 60;
	if (!strcmp(end, "h"))
		return d * 3600;
	return d; /* "s" or bare seconds */
}

static const struct evpn_config_ops cfg_ops = {
	.size = sizeof(struct evpn_config_ops),
	.get_str = cfg_get_str,
	.get_int = cfg_get_int,
	.get_bool = cfg_get_bool,
	.get_duration = cfg_get_duration,
};

/* ---- fake host ---- */

static void host_vlog(const struct evpn_host *h, enum evpn_log_level l,
		      const char *fmt, va_list ap)
{
	static const char *const names[] = {"debug", "info", "warn", "error"};

	if (l < min_level)
		return;
	fprintf(stderr, "[ssm %s] ", names[l]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void host_log(const struct evpn_host *h, enum evpn_log_level l,
		     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	host_vlog(h, l, fmt, ap);
	va_end(ap);
}

static bool host_log_enabled(const struct evpn_host *h, enum evpn_log_level l)
{
	return l >= min_level;
}

static const struct evpn_host host = {
	.size = sizeof(struct evpn_host),
	.abi_major = EVPN_ABI_MAJOR,
	.abi_minor = EVPN_ABI_MINOR,
	.log = host_log,
	.vlog = host_vlog,
	.log_enabled = host_log_enabled,
	.config = &cfg_ops,
	.version = "test",
};

/* ---- commands ---- */

static int print_cb(void *arg, const char *key, const char *value, size_t len)
{
	printf("%s=%.*s\n", key, (int)len, value);
	return 0;
}

struct race {
	const char *key;
	int idx;
	int rc;
};

static void *race_thread(void *arg)
{
	struct race *r = arg;
	char v[32];

	snprintf(v, sizeof(v), "claimant-%d", r->idx);
	r->rc = ops->put(self, r->key, v, strlen(v), EVPN_STORE_CREATE);
	return NULL;
}

static int cmd_race(int n, const char *key)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	struct race *r = calloc((size_t)n, sizeof(*r));
	int wins = 0, exists = 0, other = 0, winner = -1, i, rc;
	char *v = NULL, want[32];
	size_t len;

	if (!t || !r)
		return 1;
	for (i = 0; i < n; i++) {
		r[i] = (struct race){.key = key, .idx = i};
		pthread_create(&t[i], NULL, race_thread, &r[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		if (r[i].rc == EVPN_OK) {
			wins++;
			winner = i;
		} else if (r[i].rc == EVPN_ERR_EXISTS) {
			exists++;
		} else {
			other++;
		}
	}
	printf("race: %d won, %d exists, %d other\n", wins, exists, other);
	rc = wins == 1 && other == 0 ? 0 : 101;
	if (winner >= 0) {
		snprintf(want, sizeof(want), "claimant-%d", winner);
		if (ops->get(self, key, &v, &len) != EVPN_OK ||
		    strcmp(v, want)) {
			printf("race: stored value %s, winner %s\n",
			       v ? v : "(none)", want);
			rc = 102;
		}
		ops->free_value(self, v, len);
	}
	free(t);
	free(r);
	return rc;
}

struct stress {
	int count, nthreads, idx;
	const char *prefix;
	int acked, failed, created_exists;
	char *acked_map; /* per key: 1 when the last put was acknowledged */
};

static void *stress_thread(void *arg)
{
	struct stress *s = arg;

	for (int i = s->idx; i < s->count; i += s->nthreads) {
		char key[256], val[64];
		uint32_t flags = (i % 3 == 0) ? EVPN_STORE_CREATE : 0;
		int rc;

		if (i % 5 == 0)
			flags |= EVPN_STORE_SECRET;
		snprintf(key, sizeof(key), "%s/k%05d", s->prefix, i);
		snprintf(val, sizeof(val), "value-%d", i);
		rc = ops->put(self, key, val, strlen(val), flags);
		if (rc == EVPN_OK) {
			s->acked++;
			s->acked_map[i] = 1;
		} else {
			/* a create that says EXISTS on a fresh key would mean
			 * our own ambiguous write was misread */
			if (rc == EVPN_ERR_EXISTS)
				s->created_exists++;
			s->failed++;
			fprintf(stderr, "stress: put %s: %s\n", key,
				evpn_strerror(rc));
		}
	}
	return NULL;
}

static int cmd_stress(int count, int nthreads, const char *prefix)
{
	struct stress *s = calloc((size_t)nthreads, sizeof(*s));
	pthread_t *t = calloc((size_t)nthreads, sizeof(*t));
	char *map = calloc((size_t)count, 1);
	int acked = 0, failed = 0, exists = 0, lost = 0, i;

	if (!s || !t || !map)
		return 1;
	for (i = 0; i < nthreads; i++) {
		s[i] = (struct stress){.count = count,
				       .nthreads = nthreads,
				       .idx = i,
				       .prefix = prefix,
				       .acked_map = map};
		pthread_create(&t[i], NULL, stress_thread, &s[i]);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		acked += s[i].acked;
		failed += s[i].failed;
		exists += s[i].created_exists;
	}
	/* every acknowledged write must be readable with its value */
	for (i = 0; i < count; i++) {
		char key[256], want[64], *v = NULL;
		size_t len = 0;
		int rc;

		if (!map[i])
			continue;
		snprintf(key, sizeof(key), "%s/k%05d", prefix, i);
		snprintf(want, sizeof(want), "value-%d", i);
		rc = ops->get(self, key, &v, &len);
		if (rc != EVPN_OK || strcmp(v, want)) {
			fprintf(stderr, "stress: LOST %s (%s)\n", key,
				evpn_strerror(rc));
			lost++;
		}
		if (v)
			ops->free_value(self, v, len);
	}
	printf("stress: acked=%d failed=%d false_exists=%d lost=%d\n", acked,
	       failed, exists, lost);
	free(s);
	free(t);
	free(map);
	return lost || exists ? 103 : 0;
}

static int run(int argc, char **argv)
{
	const char *cmd = argv[0];
	int rc;

	if (!strcmp(cmd, "put") && argc >= 3) {
		uint32_t flags = 0;

		for (int i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "secret"))
				flags |= EVPN_STORE_SECRET;
			if (!strcmp(argv[i], "create"))
				flags |= EVPN_STORE_CREATE;
		}
		return ops->put(self, argv[1], argv[2], strlen(argv[2]), flags);
	}
	if (!strcmp(cmd, "get") && argc == 2) {
		char *v = NULL;
		size_t len = 0;

		rc = ops->get(self, argv[1], &v, &len);
		if (rc == EVPN_OK) {
			printf("%.*s\n", (int)len, v);
			ops->free_value(self, v, len);
		}
		return rc;
	}
	if (!strcmp(cmd, "del") && argc == 2)
		return ops->del(self, argv[1]);
	if (!strcmp(cmd, "list") && argc == 2)
		return ops->list(self, argv[1], print_cb, NULL);
	if (!strcmp(cmd, "ping") && argc == 1)
		return ops->ping(self);
	if (!strcmp(cmd, "sleep") && argc == 2) {
		struct timespec ts = {.tv_sec = atoi(argv[1])};

		nanosleep(&ts, NULL);
		return 0;
	}
	if (!strcmp(cmd, "race") && argc == 3)
		return -cmd_race(atoi(argv[1]), argv[2]);
	if (!strcmp(cmd, "stress") && argc == 4)
		return -cmd_stress(atoi(argv[1]), atoi(argv[2]), argv[3]);
	fprintf(stderr, "unknown command or arguments: %s\n", cmd);
	return -99;
}

int main(int argc, char **argv)
{
	evpn_plugin_entry_fn entry;
	const char *lvl = getenv("EVPN_SSM_LOG");
	void *dl;
	int rc;

	if (argc < 3) {
		fprintf(stderr, "usage: %s PLUGIN.so CMD ARGS...\n", argv[0]);
		return 99;
	}
	if (lvl)
		min_level = !strcmp(lvl, "debug")  ? EVPN_LOG_DEBUG
			    : !strcmp(lvl, "info") ? EVPN_LOG_INFO
			    : !strcmp(lvl, "warn") ? EVPN_LOG_WARN
						   : EVPN_LOG_ERROR;
	dl = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 99;
	}
	entry = (evpn_plugin_entry_fn)dlsym(dl, EVPN_PLUGIN_ENTRY_SYMBOL);
	desc = entry ? entry(EVPN_ABI_MAJOR, EVPN_ABI_MINOR) : NULL;
	if (!desc || desc->kind != EVPN_KIND_STORE ||
	    strcmp(desc->name, "ssm") ||
	    desc->build_sig != EVPN_BUILD_SIGNATURE) {
		fprintf(stderr, "not the ssm store plugin\n");
		return 99;
	}
	ops = desc->vtable;
	rc = desc->create(&host, NULL, &self);
	if (rc) {
		fprintf(stderr, "create: %s\n", evpn_strerror(rc));
		return -rc;
	}
	rc = desc->start(self);
	for (int i = 2; !rc && i < argc;) {
		int j = i;

		while (j < argc && strcmp(argv[j], "--then"))
			j++;
		rc = run(j - i, argv + i);
		if (rc < 0 && rc > -100)
			fprintf(stderr, "%s: %s\n", argv[i], evpn_strerror(rc));
		i = j + 1;
	}
	desc->stop(self);
	desc->destroy(self);
	dlclose(dl);
	return -rc;
}
