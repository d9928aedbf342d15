// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * sgctl bench: what a packet and a load cost. Arguments and printing only;
 * the measurements are the harness's (bench/bench.h).
 *
 *   bench micro [--rules LIST] [--members LIST] [--runs N] [--repeat N]
 *	per-packet cost of sg_xdp under BPF_PROG_TEST_RUN (bench/micro.c)
 *   bench live --gen-netns NS --gen-dev DEV --rx-netns NS --rx-dev DEV ...
 *	live frames on a veth pair (bench/live.c)
 *   bench gen micro|cp ...	print a generated config (bench/gen.c)
 *   bench control ...		parse / compile / apply times, map memory
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/types.h>

#include "bench/bench.h"
#include "cmd/cmd.h"
#include "config/model.h"
#include "out/json.h"
#include "sgctl.h"
#include "util/diag.h"

#define MAX_LIST 16

/* "1,60,300" -> ints; returns the count or -1. */
static int parse_list(const char *s, int *out, int max)
{
	char *dup, *save = NULL, *tok, *end;
	int n = 0;

	if (!s || !(dup = strdup(s)))
		return -1;
	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long v;

		errno = 0;
		v = strtol(tok, &end, 10);
		if (errno || *end || end == tok || v < 0 || v > 10000000 ||
		    n >= max) {
			free(dup);
			return -1;
		}
		out[n++] = (int)v;
	}
	free(dup);
	return n ? n : -1;
}

static int parse_uint(const char *opt, const char *s, long min, long max,
		      long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s ? s : "", &end, 10);
	if (!s || errno || *end || end == s || *out < min || *out > max)
		return sg_usage_err("bench", "%s takes a number in %ld-%ld",
				    opt, min, max);
	return 0;
}

static int parse_ip4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

/*
 * One getopt_long step of a subcommand. Options stop at the first other
 * argument. An option missing its value comes back as itself with *val
 * NULL, so each option says what it takes in its own words.
 */
static int next_opt(int argc, char **argv, const struct option *opts,
		    const char **val)
{
	int opt = getopt_long(argc, argv, "+:", opts, NULL);

	*val = optarg;
	if (opt == ':') {
		*val = NULL;
		return optopt;
	}
	return opt;
}

/* "--NAME" of an option of the table, for messages. */
static const char *opt_name(const struct option *opts, int val)
{
	static char buf[64];

	for (; opts->name; opts++)
		if (opts->val == val)
			break;
	snprintf(buf, sizeof(buf), "--%s", opts->name ? opts->name : "?");
	return buf;
}

/* An option getopt_long did not know ('?'), or an argument left after the
 * options (the subcommands take none). */
static int unknown_opt(const char *sub, int opt, char **argv)
{
	const char *a = opt == '?' ? argv[optind - 1] : argv[optind];

	return sg_usage_err("bench", "%s: unknown option '%s'", sub, a);
}

static void json_ms(struct sg_json *j, const char *key,
		    const struct bench_times *t)
{
	sg_json_key(j, key);
	sg_json_begin_object(j);
	sg_json_key(j, "parse");
	sg_json_double(j, t->parse * 1e3);
	sg_json_key(j, "compile");
	sg_json_double(j, t->compile * 1e3);
	sg_json_key(j, "apply");
	sg_json_double(j, t->apply * 1e3);
	sg_json_end_object(j);
}

/* ----------------------------------------------------------------- micro */

