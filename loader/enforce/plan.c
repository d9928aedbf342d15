// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The host plan (plan.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "enforce/plan.h"
#include "util/diag.h"

bool sg_plan_host_is_here(const char *host)
{
	char name[256];

	if (!host)
		return true;
	if (gethostname(name, sizeof(name)))
		return false;
	name[sizeof(name) - 1] = '\0';
	return !strcmp(name, host);
}

/* The rule of plan.h, for an instance that holds no slot yet. */
static bool wanted(const struct sg_config *cfg, const struct sg_instance *in,
		   const char *extra)
{
	return cfg->ninstances <= SG_MAX_INSTANCES ||
	       (in->interface && sg_plan_host_is_here(in->host)) ||
	       (extra && !strcmp(extra, in->id));
}

/* A load or attach: every instance that holds a slot keeps it, the
 * wanted ones without get the lowest free (slots of instances gone from
 * cfg included), in memory until the commit. */
static int plan_allocate(struct sg_state *st, struct sg_config *cfg,
			 const char *extra, const char *host,
			 struct sg_plan *plan)
{
	size_t n = cfg->ninstances;
	const char **ids = calloc(n ? n : 1, sizeof(*ids));
	int err;

	if (!ids) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		ids[i] = cfg->instances[i].id;
	err = sg_slot_plan_init(st, ids, n, &plan->sp);
	free(ids);
	if (err)
		return err;
	plan->has_sp = true;
	plan->slots = plan->sp.slots;
	plan->fresh = plan->sp.fresh;
	plan->n = n;
	for (size_t i = 0; i < n; i++) {
		struct sg_instance *in = &cfg->instances[i];

		if (host) {
			/* an agent: exactly the instances of its host */
			in->remote = !in->host || strcmp(in->host, host);
			if (!in->remote)
				sg_slot_plan_keep(&plan->sp, i);
			continue;
		}
		in->remote = sg_slot_plan_keep(&plan->sp, i) < 0 &&
			     !wanted(cfg, in, extra);
	}
	for (size_t i = 0; i < n; i++) {
		if (cfg->instances[i].remote || plan->slots[i] >= 0)
			continue;
		err = sg_slot_plan_alloc(&plan->sp, i);
		if (err < 0) {
			sg_plan_free(plan);
			return err;
		}
	}
	return 0;
}

int sg_plan_host(struct sg_state *st, struct sg_config *cfg,
		 enum sg_plan_mode mode, const char *extra,
		 struct sg_plan *plan)
{
	size_t n = cfg->ninstances;

	memset(plan, 0, sizeof(*plan));
	if (mode == SG_PLAN_ALLOCATE)
		return plan_allocate(st, cfg, extra, NULL, plan);
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
		if (slot == -ENOENT) {
			plan->slots[i] = -1;
			in->remote = true;
			continue;
		}
		plan->slots[i] = slot;
		if (slot < 0) {
			sg_plan_free(plan);
			return slot;
		}
	}
	return 0;
}

int sg_plan_fleet(struct sg_state *st, struct sg_config *cfg, const char *host,
		  struct sg_plan *plan)
{
	memset(plan, 0, sizeof(*plan));
	return plan_allocate(st, cfg, NULL, host, plan);
}

void sg_plan_free(struct sg_plan *plan)
{
	if (plan->has_sp) {
		sg_slot_plan_free(&plan->sp);
	} else {
		free(plan->slots);
		free(plan->fresh);
	}
	memset(plan, 0, sizeof(*plan));
}
