/* SPDX-License-Identifier: MIT */
/*
 * slirp in the host's event loop.
 *
 * PREPARE (before the loop blocks): slirp_pollfds_fill() lists the sockets
 * slirp wants watched and its next timeout; each fd gets an io watch (made
 * or changed only when needed) whose only job is to wake the loop, and a
 * one-shot timer is armed for the timeout.
 *
 * CHECK (after the loop wakes): slirp_pollfds_poll() with the readiness of
 * each fd. libev runs check watchers BEFORE the io callbacks of the same
 * iteration, so the readiness is not taken from those callbacks but from
 * one poll() with a zero timeout over the filled set: exact and
 * independent of callback order. SLIRP_POLL_* and POLL* differ, hence the
 * conversions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sle.h"

static short to_poll(int sev)
{
	return (short)(((sev & SLIRP_POLL_IN) ? POLLIN : 0) |
		       ((sev & SLIRP_POLL_OUT) ? POLLOUT : 0) |
		       ((sev & SLIRP_POLL_PRI) ? POLLPRI : 0));
}

static int from_poll(short rev)
{
	return ((rev & POLLIN) ? SLIRP_POLL_IN : 0) |
	       ((rev & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((rev & POLLPRI) ? SLIRP_POLL_PRI : 0) |
	       ((rev & (POLLERR | POLLNVAL)) ? SLIRP_POLL_ERR : 0) |
	       ((rev & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

static int add_poll(int fd, int events, void *opaque)
{
	struct sle *s = opaque;

	if (s->npfds == s->cap_pfds) {
		uint32_t n = s->cap_pfds ? s->cap_pfds * 2 : 64;
		struct pollfd *p = realloc(s->pfds, n * sizeof(*p));

		if (!p)
			return -1; /* slirp then never polls this one */
		s->pfds = p;
		s->cap_pfds = n;
	}
	s->pfds[s->npfds].fd = fd;
	s->pfds[s->npfds].events = to_poll(events);
	s->pfds[s->npfds].revents = 0;
	return (int)s->npfds++;
}

static int get_revents(int idx, void *opaque)
{
	struct sle *s = opaque;

	if (idx < 0 || (uint32_t)idx >= s->npfds)
		return 0;
	return from_poll(s->pfds[idx].revents);
}

static void io_wake(struct evpn_io *w, int fd, int revents, void *arg)
{
	/* Waking the loop is all: CHECK does the work. */
}

static bool grow_ios(struct sle *s, int fd)
{
	int n = s->nios ? s->nios : 64;
	struct evpn_io **ios;
	uint32_t *gen;
	uint8_t *ev;

	while (n <= fd)
		n *= 2;
	ios = realloc(s->ios, (size_t)n * sizeof(*ios));
	if (!ios)
		return false;
	s->ios = ios;
	gen = realloc(s->io_gen, (size_t)n * sizeof(*gen));
	if (!gen)
		return false;
	s->io_gen = gen;
	ev = realloc(s->io_ev, (size_t)n);
	if (!ev)
		return false;
	s->io_ev = ev;
	memset(s->ios + s->nios, 0, (size_t)(n - s->nios) * sizeof(*ios));
	memset(s->io_gen + s->nios, 0, (size_t)(n - s->nios) * sizeof(*gen));
	memset(s->io_ev + s->nios, 0, (size_t)(n - s->nios));
	s->nios = n;
	return true;
}

static void watch(struct sle *s, int fd, short events)
{
	uint8_t want =
		(uint8_t)(((events & (POLLIN | POLLPRI)) ? EVPN_IO_READ : 0) |
			  ((events & POLLOUT) ? EVPN_IO_WRITE : 0));
	bool fresh;

	if (fd < 0 || (fd >= s->nios && !grow_ios(s, fd)))
		return;
	/* An fd missing from the previous fill may be a new socket with a
	 * recycled number: always re-register it. */
	fresh = s->io_gen[fd] + 1 != s->gen;
	s->io_gen[fd] = s->gen;
	if (!s->ios[fd]) {
		s->ios[fd] = s->host->io_new(s->host, fd, want, io_wake, s);
		s->io_ev[fd] = want;
	} else if (fresh || s->io_ev[fd] != want) {
		s->host->io_set(s->ios[fd], want);
		s->io_ev[fd] = want;
	}
}

