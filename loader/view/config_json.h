/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The config's JSON objects, shared by `sgctl show -j`, `sgctl rules -j`
 * and the console (docs/console.md GROUP, RULE, INSTANCE), so the command
 * line and the console never disagree.
 *
 * The *_fields functions write an object's members only: the caller opens
 * and closes the object, and may add members of its own (the console adds
 * a rule's type and usage, a group's counts...).
 *
 * What a request needs from the datapath is read once (struct
 * sg_view_slots, struct sg_view_usage) and then looked up per object, so
 * a page of 1,000 groups or 10,000 instances is one pass, not a product.
 */
#ifndef SG_VIEW_CONFIG_JSON_H
#define SG_VIEW_CONFIG_JSON_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/model.h"
#include "enforce/attach.h"
#include "out/json.h"
#include "state/rulehits.h"
#include "state/state.h"

const char *sg_view_dir_name(int dir); /* "inbound", "outbound" */
const char *sg_view_peer_kind(enum sg_peer_kind k);
/* AWS's Name tag (what the console shows); NULL when none. */
const char *sg_view_name_tag(const struct sg_tag *t, size_t n);
/* "tags": {"Key": "Value"...} */
void sg_view_tags(struct sg_json *j, const struct sg_tag *t, size_t n);

/* ---- the objects of show -j ---- */

/* id, direction, rule, protocol, ports / ICMP, peer, peer_kind,
 * peer_group, description, tags. */
void sg_view_rule_fields(struct sg_json *j, const struct sg_config *cfg,
			 const struct sg_rule *r);
/* id, name, description, implicit, name_tag, tags, outside (show -j then
 * adds "rules"). */
void sg_view_group_fields(struct sg_json *j, const struct sg_group *g);
/* id, ips, groups, slot (slot < 0: null), interface, host, netns,
 * host_side, source_dest_check, filtered, name_tag, tags, conntrack. */
void sg_view_instance_fields(struct sg_json *j, const struct sg_config *cfg,
			     const struct sg_instance *in, int slot);
/* interface, ifindex, netns, mode, xdp_mode, instance, slot, xdp_prog_id,
 * tc_prog_id, status. */
void sg_view_attachment_fields(struct sg_json *j, const struct sg_attach_key *k,
			       const struct sg_attach_val *v,
			       enum sg_att_status status);

/* ---- what the console adds ---- */

/* type (the AWS console's Type: "HTTP", "Custom TCP"...) and port_range
 * ("80", "8000-8080", "All", "N/A"). */
void sg_view_rule_console_fields(struct sg_json *j, const struct sg_rule *r);

/* ---- instance slots of this host, for a config ---- */

struct sg_view_slots {
	size_t ninst;
	__u32 *of; /* per config instance: its slot, or SG_SLOT_NONE */
	int *inst; /* per slot (SG_MAX_INSTANCES): config instance or -1 */
};

/* The live generation's slots (st NULL: nothing loaded here, no slots).
 * One map dump and a sort; 0 or a negative errno (reported). */
int sg_view_slots_read(struct sg_view_slots *s, struct sg_state *st,
		       const struct sg_config *cfg);
void sg_view_slots_free(struct sg_view_slots *s);

/*
 * A config's instance ids sorted, for lookups by id in O(log n) (the
 * config's own sg_config_find_instance is a scan).
 */
struct sg_view_index {
	const struct sg_config *cfg;
	size_t *order; /* instance indices sorted by id */
	size_t n;
};
int sg_view_index_build(struct sg_view_index *x, const struct sg_config *cfg);
int sg_view_index_find(const struct sg_view_index *x, const char *id);
void sg_view_index_free(struct sg_view_index *x);

/* ---- an instance's attachments and conntrack (the console) ---- */

struct sg_view_attach {
	struct sg_state *st;
	struct sg_attach_key *keys;
	struct sg_attach_val *vals;
	size_t n;
	size_t *order; /* records by (config instance, netns, interface) */
	size_t *start; /* per config instance i: order[start[i]..start[i+1]) */
	struct sg_owner owner;
	bool have_owner;
};

/* The attachment records, read once (st NULL: none) and grouped by
 * instance (ids looked up in x). */
int sg_view_attach_read(struct sg_view_attach *a, struct sg_state *st,
			const struct sg_view_index *x);
void sg_view_attach_free(struct sg_view_attach *a);

/*
 * What the console adds to instance i: attached (one of its records is
 * live in the kernel), attachments (show -j's objects, each checked
 * against the kernel), conntrack_used and conntrack_room (null without a
 * slot here).
 */
void sg_view_instance_console_fields(struct sg_json *j,
				     const struct sg_view_attach *a,
				     const struct sg_view_slots *s, size_t i);

/* ---- rule usage (sgctl rules -j) ---- */

struct sg_use {
	__u64 hits, packets, bytes;
	__u64 last_ns; /* CLOCK_MONOTONIC; 0: never */
};

struct sg_view_usage {
	const struct sg_config *cfg;
	const struct sg_view_slots *slots;
	struct sg_rule_usage *u; /* sorted by (rule_key, slot) */
	size_t nu;
	__s64 offset_ns; /* realtime - monotonic */
	__u64 now_s;	 /* unix seconds */
};

/* The counts of every rule, read once (st NULL: all zero). */
int sg_view_usage_read(struct sg_view_usage *v, struct sg_state *st,
		       const struct sg_config *cfg,
		       const struct sg_view_slots *slots);
void sg_view_usage_free(struct sg_view_usage *v);

/* Whether the instance carries group g. */
bool sg_view_has_group(const struct sg_instance *in, size_t g);
/* Whether instance i counts for the rules of group g: enforced here (not
 * remote, with a slot) and carrying g. */
bool sg_view_counts(const struct sg_view_usage *v, size_t g, size_t i);
/* Instance i's use of rule r (of group g); zero when it has none. */
void sg_view_rule_use_of(const struct sg_view_usage *v, const struct sg_rule *r,
			 size_t i, struct sg_use *u);
/* Rule r of group g summed over the instances that count for g. */
void sg_view_rule_use(const struct sg_view_usage *v, size_t g,
		      const struct sg_rule *r, struct sg_use *sum);
/* hits, packets, bytes, last_used (unix s or null), last_used_age_s. */
void sg_view_use_fields(struct sg_json *j, const struct sg_view_usage *v,
			const struct sg_use *u);
/* A CLOCK_MONOTONIC stamp as unix seconds; 0 for 0 (never). */
__u64 sg_view_unix_s(const struct sg_view_usage *v, __u64 mono);

#endif /* SG_VIEW_CONFIG_JSON_H */
