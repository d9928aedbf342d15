// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rule add|delete, and what every edit command shares (cmd.h): where the
 * desired state is (--etcd URL or SGCTL_ETCD, else the loaded config),
 * running the edit there (fleet/edit_txn.h) and printing the revision.
 * The edits themselves are desired/edit.c's.
 *
 *   sgctl rule add GROUP --inbound|--outbound (--type NAME | --protocol P
 *         [--port N|N-M] [--icmp-type T [--icmp-code C]])
 *         (--source|--destination CIDR|sg-...|pl-...) [--description D]
 *   sgctl rule delete GROUP (--rule-id sgr-... | the selector of add)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sgctl.h"
#include "cmd/cmd.h"
#include "desired/edit.h"
#include "fleet/edit_txn.h"
#include "util/diag.h"

/* ---- shared by the edit commands ---- */

bool sg_edit_opt(struct sg_edit_target *t, int opt, const char *arg)
{
	switch (opt) {
	case SG_EDIT_OPT_ETCD:
		t->etcd = arg;
		return true;
	case SG_EDIT_OPT_CACERT:
		t->cacert = arg;
		return true;
	case SG_EDIT_OPT_CERT:
		t->cert = arg;
		return true;
	case SG_EDIT_OPT_KEY:
		t->key = arg;
		return true;
	case SG_EDIT_OPT_VPC:
		t->vpc = arg;
		return true;
	}
	return false;
}

static void print_revision(long long rev, const char *done, bool local)
{
	if (sg_opts.json) {
		printf("{\"revision\": %lld}\n", rev);
		return;
	}
	if (local)
		printf("%s: revision %lld (the policy generation now live "
		       "here)\n",
		       done, rev);
	else
		printf("%s: revision %lld\n", done, rev);
}

int sg_edit_run(const char *cmd, const struct sg_edit_target *t, sg_edit_fn fn,
		void *arg, void (*done)(void *arg, char *buf, size_t len))
{
	const char *url = t->etcd;
	struct sg_diag diag;
	char what[256];
	int rc;

	if (!url || !*url)
		url = getenv("SGCTL_ETCD");
	if (url && !*url)
		url = NULL;
	if (!url && (t->cacert || t->cert || t->key || t->vpc))
		return sg_usage_err(cmd, "--cacert, --cert, --key and --vpc "
					 "go with --etcd URL (or SGCTL_ETCD)");
	if (!!t->cert != !!t->key)
		return sg_usage_err(cmd, "--cert and --key go together");
	if (!url && sg_need_root(cmd))
		return SG_EXIT_ERR;
	sg_diag_init(&diag);
	if (url) {
		struct sg_etcd_opts o = {.url = url,
					 .cacert = t->cacert,
					 .cert = t->cert,
					 .key = t->key};
		struct sg_edit_etcd_result res;

		rc = sg_edit_etcd(&o, t->vpc, fn, arg, &diag, &res);
		if (!rc) {
			done(arg, what, sizeof(what));
			print_revision((long long)res.revision, what, false);
		}
	} else {
		uint32_t gen = 0;

		rc = sg_edit_local(sg_opts.pin_dir, fn, arg, &diag, &gen);
		if (!rc) {
			done(arg, what, sizeof(what));
			print_revision(gen, what, true);
		}
	}
	if (diag.nentries)
		sg_diag_print(&diag, stderr);
	else if (rc && rc != -EINVAL)
		sg_err("%s: %s", cmd, strerror(-rc));
	sg_diag_free(&diag);
	return rc ? SG_EXIT_ERR : SG_EXIT_OK;
}

/* ---- rule add|delete ---- */

enum {
	OPT_INBOUND = 0x200,
	OPT_OUTBOUND,
	OPT_TYPE,
	OPT_PROTOCOL,
	OPT_PORT,
	OPT_ICMP_TYPE,
	OPT_ICMP_CODE,
	OPT_SOURCE,
	OPT_DESTINATION,
	OPT_DESCRIPTION,
	OPT_RULE_ID,
};

struct rule_args {
	const char *group;
	const char *rule_id;
	struct sg_rule_spec spec;
	bool add;
	char id[SG_RULE_ID_SIZE];
};

static int rule_edit(struct sg_desired *d, void *arg, struct sg_diag *diag)
{
	struct rule_args *a = arg;

	if (a->add)
		return sg_edit_rule_add(d, a->group, &a->spec, a->id, diag);
	return sg_edit_rule_delete(d, a->group, a->rule_id,
				   a->rule_id ? NULL : &a->spec, a->id, diag);
}

static void rule_done(void *arg, char *buf, size_t len)
{
	struct rule_args *a = arg;

	snprintf(buf, len, "%s rule %s %s %s", a->add ? "added" : "deleted",
		 a->id, a->add ? "to" : "from", a->group);
}

