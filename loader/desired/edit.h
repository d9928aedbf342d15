/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Edits of a desired state, one object at a time, as the AWS console and
 * CLI make them (authorize/revoke-security-group-ingress|egress,
 * create/delete-security-group, modify-instance-attribute --groups).
 *
 * Each edit is a pure function on struct sg_desired: it changes the JSON
 * document, then judges the WHOLE resulting state with the validator
 * (sg_config_parse_string: quotas, references, duplicates), the one path
 * load, push and the agent use. On any error the state is left as it was
 * and diag holds the errors with their AWS codes (no file position: the
 * place is the edited object), and the return is -EINVAL (-ENOMEM when
 * memory ran out).
 */
#ifndef SG_EDIT_H
#define SG_EDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "desired/desired.h"
#include "config/model.h"
#include "util/diag.h"

/* What a rule allows and whom, as the command line gives it. */
struct sg_rule_spec {
	int dir;		 /* SG_DIR_IN or SG_DIR_OUT */
	const char *type;	 /* a preset ("ssh"), or NULL */
	const char *protocol;	 /* "tcp", "icmp", "all", "47"... or NULL */
	const char *ports;	 /* "22", "8080-8089", "all", or NULL */
	const char *icmp_type;	 /* a number or "all", or NULL */
	const char *icmp_code;	 /* a number or "all", or NULL */
	const char *peer;	 /* CIDR, sg-..., pl-... */
	const char *description; /* or NULL */
};

/*
 * Appends the rule to group's inbound or outbound list; *id (when not
 * NULL) gets its rule id. A group without an outbound list has the
 * default egress rules: an outbound rule is added next to them (they are
 * written out). Errors: InvalidGroup.NotFound (group, or an sg- peer
 * that is not defined), InvalidPermission.Duplicate,
 * RulesPerSecurityGroupLimitExceeded, InvalidPermission.Malformed, ...
 */
int sg_edit_rule_add(struct sg_desired *d, const char *group,
		     const struct sg_rule_spec *s, char *id,
		     struct sg_diag *diag);

/*
 * Deletes one rule of group: the one with rule_id, else the one s selects
 * (the same fields as add; description ignored). An entry with several
 * peers loses the one peer; the default egress rules, once one is
 * deleted, become an outbound list with the other. *deleted (when not
 * NULL) gets the id of the rule deleted. InvalidPermission.NotFound when
 * nothing matches.
 */
int sg_edit_rule_delete(struct sg_desired *d, const char *group,
			const char *rule_id, const struct sg_rule_spec *s,
			char *deleted, struct sg_diag *diag);

/*
 * Several rule edits of one group as one edit: the deletes (by rule id),
 * then the adds, the whole state judged once at the end rather than twice
 * per edit (what makes a save fast on a big config). The result, the
 * errors, their codes and *row (the add at fault, -1: none or a delete)
 * are those of sg_edit_rule_delete / sg_edit_rule_add called in that
 * order: when the batch fails, it is made again one edit at a time to
 * tell which. cur: d validated (NULL: the batch validates it). deleted,
 * added: the ids per delete / add (or NULL). With next, the edited config
 * is left there (free with sg_config_free).
 */
int sg_edit_rule_batch(struct sg_desired *d, const char *group,
		       const struct sg_config *cur, const char *const *del,
		       size_t ndel, char (*deleted)[SG_RULE_ID_SIZE],
		       const struct sg_rule_spec *add, size_t nadd,
		       char (*added)[SG_RULE_ID_SIZE], int *row,
		       struct sg_config *next, struct sg_diag *diag);

/* A new group (InvalidGroup.Duplicate when the id exists). name and
 * description may be NULL. */
int sg_edit_group_create(struct sg_desired *d, const char *id, const char *name,
			 const char *description, struct sg_diag *diag);
/*
 * Deletes a group: DependencyViolation while an instance carries it or a
 * rule of another group references it; CannotDelete for the VPC's
 * default group; InvalidGroup.NotFound when there is no such group.
 */
int sg_edit_group_delete(struct sg_desired *d, const char *id,
			 struct sg_diag *diag);

struct sg_instance_spec {
	const char *const *ips;
	size_t nips;
	const char *const *groups; /* none: the VPC's default group */
	size_t ngroups;
	const char *host;      /* the host whose agent enforces it, or NULL */
	const char *interface; /* or NULL */
	const char *netns;     /* or NULL */
	bool host_side;	       /* written only when true */
};

/* InvalidInstanceID.Duplicate when id exists. */
int sg_edit_instance_add(struct sg_desired *d, const char *id,
			 const struct sg_instance_spec *s,
			 struct sg_diag *diag);
/* Replaces the instance's groups (1-16; InvalidGroup.NotFound,
 * SecurityGroupsPerInterfaceLimitExceeded). */
int sg_edit_instance_set_groups(struct sg_desired *d, const char *id,
				const char *const *groups, size_t n,
				struct sg_diag *diag);
/* InvalidInstanceID.NotFound when there is no such instance. */
int sg_edit_instance_remove(struct sg_desired *d, const char *id,
			    struct sg_diag *diag);

/*
 * Judges the whole state as load would judge a file: errors (with their
 * codes, without positions in the JSON text) into diag. With cfg, the
 * validated config is left there (free with sg_config_free). 0, -EINVAL
 * or -ENOMEM.
 */
int sg_desired_validate(const struct sg_desired *d, struct sg_config *cfg,
			struct sg_diag *diag);

/*
 * An edit as a callback (what the edit transactions of fleet/edit_txn.h
 * run, again on a fresh read when a racing writer came first): 0, or a
 * negative errno with the errors in diag.
 */
typedef int (*sg_edit_fn)(struct sg_desired *d, void *arg,
			  struct sg_diag *diag);

#endif /* SG_EDIT_H */
