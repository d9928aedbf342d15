/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The pinned state: opening the BPF object with its maps pinned under
 * pin_dir (created on first use), writing compiled policy atomically, and
 * the loader-only maps (slots, attachments, stored config). The only
 * writer of the maps. One file per job:
 *   pindir.c      the pin dir: canonical name, accepted dirs, remove
 *   pins.c        open/close (all pins or none), the timer's kick
 *   mapio.c       dump, write, delete entries (by generation, by slot)
 *   generation.c  sg_meta, sg_active, writing a generation and flipping
 *   commit.c      a load's crash-safe order (sg_state_commit)
 *   slots.c       instance id -> slot, per generation; slot plans
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
struct run;	  /* state/image.c */

struct sg_state {
	char pin_dir[256];	/* canonical (sg_pin_dir_canonical) */
	struct sgctl_bpf *skel; /* maps reused from / pinned to pin_dir */
	bool progs;		/* programs loaded (slot >= 0 at open) */
	bool ro;		/* sg_state_open_ro: nothing may be written */
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
 * Opens all maps: a new state (no pin there) is created and pinned (mode
 * 0600), an existing one must have every pin, else it fails with "state
 * damaged: missing sg_X; run 'sgctl unload'" (-EUCLEAN). When slot >= 0
 * the programs are loaded for that instance slot and direction mapping
 * (host_side), ready to attach; when slot < 0 no program is loaded (maps
 * only: fast, for commands that only read or write maps). The pin dir
 * must pass sg_pin_dir_check(); a missing one is created (pindir.c:
 * bpffs mounted at /sys/fs/bpf when it is below it and that is not
 * bpffs; elsewhere a bpffs of its own).
 */
int sg_state_open(struct sg_state *st, const char *pin_dir, int slot,
		  bool host_side);
/*
 * Read-only open, for commands that only read: show, stats, check,
 * conntrack list, flowlog, export. Creates nothing (no pin dir, no pin,
 * no mount) and writes nothing: -ENOENT, silently, when there is no
 * state; a damaged state is reported as sg_state_open does. The maps are
 * still writable through st->skel: st->ro says they must not be.
 */
int sg_state_open_ro(struct sg_state *st, const char *pin_dir);
void sg_state_close(struct sg_state *st);
/* True when pin_dir holds sgctl state (any map pinned; a damaged state
 * too). */
bool sg_state_exists(const char *pin_dir);

/*
 * The pin dir's one name: the deepest existing ancestor resolved
 * (realpath), the rest appended, "//" and "/./" collapsed. Refuses (says
 * why, negative errno) a relative name, "..", and a pin dir that is a
 * symlink (-ELOOP). The state lock and the pins go by this name.
 */
int sg_pin_dir_canonical(const char *pin_dir, char *out, size_t len);

enum sg_pin_dir_kind {
	SG_PIN_DIR_ABSENT, /* sgctl creates it (and mounts bpffs if needed) */
	SG_PIN_DIR_BPFFS,  /* on bpffs, empty or holding sgctl state */
	SG_PIN_DIR_EMPTY,  /* empty, not on bpffs: sgctl mounts bpffs on it */
};
/*
 * Whether a canonical pin dir may be used, changing nothing. Refused,
 * with a message: a symlink (-ELOOP), not a directory (-ENOTDIR), a
 * directory that is not empty and holds no sgctl state ("not empty",
 * -ENOTEMPTY).
 */
int sg_pin_dir_check(const char *canon, enum sg_pin_dir_kind *kind);
/* Makes a checked pin dir ready for pins, remembering what it created. */
int sg_pin_dir_prepare(const char *canon);

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

/*
 * Stored config text, one per generation. sg_blob_store stores it as the
 * live generation's (sg_meta of that generation updated: blob_chunks,
 * blob_len); sg_blob_load returns the live generation's, NUL-terminated
 * and malloc'ed, or -ENOENT when nothing is stored. A text that does not
 * read back whole, or whose hash is not the recorded one, is "corrupt"
 * (-EUCLEAN).
 */
int sg_blob_store(struct sg_state *st, const char *text, size_t len);
int sg_blob_load(struct sg_state *st, char **text, size_t *len);

/* ---- additions used by the commands ---- */

/*
 * The record of the live generation's config (sg_meta[SG_META_GEN]): its
 * hash, generation, size, load time. A never-loaded state reads as all
 * zero (loaded_at == 0).
 */
int sg_meta_read(struct sg_state *st, struct sg_meta *m);
/* Writes m as the record of generation m->gen and as the last complete
 * load (sg_meta[SG_META_COMMIT]). */
int sg_meta_write(struct sg_state *st, const struct sg_meta *m);
/* The live generation (sg_active[0].gen). */
int sg_active_gen(struct sg_state *st, __u32 *gen);

/* Every (id, slot) of the live generation; *ids is n * SG_ID_LEN bytes. */
int sg_slot_list(struct sg_state *st, char **ids, __u32 **slots, size_t *n);

/*
 * A slot plan: which instance gets which slot in the generation a commit
 * writes, decided in memory from the live slots; nothing is written until
 * sg_state_commit (so a failure or a crash before the flip leaves the
 * slots as they were). An id keeps the slot it holds; ids of the live
 * generation not in the plan give theirs up, and those slots may be
 * given to new ids in the same plan.
 */
struct sg_slot_plan {
	size_t n;
	char *ids;	 /* n * SG_ID_LEN: the plan's ids, in order */
	int *slots;	 /* [n]: slot in the new generation, -1: none */
	bool *fresh;	 /* [n]: a slot the id does not hold now */
	int *held;	 /* [n]: the slot it holds now, -1: none */
	__u32 *released; /* slots of live ids not in the plan */
	size_t nreleased;
	unsigned long used[SG_MAX_INSTANCES / (8 * sizeof(unsigned long))];
};

/* Starts a plan for ids[0..n) (every id of the config; -ENAMETOOLONG,
 * reported, for an id too long); every slots[i] starts at -1. */
int sg_slot_plan_init(struct sg_state *st, const char *const *ids, size_t n,
		      struct sg_slot_plan *sp);
/* ids[i] keeps the slot it holds: returns it, or -ENOENT (none). */
int sg_slot_plan_keep(struct sg_slot_plan *sp, size_t i);
/* ids[i] gets the lowest slot free in the plan; -ENOSPC, reported. Call
 * after every keep (a slot held by an id of the plan is never free). */
int sg_slot_plan_alloc(struct sg_slot_plan *sp, size_t i);
void sg_slot_plan_free(struct sg_slot_plan *sp);

/*
 * One load, in the order that survives a crash at any point (every
 * bpf() call):
 *   1. the last load's config hash cleared (sg_meta[SG_META_COMMIT]);
 *   2. generation ng (the inactive one) written: policy maps, instances
 *      at the plan's slots, exact maps and filter;
 *   3. the config text stored as ng's (its own blob keys, then its
 *      record sg_meta[SG_META_GEN(ng)]);
 *   4. the plan's slots written as ng's half of sg_slots (the live half
 *      untouched), what the datapath kept for fresh and released slots
 *      forgotten (nothing runs with them: attached instances keep theirs);
 *   5. the flip: sg_active = ng;
 *   6. sg_meta[SG_META_COMMIT] = ng's record, hash set: the load is done;
 *   7. entries of ids without a slot in ng dropped from sg_slots.
 * A crash before 5 leaves the old generation live with its slots and
 * config; after 5, the new one with its slots and config; either way the
 * hash of 6 is missing until a load completes, so the next load of
 * either file is not "unchanged" and rewrites it. Nothing needs rolling
 * back: the half of sg_slots and the blob keys of the dead generation
 * are rewritten by the next commit.
 */
struct sg_commit {
	const struct sg_compiled *c;	  /* c->ninsts == slots->n */
	const struct sg_slot_plan *slots; /* in the order of c->insts */
	const char *text; /* config to store; NULL: the live one again */
	size_t len;
	const struct sg_apply_opts *opts; /* NULL: defaults */
	struct sg_image *image;		  /* set: the image written, kept */
	struct sg_commit_stats *stats;	  /* set: what was written */
};

int sg_state_commit(struct sg_state *st, const struct sg_commit *cm);

/*
 * What one generation's policy maps hold, in memory (state/image.c):
 * instance settings, addresses, both LPM stages in the order compiled
 * (generation bit and exact flags set), which stages have exact copies,
 * the filter words. A commit can hand back the image it wrote so the
 * next one diffs against it (sg_state_commit_incremental).
 */
struct sg_image {
	__u32 gen;
	struct sg_class_key *ck; /* stage 1 */
	struct sg_class_val *cv;
	size_t nc;
	struct sg_rule_key *rk; /* stage 2 */
	struct sg_rule_val *rv;
	size_t nr;
	bool use_class, use_rule; /* the exact copies (compile/exact.h) */
	size_t nxc, nxr;	  /* how many entries they hold */
	struct sg_inst *inst;	  /* [SG_MAX_INSTANCES] */
	struct sg_ip_key *ip;
	size_t nip;
	__u64 *bloom; /* [SG_BLOOM_WORDS] as in the map; NULL: unknown */
	/* Entries of the other generation (left by the load before):
	 * the exact plan counts them and the maps must hold both. */
	size_t other_class, other_rule, other_xclass, other_xrule, other_ip;
	struct run *runs; /* stage 2 by class id, once a delta needed it */
	size_t nruns;
};

void sg_image_free(struct sg_image *im);
/* True when im is of the live generation and the live instance settings
 * read back as im has them (a guard against another writer). */
bool sg_image_is_live(struct sg_state *st, const struct sg_image *im);
/* sg_meta[SG_META_COMMIT]: the last complete load (hash 0: none). */
int sg_commit_record(struct sg_state *st, struct sg_meta *m);

/* What a commit wrote: policy-map entries (both stages, their exact
 * copies, addresses, instance settings) written and deleted. */
struct sg_commit_stats {
	bool incremental;
	size_t written, deleted;
};

/*
 * A change written into the live generation in place, when old is the
 * image of the live generation (the caller knows it is: its own last
 * commit, and the commit record unchanged since). Order (docs/design.md,
 * "Incremental apply"):
 *   1. the last load's config hash cleared (sg_meta[SG_META_COMMIT]);
 *   2. the plan's slots written as the live half of sg_slots, what the
 *      datapath kept for fresh slots forgotten;
 *   3. adds and changes, pointed-at entries first (state/image.c);
 *   4. deletes, pointing entries first;
 *   5. what the datapath kept for released slots forgotten;
 *   6. the config text stored as the live generation's, then its record;
 *   7. sg_meta[SG_META_COMMIT] = that record: done; ids without a slot
 *      dropped from sg_slots.
 * Returns -EAGAIN, having written nothing, when the change is not one to
 * write in place (more than max_ops stage entries, the exact fronts
 * switched on or off, the maps too full for old and new side by side):
 * the caller commits a new generation instead. *next: the image now live.
 */
int sg_state_commit_incremental(struct sg_state *st, const struct sg_commit *cm,
				struct sg_image *old, size_t max_ops,
				struct sg_image *next,
				struct sg_commit_stats *stats);

/*
 * "unchanged (already loaded)": true only when the last load completed
 * (its hash set), it is the live generation's, and the stored config of
 * the live generation reads back whole with that hash and length.
 */
bool sg_state_is_current(struct sg_state *st, __u64 hash, size_t len);

/*
 * Forgets what the datapath keeps per slot, for slots just released:
 * conntrack entries (sg_ct4, sg_ct), sg_ct_count, fragment verdicts,
 * rejected-flow records (sg_reject), counters.
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

/*
 * Unpins the pins of sgctl's maps under pin_dir (whichever are there: a
 * damaged state too), then unmounts the bpffs and removes the directory
 * only if sgctl mounted or created them. Nothing else is touched.
 */
int sg_state_remove(const char *pin_dir);

/*
 * Serialises mutating commands on one state: an exclusive flock on
 * /run/sgctl.lock (default pin dir) or /run/sgctl-HASH.lock (HASH: of the
 * canonical pin dir, so every spelling shares it), waiting up to
 * timeout_ms. The pin dir is checked (sg_pin_dir_check) before any lock
 * file is made. Returns the fd to keep open, -EBUSY ("another sgctl is
 * running"), or the refusal of the pin dir.
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

/*
 * Every tracked flow, IPv4 (sg_ct4) and IPv6 (sg_ct) alike, with its key
 * in the one wide form (struct sg_ct_key); malloc'ed arrays, like
 * sg_map_dump(). Errors are reported.
 */
int sg_ct_dump(struct sg_state *st, struct sg_ct_key **keys,
	       struct sg_ct_val **vals, size_t *n);
/*
 * Deletes tracked flows by wide key (one already gone is not an error),
 * then bumps the conntrack epoch so that no flow cache vouches for them.
 */
int sg_ct_delete(struct sg_state *st, const struct sg_ct_key *keys, size_t n);

/*
 * Adds to IPv4 entries what the per-CPU flow caches (cache_fd:
 * sg_flow_cache) counted for them and have not handed over yet, as the
 * datapath would at the flow's next long-path packet.
 */
int sg_flow_cache_merge(int cache_fd, const struct sg_ct4_key *keys,
			struct sg_ct_val *vals, size_t n);
/* Bumps sg_active.ct_epoch (active_fd: sg_active). */
int sg_ct_epoch_bump(int active_fd);

/*
 * The flow-log records of rejects (sg_reject) as readers must see them:
 * each CPU's pending counts of the slots given (sg_reject_budget.pend) added
 * to the record with the same key, or appended as a record of their own if
 * the hash has none. budget_fd < 0: the hash alone. The hash is read first:
 * a flush racing the read can only delay counts to the next read, never
 * count them twice. malloc'ed arrays, like sg_map_dump().
 */
int sg_reject_dump(int reject_fd, int budget_fd, const __u32 *slots,
		   size_t nslots, struct sg_reject_key **keys,
		   struct sg_reject_val **vals, size_t *n);

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
