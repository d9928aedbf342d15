/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The conntrack table as the tests see it: one wide key (struct sg_ct_key)
 * for both maps, IPv4 flows in sg_ct4 and IPv6 flows in sg_ct, as the
 * datapath keeps them.
 */
#ifndef SG_TEST_CT_VIEW_H
#define SG_TEST_CT_VIEW_H

#include <stdbool.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sgctl.h"
#include "sgctl.skel.h"
#include "state/state.h"

static inline bool ct_view_get(struct sgctl_bpf *sk, const struct sg_ct_key *k,
			       struct sg_ct_val *v)
{
	struct sg_ct4_key k4;

	if (k->family == 4) {
		sg_ct4_key_of(k, &k4);
		/* With what the flow caches counted, as readers see it. */
		return !bpf_map_lookup_elem(bpf_map__fd(sk->maps.sg_ct4), &k4,
					    v) &&
		       !sg_flow_cache_merge(bpf_map__fd(sk->maps.sg_flow_cache),
					    &k4, v, 1);
	}
	return !bpf_map_lookup_elem(bpf_map__fd(sk->maps.sg_ct), k, v);
}

static inline int ct_view_put(struct sgctl_bpf *sk, const struct sg_ct_key *k,
			      const struct sg_ct_val *v, __u64 flags)
{
	struct sg_ct4_key k4;

	if (k->family == 4) {
		sg_ct4_key_of(k, &k4);
		return bpf_map_update_elem(bpf_map__fd(sk->maps.sg_ct4), &k4, v,
					   flags);
	}
	return bpf_map_update_elem(bpf_map__fd(sk->maps.sg_ct), k, v, flags);
}

/* Entries of slot (any slot when slot < 0) in both maps. */
static inline int ct_view_count(struct sgctl_bpf *sk, long slot)
{
	struct sg_ct4_key k4, n4;
	struct sg_ct_key k, n;
	int fd4 = bpf_map__fd(sk->maps.sg_ct4),
	    fd = bpf_map__fd(sk->maps.sg_ct);
	void *prev = NULL;
	int count = 0;

	while (!bpf_map_get_next_key(fd4, prev, &n4)) {
		k4 = n4;
		prev = &k4;
		count += slot < 0 || k4.slot == slot;
	}
	prev = NULL;
	while (!bpf_map_get_next_key(fd, prev, &n)) {
		k = n;
		prev = &k;
		count += slot < 0 || k.slot == slot;
	}
	return count;
}

/* Deletes every entry of both maps, as the loader does (epoch too). */
static inline void ct_view_clear(struct sgctl_bpf *sk)
{
	struct bpf_map *maps[] = {sk->maps.sg_ct4, sk->maps.sg_ct};
	char key[sizeof(struct sg_ct_key)];

	for (int i = 0; i < 2; i++) {
		int fd = bpf_map__fd(maps[i]);

		while (!bpf_map_get_next_key(fd, NULL, key))
			if (bpf_map_delete_elem(fd, key))
				break;
	}
	sg_ct_epoch_bump(bpf_map__fd(sk->maps.sg_active));
}

#endif /* SG_TEST_CT_VIEW_H */
