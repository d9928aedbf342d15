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
 * hits new flows (or untracked packets) of a rule, with their packets
 * and bytes, the last at time last: one per-CPU hash lookup (the first
 * hit of a rule on an instance inserts its entry). Called per packet of
 * untracked traffic, and by the GC for each tracked flow it collects (a
 * tracked flow costs the datapath nothing more than its entry's rule key).
 */
static __always_inline void sg_rule_hit(__u32 slot, __u64 rule_key,
					__u64 packets, __u64 bytes, __u64 last)
{
	struct sg_rule_hit_key k = {.rule_key = rule_key, .slot = slot};
	struct sg_rule_hit *h, nh = {};

	if (!rule_key)
		return;
	h = bpf_map_lookup_elem(&sg_rule_hits, &k);
	if (h) {
		h->hits++;
		h->packets += packets;
		h->bytes += bytes;
		if (last > h->last_ns)
			h->last_ns = last;
		return;
	}
	nh.hits = 1;
	nh.packets = packets;
	nh.bytes = bytes;
	nh.last_ns = last;
	/* Full map: the rule goes uncounted, the packet is not affected. */
	bpf_map_update_elem(&sg_rule_hits, &k, &nh, BPF_NOEXIST);
}

#endif /* SG_BPF_COUNTERS_H */
