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
					  cm->slots->n, cm->opts, ng, cm->image,
					  cm->stats);
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
	if (err && cm->image)
		sg_image_free(cm->image);
	free(copy);
	return err;
}

/* Slots the plan gives or takes: fresh ones (want_fresh) or released. */
static int forget_some(struct sg_state *st, const struct sg_slot_plan *sp,
		       bool want_fresh)
{
	__u32 *all = calloc(sp->nreleased + sp->n + 1, sizeof(*all));
	size_t m = 0;
	int err;

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; !want_fresh && i < sp->nreleased; i++)
		all[m++] = sp->released[i];
	for (size_t i = 0; want_fresh && i < sp->n; i++)
		if (sp->fresh[i] && sp->slots[i] >= 0)
			all[m++] = (__u32)sp->slots[i];
	err = sg_state_forget_slots(st, all, m);
	free(all);
	return err;
}

static bool plan_changes_slots(const struct sg_slot_plan *sp)
{
	if (sp->nreleased)
		return true;
	for (size_t i = 0; i < sp->n; i++)
		if (sp->fresh[i] || sp->slots[i] != sp->held[i])
			return true;
	return false;
}

int sg_state_commit_incremental(struct sg_state *st, const struct sg_commit *cm,
				struct sg_image *old, size_t max_ops,
				struct sg_image *next,
				struct sg_commit_stats *stats)
{
	struct sg_meta done, rec;
	struct sg_delta *d = NULL;
	char *text = (char *)cm->text, *copy = NULL;
	size_t len = cm->len;
	__u32 gen;
	int err;

	memset(stats, 0, sizeof(*stats));
	if (st->ro || cm->c->ninsts != cm->slots->n)
		return -EINVAL;
	err = sg_active_gen(st, &gen);
	if (err)
		return err;
	if (gen != old->gen)
		return -EAGAIN;
	err = sg_meta_get(st, SG_META_GEN(gen), &rec);
	if (err)
		return err;
	/* Nothing written yet: a change too large for it goes to a new
	 * generation. */
	err = sg_delta_make(st, old, cm->c, cm->slots->slots, cm->slots->n,
			    cm->opts, max_ops, next, &d);
	if (err)
		return err;
	if (!text) {
		err = sg_blob_load(st, &copy, &len);
		if (err) {
			sg_err("cannot read the loaded config; load it again");
			goto out;
		}
		text = copy;
	}

	/* 1. From here until 7 the state is not "unchanged" for anyone, and
	 * the next run writes a whole generation. */
	err = sg_meta_get(st, SG_META_COMMIT, &done);
	if (!err) {
		done.config_hash = 0;
		err = sg_meta_put(st, SG_META_COMMIT, &done);
	}
	/* 2. Slots, in the live half (nothing runs with fresh or released
	 * slots: attached instances keep theirs). */
	if (!err && plan_changes_slots(cm->slots)) {
		err = sg_slot_plan_write(st, cm->slots, gen);
		if (!err)
			err = forget_some(st, cm->slots, true);
	}
	/* 3, 4. The difference, adds before deletes. */
	if (!err)
		err = sg_delta_write(st, d, &stats->written, &stats->deleted);
	/* 5. */
	if (!err && cm->slots->nreleased)
		err = forget_some(st, cm->slots, false);
	/* 6. The config now live, over the old one's record. */
	if (!err)
		err = sg_blob_store_gen_over(st, gen, text, len,
					     sg_hash64(text, len),
					     rec.blob_chunks);
	/* 7. Done. */
	if (!err)
		err = sg_meta_get(st, SG_META_GEN(gen), &rec);
	if (!err)
		err = sg_meta_put(st, SG_META_COMMIT, &rec);
	if (!err && cm->slots->nreleased && sg_slot_prune(st, gen))
		sg_warnx("slots of removed instances are freed by the next "
			 "load");
	stats->incremental = true;
out:
	if (err)
		sg_image_free(next);
	sg_delta_free(d);
	free(copy);
	return err;
}
