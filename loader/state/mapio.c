// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Generic map I/O: dumping, writing and deleting entries in batches (key
 * by key where the kernel has no batches), by generation or by slot.
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

/* ------------------------------------------------------- map utilities */

static bool batch_unsupported(int err)
{
	return err == -ENOTSUPP || err == -EOPNOTSUPP || err == -EINVAL;
}

/* Grows the key and value arrays of sg_map_dump() to hold need entries. */
static int dump_grow(char **keys, char **vals, size_t *cap, size_t need,
		     size_t ksz, size_t vsz)
{
	while (need > *cap) {
		size_t ncap = *cap * 2;
		char *k = realloc(*keys, ncap * ksz);

		if (!k)
			return -ENOMEM;
		*keys = k;
		k = realloc(*vals, ncap * vsz);
		if (!k)
			return -ENOMEM;
		*vals = k;
		*cap = ncap;
	}
	return 0;
}

/* vals may be NULL when only keys are wanted. */
int sg_map_dump(int fd, size_t ksz, size_t vsz, void **keys_out,
		void **vals_out, size_t *n_out)
{
	size_t cap = 4096, n = 0;
	char *keys = malloc(cap * ksz), *vals = malloc(cap * vsz);
	__u64 batch_in[8], batch_out[8]; /* opaque token, <= 64 bytes */
	bool first = true;
	__u32 want = 1024;
	int err = 0;

	if (!keys || !vals) {
		err = -ENOMEM;
		goto out;
	}
	if (ksz > sizeof(batch_in)) {
		err = -ENOTSUPP;
		goto fallback;
	}
	for (;;) {
		__u32 count = want;

		err = dump_grow(&keys, &vals, &cap, n + count, ksz, vsz);
		if (err)
			goto out;
		err = bpf_map_lookup_batch(fd, first ? NULL : batch_in,
					   batch_out, keys + n * ksz,
					   vals + n * vsz, &count, NULL);
		if (err && err != -ENOENT && first && batch_unsupported(err))
			goto fallback;
		if (err == -ENOSPC && count == 0 && want < (1u << 20)) {
			/* a bucket larger than count: grow and retry */
			want *= 2;
			continue;
		}
		n += count;
		if (err == -ENOENT) {
			err = 0;
			break;
		}
		if (err)
			goto out;
		memcpy(batch_in, batch_out, sizeof(batch_in));
		first = false;
	}
	goto out;

fallback:
	n = 0;
	err = 0;
	for (;;) {
		int e;

		err = dump_grow(&keys, &vals, &cap, n + 1, ksz, vsz);
		if (err)
			goto out;
		e = bpf_map_get_next_key(fd, n ? keys + (n - 1) * ksz : NULL,
					 keys + n * ksz);
		if (e == -ENOENT)
			break;
		if (e) {
			err = e;
			goto out;
		}
		e = bpf_map_lookup_elem(fd, keys + n * ksz, vals + n * vsz);
		if (e == -ENOENT)
			continue; /* deleted meanwhile; next key from the prior
				   */
		if (e) {
			err = e;
			goto out;
		}
		n++;
	}
out:
	if (err) {
		free(keys);
		free(vals);
		return err;
	}
	*keys_out = keys;
	*n_out = n;
	if (vals_out)
		*vals_out = vals;
	else
		free(vals);
	return 0;
}

int sg_map_delete_keys(int fd, const void *keys, size_t ksz, size_t n)
{
	const char *k = keys;
	size_t done = 0;
	bool batch = true;

	while (done < n) {
		if (batch) {
			__u32 count = (__u32)(n - done);
			int err = bpf_map_delete_batch(fd, k + done * ksz,
						       &count, NULL);

			done += count;
			if (!err)
				continue;
			if (err == -ENOENT) {
				done++; /* that one was gone already */
				continue;
			}
			if (!batch_unsupported(err))
				return err;
			batch = false;
			continue;
		}
		int err = bpf_map_delete_elem(fd, k + done * ksz);

		if (err && err != -ENOENT)
			return err;
		done++;
	}
	return 0;
}

int sg_map_update_all(int fd, const void *keys, const void *vals, size_t ksz,
		      size_t vsz, size_t n)
{
	const char *k = keys, *v = vals;
	size_t done = 0;
	bool batch = true;

	while (done < n) {
		if (batch) {
			__u32 count = (__u32)(n - done);
			int err = bpf_map_update_batch(fd, k + done * ksz,
						       v + done * vsz, &count,
						       NULL);

			done += count;
			if (!err)
				continue;
			if (!batch_unsupported(err) || count)
				return err;
			batch = false;
			continue;
		}
		int err = bpf_map_update_elem(fd, k + done * ksz,
					      v + done * vsz, BPF_ANY);

		if (err)
			return err;
		done++;
	}
	return 0;
}

