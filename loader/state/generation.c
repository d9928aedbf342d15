// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Generations: sg_meta, the live generation, and writing a compiled
 * config as the inactive generation then flipping sg_active to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "compile/exact.h"
#include "util/diag.h"
#include "state/internal.h"
#include "state/state.h"

/* ----------------------------------------------------------- meta, gen */

int sg_meta_get(struct sg_state *st, __u32 key, struct sg_meta *m)
{
	int err = bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_meta), &key,
				      m);

	if (err)
		sg_err("cannot read sg_meta: %s", sg_bpf_strerror(err));
	return err;
}

int sg_meta_put(struct sg_state *st, __u32 key, const struct sg_meta *m)
{
	int err = bpf_map_update_elem(bpf_map__fd(st->skel->maps.sg_meta), &key,
				      m, BPF_ANY);

	if (err)
		sg_err("cannot write sg_meta: %s", sg_bpf_strerror(err));
	return err;
}

int sg_meta_read(struct sg_state *st, struct sg_meta *m)
{
	__u32 gen;
	int err = sg_active_gen(st, &gen);

	return err ? err : sg_meta_get(st, SG_META_GEN(gen), m);
}

int sg_meta_write(struct sg_state *st, const struct sg_meta *m)
{
	int err = sg_meta_put(st, SG_META_GEN(m->gen), m);

	return err ? err : sg_meta_put(st, SG_META_COMMIT, m);
}

int sg_active_gen(struct sg_state *st, __u32 *gen)
{
	struct sg_active a;
	__u32 k = 0;
	int err = bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_active), &k,
				      &a);

	if (err) {
		sg_err("cannot read sg_active: %s", sg_bpf_strerror(err));
		return err;
	}
	*gen = a.gen & 1;
	return 0;
}

/* ---------------------------------------------------------------- apply */

int sg_state_apply(struct sg_state *st, const struct sg_compiled *c,
		   const int *slots, size_t nslots)
{
	return sg_state_apply_opts(st, c, slots, nslots, NULL);
}

/* Writes generation ng and flips to it; slots stay as they are. */
int sg_state_apply_opts(struct sg_state *st, const struct sg_compiled *c,
			const int *slots, size_t nslots,
			const struct sg_apply_opts *opts)
{
	__u32 gen;
	int err = sg_active_gen(st, &gen);

	if (!err)
		err = sg_generation_write(st, c, slots, nslots, opts, gen ^ 1,
					  NULL, NULL);
	if (!err)
		err = sg_slot_sync(st, gen, gen ^ 1);
	if (!err)
		err = sg_generation_flip(st, gen ^ 1);
	return err;
}

int sg_generation_flip(struct sg_state *st, __u32 ng)
{
	struct sg_active act = {0};
	__u32 zero = 0;
	int err;

	/* The conntrack epoch stays (the state lock is held). */
	bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_active), &zero, &act);
	act.gen = ng & 1;
	/* One store: new flows see generation ng from here on. */
	err = bpf_map_update_elem(bpf_map__fd(st->skel->maps.sg_active), &zero,
				  &act, BPF_ANY);
	if (err)
		sg_err("cannot switch to policy generation %u: %s", ng,
		       sg_bpf_strerror(err));
	return err;
}

int sg_generation_write(struct sg_state *st, const struct sg_compiled *c,
			const int *slots, size_t nslots,
			const struct sg_apply_opts *opts, __u32 ng,
			struct sg_image *img, struct sg_commit_stats *stats)
{
	struct sgctl_bpf *s = st->skel;
	int class_fd = bpf_map__fd(s->maps.sg_class);
	int rule_fd = bpf_map__fd(s->maps.sg_rule);
	int ip_fd = bpf_map__fd(s->maps.sg_ip);
	int inst_fd = bpf_map__fd(s->maps.sg_inst);
	int xclass_fd = bpf_map__fd(s->maps.sg_class_exact);
	int xrule_fd = bpf_map__fd(s->maps.sg_rule_exact);
	struct sg_class_exact_key *xck = NULL;
	struct sg_class_val *xcv = NULL;
	struct sg_rule_exact_key *xrk = NULL;
	struct sg_rule_val *xrv = NULL;
	struct sg_exact_sizes sizes = {};
	struct sg_image im = {};
	size_t kept_class = 0, kept_rule = 0, kept_xclass = 0, kept_xrule = 0;
	size_t kept_ip = 0, del[5] = {0};
	__u32 *ikeys = NULL;
	__u8 *ipvals = NULL;
	int err;

	if (nslots != c->ninsts) {
		sg_err("internal: %zu slots for %zu instances", nslots,
		       c->ninsts);
		return -EINVAL;
	}

