/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Generated configs for the benchmarks (sgctl bench): YAML text that goes
 * through the real parser, validator and compiler like any user's file.
 * Every address is in the benchmark range 198.18.0.0/15 or in 2001:db8::/32.
 */
#ifndef SG_BENCH_GEN_H
#define SG_BENCH_GEN_H

#include <stddef.h>
#include <stdint.h>

/* The instance the micro and live benchmarks measure. */
#define BENCH_INSTANCE	       "i-bench"
#define BENCH_INSTANCE_IP      "198.19.255.1"
#define BENCH_PEER_IP	       "198.19.255.2" /* the generator side of the lab */
#define BENCH_MEMBER_PORT      5432 /* the group-reference rule's port */
#define BENCH_REJECT_PORT      9    /* no generated rule allows it */
#define BENCH_MEMBER_INSTANCES 1000 /* members spread over this many */

/*
 * One instance with `rules` inbound rules (tcp, one port or a small range
 * each, sources spread over 198.18.0.0/16 with lengths /16../32) and, when
 * members > 0, one of them allowing tcp/5432 from a group carried by
 * `members` addresses (on up to BENCH_MEMBER_INSTANCES other instances).
 * Rules are packed 60 IPv4 rules per group (the per-group quota); above
 * 960 (16 groups) the instance quota (groups x rules per group <= 1000)
 * forces 100-rule groups of 60 IPv4 + 40 IPv6 rules.
 */
struct bench_micro_cfg {
	int rules;
	int members;
};

/* What a packet must carry to hit the measured cases. */
struct bench_target {
	uint32_t accept_src;  /* host order: covered by the target rule */
	uint16_t accept_port; /* tcp port the target rule allows */
	int accept_plen;      /* the target rule's source prefix length */
	uint32_t other_src;   /* host order: in no rule's source at all */
	int v4_rules;	      /* IPv4 rules (the rest are IPv6) */
	int groups;
};

/* Returns 0 and a malloc'ed NUL-terminated YAML text, or -ENOMEM. */
int bench_gen_micro(const struct bench_micro_cfg *g, char **text, size_t *len,
		    struct bench_target *t);

/*
 * The control-plane shapes: `groups` groups of `rules` inbound rules each
 * (every 10th rule references another group, the rest are CIDRs), and
 * `instances` instances carrying `per_inst` groups each. Group sg-hub is
 * referenced by every group; with `join`, instance 0 also carries sg-hub
 * (the one-membership change whose apply time is measured).
 */
struct bench_cp_cfg {
	int groups;
	int rules;
	int instances;
	int per_inst;
	int join;
};

int bench_gen_cp(const struct bench_cp_cfg *g, char **text, size_t *len);

#endif /* SG_BENCH_GEN_H */
