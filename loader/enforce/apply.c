// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Applying a config (apply.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>

#include "enforce/apply.h"
#include "enforce/attach.h"
#include "enforce/plan.h"
#include "util/diag.h"

int sg_enforce_compile(const struct sg_config *cfg, struct sg_compiled *c)
{
	struct sg_diag diag;
	int err;

	sg_diag_init(&diag);
	err = sg_compile(cfg, c, &diag);
	sg_diag_print(&diag, stderr);
	if (!err && diag.nerrors)
		err = -EINVAL;
	else if (err && !diag.nerrors)
		sg_err("compile: %s", strerror(-err));
	sg_diag_free(&diag);
	return err;
}

/*
 * A record of an instance leaving the config: true when it attaches
 * nothing (dropped here, with a warning). *bad set when it cannot be
 * checked (reported).
 */
static bool prune_stale(const struct sg_owner *o, const struct sg_attach_key *k,
			const struct sg_attach_val *v, int *bad)
{
	struct sg_att_truth t;
	int err;

	err = sg_attach_verify(o, k, v, &t);
	if (err) {
		sg_err("cannot check the attachment of %s: %s", v->ifname,
		       sg_bpf_strerror(err));
		(*bad)++;
		return true;
	}
	if (t.progs)
		return false;
	sg_warnx("the attachment of instance %s to %s%s%s is %s (nothing of "
		 "it is attached); forgot it",
		 v->instance, v->ifname, v->netns[0] ? " in netns " : "",
		 v->netns, sg_att_status_name(t.status));
	err = bpf_map_delete_elem(o->attach_fd, k);
	if (err && err != -ENOENT) {
		sg_err("cannot delete the attachment record of %s: %s",
		       v->ifname, sg_bpf_strerror(err));
		(*bad)++;
	}
	return true;
}

/*
 * Attached instances must stay in the config. A record whose interface
 * no longer carries this state's programs (deleted, re-created, its
 * namespace gone) attaches nothing: it is dropped, with a warning, and
 * never blocks the load.
 */
static int check_attached(struct sg_state *st, const struct sg_config *cfg)
{
	struct sg_attach_key *keys;
	struct sg_attach_val *vals;
	struct sg_owner owner;
	size_t n;
	int err, bad = 0;

	err = sg_owner_of_state(&owner, st);
	if (!err)
		err = sg_attach_list(st, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (sg_config_find_instance(cfg, vals[i].instance) >= 0)
			continue;
		if (prune_stale(&owner, &keys[i], &vals[i], &bad))
			continue;
		sg_err("instance %s is attached to %s%s%s; detach it first",
		       vals[i].instance, vals[i].ifname,
		       vals[i].netns[0] ? " in netns " : "", vals[i].netns);
		bad++;
	}
	free(keys);
	free(vals);
	return bad ? -EBUSY : 0;
}

/* Slots of instances no longer in the config: released before the new
 * ones are allocated (so they can be reused), restored if the apply
 * fails before the flip. */
struct stale {
	char *ids; /* SG_ID_LEN each */
	__u32 *slots;
	size_t n;
};

static int release_stale(struct sg_state *st, const struct sg_config *cfg,
			 struct stale *out)
{
	__u32 *slots;
	size_t n;
	char *ids;
	int err;

	memset(out, 0, sizeof(*out));
	err = sg_slot_list(st, &ids, &slots, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		const char *id = ids + i * SG_ID_LEN;

		if (sg_config_find_instance(cfg, id) >= 0)
			continue;
		err = sg_slot_release(st, id);
		if (err < 0 && err != -ENOENT)
			break;
		err = 0;
		memmove(ids + out->n * SG_ID_LEN, id, SG_ID_LEN);
		slots[out->n++] = slots[i];
	}
	out->ids = ids;
	out->slots = slots;
	return err;
}

static void restore_stale(struct sg_state *st, const struct stale *s)
{
	for (size_t i = 0; i < s->n; i++)
		sg_slot_set(st, s->ids + i * SG_ID_LEN, s->slots[i]);
}

/* Nothing runs with a released or fresh slot (attached instances stay,
 * new ones are not attached yet): forget what the datapath kept for it,
 * so a reused slot starts clean. */
static int forget_slots(struct sg_state *st, const struct stale *s,
			const struct sg_plan *p)
{
	__u32 *all = calloc(s->n + p->n + 1, sizeof(*all));
	size_t m = 0;
	int err;

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		all[m++] = s->slots[i];
	for (size_t i = 0; i < p->n; i++)
		if (p->fresh[i])
			all[m++] = (__u32)p->slots[i];
	err = sg_state_forget_slots(st, all, m);
	free(all);
	return err;
}

