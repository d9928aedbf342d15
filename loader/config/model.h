/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The config model: what a YAML file says, validated. Produced by config/,
 * consumed by compile.c (map entries) and by show/check. Plain data; every
 * string and array is owned by the config and freed by sg_config_free().
 */
#ifndef SG_MODEL_H
#define SG_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/diag.h"

#define SG_PROTO_ALL (-1)
#define SG_ANY (-1) /* icmp_type / icmp_code "all" */

#define SG_MAX_GROUPS_PER_INSTANCE 16 /* AWS's hard limit */
#define SG_MAX_RULES_PER_DIR 60 /* per group, per family: AWS's default quota */
#define SG_MAX_RULES_PER_INSTANCE 1000 /* hard: rules x groups per ENI */
/* Instances in one config (a VPC); only those enforced on this host take
 * one of the SG_MAX_INSTANCES slots. */
#define SG_MAX_CONFIG_INSTANCES 1000000
/* An instance's host (the --host of its agent): at most this many
 * characters of letters, digits, '-', '_', '.'. */
#define SG_HOST_MAX 253

/* A CIDR. IPv4 uses addr[0..3]; host bits are always zero. */
struct sg_prefix {
	uint8_t family; /* 4 or 6 */
	uint8_t len; /* 0-32 or 0-128 */
	uint8_t addr[16];
};

enum sg_peer_kind {
	SG_PEER_CIDR,
	SG_PEER_PREFIX_LIST,
	SG_PEER_GROUP,
};

/* An AWS tag (Key, Value), kept from the input (`tags:`). */
struct sg_tag {
	char *key;
	char *value;
};

/* "sgr-" + 17 lowercase hex digits + NUL (AWS's SecurityGroupRuleId). */
#define SG_RULE_ID_SIZE 22

/*
 * One allow rule with one peer. A YAML rule with a list of sources becomes
 * several sg_rule (as AWS stores them), sharing pos, text and description.
 */
struct sg_rule {
	int dir; /* enum sg_dir */
	int proto; /* 0-255 or SG_PROTO_ALL */
	int port_lo, port_hi; /* tcp/udp only; else -1 */
	int icmp_type, icmp_code; /* icmp/icmpv6 only: 0-255 or SG_ANY */
	enum sg_peer_kind peer_kind;
	struct sg_prefix cidr; /* SG_PEER_CIDR */
	int peer_index; /* index of the prefix list or group */
	char *peer_text; /* the peer as written: "203.0.113.10/32", "sg-web" */
	char *text; /* the rule as written, e.g. "ssh (tcp/22) from 203.0.113.10/32" */
	char *description; /* may be NULL */
	/* Stable id: written (YAML id:, AWS SecurityGroupRuleId) or derived
	 * from the group and the rule's content (sg_rule_id_derive). */
	char id[SG_RULE_ID_SIZE];
	bool id_written; /* id from the input, not derived */
	struct sg_pos pos;
	struct sg_tag *tags; /* AWS's rule tags; may be NULL */
	size_t ntags;
};

struct sg_group {
	char *id; /* "sg-web" */
	char *name; /* may be NULL; "default" only for the default group */
	char *description;
	struct sg_rule *rules; /* both directions, in file order */
	size_t nrules;
	bool implicit; /* the VPC's default group, not written in the file */
	bool audit; /* enforcement: audit (default enforce) */
	bool undefined; /* only referenced by rules, never defined: no rules,
			 * no members (config/ warns); instances cannot
			 * carry it */
	struct sg_pos pos;
	struct sg_tag *tags; /* may be NULL; the Name tag is shown by show */
	size_t ntags;
	/*
	 * Where the group lives when not in these inputs (another account,
	 * a peered VPC, an interface's group missing from the inputs): its
	 * members are outside them, so rules naming it match only members
	 * the inputs hold. NULL for the usual group.
	 */
	char *outside;
};

struct sg_prefix_list {
	char *id; /* "pl-office" */
	int max_entries;
	struct sg_prefix *entries;
	size_t nentries;
	struct sg_pos pos;
};

struct sg_ct_limits {
	uint32_t tcp_established; /* 60-432000, default 432000 */
	uint32_t udp_stream; /* 60-180, default 180 */
	uint32_t udp; /* 30-60, default 30 */
	uint32_t max_entries; /* default 65536 */
};