static void on_prepare(struct evpn_hook *hk, void *arg)
{
	struct sle *s = arg;
	uint32_t timeout = UINT32_MAX;

	s->npfds = 0;
	s->gen++;
	slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
	for (uint32_t i = 0; i < s->npfds; i++)
		watch(s, s->pfds[i].fd, s->pfds[i].events);
	for (int fd = 0; fd < s->nios; fd++)
		if (s->ios[fd] && s->io_gen[fd] != s->gen && s->io_ev[fd]) {
			s->host->io_set(s->ios[fd], 0);
			s->io_ev[fd] = 0;
		}
	if (s->kick || s->tcp_more)
		s->host->timer_arm(s->wake, 0, 0);
	else if (timeout != UINT32_MAX)
		s->host->timer_arm(s->wake, timeout / 1000.0, 0);
	else
		s->host->timer_stop(s->wake);
	sle_flush(s);
}

static void on_check(struct evpn_hook *hk, void *arg)
{
	struct sle *s = arg;
	int err = 0;

	if (s->npfds) {
		int r;

		do
			r = poll(s->pfds, s->npfds, 0);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			err = 1;
			for (uint32_t i = 0; i < s->npfds; i++)
				s->pfds[i].revents = 0;
		}
	}
	s->kick = false;
	/* a new loop turn: the relay's send budget again (tcp.h) */
	if (s->tcp) {
		s->tcp_more = sle_tcp_turn(s->tcp);
		sle_tcp_done(s);
	}
	slirp_pollfds_poll(s->slirp, err, get_revents, s);
	/* Nothing may use these indices after this poll. */
	s->npfds = 0;
	sle_flush(s);
}

static void wake_timer(struct evpn_timer *t, void *arg)
{
	/* Waking the loop is all: CHECK does the work. */
}

void sle_loop_unregister_fd(struct sle *s, int fd)
{
	if (fd < 0 || fd >= s->nios || !s->ios[fd])
		return;
	s->host->io_free(s->ios[fd]);
	s->ios[fd] = NULL;
	s->io_ev[fd] = 0;
	s->io_gen[fd] = 0;
}

int sle_loop_start(struct sle *s)
{
	const struct evpn_host *h = s->host;

	s->wake = h->timer_new(h, wake_timer, s);
	s->expire = h->timer_new(h, sle_expire, s);
	s->prepare = h->hook_new(h, EVPN_HOOK_PREPARE, on_prepare, s);
	s->check = h->hook_new(h, EVPN_HOOK_CHECK, on_check, s);
	if (!s->wake || !s->expire || !s->prepare || !s->check) {
		sle_loop_stop(s);
		return EVPN_ERR_NOMEM;
	}
	h->timer_arm(s->expire, 5, 5);
	return EVPN_OK;
}

void sle_loop_stop(struct sle *s)
{
	const struct evpn_host *h = s->host;

	if (s->prepare)
		h->hook_free(s->prepare);
	if (s->check)
		h->hook_free(s->check);
	if (s->wake)
		h->timer_free(s->wake);
	if (s->expire)
		h->timer_free(s->expire);
	s->prepare = s->check = NULL;
	s->wake = s->expire = NULL;
	for (int fd = 0; fd < s->nios; fd++)
		if (s->ios[fd])
			h->io_free(s->ios[fd]);
	free(s->ios);
	free(s->io_gen);
	free(s->io_ev);
	s->ios = NULL;
	s->io_gen = NULL;
	s->io_ev = NULL;
	s->nios = 0;
	free(s->pfds);
	s->pfds = NULL;
	s->npfds = s->cap_pfds = 0;
}