static void print_micro(const struct bench_micro_opts *o,
			const struct bench_micro_result *r)
{
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, false);

		sg_json_begin_object(j);
		sg_json_key(j, "floor_ns");
		sg_json_double(j, r->floor_ns);
		/* Beyond the documented shape only when asked (make bench). */
		if (o->reference) {
			sg_json_key(j, "ref_ns");
			sg_json_double(j, r->ref_ns);
		}
		sg_json_key(j, "results");
		sg_json_begin_array(j);
		for (size_t i = 0; i < r->nrows; i++) {
			for (int k = 0; k < BENCH_NCASES; k++) {
				sg_json_begin_object(j);
				sg_json_kv_string(j, "case",
						  bench_case_names[k]);
				sg_json_kv_int(j, "rules", r->rows[i].rules);
				sg_json_kv_int(j, "members",
					       r->rows[i].members);
				sg_json_key(j, "ns_per_pkt");
				sg_json_double(j, r->rows[i].ns[k]);
				sg_json_end_object(j);
			}
		}
		sg_json_end_array(j);
		sg_json_end_object(j);
		sg_json_destroy(j);
		return;
	}
	printf("sg_xdp through BPF_PROG_TEST_RUN, median of %d runs x "
	       "%u packets\nnew-* in dry-run mode (policy path, no "
	       "conntrack insert); established = live program\n"
	       "floor (empty XDP program): %.1f ns/pkt\n"
	       "reference stateful program (parse, 1 hash lookup, 1 per-CPU "
	       "counter): %.1f ns/pkt\n\n",
	       o->runs, o->repeat, r->floor_ns, r->ref_ns);
	printf("%7s %8s %13s %8s %12s %12s\n", "rules", "members",
	       "established", "est/ref", "new-accept", "new-reject");
	for (size_t i = 0; i < r->nrows; i++)
		printf("%7d %8d %13.1f %7.2fx %12.1f %12.1f\n",
		       r->rows[i].rules, r->rows[i].members,
		       r->rows[i].ns[BENCH_CASE_EST],
		       r->ref_ns > 0 ? r->rows[i].ns[BENCH_CASE_EST] / r->ref_ns
				     : 0,
		       r->rows[i].ns[BENCH_CASE_ACC],
		       r->rows[i].ns[BENCH_CASE_REJ]);
}

static int bench_micro_cmd(int argc, char **argv)
{
	enum { OPT_RULES = 256, OPT_MEMBERS, OPT_RUNS, OPT_REPEAT, OPT_REF };
	static const struct option opts[] = {
		{"reference", no_argument, NULL, OPT_REF},
		{"rules", required_argument, NULL, OPT_RULES},
		{"members", required_argument, NULL, OPT_MEMBERS},
		{"runs", required_argument, NULL, OPT_RUNS},
		{"repeat", required_argument, NULL, OPT_REPEAT},
		{NULL, 0, NULL, 0},
	};
	int rules[MAX_LIST] = {1, 60, 300, 1000};
	int members[MAX_LIST] = {0, 1000, 10000, 100000};
	struct bench_micro_opts o = {
		.rules = rules,
		.nrules = 4,
		.members = members,
		.nmembers = 4,
		.runs = 5,
		.repeat = 1000000,
	};
	struct bench_micro_result r;
	const char *val;
	int opt;
	long x;

	optind = 0;
	opterr = 0;
	while ((opt = next_opt(argc, argv, opts, &val)) != -1) {
		switch (opt) {
		case OPT_RULES:
			o.nrules = parse_list(val, rules, MAX_LIST);
			if (o.nrules < 0)
				return sg_usage_err("bench", "--rules takes a "
							     "list: 1,60,300");
			break;
		case OPT_MEMBERS:
			o.nmembers = parse_list(val, members, MAX_LIST);
			if (o.nmembers < 0)
				return sg_usage_err("bench",
						    "--members takes a list: "
						    "0,1000");
			break;
		case OPT_RUNS:
		case OPT_REPEAT:
			if (parse_uint(opt_name(opts, opt), val, 1,
				       opt == OPT_RUNS ? 101 : 100000000, &x))
				return SG_EXIT_USAGE;
			if (opt == OPT_RUNS)
				o.runs = (int)x;
			else
				o.repeat = (uint32_t)x;
			break;
		case OPT_REF:
			o.reference = true;
			break;
		default:
			return unknown_opt("micro", '?', argv);
		}
	}
	if (optind < argc)
		return unknown_opt("micro", -1, argv);
	for (int i = 0; i < o.nrules; i++)
		if (rules[i] < 1 || rules[i] > SG_MAX_RULES_PER_INSTANCE)
			return sg_usage_err("bench",
					    "--rules: 1-%d per "
					    "instance",
					    SG_MAX_RULES_PER_INSTANCE);
	if (sg_need_root("bench"))
		return SG_EXIT_ERR;
	if (bench_micro(&o, &r))
		return SG_EXIT_ERR;
	print_micro(&o, &r);
	bench_micro_result_free(&r);
	return SG_EXIT_OK;
}

