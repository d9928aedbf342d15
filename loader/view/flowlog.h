/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Flow records (VPC Flow Logs version 2 and its custom fields), as
 * `sgctl flowlog` prints them and the console's flow-log buffer keeps
 * them: what the datapath holds, the names that label it, one record's
 * field values and its JSON object.
 *
 * Where the records come from (no per-packet event ever leaves the
 * kernel, and nothing runs in the datapath for them when nobody reads):
 *   ACCEPT    the conntrack entries (sg_ct4, sg_ct): their per-direction
 *             packet and byte counters, one record per direction that carried
 *             traffic, source and destination as those packets travelled;
 *   REJECT    sg_reject, an LRU hash the datapath updates on its drop path
 *             only (no rule allowed the packet), one entry per flow (it
 *             keeps untracked accepts too, as ACCEPT);
 *   SKIPDATA  the rejects the datapath counted but kept no record of (its
 *             per-window budget spent), per slot and direction.
 *
 * Times: the datapath stamps bpf_ktime_get_ns() (CLOCK_MONOTONIC); records
 * carry unix seconds, converted with a CLOCK_REALTIME - CLOCK_MONOTONIC
 * offset the reader takes at each poll.
 */
#ifndef SG_VIEW_FLOWLOG_H
#define SG_VIEW_FLOWLOG_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include "config/model.h"
#include "out/json.h"
#include "state/state.h"

enum sg_fl_action {
	SG_FL_ACCEPT = 0,
	SG_FL_REJECT = 1,
	SG_FL_SKIPDATA = 2,
};

/* What makes a record one flow in one direction (compared with memcmp). */
struct sg_flow_id {
	__u32 slot;
	__u8 action; /* enum sg_fl_action */
	__u8 family;
	__u8 proto;
	__u8 dir;	    /* enum sg_dir: one record per direction */
	__u16 sport, dport; /* host order */
	__u8 reason;	    /* enum sg_counter of a sg_reject record */
	__u8 pad[3];
	__u8 saddr[16];
	__u8 daddr[16];
	__u64 epoch; /* conntrack created_ns / reject first_ns: a new flow
		      * reusing the key starts counting afresh */
};

struct sg_flow {
	struct sg_flow_id id;
	__u64 packets, bytes;
	__u64 first_ns, last_ns; /* monotonic */
	__u64 rule_key;		 /* the admitting rule; 0: none */
	__u8 tcp_flags;		 /* OR of the flags seen */
	__u8 origin; /* enum sg_dir of the flow's first packet (conntrack);
		      * a reject's own direction */
};

struct sg_flows {
	struct sg_flow *v;
	size_t n, cap;
};

int sg_flows_push(struct sg_flows *f, const struct sg_flow *x);
void sg_flows_free(struct sg_flows *f);
/* qsort/bsearch orders: by id (memcmp), by first packet then id. */
int sg_flow_id_cmp(const void *a, const void *b);
int sg_flow_time_cmp(const void *a, const void *b);
/*
 * Pollers: cur (the same flow as prev, or prev NULL) never reads lower than
 * prev; it keeps prev's counts instead. A reject run's pending counts
 * flushed into its record while the snapshot read them are missed by that
 * snapshot only (sg_reject_dump reads the record first), never counted
 * twice: this keeps the difference to the next poll exact.
 */
void sg_flow_no_less(struct sg_flow *cur, const struct sg_flow *prev);
/*
 * What a poll adds to a flow: *d is cur less prev (prev NULL: all of cur;
 * cur first kept no lower than prev), starting where prev ended. False
 * when it adds no packet.
 */
bool sg_flow_delta(struct sg_flow *cur, const struct sg_flow *prev,
		   struct sg_flow *d);

/* ---- the names that label records ---- */

/* A rule key and the id it stands for (sg_rule_key_of). */
struct sg_fl_rule {
	__u64 key;
	char id[SG_RULE_ID_SIZE];
};

/* Who the records are about: read at start and again after a reload. */
struct sg_fl_names {
	char *ids; /* SG_ID_LEN each */
	__u32 *slots;
	size_t nslots;
	const char **by_slot; /* SG_MAX_INSTANCES: slot -> id or NULL */
	bool have_want;
	__u32 want_slot; /* SG_MAX_INSTANCES: the instance is not loaded */
	char account[64];
	char vpc[64];
	char region[64];
	struct sg_fl_rule *rules; /* sorted by key */
	size_t nrules;
};

/*
 * The slot table, the account, VPC, region and rule ids (the stored
 * config's; the defaults when it does not parse) of st, and the slot of
 * want (NULL: none). 0 or a negative errno (reported).
 */
int sg_fl_names_read(struct sg_state *st, const char *want,
		     struct sg_fl_names *n);
void sg_fl_names_free(struct sg_fl_names *n);
/* The instance id of slot, or NULL. */
const char *sg_fl_owner(const struct sg_fl_names *n, __u32 slot);
bool sg_fl_owner_changed(const struct sg_fl_names *a,
			 const struct sg_fl_names *b, __u32 slot);
/* Would a record read under a be labelled otherwise under b? */
bool sg_fl_names_differ(const struct sg_fl_names *a,
			const struct sg_fl_names *b);
