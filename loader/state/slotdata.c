// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * What the datapath keeps per slot: conntrack entries and their count,
 * fragment verdicts, rejected-flow records, counters. Read, flushed, and
 * forgotten when a slot is released.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "util/diag.h"
#include "state/internal.h"
#include "state/state.h"
#include "state/rulehits.h"

int sg_ct_dump(struct sg_state *st, struct sg_ct_key **keys,
	       struct sg_ct_val **vals, size_t *n)
{
	struct sg_ct4_key *k4 = NULL;
	struct sg_ct_val *v4 = NULL, *nv;
	struct sg_ct_key *nk;
	size_t n4 = 0;
	int err;

	*keys = NULL;
	*vals = NULL;
	*n = 0;
	err = sg_map_dump(bpf_map__fd(st->skel->maps.sg_ct4), sizeof(*k4),
			  sizeof(*v4), (void **)&k4, (void **)&v4, &n4);
	if (!err)
		err = sg_map_dump(bpf_map__fd(st->skel->maps.sg_ct),
				  sizeof(**keys), sizeof(**vals), (void **)keys,
				  (void **)vals, n);
	if (!err && n4)
		err = sg_flow_cache_merge(
			bpf_map__fd(st->skel->maps.sg_flow_cache), k4, v4, n4);
	if (err) {
		sg_err("cannot read the conntrack table: %s",
		       sg_bpf_strerror(err));
		goto fail;
	}
	/* The IPv4 entries after the IPv6 ones, widened. */
	nk = realloc(*keys, (*n + n4 + 1) * sizeof(*nk));
	if (nk)
		*keys = nk;
	nv = realloc(*vals, (*n + n4 + 1) * sizeof(*nv));
	if (nv)
		*vals = nv;
	if (!nk || !nv) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n4; i++) {
		sg_ct_key_of4(&k4[i], &nk[*n]);
		nv[(*n)++] = v4[i];
	}
	free(k4);
	free(v4);
	return 0;
fail:
	free(k4);
	free(v4);
	free(*keys);
	free(*vals);
	*keys = NULL;
	*vals = NULL;
	*n = 0;
	return err;
}

int sg_ct_delete(struct sg_state *st, const struct sg_ct_key *keys, size_t n)
{
	struct sg_ct4_key *k4 = calloc(n + 1, sizeof(*k4));
	struct sg_ct_key *k6 = calloc(n + 1, sizeof(*k6));
	size_t n4 = 0, n6 = 0;
	int err;

	if (!k4 || !k6) {
		free(k4);
		free(k6);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (keys[i].family == 4)
			sg_ct4_key_of(&keys[i], &k4[n4++]);
		else
			k6[n6++] = keys[i];
	}
	err = sg_map_delete_keys(bpf_map__fd(st->skel->maps.sg_ct4), k4,
				 sizeof(*k4), n4);
	if (!err)
		err = sg_map_delete_keys(bpf_map__fd(st->skel->maps.sg_ct), k6,
					 sizeof(*k6), n6);
	if (!err && n)
		err = sg_ct_epoch_bump(bpf_map__fd(st->skel->maps.sg_active));
	free(k4);
	free(k6);
	return err;
}

/*
 * Deletes the tracked flows of slots (all slots when nslots is 0); gone
 * (may be NULL) gets what was deleted.
 */
static int ct_delete_slots(struct sg_state *st, const __u32 *slots,
			   size_t nslots, struct sg_ct_key **gone,
			   struct sg_ct_val **gone_vals, size_t *ngone)
{
	struct sg_ct_key *keys = NULL;
	struct sg_ct_val *vals = NULL;
	size_t n, m = 0;
	int err;

	err = sg_ct_dump(st, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		if (nslots && !sg_in_slots(keys[i].slot, slots, nslots))
			continue;
		vals[m] = vals[i];
		keys[m++] = keys[i];
	}
	err = sg_ct_delete(st, keys, m);
	if (err)
		sg_err("cannot delete conntrack entries: %s",
		       sg_bpf_strerror(err));
	if (!err && gone) {
		*gone = keys;
		*gone_vals = vals;
		*ngone = m;
		return 0;
	}
	free(keys);
	free(vals);
	return err;
}