static int rule_cmd(int argc, char **argv, bool add)
{
	static const struct option opts[] = {
		{"inbound", no_argument, NULL, OPT_INBOUND},
		{"outbound", no_argument, NULL, OPT_OUTBOUND},
		{"type", required_argument, NULL, OPT_TYPE},
		{"protocol", required_argument, NULL, OPT_PROTOCOL},
		{"port", required_argument, NULL, OPT_PORT},
		{"ports", required_argument, NULL, OPT_PORT},
		{"icmp-type", required_argument, NULL, OPT_ICMP_TYPE},
		{"icmp-code", required_argument, NULL, OPT_ICMP_CODE},
		{"source", required_argument, NULL, OPT_SOURCE},
		{"destination", required_argument, NULL, OPT_DESTINATION},
		{"description", required_argument, NULL, OPT_DESCRIPTION},
		{"rule-id", required_argument, NULL, OPT_RULE_ID},
		SG_EDIT_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct sg_edit_target t = {0};
	struct rule_args a = {.add = add};
	struct sg_rule_spec *s = &a.spec;
	const char *cmd = argv[0];
	int opt, dirs = 0, peers = 0;

	s->dir = -1;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (sg_edit_opt(&t, opt, optarg))
			continue;
		switch (opt) {
		case OPT_INBOUND:
		case OPT_OUTBOUND:
			s->dir = opt == OPT_INBOUND ? SG_DIR_IN : SG_DIR_OUT;
			dirs++;
			break;
		case OPT_TYPE:
			s->type = optarg;
			break;
		case OPT_PROTOCOL:
			s->protocol = optarg;
			break;
		case OPT_PORT:
			s->ports = optarg;
			break;
		case OPT_ICMP_TYPE:
			s->icmp_type = optarg;
			break;
		case OPT_ICMP_CODE:
			s->icmp_code = optarg;
			break;
		case OPT_SOURCE:
		case OPT_DESTINATION:
			s->peer = optarg;
			peers++;
			if ((opt == OPT_SOURCE) != (s->dir != SG_DIR_OUT) &&
			    s->dir >= 0)
				return sg_usage_err(
					cmd, "%s rules take --%s",
					s->dir == SG_DIR_IN ? "inbound"
							    : "outbound",
					s->dir == SG_DIR_IN ? "source"
							    : "destination");
			if (s->dir < 0)
				s->dir = opt == OPT_SOURCE ? SG_DIR_IN
							   : SG_DIR_OUT;
			break;
		case OPT_DESCRIPTION:
			s->description = optarg;
			break;
		case OPT_RULE_ID:
			a.rule_id = optarg;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (argc - optind < 1)
		return sg_usage_err(cmd, "missing GROUP");
	if (argc - optind > 1)
		return sg_usage_err(cmd, "unexpected argument '%s'",
				    argv[optind + 1]);
	a.group = argv[optind];
	if (dirs > 1)
		return sg_usage_err(cmd, "--inbound or --outbound, not both");
	if (peers > 1)
		return sg_usage_err(cmd, "one --source or --destination (a "
					 "rule per peer)");
	if (a.rule_id) {
		if (add)
			return sg_usage_err(cmd,
					    "--rule-id is for rule delete");
		if (s->type || s->protocol || s->ports || s->icmp_type ||
		    s->icmp_code || s->peer)
			return sg_usage_err(cmd, "--rule-id or a selector, not "
						 "both");
		if (!sg_rule_id_valid(a.rule_id))
			return sg_usage_err(cmd,
					    "--rule-id '%s' is not sgr- and 17 "
					    "lowercase hex digits",
					    a.rule_id);
	} else {
		if (s->dir < 0)
			return sg_usage_err(cmd, "--inbound or --outbound?");
		if (!s->type && !s->protocol)
			return sg_usage_err(cmd, "--type NAME or --protocol P");
		if (!s->peer)
			return sg_usage_err(
				cmd, "--%s CIDR|sg-...|pl-...",
				s->dir == SG_DIR_IN ? "source" : "destination");
	}
	if (!add && s->description)
		return sg_usage_err(cmd, "--description is for rule add");
	return sg_edit_run(cmd, &t, rule_edit, &a, rule_done);
}

static int rule_add(int argc, char **argv)
{
	return rule_cmd(argc, argv, true);
}

static int rule_delete(int argc, char **argv)
{
	return rule_cmd(argc, argv, false);
}

static const struct cmd subcmds[] = {
	{"add", rule_add, NULL},
	{"delete", rule_delete, NULL},
	{NULL, NULL, NULL},
};

int sg_subcmd(const struct cmd *table, int argc, char **argv)
{
	const struct cmd *sub;
	char names[96];
	bool ambiguous;

	sg_cmd_names(table, "", names, sizeof(names));
	if (argc < 2 || argv[1][0] == '-')
		return sg_usage_err(argv[0], "which one: %s?", names);
	sub = sg_cmd_find(table, argv[1], &ambiguous);
	if (!sub) {
		if (ambiguous)
			sg_cmd_names(table, argv[1], names, sizeof(names));
		return sg_usage_err(argv[0], "%s subcommand '%s' (%s)",
				    ambiguous ? "ambiguous" : "unknown",
				    argv[1], names);
	}
	/* The subcommand sees "rule" and the options after its word. */
	argv[1] = argv[0];
	return sub->fn(argc - 1, argv + 1);
}

int cmd_rule(int argc, char **argv)
{
	return sg_subcmd(subcmds, argc, argv);
}
