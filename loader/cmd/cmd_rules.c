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

#define NS 1000000000ULL

struct use {
	__u64 hits, packets, bytes, last_ns;
};

struct rctx {
	struct sg_config cfg;
	struct sg_rule_usage *u;
	size_t nu;
	char *ids; /* slot table */
	__u32 *slots;
	size_t nslots;
	__s64 offset_ns; /* realtime - monotonic */
	__u64 now_s;
	struct sg_json *j;
};

static __u64 clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (__u64)ts.tv_sec * NS + (__u64)ts.tv_nsec;
}

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

static __u32 slot_of(const struct rctx *x, const char *id)
{
	for (size_t i = 0; i < x->nslots; i++)
		if (!strcmp(x->ids + i * SG_ID_LEN, id))
			return x->slots[i];
	return SG_SLOT_NONE;
}

static __u64 unix_s(const struct rctx *x, __u64 mono)
{
	__s64 t = (__s64)mono + x->offset_ns;

	return mono && t > 0 ? (__u64)t / NS : 0;
}

static bool inst_has_group(const struct sg_instance *in, size_t g)
{
	for (size_t i = 0; i < in->ngroups; i++)
		if ((size_t)in->groups[i] == g)
			return true;
	return false;
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
	age = x->now_s > last_s ? x->now_s - last_s : 0;
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

static void json_use(struct rctx *x, const struct use *u)
{
	__u64 last = unix_s(x, u->last_ns);

	sg_json_kv_uint(x->j, "hits", u->hits);
	sg_json_kv_uint(x->j, "packets", u->packets);
	sg_json_kv_uint(x->j, "bytes", u->bytes);
	sg_json_key(x->j, "last_used");
	if (last)
		sg_json_uint(x->j, last);
	else
		sg_json_null(x->j);
	sg_json_key(x->j, "last_used_age_s");
	if (last)
		sg_json_uint(x->j, x->now_s > last ? x->now_s - last : 0);
	else
		sg_json_null(x->j);
}

static void plain_use(struct rctx *x, const struct use *u)
{
	char b[64];

	printf("hits %llu packets %llu bytes %llu last used %s\n",
	       (unsigned long long)u->hits, (unsigned long long)u->packets,
	       (unsigned long long)u->bytes,
	       when(x, unix_s(x, u->last_ns), b, sizeof(b)));
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
	struct use *per = NULL; /* per instance of the current rule */
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
	if (sg_slot_list(&st, &x.ids, &x.slots, &x.nslots) ||
	    sg_rule_usage_read(&st, &x.u, &x.nu))
		goto out;
	x.offset_ns =
		(__s64)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
	x.now_s = clock_ns(CLOCK_REALTIME) / NS;
	per = calloc(x.cfg.ninstances ? x.cfg.ninstances : 1, sizeof(*per));
	if (!per) {
		sg_err("out of memory");
		goto out;
	}
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
		if (wi >= 0 && !inst_has_group(&x.cfg.instances[wi], g))
			continue;
		for (size_t r = 0; r < grp->nrules; r++) {
			const struct sg_rule *rule = &grp->rules[r];
			__u64 key = sg_rule_key_of(rule->id);
			struct use sum = {};

			/* Per instance enforced here that carries the group. */
			for (size_t i = 0; i < x.cfg.ninstances; i++) {
				const struct sg_instance *in =
					&x.cfg.instances[i];
				const struct sg_rule_usage *u;
				__u32 slot;

				memset(&per[i], 0, sizeof(per[i]));
				per[i].hits = ~0ULL; /* not shown */
				if (wi >= 0 && (size_t)wi != i)
					continue;
				if (in->remote || !inst_has_group(in, g))
					continue;
				slot = slot_of(&x, in->id);
				if (slot == SG_SLOT_NONE)
					continue;
				per[i].hits = 0;
				u = sg_rule_usage_find(x.u, x.nu, key, slot);
				if (!u)
					continue;
				per[i].hits = u->hits;
				per[i].packets = u->packets;
				per[i].bytes = u->bytes;
				per[i].last_ns = u->last_ns;
				sum.hits += u->hits;
				sum.packets += u->packets;
				sum.bytes += u->bytes;
				if (u->last_ns > sum.last_ns)
					sum.last_ns = u->last_ns;
			}
			if (unused) {
				__u64 last = unix_s(&x, sum.last_ns);

				if (since < 0 && sum.hits)
					continue;
				if (since >= 0 && sum.hits && last &&
				    last + (__u64)since >= x.now_s)
					continue;
			}
			shown++;
			if (x.j) {
				sg_json_begin_object(x.j);
				sg_json_kv_string(x.j, "id", rule->id);
				sg_json_kv_string(x.j, "group", grp->id);
				sg_json_kv_string(x.j, "direction",
						  rule->dir == SG_DIR_IN
							  ? "inbound"
							  : "outbound");
				sg_json_kv_string(x.j, "rule", rule->text);
				sg_json_kv_string(x.j, "description",
						  rule->description);
				json_use(&x, &sum);
				sg_json_key(x.j, "instances");
				sg_json_begin_array(x.j);
			} else {
				printf("%s%s %s %s ", shown > 1 ? "\n" : "",
				       rule->id, grp->id,
				       rule->dir == SG_DIR_IN ? "inbound"
							      : "outbound");
				plain_use(&x, &sum);
				printf("  %s%s%s%s\n", rule->text,
				       rule->description ? " (" : "",
				       rule->description ? rule->description
							 : "",
				       rule->description ? ")" : "");
			}
			for (size_t i = 0; i < x.cfg.ninstances; i++) {
				if (per[i].hits == ~0ULL)
					continue;
				if (x.j) {
					sg_json_begin_object(x.j);
					sg_json_kv_string(
						x.j, "instance",
						x.cfg.instances[i].id);
					json_use(&x, &per[i]);
					sg_json_end_object(x.j);
				} else {
					printf("  %s: ", x.cfg.instances[i].id);
					plain_use(&x, &per[i]);
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
	sg_config_free(&x.cfg);
	free(x.u);
	free(x.ids);
	free(x.slots);
	free(per);
	return rc;
}
