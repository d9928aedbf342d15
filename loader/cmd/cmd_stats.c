// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * stats: what the datapath counted, per instance and direction, from the
 * per-CPU sg_stats map (summed over the CPUs) and the conntrack room from
 * sg_ct_count and sg_inst. Plain text, JSON (-j), or the node_exporter
 * textfile format (--prometheus).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "util/diag.h"
#include "out/json.h"
#include "state/state.h"
#include "compile/refmodel.h"
#include "config/model.h"
#include "enforce/stored.h"
#include "state/rulehits.h"

/*
 * Each counter's drop reason (JSON "drops" key, Prometheus reason) and
 * plain text label, from SG_COUNTERS in include/sgctl.h; drops are listed
 * in the order of docs/semantics.md §11.1.
 */
static const struct {
	const char *reason;
	const char *label;
} cnt_text[SG_NCOUNTERS] = {
#define SG_CNT_TEXT_(id, kind, name, reason, label)                            \
	[SG_CNT_##id] = {reason, label},
	SG_COUNTERS(SG_CNT_TEXT_)
#undef SG_CNT_TEXT_
};

static bool is_drop(int c)
{
	return sg_counter_kind(c) == SG_CNT_KIND_DROP;
}

/* One rule of an instance's groups and its usage on that instance. */
struct rule_stat {
	const struct sg_group *group;
	const struct sg_rule *rule;
	struct sg_rule_usage u; /* zero when it never hit */
};

struct inst_stats {
	struct rule_stat *rules;
	size_t nrules;
	char id[SG_ID_LEN];
	__u32 slot;
	struct sg_counter_val c[SG_NDIR][SG_NCOUNTERS];
	struct sg_counter_val accepted[SG_NDIR];   /* filtered and allowed */
	struct sg_counter_val rejected[SG_NDIR];   /* every drop */
	struct sg_counter_val unfiltered[SG_NDIR]; /* ARP, ND, DHCP, non-IP */
	__s64 ct_in_use;
	__u32 ct_max;
};

/* A CLOCK_MONOTONIC stamp of the datapath as unix seconds. */
static __u64 mono_to_unix(__u64 mono)
{
	struct timespec rt, mt;
	__s64 t;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_MONOTONIC, &mt);
	t = (__s64)mono + ((__s64)rt.tv_sec - mt.tv_sec) * 1000000000LL +
	    (rt.tv_nsec - mt.tv_nsec);
	return t > 0 ? (__u64)t / 1000000000ULL : 0;
}

static const char *dir_name(int d)
{
	return d == SG_DIR_IN ? "inbound" : "outbound";
}

static void add(struct sg_counter_val *to, const struct sg_counter_val *v)
{
	to->packets += v->packets;
	to->bytes += v->bytes;
}

static __u64 ct_available(const struct inst_stats *s)
{
	__s64 room = (__s64)s->ct_max - s->ct_in_use;

	return room > 0 ? (__u64)room : 0;
}

static __u64 ct_exceeded(const struct inst_stats *s)
{
	return s->c[SG_DIR_IN][SG_CNT_DROP_CT_FULL].packets +
	       s->c[SG_DIR_OUT][SG_CNT_DROP_CT_FULL].packets;
}

static int read_one(struct sg_state *st, const char *id, __u32 slot,
		    struct inst_stats *s)
{
	struct sg_inst inst;
	int err;

	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->slot = slot;
	err = sg_stats_read(st, slot, s->c);
	if (!err)
		err = sg_ct_count_read(st, slot, &s->ct_in_use);
	if (!err)
		err = sg_inst_read(st, slot, &inst);
	if (err)
		return err;
	if (s->ct_in_use < 0)
		s->ct_in_use = 0; /* a transient of concurrent updates */
	s->ct_max = inst.ct_max;
	for (int d = 0; d < SG_NDIR; d++) {
		for (int c = 0; c < SG_NCOUNTERS; c++) {
			int kind = sg_counter_kind(c);

			if (kind == SG_CNT_KIND_ACCEPT)
				add(&s->accepted[d], &s->c[d][c]);
			else if (kind == SG_CNT_KIND_PASS)
				add(&s->unfiltered[d], &s->c[d][c]);
			else
				add(&s->rejected[d], &s->c[d][c]);
		}
	}
	return 0;
}

