// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * check: the verdict a new flow would get, and why. The answer itself
 * (the kernel's dry run and the reference model, which must agree) is
 * view/check.c's, shared with the console; here is the command line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "config/model.h"
#include "out/json.h"
#include "state/state.h"
#include "util/diag.h"
#include "view/check.h"

static int parse_num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

enum {
	OPT_INBOUND = 0x100,
	OPT_OUTBOUND,
	OPT_INSTANCE,
	OPT_PROTOCOL,
	OPT_REMOTE,
	OPT_PORT,
	OPT_ICMP_TYPE,
	OPT_ICMP_CODE,
	OPT_CONFIG,
	OPT_FROM,
	OPT_TO,
	OPT_FAMILY,
};

static int parse_args(int argc, char **argv, struct sg_check_args *a)
{
	static const struct option opts[] = {
		{"inbound", no_argument, NULL, OPT_INBOUND},
		{"outbound", no_argument, NULL, OPT_OUTBOUND},
		{"instance", required_argument, NULL, OPT_INSTANCE},
		{"protocol", required_argument, NULL, OPT_PROTOCOL},
		{"remote", required_argument, NULL, OPT_REMOTE},
		{"port", required_argument, NULL, OPT_PORT},
		{"icmp-type", required_argument, NULL, OPT_ICMP_TYPE},
		{"icmp-code", required_argument, NULL, OPT_ICMP_CODE},
		{"config", required_argument, NULL, OPT_CONFIG},
		{"from", required_argument, NULL, OPT_FROM},
		{"to", required_argument, NULL, OPT_TO},
		{"family", required_argument, NULL, OPT_FAMILY},
		{NULL, 0, NULL, 0},
	};
	const char *proto = NULL;
	char msg[256];
	bool path;
	int opt, d;
	long v;

	sg_check_args_init(a);
	a->files = calloc((size_t)argc + 1, sizeof(*a->files));
	if (!a->files) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_INBOUND:
		case OPT_OUTBOUND:
			d = opt == OPT_INBOUND ? SG_DIR_IN : SG_DIR_OUT;
			if (a->dir >= 0 && a->dir != d)
				return sg_usage_err(argv[0],
						    "--inbound or --outbound, "
						    "not both");
			a->dir = d;
			break;
		case OPT_INSTANCE:
			a->instance = optarg;
			break;
		case OPT_FROM:
			a->from = optarg;
			break;
		case OPT_TO:
			a->to = optarg;
			break;
		case OPT_CONFIG:
			a->files[a->nfiles++] = optarg;
			break;
		case OPT_FAMILY:
			if (parse_num(optarg, 4, 6, &v) || v == 5)
				return sg_usage_err(argv[0],
						    "--family: 4 or 6, not "
						    "'%s'",
						    optarg);
			a->want_family = (int)v;
			break;
		case OPT_PROTOCOL:
			proto = optarg;
			break;
		case OPT_REMOTE:
			a->remote_text = optarg;
			if (inet_pton(AF_INET, optarg, a->remote) == 1)
				a->family = 4;
			else if (inet_pton(AF_INET6, optarg, a->remote) == 1)
				a->family = 6;
			else
				return sg_usage_err(argv[0],
						    "--remote: '%s' is not an "
						    "IPv4 or IPv6 address",
						    optarg);
			break;
		case OPT_PORT:
			if (parse_num(optarg, 0, 65535, &a->port))
				return sg_usage_err(argv[0],
						    "--port: '%s' is not a "
						    "port 0-65535",
						    optarg);
			break;
		case OPT_ICMP_TYPE:
			if (parse_num(optarg, 0, 255, &a->itype))
				return sg_usage_err(argv[0],
						    "--icmp-type: '%s' is not "
						    "0-255",
						    optarg);
			break;
		case OPT_ICMP_CODE:
			if (parse_num(optarg, 0, 255, &a->icode))
				return sg_usage_err(argv[0],
						    "--icmp-code: '%s' is not "
						    "0-255",
						    optarg);
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	/* --config FILE... : the files after the first one too. */
	if (optind < argc && !a->nfiles)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	while (optind < argc)
		a->files[a->nfiles++] = argv[optind++];

	path = a->from || a->to;
	if (path) {
		if (!a->from || !a->to)
			return sg_usage_err(argv[0],
					    "a path needs --from and --to");
		if (a->instance || a->remote_text || a->dir >= 0)
			return sg_usage_err(argv[0],
					    "--from/--to judge both ends: "
					    "no --instance, --remote, "
					    "--inbound or --outbound");
	} else {
		if (!a->instance)
			return sg_usage_err(argv[0],
					    "--instance (or --from and --to) "
					    "is required");
		if (a->dir < 0)
			return sg_usage_err(argv[0], "--inbound or "
						     "--outbound is required");
		if (!a->remote_text)
			return sg_usage_err(argv[0], "--remote is required");
		if (a->want_family && a->want_family != a->family)
			return sg_usage_err(argv[0],
					    "--family %d but --remote is an "
					    "IPv%d address",
					    a->want_family, a->family);
	}
	if (!proto)
		return sg_usage_err(argv[0], "--protocol is required");
	if (sg_check_parse_proto(proto, "--", &a->proto, msg, sizeof(msg)) ||
	    sg_check_args_finish(a, "--", msg, sizeof(msg)))
		return sg_usage_err(argv[0], "%s", msg);
	return 0;
}

int cmd_check(int argc, char **argv)
{
	struct sg_check_args a;
	struct sg_check_src src = {.pin_dir = sg_opts.pin_dir};
	struct sg_state st = {};
	struct sg_check *x = NULL;
	char *label = NULL;
	const char *msg;
	int rc = SG_EXIT_ERR, err;

	err = parse_args(argc, argv, &a);
	if (err) {
		free(a.files);
		return err;
	}
	if (sg_need_root(argv[0]))
		goto out;
	if (!sg_state_exists(sg_opts.pin_dir) && !a.nfiles) {
		sg_err("check: no config loaded (pin directory %s)",
		       sg_opts.pin_dir);
		goto out;
	}
	if (sg_state_exists(sg_opts.pin_dir)) {
		if (sg_state_open_ro(&st, sg_opts.pin_dir))
			goto out;
		src.st = &st;
	}
	if (a.nfiles) {
		label = sg_files_label(a.files, a.nfiles);
		if (!label) {
			sg_err("out of memory");
			goto out;
		}
		a.files_label = label;
	}
	err = sg_check_run(&a, &src, &x);
	if (err == -EDOM && sg_check_error(x, 0)) {
		sg_usage_err(argv[0], "%s", sg_check_error(x, 0));
		goto out;
	}
	for (size_t i = 0; (msg = sg_check_error(x, i)); i++)
		sg_err("%s", msg);
	if (err) {
		if (!x)
			sg_err("out of memory");
		goto out;
	}
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_check_json(x, j);
		sg_json_destroy(j);
	} else {
		sg_check_print(x);
	}
	rc = SG_EXIT_OK;
out:
	sg_check_free(x);
	sg_state_close(&st);
	free(label);
	free(a.files);
	return rc;
}
