/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned state: opening the BPF object with its maps pinned under
 * pin_dir (created on first use), writing compiled policy atomically, and
 * the loader-only maps (slots, attachments, stored config). The only
 * writer of the maps. One file per job:
 *   pins.c        pin dir and bpffs, open/close, remove, the timer's kick
 *   mapio.c       dump, write, delete entries (by generation, by slot)
 *   generation.c  sg_meta, sg_active, writing a generation and flipping
 *   slots.c       instance id -> slot
 *   slotdata.c    what the datapath keeps per slot: conntrack, counters
 *   blob.c        the stored config text
 *   lock.c        the lock of a state, the config hash
 * The exact-match plan they write comes from compile/exact.h.
 */
#ifndef SG_STATE_H
#define SG_STATE_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "sgctl.h"
#include "compile/compile.h"

struct sgctl_bpf; /* the skeleton, build/sgctl.skel.h */

struct sg_state {
	char pin_dir[256];
	struct sgctl_bpf *skel; /* maps reused from / pinned to pin_dir */
	bool progs;		/* programs loaded (slot >= 0 at open) */
	bool slots_cached;	/* slot_used reflects sg_slots */
	unsigned long slot_used[SG_MAX_INSTANCES / (8 * sizeof(unsigned long))];
};

#define SG_DEFAULT_PIN_DIR "/sys/fs/bpf/sgctl"

/* A libbpf or kernel error (negative errno or LIBBPF_ERRNO__*) as text;
 * one static buffer, for the message being printed. */
const char *sg_bpf_strerror(int err);

/*
 * Error convention: these functions report unexpected failures themselves
 * (sg_err, libbpf_strerror) and return a negative errno; -ENOENT from a
 * lookup ("no such slot", "nothing stored") is returned silently.
 */

/*
 * Opens (and if needed creates and pins, mode 0600) all maps. When
 * slot >= 0 the programs are loaded for that instance slot and direction
 * mapping (host_side), ready to attach; when slot < 0 no program is loaded
 * (maps only: fast, for commands that only read or write maps). Mounts
 * bpffs at /sys/fs/bpf when pin_dir is below it and it is not bpffs;
 * a pin_dir elsewhere that is not on bpffs gets its own bpffs mount.
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

/* How a generation is written; NULL is the defaults (all false). */
struct sg_apply_opts {
	/* The exact-match maps whatever the tries' size (tests: small
	 * policies would otherwise use the tries alone). */
	bool exact_always;
};

int sg_state_apply_opts(struct sg_state *st, const struct sg_compiled *c,
			const int *slots, size_t nslots,
			const struct sg_apply_opts *opts);

/* Instance slots: look up, or allocate the lowest free one. */
int sg_slot_get(struct sg_state *st, const char *id, bool allocate);
int sg_slot_release(struct sg_state *st, const char *id);
/* Gives id the slot back (undoing a release); -EEXIST if taken. */
int sg_slot_set(struct sg_state *st, const char *id, __u32 slot);

/* Stored config text. sg_blob_store also sets sg_meta.blob_chunks and
 * blob_len; sg_blob_load returns a NUL-terminated malloc'ed copy, or
 * -ENOENT when nothing is stored. */
int sg_blob_store(struct sg_state *st, const char *text, size_t len);
int sg_blob_load(struct sg_state *st, char **text, size_t *len);

/* ---- additions used by the commands ---- */

/* sg_meta[0]; a never-loaded state reads as all zero (loaded_at == 0). */
int sg_meta_read(struct sg_state *st, struct sg_meta *m);
int sg_meta_write(struct sg_state *st, const struct sg_meta *m);
/* The live generation (sg_active[0].gen). */
int sg_active_gen(struct sg_state *st, __u32 *gen);

/* Every (id, slot) in sg_slots; *ids is n * SG_ID_LEN bytes. */
int sg_slot_list(struct sg_state *st, char **ids, __u32 **slots, size_t *n);

/*
 * Forgets what the datapath keeps per slot, for slots just released:
 * conntrack entries (sg_ct), sg_ct_count, fragment verdicts, rejected-flow
 * records (sg_reject), counters.
 */
int sg_state_forget_slots(struct sg_state *st, const __u32 *slots, size_t n);

/* Every attachment record (of st, or of an sg_attach map fd). */
int sg_attach_list(struct sg_state *st, struct sg_attach_key **keys,
		   struct sg_attach_val **vals, size_t *n);
int sg_attach_list_fd(int fd, struct sg_attach_key **keys,
		      struct sg_attach_val **vals, size_t *n);

/*
 * Runs sg_xdp once on a dummy non-IP frame: the datapath arms its conntrack
 * expiry timer on any packet. Uses st's programs when it has them, else
 * loads sg_xdp alone for `slot` (pick an unused slot: the frame is counted
 * there as infrastructure traffic).
 */
int sg_state_arm_timer(struct sg_state *st, __u32 slot);

/* Unpins every sgctl map under pin_dir and removes the directory (and its
 * own bpffs mount, if sg_state_open made one). */
int sg_state_remove(const char *pin_dir);

/*
 * Serialises mutating commands on one pin_dir: an exclusive flock on
 * /run/sgctl.lock (default pin dir) or /run/sgctl-HASH.lock (other pin
 * dirs), waiting up to timeout_ms. Returns the fd to keep open, or
 * -EBUSY ("another sgctl is running").
 */
int sg_state_lock(const char *pin_dir, int timeout_ms);

/* 64-bit FNV-1a: the config hash stored in sg_meta. */
__u64 sg_hash64(const void *data, size_t len);

/* ---- additions for check, stats, conntrack, flowlog ---- */

/* Every (key, value) of a map (hash maps in batches); malloc'ed arrays. */
int sg_map_dump(int fd, size_t ksz, size_t vsz, void **keys, void **vals,
		size_t *n);
/* Deletes keys; one already gone is not an error. */
int sg_map_delete_keys(int fd, const void *keys, size_t ksz, size_t n);

/* The instance's counters of sg_stats, summed over the CPUs. */
int sg_stats_read(struct sg_state *st, __u32 slot,
		  struct sg_counter_val out[SG_NDIR][SG_NCOUNTERS]);
/* sg_inst of the live generation for slot. */
int sg_inst_read(struct sg_state *st, __u32 slot, struct sg_inst *inst);
/* sg_ct_count[slot] (tracked flows in use), read and overwritten. */
int sg_ct_count_read(struct sg_state *st, __u32 slot, __s64 *n);
int sg_ct_count_write(struct sg_state *st, __u32 slot, __s64 n);

/*
 * Deletes the conntrack entries of the slots (all slots when n == 0) and
 * sets each one's sg_ct_count to what is left: the datapath may have
 * tracked a new flow meanwhile. *flushed: entries deleted.
 */
int sg_ct_flush(struct sg_state *st, const __u32 *slots, size_t n,
		size_t *flushed);

#endif /* SG_STATE_H */
