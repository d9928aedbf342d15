/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * `sgctl diff`: what two configs decide differently, exactly. For every
 * instance and direction, each config's allowed set is the union of its
 * rules' (peer prefix x protocol x port range) boxes, group references
 * expanded to their members' /32 and /128; the symmetric difference of the
 * two sets is cut at every prefix boundary of either config and merged
 * back into address ranges. No packet is sampled. Pure (no kernel).
 *
 * Port space per protocol: the destination port for TCP and UDP, type <<
 * 8 | code for the family's ICMP, the whole 0-65535 for any other
 * protocol (a rule for it has no ports). Never-filtered ICMPv6 (neighbour
 * discovery, types 133-137) is left out: both configs let it through.
 */
#ifndef SG_DIFF_H
#define SG_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "config/model.h"

/* A rule of one side's config. */
struct sg_diff_rule {
	int group; /* index in that config's groups */
	int rule;  /* index in that group's rules */
};

struct sg_diff_change {
	size_t inst; /* index in sg_diff.insts */
	int dir;     /* enum sg_dir */
	int family;  /* 4 or 6 */
	/* true: accepted by NEW, rejected by OLD; false: the reverse. */
	bool accept;
	int proto; /* 0-255, or SG_PROTO_ALL (every protocol, whole) */
	/* proto..proto_hi: protocols without ports, each whole, with the
	 * same addresses and rules (one change, not one per protocol) */
	int proto_hi;
	int lo, hi;		    /* port (or ICMP type << 8 | code) range */
	struct sg_prefix *prefixes; /* the remote addresses, merged */
	size_t nprefixes;
	/* The rules that allow it on the side that accepts it (NEW for
	 * accept, OLD otherwise), in config order. */
	struct sg_diff_rule *rules;
	size_t nrules;
};

enum sg_diff_presence {
	SG_DIFF_BOTH,
	SG_DIFF_ONLY_OLD, /* removed: everything it allowed is a change */
	SG_DIFF_ONLY_NEW, /* added */
};

struct sg_diff_inst {
	const char *id; /* owned by one of the configs */
	enum sg_diff_presence presence;
	int old_index, new_index; /* in each config; -1 when absent */
};

struct sg_diff {
	struct sg_diff_inst *insts; /* OLD's order, then NEW's new ones */
	size_t ninsts;
	/* By instance, direction, family, then accept before reject,
	 * protocol, port and first address. */
	struct sg_diff_change *changes;
	size_t nchanges;
};

/* Returns 0, or -ENOMEM. The configs must outlive *out (ids). */
int sg_diff_configs(const struct sg_config *old, const struct sg_config *new,
		    struct sg_diff *out);
/*
 * The same for the instances want(inst, arg) keeps (all of them are still
 * listed in out->insts): an edit of one group's rules changes only the
 * instances carrying it, and a big VPC's other instances cost seconds.
 */
int sg_diff_configs_for(const struct sg_config *old,
			const struct sg_config *new,
			bool (*want)(const struct sg_diff_inst *inst, void *arg),
			void *arg, struct sg_diff *out);
void sg_diff_free(struct sg_diff *d);

/*
 * The change's addresses as "outer except holes" when that is shorter
 * (a /48 less one address is 80 prefixes, or one and one): returns 1 and
 * fills *outer and *holes (malloc'ed, sorted); 0 when the prefixes are
 * the shorter form (nothing allocated); -ENOMEM.
 */
int sg_diff_compact(const struct sg_diff_change *c, struct sg_prefix *outer,
		    struct sg_prefix **holes, size_t *nholes);

/*
 * "tcp/8080", "udp/1000-2000", "icmp type 8 code 0", "icmp type 3",
 * "icmpv6 (all types)", "protocol 47", "protocols 7-16", "all traffic": a
 * change's traffic.
 */
void sg_diff_what(const struct sg_diff_change *c, char *buf, size_t len);

#endif /* SG_DIFF_H */
