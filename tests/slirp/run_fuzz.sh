#!/usr/bin/env bash
# Run the egress packet fuzz target (fuzz_slirp_pkt: slirp's packet code
# and the destination filter shared with raw-socket) for a bounded time.
set -uo pipefail
. "$(dirname "$0")/../lib/fuzz.sh"
bytes() { # "hex with spaces" -> those bytes
	local h=${1// /}
	# shellcheck disable=SC2059 # the format is the escaped bytes
	printf "$(printf '%s' "$h" | sed 's/../\\x&/g')"
}
# seeds: a mode byte (fuzz_pkt.c) + a real packet of each kind
seeds() {
	local hex
	# TCP SYN 10.77.0.2:40000 -> 93.184.216.34:80 (IPv4, 40 bytes)
	hex='00 450000280001000040060000 0a4d0002 5db8d822 9c400050 000003e8 00000000 50020000 00000000'
	bytes "$hex" >"$1/syn4"
	# pure ACK from slirp's side, seen as its answer too (mode 0x40)
	hex='40 450000280002000040060000 5db8d822 0a4d0002 00509c40 00000001 000003e9 50100400 00000000'
	bytes "$hex" >"$1/ack4"
	# UDP to the DNS address, port 53
	hex='00 4500001c0003000040110000 0a4d0002 0a4d0001 d4310035 0008 0000'
	bytes "$hex" >"$1/dns4"
	# ICMP echo to 169.254.169.254 (refused: prohibited)
	hex='00 450000200004000040010000 0a4d0002 a9fea9fe 08000000 00010001 00000000'
	bytes "$hex" >"$1/ping-md"
	# IPv6 TCP SYN fd77::2 -> 2001:db8::80
	hex='00 6000000000140640 fd770000000000000000000000000002 20010db8000000000000000000000080 9c400050 000003e8 00000000 50020000 00000000'
	bytes "$hex" >"$1/syn6"
	# TCP SYN to the API's port on a host address, also checked as the
	# raw-socket egress would (mode 0x10)
	hex='10 450000280005000040060000 0a4d0002 c0000209 9c401f40 000003e8 00000000 50020000 00000000'
	bytes "$hex" >"$1/api4"
	# raw-socket: TCP SYN to another client (10.77.3.9:22)
	hex='10 450000280006000040060000 0a4d0002 0a4d0309 9c400016 000003e8 00000000 50020000 00000000'
	bytes "$hex" >"$1/client4"
	# the TCP relay: a SYN with MSS, window scale and SACK-permitted,
	# then the host sends data (mode bits 0-1 = 1)
	hex='01 450000340007000040060000 0a4d0002 5db8d822 9c400050 000003e8 00000000 80020000 00000000 020405b4 01030308 01010402'
	bytes "$hex" >"$1/relay-syn4"
	# an ARP request from slirp for 10.77.0.2 (mode 0x80: a frame)
	hex='80 ffffffffffff 525500000001 0806 0001 0800 06 04 0001 525500000001 0a4d0001 000000000000 0a4d0002'
	bytes "$hex" >"$1/arp"
	# a neighbour solicitation from slirp for fd77::2
	hex='80 3333ff000002 525500000001 86dd 6000000000203aff fd770000000000000000000000000000 ff0200000000000000000001ff000002 87000000 00000000 fd770000000000000000000000000002 0101525500000001'
	bytes "$hex" >"$1/ns6"
}
fuzz_run fuzz_slirp_pkt seeds
