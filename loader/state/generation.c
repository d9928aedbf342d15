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
	int err = bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_meta),
				      &key, m);

	if (err)
		sg_err("cannot read sg_meta: %s", sg_bpf_strerror(err));
	return err;
}

int sg_meta_put(struct sg_state *st, __u32 key, const struct sg_meta *m)
{
	int err = bpf_map_update_elem(bpf_map__fd(st->skel->maps.sg_meta),
				      &key, m, BPF_ANY);

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

/*
 * Generation gen's half of the exact maps' miss filter, rewritten whole
 * (bits of the generation two loads old must go). Not needed, and left as
 * it is, when no exact entry is written: no flag then sends a lookup to it.
 */
static int write_bloom(int fd, __u32 gen, const struct sg_class_exact_key *ck,
		       size_t nc, const struct sg_rule_exact_key *rk, size_t nr)
{
	__u64 *words;
	__u32 *keys;
	int err;

	if (!nc && !nr)
		return 0;
	words = calloc(SG_BLOOM_WORDS, sizeof(*words));
	keys = calloc(SG_BLOOM_WORDS, sizeof(*keys));
	if (!words || !keys) {
		free(words);
		free(keys);
		return -ENOMEM;
	}
	sg_exact_bloom_words(words, ck, nc, rk, nr);
	for (__u32 i = 0; i < SG_BLOOM_WORDS; i++)
		keys[i] = sg_bloom_word(gen, 0) + i;
	err = sg_map_update_all(fd, keys, words, sizeof(*keys), sizeof(*words),
				SG_BLOOM_WORDS);
	free(words);
	free(keys);
	return err;
}

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
		err = sg_generation_write(st, c, slots, nslots, opts, gen ^ 1);
	if (!err)
		err = sg_slot_sync(st, gen, gen ^ 1);
	if (!err)
		err = sg_generation_flip(st, gen ^ 1);
	return err;
}

