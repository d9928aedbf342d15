// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench control: what a load costs. A generated control-plane shape
 * (gen.c) is parsed, compiled and applied into a temporary state, then
 * again with one instance joining sg-hub, the group every other one
 * references; the maps' memlock is read empty and loaded. Then the same
 * membership change through the apply entry point with a cache, as an
 * agent applies it: written in place into the live generation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <bpf/libbpf.h>

#include "state/skel.h"

#include "bench/priv.h"
#include "compile/compile.h"
#include "config/model.h"
#include "enforce/apply.h"
#include "state/state.h"
#include "util/diag.h"

/* memlock of a map, as bpftool map show prints it (from fdinfo). */
static __u64 memlock(int fd)
{
	char path[64], line[256];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "memlock: %llu", &v) == 1)
			break;
	fclose(f);
	return v;
}

/* Generates, compiles and applies one shape; times each step, and counts
 * what it compiled to when counts is set. */
static int load_once(struct sg_state *st, const struct bench_cp_cfg *cp,
		     struct bench_times *t, struct bench_control_result *counts)
{
	struct sg_config cfg;
	struct sg_compiled c;
	char *text = NULL;
	size_t len;
	double t0;
	int err;

	if (bench_gen_cp(cp, &text, &len)) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	err = bench_compile_text(text, len, &cfg, &c, &t->parse, &t->compile);
	free(text);
	if (err)
		return err;
	if (counts) {
		counts->policies = c.npolicies;
		counts->class_entries = c.nclasses_entries;
		counts->rule_entries = c.nrules_entries;
	}
	t0 = bench_now();
	err = bench_apply(st, &c, false);
	t->apply = bench_now() - t0;
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	return err;
}

/* Applies one shape through sg_enforce_apply (mode, cache), timing the
 * parse, the compile and the writes. */
static int apply_once(struct sg_state *st, const struct bench_cp_cfg *cp,
		      struct sg_apply_cache *cache, enum sg_apply_mode mode,
		      struct bench_change *out)
{
	struct sg_apply_result res;
	struct sg_config cfg;
	struct sg_diag diag;
	char *text = NULL;
	size_t len;
	double t0;
	int err;

	if (bench_gen_cp(cp, &text, &len)) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	memset(&cfg, 0, sizeof(cfg));
	sg_diag_init(&diag);
	t0 = bench_now();
	err = sg_config_parse_string("bench.yaml", text, len, &cfg, &diag);
	if (out)
		out->parse = bench_now() - t0;
	if (err || diag.nerrors) {
		sg_diag_print(&diag, stderr);
		err = err ? err : -EINVAL;
		goto out;
	}
	err = sg_enforce_apply(st, &cfg,
			       &(struct sg_apply_req){.label = "bench.yaml",
						      .text = text,
						      .len = len,
						      .cache = cache,
						      .mode = mode},
			       &res);
	if (!err && out) {
		out->compile = res.compile_s;
		out->write = res.commit_s;
		out->incremental = res.incremental;
		out->written = res.entries_written;
		out->deleted = res.entries_deleted;
	}
out:
	sg_diag_free(&diag);
	sg_config_free(&cfg);
	free(text);
	return err;
}

#define BENCH_CHANGE_RUNS 5

int bench_control(const struct bench_cp_cfg *cp, struct bench_control_result *r)
{
	double jw[BENCH_CHANGE_RUNS], lw[BENCH_CHANGE_RUNS];
	struct sg_apply_cache cache = {};
	struct bench_cp_cfg join = *cp;
	struct sg_state st = {};
	struct bpf_map *map;
	struct rusage ru;
	int err;

	memset(r, 0, sizeof(*r));
	err = bench_state_open(&st);
	if (err)
		goto out;
	bpf_object__for_each_map(map, st.skel->obj)
	{
		if (bpf_map__is_internal(map) || r->nmem >= BENCH_MAX_MAPS)
			continue;
		snprintf(r->mem[r->nmem].name, sizeof(r->mem[0].name), "%s",
			 bpf_map__name(map));
		r->mem[r->nmem++].before = memlock(bpf_map__fd(map));
	}

	/* The config as loaded first. */
	err = load_once(&st, cp, &r->load, r);
	if (err)
		goto out;
	for (size_t i = 0; i < r->nmem; i++) {
		struct bpf_map *m = bpf_object__find_map_by_name(
			st.skel->obj, r->mem[i].name);

		r->mem[i].after = m ? memlock(bpf_map__fd(m)) : 0;
	}

	/* One instance joins sg-hub, which every group references. */
	join.join = 1;
	err = load_once(&st, &join, &r->join, NULL);
	if (err)
		goto out;

	/* The same change as an agent applies it: the config through the
	 * apply entry point (a new generation, the cache filled), then the
	 * join and the leave in place; last the join as a new generation,
	 * for the entries that writes. */
	err = apply_once(&st, cp, &cache, SG_APPLY_AUTO, NULL);
	for (int i = 0; !err && i < BENCH_CHANGE_RUNS; i++) {
		struct bench_change c;

		err = apply_once(&st, &join, &cache, SG_APPLY_AUTO, &c);
		jw[i] = c.write;
		r->join_inc = c;
		if (!err)
			err = apply_once(&st, cp, &cache, SG_APPLY_AUTO, &c);
		lw[i] = c.write;
		r->leave_inc = c;
	}
	/* The median of the runs: an agent applies change after change. */
	r->join_inc.write = bench_median(jw, BENCH_CHANGE_RUNS);
	r->leave_inc.write = bench_median(lw, BENCH_CHANGE_RUNS);
	if (!err)
		err = apply_once(&st, &join, NULL, SG_APPLY_FULL,
				 &r->join_full);
	if (err)
		goto out;
	getrusage(RUSAGE_SELF, &ru);
	r->max_rss_kib = ru.ru_maxrss;
out:
	sg_apply_cache_free(&cache);
	if (st.skel)
		sg_state_close(&st);
	bench_state_cleanup();
	return err;
}
