// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * instance add|set-groups|remove: an instance in the desired state
 * (desired/edit.c), in etcd or on the loaded config (cmd_rule.c).
 *
 *   sgctl instance add ID --ips A[,B] [--groups G[,G]] [--host H
 *         --interface IF [--netns NS] [--host-side]]
 *   sgctl instance set-groups ID G [G...]
 *   sgctl instance remove ID
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "desired/edit.h"

enum {
	OPT_IPS = 0x200,
	OPT_GROUPS,
	OPT_HOST,
	OPT_INTERFACE,
	OPT_NETNS,
	OPT_HOST_SIDE,
};

enum inst_op { INST_ADD, INST_SET_GROUPS, INST_REMOVE };

struct inst_args {
	enum inst_op op;
	const char *id;
	struct sg_instance_spec spec;
	const char *const *groups;
	size_t ngroups;
};

static int inst_edit(struct sg_desired *d, void *arg, struct sg_diag *diag)
{
	struct inst_args *a = arg;

	switch (a->op) {
	case INST_ADD:
		return sg_edit_instance_add(d, a->id, &a->spec, diag);
	case INST_SET_GROUPS:
		return sg_edit_instance_set_groups(d, a->id, a->groups,
						   a->ngroups, diag);
	case INST_REMOVE:
		break;
	}
	return sg_edit_instance_remove(d, a->id, diag);
}

static void inst_done(void *arg, char *buf, size_t len)
{
	struct inst_args *a = arg;

	snprintf(buf, len, "%s instance %s",
		 a->op == INST_ADD	    ? "added"
		 : a->op == INST_SET_GROUPS ? "set the groups of"
					    : "removed",
		 a->id);
}

/* "a,b,c" into a NULL-terminated list (s is changed); NULL when out of
 * memory. Empty items are kept: the validator names them. */
static const char **split(char *s, size_t *n)
{
	size_t cap = 2;
	const char **v;
	char *p;

	for (p = s; *p; p++)
		cap += *p == ',';
	v = calloc(cap, sizeof(*v));
	if (!v)
		return NULL;
	*n = 0;
	for (p = s;; p++) {
		char *c = strchr(p, ',');

		v[(*n)++] = p;
		if (!c)
			break;
		*c = '\0';
		p = c;
	}
	return v;
}

static int inst_cmd(int argc, char **argv, enum inst_op op)
{
	static const struct option opts[] = {
		{"ips", required_argument, NULL, OPT_IPS},
		{"groups", required_argument, NULL, OPT_GROUPS},
		{"host", required_argument, NULL, OPT_HOST},
		{"interface", required_argument, NULL, OPT_INTERFACE},
		{"netns", required_argument, NULL, OPT_NETNS},
		{"host-side", no_argument, NULL, OPT_HOST_SIDE},
		SG_EDIT_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct sg_edit_target t = {0};
	struct inst_args a = {.op = op};
	struct sg_instance_spec *s = &a.spec;
	const char **ips = NULL, **groups = NULL;
	int opt, rc;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (sg_edit_opt(&t, opt, optarg))
			continue;
		if (opt >= OPT_IPS && opt <= OPT_HOST_SIDE && op != INST_ADD) {
			rc = sg_usage_err(argv[0], "%s is for instance add",
					  argv[optind - 1]);
			goto out;
		}
		switch (opt) {
		case OPT_IPS:
			free(ips);
			ips = split(optarg, &s->nips);
			s->ips = ips;
			break;
		case OPT_GROUPS:
			free(groups);
			groups = split(optarg, &s->ngroups);
			s->groups = groups;
			break;
		case OPT_HOST:
			s->host = optarg;
			break;
		case OPT_INTERFACE:
			s->interface = optarg;
			break;
		case OPT_NETNS:
			s->netns = optarg;
			break;
		case OPT_HOST_SIDE:
			s->host_side = true;
			break;
		default:
			rc = sg_getopt_err(argv, opt);
			goto out;
		}
	}
	rc = SG_EXIT_USAGE;
	if (argc - optind < 1) {
		rc = sg_usage_err(argv[0], "missing the instance ID");
		goto out;
	}
	a.id = argv[optind++];
	if (op == INST_SET_GROUPS) {
		if (argc - optind < 1) {
			rc = sg_usage_err(
				argv[0], "set-groups needs at least one group");
			goto out;
		}
		a.groups = (const char *const *)(argv + optind);
		a.ngroups = (size_t)(argc - optind);
	} else if (argc - optind > 0) {
		rc = sg_usage_err(argv[0], "unexpected argument '%s'",
				  argv[optind]);
		goto out;
	}
	if (op == INST_ADD && !s->ips) {
		rc = sg_usage_err(argv[0], "instance add needs --ips A[,B]");
		goto out;
	}
	if (op == INST_ADD && (s->netns || s->host_side) && !s->interface) {
		rc = sg_usage_err(
			argv[0], "--netns and --host-side go with --interface");
		goto out;
	}
	if ((op == INST_ADD && !s->ips) || (ips && !s->nips)) {
		rc = sg_usage_err(argv[0], "out of memory");
		goto out;
	}
	rc = sg_edit_run(argv[0], &t, inst_edit, &a, inst_done);
out:
	free(ips);
	free(groups);
	return rc;
}

static int inst_add(int argc, char **argv)
{
	return inst_cmd(argc, argv, INST_ADD);
}

static int inst_set_groups(int argc, char **argv)
{
	return inst_cmd(argc, argv, INST_SET_GROUPS);
}

static int inst_remove(int argc, char **argv)
{
	return inst_cmd(argc, argv, INST_REMOVE);
}

static const struct cmd subcmds[] = {
	{"add", inst_add, NULL},
	{"set-groups", inst_set_groups, NULL},
	{"remove", inst_remove, NULL},
	{NULL, NULL, NULL},
};

int cmd_instance(int argc, char **argv)
{
	return sg_subcmd(subcmds, argc, argv);
}
