// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * push: the files' desired state into etcd, for the agents.
 *
 *	sgctl push [--vpc ID] [--quota NAME=N]... FILE... --etcd URL
 *		[--cacert F --cert F --key F]
 *
 * The files are judged exactly as load judges them (same reading, same
 * validator, same compile check, same diagnostics); any error writes
 * nothing. The state then goes to etcd as one key per object under
 * /sgctl/v1/VPC/ (desired/desired.h), in one transaction that writes only
 * the keys that changed or appeared and deletes those the files no longer
 * hold, guarded by the revisions read (fleet/etcd.h: sg_etcd_put_state).
 * Someone else writing in between makes it read and try again.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "compile/compile.h"
#include "config/model.h"
#include "desired/desired.h"
#include "enforce/apply.h"
#include "enforce/plan.h"
#include "fleet/etcd.h"
#include "input/inputs.h"
#include "out/json.h"
#include "util/diag.h"

/* Tries of read-and-write when other writers keep winning the race. */
#define PUSH_TRIES 10

enum {
	OPT_ETCD = 0x100,
	OPT_CACERT,
	OPT_CERT,
	OPT_KEY,
	OPT_VPC,
	OPT_QUOTA,
};

int sg_cmd_etcd_open(const char *cmd, struct sg_etcd_opts *o,
		     struct sg_etcd **e)
{
	char *err = NULL;

	if (!o->url || !*o->url)
		o->url = getenv("SGCTL_ETCD");
	if (!o->url || !*o->url)
		return sg_usage_err(cmd, "missing --etcd URL (or SGCTL_ETCD)");
	if (sg_etcd_open(o, e, &err)) {
		sg_err("%s: %s", cmd, err ? err : "cannot reach etcd");
		free(err);
		return SG_EXIT_ERR;
	}
	return SG_EXIT_OK;
}

/*
 * The agents judge the desired state alone, as one JSON text: it must
 * read back as the files did. Not reading back is a bug, and pushing it
 * would leave every agent refusing the revision.
 */
static int read_back(const struct sg_desired *d, struct sg_config *back,
		     struct sg_diag *diag)
{
	size_t len = 0;
	char *text = sg_desired_text(d, &len);
	int err;

	if (!text)
		return -ENOMEM;
	err = sg_config_parse_string("desired state", text, len, back, diag);
	free(text);
	return err;
}

/*
 * The quotas the files were judged with (--quota, `quotas:`, or raised
 * by what AWS's JSON proves) go into the state when it would not say
 * them by itself.
 */
static int keep_quotas(const struct sg_config *cfg, struct sg_desired *d)
{
	json_t *q = json_object();

	if (!q ||
	    json_object_set_new(q, "rules_per_group",
				json_integer(cfg->quotas.rules_per_group)) ||
	    json_object_set_new(
		    q, "groups_per_instance",
		    json_integer(cfg->quotas.groups_per_instance)) ||
	    json_object_set_new(d->doc, "quotas", q))
		return -ENOMEM;
	return 0;
}

static int check_read_back(const struct sg_config *cfg, struct sg_desired *d)
{
	struct sg_config back = {};
	struct sg_diag diag;
	int err;

	sg_diag_init(&diag);
	err = read_back(d, &back, &diag);
	if (err != -ENOMEM &&
	    (err || diag.nerrors ||
	     back.quotas.rules_per_group != cfg->quotas.rules_per_group ||
	     back.quotas.groups_per_instance !=
		     cfg->quotas.groups_per_instance)) {
		sg_config_free(&back);
		sg_diag_free(&diag);
		sg_diag_init(&diag);
		err = keep_quotas(cfg, d);
		if (!err)
			err = read_back(d, &back, &diag);
	}
	if (err == -ENOMEM) {
		sg_err("push: out of memory");
		sg_config_free(&back);
		sg_diag_free(&diag);
		return SG_EXIT_ERR;
	}
	if (err || diag.nerrors) {
		sg_err("push: the files' desired state does not read back as "
		       "the files do (a bug in sgctl); nothing written:");
		sg_diag_print(&diag, stderr);
		err = err ? err : -EINVAL;
	}
	sg_config_free(&back);
	sg_diag_free(&diag);
	return err ? SG_EXIT_ERR : SG_EXIT_OK;
}

/*
 * The desired state of the files, judged as load judges them: every
 * diagnostic printed once; SG_EXIT_ERR on any error.
 */
