// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rules: every rule of the loaded config with its usage, per instance
 * that enforces it here and summed: hits (new flows it admitted;
 * untracked traffic: packets), the packets and bytes of those flows, and
 * when it last admitted one.
 *
 *   sgctl rules [--group G] [--instance I] [--unused [--since D]] [-j]
 *
 * --unused keeps the rules with no hit (with --since D: none in the last
 * D, e.g. 90s, 30m, 24h, 7d): the clean-up report. Counts come from
 * state/rulehits.h; times are CLOCK_MONOTONIC stamps shown as UTC.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "config/model.h"
#include "enforce/stored.h"
#include "out/json.h"
#include "state/rulehits.h"
#include "state/state.h"
#include "util/diag.h"
#include "view/config_json.h"

struct rctx {
	struct sg_config cfg;
	struct sg_view_slots slots;
	struct sg_view_usage v;
	struct sg_json *j;
};

/* "90", "90s", "30m", "24h", "7d" -> seconds; -1 when it is not one. */
static long long parse_duration(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	if (!strcmp(end, "d"))
		return v * 86400;
	return -1;
}

/* "2026-12-02T08:30:01Z (2m ago)" or "never". */
static const char *when(const struct rctx *x, __u64 last_s, char *buf,
			size_t len)
{
	struct tm tm;
	time_t t = (time_t)last_s;
	__u64 age;
	char ts[32];

	if (!last_s)
		return "never";
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	age = x->v.now_s > last_s ? x->v.now_s - last_s : 0;
	if (age < 120)
		snprintf(buf, len, "%s (%llus ago)", ts,
			 (unsigned long long)age);
	else if (age < 7200)
		snprintf(buf, len, "%s (%llum ago)", ts,
			 (unsigned long long)age / 60);
	else if (age < 2 * 86400)
		snprintf(buf, len, "%s (%lluh ago)", ts,
			 (unsigned long long)age / 3600);
	else
		snprintf(buf, len, "%s (%llud ago)", ts,
			 (unsigned long long)age / 86400);
	return buf;
}

static void plain_use(struct rctx *x, const struct sg_use *u)
{
	char b[64];

	printf("hits %llu packets %llu bytes %llu last used %s\n",
	       (unsigned long long)u->hits, (unsigned long long)u->packets,
	       (unsigned long long)u->bytes,
	       when(x, sg_view_unix_s(&x->v, u->last_ns), b, sizeof(b)));
}

enum { OPT_GROUP = 0x100, OPT_INSTANCE, OPT_UNUSED, OPT_SINCE };

