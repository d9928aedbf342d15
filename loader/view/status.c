// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * status: the agents of a VPC from the status keys they publish. The
 * command line (cmd_status.c) and the console's Hosts page share it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "view/status.h"
#include "desired/desired.h"
#include "fleet/agent.h"
#include "fleet/etcd.h"
#include "out/json.h"
#include "util/diag.h"

static int cmp_rev(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return a < b ? -1 : a > b;
}

size_t sg_status_lag(const struct sg_status *s, size_t i)
{
	int64_t rev = s->hosts[i].revision;
	size_t lag = 0;

	for (size_t k = 0; k < s->nrevs; k++)
		lag += s->revs[k] > rev;
	return lag;
}

int sg_status_read(struct sg_etcd *e, const char *vpc, struct sg_status *s,
		   char **why)
{
	struct sg_kvset kv = {};
	char *prefix;
	size_t plen, u = 0;
	int err;

	memset(s, 0, sizeof(*s));
	s->vpc = strdup(vpc);
	prefix = sg_desired_prefix(vpc);
	if (!s->vpc || !prefix) {
		free(prefix);
		return -ENOMEM;
	}
	plen = strlen(prefix);
	err = sg_etcd_range_prefix(e, prefix, &kv, &s->revision, why);
	if (err)
		goto out;
	s->hosts = calloc(kv.n + 1, sizeof(*s->hosts));
	s->revs = calloc(kv.n + 1, sizeof(*s->revs));
	if (!s->hosts || !s->revs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < kv.n; i++) {
		const struct sg_kv *k = &kv.v[i];

		if (strncmp(k->key + plen, "status/", 7)) {
			s->revs[s->nrevs++] = k->mod_revision;
			if (k->mod_revision > s->desired_revision)
				s->desired_revision = k->mod_revision;
			continue;
		}
		if (sg_agent_status_parse(k->value, k->len,
					  &s->hosts[s->nhosts])) {
			sg_warnx("%s: not an agent status; skipped", k->key);
			continue;
		}
		s->hosts[s->nhosts++].mod_revision = k->mod_revision;
	}
	qsort(s->revs, s->nrevs, sizeof(*s->revs), cmp_rev);
	for (size_t i = 0; i < s->nrevs; i++)
		if (!u || s->revs[u - 1] != s->revs[i])
			s->revs[u++] = s->revs[i];
	s->nrevs = u;
out:
	sg_kvset_free(&kv);
	free(prefix);
	return err;
}

void sg_status_free(struct sg_status *s)
{
	for (size_t i = 0; i < s->nhosts; i++)
		sg_agent_status_free(&s->hosts[i]);
	free(s->hosts);
	free(s->revs);
	free(s->vpc);
	memset(s, 0, sizeof(*s));
}

void sg_status_json(const struct sg_status *s, struct sg_json *j)
{
	sg_json_begin_object(j);
	sg_json_kv_string(j, "vpc", s->vpc);
	sg_json_kv_int(j, "revision", s->revision);
	sg_json_kv_int(j, "desired_revision", s->desired_revision);
	sg_json_key(j, "hosts");
	sg_json_begin_array(j);
	for (size_t i = 0; i < s->nhosts; i++) {
		const struct sg_agent_status *h = &s->hosts[i];

		sg_json_begin_object(j);
		sg_json_kv_string(j, "host", h->host);
		sg_json_kv_int(j, "revision", h->revision);
		sg_json_kv_uint(j, "lag", sg_status_lag(s, i));
		sg_json_key(j, "applied_at");
		sg_json_double(j, h->applied_at);
		sg_json_kv_int(j, "pid", h->pid);
		sg_json_kv_string(j, "version", h->version);
		sg_json_key(j, "error");
		if (h->error) {
			sg_json_begin_object(j);
			sg_json_kv_string(j, "key", h->error_key);
			sg_json_kv_string(j, "message", h->error);
			sg_json_end_object(j);
		} else {
			sg_json_null(j);
		}
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
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

void sg_status_print(const struct sg_status *s, FILE *out)
{
	fprintf(out,
		"%s: store revision %" PRId64
		", desired state last changed at %" PRId64 "\n",
		s->vpc, s->revision, s->desired_revision);
	if (!s->nhosts)
		fprintf(out, "no agent has published a status\n");
	else
		fprintf(out, "%-20s %9s %5s  %-24s %s\n", "HOST", "REVISION",
			"LAG", "APPLIED AT (UTC)", "ERROR");
	for (size_t i = 0; i < s->nhosts; i++) {
		const struct sg_agent_status *h = &s->hosts[i];
		char t[64];

		when(h->applied_at, t, sizeof(t));
		fprintf(out, "%-20s %9" PRId64 " %5zu  %-24s ", h->host,
			h->revision, sg_status_lag(s, i), t);
		if (h->error)
			fprintf(out, "%s%s%s\n",
				h->error_key ? h->error_key : "",
				h->error_key ? ": " : "", h->error);
		else
			fprintf(out, "-\n");
	}
}