static int push_desired(const char **files, size_t nfiles,
			const struct sg_input_opts *io, struct sg_desired *d)
{
	struct sg_inputs in = {};
	struct sg_config cfg = {};
	struct sg_compiled c = {};
	struct sg_diag diag, again;
	int err;

	sg_diag_init(&diag);
	err = sg_inputs_read(files, nfiles, &in, &diag);
	if (!err) {
		in.opts = *io;
		err = sg_inputs_parse(&in, &cfg, &diag);
	}
	sg_diag_print(&diag, stderr);
	if (err || diag.nerrors) {
		if (!diag.nerrors)
			sg_err("%s", strerror(-err));
		goto fail;
	}
	/* What load would refuse when compiling, push refuses too. */
	{
		struct sg_plan plan;
		int bad = sg_plan_host(NULL, &cfg, SG_PLAN_NEW, NULL, &plan) ||
			  sg_enforce_compile(&cfg, &c);

		sg_plan_free(&plan);
		sg_compiled_free(&c);
		if (bad)
			goto fail;
	}
	/* The diagnostics are told already: these are the same again. */
	sg_diag_init(&again);
	err = sg_desired_from_inputs(&in, d, &again);
	if (err) {
		if (again.nerrors)
			sg_diag_print(&again, stderr);
		else
			sg_err("push: %s", strerror(-err));
		sg_diag_free(&again);
		goto fail;
	}
	sg_diag_free(&again);
	if (check_read_back(&cfg, d)) {
		sg_desired_free(d);
		goto fail;
	}
	sg_diag_free(&diag);
	sg_config_free(&cfg);
	sg_inputs_free(&in);
	return SG_EXIT_OK;
fail:
	sg_diag_free(&diag);
	sg_config_free(&cfg);
	sg_inputs_free(&in);
	return SG_EXIT_ERR;
}

static void print_revision(int64_t revision)
{
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_kv_int(j, "revision", revision);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("revision %lld\n", (long long)revision);
	}
}

int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{"etcd", required_argument, NULL, OPT_ETCD},
		{"cacert", required_argument, NULL, OPT_CACERT},
		{"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},
		{"vpc", required_argument, NULL, OPT_VPC},
		{"quota", required_argument, NULL, OPT_QUOTA},
		{NULL, 0, NULL, 0},
	};
	struct sg_etcd_opts eo = {};
	struct sg_input_opts io = {};
	struct sg_desired d = {};
	struct sg_kvset want = {};
	struct sg_etcd *e = NULL;
	const char **files;
	char *prefix = NULL, *err = NULL;
	size_t nfiles;
	int opt, rc;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ETCD:
			eo.url = optarg;
			break;
		case OPT_CACERT:
			eo.cacert = optarg;
			break;
		case OPT_CERT:
			eo.cert = optarg;
			break;
		case OPT_KEY:
			eo.key = optarg;
			break;
		case OPT_VPC:
			if (sg_input_opts_vpc(&io, optarg))
				return SG_EXIT_USAGE;
			break;
		case OPT_QUOTA:
			if (sg_input_opts_quota(&io, optarg))
				return SG_EXIT_USAGE;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (argc - optind < 1)
		return sg_usage_err(argv[0], "missing FILE");
	files = (const char **)(argv + optind);
	nfiles = (size_t)(argc - optind);
	if ((!eo.url || !*eo.url) &&
	    (!getenv("SGCTL_ETCD") || !*getenv("SGCTL_ETCD")))
		return sg_usage_err(argv[0],
				    "missing --etcd URL (or SGCTL_ETCD)");

	/* Nothing reaches etcd before the files are known to be good. */
	rc = push_desired(files, nfiles, &io, &d);
	if (rc)
		return rc;
	rc = SG_EXIT_ERR;
	prefix = sg_desired_prefix(sg_desired_vpc(&d));
	if (!prefix || sg_desired_to_kv(&d, prefix, &want)) {
		sg_err("push: out of memory");
		goto out;
	}
	rc = sg_cmd_etcd_open("push", &eo, &e);
	if (rc)
		goto out;
	rc = SG_EXIT_ERR;
	for (int try = 0; try < PUSH_TRIES; try++) {
		struct sg_kvset have = {};
		int64_t read_rev = 0, rev = 0;
		bool done = false;
		int r;

		r = sg_etcd_range_prefix(e, prefix, &have, &read_rev, &err);
		if (!r)
			r = sg_etcd_put_state(e, prefix, &have, read_rev, &want,
					      &done, &rev, NULL, NULL, &err);
		sg_kvset_free(&have);
		if (r) {
			sg_err("push: %s", err ? err : strerror(-r));
			goto out;
		}
		if (done) {
			print_revision(rev);
			rc = SG_EXIT_OK;
			goto out;
		}
		/* Another writer came first: read again, write again. */
	}
	sg_err("push: etcd at %s: other writers changed %s %d times while "
	       "pushing; nothing written",
	       eo.url, prefix, PUSH_TRIES);
out:
	free(err);
	sg_etcd_close(e);
	sg_kvset_free(&want);
	free(prefix);
	sg_desired_free(&d);
	return rc;
}