	/* 1. What is left of generation ng is two loads old: drop it. */
	err = sg_map_purge_generation(class_fd, sizeof(struct sg_class_key),
				      sizeof(struct sg_class_val),
				      offsetof(struct sg_class_key, scope), ng,
				      &kept_class, &del[0]);
	if (!err)
		err = sg_map_purge_generation(
			rule_fd, sizeof(struct sg_rule_key),
			sizeof(struct sg_rule_val),
			offsetof(struct sg_rule_key, class_id), ng, &kept_rule,
			&del[1]);
	if (!err)
		err = sg_map_purge_generation(
			xclass_fd, sizeof(struct sg_class_exact_key),
			sizeof(struct sg_class_val),
			offsetof(struct sg_class_exact_key, scope), ng,
			&kept_xclass, &del[2]);
	if (!err)
		err = sg_map_purge_generation(
			xrule_fd, sizeof(struct sg_rule_exact_key),
			sizeof(struct sg_rule_val),
			offsetof(struct sg_rule_exact_key, class_id), ng,
			&kept_xrule, &del[3]);
	if (!err)
		err = sg_map_purge_generation(
			ip_fd, sizeof(struct sg_ip_key), sizeof(__u8),
			offsetof(struct sg_ip_key, gen_slot), ng, &kept_ip,
			&del[4]);
	if (err) {
		sg_err("cannot clear stale policy generation %u: %s", ng,
		       sg_bpf_strerror(err));
		return err;
	}

	/* 2. The image of generation ng, sized against what stays. */
	sizes.class_trie = kept_class + c->nclasses_entries;
	sizes.rule_trie = kept_rule + c->nrules_entries;
	sizes.class_room =
		bpf_map__max_entries(s->maps.sg_class_exact) - kept_xclass;
	sizes.rule_room =
		bpf_map__max_entries(s->maps.sg_rule_exact) - kept_xrule;
	sizes.always = opts && opts->exact_always;
	err = sg_image_build(c, slots, nslots, &sizes, ng, true, &im);
	if (err)
		return err;
	im.other_class = kept_class;
	im.other_rule = kept_rule;
	im.other_xclass = kept_xclass;
	im.other_xrule = kept_xrule;
	im.other_ip = kept_ip;
	ikeys = calloc(SG_MAX_INSTANCES, sizeof(*ikeys));
	ipvals = calloc(im.nip ? im.nip : 1, sizeof(*ipvals));
	if (!ikeys || !ipvals || sg_image_exact(&im, &xck, &xcv, &xrk, &xrv)) {
		err = -ENOMEM;
		sg_err("out of memory");
		goto out;
	}
	for (__u32 i = 0; i < SG_MAX_INSTANCES; i++)
		ikeys[i] = ng * SG_MAX_INSTANCES + i;
	memset(ipvals, 1, im.nip);

	/* 3. Instances (every slot, absent ones zeroed), addresses, both
	 * stages with their exact copies, the filter. Nothing reads
	 * generation ng before the flip, so the order does not matter. */
	err = sg_map_write(inst_fd, "sg_inst", ikeys, im.inst, sizeof(*ikeys),
			   sizeof(*im.inst), SG_MAX_INSTANCES);
	if (!err)
		err = sg_map_write(ip_fd, "sg_ip", im.ip, ipvals,
				   sizeof(*im.ip), sizeof(*ipvals), im.nip);
	if (!err)
		err = sg_map_write(class_fd, "sg_class", im.ck, im.cv,
				   sizeof(*im.ck), sizeof(*im.cv), im.nc);
	if (!err)
		err = sg_map_write(xclass_fd, "sg_class_exact", xck, xcv,
				   sizeof(*xck), sizeof(*xcv), im.nxc);
	if (!err)
		err = sg_map_write(rule_fd, "sg_rule", im.rk, im.rv,
				   sizeof(*im.rk), sizeof(*im.rv), im.nr);
	if (!err)
		err = sg_map_write(xrule_fd, "sg_rule_exact", xrk, xrv,
				   sizeof(*xrk), sizeof(*xrv), im.nxr);
	if (!err && im.bloom) {
		/* Rewritten whole: bits of the generation two loads old go. */
		__u32 *bk = calloc(SG_BLOOM_WORDS, sizeof(*bk));

		if (!bk) {
			err = -ENOMEM;
			goto out;
		}
		for (__u32 i = 0; i < SG_BLOOM_WORDS; i++)
			bk[i] = sg_bloom_word(ng, 0) + i;
		err = sg_map_write(bpf_map__fd(s->maps.sg_exact_bloom),
				   "sg_exact_bloom", bk, im.bloom, sizeof(*bk),
				   sizeof(*im.bloom), SG_BLOOM_WORDS);
		free(bk);
	}
	if (!err && stats) {
		size_t live = 0;

		for (__u32 i = 0; i < SG_MAX_INSTANCES; i++)
			live += !!(im.inst[i].flags & SG_INST_PRESENT);
		stats->incremental = false;
		stats->written =
			live + im.nip + im.nc + im.nxc + im.nr + im.nxr;
		stats->deleted = del[0] + del[1] + del[2] + del[3] + del[4];
	}
out:
	free(ikeys);
	free(ipvals);
	free(xck);
	free(xcv);
	free(xrk);
	free(xrv);
	if (!err && img)
		*img = im;
	else
		sg_image_free(&im);
	return err;
}

int sg_inst_read(struct sg_state *st, __u32 slot, struct sg_inst *inst)
{
	__u32 gen, idx;
	int err;

	if (slot >= SG_MAX_INSTANCES)
		return -ERANGE;
	err = sg_active_gen(st, &gen);
	if (err)
		return err;
	idx = gen * SG_MAX_INSTANCES + slot;
	err = bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_inst), &idx,
				  inst);
	if (err)
		sg_err("cannot read sg_inst: %s", sg_bpf_strerror(err));
	return err;
}