/* ---------------------------------------------------------------- plain */

static void print_plain(const struct inst_stats *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct inst_stats *s = &v[i];

		printf("%s%s (slot %u)\n", i ? "\n" : "", s->id, s->slot);
		printf("  %-9s %14s %16s %14s %16s\n", "direction",
		       "accepted pkts", "accepted bytes", "rejected pkts",
		       "rejected bytes");
		for (int d = 0; d < SG_NDIR; d++)
			printf("  %-9s %14llu %16llu %14llu %16llu\n",
			       dir_name(d),
			       (unsigned long long)s->accepted[d].packets,
			       (unsigned long long)s->accepted[d].bytes,
			       (unsigned long long)s->rejected[d].packets,
			       (unsigned long long)s->rejected[d].bytes);
		printf("  %-28s %10s %10s\n", "drops by reason (packets)",
		       "inbound", "outbound");
		for (int c = 0; c < SG_NCOUNTERS; c++) {
			const struct sg_counter_val *a = &s->c[SG_DIR_IN][c];
			const struct sg_counter_val *b = &s->c[SG_DIR_OUT][c];

			if (!is_drop(c))
				continue;
			/* "no instance" only shows up when it happened. */
			if (c == SG_CNT_DROP_NO_INSTANCE && !a->packets &&
			    !b->packets)
				continue;
			printf("    %-26s %10llu %10llu\n", cnt_text[c].label,
			       (unsigned long long)a->packets,
			       (unsigned long long)b->packets);
		}
		printf("  %-28s %10s %10s\n", "accepted by kind (packets)",
		       "inbound", "outbound");
		for (int c = 0; c < SG_NCOUNTERS; c++) {
			if (is_drop(c))
				continue;
			printf("    %-26s %10llu %10llu\n", cnt_text[c].label,
			       (unsigned long long)s->c[SG_DIR_IN][c].packets,
			       (unsigned long long)s->c[SG_DIR_OUT][c].packets);
		}
		printf("  conntrack: %lld in use of %u, "
		       "conntrack_allowance_available %llu, "
		       "conntrack_allowance_exceeded %llu\n",
		       (long long)s->ct_in_use, s->ct_max,
		       (unsigned long long)ct_available(s),
		       (unsigned long long)ct_exceeded(s));
	}
}

/* ----------------------------------------------------------------- JSON */

static void json_pair(struct sg_json *j, const char *key,
		      const struct sg_counter_val *v)
{
	sg_json_key(j, key);
	sg_json_begin_object(j);
	sg_json_kv_uint(j, "packets", v->packets);
	sg_json_kv_uint(j, "bytes", v->bytes);
	sg_json_end_object(j);
}

