// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A load's writes in the order that survives a crash at any point: see
 * sg_state_commit in state.h for the order and what each crash leaves.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "util/diag.h"
#include "state/internal.h"
#include "state/state.h"

/* Fresh and released slots: nothing runs with them (attached instances
 * keep theirs, new ones are not attached yet), so what the datapath kept
 * for them goes before the flip, and a reused slot starts clean. */
static int forget(struct sg_state *st, const struct sg_slot_plan *sp)
{
	__u32 *all = calloc(sp->nreleased + sp->n + 1, sizeof(*all));
	size_t m = 0;
	int err;

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < sp->nreleased; i++)
		all[m++] = sp->released[i];
	for (size_t i = 0; i < sp->n; i++)
		if (sp->fresh[i] && sp->slots[i] >= 0)
			all[m++] = (__u32)sp->slots[i];
	err = sg_state_forget_slots(st, all, m);
	free(all);
	return err;
}

int sg_state_commit(struct sg_state *st, const struct sg_commit *cm)
{
	struct sg_meta done, rec;
	char *text = (char *)cm->text, *copy = NULL;
	size_t len = cm->len;
	__u32 gen, ng;
	int err;

	if (st->ro) {
		sg_err("internal: commit on a read-only state");
		return -EROFS;
	}
	if (cm->c->ninsts != cm->slots->n) {
		sg_err("internal: %zu slots for %zu instances", cm->slots->n,
		       cm->c->ninsts);
		return -EINVAL;
	}
	err = sg_active_gen(st, &gen);
	if (err)
		return err;
	ng = gen ^ 1;
	if (!text) {
		/* The live config again (attach): it goes with ng too. */
		err = sg_blob_load(st, &copy, &len);
		if (err) {
			sg_err("cannot read the loaded config; load it again");
			return err;
		}
		text = copy;
	}

	/* 1. From here until 6 the state is not "unchanged" for anyone. */
	err = sg_meta_get(st, SG_META_COMMIT, &done);
	if (!err) {
		done.config_hash = 0;
		err = sg_meta_put(st, SG_META_COMMIT, &done);
	}
	/* 2. The new generation, read by nobody before the flip. */
	if (!err)
		err = sg_generation_write(st, cm->c, cm->slots->slots,
					  cm->slots->n, cm->opts, ng);
	/* 3. Its config, beside the live one's. */
	if (!err)
		err = sg_blob_store_gen(st, ng, text, len,
					sg_hash64(text, len));
	/* 4. Its slots, beside the live ones. */
	if (!err)
		err = sg_slot_plan_write(st, cm->slots, ng);
	if (!err)
		err = forget(st, cm->slots);
	/* 5. Live. */
	if (!err)
		err = sg_generation_flip(st, ng);
	/* 6. Done: the hash says so. */
	if (!err)
		err = sg_meta_get(st, SG_META_GEN(ng), &rec);
	if (!err)
		err = sg_meta_put(st, SG_META_COMMIT, &rec);
	/* 7. Ids without a slot now. */
	if (!err && sg_slot_prune(st, ng))
		sg_warnx("slots of removed instances are freed by the next "
			 "load");
	free(copy);
	return err;
}
