/* SPDX-License-Identifier: MIT */
/*
 * Running a function on a thread whose stack we choose.
 *
 * civetweb 1.15 (Debian's) creates its workers with a compile-time stack of
 * 100 KiB and has no option to change it. Request handlers parse JSON and,
 * through the users service, may run a store's HTTP client and TLS stack:
 * they run on a thread made here instead, while the worker waits. Pure
 * (pthreads only), so tests/api unit-tests it.
 */
#ifndef EVPN_API_BIGSTACK_H
#define EVPN_API_BIGSTACK_H

#include <stddef.h>

#include <evpn/plugin.h>

/* Stack of a request handler: room for jansson, libcurl, OpenSSL and the
 * resolver even under ASan. Only the pages touched are ever committed. */
#define API_HANDLER_STACK ((size_t)8 << 20)

/* Runs fn(arg) on a new thread with a `stack`-byte stack and waits for it.
 * 0, or an errno value when the thread cannot be made (fn did not run). */
int api_run_with_stack(size_t stack, void (*fn)(void *arg), void *arg) EVPN_WUR;

#endif