int cmd_rules(int argc, char **argv)
{
	static const struct option opts[] = {
		{"group", required_argument, NULL, OPT_GROUP},
		{"instance", required_argument, NULL, OPT_INSTANCE},
		{"unused", no_argument, NULL, OPT_UNUSED},
		{"since", required_argument, NULL, OPT_SINCE},
		{NULL, 0, NULL, 0},
	};
	const char *want_group = NULL, *want_inst = NULL;
	bool unused = false;
	long long since = -1;
	struct sg_state st = {};
	struct rctx x = {};
	int opt, rc = SG_EXIT_ERR, wi = -1;
	size_t shown = 0;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_GROUP:
			want_group = optarg;
			break;
		case OPT_INSTANCE:
			want_inst = optarg;
			break;
		case OPT_UNUSED:
			unused = true;
			break;
		case OPT_SINCE:
			since = parse_duration(optarg);
			if (since < 0)
				return sg_usage_err(argv[0],
						    "--since: '%s' is not a "
						    "duration (e.g. 90s, 30m, "
						    "24h, 7d)",
						    optarg);
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (since >= 0 && !unused)
		return sg_usage_err(argv[0], "--since goes with --unused");
	if (sg_need_root(argv[0]))
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		sg_err("rules: no config loaded");
		return SG_EXIT_ERR;
	}
	if (sg_state_open_ro(&st, sg_opts.pin_dir))
		return SG_EXIT_ERR;
	if (sg_stored_config(&st, &x.cfg, NULL))
		goto out;
	if (want_group && sg_config_find_group(&x.cfg, want_group) < 0) {
		sg_err("rules: InvalidGroup.NotFound: no group %s in the "
		       "loaded config",
		       want_group);
		goto out;
	}
	if (want_inst) {
		wi = sg_config_find_instance(&x.cfg, want_inst);
		if (wi < 0) {
			sg_err("rules: no instance %s in the loaded config",
			       want_inst);
			goto out;
		}
	}
	if (sg_view_slots_read(&x.slots, &st, &x.cfg) ||
	    sg_view_usage_read(&x.v, &st, &x.cfg, &x.slots))
		goto out;
	if (sg_opts.json) {
		x.j = sg_json_new(stdout, true);
		sg_json_begin_object(x.j);
		sg_json_key(x.j, "rules");
		sg_json_begin_array(x.j);
	}
	for (size_t g = 0; g < x.cfg.ngroups; g++) {
		const struct sg_group *grp = &x.cfg.groups[g];

		if (grp->undefined)
			continue;
		if (want_group && strcmp(grp->id, want_group))
			continue;
		if (wi >= 0 && !sg_view_has_group(&x.cfg.instances[wi], g))
			continue;
		for (size_t r = 0; r < grp->nrules; r++) {
			const struct sg_rule *rule = &grp->rules[r];
			struct sg_use sum, one;

			/* Summed over the instances enforced here that carry
			 * the group (with --instance: that one). */
			if (wi < 0)
				sg_view_rule_use(&x.v, g, rule, &sum);
			else if (sg_view_counts(&x.v, g, (size_t)wi))
				sg_view_rule_use_of(&x.v, rule, (size_t)wi,
						    &sum);
			else
				memset(&sum, 0, sizeof(sum));
			if (unused) {
				__u64 last = sg_view_unix_s(&x.v, sum.last_ns);

				if (since < 0 && sum.hits)
					continue;
				if (since >= 0 && sum.hits && last &&
				    last + (__u64)since >= x.v.now_s)
					continue;
			}
			shown++;
			if (x.j) {
				sg_json_begin_object(x.j);
				sg_json_kv_string(x.j, "id", rule->id);
				sg_json_kv_string(x.j, "group", grp->id);
				sg_json_kv_string(x.j, "direction",
						  sg_view_dir_name(rule->dir));
				sg_json_kv_string(x.j, "rule", rule->text);
				sg_json_kv_string(x.j, "description",
						  rule->description);
				sg_view_use_fields(x.j, &x.v, &sum);
				sg_json_key(x.j, "instances");
				sg_json_begin_array(x.j);
			} else {
				printf("%s%s %s %s ", shown > 1 ? "\n" : "",
				       rule->id, grp->id,
				       sg_view_dir_name(rule->dir));
				plain_use(&x, &sum);
				printf("  %s%s%s%s\n", rule->text,
				       rule->description ? " (" : "",
				       rule->description ? rule->description
							 : "",
				       rule->description ? ")" : "");
			}
			/* Per instance enforced here that carries the group. */
			for (size_t i = 0; i < x.cfg.ninstances; i++) {
				if (wi >= 0 && (size_t)wi != i)
					continue;
				if (!sg_view_counts(&x.v, g, i))
					continue;
				sg_view_rule_use_of(&x.v, rule, i, &one);
				if (x.j) {
					sg_json_begin_object(x.j);
					sg_json_kv_string(
						x.j, "instance",
						x.cfg.instances[i].id);
					sg_view_use_fields(x.j, &x.v, &one);
					sg_json_end_object(x.j);
				} else {
					printf("  %s: ", x.cfg.instances[i].id);
					plain_use(&x, &one);
				}
			}
			if (x.j) {
				sg_json_end_array(x.j);
				sg_json_end_object(x.j);
			}
		}
	}
	if (x.j) {
		sg_json_end_array(x.j);
		sg_json_end_object(x.j);
		sg_json_destroy(x.j);
	} else if (!shown) {
		printf(unused ? "no unused rules\n" : "no rules\n");
	}
	rc = SG_EXIT_OK;
out:
	sg_state_close(&st);
	sg_view_usage_free(&x.v);
	sg_view_slots_free(&x.slots);
	sg_config_free(&x.cfg);
	return rc;
}
