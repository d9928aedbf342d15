/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Helpers shared by the files of the state layer, not by its users.
 */
#ifndef SG_STATE_INTERNAL_H
#define SG_STATE_INTERNAL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

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
			    __u32 gen, size_t *kept);
/* Deletes the entries of a hash map whose __u32 at slot_off is in slots. */
int sg_map_delete_by_slot(int fd, size_t ksz, size_t vsz, size_t slot_off,
			  const __u32 *slots, size_t nslots);
bool sg_in_slots(__u32 s, const __u32 *slots, size_t n);

#endif /* SG_STATE_INTERNAL_H */
