// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * validate, load, unload.
 *
 * load is all-or-nothing: everything that can fail without touching the
 * kernel (parse, validate, compile, size checks, attached instances still
 * present) is done first; the policy is then written as the inactive
 * generation and made live by one flip (maps.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "state/skel.h"

#include "enforce/apply.h"
#include "enforce/attach.h"
#include "enforce/plan.h"
#include "cmd/cmd.h"
#include "compile/compile.h"
#include "util/diag.h"
#include "input/inputs.h"
#include "out/json.h"
#include "state/state.h"
#include "config/model.h"

static size_t count_rules(const struct sg_config *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->ngroups; i++)
		n += cfg->groups[i].nrules;
	return n;
}

/* [--vpc ID] [--quota NAME=N]... FILE... ("--" ends the options). */
static int files_arg(int argc, char **argv, const char ***files, size_t *n,
		     struct sg_input_opts *io)
{
	static const struct option opts[] = {
		{"vpc", required_argument, NULL, 'V'},
		{"quota", required_argument, NULL, 'Q'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	memset(io, 0, sizeof(*io));
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case 'V':
			if (sg_input_opts_vpc(io, optarg))
				return SG_EXIT_USAGE;
			break;
		case 'Q':
			if (sg_input_opts_quota(io, optarg))
				return SG_EXIT_USAGE;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (argc - optind < 1)
		return sg_usage_err(argv[0], "missing FILE");
	*files = (const char **)(argv + optind);
	*n = (size_t)(argc - optind);
	return SG_EXIT_OK;
}

static void json_files(struct sg_json *j, const char *label, const char **files,
		       size_t n)
{
	sg_json_kv_string(j, "file", label);
	sg_json_key(j, "files");
	sg_json_begin_array(j);
	for (size_t i = 0; i < n; i++)
		sg_json_string(j, files[i]);
	sg_json_end_array(j);
}

/*
 * Reads, parses (YAML and AWS JSON, merged) and validates the FILEs;
 * prints every diagnostic to stderr. Returns 0 with *cfg (and *text, the
 * form sg_blob stores, when wanted) filled, or an exit status. Compiling
 * waits until it is known which instances this host enforces.
 */
static int prepare(const char **files, size_t nfiles,
		   const struct sg_input_opts *io, struct sg_config *cfg,
		   char **text, size_t *len, struct sg_diag *keep)
{
	struct sg_inputs in = {};
	struct sg_diag diag;
	int err;

	memset(cfg, 0, sizeof(*cfg));
	sg_diag_init(&diag);
	err = sg_inputs_read(files, nfiles, &in, &diag);
	if (!err) {
		in.opts = *io;
		err = sg_inputs_parse(&in, cfg, &diag);
	}
	if (!err && !diag.nerrors && text)
		err = sg_inputs_pack(&in, text, len);
	sg_inputs_free(&in);
	/* -j validate prints them in its own object. */
	if (keep) {
		*keep = diag;
		sg_diag_init(&diag);
		if (err && !keep->nerrors)
			sg_error(keep, ((struct sg_pos){NULL, 0, 0}), NULL,
				 "%s", strerror(-err));
		if (err || keep->nerrors) {
			sg_config_free(cfg);
			return SG_EXIT_ERR;
		}
		return SG_EXIT_OK;
	}
	sg_diag_print(&diag, stderr);
	if (err || diag.nerrors) {
		if (!diag.nerrors)
			sg_err("%s", strerror(-err));
		sg_diag_free(&diag);
		sg_config_free(cfg);
		return SG_EXIT_ERR;
	}
	sg_diag_free(&diag);
	return SG_EXIT_OK;
}

/* ------------------------------------------------------------- validate */

/*
 * -j: one object on stdout with the verdict and every diagnostic,
 * {"valid": bool, "file", "files", ["error",] counts, "diagnostics": []}.
 */
static void print_validate_json(const char *label, const char **files,
				size_t nfiles, const struct sg_config *cfg,
				bool valid, const struct sg_diag *d)
{
	const struct sg_diag_entry *first = NULL;

	printf("{\"valid\": %s, \"file\": ", valid ? "true" : "false");
	sg_diag_json_string(stdout, label);
	printf(", \"files\": [");
	for (size_t i = 0; i < nfiles; i++) {
		if (i)
			printf(", ");
		sg_diag_json_string(stdout, files[i]);
	}
	printf("]");
	for (size_t i = 0; i < d->nentries && !first; i++)
		if (d->entries[i].severity == SG_ERROR)
			first = &d->entries[i];
	if (!valid) {
		char *t = NULL;
		size_t tl = 0;
		FILE *m = open_memstream(&t, &tl);

		if (m) {
			if (first)
				sg_diag_entry_text(first, m);
			else
				fputs("invalid", m);
			fclose(m);
		}
		printf(", \"error\": ");
		sg_diag_json_string(stdout, t ? t : "invalid");
		free(t);
	} else {
		printf(", \"groups\": %zu, \"rules\": %zu, \"instances\": %zu, "
		       "\"prefix_lists\": %zu",
		       cfg->ngroups, count_rules(cfg), cfg->ninstances,
		       cfg->nprefix_lists);
		printf(", \"quotas\": {\"rules_per_group\": %u, "
		       "\"groups_per_instance\": %u}",
		       cfg->quotas.rules_per_group,
		       cfg->quotas.groups_per_instance);
	}
	printf(", \"errors\": %zu, \"warnings\": %zu, \"notes\": %zu, "
	       "\"diagnostics\": ",
	       d->nerrors, d->nwarnings, d->nnotes);
	sg_diag_print_json_array(d, stdout);
	printf("}\n");
	fflush(stdout);
}

int cmd_validate(int argc, char **argv)
{
	struct sg_input_opts io;
	struct sg_config cfg;
	struct sg_compiled c;
	struct sg_diag diag;
	const char **files;
	char *file;
	size_t nfiles;
	int rc;

	rc = files_arg(argc, argv, &files, &nfiles, &io);
	if (rc)
		return rc;
	file = sg_files_label(files, nfiles);
	if (!file) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	memset(&c, 0, sizeof(c));
	sg_diag_init(&diag);
	rc = prepare(files, nfiles, &io, &cfg, NULL, NULL,
		     sg_opts.json ? &diag : NULL);
	/* Compile as load would on a host with no slots given out yet. */
	if (rc == SG_EXIT_OK) {
		struct sg_plan plan;

		if (sg_plan_host(NULL, &cfg, SG_PLAN_NEW, NULL, &plan) ||
		    sg_enforce_compile(&cfg, &c)) {
			sg_compiled_free(&c);
			sg_config_free(&cfg);
			rc = SG_EXIT_ERR;
		}
		sg_plan_free(&plan);
	}
	if (sg_opts.json) {
		/* A compile failure printed its own {"error"} already. */
		if (rc == SG_EXIT_OK || diag.nerrors)
			print_validate_json(file, files, nfiles, &cfg,
					    rc == SG_EXIT_OK, &diag);
	} else if (rc == SG_EXIT_OK) {
		printf("%s: valid: %zu security groups, %zu rules, %zu "
		       "instances\n",
		       file, cfg.ngroups, count_rules(&cfg), cfg.ninstances);
	}
	sg_diag_free(&diag);
	if (rc == SG_EXIT_OK) {
		sg_compiled_free(&c);
		sg_config_free(&cfg);
	}
	free(file);
	return rc;
}

/* ----------------------------------------------------------------- load */

static void print_load(const char *file, const char **files, size_t nfiles,
		       const struct sg_config *cfg,
		       const struct sg_apply_result *r)
{
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		json_files(j, file, files, nfiles);
		sg_json_kv_string(j, "status",
				  r->unchanged ? "unchanged" : "loaded");
		sg_json_kv_uint(j, "generation", r->gen);
		sg_json_kv_uint(j, "groups", cfg->ngroups);
		sg_json_kv_uint(j, "rules", count_rules(cfg));
		sg_json_kv_uint(j, "instances", cfg->ninstances);
		sg_json_kv_uint(j, "policies", r->policies);
		sg_json_kv_uint(j, "classes", r->classes);
		sg_json_kv_uint(j, "class_entries", r->class_entries);
		sg_json_kv_uint(j, "rule_entries", r->rule_entries);
		sg_json_end_object(j);
		sg_json_destroy(j);
		return;
	}
	if (r->unchanged) {
		printf("%s: unchanged (already loaded)\n", file);
		return;
	}
	printf("loaded %s: %zu security groups, %zu rules, %zu instances "
	       "(generation %u: %zu policies, %zu classes, %zu + %zu map "
	       "entries)\n",
	       file, cfg->ngroups, count_rules(cfg), cfg->ninstances, r->gen,
	       r->policies, r->classes, r->class_entries, r->rule_entries);
}

int cmd_load(int argc, char **argv)
{
	struct sg_config cfg;
	struct sg_state st = {};
	struct sg_apply_result res;
	struct sg_apply_req req = {};
	struct sg_input_opts io;
	const char **files;
	char *file = NULL;
	size_t nfiles;
	bool existed;
	char *text = NULL;
	size_t len;
	int rc, lock;

	rc = files_arg(argc, argv, &files, &nfiles, &io);
	if (rc)
		return rc;
	if (sg_need_root("load"))
		return SG_EXIT_ERR;
	file = sg_files_label(files, nfiles);
	if (!file) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
	if (lock < 0) {
		free(file);
		return SG_EXIT_ERR;
	}

	/* Everything that needs no kernel first. */
	rc = prepare(files, nfiles, &io, &cfg, &text, &len, NULL);
	if (rc) {
		free(file);
		close(lock);
		return rc;
	}
	rc = SG_EXIT_ERR;
	existed = sg_state_exists(sg_opts.pin_dir);
	if (sg_state_open(&st, sg_opts.pin_dir, -1, false)) {
		if (!existed)
			sg_state_remove(sg_opts.pin_dir);
		goto out;
	}
	req.label = file;
	req.text = text;
	req.len = len;
	if (!sg_enforce_apply(&st, &cfg, &req, &res)) {
		print_load(file, files, nfiles, &cfg, &res);
		rc = SG_EXIT_OK;
	}
	sg_state_close(&st);
	/* A failed first load leaves no trace. */
	if (rc && !existed)
		sg_state_remove(sg_opts.pin_dir);
out:
	free(text);
	free(file);
	sg_config_free(&cfg);
	close(lock);
	return rc;
}

/* --------------------------------------------------------------- unload */

static void print_unload(bool unloaded, size_t detached)
{
	struct sg_json *j = sg_json_new(stdout, true);

	sg_json_begin_object(j);
	sg_json_kv_bool(j, "unloaded", unloaded);
	sg_json_kv_uint(j, "detached", detached);
	sg_json_kv_string(j, "pin_dir", sg_opts.pin_dir);
	sg_json_end_object(j);
	sg_json_destroy(j);
}

int cmd_unload(int argc, char **argv)
{
	size_t detached = 0;
	int lock, rc;

	rc = sg_args_none(argc, argv);
	if (rc)
		return rc;
	if (sg_need_root("unload"))
		return SG_EXIT_ERR;
	lock = sg_state_lock(sg_opts.pin_dir, SG_LOCK_TIMEOUT_MS);
	if (lock < 0)
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		/* a leftover sgctl made, if any; nothing else */
		sg_state_remove(sg_opts.pin_dir);
		if (sg_opts.json)
			print_unload(false, 0);
		else
			printf("nothing loaded (no state in %s)\n",
			       sg_opts.pin_dir);
		close(lock);
		return SG_EXIT_OK;
	}
	if (sg_detach_all(sg_opts.pin_dir, &detached))
		rc = SG_EXIT_ERR;
	if (rc) {
		sg_err("some interfaces could not be detached; state kept in "
		       "%s",
		       sg_opts.pin_dir);
		close(lock);
		return rc;
	}
	if (sg_state_remove(sg_opts.pin_dir))
		rc = SG_EXIT_ERR;
	if (sg_opts.json)
		print_unload(!rc, detached);
	else if (!rc)
		/* A pin dir or mount sgctl did not make stays. */
		printf("unloaded: detached %zu interface%s, removed the state "
		       "in %s\n",
		       detached, detached == 1 ? "" : "s", sg_opts.pin_dir);
	close(lock);
	return rc;
}