/* ------------------------------------------------------------------ live */

static void print_live(const struct bench_live_opts *o,
		       const struct bench_live_result *r)
{
	const char *rx = bench_receiver_names[o->receiver];
	const char *mix = bench_mix_names[o->mix];

	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, false);

		sg_json_begin_object(j);
		sg_json_kv_string(j, "receiver", rx);
		sg_json_kv_string(j, "mix", mix);
		sg_json_kv_uint(j, "frame_bytes", r->frame_bytes);
		sg_json_kv_uint(j, "sent", r->sent);
		sg_json_kv_uint(j, "received", r->received);
		sg_json_kv_uint(j, "passed", r->passed);
		sg_json_key(j, "seconds");
		sg_json_double(j, r->seconds);
		sg_json_key(j, "mpps");
		sg_json_double(j, (double)r->received / r->seconds / 1e6);
		sg_json_key(j, "tx_mpps");
		sg_json_double(j, (double)r->sent / r->seconds / 1e6);
		sg_json_end_object(j);
		sg_json_destroy(j);
		return;
	}
	printf("%s, %s: sent %llu, received %llu (passed %llu) in "
	       "%.2f s: %.3f Mpps received\n",
	       rx, mix, (unsigned long long)r->sent,
	       (unsigned long long)r->received, (unsigned long long)r->passed,
	       r->seconds, (double)r->received / r->seconds / 1e6);
}

/* The index of name in names, or -1. */
static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return i;
	return -1;
}

