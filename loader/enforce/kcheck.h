/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel side of `check`: the loaded programs in their dry-run mode,
 * which read the pinned maps and write nothing. compile/refmodel.h gives
 * the model's verdict that this one is compared with.
 */
#ifndef SG_KCHECK_H
#define SG_KCHECK_H

#include <linux/types.h>
#include <stdint.h>

#include "compile/compile.h"
#include "compile/refmodel.h"
#include "config/model.h"

struct sgctl_bpf;

struct sg_kcheck {
	struct sgctl_bpf *skel; /* dry-run copy of the programs */
	__u32 slot;
};

/*
 * Loads sg_xdp and sg_tc in dry-run mode for slot, sharing the maps pinned
 * in pin_dir. They read conntrack count, policy and settings, and write
 * nothing: no conntrack, counter, fragment, flow-log or timer update.
 */
int sg_kcheck_open(struct sg_kcheck *k, const char *pin_dir, __u32 slot);
void sg_kcheck_close(struct sg_kcheck *k);
/*
 * Runs the packet p would be (local: the instance's address, same family)
 * through the inbound or outbound program. Returns 0 and fills *v, or a
 * negative errno.
 */
int sg_kcheck_run(struct sg_kcheck *k, const struct sg_ref_pkt *p,
		  const uint8_t *local, struct sg_kverdict *v);

/*
 * What-if (`check --config`): a scratch state holding a candidate config,
 * never the loaded one. It is pinned in a directory of its own next to
 * pin_dir only while its maps are written and the dry-run programs open
 * them; sg_kscratch_open removes the pins and the directory before it
 * returns, so nothing is left behind whatever happens next, and the maps
 * live as long as the programs hold them.
 */
#define SG_KSCRATCH_MAX 2 /* instances judged: a path has two ends */

struct sg_kscratch {
	struct sg_kcheck k[SG_KSCRATCH_MAX];
	size_t nk;
};

/*
 * Writes c (compiled from cfg; every instance not marked remote gets a
 * scratch slot) into a scratch state and opens the dry-run programs on it
 * for cfg instances insts[0..n) (none remote). ct_in_use[i]: the flows
 * insts[i] tracks now (written as its scratch sg_ct_count, so a full
 * table is judged as it would be live). Reports every failure; returns 0
 * or a negative errno. Close with sg_kscratch_close even on failure.
 */
int sg_kscratch_open(struct sg_kscratch *s, const char *pin_dir,
		     const struct sg_config *cfg, const struct sg_compiled *c,
		     const size_t *insts, const __s64 *ct_in_use, size_t n);
void sg_kscratch_close(struct sg_kscratch *s);

#endif /* SG_KCHECK_H */
