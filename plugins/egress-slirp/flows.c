/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "flows.h"

int sle_flows_init(struct sle_flows *f, uint32_t max_flows, uint32_t per_peer,
		   uint64_t budget, double tcp_idle, double dgram_idle)
{
	memset(f, 0, sizeof(*f));
	if (max_flows == 0)
		return -1;
	f->cap = max_flows;
	f->per_peer = per_peer;
	f->budget = budget;
	f->tcp_idle = tcp_idle;
	f->dgram_idle = dgram_idle;
	f->tcp_cost = SLE_FLOW_TCP_COST;
	f->nbuckets = 64;
	while (f->nbuckets < max_flows * 2u && f->nbuckets < (1u << 30))
		f->nbuckets <<= 1;
	f->buckets = calloc(f->nbuckets, sizeof(*f->buckets));
	f->pbuckets = calloc(f->nbuckets, sizeof(*f->pbuckets));
	f->tab = calloc(max_flows, sizeof(*f->tab));
	f->peers = calloc(max_flows, sizeof(*f->peers));
	if (!f->buckets || !f->pbuckets || !f->tab || !f->peers) {
		sle_flows_free(f);
		return -1;
	}
	for (uint32_t i = 0; i < max_flows; i++) {
		f->tab[i].next = i + 1 < max_flows ? i + 2 : 0;
		f->peers[i].next = i + 1 < max_flows ? i + 2 : 0;
	}
	f->free_head = 1;
	f->pfree_head = 1;
	return 0;
}

void sle_flows_free(struct sle_flows *f)
{
	free(f->buckets);
	free(f->pbuckets);
	free(f->tab);
	free(f->peers);
	memset(f, 0, sizeof(*f));
}

static uint32_t mix(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x7feb352dU;
	h ^= h >> 15;
	h *= 0x846ca68bU;
	h ^= h >> 16;
	return h;
}

static uint32_t key_hash(const struct sle_flow_key *k)
{
	return mix(k->cli ^
		   mix(k->dst ^ mix((uint32_t)k->cport << 16 | k->dport) ^
		       k->proto));
}

static bool key_eq(const struct sle_flow_key *a, const struct sle_flow_key *b)
{
	return a->cli == b->cli && a->dst == b->dst && a->cport == b->cport &&
	       a->dport == b->dport && a->proto == b->proto &&
	       a->family == b->family &&
	       (a->family != 6 || !memcmp(a->dst6, b->dst6, 16));
}

/* The key of a packet: client side (src, sport) and the far side. */
static void make_key(const struct sle_flows *f, struct sle_flow_key *k,
		     const struct sle_pkt_info *pi, const uint8_t *cli,
		     const uint8_t *far, uint16_t cport, uint16_t dport)
{
	memset(k, 0, sizeof(*k));
	k->family = pi->family;
	k->proto = pi->proto;
	k->cport = cport;
	k->dport = dport;
	if (pi->family == 4) {
		k->cli = sle_v4(cli);
		k->dst = sle_v4(far);
		return;
	}
	k->cli = f->v6_base + (sle_v4(cli + 12) - sle_v4(f->pool6 + 12));
	memcpy(k->dst6, far, 16);
	k->dst =
		mix(sle_v4(far) ^ mix(sle_v4(far + 4) ^
				      mix(sle_v4(far + 8) ^ sle_v4(far + 12))));
}

void sle_flow_client6(const struct sle_flows *f, const struct sle_flow *fl,
		      uint8_t out[16])
{
	uint32_t low = sle_v4(f->pool6 + 12) + (fl->k.cli - f->v6_base);

	memcpy(out, f->pool6, 12);
	out[12] = (uint8_t)(low >> 24);
	out[13] = (uint8_t)(low >> 16);
	out[14] = (uint8_t)(low >> 8);
	out[15] = (uint8_t)low;
}

static struct sle_flow *lookup(struct sle_flows *f,
			       const struct sle_flow_key *k)
{
	uint32_t i = f->buckets[key_hash(k) & (f->nbuckets - 1)];

	while (i) {
		struct sle_flow *fl = &f->tab[i - 1];

		if (key_eq(&fl->k, k))
			return fl;
		i = fl->next;
	}
	return NULL;
}

