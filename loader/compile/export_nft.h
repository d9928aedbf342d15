/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The config as an nftables ruleset (sgctl export nft): the same policy,
 * enforced by netfilter and its conntrack instead of XDP and TC.
 */
#ifndef SG_EXPORT_NFT_H
#define SG_EXPORT_NFT_H

#include <stdio.h>

#include "config/model.h"

#define SG_NFT_TABLE "sgctl" /* table inet sgctl */

/*
 * Writes a ruleset for `nft -f` to out: every instance of cfg, or only
 * instance index only (>= 0). Returns 0, -EINVAL (two ids that map to one
 * nftables name; reported) or -EIO.
 */
int sg_export_nft(const struct sg_config *cfg, int only, FILE *out);

#endif /* SG_EXPORT_NFT_H */
