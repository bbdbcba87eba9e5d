/* SPDX-License-Identifier: MIT */
/*
 * Per-user rate limits: the text form ("20mbit") and the token bucket that
 * enforces one in each direction. Pure code: no clock of its own (the
 * caller passes monotonic seconds), no allocation, no I/O.
 */
#ifndef EVPN_COMMON_RATE_H
#define EVPN_COMMON_RATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The range a limit may take, bits per second (0 means none). Below 8 kbit/s
 * a TCP connection does not get going; above 100 Gbit/s is a typo. */
#define RATE_MIN_BPS 8000ULL
#define RATE_MAX_BPS 100000000000ULL

/*
 * A rate: a number (decimals allowed: "1.5mbit") with a unit, in bits per
 * second ("bit", "kbit", "mbit", "gbit"; also "bps", "kbps", "mbps",
 * "gbps") or bytes per second ("B/s", "KB/s", "MB/s", "GB/s"), units SI
 * (powers of 1000) and case-insensitive; a bare number is bits per second.
 * "0" (any unit) is 0: no limit. 0, or -1 for anything else, including a
 * rate outside 0 or [RATE_MIN_BPS, RATE_MAX_BPS].
 */
int rate_parse(const char *s, uint64_t *bps);

/* "20mbit", "1.5mbit", "500kbit", "8.001kbit": the shortest exact form in
 * bits per second; "0" for none. out: at least 32 bytes. */
void rate_format(uint64_t bps, char *out, size_t outlen);

/*
 * A token bucket of bytes: it fills at the rate up to `burst` bytes, and a
 * packet passes only when the bucket holds its size (then that much is
 * taken). A packet that does not fit is the caller's to queue (for
 * tbf_when) or drop. Starts full.
 */
struct tbf {
	double rate;   /* bytes per second; 0: no limit */
	double burst;  /* bytes */
	double tokens; /* bytes */
	double last;   /* the caller's clock at the last refill */
};

/* The burst for a rate: TBF_BURST_SECONDS of it, at least
 * TBF_BURST_MIN bytes. Measured with iperf3 through wireguard-go
 * (tests/raw_socket/rate_limit.sh). With nothing but a bucket, a TCP
 * connection that overruns it loses the tail of its window and waits out
 * a retransmission timeout (200 ms at least), so it gets about one bucket
 * per timeout: 27 % of the rate with 50 ms, 50 % with 100 ms. The
 * WireGuard transport therefore queues a little behind the bucket (its
 * rate.c); with that, 100 ms of burst gives TCP 95-99 % of the rate. */
#define TBF_BURST_SECONDS 0.1
#define TBF_BURST_MIN (64.0 * 1024)
double tbf_burst_for(uint64_t bps);

/* Set (or change) the rate; a change keeps the tokens, capped at the new
 * burst. bps 0: every packet passes. */
void tbf_set(struct tbf *b, uint64_t bps, double now);
/* May a packet of len bytes pass at `now`? Takes its tokens when it may. */
bool tbf_take(struct tbf *b, size_t len, double now);
/* When (the caller's clock) a packet of len bytes will fit: now or later;
 * never for a packet larger than the burst. Takes nothing. */
double tbf_when(const struct tbf *b, size_t len);

#endif
