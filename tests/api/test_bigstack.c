/* SPDX-License-Identifier: MIT */
/* api:civetweb-rest runs request handlers on threads with a stack it
 * chooses, not on civetweb's 100 KiB workers. */
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
	size_t stack;
	pthread_t self;
	unsigned sum;
};

/* Uses ~1 MiB of stack: ten times what a civetweb worker has. */
static unsigned deep(unsigned n)
{
	volatile unsigned char pad[16 * 1024];

	memset((void *)pad, (int)n, sizeof(pad));
	return n == 0 ? pad[7] : pad[n % sizeof(pad)] + deep(n - 1);
}

static void probe_run(void *arg)
{
	struct probe *p = arg;
	pthread_attr_t a;

	p->self = pthread_self();
	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstacksize(&a, &p->stack);
		pthread_attr_destroy(&a);
	}
	p->sum = deep(64);
}

/* A 100 KiB thread, like civetweb's workers, asks for a big one. */
static void *small_worker(void *arg)
{
	struct probe *p = arg;

	if (api_run_with_stack(API_HANDLER_STACK, probe_run, p) != 0)
		p->stack = 0;
	return NULL;
}

static void test_handler_gets_its_stack(void **state)
{
	struct probe p = {0};
	pthread_attr_t a;
	pthread_t t;

	assert_true(API_HANDLER_STACK >= ((size_t)2 << 20));
	assert_int_equal(pthread_attr_init(&a), 0);
	assert_int_equal(pthread_attr_setstacksize(&a, 100 * 1024), 0);
	assert_int_equal(pthread_create(&t, &a, small_worker, &p), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	pthread_attr_destroy(&a);
	assert_true(p.stack >= API_HANDLER_STACK);
	assert_false(pthread_equal(p.self, t));
	assert_int_equal(p.sum, 64u * 65u / 2u);
}

static void test_refused_stack(void **state)
{
	struct probe p = {0};

	/* Smaller than PTHREAD_STACK_MIN: an error, and fn never runs. */
	assert_int_not_equal(api_run_with_stack(1, probe_run, &p), 0);
	assert_int_equal(p.stack, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handler_gets_its_stack),
		cmocka_unit_test(test_refused_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
