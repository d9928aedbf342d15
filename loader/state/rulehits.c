// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-rule usage (rulehits.h): the per-CPU sg_rule_hits summed over the
 * CPUs, plus what the live conntrack entries of each rule have carried.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "util/diag.h"
#include "state/internal.h"
#include "state/rulehits.h"

static int usage_cmp(const void *a, const void *b)
{
	const struct sg_rule_usage *x = a, *y = b;

	if (x->rule_key != y->rule_key)
		return x->rule_key < y->rule_key ? -1 : 1;
	return (x->slot > y->slot) - (x->slot < y->slot);
}

const struct sg_rule_usage *sg_rule_usage_find(const struct sg_rule_usage *v,
					       size_t n, __u64 rule_key,
					       __u32 slot)
{
	struct sg_rule_usage k = {.rule_key = rule_key, .slot = slot};

	return n ? bsearch(&k, v, n, sizeof(k), usage_cmp) : NULL;
}

/*
 * Appends one row per live conntrack entry that remembers its rule: a hit
 * at its creation, with its traffic so far (the GC adds it to
 * sg_rule_hits only when it collects the entry).
 */
static int add_live(struct sg_state *st, struct sg_rule_usage **v, size_t *n)
{
	struct sg_ct_key *keys = NULL;
	struct sg_ct_val *vals = NULL;
	struct sg_rule_usage *nv;
	size_t nct, k = *n;
	int err;

	err = sg_ct_dump(st, &keys, &vals, &nct);
	if (err)
		return err;
	nv = realloc(*v, (*n + nct + 1) * sizeof(*nv));
	if (!nv) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nct; i++) {
		if (!vals[i].rule_key)
			continue;
		memset(&nv[k], 0, sizeof(nv[k]));
		nv[k].rule_key = vals[i].rule_key;
		nv[k].slot = keys[i].slot;
		nv[k].hits = 1;
		nv[k].packets = vals[i].packets[0] + vals[i].packets[1];
		nv[k].bytes = vals[i].bytes[0] + vals[i].bytes[1];
		nv[k].last_ns = vals[i].created_ns;
		k++;
	}
	*v = nv;
	*n = k;
out:
	free(keys);
	free(vals);
	return err;
}

/* Sorts the rows and sums those of one (rule, slot). */
static size_t merge(struct sg_rule_usage *v, size_t n)
{
	size_t k = 0;

	qsort(v, n, sizeof(*v), usage_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && !usage_cmp(&v[k - 1], &v[i])) {
			v[k - 1].hits += v[i].hits;
			v[k - 1].packets += v[i].packets;
			v[k - 1].bytes += v[i].bytes;
			if (v[i].last_ns > v[k - 1].last_ns)
				v[k - 1].last_ns = v[i].last_ns;
			continue;
		}
		v[k++] = v[i];
	}
	return k;
}

int sg_rule_usage_read(struct sg_state *st, struct sg_rule_usage **out,
		       size_t *nout)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = (sizeof(struct sg_rule_hit) + 7) / 8 * 8, n = 0;
	struct sg_rule_hit_key *keys = NULL;
	struct sg_rule_usage *v = NULL;
	char *vals = NULL;
	int err;

	*out = NULL;
	*nout = 0;
	if (ncpu < 1)
		return ncpu ? ncpu : -EINVAL;
	err = sg_map_dump(bpf_map__fd(st->skel->maps.sg_rule_hits),
			  sizeof(*keys), (size_t)ncpu * vsz, (void **)&keys,
			  (void **)&vals, &n);
	if (err) {
		sg_err("cannot read sg_rule_hits: %s", sg_bpf_strerror(err));
		return err;
	}
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].rule_key = keys[i].rule_key;
		v[i].slot = keys[i].slot;
		for (int c = 0; c < ncpu; c++) {
			const struct sg_rule_hit *h =
				(const void *)(vals +
					       (i * (size_t)ncpu + c) * vsz);

			v[i].hits += h->hits;
			v[i].packets += h->packets;
			v[i].bytes += h->bytes;
			if (h->last_ns > v[i].last_ns)
				v[i].last_ns = h->last_ns;
		}
	}
	err = add_live(st, &v, &n);
	if (!err)
		n = merge(v, n);
out:
	free(keys);
	free(vals);
	if (err) {
		free(v);
		return err;
	}
	*out = v;
	*nout = n;
	return 0;
}

int sg_rule_hits_forget_slots(struct sg_state *st, const __u32 *slots, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t vsz = (sizeof(struct sg_rule_hit) + 7) / 8 * 8;
	int err;

	if (!n)
		return 0;
	if (ncpu < 1)
		return ncpu ? ncpu : -EINVAL;
	err = sg_map_delete_by_slot(
		bpf_map__fd(st->skel->maps.sg_rule_hits),
		sizeof(struct sg_rule_hit_key), (size_t)ncpu * vsz,
		offsetof(struct sg_rule_hit_key, slot), slots, n);
	if (err)
		sg_err("cannot clear rule counters: %s", sg_bpf_strerror(err));
	return err;
}

void sg_rule_hits_add_flows(struct sg_state *st, const struct sg_ct_key *keys,
			    const struct sg_ct_val *vals, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = bpf_map__fd(st->skel->maps.sg_rule_hits);
	size_t vsz = (sizeof(struct sg_rule_hit) + 7) / 8 * 8;
	char *buf;

	if (ncpu < 1)
		return;
	buf = malloc((size_t)ncpu * vsz);
	if (!buf)
		return;
	for (size_t i = 0; i < n; i++) {
		struct sg_rule_hit_key k = {.rule_key = vals[i].rule_key,
					    .slot = keys[i].slot};
		struct sg_rule_hit *h = (struct sg_rule_hit *)buf;

		if (!k.rule_key)
			continue;
		if (bpf_map_lookup_elem(fd, &k, buf))
			memset(buf, 0, (size_t)ncpu * vsz);
		h->hits++;
		h->packets += vals[i].packets[0] + vals[i].packets[1];
		h->bytes += vals[i].bytes[0] + vals[i].bytes[1];
		if (vals[i].created_ns > h->last_ns)
			h->last_ns = vals[i].created_ns;
		bpf_map_update_elem(fd, &k, buf, BPF_ANY);
	}
	free(buf);
}