int sg_map_write(int fd, const char *name, const void *keys, const void *vals,
		 size_t ksz, size_t vsz, size_t n)
{
	int err = sg_map_update_all(fd, keys, vals, ksz, vsz, n);

	if (err)
		sg_err("cannot write %s (%zu entries): %s", name, n,
		       sg_bpf_strerror(err));
	return err;
}

/*
 * Deletes the keys whose __u32 at offset off matches, in one dump and one
 * batch of deletes; *kept (may be NULL) gets how many did not match.
 */
static int delete_matching(int fd, size_t ksz, size_t vsz, size_t off,
			   bool (*match)(__u32 w, const void *arg),
			   const void *arg, size_t *kept, size_t *deleted)
{
	void *keys, *vals;
	size_t n, m = 0;
	int err;

	err = sg_map_dump(fd, ksz, vsz, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++) {
		__u32 w;

		memcpy(&w, (char *)keys + i * ksz + off, sizeof(w));
		if (!match(w, arg))
			continue;
		if (m != i)
			memcpy((char *)keys + m * ksz, (char *)keys + i * ksz,
			       ksz);
		m++;
	}
	if (kept)
		*kept = n - m;
	if (deleted)
		*deleted = m;
	err = sg_map_delete_keys(fd, keys, ksz, m);
	free(keys);
	free(vals);
	return err;
}

static bool of_generation(__u32 w, const void *arg)
{
	return SG_GEN_OF(w) == *(const __u32 *)arg;
}

int sg_map_purge_generation(int fd, size_t ksz, size_t vsz, size_t gen_off,
			    __u32 gen, size_t *kept, size_t *deleted)
{
	return delete_matching(fd, ksz, vsz, gen_off, of_generation, &gen, kept,
			       deleted);
}

/* ------------------------------------------------------------ by slot */

bool sg_in_slots(__u32 s, const __u32 *slots, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (slots[i] == s)
			return true;
	return false;
}

struct slot_set {
	const __u32 *slots;
	size_t n;
};

static bool in_slot_set(__u32 s, const void *arg)
{
	const struct slot_set *set = arg;

	return sg_in_slots(s, set->slots, set->n);
}

int sg_map_delete_by_slot(int fd, size_t ksz, size_t vsz, size_t slot_off,
			  const __u32 *slots, size_t nslots)
{
	struct slot_set set = {slots, nslots};

	return delete_matching(fd, ksz, vsz, slot_off, in_slot_set, &set, NULL,
			       NULL);
}

/* ---------------------------------------------------------- attachments */

int sg_attach_list_fd(int fd, struct sg_attach_key **keys,
		      struct sg_attach_val **vals, size_t *n)
{
	int err = sg_map_dump(fd, sizeof(**keys), sizeof(**vals), (void **)keys,
			      (void **)vals, n);

	if (err) {
		sg_err("cannot read sg_attach: %s", sg_bpf_strerror(err));
		return err;
	}
	for (size_t i = 0; i < *n; i++) {
		(*vals)[i].ifname[SG_IFNAME_LEN - 1] = '\0';
		(*vals)[i].netns[SG_NETNS_LEN - 1] = '\0';
		(*vals)[i].instance[SG_ID_LEN - 1] = '\0';
	}
	return 0;
}

int sg_attach_list(struct sg_state *st, struct sg_attach_key **keys,
		   struct sg_attach_val **vals, size_t *n)
{
	return sg_attach_list_fd(bpf_map__fd(st->skel->maps.sg_attach), keys,
				 vals, n);
}

/* ------------------------------------------------ flow-log records */

/* Adds one CPU's pending counts to the dumped records (see state.h). */
static int reject_merge(const struct sg_reject_pending *pd,
			struct sg_reject_key **keys,
			struct sg_reject_val **vals, size_t *n, size_t *cap)
{
	struct sg_reject_val *v = NULL;

	for (size_t i = 0; i < *n; i++)
		if (!memcmp(&(*keys)[i], &pd->key, sizeof(pd->key))) {
			v = &(*vals)[i];
			break;
		}
	if (!v) {
		/* Evicted: the pending counts are the record. */
		if (*n == *cap) {
			size_t c = *cap ? *cap * 2 : 16;
			void *k = realloc(*keys, c * sizeof(**keys));

			if (!k)
				return -ENOMEM;
			*keys = k;
			k = realloc(*vals, c * sizeof(**vals));
			if (!k)
				return -ENOMEM;
			*vals = k;
			*cap = c;
		}
		(*keys)[*n] = pd->key;
		v = &(*vals)[(*n)++];
		memset(v, 0, sizeof(*v));
		v->first_ns = pd->first_ns;
		v->rule_key = pd->rule_key;
	}
	v->packets += pd->packets;
	v->bytes += pd->bytes;
	if (pd->last_ns > v->last_ns)
		v->last_ns = pd->last_ns;
	/* first_ns stays the record's: it is part of the flow's id. */
	v->tcp_flags |= pd->tcp_flags;
	return 0;
}