static struct sle_peer_count *peer_get(const struct sle_flows *f, uint32_t addr)
{
	uint32_t i = f->pbuckets[mix(addr) & (f->nbuckets - 1)];

	while (i) {
		if (f->peers[i - 1].addr == addr)
			return &f->peers[i - 1];
		i = f->peers[i - 1].next;
	}
	return NULL;
}

uint32_t sle_flows_peer_count(const struct sle_flows *f, uint32_t addr)
{
	const struct sle_peer_count *p = peer_get(f, addr);

	return p ? p->count : 0;
}

static void peer_add(struct sle_flows *f, uint32_t addr)
{
	struct sle_peer_count *p = peer_get(f, addr);
	uint32_t *b, i;

	if (p) {
		p->count++;
		return;
	}
	/* Each peer holds a flow, so there is always a free slot. */
	i = f->pfree_head;
	p = &f->peers[i - 1];
	f->pfree_head = p->next;
	b = &f->pbuckets[mix(addr) & (f->nbuckets - 1)];
	p->addr = addr;
	p->count = 1;
	p->next = *b;
	*b = i;
}

static void peer_del(struct sle_flows *f, uint32_t addr)
{
	uint32_t *pp = &f->pbuckets[mix(addr) & (f->nbuckets - 1)];

	while (*pp) {
		uint32_t i = *pp;
		struct sle_peer_count *p = &f->peers[i - 1];

		if (p->addr == addr) {
			if (--p->count == 0) {
				*pp = p->next;
				p->next = f->pfree_head;
				f->pfree_head = i;
			}
			return;
		}
		pp = &p->next;
	}
}

static uint64_t cost(const struct sle_flows *f, uint8_t proto)
{
	return proto == SLE_PROTO_TCP ? f->tcp_cost : SLE_FLOW_DGRAM_COST;
}

void sle_flows_del(struct sle_flows *f, struct sle_flow *fl)
{
	uint32_t *pp = &f->buckets[key_hash(&fl->k) & (f->nbuckets - 1)];
	uint32_t idx = (uint32_t)(fl - f->tab) + 1;

	while (*pp && *pp != idx)
		pp = &f->tab[*pp - 1].next;
	if (*pp)
		*pp = fl->next;
	peer_del(f, fl->k.cli);
	f->mem -= cost(f, fl->k.proto);
	f->n--;
	memset(fl, 0, sizeof(*fl));
	fl->next = f->free_head;
	f->free_head = idx;
}

static enum sle_reason flow_new(struct sle_flows *f,
				const struct sle_flow_key *k, double now,
				struct sle_flow **out)
{
	struct sle_flow *fl;
	uint32_t i, *b;

	if (f->n >= f->cap)
		return SLE_R_FLOWS;
	if (f->per_peer && sle_flows_peer_count(f, k->cli) >= f->per_peer)
		return SLE_R_PEER_FLOWS;
	if (f->budget && f->mem + cost(f, k->proto) > f->budget)
		return SLE_R_MEMORY;
	i = f->free_head;
	fl = &f->tab[i - 1];
	f->free_head = fl->next;
	memset(fl, 0, sizeof(*fl));
	fl->k = *k;
	fl->used = true;
	fl->last = now;
	b = &f->buckets[key_hash(k) & (f->nbuckets - 1)];
	fl->next = *b;
	*b = i;
	peer_add(f, k->cli);
	f->mem += cost(f, k->proto);
	f->n++;
	*out = fl;
	return SLE_PASS;
}

static uint32_t seg_end(const struct sle_pkt_info *pi)
{
	return pi->tcp_seq + pi->payload_len + !!(pi->tcp_flags & SLE_TCP_SYN) +
	       !!(pi->tcp_flags & SLE_TCP_FIN);
}

