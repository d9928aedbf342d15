// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * diff: what a config change does to verdicts, before it is made.
 *
 *   sgctl diff OLD NEW            two files
 *   sgctl diff OLD... -- NEW...   two sets of files (merged as load does)
 *   sgctl diff NEW...             the loaded config against the files
 *
 * For every instance and direction, the traffic whose verdict changes,
 * as address prefixes x protocol x port range, with the rules
 * responsible; computed exactly from the rule sets (compile/diff.h), not
 * by sampling. Exit 0 whatever changes, 1 on error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "compile/diff.h"
#include "config/model.h"
#include "enforce/stored.h"
#include "out/json.h"
#include "state/state.h"
#include "util/diag.h"
#include "view/diff_json.h"

int cmd_diff(int argc, char **argv);

struct diff_side {
	const char **files;
	size_t n;
	char *label;
	struct sg_config cfg;
};

static int parse_args(int argc, char **argv, struct diff_side *old,
		      struct diff_side *new)
{
	int sep = -1, n = 1;

	/* -j after "--" is the global one still (main passes it on). */
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json"))
			sg_opts.json = true;
		else
			argv[n++] = argv[i];
	argc = n;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			if (sep >= 0)
				return sg_usage_err(argv[0],
						    "one '--' between OLD and "
						    "NEW");
			sep = i;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return sg_usage_err(argv[0], "unknown option '%s'",
					    argv[i]);
		}
	}
	if (sep >= 0) {
		old->files = (const char **)argv + 1;
		old->n = (size_t)(sep - 1);
		new->files = (const char **)argv + sep + 1;
		new->n = (size_t)(argc - sep - 1);
	} else if (argc == 3) {
		old->files = (const char **)argv + 1;
		old->n = 1;
		new->files = (const char **)argv + 2;
		new->n = 1;
	} else if (argc == 2) {
		new->files = (const char **)argv + 1;
		new->n = 1;
	} else if (argc > 3) {
		return sg_usage_err(argv[0],
				    "several files on a side: separate OLD "
				    "and NEW with '--'");
	}
	if (!new->n)
		return sg_usage_err(argv[0], "missing NEW");
	return 0;
}

static int read_files(struct diff_side *s)
{
	struct sg_diag diag;
	size_t diag_errors;
	int err;

	s->label = sg_files_label(s->files, s->n);
	if (!s->label) {
		sg_err("out of memory");
		return -ENOMEM;
	}
	sg_diag_init(&diag);
	err = sg_config_parse_files(s->files, s->n, &s->cfg, &diag);
	sg_diag_print(&diag, stderr);
	diag_errors = diag.nerrors;
	if (!err && diag.nerrors)
		err = -EINVAL;
	sg_diag_free(&diag);
	if (err && !diag_errors)
		sg_err("diff: %s: %s", s->label, strerror(-err));
	return err;
}

static int read_loaded(struct diff_side *s)
{
	struct sg_state st = {};
	int err;

	s->label = strdup("the loaded config");
	if (!s->label)
		return -ENOMEM;
	if (sg_need_root("diff"))
		return -EPERM;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		sg_err("diff: no config loaded (pin directory %s): give OLD "
		       "and NEW",
		       sg_opts.pin_dir);
		return -ENOENT;
	}
	err = sg_state_open_ro(&st, sg_opts.pin_dir);
	if (err)
		return err;
	err = sg_stored_config(&st, &s->cfg, NULL);
	if (err == -ENOENT)
		sg_err("diff: no config loaded: give OLD and NEW");
	sg_state_close(&st);
	return err;
}

static const char *dir_name(int d)
{
	return d == SG_DIR_IN ? "inbound" : "outbound";
}

static const struct sg_rule *rule_of(const struct sg_config *cfg,
				     const struct sg_diff_rule *r)
{
	return &cfg->groups[r->group].rules[r->rule];
}

/* "a/n, b/m", or "p/l except a/n, b/m" when that is shorter. */
static void print_addresses(const struct sg_diff_change *c)
{
	struct sg_prefix outer, *holes;
	size_t nholes;
	char pb[64];

	if (sg_diff_compact(c, &outer, &holes, &nholes) == 1) {
		printf("%s except ", sg_prefix_str(&outer, pb, sizeof(pb)));
		for (size_t k = 0; k < nholes; k++)
			printf("%s%s", k ? ", " : "",
			       sg_prefix_str(&holes[k], pb, sizeof(pb)));
		free(holes);
		return;
	}
	for (size_t k = 0; k < c->nprefixes; k++)
		printf("%s%s", k ? ", " : "",
		       sg_prefix_str(&c->prefixes[k], pb, sizeof(pb)));
}