/* The highest slot no instance uses (for the timer's dummy frame: new
 * instances take the lowest free slots, and a fresh slot starts clean). */
static __u32 free_slot(const struct sg_plan *p)
{
	static unsigned char used[SG_MAX_INSTANCES];

	memset(used, 0, sizeof(used));
	for (size_t i = 0; i < p->n; i++)
		if (p->slots[i] >= 0 && p->slots[i] < SG_MAX_INSTANCES)
			used[p->slots[i]] = 1;
	for (__u32 s = SG_MAX_INSTANCES; s-- > 0;)
		if (!used[s])
			return s;
	return SG_MAX_INSTANCES - 1;
}

static void count(struct sg_apply_result *res, const struct sg_compiled *c,
		  const struct sg_plan *p, const struct stale *s)
{
	res->policies = c->npolicies;
	res->classes = c->nclasses;
	res->class_entries = c->nclasses_entries;
	res->rule_entries = c->nrules_entries;
	res->entries_written = c->nclasses_entries + c->nrules_entries;
	res->slots_released = s->n;
	for (size_t i = 0; i < p->n; i++) {
		res->local += p->slots[i] >= 0;
		res->slots_added += p->fresh[i];
	}
}

/* After the flip: the stored config, its hash and the live generation in
 * sg_meta (a new config only), then the released and fresh slots. */
static int bookkeeping(struct sg_state *st, const struct sg_apply_req *req,
		       __u64 hash, const struct stale *s,
		       const struct sg_plan *p, struct sg_meta *meta)
{
	int err = 0;

	if (req->text) {
		err = sg_blob_store(st, req->text, req->len);
		if (!err)
			err = sg_meta_read(st, meta);
		if (!err) {
			__u32 gen = 0;

			sg_active_gen(st, &gen);
			meta->config_hash = hash;
			meta->gen = gen;
			meta->loaded_at = (__u64)time(NULL);
			err = sg_meta_write(st, meta);
		}
	}
	if (!err)
		err = forget_slots(st, s, p);
	return err;
}

int sg_enforce_apply(struct sg_state *st, struct sg_config *cfg,
		     const struct sg_apply_req *req,
		     struct sg_apply_result *res)
{
	const size_t max = (size_t)SG_BLOB_MAX_CHUNKS * (SG_BLOB_CHUNK - 4);
	struct sg_compiled c = {};
	struct sg_plan plan = {};
	struct stale stale = {};
	struct sg_meta meta;
	__u64 hash = 0;
	bool first;
	int err;

	memset(res, 0, sizeof(*res));
	if (req->text && req->len > max) {
		sg_err("%s: too large to store (%zu bytes, at most %zu)",
		       req->label, req->len, max);
		return -EFBIG;
	}
	if (req->text)
		hash = sg_hash64(req->text, req->len);
	err = sg_meta_read(st, &meta);
	if (err)
		return err;
	first = !meta.loaded_at;
	if (req->text && meta.loaded_at && meta.config_hash == hash &&
	    meta.blob_len == req->len) {
		res->unchanged = true;
		res->gen = meta.gen;
		return 0;
	}
	err = check_attached(st, cfg);
	if (err)
		return err;
	err = release_stale(st, cfg, &stale);
	if (err)
		goto undo_stale;

	/* Slots: stable across loads; new instances get the lowest free. */
	err = sg_plan_host(st, cfg, SG_PLAN_ALLOCATE, req->extra, &plan);
	if (err)
		goto undo_stale;
	err = sg_enforce_compile(cfg, &c);
	if (!err)
		err = sg_state_apply(st, &c, plan.slots, plan.n);
	if (err)
		goto undo_plan;

	/* Live. Now the bookkeeping. */
	err = bookkeeping(st, req, hash, &stale, &plan, &meta);
	if (err) {
		sg_err("the new policy is live but its bookkeeping failed; "
		       "load the file again");
		goto out;
	}
	/* The expiry timer lives in the pinned maps: once per state. An
	 * attached program also arms it with its first packet. */
	if (first && sg_state_arm_timer(st, free_slot(&plan)))
		sg_warnx("conntrack entries will expire once traffic arrives");
	count(res, &c, &plan, &stale);
	res->gen = meta.gen;
	if (!req->text)
		sg_active_gen(st, &res->gen);
	goto out;

undo_plan:
	sg_plan_release(st, cfg, &plan);
undo_stale:
	restore_stale(st, &stale);
out:
	free(stale.ids);
	free(stale.slots);
	sg_plan_free(&plan);
	sg_compiled_free(&c);
	return err;
}
