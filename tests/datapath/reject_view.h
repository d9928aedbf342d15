/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow-log records of rejects as `sgctl flowlog` reads them: sg_reject plus
 * each CPU's pending counts of a run (sg_reject_dump), for slot 0.
 */
#ifndef SG_TEST_REJECT_VIEW_H
#define SG_TEST_REJECT_VIEW_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>

#include "sgctl.h"
#include "sgctl.skel.h"
#include "state/state.h"

/* Every record of slot 0, merged; free both arrays. */
static inline size_t reject_view(struct sgctl_bpf *sk,
				 struct sg_reject_key **keys,
				 struct sg_reject_val **vals)
{
	const __u32 slot0 = 0;
	size_t n;

	cr_assert_eq(sg_reject_dump(bpf_map__fd(sk->maps.sg_reject),
				    bpf_map__fd(sk->maps.sg_reject_budget),
				    &slot0, 1, keys, vals, &n),
		     0);
	return n;
}

/* The merged record of key k, if any. */
static inline bool reject_view_get(struct sgctl_bpf *sk,
				   const struct sg_reject_key *k,
				   struct sg_reject_val *v)
{
	struct sg_reject_key *keys;
	struct sg_reject_val *vals;
	size_t n = reject_view(sk, &keys, &vals);
	bool found = false;

	for (size_t i = 0; i < n && !found; i++)
		if (!memcmp(&keys[i], k, sizeof(*k))) {
			*v = vals[i];
			found = true;
		}
	free(keys);
	free(vals);
	return found;
}

#endif /* SG_TEST_REJECT_VIEW_H */
