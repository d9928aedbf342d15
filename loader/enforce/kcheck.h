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

#include "compile/refmodel.h"

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
#endif /* SG_KCHECK_H */
