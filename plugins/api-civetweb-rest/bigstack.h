/* SPDX-License-Identifier: MIT */
/*
 * Running a function on a stack we choose, on the calling thread.
 *
 * civetweb 1.15 (Debian's) creates its workers with a compile-time stack of
 * 100 KiB and has no option to change it. Request handlers parse JSON and,
 * through the users service, may run a store's HTTP client and TLS stack:
 * they run on a large stack instead. The worker switches to it
 * (makecontext/swapcontext) and back when the handler returns: no thread is
 * made and nothing waits on another thread, which cost as much CPU as the
 * whole rest of a GET (one new thread per request, or a hand-off to a kept
 * one). Stacks are mmap'd with a guard page and kept in a small pool. Pure
 * (libc only), so tests/api unit-tests it.
 */
#ifndef EVPN_API_BIGSTACK_H
#define EVPN_API_BIGSTACK_H

#include <stdbool.h>
#include <stddef.h>

#include <evpn/plugin.h>

/* Stack of a request handler: room for jansson, libcurl, OpenSSL and the
 * resolver even under ASan. Only the pages touched are ever committed. */
#define API_HANDLER_STACK ((size_t)8 << 20)
/* Stacks kept for reuse once their request is done; more requests at once
 * than this map (and later unmap) stacks of their own. */
#define API_STACKS_KEPT 16

/* Runs fn(arg) on an API_HANDLER_STACK-byte stack on the calling thread and
 * returns when it has. 0, or an errno value when no stack could be made
 * (fn did not run). fn may not switch threads or longjmp out. */
int api_stack_run(void (*fn)(void *arg), void *arg) EVPN_WUR;

/* True when called from fn of an api_stack_run (on its large stack). */
bool api_stack_active(void);

/* Unmaps the kept stacks (when no request runs: after mg_stop). */
void api_stack_release(void);

#endif
