// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Instance slots: the stable number of each instance id (sg_slots), one
 * half per generation (include/sgctl.h, struct sg_slot_val): readers see
 * the live generation's half; a commit writes the other half and its flip
 * makes it live. The single-slot calls (sg_slot_get with allocate,
 * release, set) change both halves: slots outside a load.
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

static int make_slot_key(struct sg_slot_key *k, const char *id)
{
	memset(k, 0, sizeof(*k));
	if (strlen(id) >= sizeof(k->id))
		return -ENAMETOOLONG;
	strcpy(k->id, id);
	return 0;
}

static bool bit_test(const unsigned long *used, __u32 s)
{
	return used[s / BITS_PER_UL] & (1UL << (s % BITS_PER_UL));
}

static void bit_set(unsigned long *used, __u32 s, bool on)
{
	if (on)
		used[s / BITS_PER_UL] |= 1UL << (s % BITS_PER_UL);
	else
		used[s / BITS_PER_UL] &= ~(1UL << (s % BITS_PER_UL));
}

int sg_slot_dump(struct sg_state *st, struct sg_slot_key **keys,
		 struct sg_slot_val **vals, size_t *n)
{
	int err = sg_map_dump(bpf_map__fd(st->skel->maps.sg_slots),
			      sizeof(**keys), sizeof(**vals), (void **)keys,
			      (void **)vals, n);

	if (err) {
		sg_err("cannot read sg_slots: %s", sg_bpf_strerror(err));
		return err;
	}
	for (size_t i = 0; i < *n; i++)
		(*keys)[i].id[SG_ID_LEN - 1] = '\0';
	return 0;
}

static int slot_cache_load(struct sg_state *st)
{
	char *ids;
	__u32 *slots;
	size_t n;
	int err;

	if (st->slots_cached)
		return 0;
	err = sg_slot_list(st, &ids, &slots, &n);
	if (err)
		return err;
	memset(st->slot_used, 0, sizeof(st->slot_used));
	for (size_t i = 0; i < n; i++)
		if (slots[i] < SG_MAX_INSTANCES)
			bit_set(st->slot_used, slots[i], true);
	free(ids);
	free(slots);
	st->slots_cached = true;
	return 0;
}

int sg_slot_get(struct sg_state *st, const char *id, bool allocate)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	struct sg_slot_val v;
	__u32 gen, slot;
	int err;

	if (make_slot_key(&k, id)) {
		sg_err("instance id %s is too long (max %d characters)", id,
		       SG_ID_LEN - 1);
		return -ENAMETOOLONG;
	}
	err = sg_active_gen(st, &gen);
	if (err)
		return err;
	err = bpf_map_lookup_elem(fd, &k, &v);
	if (!err && v.slot[gen] < SG_MAX_INSTANCES)
		return (int)v.slot[gen];
	if (err && err != -ENOENT) {
		sg_err("cannot read sg_slots: %s", sg_bpf_strerror(err));
		return err;
	}
	if (!allocate)
		return -ENOENT;

	err = slot_cache_load(st);
	if (err)
		return err;
	for (slot = 0; slot < SG_MAX_INSTANCES; slot++)
		if (!bit_test(st->slot_used, slot))
			break;
	if (slot == SG_MAX_INSTANCES) {
		sg_err("no free instance slot (at most %d instances)",
		       SG_MAX_INSTANCES);
		return -ENOSPC;
	}
	v.slot[0] = v.slot[1] = slot;
	err = bpf_map_update_elem(fd, &k, &v, BPF_ANY);
	if (err) {
		sg_err("cannot allocate a slot for %s: %s", id,
		       sg_bpf_strerror(err));
		return err;
	}
	bit_set(st->slot_used, slot, true);
	return (int)slot;
}

int sg_slot_release(struct sg_state *st, const char *id)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	struct sg_slot_val v;
	__u32 gen;
	int err;

	if (make_slot_key(&k, id))
		return -ENOENT;
	err = sg_active_gen(st, &gen);
	if (err)
		return err;
	err = bpf_map_lookup_elem(fd, &k, &v);
	if (err == -ENOENT || (!err && v.slot[gen] >= SG_MAX_INSTANCES))
		return -ENOENT;
	if (!err)
		err = bpf_map_delete_elem(fd, &k);
	if (err) {
		sg_err("cannot release the slot of %s: %s", id,
		       sg_bpf_strerror(err));
		return err;
	}
	bit_set(st->slot_used, v.slot[gen], false);
	return (int)v.slot[gen];
}