static int bench_live_cmd(int argc, char **argv)
{
	enum {
		OPT_GEN_NETNS = 256,
		OPT_GEN_DEV,
		OPT_RX_NETNS,
		OPT_RX_DEV,
		OPT_RECEIVER,
		OPT_MIX,
		OPT_SRC,
		OPT_DST,
		OPT_SPORT,
		OPT_DPORT,
		OPT_SECONDS,
		OPT_COUNT,
		OPT_SIZE,
		OPT_SLOT,
	};
	static const struct option opts[] = {
		{"gen-netns", required_argument, NULL, OPT_GEN_NETNS},
		{"gen-dev", required_argument, NULL, OPT_GEN_DEV},
		{"rx-netns", required_argument, NULL, OPT_RX_NETNS},
		{"rx-dev", required_argument, NULL, OPT_RX_DEV},
		{"receiver", required_argument, NULL, OPT_RECEIVER},
		{"mix", required_argument, NULL, OPT_MIX},
		{"src", required_argument, NULL, OPT_SRC},
		{"dst", required_argument, NULL, OPT_DST},
		{"sport", required_argument, NULL, OPT_SPORT},
		{"dport", required_argument, NULL, OPT_DPORT},
		{"seconds", required_argument, NULL, OPT_SECONDS},
		{"count", required_argument, NULL, OPT_COUNT},
		{"size", required_argument, NULL, OPT_SIZE},
		{"slot", required_argument, NULL, OPT_SLOT},
		{NULL, 0, NULL, 0},
	};
	struct bench_live_opts o = {
		.pin_dir = sg_opts.pin_dir,
		.receiver = BENCH_RX_SGCTL,
		.mix = BENCH_MIX_DROP,
		.sport = 40000,
		.dport = 9,
		.seconds = 5,
		.count = 20000000,
		.size = 64,
	};
	struct bench_live_result r;
	const char *mix = "drop", *receiver = "sgctl", *val;
	int opt, i;
	long x;

	parse_ip4(BENCH_PEER_IP, &o.src);
	parse_ip4(BENCH_INSTANCE_IP, &o.dst);
	optind = 0;
	opterr = 0;
	while ((opt = next_opt(argc, argv, opts, &val)) != -1) {
		if (opt == '?')
			return unknown_opt("live", '?', argv);
		if (!val)
			return sg_usage_err("bench", "%s needs a value",
					    argv[optind - 1]);
		switch (opt) {
		case OPT_GEN_NETNS:
			o.gen_netns = val;
			break;
		case OPT_GEN_DEV:
			o.gen_dev = val;
			break;
		case OPT_RX_NETNS:
			o.rx_netns = val;
			break;
		case OPT_RX_DEV:
			o.rx_dev = val;
			break;
		case OPT_RECEIVER:
			receiver = val;
			break;
		case OPT_MIX:
			mix = val;
			break;
		case OPT_SRC: {
			/* ADDR[/LEN]: the prefix of the syn-flood sources */
			char a[INET_ADDRSTRLEN],
				*sl = val ? strchr(val, '/') : 0;
			long l = 32;

			if (sl && (sl - val >= (long)sizeof(a) ||
				   parse_uint("--src", sl + 1, 0, 32, &l)))
				return sg_usage_err("bench",
						    "--src: IPv4[/LEN]");
			snprintf(a, sizeof(a), "%.*s",
				 sl ? (int)(sl - val) : (int)strlen(val), val);
			if (parse_ip4(a, &o.src))
				return sg_usage_err("bench",
						    "--src: IPv4[/LEN]");
			o.src_len = (int)l;
			break;
		}
		case OPT_DST:
			if (parse_ip4(val, &o.dst))
				return sg_usage_err("bench", "--dst: IPv4");
			break;
		case OPT_SPORT:
		case OPT_DPORT:
			if (parse_uint(opt_name(opts, opt), val, 1, 65535, &x))
				return SG_EXIT_USAGE;
			*(opt == OPT_SPORT ? &o.sport : &o.dport) = (uint16_t)x;
			break;
		case OPT_SECONDS:
			if (parse_uint("--seconds", val, 1, 60, &o.seconds))
				return SG_EXIT_USAGE;
			break;
		case OPT_COUNT:
			if (parse_uint("--count", val, 1, 1000000000, &o.count))
				return SG_EXIT_USAGE;
			break;
		case OPT_SIZE:
			if (parse_uint("--size", val, 60, BENCH_FRAME_MAX,
				       &o.size))
				return SG_EXIT_USAGE;
			break;
		case OPT_SLOT:
			if (parse_uint("--slot", val, 0, SG_MAX_INSTANCES - 1,
				       &o.slot))
				return SG_EXIT_USAGE;
			break;
		default:
			return unknown_opt("live", '?', argv);
		}
	}
	if (optind < argc)
		return unknown_opt("live", -1, argv);
	if (!o.gen_dev || !o.rx_dev)
		return sg_usage_err("bench",
				    "live needs --gen-dev and --rx-dev");
	i = name_index(bench_mix_names, BENCH_NMIX, mix);
	if (i < 0)
		return sg_usage_err("bench",
				    "--mix: drop, established, "
				    "allowed, many-sources or syn-flood");
	o.mix = (enum bench_mix)i;
	i = name_index(bench_receiver_names, BENCH_NRX, receiver);
	if (i < 0)
		return sg_usage_err("bench", "--receiver: sgctl, pass or drop");
	o.receiver = (enum bench_receiver)i;
	if (sg_need_root("bench"))
		return SG_EXIT_ERR;
	if (bench_live(&o, &r))
		return SG_EXIT_ERR;
	print_live(&o, &r);
	return SG_EXIT_OK;
}

/* ------------------------------------------------------------------- gen */

enum {
	OPT_GROUPS = 256,
	OPT_INSTANCES,
	OPT_PER_INSTANCE,
	OPT_RULES,
	OPT_MEMBERS,
	OPT_JOIN,
};

/* Sets a control-plane shape's field from an option already parsed;
 * false when opt is none of them. */
static bool set_cp(struct bench_cp_cfg *cp, int opt, long x)
{
	switch (opt) {
	case OPT_RULES:
		cp->rules = (int)x;
		return true;
	case OPT_GROUPS:
		cp->groups = (int)x;
		return true;
	case OPT_INSTANCES:
		cp->instances = (int)x;
		return true;
	case OPT_PER_INSTANCE:
		cp->per_inst = (int)x;
		return true;
	default:
		return false;
	}
}

