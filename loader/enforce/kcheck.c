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

static void put16(__u8 *p, unsigned int v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

/* Ethernet + IP + the first bytes of L4; returns the frame length. */
static size_t build_frame(const struct sg_ref_pkt *p, const __u8 *local,
			  __u8 *f, size_t cap)
{
	const __u8 *src = p->dir == SG_DIR_IN ? p->remote : local;
	const __u8 *dst = p->dir == SG_DIR_IN ? local : p->remote;
	size_t l3 = 14, ihl = p->family == 6 ? 40 : 20, l4len;
	__u8 *ip = f + l3, *l4 = f + l3 + ihl;

	memset(f, 0, cap);
	/* locally administered MACs */
	f[0] = 0x02;
	f[5] = 0x01;
	f[6] = 0x02;
	f[11] = 0x02;
	put16(f + 12, p->family == 6 ? 0x86dd : 0x0800);

	if (p->proto == 6) {
		put16(l4, (unsigned int)p->sport);
		put16(l4 + 2, (unsigned int)p->dport);
		l4[7] = 1; /* seq */
		l4[12] = 5 << 4;
		l4[13] = 0x02; /* SYN: the first packet of a new flow */
		put16(l4 + 14, 64240);
		l4len = 20;
	} else if (p->proto == 17) {
		put16(l4, (unsigned int)p->sport);
		put16(l4 + 2, (unsigned int)p->dport);
		put16(l4 + 4, 8 + 16);
		l4len = 8 + 16;
	} else if (sg_ref_is_icmp(p->family, p->proto)) {
		l4[0] = (__u8)p->icmp_type;
		l4[1] = (__u8)p->icmp_code;
		put16(l4 + 4, (unsigned int)p->sport); /* echo id */
		put16(l4 + 6, 1);
		l4len = 8 + 16;
	} else {
		l4len = 16; /* some payload of an unknown protocol */
	}
	if (p->family == 6) {
		ip[0] = 0x60;
		put16(ip + 4, (unsigned int)l4len);
		ip[6] = (__u8)p->proto;
		ip[7] = 64;
		memcpy(ip + 8, src, 16);
		memcpy(ip + 24, dst, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (unsigned int)(20 + l4len));
		put16(ip + 4, 1);
		put16(ip + 6, 0x4000); /* DF, not a fragment */
		ip[8] = 64;
		ip[9] = (__u8)p->proto;
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
	}
	/* at least 60 bytes, as on the wire */
	return l3 + ihl + l4len < 60 ? 60 : l3 + ihl + l4len;
}

int sg_kcheck_run(struct sg_kcheck *k, const struct sg_ref_pkt *p,
		  const uint8_t *local, struct sg_kverdict *v)
{
	__u8 frame[128];
	size_t len = build_frame(p, local, frame, sizeof(frame));
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

