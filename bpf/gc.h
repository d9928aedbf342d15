/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Conntrack expiry with no daemon: the first flow the datapath tracks arms a
 * bpf_timer; every SG_GC_INTERVAL_NS its callback walks sg_ct4 and sg_ct,
 * deletes idle entries and gives their room back to the instance, then
 * re-arms.
 */
#ifndef SG_BPF_GC_H
#define SG_BPF_GC_H

#include "maps.h"
#include "consts.h"
#include "counters.h"
#include "flowcache.h"

/*
 * bpf_ktime_get_coarse_ns(), which changes only when jiffies does: the
 * verifier inlines bpf_jiffies64() and the per-CPU array lookup, so most
 * packets make no call. A packet that lands between the tick's jiffies and
 * clock updates caches the previous tick's time: at most one more tick of
 * the staleness the coarse clock already has. ns is stored before jiffies,
 * so a program nested on this CPU sees a matching pair or a miss.
 */
static __always_inline __u64 sg_now(void)
{
	__u64 j = bpf_jiffies64();
	struct sg_clock *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&sg_clock, &zero);
	if (!c)
		return bpf_ktime_get_coarse_ns();
	if (c->jiffies != j || !c->ns) {
		c->ns = bpf_ktime_get_coarse_ns();
		c->jiffies = j;
	}
	return c->ns;
}

static __always_inline int sg_ct_expired(const struct sg_ct_val *v, __u64 now)
{
	return now > v->last_seen_ns + (__u64)v->timeout_s * SG_NS;
}

struct sg_gc_walk {
	__u64 now;
};

/* Collects one entry of map (sg_ct4 or sg_ct) when it has expired. */
static __always_inline long sg_gc_collect(void *map, const void *key,
					  __u32 slot, struct sg_ct_val *val,
					  struct sg_gc_walk *w, int v4)
{
	__u64 rule_key, packets, bytes, created;
	__s64 *cnt;

	if (!sg_ct_expired(val, w->now))
		return 0;
	/* Read before the delete: the element may be reused after it. */
	rule_key = val->rule_key;
	packets = val->packets[0] + val->packets[1];
	bytes = val->bytes[0] + val->bytes[1];
	created = val->created_ns;
	/* What the flow caches counted since the last hand-over. */
	if (v4)
		sg_fc_pending(key, created, &packets, &bytes);
	/* Only the deleter gives the room back, so a race cannot double
	 * count. */
	if (bpf_map_delete_elem(map, key))
		return 0;
	/* The flow joins its rule's counters (`sgctl rules`): one hit at
	 * its creation, and its traffic. Only the deleter counts it. */
	sg_rule_hit(slot, rule_key, packets, bytes, created);
	cnt = bpf_map_lookup_elem(&sg_ct_count, &slot);
	if (cnt)
		__sync_fetch_and_add(cnt, -1);
	return 0;
}

static long sg_gc_one4(void *map, struct sg_ct4_key *key, struct sg_ct_val *val,
		       struct sg_gc_walk *w)
{
	return sg_gc_collect(&sg_ct4, key, key->slot, val, w, 1);
}

static long sg_gc_one6(void *map, struct sg_ct_key *key, struct sg_ct_val *val,
		       struct sg_gc_walk *w)
{
	return sg_gc_collect(&sg_ct, key, key->slot, val, w, 0);
}

static int sg_gc_fire(void *map, __u32 *key, struct sg_gc *gc)
{
	struct sg_gc_walk w = {.now = bpf_ktime_get_ns()};

	bpf_for_each_map_elem(&sg_ct4, sg_gc_one4, &w, 0);
	bpf_for_each_map_elem(&sg_ct, sg_gc_one6, &w, 0);
	bpf_timer_start(&gc->timer, SG_GC_INTERVAL_NS, 0);
	return 0;
}

/* Cheap when armed: one array lookup and a load. */
static __always_inline void sg_gc_arm(void)
{
	__u32 zero = 0;
	struct sg_gc *gc;

	gc = bpf_map_lookup_elem(&sg_gc, &zero);
	if (!gc || gc->armed)
		return;
	/* -EBUSY when another CPU or program got there first: still fine. */
	bpf_timer_init(&gc->timer, &sg_gc, SG_CLOCK_MONOTONIC);
	bpf_timer_set_callback(&gc->timer, sg_gc_fire);
	if (!bpf_timer_start(&gc->timer, SG_GC_INTERVAL_NS, 0))
		gc->armed = 1;
}

#endif /* SG_BPF_GC_H */