static int bench_gen_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rules", required_argument, NULL, OPT_RULES},
		{"members", required_argument, NULL, OPT_MEMBERS},
		{"groups", required_argument, NULL, OPT_GROUPS},
		{"instances", required_argument, NULL, OPT_INSTANCES},
		{"per-instance", required_argument, NULL, OPT_PER_INSTANCE},
		{"join", no_argument, NULL, OPT_JOIN},
		{NULL, 0, NULL, 0},
	};
	struct bench_micro_cfg m = {.rules = 1};
	struct bench_cp_cfg cp = {
		.groups = 100, .rules = 60, .instances = 1000, .per_inst = 3};
	struct bench_target t;
	const char *val;
	char *text = NULL;
	size_t len;
	bool micro;
	int opt, err;
	long x;

	if (argc < 2 || (strcmp(argv[1], "micro") && strcmp(argv[1], "cp")))
		return sg_usage_err("bench", "gen micro|cp [options]");
	micro = !strcmp(argv[1], "micro");
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((opt = next_opt(argc, argv, opts, &val)) != -1) {
		if (opt == OPT_JOIN) {
			cp.join = 1;
			continue;
		}
		if (opt == '?')
			return unknown_opt("gen", '?', argv);
		if (parse_uint(opt_name(opts, opt), val, 0, 1000000, &x))
			return SG_EXIT_USAGE;
		if (micro && opt == OPT_RULES)
			m.rules = (int)x;
		else if (micro && opt == OPT_MEMBERS)
			m.members = (int)x;
		else if (!set_cp(&cp, opt, x))
			return sg_usage_err("bench", "gen: unknown option '%s'",
					    opt_name(opts, opt));
	}
	if (optind < argc)
		return unknown_opt("gen", -1, argv);
	err = micro ? bench_gen_micro(&m, &text, &len, &t)
		    : bench_gen_cp(&cp, &text, &len);
	if (err) {
		sg_err("out of memory");
		return SG_EXIT_ERR;
	}
	if (micro) {
		struct in_addr ia = {.s_addr = htonl(t.accept_src)};
		char ab[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &ia, ab, sizeof(ab));
		/* For scripts: a source and port the target rule allows. */
		printf("# bench-target: %s %u %d\n", ab, t.accept_port,
		       t.accept_plen);
	}
	fwrite(text, 1, len, stdout);
	free(text);
	return SG_EXIT_OK;
}

/* --------------------------------------------------------------- control */

/* A change through the apply entry point (bench_control's *_inc). */
static void json_change(struct sg_json *j, const char *key,
			const struct bench_change *c)
{
	sg_json_key(j, key);
	sg_json_begin_object(j);
	sg_json_key(j, "parse_ms");
	sg_json_double(j, c->parse * 1e3);
	sg_json_key(j, "compile_ms");
	sg_json_double(j, c->compile * 1e3);
	sg_json_key(j, "apply_ms");
	sg_json_double(j, c->write * 1e3);
	sg_json_kv_bool(j, "incremental", c->incremental);
	sg_json_kv_uint(j, "entries_written", c->written);
	sg_json_kv_uint(j, "entries_deleted", c->deleted);
	sg_json_end_object(j);
}

static void print_change(const char *what, const struct bench_change *c)
{
	printf("one instance %s: parse %.1f ms, compile %.1f ms, apply "
	       "%.2f ms (%s), %zu entries written, %zu deleted\n",
	       what, c->parse * 1e3, c->compile * 1e3, c->write * 1e3,
	       c->incremental ? "in place" : "new generation", c->written,
	       c->deleted);
}