/* The id of a rule key; "-" when none or unknown. */
const char *sg_fl_rule_id(const struct sg_fl_names *n, __u64 key);
int sg_fl_rule_cmp(const void *a, const void *b); /* by key */

/* ---- the datapath ---- */

/* What the last poll saw of the state, to notice a change cheaply. */
struct sg_fl_seen {
	__u32 meta_map_id; /* of the sg_meta map we read */
	__u32 gen;	   /* sg_active */
	struct sg_meta meta;
	bool missing; /* no sg_meta pinned at the last poll */
};

/* A read-only view of one pin directory's flow maps and their names. */
struct sg_fl_src {
	struct sg_state st;
	struct sg_fl_names names;
	struct sg_fl_seen seen;
	const char *want; /* only this instance's records (NULL: all) */
	int reject_fd;	  /* -1: this datapath keeps no rejected flows */
	int skip_fd;	  /* sg_reject_budget, or -1 */
};

/*
 * Opens the state of pin_dir read-only, notes what it looks like, then
 * reads the names (a reload in between is noticed at the first watch).
 * 0 or a negative errno (reported); on failure x is closed.
 */
int sg_fl_open(struct sg_fl_src *x, const char *pin_dir, const char *want);
void sg_fl_close(struct sg_fl_src *x);

/* Every flow now, sorted by id (reuses out->v). */
int sg_fl_snapshot(struct sg_fl_src *x, struct sg_flows *out);

enum sg_fl_change {
	SG_FL_SAME,
	SG_FL_RELOADED, /* same maps, another generation or sg_meta */
	SG_FL_REBUILT,	/* other maps pinned, their load finished */
	SG_FL_LOADING,	/* other maps pinned, their first load not finished */
	SG_FL_MISSING,	/* no sg_meta pinned */
};

/* The cheap check of every poll: the pinned sg_meta's map id and value,
 * and sg_active. */
int sg_fl_watch(struct sg_fl_src *x, enum sg_fl_change *what);
/* What the state looks like now, from the maps x has open. */
int sg_fl_seen_now(struct sg_fl_src *x, struct sg_fl_seen *w);
/* Swaps in names n (taking them over) and the state seen w. */
void sg_fl_take_names(struct sg_fl_src *x, struct sg_fl_names *n,
		      const struct sg_fl_seen *w);
/* Opens the rebuilt state's maps in place of the old ones; -ENOENT
 * (silently) when the state is gone again. */
int sg_fl_reopen(struct sg_fl_src *x);

/* ---- one record ---- */

/*
 * Record fields: VPC Flow Logs custom-format names, plus sgctl's own
 * sg-rule-id (the rule that admitted the flow), reason (why it was
 * dropped) and audit (AUDIT: no rule allowed it, it passed because the
 * instance is audited).
 */
enum sg_fl_field {
	SG_FL_F_VERSION,
	SG_FL_F_ACCOUNT,
	SG_FL_F_INTERFACE,
	SG_FL_F_SRCADDR,
	SG_FL_F_DSTADDR,
	SG_FL_F_SRCPORT,
	SG_FL_F_DSTPORT,
	SG_FL_F_PROTOCOL,
	SG_FL_F_PACKETS,
	SG_FL_F_BYTES,
	SG_FL_F_START,
	SG_FL_F_END,
	SG_FL_F_ACTION,
	SG_FL_F_LOG_STATUS,
	SG_FL_F_VPC,
	SG_FL_F_INSTANCE,
	SG_FL_F_FLOW_DIR,
	SG_FL_F_TCP_FLAGS,
	SG_FL_F_PKT_SRCADDR,
	SG_FL_F_PKT_DSTADDR,
	SG_FL_F_TYPE,
	SG_FL_F_REGION,
	SG_FL_F_RULE_ID,
	SG_FL_F_REASON,
	SG_FL_F_AUDIT,
	SG_FL_NFIELDS,
};

struct sg_fl_field_def {
	const char *name;
	bool num; /* a number in JSON ("-": null) */
};
extern const struct sg_fl_field_def sg_fl_fields[SG_FL_NFIELDS];

#define SG_FL_VAL_LEN 80

/* The names one record is labelled with (NULL instance or rule id: "-"). */
struct sg_fl_labels {
	const char *account, *vpc, *region;
	const char *instance;
	const char *rule_id;
};

/* f's labels under names n. */
void sg_fl_labels_of(const struct sg_fl_names *n, const struct sg_flow *f,
		     struct sg_fl_labels *l);

/* "no-rule", "conntrack-full", "source-check", ...; "-" for accepts. */
const char *sg_fl_reason(const struct sg_flow *f, char *buf, size_t len);

/* Every field of f as text; offset_ns = realtime - monotonic. */
void sg_fl_values(const struct sg_flow *f, const struct sg_fl_labels *l,
		  __s64 offset_ns, char vals[SG_FL_NFIELDS][SG_FL_VAL_LEN]);

/*
 * The record's members, into an object the caller opened: the fields
 * want[] selects (want NULL: every field, then "direction", inbound or
 * outbound), numbers as numbers.
 */
void sg_fl_json_members(struct sg_json *j, const struct sg_flow *f,
			char vals[SG_FL_NFIELDS][SG_FL_VAL_LEN],
			const bool *want);

#endif /* SG_VIEW_FLOWLOG_H */