struct sg_instance {
	char *id; /* "i-web1" */
	char *interface; /* may be NULL */
	/* Where it is enforced (all optional): the host whose agent
	 * attaches it, the network namespace of its interface (as `ip netns`
	 * names it; needs interface) and host-side mode (needs interface). */
	char *host;
	char *netns;
	bool host_side;
	struct sg_prefix *ips; /* /32 or /128 each */
	size_t nips;
	int *groups; /* group indices, in file order, no duplicates */
	size_t ngroups; /* 1-16 (the default group when none listed) */
	bool source_dest_check; /* default true */
	bool audit; /* enforcement: audit (default enforce) */
	struct sg_ct_limits ct;
	/*
	 * Not enforced on this host: the instance only lends its addresses
	 * to group references, and gets no slot and no compiled policy. Set
	 * by the loader (load.c), never by the parser.
	 */
	bool remote;
	struct sg_pos pos;
	struct sg_tag *tags; /* may be NULL */
	size_t ntags;
	/*
	 * AWS applies no security group to it (an interface with Groups: [],
	 * `filtered: false`): its addresses belong to no group, it is in no
	 * default group (ngroups 0) and there is nothing to attach.
	 */
	bool unfiltered;
};

struct sg_config {
	char *vpc; /* default "vpc-default" */
	char *region; /* default "local" */
	char *account; /* default "000000000000" */
	struct sg_prefix_list *prefix_lists;
	size_t nprefix_lists;
	struct sg_group *groups; /* includes the default group */
	size_t ngroups;
	struct sg_instance *instances;
	size_t ninstances;
	/* The account's quotas this config was checked against (`quotas:`,
	 * --quota, or raised by what AWS's JSON proves). */
	struct {
		unsigned int rules_per_group; /* per direction and family */
		unsigned int groups_per_instance;
	} quotas;
};

/*
 * Parse and validate (config/load.c). Every problem goes to diag (all of
 * them, not just the first). Returns 0 when there are no errors (warnings
 * allowed), -EINVAL when diag holds errors (a file that cannot be read is
 * one), -ENOMEM. On error *cfg is left empty.
 */
/* One YAML text (or a stored blob, see sg_config_parse_blob). */
int sg_config_parse_string(const char *name, const char *text, size_t len,
			   struct sg_config *cfg, struct sg_diag *diag);
/* Files, YAML and AWS JSON mixed ("-" = stdin): read, then parsed. */
int sg_config_parse_files(const char *const *paths, size_t n,
			  struct sg_config *cfg, struct sg_diag *diag);
/* The same with --vpc and --quota (input/inputs.h; NULL: none). */
struct sg_input_opts;
int sg_config_parse_files_opts(const char *const *paths, size_t n,
			       const struct sg_input_opts *opts,
			       struct sg_config *cfg, struct sg_diag *diag);
/* What load stored (input/inputs.h): what show and attach use. */
int sg_config_parse_blob(const char *blob, size_t len, struct sg_config *cfg,
			 struct sg_diag *diag);
/* Inputs already read (input/inputs.h) into one config. */
struct sg_inputs;
int sg_inputs_parse(const struct sg_inputs *in, struct sg_config *cfg,
		    struct sg_diag *diag);
void sg_config_free(struct sg_config *cfg);

/* Lookups by id; -1 when absent. */
int sg_config_find_group(const struct sg_config *cfg, const char *id);
int sg_config_find_instance(const struct sg_config *cfg, const char *id);

/*
 * The id a rule gets when none is written: a hash of the group id and the
 * rule's content (direction, protocol, ports or ICMP type/code, peer), the
 * same on every host and every reload. r->peer_text must be set.
 */
void sg_rule_id_derive(const char *group_id, const struct sg_rule *r,
		       char id[SG_RULE_ID_SIZE]);
/* Whether s is "sgr-" followed by 17 lowercase hex digits. */
bool sg_rule_id_valid(const char *s);
/* The rule of cfg with this id; false when none. */
bool sg_config_find_rule(const struct sg_config *cfg, const char *id,
			 size_t *group, size_t *rule);

/* Helpers shared by the compiler and the printers. */
bool sg_prefix_contains(const struct sg_prefix *outer,
			const struct sg_prefix *inner);
/* Formats "198.18.1.10/32" or "2001:db8::/32"; buf >= 64 bytes. */
const char *sg_prefix_str(const struct sg_prefix *p, char *buf, size_t len);

#endif /* SG_MODEL_H */
