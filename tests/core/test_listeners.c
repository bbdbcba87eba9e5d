/* The registry of local listeners to protect (core/listeners.c): what the
 * egress plugins read before every packet batch. */
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core.h"

static void test_add_and_read(void **state)
{
	struct evpn_listeners l;
	struct evpn_listener v[4];
	uint64_t g0, g;

	(void)state;
	evpn_listeners_init(&l);
	assert_int_equal(evpn_listeners_get(&l, NULL, 0, &g0), 0);
	assert_int_equal(evpn_listeners_add(&l, IPPROTO_TCP, 8000), EVPN_OK);
	assert_int_equal(evpn_listeners_get(&l, NULL, 0, &g), 1);
	assert_true(g != g0);
	g0 = g;
	/* twice: harmless, and nothing to re-read */
	assert_int_equal(evpn_listeners_add(&l, IPPROTO_TCP, 8000), EVPN_OK);
	assert_int_equal(evpn_listeners_get(&l, NULL, 0, &g), 1);
	assert_true(g == g0);
	assert_int_equal(evpn_listeners_add(&l, IPPROTO_UDP, 8000), EVPN_OK);
	assert_int_equal(evpn_listeners_add(&l, IPPROTO_ICMP, 1),
			 EVPN_ERR_INVAL);
	assert_int_equal(evpn_listeners_add(&l, IPPROTO_TCP, 0),
			 EVPN_ERR_INVAL);
	assert_int_equal(evpn_listeners_get(&l, v, 4, &g), 2);
	assert_true(g != g0);
	assert_int_equal(v[0].proto, IPPROTO_TCP);
	assert_int_equal(v[1].proto, IPPROTO_UDP);
	assert_int_equal(v[1].port, 8000);
	/* a short buffer: the count says how many there are */
	assert_int_equal(evpn_listeners_get(&l, v, 1, NULL), 2);
	evpn_listeners_free(&l);
	assert_int_equal(evpn_listeners_get(&l, NULL, 0, &g), 0);
	assert_int_equal(g, 0);
	assert_int_equal(evpn_listeners_add(&l, IPPROTO_TCP, 1),
			 EVPN_ERR_UNAVAILABLE);
}

struct probe {
	struct evpn_listeners *l;
	atomic_bool done;
	uint64_t gen;
	size_t n;
};

static void *probe_run(void *arg)
{
	struct probe *p = arg;

	p->n = evpn_listeners_get(p->l, NULL, 0, &p->gen);
	atomic_store(&p->done, true);
	return NULL;
}

/* The per-batch question (has the list changed?) takes no lock: it
 * answers while another thread holds the registry's mutex. */
static void test_generation_without_the_mutex(void **state)
{
	struct evpn_listeners l;
	struct probe p = {.l = &l};
	struct timespec ts = {0, 10 * 1000 * 1000};
	pthread_t t;
	bool answered = false;

	(void)state;
	evpn_listeners_init(&l);
	assert_int_equal(evpn_listeners_add(&l, IPPROTO_TCP, 8000), EVPN_OK);
	atomic_init(&p.done, false);
	pthread_mutex_lock(&l.mu);
	assert_int_equal(pthread_create(&t, NULL, probe_run, &p), 0);
	for (int i = 0; i < 300 && !answered; i++) { /* up to 3 s */
		answered = atomic_load(&p.done);
		if (!answered)
			nanosleep(&ts, NULL);
	}
	pthread_mutex_unlock(&l.mu);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(answered);
	assert_int_equal(p.n, 1);
	evpn_listeners_free(&l);
}

#define PORTS 200

static void *adder_run(void *arg)
{
	struct evpn_listeners *l = arg;

	for (int i = 1; i <= PORTS; i++)
		if (evpn_listeners_add(l, IPPROTO_TCP, (uint16_t)i) != EVPN_OK)
			return arg;
	return NULL;
}

/* A reader that re-reads on a new generation, as the egress does, ends
 * with every port while another thread declares them. */
static void test_reader_follows_writer(void **state)
{
	struct evpn_listeners l;
	struct evpn_listener v[PORTS];
	uint64_t seen = 0, g;
	size_t have = 0;
	void *rc;
	pthread_t t;

	(void)state;
	evpn_listeners_init(&l);
	assert_int_equal(pthread_create(&t, NULL, adder_run, &l), 0);
	for (int spins = 0; have < PORTS && spins < 10000000; spins++) {
		size_t n = evpn_listeners_get(&l, NULL, 0, &g);

		if (g == seen)
			continue;
		assert_true(g > seen);
		assert_true(n <= PORTS);
		n = evpn_listeners_get(&l, v, PORTS, &seen);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(v[i].port, i + 1);
		have = n;
	}
	assert_int_equal(pthread_join(t, &rc), 0);
	assert_null(rc);
	assert_int_equal(evpn_listeners_get(&l, v, PORTS, NULL), PORTS);
	evpn_listeners_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_read),
		cmocka_unit_test(test_generation_without_the_mutex),
		cmocka_unit_test(test_reader_follows_writer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