static void print_json(const struct inst_stats *v, size_t n)
{
	struct sg_json *j = sg_json_new(stdout, true);

	sg_json_begin_object(j);
	sg_json_key(j, "instances");
	sg_json_begin_array(j);
	for (size_t i = 0; i < n; i++) {
		const struct inst_stats *s = &v[i];

		sg_json_begin_object(j);
		sg_json_kv_string(j, "instance", s->id);
		sg_json_kv_uint(j, "slot", s->slot);
		for (int d = 0; d < SG_NDIR; d++) {
			sg_json_key(j, dir_name(d));
			sg_json_begin_object(j);
			json_pair(j, "accepted", &s->accepted[d]);
			json_pair(j, "rejected", &s->rejected[d]);
			json_pair(j, "not_filtered", &s->unfiltered[d]);
			sg_json_key(j, "drops");
			sg_json_begin_object(j);
			for (int c = 0; c < SG_NCOUNTERS; c++)
				if (is_drop(c))
					sg_json_kv_uint(j, cnt_text[c].reason,
							s->c[d][c].packets);
			sg_json_end_object(j);
			sg_json_key(j, "counters");
			sg_json_begin_object(j);
			for (int c = 0; c < SG_NCOUNTERS; c++)
				json_pair(j, sg_counter_name(c), &s->c[d][c]);
			sg_json_end_object(j);
			sg_json_end_object(j);
		}
		sg_json_key(j, "conntrack");
		sg_json_begin_object(j);
		sg_json_kv_uint(j, "in_use", (__u64)s->ct_in_use);
		sg_json_kv_uint(j, "max_entries", s->ct_max);
		sg_json_kv_uint(j, "conntrack_allowance_available",
				ct_available(s));
		sg_json_kv_uint(j, "conntrack_allowance_exceeded",
				ct_exceeded(s));
		sg_json_end_object(j);
		sg_json_key(j, "rules");
		sg_json_begin_array(j);
		for (size_t r = 0; r < s->nrules; r++) {
			const struct rule_stat *rs = &s->rules[r];

			sg_json_begin_object(j);
			sg_json_kv_string(j, "rule_id", rs->rule->id);
			sg_json_kv_string(j, "group", rs->group->id);
			sg_json_kv_string(j, "direction",
					  dir_name(rs->rule->dir));
			sg_json_kv_uint(j, "hits", rs->u.hits);
			sg_json_kv_uint(j, "packets", rs->u.packets);
			sg_json_kv_uint(j, "bytes", rs->u.bytes);
			sg_json_key(j, "last_used");
			if (rs->u.last_ns)
				sg_json_uint(j, mono_to_unix(rs->u.last_ns));
			else
				sg_json_null(j);
			sg_json_end_object(j);
		}
		sg_json_end_array(j);
		sg_json_end_object(j);
	}
	sg_json_end_array(j);
	sg_json_end_object(j);
	sg_json_destroy(j);
}

/* ----------------------------------------------------------- Prometheus */

/* A label value: backslash, double quote and newline escaped. */
static void label(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			printf("\\n");
		else
			putchar(*s);
	}
}

static void head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(const char *name, const char *inst, const char *dir,
		   const char *k, const char *kv, __u64 val)
{
	printf("%s{instance=\"", name);
	label(inst);
	printf("\"");
	if (dir)
		printf(",direction=\"%s\"", dir);
	if (k)
		printf(",%s=\"%s\"", k, kv);
	printf("} %llu\n", (unsigned long long)val);
}

static void rule_sample(const char *name, const struct inst_stats *s,
			const struct rule_stat *rs, __u64 val)
{
	printf("%s{instance=\"", name);
	label(s->id);
	printf("\",group=\"");
	label(rs->group->id);
	printf("\",rule_id=\"%s\",direction=\"%s\"} %llu\n", rs->rule->id,
	       dir_name(rs->rule->dir), (unsigned long long)val);
}

/*
 * Per-rule series: one per metric, instance and rule of its groups (at
 * most SG_MAX_RULES_PER_INSTANCE per instance): 4 x the rules enforced
 * on each instance of the host (docs/usage.md, cardinality).
 */
static void print_rule_series(const struct inst_stats *v, size_t n)
{
	static const struct {
		const char *name, *type, *help;
	} m[] = {
		{"sgctl_rule_hits_total", "counter",
		 "New flows a rule admitted (untracked traffic: packets)."},
		{"sgctl_rule_packets_total", "counter",
		 "Packets of the flows a rule admitted."},
		{"sgctl_rule_bytes_total", "counter",
		 "Bytes of the flows a rule admitted."},
		{"sgctl_rule_last_used_timestamp_seconds", "gauge",
		 "Unix time of the last flow a rule admitted (0: never)."},
	};

	for (size_t k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
		head(m[k].name, m[k].type, m[k].help);
		for (size_t i = 0; i < n; i++)
			for (size_t r = 0; r < v[i].nrules; r++) {
				const struct rule_stat *rs = &v[i].rules[r];
				__u64 val = k == 0   ? rs->u.hits
					    : k == 1 ? rs->u.packets
					    : k == 2 ? rs->u.bytes
					    : rs->u.last_ns
						    ? mono_to_unix(rs->u.last_ns)
						    : 0;

				rule_sample(m[k].name, &v[i], rs, val);
			}
	}
}


