// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * group create|delete: a security group made or removed in the desired
 * state (desired/edit.c), in etcd or on the loaded config (cmd_rule.c).
 *
 *   sgctl group create ID [--name N] [--description D]
 *   sgctl group delete ID
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "desired/edit.h"

enum {
	OPT_NAME = 0x200,
	OPT_DESCRIPTION,
};

struct group_args {
	const char *id, *name, *description;
	bool create;
};

static int group_edit(struct sg_desired *d, void *arg, struct sg_diag *diag)
{
	struct group_args *a = arg;

	if (a->create)
		return sg_edit_group_create(d, a->id, a->name, a->description,
					    diag);
	return sg_edit_group_delete(d, a->id, diag);
}

static void group_done(void *arg, char *buf, size_t len)
{
	struct group_args *a = arg;

	snprintf(buf, len, "%s security group %s",
		 a->create ? "created" : "deleted", a->id);
}

static int group_cmd(int argc, char **argv, bool create)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, OPT_NAME},
		{"description", required_argument, NULL, OPT_DESCRIPTION},
		SG_EDIT_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct sg_edit_target t = {0};
	struct group_args a = {.create = create};
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (sg_edit_opt(&t, opt, optarg))
			continue;
		if (opt == OPT_NAME && create)
			a.name = optarg;
		else if (opt == OPT_DESCRIPTION && create)
			a.description = optarg;
		else if (opt == OPT_NAME || opt == OPT_DESCRIPTION)
			return sg_usage_err(argv[0], "%s is for group create",
					    argv[optind - 1]);
		else
			return sg_getopt_err(argv, opt);
	}
	if (argc - optind < 1)
		return sg_usage_err(argv[0], "missing the group ID (sg-...)");
	if (argc - optind > 1)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind + 1]);
	a.id = argv[optind];
	return sg_edit_run(argv[0], &t, group_edit, &a, group_done);
}

static int group_create(int argc, char **argv)
{
	return group_cmd(argc, argv, true);
}

static int group_delete(int argc, char **argv)
{
	return group_cmd(argc, argv, false);
}

static const struct cmd subcmds[] = {
	{"create", group_create, NULL},
	{"delete", group_delete, NULL},
	{NULL, NULL, NULL},
};

int cmd_group(int argc, char **argv)
{
	return sg_subcmd(subcmds, argc, argv);
}
