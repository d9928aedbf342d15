/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Per-rule usage, read back from the datapath: sg_rule_hits (per CPU,
 * summed: untracked packets, and the tracked flows the conntrack GC has
 * collected) plus the live conntrack entries, each a hit of the rule it
 * remembers with its packets and bytes so far. Keyed by (rule key, slot): a
 * rule's key comes from its id (sg_rule_key_of), so a reload that keeps the
 * rule keeps its counts.
 */
#ifndef SG_RULEHITS_H
#define SG_RULEHITS_H

#include <linux/types.h>
#include <stddef.h>

#include "state/state.h"

struct sg_rule_usage {
	__u64 rule_key;
	__u32 slot;
	__u32 pad;
	__u64 hits;    /* new flows admitted; untracked: packets */
	__u64 packets; /* of those flows (live ones included) */
	__u64 bytes;
	__u64 last_ns; /* CLOCK_MONOTONIC of the last hit; 0: never */
};

/* Every (rule, slot) with counts, sorted by (rule_key, slot). */
int sg_rule_usage_read(struct sg_state *st, struct sg_rule_usage **out,
		       size_t *n);
/* The entry of (rule_key, slot) in a sorted table; NULL when none. */
const struct sg_rule_usage *sg_rule_usage_find(const struct sg_rule_usage *v,
					       size_t n, __u64 rule_key,
					       __u32 slot);
/*
 * Adds flows leaving the conntrack table by another way than the GC
 * (conntrack flush) to their rules' counts, as the GC would. Best effort:
 * an increment the datapath makes meanwhile on CPU 0 may be lost.
 */
void sg_rule_hits_add_flows(struct sg_state *st, const struct sg_ct_key *keys,
			    const struct sg_ct_val *vals, size_t n);
/* Forgets the counts of released slots (with sg_state_forget_slots). */
int sg_rule_hits_forget_slots(struct sg_state *st, const __u32 *slots,
			      size_t n);

#endif /* SG_RULEHITS_H */
