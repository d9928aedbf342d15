/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned state: opening the BPF object with its maps pinned under
 * pin_dir (created on first use), writing compiled policy atomically, and
 * the loader-only maps (slots, attachments, stored config).
 */
#ifndef SG_MAPS_H
#define SG_MAPS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "../include/sgctl.h"
#include "compile.h"

struct sgctl_bpf; /* the skeleton, build/sgctl.skel.h */

struct sg_state {
	char pin_dir[256];
	struct sgctl_bpf *skel; /* maps reused from / pinned to pin_dir */
};

/*
 * Opens (and if needed creates and pins) all maps. When slot >= 0 the
 * programs are loaded for that instance slot and direction mapping
 * (host_side), ready to attach; otherwise they are loaded only to create
 * the maps. Mounts bpffs at pin_dir's parent if needed.
 */
int sg_state_open(struct sg_state *st, const char *pin_dir, int slot,
		  bool host_side);
void sg_state_close(struct sg_state *st);
/* True when pin_dir holds sgctl state (maps pinned). */
bool sg_state_exists(const char *pin_dir);

/*
 * Writes a compiled config as the new generation and flips to it.
 * slots[i] is the slot of cfg instance i. Stale entries of the inactive
 * generation are deleted first; the old generation stays until the next
 * load so in-flight lookups never miss.
 */
int sg_state_apply(struct sg_state *st, const struct sg_compiled *c,
		   const int *slots, size_t nslots);

/* Instance slots: look up, or allocate the lowest free one. */
int sg_slot_get(struct sg_state *st, const char *id, bool allocate);
int sg_slot_release(struct sg_state *st, const char *id);

/* Stored config text. */
int sg_blob_store(struct sg_state *st, const char *text, size_t len);
int sg_blob_load(struct sg_state *st, char **text, size_t *len);

#endif /* SG_MAPS_H */