int sg_slot_set(struct sg_state *st, const char *id, __u32 slot)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	struct sg_slot_val v = {{slot, slot}};
	int err;

	if (make_slot_key(&k, id) || slot >= SG_MAX_INSTANCES)
		return -EINVAL;
	err = bpf_map_update_elem(fd, &k, &v, BPF_NOEXIST);
	if (err) {
		sg_err("cannot restore the slot of %s: %s", id,
		       sg_bpf_strerror(err));
		return err;
	}
	bit_set(st->slot_used, slot, true);
	return 0;
}

int sg_slot_list(struct sg_state *st, char **ids, __u32 **slots, size_t *n)
{
	struct sg_slot_key *keys;
	struct sg_slot_val *vals;
	__u32 gen, *out;
	size_t m = 0;
	int err;

	err = sg_active_gen(st, &gen);
	if (!err)
		err = sg_slot_dump(st, &keys, &vals, n);
	if (err)
		return err;
	out = calloc(*n ? *n : 1, sizeof(*out));
	if (!out) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < *n; i++) {
		if (vals[i].slot[gen] >= SG_MAX_INSTANCES)
			continue;
		keys[m] = keys[i];
		out[m++] = vals[i].slot[gen];
	}
	free(vals);
	*n = m;
	*ids = (char *)keys; /* struct sg_slot_key is exactly SG_ID_LEN */
	*slots = out;
	return 0;
}

/* ------------------------------------------------------------ the plan */

void sg_slot_plan_free(struct sg_slot_plan *sp)
{
	free(sp->ids);
	free(sp->slots);
	free(sp->fresh);
	free(sp->held);
	free(sp->released);
	memset(sp, 0, sizeof(*sp));
}

static int cmp_id(const void *a, const void *b)
{
	return strncmp(a, b, SG_ID_LEN);
}

int sg_slot_plan_init(struct sg_state *st, const char *const *ids, size_t n,
		      struct sg_slot_plan *sp)
{
	char *live_ids = NULL;
	__u32 *live_slots = NULL;
	bool *taken = NULL;
	size_t nlive = 0;
	int err;

	memset(sp, 0, sizeof(*sp));
	sp->n = n;
	sp->ids = calloc(n ? n : 1, SG_ID_LEN);
	sp->slots = calloc(n ? n : 1, sizeof(*sp->slots));
	sp->fresh = calloc(n ? n : 1, sizeof(*sp->fresh));
	sp->held = calloc(n ? n : 1, sizeof(*sp->held));
	if (!sp->ids || !sp->slots || !sp->fresh || !sp->held) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		if (strlen(ids[i]) >= SG_ID_LEN) {
			sg_err("instance id %s is too long (max %d "
			       "characters)",
			       ids[i], SG_ID_LEN - 1);
			err = -ENAMETOOLONG;
			goto fail;
		}
		strcpy(sp->ids + i * SG_ID_LEN, ids[i]);
		sp->slots[i] = sp->held[i] = -1;
	}
	err = sg_slot_list(st, &live_ids, &live_slots, &nlive);
	if (err)
		goto fail;

	/* Live (id, slot) sorted by id: each plan id looks its slot up. */
	{
		struct pair {
			char id[SG_ID_LEN];
			__u32 slot;
			__u32 idx;
		} *p = calloc(nlive ? nlive : 1, sizeof(*p));

		taken = calloc(nlive ? nlive : 1, sizeof(*taken));
		sp->released = calloc(nlive ? nlive : 1, sizeof(__u32));
		if (!p || !taken || !sp->released) {
			free(p);
			err = -ENOMEM;
			goto fail;
		}
		for (size_t i = 0; i < nlive; i++) {
			memcpy(p[i].id, live_ids + i * SG_ID_LEN, SG_ID_LEN);
			p[i].slot = live_slots[i];
			p[i].idx = (__u32)i;
		}
		qsort(p, nlive, sizeof(*p), cmp_id);
		for (size_t i = 0; i < n; i++) {
			char key[SG_ID_LEN] = {0};
			struct pair *hit;

			strcpy(key, ids[i]);
			hit = bsearch(key, p, nlive, sizeof(*p), cmp_id);
			if (!hit || hit->slot >= SG_MAX_INSTANCES)
				continue;
			sp->held[i] = (int)hit->slot;
			taken[hit->idx] = true;
			bit_set(sp->used, hit->slot, true);
		}
		free(p);
	}
	for (size_t i = 0; i < nlive; i++)
		if (!taken[i])
			sp->released[sp->nreleased++] = live_slots[i];
	free(taken);
	free(live_ids);
	free(live_slots);
	return 0;

fail:
	if (err == -ENOMEM)
		sg_err("out of memory");
	free(taken);
	free(live_ids);
	free(live_slots);
	sg_slot_plan_free(sp);
	return err;
}

int sg_slot_plan_keep(struct sg_slot_plan *sp, size_t i)
{
	if (sp->held[i] < 0)
		return -ENOENT;
	sp->slots[i] = sp->held[i];
	sp->fresh[i] = false;
	return sp->slots[i];
}

