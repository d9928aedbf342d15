// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * status: every agent of a VPC, from the status keys they publish
 * (fleet/agent.h): its applied revision, how far behind the desired state
 * it is, when it applied, and the error (with its key) that stopped it.
 *
 * lag = how many revisions that changed the desired state (as the keys
 * under the prefix show them: the mod_revision of each object) came after
 * the one the agent applied; 0 = in sync.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "desired/desired.h"
#include "fleet/agent.h"
#include "fleet/etcd.h"
#include "out/json.h"
#include "util/diag.h"

enum { OPT_ETCD = 0x100, OPT_VPC, OPT_CACERT, OPT_CERT, OPT_KEY };

static int cmp_rev(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

/* Distinct desired-state revisions after rev (revs sorted, unique). */
static size_t lag_of(const int64_t *revs, size_t n, int64_t rev)
{
	size_t lag = 0;

	for (size_t i = 0; i < n; i++)
		lag += revs[i] > rev;
	return lag;
}

static void when(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&s, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + strlen(buf), len - strlen(buf), ".%03dZ",
		 (int)((t - (double)s) * 1000));
}

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
	struct sg_agent_status *st = NULL;
	struct sg_etcd *e = NULL;
	struct sg_kvset kv = {};
	int64_t rev = 0, latest = 0, *revs = NULL;
	size_t nst = 0, nrevs = 0, plen;
	char *prefix = NULL, *why = NULL;
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
	prefix = sg_desired_prefix(vpc);
	if (!prefix) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	plen = strlen(prefix);
	err = sg_etcd_open(&eo, &e, &why);
	if (!err)
		err = sg_etcd_range_prefix(e, prefix, &kv, &rev, &why);
	if (err) {
		sg_err("%s", why ? why : strerror(-err));
		goto out;
	}
	st = calloc(kv.n + 1, sizeof(*st));
	revs = calloc(kv.n + 1, sizeof(*revs));
	if (!st || !revs) {
		sg_err("out of memory");
		goto out;
	}
	for (size_t i = 0; i < kv.n; i++) {
		const struct sg_kv *k = &kv.v[i];

		if (strncmp(k->key + plen, "status/", 7)) {
			revs[nrevs++] = k->mod_revision;
			if (k->mod_revision > latest)
				latest = k->mod_revision;
			continue;
		}
		if (sg_agent_status_parse(k->value, k->len, &st[nst])) {
			sg_warnx("%s: not an agent status; skipped", k->key);
			continue;
		}
		st[nst++].mod_revision = k->mod_revision;
	}
	qsort(revs, nrevs, sizeof(*revs), cmp_rev);
	{
		size_t u = 0;

		for (size_t i = 0; i < nrevs; i++)
			if (!u || revs[u - 1] != revs[i])
				revs[u++] = revs[i];
		nrevs = u;
	}

	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, true);

		sg_json_begin_object(j);
		sg_json_kv_string(j, "vpc", vpc);
		sg_json_kv_int(j, "revision", rev);
		sg_json_kv_int(j, "desired_revision", latest);
		sg_json_key(j, "hosts");
		sg_json_begin_array(j);
		for (size_t i = 0; i < nst; i++) {
			sg_json_begin_object(j);
			sg_json_kv_string(j, "host", st[i].host);
			sg_json_kv_int(j, "revision", st[i].revision);
			sg_json_kv_uint(j, "lag",
					lag_of(revs, nrevs, st[i].revision));
			sg_json_key(j, "applied_at");
			sg_json_double(j, st[i].applied_at);
			sg_json_kv_int(j, "pid", st[i].pid);
			sg_json_kv_string(j, "version", st[i].version);
			sg_json_key(j, "error");
			if (st[i].error) {
				sg_json_begin_object(j);
				sg_json_kv_string(j, "key", st[i].error_key);
				sg_json_kv_string(j, "message", st[i].error);
				sg_json_end_object(j);
			} else {
				sg_json_null(j);
			}
			sg_json_end_object(j);
		}
		sg_json_end_array(j);
		sg_json_end_object(j);
		sg_json_destroy(j);
	} else {
		printf("%s: store revision %" PRId64
		       ", desired state last changed at %" PRId64 "\n",
		       vpc, rev, latest);
		if (!nst)
			printf("no agent has published a status\n");
		else
			printf("%-20s %9s %5s  %-24s %s\n", "HOST", "REVISION",
			       "LAG", "APPLIED AT (UTC)", "ERROR");
		for (size_t i = 0; i < nst; i++) {
			char t[64];

			when(st[i].applied_at, t, sizeof(t));
			printf("%-20s %9" PRId64 " %5zu  %-24s ", st[i].host,
			       st[i].revision,
			       lag_of(revs, nrevs, st[i].revision), t);
			if (st[i].error)
				printf("%s%s%s\n",
				       st[i].error_key ? st[i].error_key : "",
				       st[i].error_key ? ": " : "",
				       st[i].error);
			else
				printf("-\n");
		}
	}
	rc = SG_EXIT_OK;
out:
	for (size_t i = 0; i < nst; i++)
		sg_agent_status_free(&st[i]);
	free(st);
	free(revs);
	sg_kvset_free(&kv);
	if (e)
		sg_etcd_close(e);
	free(prefix);
	free(why);
	return rc;
}
