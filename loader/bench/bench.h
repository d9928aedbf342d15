/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The benchmark harness behind `sgctl bench`: each measurement fills a
 * result struct and returns 0, or a negative errno after reporting what
 * failed with sg_err. Arguments, exit codes and printing belong to the
 * command (cmd/cmd_bench.c).
 *
 *   micro.c    the real sg_xdp under BPF_PROG_TEST_RUN (per-packet cost)
 *   live.c     live frames from the traffic generator over a veth pair
 *   control.c  parse, compile and apply times, map memory
 *   gen.c      the generated configs all of them load (gen.h)
 */
#ifndef SG_BENCH_H
#define SG_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/gen.h"

#define BENCH_FRAME_MAX 128 /* the largest frame bench live sends */

/* ----------------------------------------------------------------- micro */

enum bench_case {
	BENCH_CASE_EST, /* a tracked flow's packet, the live program */
	BENCH_CASE_ACC, /* a SYN a rule allows, dry-run mode */
	BENCH_CASE_REJ, /* a SYN no rule allows, dry-run mode */
	BENCH_NCASES
};
extern const char *const bench_case_names[BENCH_NCASES];

struct bench_micro_opts {
	const int *rules; /* each 1..SG_MAX_RULES_PER_INSTANCE */
	int nrules;
	const int *members;
	int nmembers;
	int runs;	 /* medians of this many runs ... */
	uint32_t repeat; /* ... of this many packets */
	bool reference;	 /* -j: report ref_ns as well */
};

struct bench_micro_row {
	int rules, members;
	double ns[BENCH_NCASES]; /* per packet, median */
};

struct bench_micro_result {
	double floor_ns; /* an empty XDP program, measured alongside */
	double ref_ns;	 /* the reference stateful program (refstate) */
	struct bench_micro_row *rows; /* members outer, rules inner */
	size_t nrows;
};

/* Needs root; works in a temporary pin directory it removes again. */
int bench_micro(const struct bench_micro_opts *o, struct bench_micro_result *r);
void bench_micro_result_free(struct bench_micro_result *r);

/* ------------------------------------------------------------------ live */

enum bench_mix {
	BENCH_MIX_DROP,	       /* one flow to a port no rule allows */
	BENCH_MIX_ESTABLISHED, /* one flow, tracked after its first frame */
	BENCH_MIX_ALLOWED,     /* one allowed source, a new flow per port */
	BENCH_MIX_MANY,	       /* 65536 sources of the source's /16 */
	BENCH_MIX_SYN,	       /* TCP SYNs from the source's prefix */
	BENCH_NMIX
};
extern const char *const bench_mix_names[BENCH_NMIX];

enum bench_receiver {
	BENCH_RX_SGCTL, /* sgctl attached there, counted in sg_stats */
	BENCH_RX_PASS,	/* tg_sink passing every frame on */
	BENCH_RX_DROP,	/* tg_sink dropping every frame */
	BENCH_NRX
};
extern const char *const bench_receiver_names[BENCH_NRX];

struct bench_live_opts {
	const char *pin_dir; /* sgctl's state, for BENCH_RX_SGCTL */
	const char *gen_netns, *gen_dev, *rx_netns, *rx_dev;
	enum bench_receiver receiver;
	enum bench_mix mix;
	uint32_t src, dst; /* host order */
	int src_len;	   /* syn-flood: sources in src/src_len */
	uint16_t sport, dport;
	long seconds, count, size, slot;
};

struct bench_live_result {
	size_t frame_bytes;
	uint64_t sent, received, passed;
	double seconds;
};

int bench_live(const struct bench_live_opts *o, struct bench_live_result *r);

/* --------------------------------------------------------------- control */

struct bench_times {
	double parse, compile, apply; /* seconds */
};

struct bench_map_mem {
	char name[64];
	uint64_t before, after; /* memlock, empty and loaded */
};

#define BENCH_MAX_MAPS 32

/* One change through the apply entry point with a cache (as an agent
 * applies it): written in place into the live generation. */
struct bench_change {
	double parse, compile, write; /* seconds */
	bool incremental;
	size_t written, deleted; /* policy-map entries */
};

struct bench_control_result {
	size_t policies, class_entries, rule_entries;
	struct bench_times load; /* the config as loaded first */
	struct bench_times join; /* then one instance joins sg-hub */
	/* The same membership change, in place (sg_enforce_apply with a
	 * cache): join sg-hub, then leave it again, five times (write: the
	 * median; the rest: the last run); and the entries a whole new
	 * generation writes for it. */
	struct bench_change join_inc, leave_inc, join_full;
	long max_rss_kib;
	struct bench_map_mem mem[BENCH_MAX_MAPS];
	size_t nmem;
};

/* Needs root; works in a temporary pin directory it removes again. */
int bench_control(const struct bench_cp_cfg *cp,
		  struct bench_control_result *r);

#endif /* SG_BENCH_H */
