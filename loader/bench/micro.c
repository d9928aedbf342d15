// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * bench micro: what a packet costs sg_xdp. The real program, its maps
 * filled by the real parser and compiler from generated configs (gen.c)
 * in a temporary pin directory, run with BPF_PROG_TEST_RUN and `repeat`;
 * an empty XDP program (r0 = XDP_PASS; exit) is the floor, measured in the
 * same run, and so is the reference stateful program (bpf/refstate.bpf.c:
 * parse, one hash lookup of the flow, one per-CPU counter) on the
 * established frame, the least any stateful filter pays. Cases:
 *   established  an ACK of a TCP flow past its handshake (SYN in, SYN-ACK
 *                out through sg_tc, one ACK), the live program
 *   new-accept   a SYN a rule allows, the program in dry-run mode
 *   new-reject   a SYN no rule allows (the source is in a class, the port
 *                is not), dry-run mode
 * Dry run (.rodata sg_dry_run = 1) decides without writing any map, so
 * every repetition is really a new flow: the policy path alone (parse,
 * conntrack miss, the two LPM lookups), not the conntrack insert.
 * Figures are medians of `runs` runs of `repeat` packets.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"
#include "refstate.skel.h"

#include "bench/priv.h"
#include "compile/compile.h"
#include "config/model.h"
#include "state/state.h"
#include "util/diag.h"

#define XDP_DROP_RC 1
#define XDP_PASS_RC 2

const char *const bench_case_names[BENCH_NCASES] = {"established", "new-accept",
						    "new-reject"};

/* The programs again over the same pins, in dry-run mode. */
static struct sgctl_bpf *open_dry(const char *pin_dir)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .pin_root_path = pin_dir);
	struct bpf_program *prog;
	struct sgctl_bpf *s;
	int err;

	s = sgctl_bpf__open_opts(&opts);
	if (!s) {
		sg_err("cannot open the BPF object: %s",
		       sg_bpf_strerror(-errno));
		return NULL;
	}
	bpf_object__for_each_program(prog, s->obj)
		bpf_program__set_autoload(prog, prog == s->progs.sg_xdp);
	s->rodata->sg_slot = 0;
	s->rodata->sg_dry_run = 1;
	err = sgctl_bpf__load(s);
	if (err) {
		sg_err("cannot load the dry-run program: %s",
		       sg_bpf_strerror(err));
		sgctl_bpf__destroy(s);
		return NULL;
	}
	return s;
}

static int test_run(int fd, const void *buf, size_t len, __u32 repeat,
		    __u32 *retval, double *ns)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (__u32)len, .repeat = repeat);
	int err = bpf_prog_test_run_opts(fd, &o);

	if (err) {
		sg_err("BPF_PROG_TEST_RUN: %s", sg_bpf_strerror(err));
		return err;
	}
	if (retval)
		*retval = o.retval;
	if (ns)
		*ns = o.duration;
	return 0;
}

static __u64 est_count(struct sg_state *st)
{
	struct sg_counter_val v[SG_NDIR][SG_NCOUNTERS];

	if (sg_stats_read(st, 0, v))
		return 0;
	return v[SG_DIR_IN][SG_CNT_ACCEPT_ESTABLISHED].packets;
}

/* Checks each case decides as intended, once, before timing it. */
static int micro_check(struct sg_state *st, struct sgctl_bpf *dry,
		       const __u8 (*frames)[BENCH_FRAME_MAX],
		       const size_t *lens, const __u8 *syn, size_t syn_len,
		       const __u8 *synack, size_t synack_len)
{
	int live = bpf_program__fd(st->skel->progs.sg_xdp);
	int dfd = bpf_program__fd(dry->progs.sg_xdp);
	__u32 rv;
	__u64 before;
	size_t flushed;
	int err;

	err = sg_ct_flush(st, NULL, 0, &flushed);
	if (err)
		return err;
	/* The established flow: its SYN through the live program. */
	err = test_run(live, syn, syn_len, 1, &rv, NULL);
	if (err)
		return err;
	if (rv != XDP_PASS_RC) {
		sg_err("bench: the flow's SYN was dropped (verdict %u)", rv);
		return -EPROTO;
	}
	/* The instance's SYN-ACK, out through sg_tc: now it is established. */
	err = test_run(bpf_program__fd(st->skel->progs.sg_tc), synack,
		       synack_len, 1, &rv, NULL);
	if (err)
		return err;
	if (rv != 0 /* TC_ACT_OK */) {
		sg_err("bench: the flow's SYN-ACK was dropped (verdict %u)",
		       rv);
		return -EPROTO;
	}
	before = est_count(st);
	err = test_run(live, frames[BENCH_CASE_EST], lens[BENCH_CASE_EST], 1,
		       &rv, NULL);
	if (!err && (rv != XDP_PASS_RC || est_count(st) != before + 1)) {
		sg_err("bench: the established case is not established");
		return -EPROTO;
	}
	dry->bss->sg_dry_result.done = 0;
	err = test_run(dfd, frames[BENCH_CASE_ACC], lens[BENCH_CASE_ACC], 1,
		       &rv, NULL);
	if (!err && (rv != XDP_PASS_RC || !dry->bss->sg_dry_result.done ||
		     dry->bss->sg_dry_result.counter != SG_CNT_ACCEPT_NEW)) {
		sg_err("bench: the new-accept case is not a new accepted "
		       "flow (counter %u)",
		       dry->bss->sg_dry_result.counter);
		return -EPROTO;
	}
	dry->bss->sg_dry_result.done = 0;
	err = test_run(dfd, frames[BENCH_CASE_REJ], lens[BENCH_CASE_REJ], 1,
		       &rv, NULL);
	if (!err && (rv != XDP_DROP_RC || !dry->bss->sg_dry_result.done ||
		     dry->bss->sg_dry_result.counter != SG_CNT_DROP_NO_RULE)) {
		sg_err("bench: the new-reject case is not rejected by policy "
		       "(counter %u)",
		       dry->bss->sg_dry_result.counter);
		return -EPROTO;
	}
	return err;
}