struct sle_flow *sle_flows_find(struct sle_flows *f,
				const struct sle_pkt_info *pi)
{
	struct sle_flow_key k;

	if ((pi->family != 4 && pi->family != 6) || !pi->first_frag)
		return NULL;
	make_key(f, &k, pi, pi->src, pi->dst, pi->sport, pi->dport);
	return lookup(f, &k);
}

enum sle_reason sle_flows_client(struct sle_flows *f,
				 const struct sle_pkt_info *pi, double now)
{
	struct sle_flow *fl;

	return sle_flows_client_get(f, pi, now, &fl);
}

enum sle_reason sle_flows_client_get(struct sle_flows *f,
				     const struct sle_pkt_info *pi, double now,
				     struct sle_flow **out)
{
	struct sle_flow_key k;
	struct sle_flow *fl;
	enum sle_reason r;

	*out = NULL;
	if ((pi->family != 4 && pi->family != 6) || !pi->first_frag)
		return SLE_PASS;
	make_key(f, &k, pi, pi->src, pi->dst, pi->sport, pi->dport);
	fl = lookup(f, &k);
	if (!fl) {
		/* Only a SYN opens a TCP flow; other segments of unknown
		 * connections go to slirp, which resets them itself. */
		if (pi->proto == SLE_PROTO_TCP &&
		    (pi->tcp_flags &
		     (SLE_TCP_SYN | SLE_TCP_ACK | SLE_TCP_RST)) != SLE_TCP_SYN)
			return SLE_PASS;
		r = flow_new(f, &k, now, &fl);
		if (r != SLE_PASS)
			return r;
	}
	fl->last = now;
	if (pi->proto == SLE_PROTO_TCP) {
		uint32_t end = seg_end(pi);

		if (pi->tcp_flags & SLE_TCP_RST) {
			fl->fin = 3;
			fl->last = now - SLE_FLOW_CLOSED_LINGER; /* forget */
		}
		if (pi->tcp_flags & SLE_TCP_FIN)
			fl->fin |= 1;
		if ((int32_t)(end - fl->cli_nxt) > 0 ||
		    (pi->tcp_flags & SLE_TCP_SYN))
			fl->cli_nxt = end;
	}
	*out = fl;
	return SLE_PASS;
}

void sle_flows_server(struct sle_flows *f, const struct sle_pkt_info *pi,
		      double now)
{
	struct sle_flow_key k;
	struct sle_flow *fl;

	if ((pi->family != 4 && pi->family != 6) || !pi->first_frag)
		return;
	make_key(f, &k, pi, pi->dst, pi->src, pi->dport, pi->sport);
	if (pi->proto == SLE_PROTO_ICMP || pi->proto == SLE_PROTO_ICMP6)
		k.cport = k.dport = pi->sport;
	fl = lookup(f, &k);
	if (!fl)
		return;
	fl->last = now;
	if (pi->proto == SLE_PROTO_TCP) {
		uint32_t end = seg_end(pi);

		if (pi->tcp_flags & SLE_TCP_RST) {
			fl->fin = 3;
			fl->last = now - SLE_FLOW_CLOSED_LINGER;
		}
		if (pi->tcp_flags & SLE_TCP_FIN)
			fl->fin |= 2;
		if (!fl->srv_seen || (int32_t)(end - fl->srv_nxt) > 0)
			fl->srv_nxt = end;
		fl->srv_seen = true;
	}
}

void sle_flows_expire(struct sle_flows *f, double now, sle_flow_expire_cb cb,
		      void *arg)
{
	for (uint32_t i = 0; i < f->cap && f->n; i++) {
		struct sle_flow *fl = &f->tab[i];
		bool tcp = fl->k.proto == SLE_PROTO_TCP;

		if (!fl->used)
			continue;
		if (tcp && fl->fin == 3 && !fl->owner) {
			if (now - fl->last >= SLE_FLOW_CLOSED_LINGER)
				sle_flows_del(f, fl);
			continue;
		}
		if (now - fl->last >= (tcp ? f->tcp_idle : f->dgram_idle)) {
			if (cb)
				cb(fl, arg);
			sle_flows_del(f, fl);
		}
	}
}