int sg_reject_dump(int reject_fd, int budget_fd, const __u32 *slots,
		   size_t nslots, struct sg_reject_key **keys,
		   struct sg_reject_val **vals, size_t *n)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sg_reject_budget *b = NULL;
	size_t cap;
	int err;

	*keys = NULL;
	*vals = NULL;
	*n = 0;
	err = sg_map_dump(reject_fd, sizeof(**keys), sizeof(**vals),
			  (void **)keys, (void **)vals, n);
	if (err || budget_fd < 0 || !nslots)
		return err;
	cap = *n;
	if (ncpu < 1)
		err = ncpu ? ncpu : -EINVAL;
	else if (!(b = calloc((size_t)ncpu, sizeof(*b))))
		err = -ENOMEM;
	for (size_t i = 0; i < nslots && !err; i++) {
		__u32 slot = slots[i];

		if (slot >= SG_MAX_INSTANCES ||
		    bpf_map_lookup_elem(budget_fd, &slot, b))
			continue;
		for (int c = 0; c < ncpu && !err; c++)
			for (int d = 0; d < SG_NDIR && !err; d++) {
				const struct sg_reject_pending *pd =
					&b[c].pend[d];

				/* A stale key (another slot's): not ours. */
				if (pd->packets && pd->key.slot == slot)
					err = reject_merge(pd, keys, vals, n,
							   &cap);
			}
	}
	free(b);
	if (err) {
		free(*keys);
		free(*vals);
		*keys = NULL;
		*vals = NULL;
		*n = 0;
	}
	return err;
}

/* ------------------------------------------------------ flow caches */

/* Adds the lines of one cache index (every CPU's) to the entry they match. */
static void fc_add(const struct sg_flow_cache *line, int ncpu,
		   const struct sg_ct4_key *k, struct sg_ct_val *v)
{
	for (int c = 0; c < ncpu; c++) {
		const struct sg_flow_cache *e = &line[c];

		if (e->created_ns != v->created_ns ||
		    !sg_ct4_key_eq(&e->key, k))
			continue;
		for (int d = 0; d < 2; d++) {
			v->packets[d] += e->pend_packets[d];
			v->bytes[d] += e->pend_bytes[d];
		}
	}
}

int sg_flow_cache_merge(int cache_fd, const struct sg_ct4_key *keys,
			struct sg_ct_val *vals, size_t n)
{
	int ncpu = libbpf_num_possible_cpus();
	struct sg_flow_cache *all;
	size_t per = (size_t)(ncpu > 0 ? ncpu : 1);
	int err = 0;

	if (ncpu < 1)
		return ncpu;
	_Static_assert(sizeof(struct sg_flow_cache) % 8 == 0,
		       "per-CPU values are read in 8-byte steps");
	/* A few entries: their lines only; many: every line once. */
	if (n <= 64) {
		all = calloc(per, sizeof(*all));
		if (!all)
			return -ENOMEM;
		for (size_t i = 0; i < n && !err; i++) {
			__u32 idx = sg_flow_cache_index(&keys[i]);

			if (bpf_map_lookup_elem(cache_fd, &idx, all))
				err = -errno;
			else
				fc_add(all, ncpu, &keys[i], &vals[i]);
		}
		free(all);
		return err;
	}
	{
		struct sg_flow_cache **line;
		__u32 *idx = NULL;
		size_t nlines = 0;

		/* Every line of every CPU, in batches like any dump. */
		err = sg_map_dump(cache_fd, sizeof(*idx), per * sizeof(*all),
				  (void **)&idx, (void **)&all, &nlines);
		if (err)
			return err;
		line = calloc(SG_FLOW_CACHE_ENTRIES, sizeof(*line));
		if (!line) {
			free(idx);
			free(all);
			return -ENOMEM;
		}
		for (size_t i = 0; i < nlines; i++)
			if (idx[i] < SG_FLOW_CACHE_ENTRIES)
				line[idx[i]] = &all[i * per];
		for (size_t i = 0; i < n; i++) {
			struct sg_flow_cache *l =
				line[sg_flow_cache_index(&keys[i])];

			if (l)
				fc_add(l, ncpu, &keys[i], &vals[i]);
		}
		free(line);
		free(idx);
		free(all);
		return 0;
	}
}

int sg_ct_epoch_bump(int active_fd)
{
	struct sg_active a;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(active_fd, &zero, &a))
		return -errno;
	a.ct_epoch++;
	if (bpf_map_update_elem(active_fd, &zero, &a, BPF_ANY))
		return -errno;
	return 0;
}