/* The reference program, tracking the flow of the established frame. */
static int ref_track(struct refstate_bpf *rs, const __u8 *frame)
{
	struct {
		__u32 saddr, daddr;
		__u16 sport, dport;
		__u32 proto;
	} k = {};
	__u32 one = 1;

	memcpy(&k.saddr, frame + 14 + 12, 4);
	memcpy(&k.daddr, frame + 14 + 16, 4);
	memcpy(&k.sport, frame + 14 + 20, 2);
	memcpy(&k.dport, frame + 14 + 22, 2);
	k.proto = 6;
	if (bpf_map_update_elem(bpf_map__fd(rs->maps.rs_flows), &k, &one, 0)) {
		sg_err("bench: cannot track the reference flow: %s",
		       sg_bpf_strerror(-errno));
		return -errno;
	}
	return 0;
}

static int micro_one(struct sg_state *st, struct sgctl_bpf *dry, int floor_fd,
		     struct refstate_bpf *rs, int rules, int members, int runs,
		     __u32 repeat, struct bench_micro_row *row, double *floors,
		     double *refs, size_t *nfloors)
{
	struct bench_micro_cfg g = {.rules = rules, .members = members};
	struct bench_target t;
	struct sg_config cfg;
	struct sg_compiled c;
	__u8 frames[BENCH_NCASES][BENCH_FRAME_MAX], syn[BENCH_FRAME_MAX];
	__u8 synack[BENCH_FRAME_MAX];
	size_t lens[BENCH_NCASES], syn_len, synack_len;
	double *v = calloc((size_t)runs * BENCH_NCASES, sizeof(*v));
	char *text = NULL;
	size_t len;
	int err, fds[BENCH_NCASES];
	struct bench_frame_spec fs = {
		.daddr = 0xc613ff01u, /* BENCH_INSTANCE_IP */
		.proto = 6,
		.size = 64,
	};

	if (!v)
		return -ENOMEM;
	err = bench_gen_micro(&g, &text, &len, &t);
	if (!err)
		err = bench_compile_text(text, len, &cfg, &c, NULL, NULL);
	free(text);
	if (err) {
		free(v);
		return err;
	}
	err = bench_apply(st, &c, true);
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	if (err) {
		free(v);
		return err;
	}

	fs.saddr = t.accept_src;
	fs.sport = 40000;
	fs.dport = t.accept_port;
	fs.tcp_flags = 0x02; /* SYN */
	syn_len = bench_frame_build(&fs, syn);
	{
		struct bench_frame_spec back = fs;

		back.saddr = fs.daddr;
		back.daddr = fs.saddr;
		back.sport = fs.dport;
		back.dport = fs.sport;
		back.tcp_flags = 0x12; /* SYN|ACK */
		synack_len = bench_frame_build(&back, synack);
	}
	fs.tcp_flags = 0x10; /* ACK */
	lens[BENCH_CASE_EST] = bench_frame_build(&fs, frames[BENCH_CASE_EST]);
	fs.sport = 40001;
	fs.tcp_flags = 0x02;
	lens[BENCH_CASE_ACC] = bench_frame_build(&fs, frames[BENCH_CASE_ACC]);
	fs.sport = 40002;
	fs.dport = BENCH_REJECT_PORT;
	lens[BENCH_CASE_REJ] = bench_frame_build(&fs, frames[BENCH_CASE_REJ]);

	err = micro_check(st, dry, (const __u8(*)[BENCH_FRAME_MAX])frames, lens,
			  syn, syn_len, synack, synack_len);
	if (err) {
		free(v);
		return err;
	}
	err = ref_track(rs, frames[BENCH_CASE_EST]);
	if (!err) {
		__u32 rv = 0;

		err = test_run(bpf_program__fd(rs->progs.rs_xdp),
			       frames[BENCH_CASE_EST], lens[BENCH_CASE_EST], 1,
			       &rv, NULL);
		if (!err && rv != XDP_PASS_RC) {
			sg_err("bench: the reference program drops the flow");
			err = -EPROTO;
		}
	}
	if (err) {
		free(v);
		return err;
	}
	fds[BENCH_CASE_EST] = bpf_program__fd(st->skel->progs.sg_xdp);
	fds[BENCH_CASE_ACC] = fds[BENCH_CASE_REJ] =
		bpf_program__fd(dry->progs.sg_xdp);

	/* Interleaved: a noisy neighbour hits every case alike. */
	for (int r = 0; r < runs && !err; r++) {
		double f;

		err = test_run(floor_fd, frames[BENCH_CASE_EST],
			       lens[BENCH_CASE_EST], repeat, NULL, &f);
		if (!err)
			floors[*nfloors] = f;
		if (!err)
			err = test_run(bpf_program__fd(rs->progs.rs_xdp),
				       frames[BENCH_CASE_EST],
				       lens[BENCH_CASE_EST], repeat, NULL,
				       &refs[*nfloors]);
		if (!err)
			(*nfloors)++;
		for (int k = 0; k < BENCH_NCASES && !err; k++)
			err = test_run(fds[k], frames[k], lens[k], repeat, NULL,
				       &v[k * runs + r]);
	}
	row->rules = rules;
	row->members = members;
	for (int k = 0; k < BENCH_NCASES; k++)
		row->ns[k] = bench_median(v + k * runs, (size_t)runs);
	free(v);
	return err;
}

