// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* agent: keep this host's pinned state equal to the desired state in etcd
 * (fleet/agent.h, docs/fleet.md). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "config/model.h"
#include "fleet/agent.h"
#include "util/diag.h"

enum { OPT_ETCD = 0x100, OPT_HOST, OPT_VPC, OPT_CACERT, OPT_CERT, OPT_KEY };

static void on_stop(int sig)
{
	(void)sig;
	sg_agent_stop();
}

int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		{"etcd", required_argument, NULL, OPT_ETCD},
		{"host", required_argument, NULL, OPT_HOST},
		{"vpc", required_argument, NULL, OPT_VPC},
		{"cacert", required_argument, NULL, OPT_CACERT},
		{"cert", required_argument, NULL, OPT_CERT},
		{"key", required_argument, NULL, OPT_KEY},
		{NULL, 0, NULL, 0},
	};
	struct sg_agent_opts o = {
		.pin_dir = sg_opts.pin_dir,
		.json = sg_opts.json,
		.out = stdout,
		.version = SGCTL_VERSION,
	};
	struct sigaction sa = {.sa_handler = on_stop};
	char hostname[256];
	int opt, err;

	o.etcd.url = getenv("SGCTL_ETCD");
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_ETCD:
			o.etcd.url = optarg;
			break;
		case OPT_HOST:
			o.host = optarg;
			break;
		case OPT_VPC:
			o.vpc = optarg;
			break;
		case OPT_CACERT:
			o.etcd.cacert = optarg;
			break;
		case OPT_CERT:
			o.etcd.cert = optarg;
			break;
		case OPT_KEY:
			o.etcd.key = optarg;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (!o.etcd.url || !*o.etcd.url)
		return sg_usage_err(argv[0], "missing --etcd URL (or "
					     "SGCTL_ETCD)");
	if (!o.host) {
		if (gethostname(hostname, sizeof(hostname)))
			return sg_usage_err(argv[0], "missing --host NAME");
		hostname[sizeof(hostname) - 1] = '\0';
		o.host = hostname;
	}
	if (!*o.host || strlen(o.host) > SG_HOST_MAX ||
	    strspn(o.host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
			   "XYZ0123456789-_.") != strlen(o.host) ||
	    !strcmp(o.host, ".") || !strcmp(o.host, ".."))
		return sg_usage_err(argv[0],
				    "--host '%s' is not a host name (letters, "
				    "digits, '-', '_', '.')",
				    o.host);
	if ((o.etcd.cert == NULL) != (o.etcd.key == NULL))
		return sg_usage_err(argv[0], "--cert and --key go together");
	if (sg_need_root("agent"))
		return SG_EXIT_ERR;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = sg_agent_run(&o);
	return err ? SG_EXIT_ERR : SG_EXIT_OK;
}