static void print_control(const struct bench_cp_cfg *cp,
			  const struct bench_control_result *r)
{
	if (sg_opts.json) {
		struct sg_json *j = sg_json_new(stdout, false);
		uint64_t before = 0, after = 0;

		sg_json_begin_object(j);
		sg_json_kv_int(j, "groups", cp->groups);
		sg_json_kv_int(j, "rules_per_group", cp->rules);
		sg_json_kv_int(j, "instances", cp->instances);
		sg_json_kv_int(j, "groups_per_instance", cp->per_inst);
		sg_json_kv_uint(j, "policies", r->policies);
		sg_json_kv_uint(j, "class_entries", r->class_entries);
		sg_json_kv_uint(j, "rule_entries", r->rule_entries);
		json_ms(j, "load_ms", &r->load);
		json_ms(j, "join_ms", &r->join);
		json_change(j, "join_in_place", &r->join_inc);
		json_change(j, "leave_in_place", &r->leave_inc);
		json_change(j, "join_new_generation", &r->join_full);
		sg_json_kv_uint(j, "max_rss_kib", (uint64_t)r->max_rss_kib);
		sg_json_key(j, "memlock");
		sg_json_begin_object(j);
		for (size_t i = 0; i < r->nmem; i++) {
			sg_json_key(j, r->mem[i].name);
			sg_json_begin_array(j);
			sg_json_uint(j, r->mem[i].before);
			sg_json_uint(j, r->mem[i].after);
			sg_json_end_array(j);
			before += r->mem[i].before;
			after += r->mem[i].after;
		}
		sg_json_end_object(j);
		sg_json_kv_uint(j, "memlock_empty", before);
		sg_json_kv_uint(j, "memlock_loaded", after);
		sg_json_key(j, "memlock_per_instance");
		sg_json_double(j, (double)(after - before) / cp->instances);
		sg_json_end_object(j);
		sg_json_destroy(j);
		return;
	}
	printf("%d groups x %d rules, %d instances x %d groups: %zu "
	       "policies, %zu + %zu entries\n"
	       "load: parse %.1f ms, compile %.1f ms, apply %.1f ms\n"
	       "one instance joins sg-hub: parse %.1f ms, compile "
	       "%.1f ms, apply %.1f ms\nmax RSS %ld KiB\n",
	       cp->groups, cp->rules, cp->instances, cp->per_inst, r->policies,
	       r->class_entries, r->rule_entries, r->load.parse * 1e3,
	       r->load.compile * 1e3, r->load.apply * 1e3, r->join.parse * 1e3,
	       r->join.compile * 1e3, r->join.apply * 1e3, r->max_rss_kib);
	print_change("joins sg-hub, in place", &r->join_inc);
	print_change("leaves sg-hub, in place", &r->leave_inc);
	print_change("joins sg-hub, new generation", &r->join_full);
	for (size_t i = 0; i < r->nmem; i++)
		printf("  %-12s memlock %10llu -> %10llu\n", r->mem[i].name,
		       (unsigned long long)r->mem[i].before,
		       (unsigned long long)r->mem[i].after);
}

static int bench_control_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{"rules", required_argument, NULL, OPT_RULES},
		{"groups", required_argument, NULL, OPT_GROUPS},
		{"instances", required_argument, NULL, OPT_INSTANCES},
		{"per-instance", required_argument, NULL, OPT_PER_INSTANCE},
		{NULL, 0, NULL, 0},
	};
	struct bench_cp_cfg cp = {
		.groups = 100, .rules = 60, .instances = 1000, .per_inst = 3};
	struct bench_control_result r;
	const char *val;
	int opt;
	long x;

	optind = 0;
	opterr = 0;
	while ((opt = next_opt(argc, argv, opts, &val)) != -1) {
		if (opt == '?')
			return unknown_opt("control", '?', argv);
		if (parse_uint(opt_name(opts, opt), val, 1, 1000000, &x))
			return SG_EXIT_USAGE;
		set_cp(&cp, opt, x);
	}
	if (optind < argc)
		return unknown_opt("control", -1, argv);
	if (sg_need_root("bench"))
		return SG_EXIT_ERR;
	if (bench_control(&cp, &r))
		return SG_EXIT_ERR;
	print_control(&cp, &r);
	return SG_EXIT_OK;
}

/* -------------------------------------------------------------- dispatch */

int cmd_bench(int argc, char **argv)
{
	static const struct cmd sub[] = {
		{"micro", bench_micro_cmd, ""},
		{"live", bench_live_cmd, ""},
		{"gen", bench_gen_cmd, ""},
		{"control", bench_control_cmd, ""},
		{NULL, NULL, NULL},
	};
	const struct cmd *c;
	bool ambiguous;

	if (argc < 2)
		return sg_usage_err(argv[0], "micro, live, gen or control?");
	c = sg_cmd_find(sub, argv[1], &ambiguous);
	if (!c)
		return sg_usage_err(argv[0], "%s subcommand '%s'",
				    ambiguous ? "ambiguous" : "unknown",
				    argv[1]);
	return c->fn(argc - 1, argv + 1);
}