int sg_state_forget_slots(struct sg_state *st, const __u32 *slots, size_t n)
{
	struct sgctl_bpf *s = st->skel;
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = (sizeof(struct sg_counter_val) + 7) / 8 * 8;
	__u32 keys[SG_NDIR * SG_NCOUNTERS];
	void *zeros;
	int err;

	if (!n)
		return 0;
	if (ncpu < 1)
		return ncpu;
	err = ct_delete_slots(st, slots, n, NULL, NULL, NULL);
	if (err)
		return err;
	err = sg_map_delete_by_slot(
		bpf_map__fd(s->maps.sg_frag), sizeof(struct sg_frag_key),
		sizeof(struct sg_frag_val), offsetof(struct sg_frag_key, slot),
		slots, n);
	if (err) {
		sg_err("cannot clear fragment entries: %s",
		       sg_bpf_strerror(err));
		return err;
	}
	/* Flow-log records: a slot given to another instance starts clean. */
	err = sg_map_delete_by_slot(
		bpf_map__fd(s->maps.sg_reject), sizeof(struct sg_reject_key),
		sizeof(struct sg_reject_val),
		offsetof(struct sg_reject_key, slot), slots, n);
	if (err) {
		sg_err("cannot clear rejected-flow records: %s",
		       sg_bpf_strerror(err));
		return err;
	}
	/* Its entries are gone: no local port of the slot is tracked. */
	for (size_t i = 0; i < n; i++) {
		static const struct sg_ct_lports none;

		if (slots[i] < SG_MAX_INSTANCES &&
		    bpf_map_update_elem(bpf_map__fd(s->maps.sg_ct_lports),
					&slots[i], &none, BPF_ANY)) {
			err = -errno;
			sg_err("cannot clear conntrack ports: %s",
			       sg_bpf_strerror(err));
			return err;
		}
	}
	/* Rule counters too: they belong to the instance, not the slot. */
	err = sg_rule_hits_forget_slots(st, slots, n);
	if (err)
		return err;
	zeros = calloc((size_t)ncpu * SG_NDIR * SG_NCOUNTERS, vsz);
	if (!zeros)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++) {
		__s64 z = 0;

		if (slots[i] >= SG_MAX_INSTANCES)
			continue;
		err = bpf_map_update_elem(bpf_map__fd(s->maps.sg_ct_count),
					  &slots[i], &z, BPF_ANY);
		if (err)
			break;
		for (__u32 k = 0; k < SG_NDIR * SG_NCOUNTERS; k++)
			keys[k] = slots[i] * SG_NDIR * SG_NCOUNTERS + k;
		err = sg_map_update_all(bpf_map__fd(s->maps.sg_stats), keys,
					zeros, sizeof(keys[0]),
					(size_t)ncpu * vsz,
					SG_NDIR * SG_NCOUNTERS);
	}
	free(zeros);
	if (err) {
		sg_err("cannot reset counters: %s", sg_bpf_strerror(err));
		return err;
	}
	/* Skipped-reject counts (SKIPDATA) start clean with the counters. */
	zeros = calloc((size_t)ncpu, sizeof(struct sg_reject_budget));
	if (!zeros)
		return -ENOMEM;
	for (size_t i = 0; i < n && !err; i++)
		if (slots[i] < SG_MAX_INSTANCES &&
		    bpf_map_update_elem(bpf_map__fd(s->maps.sg_reject_budget),
					&slots[i], zeros, BPF_ANY))
			err = -errno;
	free(zeros);
	if (err)
		sg_err("cannot reset flow-log budgets: %s",
		       sg_bpf_strerror(err));
	return err;
}

int sg_stats_read(struct sg_state *st, __u32 slot,
		  struct sg_counter_val out[SG_NDIR][SG_NCOUNTERS])
{
	int fd = bpf_map__fd(st->skel->maps.sg_stats);
	int ncpu = libbpf_num_possible_cpus();
	struct sg_counter_val *v;
	int err = 0;

	memset(out, 0, sizeof(struct sg_counter_val) * SG_NDIR * SG_NCOUNTERS);
	if (ncpu < 1)
		return ncpu < 0 ? ncpu : -EINVAL;
	if (slot >= SG_MAX_INSTANCES)
		return -ERANGE;
	/* struct sg_counter_val is 16 bytes: per-CPU values are not padded */
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (__u32 d = 0; d < SG_NDIR && !err; d++) {
		for (__u32 c = 0; c < SG_NCOUNTERS; c++) {
			__u32 idx = SG_STATS_INDEX(slot, d, c);

			err = bpf_map_lookup_elem(fd, &idx, v);
			if (err) {
				sg_err("cannot read sg_stats: %s",
				       sg_bpf_strerror(err));
				break;
			}
			for (int i = 0; i < ncpu; i++) {
				out[d][c].packets += v[i].packets;
				out[d][c].bytes += v[i].bytes;
			}
		}
	}
	free(v);
	return err;
}

int sg_ct_count_read(struct sg_state *st, __u32 slot, __s64 *n)
{
	int err = bpf_map_lookup_elem(bpf_map__fd(st->skel->maps.sg_ct_count),
				      &slot, n);

	if (err)
		sg_err("cannot read sg_ct_count: %s", sg_bpf_strerror(err));
	return err;
}

int sg_ct_count_write(struct sg_state *st, __u32 slot, __s64 n)
{
	int err = bpf_map_update_elem(bpf_map__fd(st->skel->maps.sg_ct_count),
				      &slot, &n, BPF_ANY);

	if (err)
		sg_err("cannot write sg_ct_count: %s", sg_bpf_strerror(err));
	return err;
}

int sg_ct_flush(struct sg_state *st, const __u32 *slots, size_t nslots,
		size_t *flushed)
{
	struct sg_ct_key *keys = NULL;
	struct sg_ct_val *vals = NULL;
	__s64 *left = NULL;
	size_t n, m = 0;
	int err;

	*flushed = 0;
	err = ct_delete_slots(st, slots, nslots, &keys, &vals, &m);
	if (err)
		return err;
	/* Flushed flows still count for their rules, as if collected. */
	sg_rule_hits_add_flows(st, keys, vals, m);
	free(keys);
	free(vals);
	keys = NULL;
	vals = NULL;
	*flushed = m;

	/*
	 * The datapath counts what it inserts and the expiry timer what it
	 * deletes; entries deleted here are nobody's, so the count is set
	 * from what is left (a flow tracked meanwhile stays counted).
	 */
	left = calloc(SG_MAX_INSTANCES, sizeof(*left));
	if (!left)
		return -ENOMEM;
	err = sg_ct_dump(st, &keys, &vals, &n);
	if (err) {
		free(left);
		return err;
	}
	for (size_t i = 0; i < n; i++)
		if (keys[i].slot < SG_MAX_INSTANCES)
			left[keys[i].slot]++;
	for (__u32 s = 0; s < SG_MAX_INSTANCES && !err; s++) {
		if (nslots && !sg_in_slots(s, slots, nslots))
			continue;
		err = sg_ct_count_write(st, s, left[s]);
	}
	free(keys);
	free(vals);
	free(left);
	return err;
}
