// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* A change of `sgctl diff -j` as JSON (view/diff_json.h). */
#include <linux/types.h>

#include "sgctl.h"
#include "view/diff_json.h"
#include "compile/diff.h"
#include "config/model.h"
#include "out/json.h"

static const char *dir_name(int d)
{
	return d == SG_DIR_IN ? "inbound" : "outbound";
}

void sg_view_diff_change(struct sg_json *j, const struct sg_diff *d,
			 const struct sg_diff_change *c,
			 const struct sg_config *old,
			 const struct sg_config *new)
{
	const struct sg_config *cfg = c->accept ? new : old;
	bool icmp = (c->family == 4 && c->proto == SG_PROTO_ICMP) ||
		    (c->family == 6 && c->proto == SG_PROTO_ICMPV6);
	char what[128], pb[64];

	sg_diff_what(c, what, sizeof(what));
	sg_json_begin_object(j);
	sg_json_kv_string(j, "instance", d->insts[c->inst].id);
	sg_json_kv_string(j, "direction", dir_name(c->dir));
	sg_json_kv_int(j, "family", c->family);
	sg_json_kv_string(j, "change", c->accept ? "+ACCEPT" : "-ACCEPT");
	sg_json_kv_string(j, "before", c->accept ? "REJECT" : "ACCEPT");
	sg_json_kv_string(j, "after", c->accept ? "ACCEPT" : "REJECT");
	sg_json_kv_string(j, "traffic", what);
	sg_json_kv_int(j, "protocol_number", c->proto);
	if (c->proto_hi != c->proto)
		sg_json_kv_int(j, "protocol_number_to", c->proto_hi);
	if (c->proto == SG_PROTO_TCP || c->proto == SG_PROTO_UDP) {
		sg_json_kv_int(j, "from_port", c->lo);
		sg_json_kv_int(j, "to_port", c->hi);
	} else if (icmp) {
		sg_json_key(j, "icmp_from");
		sg_json_begin_object(j);
		sg_json_kv_int(j, "type", c->lo >> 8);
		sg_json_kv_int(j, "code", c->lo & 255);
		sg_json_end_object(j);
		sg_json_key(j, "icmp_to");
		sg_json_begin_object(j);
		sg_json_kv_int(j, "type", c->hi >> 8);
		sg_json_kv_int(j, "code", c->hi & 255);
		sg_json_end_object(j);
	}
	sg_json_key(j, c->dir == SG_DIR_IN ? "sources" : "destinations");
	sg_json_begin_array(j);
	for (size_t k = 0; k < c->nprefixes; k++)
		sg_json_string(j,
			       sg_prefix_str(&c->prefixes[k], pb, sizeof(pb)));
	sg_json_end_array(j);
	sg_json_key(j, "rules");
	sg_json_begin_array(j);
	for (size_t k = 0; k < c->nrules; k++) {
		const struct sg_diff_rule *dr = &c->rules[k];
		const struct sg_rule *r =
			&cfg->groups[dr->group].rules[dr->rule];

		sg_json_begin_object(j);
		sg_json_kv_string(j, "side", c->accept ? "new" : "old");
		sg_json_kv_string(j, "rule_id", r->id);
		sg_json_kv_string(j, "group", cfg->groups[dr->group].id);
		sg_json_kv_string(j, "rule", r->text);
		sg_json_kv_string(j, "description", r->description);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
}
