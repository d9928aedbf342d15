/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow logs of rejected packets: sg_reject, aggregated per flow and drop
 * reason, written on the drop path only (see include/sgctl.h); `sgctl
 * flowlog` reads it. Accepted flows are logged from conntrack entries.
 *
 * A sender must not choose our cost: new records are budgeted per CPU,
 * instance and window (sg_reject_budget). Once a window's budget is spent,
 * its rejects only count in that per-CPU array (SKIPDATA): no hash lookup.
 *
 * Nor does a run of one flow's rejects: the per-CPU pend[dir] remembers the
 * last flow whose record was found or made, and the packets that follow it
 * only add to pending counts there (a key compare). The next reject of
 * another flow flushes them into the record with the one lookup it pays
 * anyway (its own goes without one only if it continues a run), so no mix
 * of flows costs more lookups than one per packet. Readers merge pending
 * counts into the records (loader: sg_reject_dump).
 */
#ifndef SG_BPF_FLOWLOG_H
#define SG_BPF_FLOWLOG_H

#include "maps.h"
#include "structs.h"
#include "gc.h"

/* New records per CPU, instance and window; set by the loader before load. */
const volatile __u32 sg_reject_rate = SG_REJECT_BUDGET_DEFAULT;

static __always_inline void sg_log_skip(struct sg_reject_budget *b, __u32 dir,
					__u32 len, __u64 now)
{
	struct sg_reject_skip *s = &b->skip[dir & 1];

	if (!s->first_ns)
		s->first_ns = now;
	s->last_ns = now;
	s->packets++;
	s->bytes += len;
}

/* The pending key is at offset 0 of a map value, k is 8-aligned too. */
_Static_assert(sizeof(struct sg_reject_key) == 44, "compared as 5x8 + 4");

static __always_inline int sg_reject_key_eq(const struct sg_reject_key *a,
					    const struct sg_reject_key *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;
	const __u32 *xs = (const __u32 *)a, *ys = (const __u32 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]) |
		 (x[4] ^ y[4]) | (__u64)(xs[10] ^ ys[10]));
}

/*
 * Adds pd's pending packets to its record. If the record was evicted
 * meanwhile, it is made again as a new record (within the budget: else
 * the packets count as skipped, like any record the budget refuses).
 */
static __always_inline void sg_pend_flush(struct sg_reject_budget *b,
					  struct sg_reject_pending *pd)
{
	struct sg_reject_val *v, nv = {};

	v = bpf_map_lookup_elem(&sg_reject, &pd->key);
	if (v) {
		v->packets += pd->packets;
		v->bytes += pd->bytes;
		if (pd->last_ns > v->last_ns)
			v->last_ns = pd->last_ns;
		if (pd->tcp_flags & ~v->tcp_flags)
			v->tcp_flags |= pd->tcp_flags;
	} else if (b->used < sg_reject_rate) {
		b->used++;
		nv.packets = pd->packets;
		nv.bytes = pd->bytes;
		nv.first_ns = pd->first_ns;
		nv.last_ns = pd->last_ns;
		nv.rule_key = pd->rule_key;
		nv.tcp_flags = pd->tcp_flags;
		bpf_map_update_elem(&sg_reject, &pd->key, &nv, BPF_ANY);
	} else {
		struct sg_reject_skip *s = &b->skip[pd->key.dir & 1];

		if (!s->first_ns || pd->first_ns < s->first_ns)
			s->first_ns = pd->first_ns;
		if (pd->last_ns > s->last_ns)
			s->last_ns = pd->last_ns;
		s->packets += pd->packets;
		s->bytes += pd->bytes;
	}
	pd->packets = 0;
	pd->bytes = 0;
	pd->tcp_flags = 0;
}

/*
 * One record per flow and reason (ports 0 for protocols without ports):
 * every drop, audited passes (SG_CNT_AUDIT_WOULD_DROP) and untracked
 * accepts (SG_CNT_ACCEPT_UNTRACKED, with the admitting rule's key).
 */
static __always_inline void sg_log_reject(const struct sg_pkt *p, __u32 slot,
					  __u32 dir, __u32 len, __u64 now,
					  __u32 reason, __u64 rule_key)
{
	struct sg_reject_key k __attribute__((aligned(8))) = {};
	struct sg_reject_val *v, nv = {};
	struct sg_reject_pending *pd;
	struct sg_reject_budget *b;
	__u64 win;

	if (!now)
		now = sg_now();
	b = bpf_map_lookup_elem(&sg_reject_budget, &slot);
	if (!b)
		return;
	win = now >> SG_REJECT_WINDOW_SHIFT;
	if (b->window != win) {
		b->window = win;
		b->used = 0;
	}
	/* Spent: even a known flow's record waits for the next window. */
	if (b->used >= sg_reject_rate) {
		sg_log_skip(b, dir, len, now);
		return;
	}

	k.slot = slot;
	k.dir = dir;
	k.family = p->family;
	k.proto = p->proto;
	k.reason = (__u8)reason;
	if (p->proto == SG_PROTO_TCP || p->proto == SG_PROTO_UDP) {
		k.sport = p->sport;
		k.dport = p->dport;
	}
	__builtin_memcpy(k.saddr, p->saddr, 16);
	__builtin_memcpy(k.daddr, p->daddr, 16);

	/* The run goes on: its record exists, no lookup. */
	pd = &b->pend[dir & 1];
	if (pd->live && sg_reject_key_eq(&pd->key, &k)) {
		if (!pd->packets)
			pd->first_ns = now;
		pd->packets++;
		pd->bytes += len;
		pd->last_ns = now;
		if (p->tcp_flags & ~pd->tcp_flags)
			pd->tcp_flags |= p->tcp_flags;
		return;
	}
	if (pd->packets)
		sg_pend_flush(b, pd);
	pd->live = 0;

	v = bpf_map_lookup_elem(&sg_reject, &k);
	if (v) {
		v->packets++;
		v->bytes += len;
		v->last_ns = now;
		if (p->tcp_flags & ~v->tcp_flags)
			v->tcp_flags |= p->tcp_flags;
	} else {
		/* The flush may have spent it, making an evicted record. */
		if (b->used >= sg_reject_rate) {
			sg_log_skip(b, dir, len, now);
			return;
		}
		b->used++;
		nv.packets = 1;
		nv.bytes = len;
		nv.first_ns = now;
		nv.last_ns = now;
		nv.rule_key = rule_key;
		nv.tcp_flags = p->tcp_flags;
		if (bpf_map_update_elem(&sg_reject, &k, &nv, BPF_ANY))
			return;
	}
	/* This flow's next rejects on this CPU: pending counts only. */
	__builtin_memcpy(&pd->key, &k, sizeof(k));
	pd->rule_key = rule_key;
	pd->live = 1;
}

#endif /* SG_BPF_FLOWLOG_H */
