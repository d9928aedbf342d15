/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Inside the validator: the state of one parse, shared by its files.
 *
 *   nodes.c      reading nodes: typed values, mappings, lists, the budget
 *   config.c     the document walk: top keys, prefix lists, groups
 *   rules.c      a group's rules: protocols, ports, peers, duplicates, quotas
 *   instances.c  instances: addresses, groups, interfaces, conntrack
 *   load.c       files, stored blobs and texts into a config
 *
 * Not for the rest of the loader: it uses model.h.
 */
#ifndef SG_CONFIG_PRIV_H
#define SG_CONFIG_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>
#include <yaml.h>

#include "sgctl.h"
#include "util/codes.h"
#include "util/diag.h"
#include "input/document.h"
#include "input/yaml.h"
#include "config/model.h"

#define SG_TEXT_MAX 255 /* names and descriptions, in characters */

struct kv {
	yaml_node_t *k, *v;
	const char *key;
};

/* What pass 1 saw of a group, for pass 2 (rules) and the instance quota. */
struct gsrc {
	yaml_node_t *key;
	yaml_node_t *rules[SG_NDIR];
	bool has_out;
	bool out_first;
	size_t per_sg; /* rules per SG, as the instance quota counts them */
	size_t most; /* its largest count of one direction and family */
	struct sg_pos *ppos; /* where each rule's peer was written */
};

/* A sorted name -> index table, for lookups and duplicate detection. */
struct ix {
	const char *s;
	size_t i;
};

struct ipref {
	struct sg_prefix p;
	size_t inst;
	size_t order;
	struct sg_pos pos;
};

struct ctx {
	struct sg_diag *diag;
	const char *file;
	/* A composed document (input/document.h): where each node was
	 * written. NULL: one file, the node marks. */
	struct sg_mdoc *origin;
	struct sg_config *cfg;
	yaml_document_t *doc; /* while it is being walked */
	size_t visits, budget;
	bool stop; /* alias expansion ran past the budget */
	bool oom;
	size_t plcap, gcap, gscap, icap;
	struct gsrc *gsrc;
	int default_group;
	struct ix *gids, *gnames, *plids;
	size_t ngids, ngnames, nplids;
	struct ipref *ips;
	size_t nips, ipcap;
	/* Groups referenced by rules but not defined: appended after pass 2. */
	char **undef;
	struct sg_pos *undef_pos;
	size_t nundef, undefcap, undefposcap, undef_base;
	char **undef_outside; /* per undefined group: outside: of a rule */
	size_t undefoutcap;
	const char *cur_outside; /* the rule being read says outside: */
	/* Quotas: --quota (opts), else `quotas:`; 0 = not given. */
	const struct sg_input_opts *opts;
	unsigned int q_rules, q_groups;
	yaml_node_t *quotas_node;
};

/* ---- nodes.c ---- */

bool cfg_reserve(struct ctx *c, void **arr, size_t *cap, size_t need,
		 size_t size);

#define RESERVE(c, arr, cap, need)                                             \
	({                                                                     \
		void *_p = (arr);                                              \
		bool _ok =                                                     \
			cfg_reserve((c), &_p, &(cap), (need), sizeof(*(arr))); \
		(arr) = _p;                                                    \
		_ok;                                                           \
	})

char *cfg_strdup(struct ctx *c, const char *s);
struct sg_pos cfg_pos(struct ctx *c, const yaml_node_t *n);

#define WHERE_LEN 600 /* for sg_pos_where() */

#define ERR(c, n, code, ...)                                                   \
	sg_error((c)->diag, cfg_pos(c, n), code, __VA_ARGS__)

/*
 * Every node visit goes through here. Aliases let a small file name the same
 * subtree many times ("billion laughs"); the budget bounds the walk.
 */
yaml_node_t *cfg_node(struct ctx *c, int id);

/*
 * A string value: a scalar, not null, without NUL or control characters,
 * at most max characters (0 = no limit).
 */
const char *cfg_str(struct ctx *c, const yaml_node_t *n, const char *what,
		    size_t max);
/* Decimal digits only; saturates instead of overflowing. */
bool cfg_parse_uint(const char *s, unsigned long long *v);
bool cfg_uint_range(struct ctx *c, const yaml_node_t *n, const char *what,
		    unsigned long long lo, unsigned long long hi,
		    unsigned long long *v);
/* Identifiers go into maps (SG_ID_LEN) and space-separated flow logs. */
bool cfg_valid_id(const char *s, const char *prefix);

int cfg_ix_cmp(const void *a, const void *b);
/* The index of s (the first defined of equal names), or -1. */
int cfg_ix_find(const struct ix *tab, size_t n, const char *s);

/*
 * The pairs of a mapping, in order, minus non-scalar and duplicate keys
 * (libyaml accepts both; we report them). what names a key in messages.
 */
size_t cfg_map_items(struct ctx *c, yaml_node_t *m, const char *what,
		     const char *dupcode, struct kv **out);
bool cfg_want_map(struct ctx *c, yaml_node_t *n, const char *what);

/*
 * The items of a list value. A single scalar is taken as a one-item list
 * (source: sg-web), null as empty. Returns false on a wrong node type.
 */
struct items {
	yaml_node_item_t *start, *top;
	yaml_node_item_t one;
};

bool cfg_list_items(struct ctx *c, yaml_node_t *n, const char *what,
		    bool allow_scalar, struct items *it);

/* `tags:` ({Key: Value}); false after reporting a problem. */
bool cfg_tags(struct ctx *c, yaml_node_t *n, struct sg_tag **tags,
	      size_t *ntags);
struct sg_tag *cfg_tags_dup(struct ctx *c, const struct sg_tag *t, size_t n);
void cfg_tags_free(struct sg_tag *t, size_t n);

/* ---- rules.c ---- */

/* Pass 2: the rules of group gi, then its duplicates and quotas. */
/* Rule ids are unique in the VPC (after every group's rules). */
void cfg_check_rule_ids(struct ctx *c);
void cfg_group_rules(struct ctx *c, size_t gi);
/* After every group's rules: the quota per group, settled (raised by
 * what AWS's JSON proves when none was given), then checked. */
void cfg_check_quotas(struct ctx *c);

/* ---- instances.c ---- */

void cfg_instance(struct ctx *c, struct kv *e);
/* After all instances: an address, an interface belongs to one. */
void cfg_check_addresses(struct ctx *c);
void cfg_check_interfaces(struct ctx *c);

/* ---- config.c ---- */

/*
 * Validates doc into cfg; positions come from origin (NULL: name and the
 * node marks). The diagnostics from start on are sorted and capped, and
 * any error counted past errors fails the parse: 0, -EINVAL (cfg left
 * empty) or -ENOMEM.
 */
struct sg_input_opts;
int sg_config_parse_doc(yaml_document_t *doc, const char *name,
			struct sg_mdoc *origin, struct sg_config *cfg,
			struct sg_diag *diag, size_t start, size_t errors,
			const struct sg_input_opts *opts);

#endif /* SG_CONFIG_PRIV_H */
