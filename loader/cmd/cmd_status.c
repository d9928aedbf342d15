// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * status: every agent of a VPC, from the status keys they publish; the
 * answer (applied revision, lag, errors) is view/status.c's, shared with
 * the console's Hosts page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "fleet/etcd.h"
#include "out/json.h"
#include "util/diag.h"
#include "view/status.h"

enum { OPT_ETCD = 0x100, OPT_VPC, OPT_CACERT, OPT_CERT, OPT_KEY };

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"etcd", required_argument, NULL, OPT_ETCD},
		{"vpc", required_argument, NULL, OPT_VPC},
		{"cacert", required_argument, NULL, OPT_CACERT},
		{"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},
		{NULL, 0, NULL, 0},
	};
	struct sg_etcd_opts eo = {.url = getenv("SGCTL_ETCD")};
	const char *vpc = "vpc-default";
	struct sg_status st = {};
	struct sg_etcd *e = NULL;
	char *why = NULL;
	int opt, err, rc = SG_EXIT_ERR;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ETCD:
			eo.url = optarg;
			break;
		case OPT_VPC:
			vpc = optarg;
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
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (!eo.url || !*eo.url)
		return sg_usage_err(argv[0], "missing --etcd URL (or "
					     "SGCTL_ETCD)");
	err = sg_etcd_open(&eo, &e, &why);
	if (!err)
		err = sg_status_read(e, vpc, &st, &why);
	if (err) {
		if (err == -ENOMEM && !why)
			sg_err("out of memory");
		else
			sg_err("%s", why ? why : strerror(-err));
		goto out;
	}
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_status_json(&st, j);
		sg_json_destroy(j);
	} else {
		sg_status_print(&st, stdout);
	}
	rc = SG_EXIT_OK;
out:
	sg_status_free(&st);
	if (e)
		sg_etcd_close(e);
	free(why);
	return rc;
}
