/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow logs of rejected packets: sg_reject, aggregated per flow and drop
 * reason, written on the drop path only (see include/sgctl.h); `sgctl
 * flowlog` reads it. Accepted flows are logged from conntrack entries.
 *
 * A sender must not choose our cost: new records are budgeted per CPU,
 * instance and window (sg_reject_budget). Once a window's budget is spent,
 * its rejects only count in that per-CPU array (SKIPDATA): no hash lookup.
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

/*
 * One record per flow and reason (ports 0 for protocols without ports):
 * every drop, audited passes (SG_CNT_AUDIT_WOULD_DROP) and untracked
 * accepts (SG_CNT_ACCEPT_UNTRACKED, with the admitting rule's key).
 */
static __always_inline void sg_log_reject(const struct sg_pkt *p, __u32 slot,
					  __u32 dir, __u32 len, __u64 now,
					  __u32 reason, __u64 rule_key)
{
	struct sg_reject_key k = {};
	struct sg_reject_val *v, nv = {};
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
	v = bpf_map_lookup_elem(&sg_reject, &k);
	if (v) {
		v->packets++;
		v->bytes += len;
		v->last_ns = now;
		if (p->tcp_flags & ~v->tcp_flags)
			v->tcp_flags |= p->tcp_flags;
		return;
	}
	b->used++;
	nv.packets = 1;
	nv.bytes = len;
	nv.first_ns = now;
	nv.last_ns = now;
	nv.rule_key = rule_key;
	nv.tcp_flags = p->tcp_flags;
	bpf_map_update_elem(&sg_reject, &k, &nv, BPF_ANY);
}

#endif /* SG_BPF_FLOWLOG_H */