static int floor_prog(void)
{
	struct bpf_insn pass[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K,
		 .dst_reg = BPF_REG_0,
		 .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_XDP, "sg_bench_floor", "GPL", pass,
			       2, NULL);

	if (fd < 0)
		sg_err("cannot load the floor program: %s",
		       sg_bpf_strerror(fd));
	return fd;
}

int bench_micro(const struct bench_micro_opts *o, struct bench_micro_result *r)
{
	size_t ncombos = (size_t)o->nrules * (size_t)o->nmembers;
	struct sgctl_bpf *dry = NULL;
	struct refstate_bpf *rs = NULL;
	struct sg_state st = {};
	double *floors = NULL, *refs = NULL;
	size_t nfloors = 0;
	int floor_fd = -1, err;

	memset(r, 0, sizeof(*r));
	r->rows = calloc(ncombos ? ncombos : 1, sizeof(*r->rows));
	floors = calloc(ncombos * (size_t)o->runs + 1, sizeof(*floors));
	refs = calloc(ncombos * (size_t)o->runs + 1, sizeof(*refs));
	if (!r->rows || !floors || !refs) {
		sg_err("out of memory");
		err = -ENOMEM;
		goto out;
	}
	floor_fd = floor_prog();
	if (floor_fd < 0) {
		err = floor_fd;
		goto out;
	}
	rs = refstate_bpf__open_and_load();
	if (!rs) {
		err = -errno;
		sg_err("cannot load the reference program: %s",
		       sg_bpf_strerror(err));
		goto out;
	}
	err = bench_state_open(&st);
	if (err)
		goto out;
	dry = open_dry(st.pin_dir);
	if (!dry) {
		err = -EINVAL;
		goto out;
	}
	for (int m = 0; m < o->nmembers; m++) {
		for (int k = 0; k < o->nrules; k++) {
			err = micro_one(&st, dry, floor_fd, rs, o->rules[k],
					o->members[m], o->runs, o->repeat,
					&r->rows[r->nrows], floors, refs,
					&nfloors);
			if (err) {
				sg_err("bench micro: rules %d, members %d "
				       "failed",
				       o->rules[k], o->members[m]);
				goto out;
			}
			r->nrows++;
		}
	}
	r->floor_ns = bench_median(floors, nfloors);
	r->ref_ns = bench_median(refs, nfloors);
out:
	if (rs)
		refstate_bpf__destroy(rs);
	if (dry)
		sgctl_bpf__destroy(dry);
	if (st.skel)
		sg_state_close(&st);
	bench_state_cleanup();
	if (floor_fd >= 0)
		close(floor_fd);
	free(floors);
	free(refs);
	if (err)
		bench_micro_result_free(r);
	return err;
}

void bench_micro_result_free(struct bench_micro_result *r)
{
	free(r->rows);
	r->rows = NULL;
	r->nrows = 0;
}
