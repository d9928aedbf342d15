// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * console: the web console (loader/console/, docs/console.md) on the
 * loaded config of --pin-dir or on a VPC's desired state in etcd.
 *
 *   sgctl console [--listen ADDR:PORT] [--read-only]
 *                 [--etcd URL [--cacert F --cert F --key F] [--vpc ID]]
 *                 [--tls-cert F --tls-key F [--client-ca F | --password-file F]]
 *
 * The option checks that are plain usage live here (exit 2); the one
 * that is a security refusal (a non-loopback address without TLS and
 * authentication, exit 1) is sg_console_run's, so no caller can skip it.
 */
#include <getopt.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "console/console.h"
#include "console/console_priv.h"

enum {
	OPT_LISTEN = 0x200,
	OPT_READ_ONLY,
	OPT_TLS_CERT,
	OPT_TLS_KEY,
	OPT_CLIENT_CA,
	OPT_PASSWORD_FILE,
};

int cmd_console(int argc, char **argv)
{
	static const struct option opts[] = {
		{"listen", required_argument, NULL, OPT_LISTEN},
		{"read-only", no_argument, NULL, OPT_READ_ONLY},
		{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
		{"tls-key", required_argument, NULL, OPT_TLS_KEY},
		{"client-ca", required_argument, NULL, OPT_CLIENT_CA},
		{"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
		SG_EDIT_LONGOPTS,
		{NULL, 0, NULL, 0},
	};
	struct sg_console_opts o = {.pin_dir = sg_opts.pin_dir};
	struct sg_edit_target t = {0};
	struct sockaddr_storage ss;
	socklen_t sslen;
	bool loopback;
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		if (sg_edit_opt(&t, opt, optarg))
			continue;
		switch (opt) {
		case OPT_LISTEN:
			o.listen = optarg;
			break;
		case OPT_READ_ONLY:
			o.read_only = true;
			break;
		case OPT_TLS_CERT:
			o.tls_cert = optarg;
			break;
		case OPT_TLS_KEY:
			o.tls_key = optarg;
			break;
		case OPT_CLIENT_CA:
			o.client_ca = optarg;
			break;
		case OPT_PASSWORD_FILE:
			o.password_file = optarg;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (o.listen &&
	    sg_console_listen_parse(o.listen, &ss, &sslen, &loopback))
		return sg_usage_err(argv[0],
				    "--listen %s: not ADDR:PORT or "
				    "[ADDR6]:PORT (e.g. 127.0.0.1:8080)",
				    o.listen);
	if (!!o.tls_cert != !!o.tls_key)
		return sg_usage_err(argv[0],
				    "--tls-cert and --tls-key go together");
	if ((o.client_ca || o.password_file) && !o.tls_cert)
		return sg_usage_err(argv[0], "--client-ca and --password-file "
					     "need TLS: --tls-cert and "
					     "--tls-key");
	if (o.client_ca && o.password_file)
		return sg_usage_err(argv[0], "--client-ca or --password-file, "
					     "not both");

	o.etcd.url = t.etcd;
	if (!o.etcd.url || !*o.etcd.url)
		o.etcd.url = getenv("SGCTL_ETCD");
	if (o.etcd.url && !*o.etcd.url)
		o.etcd.url = NULL;
	if (!o.etcd.url && (t.cacert || t.cert || t.key || t.vpc))
		return sg_usage_err(argv[0], "--cacert, --cert, --key and "
					     "--vpc go with --etcd URL (or "
					     "SGCTL_ETCD)");
	if (!!t.cert != !!t.key)
		return sg_usage_err(argv[0], "--cert and --key go together");
	o.etcd.cacert = t.cacert;
	o.etcd.cert = t.cert;
	o.etcd.key = t.key;
	o.vpc = t.vpc;
	/* The local config is edited in the pinned maps: root, as the
	 * edit commands. */
	if (!o.etcd.url && sg_need_root(argv[0]))
		return SG_EXIT_ERR;
	return sg_console_run(&o);
}
