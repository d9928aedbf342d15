/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The exact-match fronts of the two tries (sg_class_exact, sg_rule_exact),
 * the flags that tell the datapath when to read them, and their Bloom
 * filter: pure functions of the compiled entries and of how full the maps
 * are. The compiler proper does not know about them; sg_compiled_lookup()
 * stays the reference for both paths. The state layer writes what these
 * functions decide.
 */
#ifndef SG_EXACT_H
#define SG_EXACT_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "sgctl.h"
#include "compile/compile.h"

/*
 * A kernel hash lookup is three or four function calls (lookup, hash,
 * bucket walk, key compare), ~25 ns behind SRSO return thunks; an LPM
 * lookup is one call plus a few ns per trie node on the way down. Below
 * this many entries in the trie (both generations) the walk is the
 * cheaper of the two, so the exact maps are left out of that stage.
 */
#define SG_EXACT_MIN_TRIE 64

/* How full the maps will be, what the plan is decided from. */
struct sg_exact_sizes {
	size_t class_trie,
		rule_trie; /* entries in the tries, both generations */
	size_t class_room, rule_room; /* free entries of the exact maps */
	bool always; /* use the exact maps whatever the trie size (tests) */
};

struct sg_exact_plan {
	__u8 *scope; /* [policy * 4 + SG_SCOPE_SUB]: SG_EXACT_HAS / _OTHER */
	size_t npolicies;
	__u8 *class; /* [class_id]: SG_EXACT_HAS / SG_EXACT_OTHER */
	size_t nclass_ids;
	__u64 (*ports)[4]; /* [policy * SG_NDIR + dir]: SG_PORT_BIT bits */
	bool use_class, use_rule;	  /* each stage through its exact map */
	size_t nclass_exact, nrule_exact; /* entries for the exact maps */
};

#define SG_EXACT_HAS   (1u << 0) /* some entries are full-length */
#define SG_EXACT_OTHER (1u << 1) /* some are not */

/* A full-length entry: it belongs in the exact map as well. */
bool sg_class_entry_exact(const struct sg_class_key *k);
bool sg_rule_entry_exact(const struct sg_rule_key *k);

/*
 * Decides which stages go through their exact map. A stage whose exact
 * entries do not fit the room left goes without (the trie alone).
 * Returns 0 or -ENOMEM.
 */
int sg_exact_plan_make(const struct sg_compiled *c,
		       const struct sg_exact_sizes *sz,
		       struct sg_exact_plan *x);
void sg_exact_plan_free(struct sg_exact_plan *x);

/* SG_INST_EXACT* flags of an instance with this policy. */
__u32 sg_exact_inst_flags(const struct sg_exact_plan *x, __u32 policy);
/* An instance's ports[] summary; returns SG_INST_PORTS or 0. */
__u32 sg_exact_inst_ports(const struct sg_exact_plan *x, __u32 policy,
			  __u64 ports[SG_NDIR][4]);
/* SG_CLASS_EXACT_* flags of this class (class_id without generation). */
__u16 sg_exact_class_flags(const struct sg_exact_plan *x, __u32 class_id);

/*
 * One generation's words of sg_exact_bloom (SG_BLOOM_WORDS of them, to be
 * written from key sg_bloom_word(gen, 0) on): every exact key sets its
 * bits. words is zeroed first.
 */
void sg_exact_bloom_words(__u64 *words, const struct sg_class_exact_key *ck,
			  size_t nc, const struct sg_rule_exact_key *rk,
			  size_t nr);

#endif /* SG_EXACT_H */
