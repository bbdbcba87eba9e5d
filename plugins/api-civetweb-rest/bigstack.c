/* SPDX-License-Identifier: MIT */
#include "bigstack.h"

#include <pthread.h>

struct job {
	void (*fn)(void *);
	void *arg;
};

static void *job_main(void *p)
{
	struct job *j = p;

	j->fn(j->arg);
	return NULL;
}

int api_run_with_stack(size_t stack, void (*fn)(void *arg), void *arg)
{
	struct job j = {.fn = fn, .arg = arg};
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	rc = pthread_attr_init(&attr);
	if (rc)
		return rc;
	rc = pthread_attr_setstacksize(&attr, stack);
	if (!rc)
		rc = pthread_create(&t, &attr, job_main, &j);
	pthread_attr_destroy(&attr);
	if (rc)
		return rc;
	return pthread_join(t, NULL);
}