static void print_prometheus(const struct inst_stats *v, size_t n)
{
	head("sgctl_packets_total", "counter",
	     "Packets judged by the security groups, by verdict.");
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < SG_NDIR; d++) {
			sample("sgctl_packets_total", v[i].id, dir_name(d),
			       "verdict", "accept", v[i].accepted[d].packets);
			sample("sgctl_packets_total", v[i].id, dir_name(d),
			       "verdict", "reject", v[i].rejected[d].packets);
		}
	head("sgctl_bytes_total", "counter",
	     "Bytes judged by the security groups, by verdict.");
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < SG_NDIR; d++) {
			sample("sgctl_bytes_total", v[i].id, dir_name(d),
			       "verdict", "accept", v[i].accepted[d].bytes);
			sample("sgctl_bytes_total", v[i].id, dir_name(d),
			       "verdict", "reject", v[i].rejected[d].bytes);
		}
	head("sgctl_unfiltered_packets_total", "counter",
	     "Packets security groups never filter (ARP, ND, DHCP, non-IP).");
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < SG_NDIR; d++)
			sample("sgctl_unfiltered_packets_total", v[i].id,
			       dir_name(d), NULL, NULL,
			       v[i].unfiltered[d].packets);
	head("sgctl_drops_total", "counter", "Dropped packets, by reason.");
	for (size_t i = 0; i < n; i++)
		for (int d = 0; d < SG_NDIR; d++)
			for (int c = 0; c < SG_NCOUNTERS; c++)
				if (is_drop(c))
					sample("sgctl_drops_total", v[i].id,
					       dir_name(d), "reason",
					       cnt_text[c].reason,
					       v[i].c[d][c].packets);
	print_rule_series(v, n);
	head("sgctl_conntrack_entries", "gauge",
	     "Tracked flows in use in the instance's conntrack table.");
	for (size_t i = 0; i < n; i++)
		sample("sgctl_conntrack_entries", v[i].id, NULL, NULL, NULL,
		       (__u64)v[i].ct_in_use);
	head("sgctl_conntrack_max_entries", "gauge",
	     "Capacity of the instance's conntrack table.");
	for (size_t i = 0; i < n; i++)
		sample("sgctl_conntrack_max_entries", v[i].id, NULL, NULL, NULL,
		       v[i].ct_max);
	head("sgctl_conntrack_allowance_available", "gauge",
	     "Tracked flows the instance can still open.");
	for (size_t i = 0; i < n; i++)
		sample("sgctl_conntrack_allowance_available", v[i].id, NULL,
		       NULL, NULL, ct_available(&v[i]));
	head("sgctl_conntrack_allowance_exceeded", "counter",
	     "New-flow packets dropped because the conntrack table was full.");
	for (size_t i = 0; i < n; i++)
		sample("sgctl_conntrack_allowance_exceeded", v[i].id, NULL,
		       NULL, NULL, ct_exceeded(&v[i]));
}

/* ---------------------------------------------------------------- rules */

/*
 * The rules of each instance's groups and their usage there. A stored
 * config that does not parse costs only the rule series.
 */
static int read_rules(struct sg_state *st, struct sg_config *cfg,
		      struct inst_stats *v, size_t nv)
{
	struct sg_rule_usage *u = NULL;
	struct sg_diag diag;
	size_t nu = 0;
	int err;

