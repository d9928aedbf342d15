/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The reference model of docs/semantics.md §2-3: the verdict a new flow gets,
 * computed the obvious way (a loop over the instance's groups and their
 * rules on the config model), independently of compile.c and the maps.
 * `sgctl check` runs the real datapath on a synthesised packet and compares
 * its verdict with this one; a disagreement is a bug in one of them.
 */
#ifndef SG_REFMODEL_H
#define SG_REFMODEL_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/model.h"

/* A new flow's first packet, as the instance sees it. */
struct sg_ref_pkt {
	int dir;    /* enum sg_dir: SG_DIR_IN (remote -> instance) or OUT */
	int family; /* 4 or 6 */
	uint8_t remote[16];	  /* the peer's address; IPv4 in the first 4 */
	int proto;		  /* IP protocol number 0-255 */
	int sport, dport;	  /* tcp/udp; else ignored */
	int icmp_type, icmp_code; /* the family's ICMP; else ignored */
};

enum sg_ref_reason {
	SG_REF_BY_RULE, /* accepted: a rule allows it */
	SG_REF_INFRA,	/* accepted: never filtered (ND/RS/RA, DHCP) */
	SG_REF_NO_RULE, /* rejected: no rule of any group allows it */
	SG_REF_CT_FULL, /* rejected: allowed, but the table is full */
};

/* Why a rule did not match (bits). */
#define SG_REF_MISS_PEER  (1u << 0) /* the remote is not in its peer */
#define SG_REF_MISS_PROTO (1u << 1) /* another protocol */
#define SG_REF_MISS_PORT  (1u << 2) /* right protocol, port not in range */
#define SG_REF_MISS_ICMP  (1u << 3) /* right ICMP, another type/code */

struct sg_ref_hit {
	int group;	   /* index in cfg->groups */
	int rule;	   /* index in that group's rules */
	unsigned int miss; /* 0 for a match; SG_REF_MISS_* for a near miss */
};

struct sg_ref_result {
	bool accept;
	enum sg_ref_reason reason;
	bool tracked; /* accepted by a rule: the flow gets a conntrack entry */
	struct sg_ref_hit *matches; /* every rule that allows it */
	size_t nmatches;
	struct sg_ref_hit *near; /* rejected: the closest rules, best first */
	size_t nnear;
};

/* At most this many near misses are reported. */
#define SG_REF_MAX_NEAR 5

/*
 * The verdict for instance cfg->instances[inst]. ct_full: the instance's
 * tracking table is at its capacity (then a flow that would be tracked is
 * rejected). Returns 0, or -ENOMEM / -EINVAL.
 */
int sg_ref_decide(const struct sg_config *cfg, size_t inst,
		  const struct sg_ref_pkt *p, bool ct_full,
		  struct sg_ref_result *out);
void sg_ref_result_free(struct sg_ref_result *r);

/* SG_REF_MISS_* of one rule for p (0: it allows p). */
unsigned int sg_ref_rule_miss(const struct sg_config *cfg,
			      const struct sg_rule *r,
			      const struct sg_ref_pkt *p);
/* Whether the remote address is in the rule's peer. */
bool sg_ref_peer_has(const struct sg_config *cfg, const struct sg_rule *r,
		     int family, const uint8_t *addr);
/* Whether proto is the ICMP of this family (1 for IPv4, 58 for IPv6). */
bool sg_ref_is_icmp(int family, int proto);
/* Never filtered (docs/semantics.md §5: ND/RS/RA, DHCPv4, DHCPv6). */
bool sg_ref_is_infra(const struct sg_ref_pkt *p);

/* "tcp", "udp", "icmp", "icmpv6", else the number; buf >= 8 bytes. */
const char *sg_ref_proto_name(int proto, char *buf, size_t len);
/* One line on why r missed, e.g. "wrong port: allows 22, not 8080". */
void sg_ref_explain_miss(const struct sg_config *cfg, const struct sg_rule *r,
			 const struct sg_ref_pkt *p, unsigned int miss,
			 char *buf, size_t len);

/* What the kernel decided (enforce/kcheck.h), compared with the model. */

/* What the loaded programs decided, in dry-run mode. */
struct sg_kverdict {
	int counter;	/* enum sg_counter */
	bool matched;	/* a stage-2 entry was found */
	__u32 rule_ref; /* its rule_ref, when matched */
	__u32 rule_flags;
};

struct sg_compiled;
/*
 * Whether the kernel's verdict is the model's: same verdict and reason,
 * same tracking, and the rule the kernel's lookup found (rule_ref, through
 * c->rule_refs) is one the model says allows it. why: the difference.
 */
bool sg_check_agree(const struct sg_compiled *c, const struct sg_ref_result *m,
		    const struct sg_kverdict *k, char *why, size_t len);

/* The packet's local end for instance in: its first address of the family
 * (a documentation address when it has none). */
void sg_ref_local_addr(const struct sg_instance *in, int family,
		       uint8_t out[16]);

/*
 * The first frame of the flow p starts (local: the instance's address):
 * Ethernet, IP and the first bytes of L4 (a TCP SYN, a UDP datagram, an
 * ICMP message, a few bytes of another protocol), at least 60 bytes as on
 * the wire. f holds cap >= 128 bytes. Returns the frame's length.
 */
size_t sg_ref_frame(const struct sg_ref_pkt *p, const uint8_t *local,
		    uint8_t *f, size_t cap);

/* The counter's machine name from SG_COUNTERS ("accept_new", ...). */
const char *sg_counter_name(int counter);

#endif /* SG_REFMODEL_H */
