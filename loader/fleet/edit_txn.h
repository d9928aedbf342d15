/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Edit transactions: read the desired state, run one edit on it
 * (desired/edit.h, as a callback), write the result back, in one of two
 * places:
 *
 *  - etcd: the VPC's keys read at one revision, the edit made, and one
 *    transaction that writes only the keys that changed or appeared and
 *    deletes the ones gone, guarded by the mod_revision of every key it
 *    read (0 for a new key: it must not exist). When another writer came
 *    first the compare fails and nothing is written: the edit is made
 *    again on a fresh read (a few times), so two racing edits never lose
 *    one another. Not covered: a key another writer creates that this
 *    edit never read (an instance naming a group this edit deletes): the
 *    compare would need etcd's range form (range_end, MOD < revision+1),
 *    which struct sg_etcd_cmp does not have yet.
 *  - the locally loaded config: the stored config read back, edited and
 *    applied through the one apply path (sg_enforce_apply) under the
 *    state lock, the edited state stored as the new config.
 *
 * For the CLI's edit commands and, later, the console.
 */
#ifndef SG_EDIT_TXN_H
#define SG_EDIT_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "desired/edit.h"
#include "fleet/etcd.h"
#include "util/diag.h"

struct sg_edit_etcd_result {
	int64_t revision;    /* the store's revision after the write */
	char vpc[64];	     /* the VPC edited */
	size_t put, deleted; /* keys written and deleted */
	int attempts;	     /* 1 unless another writer came first */
};

/*
 * The edit fn(arg) on the desired state of vpc in etcd (vpc NULL: the
 * only VPC under /sgctl/v1/; several: an error listing them). Errors (of
 * the edit, with AWS codes, or of etcd) go to diag. 0 or a negative
 * errno; -EAGAIN when other writers won every attempt.
 */
int sg_edit_etcd(const struct sg_etcd_opts *o, const char *vpc, sg_edit_fn fn,
		 void *arg, struct sg_diag *diag,
		 struct sg_edit_etcd_result *res);

/* The VPCs that have keys under /sgctl/v1/ (malloc'ed array of malloc'ed
 * names). */
int sg_etcd_vpcs(struct sg_etcd *e, char ***vpcs, size_t *n, char **err);

/*
 * The edit fn(arg) on the config loaded in pin_dir, applied at once.
 * *gen: the policy generation the apply made live. Errors go to diag,
 * except the apply's own (printed as it reports them). -ENOENT when
 * nothing is loaded there (reported).
 */
int sg_edit_local(const char *pin_dir, sg_edit_fn fn, void *arg,
		  struct sg_diag *diag, uint32_t *gen);

#endif /* SG_EDIT_TXN_H */
