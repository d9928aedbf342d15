// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Instance slots: the stable number of each instance id (sg_slots).
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

/* ---------------------------------------------------------------- slots */

static int make_slot_key(struct sg_slot_key *k, const char *id)
{
	memset(k, 0, sizeof(*k));
	if (strlen(id) >= sizeof(k->id))
		return -ENAMETOOLONG;
	strcpy(k->id, id);
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
			st->slot_used[slots[i] / BITS_PER_UL] |=
				1UL << (slots[i] % BITS_PER_UL);
	free(ids);
	free(slots);
	st->slots_cached = true;
	return 0;
}

int sg_slot_get(struct sg_state *st, const char *id, bool allocate)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	__u32 slot;
	int err;

	if (make_slot_key(&k, id)) {
		sg_err("instance id %s is too long (max %d characters)", id,
		       SG_ID_LEN - 1);
		return -ENAMETOOLONG;
	}
	err = bpf_map_lookup_elem(fd, &k, &slot);
	if (!err)
		return (int)slot;
	if (err != -ENOENT) {
		sg_err("cannot read sg_slots: %s", sg_bpf_strerror(err));
		return err;
	}
	if (!allocate)
		return -ENOENT;

	err = slot_cache_load(st);
	if (err)
		return err;
	for (slot = 0; slot < SG_MAX_INSTANCES; slot++)
		if (!(st->slot_used[slot / BITS_PER_UL] &
		      (1UL << (slot % BITS_PER_UL))))
			break;
	if (slot == SG_MAX_INSTANCES) {
		sg_err("no free instance slot (at most %d instances)",
		       SG_MAX_INSTANCES);
		return -ENOSPC;
	}
	err = bpf_map_update_elem(fd, &k, &slot, BPF_NOEXIST);
	if (err) {
		sg_err("cannot allocate a slot for %s: %s", id,
		       sg_bpf_strerror(err));
		return err;
	}
	st->slot_used[slot / BITS_PER_UL] |= 1UL << (slot % BITS_PER_UL);
	return (int)slot;
}

int sg_slot_release(struct sg_state *st, const char *id)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	__u32 slot;
	int err;

	if (make_slot_key(&k, id))
		return -ENOENT;
	err = bpf_map_lookup_elem(fd, &k, &slot);
	if (err == -ENOENT)
		return err;
	if (!err)
		err = bpf_map_delete_elem(fd, &k);
	if (err) {
		sg_err("cannot release the slot of %s: %s", id,
		       sg_bpf_strerror(err));
		return err;
	}
	if (slot < SG_MAX_INSTANCES)
		st->slot_used[slot / BITS_PER_UL] &=
			~(1UL << (slot % BITS_PER_UL));
	return (int)slot;
}

int sg_slot_set(struct sg_state *st, const char *id, __u32 slot)
{
	int fd = bpf_map__fd(st->skel->maps.sg_slots);
	struct sg_slot_key k;
	int err;

	if (make_slot_key(&k, id) || slot >= SG_MAX_INSTANCES)
		return -EINVAL;
	err = bpf_map_update_elem(fd, &k, &slot, BPF_NOEXIST);
	if (err) {
		sg_err("cannot restore the slot of %s: %s", id,
		       sg_bpf_strerror(err));
		return err;
	}
	st->slot_used[slot / BITS_PER_UL] |= 1UL << (slot % BITS_PER_UL);
	return 0;
}

int sg_slot_list(struct sg_state *st, char **ids, __u32 **slots, size_t *n)
{
	struct sg_slot_key *keys;
	__u32 *vals;
	int err;

	err = sg_map_dump(bpf_map__fd(st->skel->maps.sg_slots), sizeof(*keys),
			  sizeof(*vals), (void **)&keys, (void **)&vals, n);
	if (err) {
		sg_err("cannot read sg_slots: %s", sg_bpf_strerror(err));
		return err;
	}
	for (size_t i = 0; i < *n; i++)
		keys[i].id[SG_ID_LEN - 1] = '\0';
	*ids = (char *)keys; /* struct sg_slot_key is exactly SG_ID_LEN */
	*slots = vals;
	return 0;
}
