/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of sgctl, pinned by name under the pin directory so that
 * enforcement outlives the loader and every attached program shares them.
 * Layouts: include/sgctl.h. Roles: docs/design.md.
 */
#ifndef SG_BPF_MAPS_H
#define SG_BPF_MAPS_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "sgctl.h"

/* Which policy generation is live (one element). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_active);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_active SEC(".maps");

/* Instance settings per generation and slot. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SG_MAX_INSTANCES);
	__type(key, __u32);
	__type(value, struct sg_inst);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_inst SEC(".maps");

/* Stage 1: remote address -> class. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * SG_CLASS_MAX_ENTRIES); /* two generations */
	__type(key, struct sg_class_key);
	__type(value, struct sg_class_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_class SEC(".maps");

/* Stage 2: (class, protocol, port) -> allow. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 2 * SG_RULE_MAX_ENTRIES); /* two generations */
	__type(key, struct sg_rule_key);
	__type(value, struct sg_rule_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_rule SEC(".maps");

/*
 * Exact-match fronts of the two stages (see include/sgctl.h): a hash lookup
 * costs the same whatever the number of entries, the LPM walk does not.
 * Two generations, like the tries.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	/* Half the tries' room: a generation that does not fit goes
	 * without (maps.c), and the bucket array is allocated up front. */
	__uint(max_entries, SG_CLASS_MAX_ENTRIES);
	__type(key, struct sg_class_exact_key);
	__type(value, struct sg_class_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_class_exact SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_RULE_MAX_ENTRIES);
	__type(key, struct sg_rule_exact_key);
	__type(value, struct sg_rule_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_rule_exact SEC(".maps");

/* Their miss filter: two generations of SG_BLOOM_WORDS words. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2 * SG_BLOOM_WORDS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_exact_bloom SEC(".maps");

/* Instance addresses, for the source check. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SG_IP_MAX_PER_GEN); /* two generations */
	__type(key, struct sg_ip_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_ip SEC(".maps");

/* Conntrack of IPv6 flows, all instances; per-instance capacity (both
 * families) via sg_ct_count. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_CT_MAX_ENTRIES);
	__type(key, struct sg_ct_key);
	__type(value, struct sg_ct_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_ct SEC(".maps");

/* IPv4 conntrack (struct sg_ct4_key); sg_ct holds the IPv6 flows. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_CT_MAX_ENTRIES);
	__type(key, struct sg_ct4_key);
	__type(value, struct sg_ct_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_ct4 SEC(".maps");

/* The established fast path's per-CPU cache (struct sg_flow_cache). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_FLOW_CACHE_ENTRIES);
	__type(key, __u32);
	__type(value, struct sg_flow_cache);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_flow_cache SEC(".maps");

/* Tracked flows in use per instance slot (atomic adds). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_MAX_INSTANCES);
	__type(key, __u32);
	__type(value, __s64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_ct_count SEC(".maps");

/* Local ports of each slot's tracked flows (struct sg_ct_lports). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_MAX_INSTANCES);
	__type(key, __u32);
	__type(value, struct sg_ct_lports);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_ct_lports SEC(".maps");

/* Recent half-open TCP entries per slot: the early-drop candidates. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_CT_OPENING_ENTRIES);
	__type(key, __u32);
	__type(value, struct sg_ct_key);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_ct_opening SEC(".maps");

/* First-fragment verdicts. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_FRAG_MAX_ENTRIES);
	__type(key, struct sg_frag_key);
	__type(value, struct sg_frag_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_frag SEC(".maps");

/* Counters by slot, direction and verdict/reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_STATS_ENTRIES);
	__type(key, __u32);
	__type(value, struct sg_counter_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_stats SEC(".maps");

/* Flow logs: rejected packets per flow, written on the no-rule drop path. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SG_REJECT_MAX_ENTRIES);
	__type(key, struct sg_reject_key);
	__type(value, struct sg_reject_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_reject SEC(".maps");

/* Per-CPU flow-log budget and skipped-reject counts, by slot. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SG_MAX_INSTANCES);
	__type(key, __u32);
	__type(value, struct sg_reject_budget);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_reject_budget SEC(".maps");

/* Per-rule hits per instance slot (include/sgctl.h): new flows only. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SG_RULE_HITS_MAX_ENTRIES);
	__type(key, struct sg_rule_hit_key);
	__type(value, struct sg_rule_hit);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_rule_hits SEC(".maps");

/*
 * Per-CPU cache of the coarse clock: it only moves on a tick, so one
 * helper call per tick per CPU instead of one per packet (the call and its
 * returns cost more than the rest of the established path's bookkeeping).
 * Not pinned: each program copy may keep its own.
 */
struct sg_clock {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_clock);
} sg_clock SEC(".maps");

/*
 * Conntrack expiry without a daemon: a timer armed by the datapath whose
 * callback walks sg_ct. Pinned so it outlives the loader; it holds the
 * arming program alive until the map goes away.
 */
struct sg_gc {
	struct bpf_timer timer;
	__u32 armed;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sg_gc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_gc SEC(".maps");

/* Loader-only state, pinned with the rest. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_MAX_ATTACH);
	__type(key, struct sg_attach_key);
	__type(value, struct sg_attach_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_attach SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SG_MAX_INSTANCES); /* two generations */
	__type(key, struct sg_slot_key);
	__type(value, struct sg_slot_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SG_META_ENTRIES);
	__type(key, __u32);
	__type(value, struct sg_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_meta SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2 * SG_BLOB_MAX_CHUNKS); /* two generations */
	__type(key, __u32);
	__type(value, struct sg_blob_chunk);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_blob SEC(".maps");

/* `sgctl audit on|off`: overrides by group/instance id (loader only). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SG_AUDIT_MAX_ENTRIES);
	__type(key, struct sg_slot_key);
	__type(value, struct sg_audit_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} sg_audit SEC(".maps");

#endif /* SG_BPF_MAPS_H */