int sg_slot_plan_alloc(struct sg_slot_plan *sp, size_t i)
{
	__u32 slot;

	if (sp->held[i] >= 0)
		return sg_slot_plan_keep(sp, i);
	for (slot = 0; slot < SG_MAX_INSTANCES; slot++)
		if (!bit_test(sp->used, slot))
			break;
	if (slot == SG_MAX_INSTANCES) {
		sg_err("no free instance slot (at most %d instances)",
		       SG_MAX_INSTANCES);
		return -ENOSPC;
	}
	bit_set(sp->used, slot, true);
	sp->slots[i] = (int)slot;
	sp->fresh[i] = true;
	return (int)slot;
}

/* ------------------------------------------------------ commit's part */

int sg_slot_plan_write(struct sg_state *st, const struct sg_slot_plan *sp,
		       __u32 ng)
{
	struct entry {
		struct sg_slot_key k; /* first: cmp_id compares it */
		struct sg_slot_val v;
	} *e = NULL;
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key *keys = NULL, *wk = NULL;
	struct sg_slot_val *vals = NULL, *wv = NULL;
	size_t n = 0, m, nd = 0, nw = 0;
	__u32 g = ng ^ 1;
	int err;

	err = sg_slot_dump(st, &keys, &vals, &n);
	if (err)
		return err;
	e = calloc(n + sp->n + 1, sizeof(*e));
	wk = calloc(n + sp->n + 1, sizeof(*wk));
	wv = calloc(n + sp->n + 1, sizeof(*wv));
	if (!e || !wk || !wv) {
		err = -ENOMEM;
		goto out;
	}
	/* Every entry loses its slot in ng, unless the plan gives one. */
	for (size_t i = 0; i < n; i++) {
		e[i].k = keys[i];
		e[i].v = vals[i];
		e[i].v.slot[ng] = SG_SLOT_NONE;
	}
	qsort(e, n, sizeof(*e), cmp_id);
	m = n;
	for (size_t i = 0; i < sp->n; i++) {
		struct sg_slot_key k = {0};
		struct entry *hit;

		if (sp->slots[i] < 0)
			continue;
		strcpy(k.id, sp->ids + i * SG_ID_LEN);
		hit = bsearch(&k, e, n, sizeof(*e), cmp_id);
		if (!hit) {
			hit = &e[m++];
			hit->k = k;
			hit->v.slot[g] = SG_SLOT_NONE;
		}
		hit->v.slot[ng] = (__u32)sp->slots[i];
	}
	/* An id in neither generation (left by an earlier crash, or given
	 * up now) goes: the map holds the live ids and the plan's only. */
	for (size_t i = 0; i < m; i++) {
		if (e[i].v.slot[g] == SG_SLOT_NONE &&
		    e[i].v.slot[ng] == SG_SLOT_NONE) {
			keys[nd++] = e[i].k; /* i < n: an old entry */
			continue;
		}
		wk[nw] = e[i].k;
		wv[nw++] = e[i].v;
	}
	err = sg_map_delete_keys(fd, keys, sizeof(*keys), nd);
	if (!err)
		err = sg_map_update_all(fd, wk, wv, sizeof(*wk), sizeof(*wv),
					nw);
out:
	if (err)
		sg_err("cannot write sg_slots: %s", sg_bpf_strerror(err));
	free(e);
	free(keys);
	free(vals);
	free(wk);
	free(wv);
	st->slots_cached = false;
	return err;
}

int sg_slot_prune(struct sg_state *st, __u32 gen)
{
	struct sg_slot_key *keys;
	struct sg_slot_val *vals;
	size_t n, m = 0;
	int err;

	err = sg_slot_dump(st, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		if (vals[i].slot[gen] == SG_SLOT_NONE)
			keys[m++] = keys[i];
	err = sg_map_delete_keys(bpf_map__fd(st->skel->maps.sg_slots), keys,
				 sizeof(*keys), m);
	if (err)
		sg_err("cannot write sg_slots: %s", sg_bpf_strerror(err));
	free(keys);
	free(vals);
	st->slots_cached = false;
	return err;
}

int sg_slot_sync(struct sg_state *st, __u32 gen, __u32 ng)
{
	struct sg_slot_key *keys;
	struct sg_slot_val *vals;
	size_t n;
	int err;

	err = sg_slot_dump(st, &keys, &vals, &n);
	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		vals[i].slot[ng] = vals[i].slot[gen];
	err = sg_map_update_all(bpf_map__fd(st->skel->maps.sg_slots), keys,
				vals, sizeof(*keys), sizeof(*vals), n);
	if (err)
		sg_err("cannot write sg_slots: %s", sg_bpf_strerror(err));
	free(keys);
	free(vals);
	return err;
}