static void print_text(const struct sg_diff *d, const struct diff_side *old,
		       const struct diff_side *new)
{
	size_t ninst = 0;

	printf("diff %s -> %s\n", old->label, new->label);
	for (size_t i = 0; i < d->ninsts; i++) {
		if (d->insts[i].presence == SG_DIFF_ONLY_NEW)
			printf("%s: new instance (only in %s)\n",
			       d->insts[i].id, new->label);
		else if (d->insts[i].presence == SG_DIFF_ONLY_OLD)
			printf("%s: instance removed (only in %s)\n",
			       d->insts[i].id, old->label);
	}
	for (size_t i = 0; i < d->nchanges; i++) {
		const struct sg_diff_change *c = &d->changes[i];
		const struct sg_config *cfg = c->accept ? &new->cfg : &old->cfg;
		char what[128];

		if (!i || c->inst != d->changes[i - 1].inst)
			ninst++;
		sg_diff_what(c, what, sizeof(what));
		printf("%s %s: %cACCEPT %s %s ", d->insts[c->inst].id,
		       dir_name(c->dir), c->accept ? '+' : '-', what,
		       c->dir == SG_DIR_IN ? "from" : "to");
		print_addresses(c);
		printf(" (");
		for (size_t k = 0; k < c->nrules; k++)
			printf("%s%s in %s", k ? ", " : "",
			       rule_of(cfg, &c->rules[k])->id,
			       cfg->groups[c->rules[k].group].id);
		printf(")\n");
		for (size_t k = 0; k < c->nrules; k++) {
			const struct sg_rule *r = rule_of(cfg, &c->rules[k]);

			printf("    %s by %s in %s: %s\n",
			       c->accept ? "allowed now" : "was allowed", r->id,
			       cfg->groups[c->rules[k].group].id, r->text);
		}
		if (!c->accept)
			printf("    now: no rule allows it: REJECT (the "
			       "client sees a time-out)\n");
	}
	if (d->nchanges)
		printf("%zu change%s in %zu instance%s\n", d->nchanges,
		       d->nchanges == 1 ? "" : "s", ninst,
		       ninst == 1 ? "" : "s");
	else
		printf("no verdict changes\n");
}

static void print_json(const struct sg_diff *d, const struct diff_side *old,
		       const struct diff_side *new)
{
	struct sg_json *j = sg_json_new(stdout, true);

	sg_json_begin_object(j);
	sg_json_kv_string(j, "old", old->files ? old->label : "loaded");
	sg_json_kv_string(j, "new", new->label);
	sg_json_key(j, "instances");
	sg_json_begin_array(j);
	for (size_t i = 0; i < d->ninsts; i++) {
		sg_json_begin_object(j);
		sg_json_kv_string(j, "instance", d->insts[i].id);
		sg_json_kv_string(j, "presence",
				  d->insts[i].presence == SG_DIFF_BOTH ? "both"
				  : d->insts[i].presence == SG_DIFF_ONLY_OLD
					  ? "old"
					  : "new");
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_key(j, "changes");
	sg_json_begin_array(j);
	for (size_t i = 0; i < d->nchanges; i++)
		sg_view_diff_change(j, d, &d->changes[i], &old->cfg, &new->cfg);
	sg_json_end_array(j);
	sg_json_end_object(j);
	sg_json_destroy(j);
}

int cmd_diff(int argc, char **argv)
{
	struct diff_side old = {}, new = {};
	struct sg_diff d = {};
	int rc = SG_EXIT_ERR, err;

	err = parse_args(argc, argv, &old, &new);
	if (err)
		return err;
	err = old.n ? read_files(&old) : read_loaded(&old);
	if (!err)
		err = read_files(&new);
	if (err)
		goto out;
	err = sg_diff_configs(&old.cfg, &new.cfg, &d);
	if (err) {
		sg_err("diff: %s", strerror(-err));
		goto out;
	}
	if (sg_opts.json)
		print_json(&d, &old, &new);
	else
		print_text(&d, &old, &new);
	rc = SG_EXIT_OK;
out:
	sg_diff_free(&d);
	sg_config_free(&old.cfg);
	sg_config_free(&new.cfg);
	free(old.label);
	free(new.label);
	return rc;
}
