/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Parsing CIDRs and addresses into struct sg_prefix (model.h). The helpers
 * sg_prefix_contains() and sg_prefix_str() are declared in model.h.
 */
#ifndef SG_PREFIX_H
#define SG_PREFIX_H

#include <stdbool.h>

#include "config/model.h"

/*
 * Parses "a.b.c.d/n", "v6addr/n", or a bare address (taken as /32 or /128).
 * Host bits below the prefix length are cleared; *host_bits_masked (may be
 * NULL) tells whether any were set. Returns 0, or -EINVAL.
 */
int sg_prefix_parse(const char *s, struct sg_prefix *out,
		    bool *host_bits_masked);

/* Clears the bits below p->len; returns true when some were set. */
bool sg_prefix_mask(struct sg_prefix *p);

/* Same family, length and address. */
bool sg_prefix_equal(const struct sg_prefix *a, const struct sg_prefix *b);

/* Orders by family, address, then length (for sorting and duplicates). */
int sg_prefix_cmp(const struct sg_prefix *a, const struct sg_prefix *b);

#endif /* SG_PREFIX_H */