int sg_generation_flip(struct sg_state *st, __u32 ng)
{
	struct sg_active act = {.gen = ng & 1};
	__u32 zero = 0;
	int err;

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
			const struct sg_apply_opts *opts, __u32 ng)
{
	struct sgctl_bpf *s = st->skel;
	int class_fd = bpf_map__fd(s->maps.sg_class);
	int rule_fd = bpf_map__fd(s->maps.sg_rule);
	int ip_fd = bpf_map__fd(s->maps.sg_ip);
	int inst_fd = bpf_map__fd(s->maps.sg_inst);
	int xclass_fd = bpf_map__fd(s->maps.sg_class_exact);
	int xrule_fd = bpf_map__fd(s->maps.sg_rule_exact);
	struct sg_class_key *ckeys = NULL;
	struct sg_class_val *cvals = NULL;
	struct sg_rule_key *rkeys = NULL;
	struct sg_rule_val *rvals = NULL;
	struct sg_class_exact_key *xckeys = NULL;
	struct sg_class_val *xcvals = NULL;
	struct sg_rule_exact_key *xrkeys = NULL;
	struct sg_rule_val *xrvals = NULL;
	struct sg_exact_plan x = {};
	struct sg_exact_sizes sizes = {};
	size_t kept_class = 0, kept_rule = 0, kept_xclass = 0, kept_xrule = 0;
	struct sg_ip_key *ipkeys = NULL;
	__u8 *ipvals = NULL;
	__u32 *ikeys = NULL;
	struct sg_inst *ivals = NULL;
	size_t nips = 0, j = 0;
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
				      &kept_class);
	if (!err)
		err = sg_map_purge_generation(
			rule_fd, sizeof(struct sg_rule_key),
			sizeof(struct sg_rule_val),
			offsetof(struct sg_rule_key, class_id), ng, &kept_rule);
	if (!err)
		err = sg_map_purge_generation(
			xclass_fd, sizeof(struct sg_class_exact_key),
			sizeof(struct sg_class_val),
			offsetof(struct sg_class_exact_key, scope), ng,
			&kept_xclass);
	if (!err)
		err = sg_map_purge_generation(
			xrule_fd, sizeof(struct sg_rule_exact_key),
			sizeof(struct sg_rule_val),
			offsetof(struct sg_rule_exact_key, class_id), ng,
			&kept_xrule);
	if (!err)
		err = sg_map_purge_generation(
			ip_fd, sizeof(struct sg_ip_key), sizeof(__u8),
			offsetof(struct sg_ip_key, gen_slot), ng, NULL);
	if (err) {
		sg_err("cannot clear stale policy generation %u: %s", ng,
		       sg_bpf_strerror(err));
		return err;
	}

	/* 2. Instances of generation ng: every slot, absent ones zeroed. */
	ikeys = calloc(SG_MAX_INSTANCES, sizeof(*ikeys));
	ivals = calloc(SG_MAX_INSTANCES, sizeof(*ivals));
	for (size_t i = 0; i < c->ninsts; i++)
		nips += c->insts[i].nips;
	if (nips > SG_IP_MAX_PER_GEN) {
		/* the compiler refuses this already (compile.c) */
		sg_err("more than %d instance addresses (limit: sg_ip holds two "
		       "generations of %d)",
		       SG_IP_MAX_PER_GEN, SG_IP_MAX_PER_GEN);
		err = -E2BIG;
		goto out;
	}
	ipkeys = calloc(nips ? nips : 1, sizeof(*ipkeys));
	ipvals = calloc(nips ? nips : 1, sizeof(*ipvals));
	ckeys = calloc(c->nclasses_entries ? c->nclasses_entries : 1,
		       sizeof(*ckeys));
	cvals = calloc(c->nclasses_entries ? c->nclasses_entries : 1,
		       sizeof(*cvals));
	rkeys = calloc(c->nrules_entries ? c->nrules_entries : 1,
		       sizeof(*rkeys));
	rvals = calloc(c->nrules_entries ? c->nrules_entries : 1,
		       sizeof(*rvals));
	sizes.class_trie = kept_class + c->nclasses_entries;
	sizes.rule_trie = kept_rule + c->nrules_entries;
	sizes.class_room =
		bpf_map__max_entries(s->maps.sg_class_exact) - kept_xclass;
	sizes.rule_room =
		bpf_map__max_entries(s->maps.sg_rule_exact) - kept_xrule;
	sizes.always = opts && opts->exact_always;
	err = sg_exact_plan_make(c, &sizes, &x);
	if (!err) {
		xckeys = calloc(x.nclass_exact ? x.nclass_exact : 1,
				sizeof(*xckeys));
		xcvals = calloc(x.nclass_exact ? x.nclass_exact : 1,
				sizeof(*xcvals));
		xrkeys = calloc(x.nrule_exact ? x.nrule_exact : 1,
				sizeof(*xrkeys));
		xrvals = calloc(x.nrule_exact ? x.nrule_exact : 1,
				sizeof(*xrvals));
	}
	if (err || !ikeys || !ivals || !ipkeys || !ipvals || !ckeys || !cvals ||
	    !rkeys || !rvals || !xckeys || !xcvals || !xrkeys || !xrvals) {
		err = -ENOMEM;
		sg_err("out of memory");
		goto out;
	}
	for (__u32 i = 0; i < SG_MAX_INSTANCES; i++)
		ikeys[i] = ng * SG_MAX_INSTANCES + i;
	for (size_t i = 0; i < c->ninsts; i++) {
		const struct sg_inst_entry *e = &c->insts[i];

		/* No slot: a remote instance, not enforced here. */
		if (slots[i] < 0 && !(e->inst.flags & SG_INST_PRESENT))
			continue;
		if (slots[i] < 0 || slots[i] >= SG_MAX_INSTANCES) {
			sg_err("internal: slot %d out of range", slots[i]);
			err = -ERANGE;
			goto out;
		}
		ivals[slots[i]] = e->inst;
		ivals[slots[i]].flags |= SG_INST_PRESENT;
		ivals[slots[i]].flags |=
			sg_exact_inst_flags(&x, e->inst.policy);
		ivals[slots[i]].flags |= sg_exact_inst_ports(
			&x, e->inst.policy, ivals[slots[i]].ports);
		for (size_t k = 0; k < e->nips; k++, j++) {
			ipkeys[j] = e->ips[k];
			ipkeys[j].gen_slot = SG_GEN_SLOT(ng, slots[i]);
			ipvals[j] = 1;
		}
	}
	err = sg_map_write(inst_fd, "sg_inst", ikeys, ivals, sizeof(*ikeys),
			   sizeof(*ivals), SG_MAX_INSTANCES);
	if (err)
		goto out;
	err = sg_map_write(ip_fd, "sg_ip", ipkeys, ipvals, sizeof(*ipkeys),
			   sizeof(*ipvals), nips);
	if (err)
		goto out;

	/*
	 * 3. Stage 1 and stage 2 of generation ng, each full-length entry
	 * also into its exact-match map. Nothing reads generation ng before
	 * the flip, so the order of the writes does not matter.
	 */
	for (size_t i = 0, k = 0; i < c->nclasses_entries; i++) {
		ckeys[i] = c->classes[i].key;
		ckeys[i].scope |= SG_GEN_BIT(ng);
		cvals[i] = c->classes[i].val;
		cvals[i].flags = sg_exact_class_flags(&x, cvals[i].class_id);
		cvals[i].class_id |= SG_GEN_BIT(ng);
		if (!x.use_class || !sg_class_entry_exact(&ckeys[i]))
			continue;
		xckeys[k].scope = ckeys[i].scope;
		memcpy(xckeys[k].addr, ckeys[i].addr, sizeof(xckeys[k].addr));
		xcvals[k++] = cvals[i];
	}
	err = sg_map_write(class_fd, "sg_class", ckeys, cvals, sizeof(*ckeys),
			   sizeof(*cvals), c->nclasses_entries);
	if (err)
		goto out;
	err = sg_map_write(xclass_fd, "sg_class_exact", xckeys, xcvals,
			   sizeof(*xckeys), sizeof(*xcvals), x.nclass_exact);
	if (err)
		goto out;
	for (size_t i = 0, k = 0; i < c->nrules_entries; i++) {
		rkeys[i] = c->rules[i].key;
		rkeys[i].class_id |= SG_GEN_BIT(ng);
		rvals[i] = c->rules[i].val;
		if (!x.use_rule || !sg_rule_entry_exact(&rkeys[i]))
			continue;
		xrkeys[k].class_id = rkeys[i].class_id;
		xrkeys[k].proto = rkeys[i].proto;
		xrkeys[k].port = rkeys[i].port;
		xrvals[k++] = rvals[i];
	}
	err = sg_map_write(rule_fd, "sg_rule", rkeys, rvals, sizeof(*rkeys),
			   sizeof(*rvals), c->nrules_entries);
	if (err)
		goto out;
	err = sg_map_write(xrule_fd, "sg_rule_exact", xrkeys, xrvals,
			   sizeof(*xrkeys), sizeof(*xrvals), x.nrule_exact);
	if (err)
		goto out;
	err = write_bloom(bpf_map__fd(s->maps.sg_exact_bloom), ng, xckeys,
			  x.nclass_exact, xrkeys, x.nrule_exact);
	if (err) {
		sg_err("cannot write sg_exact_bloom: %s", sg_bpf_strerror(err));
		goto out;
	}
out:
	free(ikeys);
	free(ivals);
	free(ipkeys);
	free(ipvals);
	free(ckeys);
	free(cvals);
	free(rkeys);
	free(rvals);
	free(xckeys);
	free(xcvals);
	free(xrkeys);
	free(xrvals);
	sg_exact_plan_free(&x);
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
