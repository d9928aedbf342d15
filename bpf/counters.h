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

#endif /* SG_BPF_COUNTERS_H */
