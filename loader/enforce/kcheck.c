// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The kernel side of `sgctl check` (refmodel.h): the datapath programs
 * loaded again for one instance slot with sg_dry_run set, sharing the
 * pinned maps, and run with BPF_PROG_TEST_RUN on a synthesised first
 * packet of a new flow. In dry-run mode they decide against the live
 * policy and write nothing (conntrack, counters, fragments, flow logs,
 * timer); the decision is left in the sg_dry_result .bss variable. Kept
 * apart from cmd_check.c so tests/datapath/test_check.c can use it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "compile/compile.h"
#include "state/state.h"
#include "util/diag.h"
#include "enforce/kcheck.h"

int sg_kcheck_open(struct sg_kcheck *k, const char *pin_dir, __u32 slot)
{
	struct bpf_program *prog;
	int err;

	memset(k, 0, sizeof(*k));
	if (slot >= SG_MAX_INSTANCES)
		return -ERANGE;
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	k->skel = sgctl_bpf__open_opts(&opts);
	if (!k->skel) {
		err = -errno;
		sg_err("cannot open the BPF object: %s", sg_bpf_strerror(err));
		return err;
	}
	bpf_object__for_each_program(prog, k->skel->obj)
		bpf_program__set_autoload(prog,
					  prog == k->skel->progs.sg_xdp ||
						  prog == k->skel->progs.sg_tc);
	/* NIC mode: XDP judges inbound, TC outbound; no source check. */
	k->skel->rodata->sg_slot = slot;
	k->skel->rodata->sg_host_side = 0;
	k->skel->rodata->sg_dry_run = 1;
	err = sgctl_bpf__load(k->skel);
	if (err) {
		sg_err("cannot load the programs in dry-run mode: %s",
		       sg_bpf_strerror(err));
		sgctl_bpf__destroy(k->skel);
		k->skel = NULL;
		return err;
	}
	k->slot = slot;
	return 0;
}

void sg_kcheck_close(struct sg_kcheck *k)
{
	if (k->skel)
		sgctl_bpf__destroy(k->skel);
	k->skel = NULL;
}

int sg_kcheck_run(struct sg_kcheck *k, const struct sg_ref_pkt *p,
		  const uint8_t *local, struct sg_kverdict *v)
{
	__u8 frame[128];
	size_t len = sg_ref_frame(p, local, frame, sizeof(frame));
	struct bpf_program *prog = p->dir == SG_DIR_IN ? k->skel->progs.sg_xdp
						       : k->skel->progs.sg_tc;
	struct sg_dry_result *r = &k->skel->bss->sg_dry_result;
	int err;

	memset(v, 0, sizeof(*v));
	memset(r, 0, sizeof(*r));
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame,
		    .data_size_in = (__u32)len, .repeat = 1);
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (err) {
		sg_err("cannot run the %s program on the test packet: %s",
		       p->dir == SG_DIR_IN ? "XDP" : "TC", sg_bpf_strerror(err));
		return err;
	}
	if (!r->done) {
		sg_err("the %s program ran but left no decision",
		       p->dir == SG_DIR_IN ? "XDP" : "TC");
		return -EIO;
	}
	v->counter = (int)r->counter;
	v->matched = r->matched != 0;
	v->rule_ref = r->rule_ref;
	v->rule_flags = r->rule_flags;
	return 0;
}


/* ------------------------------------------------------------ what-if */

/* "<pin dir>-whatif-<pid>": next to the live state, on the same bpffs,
 * never one a user named. */
static int scratch_dir(const char *pin_dir, char *out, size_t len)
{
	char canon[256];
	int err = sg_pin_dir_canonical(pin_dir, canon, sizeof(canon));

	if (err)
		return err;
	if (snprintf(out, len, "%s-whatif-%d", canon, (int)getpid()) >=
	    (int)len) {
		sg_err("pin directory name too long: %s", canon);
		return -ENAMETOOLONG;
	}
	return 0;
}

int sg_kscratch_open(struct sg_kscratch *s, const char *pin_dir,
		     const struct sg_config *cfg, const struct sg_compiled *c,
		     const size_t *insts, const __s64 *ct_in_use, size_t n)
{
	struct sg_state st = {};
	char dir[300];
	int *slots = NULL, err;

	memset(s, 0, sizeof(*s));
	if (n > SG_KSCRATCH_MAX || c->ninsts != cfg->ninstances)
		return -EINVAL;
	err = scratch_dir(pin_dir, dir, sizeof(dir));
	if (err)
		return err;
	/* A scratch of a killed run with this pid: not ours to reuse. */
	if (sg_state_exists(dir)) {
		err = sg_state_remove(dir);
		if (err)
			return err;
	}
	slots = calloc(cfg->ninstances ? cfg->ninstances : 1, sizeof(*slots));
	if (!slots) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	err = sg_state_open(&st, dir, -1, false);
	if (err)
		goto out;
	for (size_t i = 0; i < cfg->ninstances; i++) {
		slots[i] = -1;
		if (cfg->instances[i].remote)
			continue;
		slots[i] = sg_slot_get(&st, cfg->instances[i].id, true);
		if (slots[i] < 0) {
			err = slots[i];
			goto out;
		}
	}
	err = sg_state_apply(&st, c, slots, cfg->ninstances);
	for (size_t i = 0; !err && i < n; i++) {
		int slot = slots[insts[i]];

		if (slot < 0) {
			sg_err("internal: instance %s has no scratch slot",
			       cfg->instances[insts[i]].id);
			err = -EINVAL;
			break;
		}
		err = sg_ct_count_write(&st, (__u32)slot, ct_in_use[i]);
		if (!err)
			err = sg_kcheck_open(&s->k[i], dir, (__u32)slot);
		if (!err)
			s->nk = i + 1;
	}
out:
	/* The open programs hold the maps: the pins can go now. */
	sg_state_close(&st);
	if (sg_state_remove(dir) && !err)
		err = -EIO;
	free(slots);
	return err;
}

void sg_kscratch_close(struct sg_kscratch *s)
{
	for (size_t i = 0; i < SG_KSCRATCH_MAX; i++)
		sg_kcheck_close(&s->k[i]);
	s->nk = 0;
}
