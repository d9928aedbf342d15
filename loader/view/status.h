/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * status's answer (`sgctl status`, GET /api/hosts): every agent of a VPC,
 * from the status keys they publish (fleet/agent.h): its applied
 * revision, how far behind the desired state it is, when it applied, and
 * the error (with its key) that stopped it.
 */
#ifndef SG_VIEW_STATUS_H
#define SG_VIEW_STATUS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet/agent.h"
#include "fleet/etcd.h"
#include "out/json.h"

struct sg_status {
	char *vpc;
	int64_t revision;	  /* the store's */
	int64_t desired_revision; /* the desired state last changed */
	struct sg_agent_status *hosts;
	size_t nhosts;
	int64_t *revs; /* the desired state's revisions, sorted, unique */
	size_t nrevs;
};

/* Reads the VPC's keys. 0, or a negative errno with *why (malloc'ed)
 * when etcd said why. Free s either way. */
int sg_status_read(struct sg_etcd *e, const char *vpc, struct sg_status *s,
		   char **why);
void sg_status_free(struct sg_status *s);

/*
 * Host i's lag: how many revisions that changed the desired state (as the
 * keys under the prefix show them: the mod_revision of each object) came
 * after the one it applied; 0 = in sync.
 */
size_t sg_status_lag(const struct sg_status *s, size_t i);

/* `status -j`'s object into j; the text table on out. */
void sg_status_json(const struct sg_status *s, struct sg_json *j);
void sg_status_print(const struct sg_status *s, FILE *out);

#endif /* SG_VIEW_STATUS_H */
