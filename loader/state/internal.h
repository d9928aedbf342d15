/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers shared by the files of the state layer, not by its users.
 */
#ifndef SG_STATE_INTERNAL_H
#define SG_STATE_INTERNAL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "state/state.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* the kernel's "operation not supported" for batches */
#endif

#define BITS_PER_UL (8 * sizeof(unsigned long))

/* dir/name into buf; -ENAMETOOLONG when it does not fit. */
int sg_pin_path(char *buf, size_t len, const char *dir, const char *name);

/* Writes n entries (hash maps in batches). */
int sg_map_update_all(int fd, const void *keys, const void *vals, size_t ksz,
		      size_t vsz, size_t n);
/* sg_map_update_all(), saying which map failed and how many entries. */
int sg_map_write(int fd, const char *name, const void *keys, const void *vals,
		 size_t ksz, size_t vsz, size_t n);
/*
 * Deletes the entries whose generation bit (the __u32 at gen_off in the
 * key) is gen; *kept (if kept) is how many of the other generation remain.
 */
int sg_map_purge_generation(int fd, size_t ksz, size_t vsz, size_t gen_off,
			    __u32 gen, size_t *kept, size_t *deleted);
/* Deletes the entries of a hash map whose __u32 at slot_off is in slots. */
int sg_map_delete_by_slot(int fd, size_t ksz, size_t vsz, size_t slot_off,
			  const __u32 *slots, size_t nslots);
bool sg_in_slots(__u32 s, const __u32 *slots, size_t n);

struct sg_state;
struct sg_slot_plan;
struct sg_slot_key;
struct sg_slot_val;
/* Every entry of sg_slots, both halves. */
int sg_slot_dump(struct sg_state *st, struct sg_slot_key **keys,
		 struct sg_slot_val **vals, size_t *n);
/* A commit's step 4: generation ng's half of sg_slots is the plan's. */
int sg_slot_plan_write(struct sg_state *st, const struct sg_slot_plan *sp,
		       __u32 ng);
/* Drops the entries without a slot in generation gen (the live one). */
int sg_slot_prune(struct sg_state *st, __u32 gen);
/* Copies generation gen's half of sg_slots to ng's (an apply that keeps
 * every slot). */
int sg_slot_sync(struct sg_state *st, __u32 gen, __u32 ng);
/* A commit's step 2: generation ng written, not flipped. img (may be
 * NULL) gets the image written, stats (may be NULL) the counts. */
int sg_generation_write(struct sg_state *st, const struct sg_compiled *c,
			const int *slots, size_t nslots,
			const struct sg_apply_opts *opts, __u32 ng,
			struct sg_image *img, struct sg_commit_stats *stats);

/* Images (image.c). */
struct sg_exact_sizes;
int sg_image_build(const struct sg_compiled *c, const int *slots,
		   size_t nslots, const struct sg_exact_sizes *sizes, __u32 ng,
		   bool bloom, struct sg_image *im);
/* The exact-match entries of an image (malloc'ed, nxc and nxr of them). */
int sg_image_exact(const struct sg_image *im, struct sg_class_exact_key **xck,
		   struct sg_class_val **xcv, struct sg_rule_exact_key **xrk,
		   struct sg_rule_val **xrv);
/* The writes taking the live generation from image old to the image of c
 * (*next), ordered; -EAGAIN when it is no change to write in place. The
 * filter words move from old to next. */
struct sg_delta;
int sg_delta_make(struct sg_state *st, struct sg_image *old,
		  const struct sg_compiled *c, const int *slots, size_t nslots,
		  const struct sg_apply_opts *opts, size_t max_ops,
		  struct sg_image *next, struct sg_delta **out);
int sg_delta_write(struct sg_state *st, const struct sg_delta *d,
		   size_t *written, size_t *deleted);
void sg_delta_free(struct sg_delta *d);
/* Tests only: sg_delta_write stops with -EINTR after this many map
 * writes (0: no limit), as a kill there would. */
extern size_t sg_delta_write_limit;
/* The config text as generation gen's, deleting stale chunks only below
 * old_chunks (a store over a known record). */
int sg_blob_store_gen_over(struct sg_state *st, __u32 gen, const char *text,
			   size_t len, __u64 hash, __u32 old_chunks);
int sg_generation_flip(struct sg_state *st, __u32 ng);
/* The config text as generation gen's (blob keys, then its record). */
int sg_blob_store_gen(struct sg_state *st, __u32 gen, const char *text,
		      size_t len, __u64 hash);
int sg_meta_get(struct sg_state *st, __u32 key, struct sg_meta *m);
int sg_meta_put(struct sg_state *st, __u32 key, const struct sg_meta *m);

#endif /* SG_STATE_INTERNAL_H */
