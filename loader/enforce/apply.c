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
	return sg_enforce_compile_prev(cfg, NULL, c);
}

int sg_enforce_compile_prev(const struct sg_config *cfg,
			    const struct sg_compiled *prev,
			    struct sg_compiled *c)
{
	struct sg_diag diag;
	int err;

	sg_diag_init(&diag);
	err = sg_compile_limits(cfg, &diag);
	if (!err)
		err = sg_compile_prev(cfg, prev, c, &diag);
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

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sg_apply_cache_free(struct sg_apply_cache *cache)
{
	sg_compiled_free(&cache->c);
	sg_image_free(&cache->img);
	memset(cache, 0, sizeof(*cache));
}

/*
 * The cache describes the live generation only while the commit record
 * is the one its apply left (a completed load: hash set) and the live
 * instance settings read back as its image has them (a cheap guard
 * against another writer that left an equal record).
 */
static bool cache_live(struct sg_state *st, const struct sg_apply_cache *ca)
{
	struct sg_meta done;

	return ca->valid && ca->rec.config_hash &&
	       !sg_commit_record(st, &done) &&
	       !memcmp(&done, &ca->rec, sizeof(done)) &&
	       sg_image_is_live(st, &ca->img);
}

static void count(struct sg_apply_result *res, const struct sg_compiled *c,
		  const struct sg_plan *p)
{
	res->policies = 0;
	for (size_t i = 0; i < c->npolicies; i++)
		res->policies += c->policies[i].key != 0;
	res->classes = c->nclasses;
	res->class_entries = c->nclasses_entries;
	res->rule_entries = c->nrules_entries;
	res->slots_released = p->sp.nreleased;
	for (size_t i = 0; i < p->n; i++) {
		res->local += p->slots[i] >= 0;
		res->slots_added += p->fresh[i];
	}
}

int sg_enforce_apply(struct sg_state *st, struct sg_config *cfg,
		     const struct sg_apply_req *req,
		     struct sg_apply_result *res)
{
	const size_t max = (size_t)SG_BLOB_MAX_CHUNKS * (SG_BLOB_CHUNK - 4);
	struct sg_compiled c = {};
	struct sg_plan plan = {};
	struct sg_apply_cache *cache;
	struct sg_commit_stats stats = {};
	struct sg_image img = {};
	struct sg_commit cm;
	struct sg_meta meta;
	double t0;
	bool live;
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
	/* Unchanged only when the live generation, its stored config and
	 * the hash of the last complete load all agree. */
	if (req->text && sg_state_is_current(st, hash, req->len)) {
		res->unchanged = true;
		res->gen = meta.gen;
		return 0;
	}
	err = check_attached(st, cfg);
	if (err)
		return err;

	/* Slots: stable across loads; new instances get the lowest free,
	 * planned in memory and written by the commit with its flip. */
	if (req->host)
		err = sg_plan_fleet(st, cfg, req->host, &plan);
	else
		err = sg_plan_host(st, cfg, SG_PLAN_ALLOCATE, req->extra,
				   &plan);
	if (err)
		goto out;
	cache = req->cache;
	live = cache && req->mode != SG_APPLY_FULL && cache_live(st, cache);
	/* Ids stable against the last compile, so the two differ only
	 * where the configs do. */
	t0 = now_s();
	err = sg_enforce_compile_prev(
		cfg, cache && cache->valid ? &cache->c : NULL, &c);
	if (err)
		goto out;
	res->compile_s = now_s() - t0;
	t0 = now_s();
	cm = (struct sg_commit){
		.c = &c,
		.slots = &plan.sp,
		.text = req->text,
		.len = req->len,
		.opts = req->opts,
		.image = cache ? &img : NULL,
		.stats = &stats,
	};
	err = -EAGAIN;
	if (live) {
		/* In place only when the difference is smaller than half of
		 * what a new generation writes (SG_APPLY_INCREMENTAL: any). */
		size_t max_ops =
			req->mode == SG_APPLY_INCREMENTAL
				? (size_t)-1
				: (c.nclasses_entries + c.nrules_entries) / 2 +
					  64;

		err = sg_state_commit_incremental(st, &cm, &cache->img, max_ops,
						  &img, &stats);
	}
	/* Whatever happens next, the cache describes the live generation
	 * again only once a commit completes. */
	if (cache)
		cache->valid = false;
	if (err == -EAGAIN)
		err = sg_state_commit(st, &cm);
	if (err)
		goto out;
	if (cache) {
		sg_apply_cache_free(cache);
		cache->c = c;
		cache->img = img;
		memset(&c, 0, sizeof(c));
		memset(&img, 0, sizeof(img));
		cache->valid = !sg_commit_record(st, &cache->rec);
	}
	res->commit_s = now_s() - t0;
	res->incremental = stats.incremental;
	res->entries_written = stats.written;
	res->entries_deleted = stats.deleted;

	/* The expiry timer lives in the pinned maps: once per state. An
	 * attached program also arms it with its first packet. */
	if (first && sg_state_arm_timer(st, free_slot(&plan)))
		sg_warnx("conntrack entries will expire once traffic arrives");
	count(res, cache ? &cache->c : &c, &plan);
	sg_active_gen(st, &res->gen);
out:
	sg_plan_free(&plan);
	sg_compiled_free(&c);
	return err;
}
