/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "bigstack.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define API_STACK_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define API_STACK_ASAN 1
#endif
#endif
#ifdef API_STACK_ASAN
/* ASan keeps a shadow of every stack: it must be told when we switch, or
 * it takes the handler's frames for overflows of the worker's stack. */
#include <sanitizer/common_interface_defs.h>
#endif

struct stack {
	struct stack *next; /* in the pool */
	void *map;	    /* guard page + stack */
	size_t maplen;
	char *base; /* lowest usable address */
	size_t size;
};

/* One run: lives on the caller's (worker's) stack. */
struct run {
	ucontext_t back, ctx;
	void (*fn)(void *);
	void *arg;
	struct stack *s;
	struct run *outer; /* a run this one was started from, if any */
	int err;
#ifdef API_STACK_ASAN
	void *fake; /* the worker's ASan fake stack while away */
	const void *back_bottom;
	size_t back_size;
#endif
};

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static struct stack *pool;
static unsigned pool_n;
/* the run this thread is in; makecontext cannot pass a pointer portably */
static _Thread_local struct run *current;

static void stack_unmap(struct stack *s)
{
	munmap(s->map, s->maplen);
	free(s);
}

static struct stack *stack_get(int *err)
{
	long page = sysconf(_SC_PAGESIZE);
	struct stack *s;

	pthread_mutex_lock(&pool_mu);
	s = pool;
	if (s) {
		pool = s->next;
		pool_n--;
	}
	pthread_mutex_unlock(&pool_mu);
	if (s)
		return s;
	if (page <= 0)
		page = 4096;
	s = calloc(1, sizeof(*s));
	if (!s) {
		*err = ENOMEM;
		return NULL;
	}
	s->maplen = API_HANDLER_STACK + (size_t)page;
	/* NORESERVE: only the pages a handler touches count */
	s->map = mmap(NULL, s->maplen, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
		      -1, 0);
	if (s->map == MAP_FAILED) {
		*err = errno;
		free(s);
		return NULL;
	}
	/* an overflow faults here instead of writing over another mapping */
	if (mprotect(s->map, (size_t)page, PROT_NONE) != 0) {
		*err = errno;
		munmap(s->map, s->maplen);
		free(s);
		return NULL;
	}
	s->base = (char *)s->map + page;
	s->size = API_HANDLER_STACK;
	return s;
}

static void stack_put(struct stack *s)
{
	pthread_mutex_lock(&pool_mu);
	if (pool_n < API_STACKS_KEPT) {
		s->next = pool;
		pool = s;
		pool_n++;
		s = NULL;
	}
	pthread_mutex_unlock(&pool_mu);
	if (s)
		stack_unmap(s);
}

/* First function on the large stack; returning resumes run->back. */
static void run_entry(void)
{
	struct run *r = current;

#ifdef API_STACK_ASAN
	__sanitizer_finish_switch_fiber(NULL, &r->back_bottom, &r->back_size);
#endif
	r->fn(r->arg);
#ifdef API_STACK_ASAN
	/* NULL: this stack's frames are done for */
	__sanitizer_start_switch_fiber(NULL, r->back_bottom, r->back_size);
#endif
}

int api_stack_run(void (*fn)(void *arg), void *arg)
{
	/* Only r (in memory, its address taken) lives across getcontext and
	 * swapcontext, which return twice as far as the compiler knows. */
	struct run r = {.fn = fn, .arg = arg, .outer = current};

	r.s = stack_get(&r.err);
	if (!r.s)
		return r.err ? r.err : ENOMEM;
	if (getcontext(&r.ctx) != 0) {
		r.err = errno ? errno : EINVAL;
		stack_put(r.s);
		return r.err;
	}
	r.ctx.uc_stack.ss_sp = r.s->base;
	r.ctx.uc_stack.ss_size = r.s->size;
	r.ctx.uc_link = &r.back;
	makecontext(&r.ctx, run_entry, 0);
	current = &r;
#ifdef API_STACK_ASAN
	__sanitizer_start_switch_fiber(&r.fake, r.s->base, r.s->size);
#endif
	if (swapcontext(&r.back, &r.ctx) != 0)
		r.err = errno ? errno : EINVAL;
#ifdef API_STACK_ASAN
	__sanitizer_finish_switch_fiber(r.fake, NULL, NULL);
#endif
	current = r.outer;
	stack_put(r.s);
	return r.err;
}

bool api_stack_active(void)
{
	struct run *r = current;
	/* the frame, not a local: ASan may keep locals on a heap "fake
	 * stack" to catch use after return */
	uintptr_t p = (uintptr_t)__builtin_frame_address(0);

	return r && p >= (uintptr_t)r->s->base &&
	       p < (uintptr_t)r->s->base + r->s->size;
}

void api_stack_release(void)
{
	struct stack *s;

	pthread_mutex_lock(&pool_mu);
	s = pool;
	pool = NULL;
	pool_n = 0;
	pthread_mutex_unlock(&pool_mu);
	while (s) {
		struct stack *next = s->next;

		stack_unmap(s);
		s = next;
	}
}
