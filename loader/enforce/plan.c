// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The host plan (plan.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "enforce/plan.h"
#include "util/diag.h"

/* The rule of plan.h, for an instance that holds no slot yet. */
static bool wanted(const struct sg_config *cfg, const struct sg_instance *in,
		   const char *extra)
{
	return cfg->ninstances <= SG_MAX_INSTANCES || in->interface ||
	       (extra && !strcmp(extra, in->id));
}

int sg_plan_host(struct sg_state *st, struct sg_config *cfg,
		 enum sg_plan_mode mode, const char *extra,
		 struct sg_plan *plan)
{
	size_t n = cfg->ninstances;

	memset(plan, 0, sizeof(*plan));
	plan->slots = calloc(n ? n : 1, sizeof(*plan->slots));
	plan->fresh = calloc(n ? n : 1, sizeof(*plan->fresh));
	if (!plan->slots || !plan->fresh) {
		sg_plan_free(plan);
		sg_err("out of memory");
		return -ENOMEM;
	}
	plan->n = n;
	for (size_t i = 0; i < n; i++) {
		struct sg_instance *in = &cfg->instances[i];
		int slot;

		if (mode == SG_PLAN_NEW) {
			plan->slots[i] = -1;
			in->remote = !wanted(cfg, in, extra);
			continue;
		}
		in->remote = false;
		slot = sg_slot_get(st, in->id, false);
		if (slot == -ENOENT &&
		    (mode == SG_PLAN_HELD || !wanted(cfg, in, extra))) {
			plan->slots[i] = -1;
			in->remote = true;
			continue;
		}
		if (slot == -ENOENT) {
			slot = sg_slot_get(st, in->id, true);
			plan->fresh[i] = slot >= 0;
		}
		plan->slots[i] = slot;
		if (slot < 0) {
			sg_plan_release(st, cfg, plan);
			return slot;
		}
	}
	return 0;
}

void sg_plan_release(struct sg_state *st, const struct sg_config *cfg,
		     struct sg_plan *plan)
{
	for (size_t i = 0; i < plan->n && i < cfg->ninstances; i++)
		if (plan->fresh[i]) {
			sg_slot_release(st, cfg->instances[i].id);
			plan->fresh[i] = false;
		}
}

void sg_plan_free(struct sg_plan *plan)
{
	free(plan->slots);
	free(plan->fresh);
	memset(plan, 0, sizeof(*plan));
}
