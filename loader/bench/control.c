// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench control: what a load costs. A generated control-plane shape
 * (gen.c) is parsed, compiled and applied into a temporary state, then
 * again with one instance joining sg-hub, the group every other one
 * references; the maps' memlock is read empty and loaded.
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

int bench_control(const struct bench_cp_cfg *cp, struct bench_control_result *r)
{
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
	getrusage(RUSAGE_SELF, &ru);
	r->max_rss_kib = ru.ru_maxrss;
out:
	if (st.skel)
		sg_state_close(&st);
	bench_state_cleanup();
	return err;
}
