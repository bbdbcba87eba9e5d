/* SPDX-License-Identifier: MIT */
/* api:civetweb-rest runs request handlers on a stack it chooses, not on
 * civetweb's 100 KiB worker stacks, and on the worker's own thread (no
 * thread made or waited for per request). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bigstack.h"

struct probe {
	pthread_t self;
	bool active, active_after_inner;
	unsigned sum;
	int inner_rc;
	bool nest;
};

/* Uses ~1 MiB of stack: ten times what a civetweb worker has. */
static unsigned deep(unsigned n)
{
	volatile unsigned char pad[16 * 1024];

	memset((void *)pad, (int)n, sizeof(pad));
	return n == 0 ? pad[7] : pad[n % sizeof(pad)] + deep(n - 1);
}

static void inner_run(void *arg)
{
	struct probe *p = arg;

	p->sum += deep(8);
}

static void probe_run(void *arg)
{
	struct probe *p = arg;

	p->self = pthread_self();
	p->active = api_stack_active();
	p->sum = deep(64);
	if (p->nest) {
		p->inner_rc = api_stack_run(inner_run, p);
		p->active_after_inner = api_stack_active();
	}
}

struct worker {
	struct probe p;
	int rc;
	bool active_outside;
};

/* A 100 KiB thread, like civetweb's workers, runs a handler. */
static void *small_worker(void *arg)
{
	struct worker *w = arg;

	w->rc = api_stack_run(probe_run, &w->p);
	w->active_outside = api_stack_active();
	return NULL;
}

static pthread_t start_small(struct worker *w)
{
	pthread_attr_t a;
	pthread_t t;

	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_setstacksize(&a, 100 * 1024), 0);
	assert_int_equal(pthread_create(&t, &a, small_worker, w), 0);
	pthread_attr_destroy(&a);
	return t;
}

static void test_handler_gets_its_stack(void **state)
{
	struct worker w = {0};
	pthread_t t;

	(void)state;
	assert_true(API_HANDLER_STACK >= ((size_t)2 << 20));
	t = start_small(&w);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, 0);
	/* ran, deep, on the large stack, on the worker's own thread */
	assert_int_equal(w.p.sum, 64u * 65u / 2u);
	assert_true(w.p.active);
	assert_true(pthread_equal(w.p.self, t));
	/* and the worker is back on its own stack afterwards */
	assert_false(w.active_outside);
	assert_false(api_stack_active());
}

static void test_nested_run(void **state)
{
	struct worker w = {.p.nest = true};
	pthread_t t;

	(void)state;
	t = start_small(&w);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.p.inner_rc, 0);
	assert_true(w.p.active_after_inner);
	assert_int_equal(w.p.sum, 64u * 65u / 2u + 8u * 9u / 2u);
}

#define MANY_THREADS 24 /* more than API_STACKS_KEPT at once */
#define MANY_RUNS 50

static void *many_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < MANY_RUNS && w->rc == 0; i++) {
		memset(&w->p, 0, sizeof(w->p));
		w->rc = api_stack_run(probe_run, &w->p);
		if (w->rc == 0 && (!w->p.active || w->p.sum != 64u * 65u / 2u))
			w->rc = -1;
	}
	return NULL;
}

/* Stacks are pooled: many workers at once, over and over, each run on a
 * stack of its own; then the pool is emptied and refilled. */
static void test_many_workers(void **state)
{
	static struct worker w[MANY_THREADS];
	pthread_t t[MANY_THREADS];
	pthread_attr_t a;

	(void)state;
	for (int round = 0; round < 2; round++) {
		memset(w, 0, sizeof(w));
		assert_int_equal(pthread_attr_init(&a), 0);
		assert_int_equal(pthread_attr_setstacksize(&a, 100 * 1024), 0);
		for (int i = 0; i < MANY_THREADS; i++)
			assert_int_equal(
				pthread_create(&t[i], &a, many_worker, &w[i]),
				0);
		pthread_attr_destroy(&a);
		for (int i = 0; i < MANY_THREADS; i++) {
			assert_int_equal(pthread_join(t[i], NULL), 0);
			assert_int_equal(w[i].rc, 0);
		}
		api_stack_release();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handler_gets_its_stack),
		cmocka_unit_test(test_nested_run),
		cmocka_unit_test(test_many_workers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
