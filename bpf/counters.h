/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Per-CPU verdict counters: one slot per (instance, direction, counter). */
#ifndef SG_BPF_COUNTERS_H
#define SG_BPF_COUNTERS_H

#include "maps.h"

/* Accepts and passes come first in SG_COUNTERS: one compare. */
static __always_inline int sg_counter_passes(int cnt)
{
	return SG_COUNTER_PASSES(cnt);
}

static __always_inline void sg_count(__u32 slot, __u32 dir, int cnt, __u32 len)
{
	__u32 idx = SG_STATS_INDEX(slot, dir, (__u32)cnt);
	struct sg_counter_val *c;

	c = bpf_map_lookup_elem(&sg_stats, &idx);
	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

/*
 * A rule admitted a new flow, or an untracked packet: one per-CPU hash
 * lookup (the first hit of a rule on an instance inserts its entry).
 * packets/bytes: what to add now (0 for a tracked flow, whose conntrack
 * entry counts them until the GC folds them in with sg_rule_fold).
 */
static __always_inline void sg_rule_hit(__u32 slot, __u64 rule_key,
					__u32 packets, __u32 bytes, __u64 now)
{
	struct sg_rule_hit_key k = {.rule_key = rule_key, .slot = slot};
	struct sg_rule_hit *h, nh = {};

	h = bpf_map_lookup_elem(&sg_rule_hits, &k);
	if (h) {
		h->hits++;
		h->packets += packets;
		h->bytes += bytes;
		h->last_ns = now;
		return;
	}
	nh.hits = 1;
	nh.packets = packets;
	nh.bytes = bytes;
	nh.last_ns = now;
	/* Full map: the rule goes uncounted, the packet is not affected. */
	bpf_map_update_elem(&sg_rule_hits, &k, &nh, BPF_NOEXIST);
}

/* A tracked flow's packets and bytes, once its entry is collected. */
static __always_inline void sg_rule_fold(__u32 slot, __u64 rule_key,
					 __u64 packets, __u64 bytes)
{
	struct sg_rule_hit_key k = {.rule_key = rule_key, .slot = slot};
	struct sg_rule_hit *h;

	if (!rule_key)
		return;
	h = bpf_map_lookup_elem(&sg_rule_hits, &k);
	if (h) {
		h->packets += packets;
		h->bytes += bytes;
	}
}

#endif /* SG_BPF_COUNTERS_H */
