/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One change of `sgctl diff -j` (compile/diff.h) as its JSON object,
 * shared by the command and the console's rule preview.
 */
#ifndef SG_VIEW_DIFF_JSON_H
#define SG_VIEW_DIFF_JSON_H

#include "compile/diff.h"
#include "config/model.h"
#include "out/json.h"

/*
 * {"instance", "direction", "family", "change", "before", "after",
 * "traffic", "protocol_number", ports or ICMP, "sources" or
 * "destinations", "rules": [{"side", "rule_id", "group", "rule",
 * "description"}]}. old and new are the configs d was made from.
 */
void sg_view_diff_change(struct sg_json *j, const struct sg_diff *d,
			 const struct sg_diff_change *c,
			 const struct sg_config *old,
			 const struct sg_config *new);

#endif /* SG_VIEW_DIFF_JSON_H */
