/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Applying a config: the one path by which a validated config becomes
 * the enforced policy of a state, for `load`, for `attach` of an
 * instance this host does not enforce yet, and for an agent that applies
 * configs it is sent.
 *
 *   plan (plan.h, slots planned in memory) -> compile the local
 *   instances -> sg_state_commit (state.h): hash cleared, the inactive
 *   generation, its stored config and its slots written, the flip, the
 *   hash set.
 *
 * All-or-nothing until the flip, and crash-safe: a failure or a kill
 * before it leaves the live policy, its slots and its config as they
 * were; the next load is never "unchanged" until one completes.
 */
#ifndef SG_APPLY_H
#define SG_APPLY_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "compile/compile.h"
#include "config/model.h"
#include "state/state.h"

/*
 * What an apply remembers for the next one in the same process (an
 * agent, a test, the benchmark): the compile and the image of the live
 * generation it wrote, and the commit record it left. The next apply
 * compiles with ids stable against it and, while the commit record is
 * still that one (no other writer came between, no apply failed
 * half-way), writes only the difference into the live generation. Zero
 * it before first use; sg_apply_cache_free releases it.
 */
struct sg_apply_cache {
	bool valid;
	struct sg_compiled c;
	struct sg_image img;
	struct sg_meta rec; /* sg_meta[SG_META_COMMIT] after that apply */
};

void sg_apply_cache_free(struct sg_apply_cache *cache);

enum sg_apply_mode {
	SG_APPLY_AUTO,	      /* in place when small enough, else a flip */
	SG_APPLY_FULL,	      /* always a new generation */
	SG_APPLY_INCREMENTAL, /* in place whenever it can be (tests) */
};

struct sg_apply_req {
	const char *label; /* the config in messages: "a.yaml + b.json" */
	/* The stored form of cfg (sg_inputs_pack). NULL: cfg is the stored
	 * config already (attach); it is applied but not stored again. */
	const char *text;
	size_t len;
	const char *extra; /* an instance to enforce in addition, or NULL */
	/* An agent's host name: local exactly the instances whose `host`
	 * it is (sg_plan_fleet); NULL: the plan of load and attach. */
	const char *host;
	struct sg_apply_cache *cache; /* NULL: every apply writes a whole
				       * new generation */
	enum sg_apply_mode mode;
	const struct sg_apply_opts *opts; /* NULL: defaults */
};

struct sg_apply_result {
	bool unchanged; /* that config was live already: nothing written */
	__u32 gen;	/* the live generation afterwards */
	/* The compiled policy of this host (zero when unchanged). */
	size_t policies, classes, class_entries, rule_entries;
	bool incremental; /* written in place into the live generation */
	/* Policy-map entries (both stages, exact copies, addresses,
	 * instance settings) written and deleted: a whole generation and
	 * the purge of the stale one, or the difference only. */
	size_t entries_written, entries_deleted;
	double compile_s, commit_s; /* time to compile, to write (seconds) */
	size_t local;		/* instances this host enforces */
	size_t slots_added;	/* slots given to instances new here */
	size_t slots_released;	/* slots of instances gone from the config */
};

/*
 * Applies cfg (validated; its `remote` marks are set here by the host
 * plan) to st, opened without programs; the caller holds the state lock.
 * Every failure is reported (stderr) and returned as a negative errno:
 * -EBUSY when an attached instance is missing from cfg, -EFBIG when the
 * config is too large to store.
 */
int sg_enforce_apply(struct sg_state *st, struct sg_config *cfg,
		     const struct sg_apply_req *req,
		     struct sg_apply_result *res);

/* Compiles the instances of cfg not marked remote, printing diagnostics
 * to stderr. 0 or a negative errno (-EINVAL when the config has errors). */
int sg_enforce_compile(const struct sg_config *cfg, struct sg_compiled *c);
/* The same with ids stable against prev (NULL: none), sg_compile_prev. */
int sg_enforce_compile_prev(const struct sg_config *cfg,
			    const struct sg_compiled *prev,
			    struct sg_compiled *c);

#endif /* SG_APPLY_H */
