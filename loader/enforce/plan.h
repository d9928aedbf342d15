/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The host plan: which instances of a config this host enforces (they get
 * an instance slot and a compiled policy) and which are remote (they only
 * lend their addresses to group references).
 *
 * The rule (docs/design.md, "slots only for local instances"): when the
 * config's instances fit in the slots, all of them, so check, stats and
 * attach work for any instance right after a load. A larger config (a
 * whole VPC) gets slots only for the instances that hold one already
 * (attached now or before), that name their `interface`, or the one an
 * attach asks for; so a VPC of any size costs a host only its own
 * instances' policies. An instance whose `host` names another machine
 * is not wanted there. An agent (sg_plan_fleet) enforces exactly the
 * instances whose `host` is its own.
 */
#ifndef SG_PLAN_H
#define SG_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "config/model.h"
#include "state/state.h"

enum sg_plan_mode {
	SG_PLAN_NEW,	  /* a host with no slots yet (validate); st unused */
	SG_PLAN_HELD,	  /* as the host compiled it: local = holds a slot */
	SG_PLAN_ALLOCATE, /* a load or attach: slots looked up or allocated */
};

struct sg_plan {
	int *slots;  /* per cfg instance: its slot, -1 when remote (or NEW) */
	bool *fresh; /* a slot new to its instance (ALLOCATE) */
	size_t n;    /* cfg->ninstances */
	/* ALLOCATE: the slot plan slots and fresh belong to, written only
	 * by sg_state_commit (nothing to give back on failure). */
	struct sg_slot_plan sp;
	bool has_sp;
};

/*
 * Decides the plan for cfg and marks cfg->instances[i].remote. extra: an
 * instance id to enforce in addition (attach), or NULL. Returns 0, or a
 * negative errno (-ENOSPC when the slots run out; the state layer reports
 * it). Writes nothing: ALLOCATE plans slots in memory (plan->sp), for
 * sg_state_commit.
 */
int sg_plan_host(struct sg_state *st, struct sg_config *cfg,
		 enum sg_plan_mode mode, const char *extra,
		 struct sg_plan *plan);
/*
 * An agent's plan (ALLOCATE, for sg_state_commit): local exactly the
 * instances whose `host` is host, whatever slots were held before; every
 * other instance is remote (it only lends its addresses).
 */
int sg_plan_fleet(struct sg_state *st, struct sg_config *cfg, const char *host,
		  struct sg_plan *plan);
void sg_plan_free(struct sg_plan *plan);

/* Whether host (an instance's `host` key) names this machine
 * (gethostname); NULL (no host given) is everywhere. */
bool sg_plan_host_is_here(const char *host);

#endif /* SG_PLAN_H */
