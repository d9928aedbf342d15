/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The compiler: a pure function from the config model to map entries
 * (generation 0; state/generation.c sets the generation bit when writing
 * them).
 *
 * Policies: one per distinct sorted set of groups; instances with the same
 * groups share one. For each (policy, direction, family), every peer prefix
 * of every rule (CIDRs, prefix-list entries, member addresses of referenced
 * groups) goes into stage 1 with the class = the set of rules covering that
 * prefix (deduplicated). Stage 2 maps (class, proto, port prefix) to allow.
 * A new flow is thus judged in two LPM lookups whatever the rule count.
 */
#ifndef SG_COMPILE_H
#define SG_COMPILE_H

#include <linux/types.h>
#include <stddef.h>
#include <stdint.h>

#include "sgctl.h"
#include "config/model.h"

/* Where a rule_ref points: a rule of the model. */
struct sg_rule_ref {
	int group; /* index in cfg->groups */
	int rule; /* index in that group's rules */
};

struct sg_policy {
	int *groups; /* sorted group indices */
	size_t ngroups;
	/* What the policy is, across configs: a hash of its group ids (never
	 * 0). 0: an unused id (a hole left for the ids a previous compile
	 * used; compiles to nothing). */
	__u64 key;
};

/* Per instance (same order as cfg->instances). */
struct sg_inst_entry {
	struct sg_inst inst; /* policy id and limits; flags has SG_INST_PRESENT */
	struct sg_ip_key *ips; /* gen_slot left 0: state/ fills gen and slot */
	size_t nips;
};

struct sg_class_entry {
	struct sg_class_key key;
	struct sg_class_val val;
};

struct sg_rule_entry {
	struct sg_rule_key key;
	struct sg_rule_val val;
};

struct sg_compiled {
	struct sg_policy *policies;
	size_t npolicies;
	struct sg_inst_entry *insts;
	size_t ninsts;
	struct sg_class_entry *classes; /* stage 1 */
	size_t nclasses_entries;
	size_t nclasses; /* distinct class ids */
	struct sg_rule_entry *rules; /* stage 2 */
	size_t nrules_entries;
	struct sg_rule_ref *rule_refs; /* rule_ref -> model rule */
	size_t nrule_refs;
};

/* Returns 0, or -ENOMEM / -E2BIG (a map would overflow; message in diag). */
int sg_compile(const struct sg_config *cfg, struct sg_compiled *out,
	       struct sg_diag *diag);
/*
 * As sg_compile, with ids stable against prev (a compile of an earlier
 * config, NULL: none), so that the entries of two compiles differ only
 * where the configs do: a policy whose group ids prev had keeps prev's
 * policy id; a class whose stage-2 entries (keys and values, the class
 * id aside) equal those of a prev class keeps that class's id. New
 * policies and classes get the lowest ids prev does not use, never an id
 * prev used for something else (an incremental apply writes the new
 * entries while the old ones are still live). Without prev, ids are
 * dense in the order of first use (0.. for policies, 1.. for classes).
 */
int sg_compile_prev(const struct sg_config *cfg, const struct sg_compiled *prev,
		    struct sg_compiled *out, struct sg_diag *diag);
void sg_compiled_free(struct sg_compiled *c);

/*
 * What one host can hold of cfg's instances not marked remote: at most
 * SG_MAX_INSTANCES of them (slots) and SG_IP_MAX_PER_GEN addresses (sg_ip
 * holds two generations of that). -E2BIG with the limit named in diag;
 * validate and load check it before compiling.
 */
int sg_compile_limits(const struct sg_config *cfg, struct sg_diag *diag);

/*
 * Userspace lookup through the compiled entries, as the datapath does it
 * (longest prefix in stage 1, then in stage 2). For tests and `check`.
 * addr is 4 or 16 bytes per family; port is the destination port, or
 * type << 8 | code for ICMP. Returns 1 and *val when allowed, 0 when not.
 */
int sg_compiled_lookup(const struct sg_compiled *c, __u32 policy, int dir,
		       int family, const __u8 *addr, __u8 proto, __u16 port,
		       struct sg_rule_val *val);

/* Splits [lo, hi] into prefixes of a 16-bit space: fills out with
 * (value, bits) pairs, returns their count (at most 32). */
int sg_port_range_prefixes(__u16 lo, __u16 hi, __u16 *values, __u8 *bits,
			   int max);

#endif /* SG_COMPILE_H */
