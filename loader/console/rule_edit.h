/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The rule editor's EDIT (docs/console.md): one parser for the body and
 * one edit, shared by the save (POST /api/groups/ID/rules) and the
 * preview (POST /api/groups/ID/rules/preview), so both read a body the
 * same way and make the same rules.
 *
 * A SPEC whose protocol and ports are its Type's own is stored as the
 * CLI's preset (`--type http`), anything else as protocol and ports.
 */
#ifndef SG_CONSOLE_RULE_EDIT_H
#define SG_CONSOLE_RULE_EDIT_H

#include <stddef.h>

#include <jansson.h>

#include "config/model.h"
#include "console/console.h"
#include "desired/edit.h"
#include "util/diag.h"

#define SG_RULE_EDIT_MAX_ROWS 1000 /* far above a group's quota */

/* The text behind one add row's spec. */
struct sg_rule_edit_text {
	char type[64], proto[16], ports[32], itype[16], icode[16];
};

struct sg_rule_edit {
	const char *group;
	int dir;		    /* SG_DIR_IN or SG_DIR_OUT */
	const char **del;	    /* rule ids, into body */
	size_t ndel;
	struct sg_rule_spec *add;   /* into body and text */
	size_t nadd;
	/* set by sg_rule_edit_run: */
	char (*deleted)[SG_RULE_ID_SIZE]; /* per delete */
	char (*added)[SG_RULE_ID_SIZE];	  /* per add */
	int row;			  /* the add at fault, or -1 */
	/* private */
	json_t *body;
	struct sg_rule_edit_text *text;
};

/*
 * Parses the EDIT body of r for group. 0, or -1 with the 400 written to
 * w: InvalidRequest for the body's shape, the CLI's code (with "row") for
 * an add row that cannot be a rule. Free e with sg_rule_edit_free in
 * both cases.
 */
int sg_rule_edit_parse(struct sg_rule_edit *e, const char *group,
		       const struct sg_req *r, struct sg_resp *w);
void sg_rule_edit_free(struct sg_rule_edit *e);

/*
 * The edit on d: the deletes, then the adds, judged as a whole by the
 * CLI's validator (desired/edit.h, with its AWS codes); e->row names the
 * add at fault. The state is judged once, not per row
 * (sg_edit_rule_batch). cur: d already validated, or NULL. With next, the
 * edited config is left there (free with sg_config_free). 0 or a negative
 * errno with the errors in diag.
 */
int sg_rule_edit_run(struct sg_desired *d, struct sg_rule_edit *e,
		     const struct sg_config *cur, struct sg_config *next,
		     struct sg_diag *diag);

/* sg_rule_edit_run as an sg_edit_fn (arg: the struct sg_rule_edit), for
 * sg_console_edit; run again from scratch when a transaction retries. */
int sg_rule_edit_fn(struct sg_desired *d, void *arg, struct sg_diag *diag);

#endif /* SG_CONSOLE_RULE_EDIT_H */