	sg_diag_init(&diag);
	err = sg_stored_config(st, cfg, &diag);
	sg_diag_free(&diag);
	if (err)
		return 0;
	err = sg_rule_usage_read(st, &u, &nu);
	if (err)
		return err;
	for (size_t i = 0; i < nv && !err; i++) {
		int in = sg_config_find_instance(cfg, v[i].id);
		const struct sg_instance *inst;
		size_t cap = 0;

		if (in < 0)
			continue;
		inst = &cfg->instances[in];
		for (size_t g = 0; g < inst->ngroups; g++)
			cap += cfg->groups[inst->groups[g]].nrules;
		v[i].rules = calloc(cap ? cap : 1, sizeof(*v[i].rules));
		if (!v[i].rules) {
			err = -ENOMEM;
			break;
		}
		for (size_t g = 0; g < inst->ngroups; g++) {
			const struct sg_group *grp =
				&cfg->groups[inst->groups[g]];

			for (size_t r = 0; r < grp->nrules; r++) {
				struct rule_stat *rs =
					&v[i].rules[v[i].nrules++];
				const struct sg_rule_usage *hit;

				rs->group = grp;
				rs->rule = &grp->rules[r];
				hit = sg_rule_usage_find(
					u, nu, sg_rule_key_of(rs->rule->id),
					v[i].slot);
				if (hit)
					rs->u = *hit;
			}
		}
	}
	free(u);
	if (err)
		sg_err("out of memory");
	return err;
}

/* ---------------------------------------------------------------- main */

static int by_slot(const void *a, const void *b)
{
	const struct inst_stats *x = a, *y = b;

	return (x->slot > y->slot) - (x->slot < y->slot);
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"prometheus", no_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	const char *want = NULL;
	bool prom = false;
	struct sg_state st = {};
	struct sg_config cfg = {};
	struct inst_stats *v = NULL;
	char *ids = NULL;
	__u32 *slots = NULL;
	size_t n = 0, nv = 0;
	int opt, rc = SG_EXIT_ERR;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":i:", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			want = optarg;
			break;
		case 'p':
			prom = true;
			break;
		default:
			return sg_getopt_err(argv, opt);
		}
	}
	if (optind < argc)
		return sg_usage_err(argv[0], "unexpected argument '%s'",
				    argv[optind]);
	if (prom && sg_opts.json)
		return sg_usage_err(argv[0],
				    "--prometheus and -j are two formats; "
				    "pick one");
	if (sg_need_root(argv[0]))
		return SG_EXIT_ERR;
	if (!sg_state_exists(sg_opts.pin_dir)) {
		if (want) {
			sg_err("stats: no config loaded (no instance %s)",
			       want);
			return SG_EXIT_ERR;
		}
		if (sg_opts.json)
			printf("{\"instances\": []}\n");
		else if (!prom)
			printf("no config loaded\n");
		return SG_EXIT_OK;
	}
	if (sg_state_open_ro(&st, sg_opts.pin_dir))
		return SG_EXIT_ERR;
	if (sg_slot_list(&st, &ids, &slots, &n))
		goto out;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v) {
		sg_err("out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *id = ids + i * SG_ID_LEN;

		if (want && strcmp(id, want))
			continue;
		if (read_one(&st, id, slots[i], &v[nv]))
			goto out;
		nv++;
	}
	if (want && !nv) {
		sg_err("stats: no instance %s in the loaded config", want);
		goto out;
	}
	if (!prom && !sg_opts.json)
		; /* plain text: `sgctl rules` tells about rules */
	else if (read_rules(&st, &cfg, v, nv))
		goto out;
	qsort(v, nv, sizeof(*v), by_slot);
	if (prom)
		print_prometheus(v, nv);
	else if (sg_opts.json)
		print_json(v, nv);
	else if (!nv)
		printf("no instances\n");
	else
		print_plain(v, nv);
	rc = SG_EXIT_OK;
out:
	sg_state_close(&st);
	for (size_t i = 0; v && i < nv; i++)
		free(v[i].rules);
	sg_config_free(&cfg);
	free(v);
	free(ids);
	free(slots);
	return rc;
}
