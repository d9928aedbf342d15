// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Floods (issue 11), with BPF_PROG_TEST_RUN on the real sg_xdp / sg_tc:
 *   - rejected-flow records are budgeted per CPU, instance and window;
 *     beyond the budget rejects are only counted (stats exact) and summed
 *     as skipped (what `sgctl flowlog` prints as SKIPDATA);
 *   - every drop reason makes a record, the reason in its key;
 *   - a run of one flow's rejects only adds to per-CPU pending counts, and
 *     the records as flowlog reads them (sg_reject_dump) stay exact;
 *   - a full conntrack table gives the room of half-open TCP entries to
 *     new flows, never that of a flow whose opener went on;
 *   - the established fast path (sg_flow_cache) keeps counts exact for
 *     readers and the GC, stops vouching for flushed flows, and lets no
 *     FIN or new flag skip the table.
 * The process is pinned to one CPU so that "per CPU" is one budget.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sgctl.h"
#include "sgctl.skel.h"
#include "pkt.h"
#include "reject_view.h"
#include "ct_view.h"
#include "view/flowlog.h"

#define ME4	"10.0.0.1"
#define POLICY	7
#define CLASS_P 1 /* inbound from 192.0.2.0/24: tcp 22 */
#define SYN	0x02
#define ACK	0x10
#define RST	0x04

static struct sgctl_bpf *skel;
static int ncpus;

static void pin_cpu(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(sched_getcpu(), &set);
	cr_assert_eq(sched_setaffinity(0, sizeof(set), &set), 0);
}

static struct sgctl_bpf *open_prog(__u32 rate)
{
	struct sgctl_bpf *s = sgctl_bpf__open();
	struct bpf_map *m;

	cr_assert_not_null(s);
	bpf_object__for_each_map(m, s->obj) bpf_map__set_pin_path(m, NULL);
	s->rodata->sg_slot = 0;
	s->rodata->sg_reject_rate = rate;
	cr_assert_eq(sgctl_bpf__load(s), 0);
	return s;
}

static void teardown(void)
{
	sgctl_bpf__destroy(skel);
	skel = NULL;
}

static void setup(__u32 rate, __u32 ct_max)
{
	struct sg_active a = {};
	struct sg_inst in = {.flags = SG_INST_PRESENT,
			     .policy = POLICY,
			     .tcp_established = 432000,
			     .udp_stream = 180,
			     .udp = 30,
			     .ct_max = ct_max};
	struct sg_class_key ck = {.prefixlen = 32 + 24,
				  .scope = SG_SCOPE(0, SG_DIR_IN, 0, POLICY),
				  .addr = {192, 0, 2, 0}};
	struct sg_class_val cv = {.class_id = CLASS_P, .prefixlen = 24};
	struct sg_rule_key rk = {.prefixlen = SG_RULE_PLEN_PROTO + 16,
				 .class_id = CLASS_P,
				 .proto = 6,
				 .port = htons(22)};
	struct sg_rule_val rv = {.rule_ref = 1};
	__u32 zero = 0;

	ncpus = libbpf_num_possible_cpus();
	pin_cpu();
	skel = open_prog(rate);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_active),
					 &zero, &a, 0),
		     0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_inst), &zero,
					 &in, 0),
		     0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_class), &ck,
					 &cv, 0),
		     0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_rule), &rk,
					 &rv, 0),
		     0);
}

static int run(struct bpf_program *prog, const struct pkt_spec *s, size_t cut)
{
	__u8 buf[PKT_MAX];
	size_t len = pkt_build(s, buf);

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (__u32)(cut ? cut : len), .repeat = 1);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	return o.retval;
}

static int in(const struct pkt_spec *s)
{
	return run(skel->progs.sg_xdp, s, 0) == XDP_PASS;
}

static int out(const struct pkt_spec *s)
{
	/* NIC mode: TC is outbound. */
	return run(skel->progs.sg_tc, s, 0) == 0;
}

static struct pkt_spec tcp(const char *src, __u16 sport, __u16 dport,
			   __u8 flags)
{
	struct pkt_spec s = {.src = src,
			     .dst = ME4,
			     .proto = 6,
			     .sport = sport,
			     .dport = dport,
			     .tcp_flags = flags};
	return s;
}

static struct pkt_spec tcp_back(const char *dst, __u16 sport, __u16 dport,
				__u8 flags)
{
	struct pkt_spec s = tcp(ME4, sport, dport, flags);

	s.dst = dst;
	return s;
}

static __u64 counter(__u32 dir, __u32 c)
{
	struct sg_counter_val v[ncpus];
	__u32 k = SG_STATS_INDEX(0, dir, c);
	__u64 n = 0;

	cr_assert_eq(
		bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_stats), &k, v),
		0);
	for (int i = 0; i < ncpus; i++)
		n += v[i].packets;
	return n;
}

/* Records of slot 0 by reason, and their packets, as flowlog reads them. */
static int records(int reason, __u64 *packets)
{
	struct sg_reject_key *keys;
	struct sg_reject_val *vals;
	size_t n = reject_view(skel, &keys, &vals);
	int r = 0;

	*packets = 0;
	for (size_t i = 0; i < n; i++) {
		if (keys[i].reason != reason)
			continue;
		r++;
		*packets += vals[i].packets;
	}
	free(keys);
	free(vals);
	return r;
}

/* Skipped rejects of slot 0, one direction, summed over the CPUs. */
static __u64 skipped(__u32 dir, __u64 *bytes)
{
	struct sg_reject_budget b[ncpus];
	__u32 zero = 0;
	__u64 n = 0;

	cr_assert_eq(
		bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_reject_budget),
				    &zero, b),
		0);
	*bytes = 0;
	for (int i = 0; i < ncpus; i++) {
		n += b[i].skip[dir].packets;
		*bytes += b[i].skip[dir].bytes;
		if (b[i].skip[dir].packets)
			cr_assert_leq(b[i].skip[dir].first_ns,
				      b[i].skip[dir].last_ns);
	}
	return n;
}

/* The datapath's budget window: CLOCK_MONOTONIC_COARSE >> 30. */
static __u64 window_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec) >>
	       SG_REJECT_WINDOW_SHIFT;
}

TestSuite(flood, .fini = teardown);

Test(flood, reject_budget_and_skipdata)
{
	const int rate = 4, n = 40;
	__u64 pk, bytes, w0;
	char src[32];
	int tries = 0;

	/* One window for the whole burst: start again if it crossed one. */
	do {
		teardown();
		setup(rate, 1024);
		w0 = window_now();
		for (int i = 0; i < n; i++) {
			struct pkt_spec s;

			snprintf(src, sizeof(src), "198.51.100.%d", i + 1);
			s = tcp(src, 40000, 22, SYN);
			cr_assert_eq(in(&s), 0, "no class: dropped");
		}
	} while (window_now() != w0 && ++tries < 5);
	cr_assert_lt(tries, 5);

	/* Counters are exact, whatever the log kept. */
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE), (__u64)n);
	/* The budget's worth of records, one packet each... */
	cr_assert_eq(records(SG_CNT_DROP_NO_RULE, &pk), rate);
	cr_assert_eq(pk, (__u64)rate);
	/* ...and the rest counted as skipped, with their bytes. */
	cr_assert_eq(skipped(SG_DIR_IN, &bytes), (__u64)(n - rate));
	cr_assert_gt(bytes, 0);
	cr_assert_eq(skipped(SG_DIR_OUT, &bytes), 0);

	/* A known flow is no new record: once spent, it is skipped too. */
	struct pkt_spec s = tcp("198.51.100.1", 40000, 22, SYN);
	if (window_now() == w0) {
		cr_assert_eq(in(&s), 0);
		if (window_now() == w0) {
			cr_assert_eq(skipped(SG_DIR_IN, &bytes),
				     (__u64)(n - rate + 1));
			cr_assert_eq(records(SG_CNT_DROP_NO_RULE, &pk), rate);
			cr_assert_eq(pk, (__u64)rate);
		}
	}
}

Test(flood, budget_zero_keeps_no_record)
{
	__u64 pk, bytes;

	setup(0, 1024);
	struct pkt_spec s = tcp("198.51.100.9", 40000, 22, SYN);
	cr_assert_eq(in(&s), 0);
	cr_assert_eq(in(&s), 0);
	cr_assert_eq(records(SG_CNT_DROP_NO_RULE, &pk), 0);
	cr_assert_eq(skipped(SG_DIR_IN, &bytes), 2);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE), 2);
}

Test(flood, every_drop_reason_is_logged)
{
	__u64 pk;

	setup(SG_REJECT_BUDGET_DEFAULT, 1);
	/* no rule: allowed class, port without a rule */
	struct pkt_spec s = tcp("192.0.2.10", 40000, 23, SYN);
	cr_assert_eq(in(&s), 0);
	cr_assert_eq(records(SG_CNT_DROP_NO_RULE, &pk), 1);
	/* conntrack full: the one entry is a flow whose opener went on */
	s = tcp("192.0.2.10", 40000, 22, SYN);
	cr_assert_eq(in(&s), 1);
	s.tcp_flags = ACK;
	cr_assert_eq(in(&s), 1);
	s = tcp("192.0.2.11", 40001, 22, SYN);
	cr_assert_eq(in(&s), 0);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_CT_FULL), 1);
	cr_assert_eq(records(SG_CNT_DROP_CT_FULL, &pk), 1);
	cr_assert_eq(pk, 1);
	/* malformed: the TCP header cut short */
	s = tcp("192.0.2.12", 40002, 22, SYN);
	cr_assert_eq(run(skel->progs.sg_xdp, &s, 14 + 20 + 8), XDP_DROP);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_MALFORMED), 1);
	cr_assert_eq(records(SG_CNT_DROP_MALFORMED, &pk), 1);
}

/* The key of tcp(src, sport, 22) dropped inbound for no rule. */
static struct sg_reject_key rkey(const char *src, __u16 sport)
{
	struct sg_reject_key k = {.slot = 0,
				  .dir = SG_DIR_IN,
				  .family = 4,
				  .proto = 6,
				  .reason = SG_CNT_DROP_NO_RULE,
				  .sport = htons(sport),
				  .dport = htons(22)};

	inet_pton(AF_INET, src, k.saddr);
	inet_pton(AF_INET, ME4, k.daddr);
	return k;
}

/* The packets of k's record in the hash alone, -1 if none. */
static long long raw_packets(const struct sg_reject_key *k)
{
	struct sg_reject_val v;

	if (bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_reject), k, &v))
		return -1;
	return (long long)v.packets;
}

/* The merged record of k: its packets, bytes and flags must be these. */
static void expect_record(const struct sg_reject_key *k, __u64 packets,
			  __u64 bytes, __u32 flags)
{
	struct sg_reject_val v;

	cr_assert(reject_view_get(skel, k, &v), "no record");
	cr_assert_eq(v.packets, packets, "packets %llu, want %llu",
		     (unsigned long long)v.packets,
		     (unsigned long long)packets);
	cr_assert_eq(v.bytes, bytes);
	cr_assert_eq(v.tcp_flags, flags);
	cr_assert_leq(v.first_ns, v.last_ns);
}

static __u64 frame_len(const struct pkt_spec *s)
{
	__u8 buf[PKT_MAX];

	return pkt_build(s, buf);
}

/*
 * A run of one flow's rejects adds to this CPU's pending counts only (the
 * hash record keeps its first packet), and the records as flowlog reads
 * them are exact all along: during the run, after another flow flushes
 * it, and when flows alternate.
 */
Test(flood, a_run_of_one_flow_is_exact)
{
	struct pkt_spec a = tcp("198.51.100.7", 40000, 22, SYN);
	struct pkt_spec b = tcp("198.51.100.8", 40001, 22, ACK);
	struct sg_reject_key ka = rkey("198.51.100.7", 40000),
			     kb = rkey("198.51.100.8", 40001);
	__u64 la = frame_len(&a), lb = frame_len(&b), pk;

	setup(SG_REJECT_BUDGET_DEFAULT, 1024);
	for (int i = 0; i < 100; i++) {
		a.tcp_flags = i == 50 ? (SYN | ACK) : SYN;
		cr_assert_eq(in(&a), 0);
	}
	/* One record, its first packet in the hash, 99 pending. */
	cr_assert_eq(raw_packets(&ka), 1);
	expect_record(&ka, 100, 100 * la, SYN | ACK);
	cr_assert_eq(records(SG_CNT_DROP_NO_RULE, &pk), 1);

	/* Another flow flushes the run into its record. */
	cr_assert_eq(in(&b), 0);
	cr_assert_eq(raw_packets(&ka), 100);
	expect_record(&ka, 100, 100 * la, SYN | ACK);
	expect_record(&kb, 1, lb, ACK);

	/* Alternating flows: each one's record exact at every step. */
	for (int i = 0; i < 40; i++) {
		cr_assert_eq(in(i % 2 ? &b : &a), 0);
		expect_record(&ka, 100 + (__u64)(i / 2 + 1),
			      la * (100 + (__u64)(i / 2 + 1)), SYN | ACK);
		expect_record(&kb, 1 + (__u64)((i + 1) / 2),
			      lb * (1 + (__u64)((i + 1) / 2)), ACK);
	}
	/* Runs of both, in turn. */
	for (int r = 0; r < 6; r++)
		for (int i = 0; i < 7; i++)
			cr_assert_eq(in(r % 2 ? &b : &a), 0);
	expect_record(&ka, 100 + 20 + 21, la * (100 + 20 + 21), SYN | ACK);
	expect_record(&kb, 1 + 20 + 21, lb * (1 + 20 + 21), ACK);
	cr_assert_eq(records(SG_CNT_DROP_NO_RULE, &pk), 2);
	cr_assert_eq(pk, counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE));
	cr_assert_eq(skipped(SG_DIR_IN, &pk), 0);
}

/*
 * A record evicted while its flow's run is pending: flowlog shows the
 * pending counts as a record, and the flush makes the record again (a new
 * record of the window's budget).
 */
Test(flood, a_pending_run_outlives_its_evicted_record)
{
	struct pkt_spec a = tcp("198.51.100.7", 40000, 22, SYN);
	struct pkt_spec b = tcp("198.51.100.8", 40001, 22, SYN);
	struct sg_reject_key ka = rkey("198.51.100.7", 40000);
	__u64 la = frame_len(&a), pk;

	setup(SG_REJECT_BUDGET_DEFAULT, 1024);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(in(&a), 0);
	cr_assert_eq(
		bpf_map_delete_elem(bpf_map__fd(skel->maps.sg_reject), &ka), 0);
	expect_record(&ka, 9, 9 * la, SYN);
	cr_assert_eq(in(&b), 0);
	cr_assert_eq(raw_packets(&ka), 9);
	expect_record(&ka, 9, 9 * la, SYN);
	cr_assert_eq(records(SG_CNT_DROP_NO_RULE, &pk), 2);
	cr_assert_eq(pk, 10);
}

/*
 * Runs keep the budget's semantics: a run of a flow is logged in full
 * while the window has budget left, and once the window's last record is
 * made, every reject waits for the next window, a known flow's too.
 */
Test(flood, runs_within_the_budget)
{
	struct pkt_spec a = tcp("198.51.100.7", 40000, 22, SYN);
	struct pkt_spec b = tcp("198.51.100.8", 40001, 22, SYN);
	struct pkt_spec c = tcp("198.51.100.9", 40002, 22, SYN);
	struct sg_reject_key ka = rkey("198.51.100.7", 40000),
			     kb = rkey("198.51.100.8", 40001);
	__u64 l = frame_len(&a), pk, bytes, w0;
	int tries = 0;

	do {
		teardown();
		setup(2, 1024);
		w0 = window_now();
		for (int i = 0; i < 5; i++)
			cr_assert_eq(in(&a), 0);
		for (int i = 0; i < 5; i++)
			cr_assert_eq(in(&b), 0);
		for (int i = 0; i < 3; i++)
			cr_assert_eq(in(&c), 0);
		cr_assert_eq(in(&b), 0);
	} while (window_now() != w0 && ++tries < 5);
	cr_assert_lt(tries, 5);
	/* b's record spent the window: the rest of it is skipped. */
	expect_record(&ka, 5, 5 * l, SYN);
	expect_record(&kb, 1, l, SYN);
	cr_assert_eq(records(SG_CNT_DROP_NO_RULE, &pk), 2);
	cr_assert_eq(pk, 6);
	cr_assert_eq(skipped(SG_DIR_IN, &bytes), 8);
	cr_assert_eq(bytes, 8 * l);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE), 14);
}

/*
 * A poll that read a run's record before its flush and the CPU's pending
 * counts after it sees the flow lower than the poll before: pollers keep
 * the earlier counts (no negative difference, nothing counted twice) and
 * count the rest at the next poll.
 */
Test(flood, a_poll_never_reads_a_flow_lower)
{
	struct sg_flow prev = {.packets = 100, .bytes = 6000, .last_ns = 9},
		       cur = {.packets = 1, .bytes = 60, .last_ns = 5},
		       more = {.packets = 120, .bytes = 7200, .last_ns = 11};

	sg_flow_no_less(&cur, &prev);
	cr_assert_eq(cur.packets, 100);
	cr_assert_eq(cur.bytes, 6000);
	cr_assert_eq(cur.last_ns, 9);
	sg_flow_no_less(&more, &cur);
	cr_assert_eq(more.packets, 120);
	cr_assert_eq(more.bytes, 7200);
	sg_flow_no_less(&more, NULL);
	cr_assert_eq(more.packets, 120);
}

static int ct_used(void)
{
	__u32 zero = 0;
	__s64 v;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_ct_count),
					 &zero, &v),
		     0);
	return (int)v;
}

static bool ct_has(const char *raddr, __u16 rport, __u16 lport)
{
	struct sg_ct_key k = {.slot = 0, .proto = 6, .family = 4};
	struct sg_ct_val v;

	inet_pton(AF_INET, ME4, k.laddr);
	inet_pton(AF_INET, raddr, k.raddr);
	k.lport = htons(lport);
	k.rport = htons(rport);
	return ct_view_get(skel, &k, &v);
}

Test(flood, full_table_gives_way_to_new_flows)
{
	const int cap = 8;
	char src[32];

	setup(SG_REJECT_BUDGET_DEFAULT, cap);
	/* A real client: SYN, SYN-ACK, ACK. */
	struct pkt_spec c = tcp("192.0.2.200", 50000, 22, SYN);
	cr_assert_eq(in(&c), 1);
	struct pkt_spec r = tcp_back("192.0.2.200", 22, 50000, SYN | ACK);
	cr_assert_eq(out(&r), 1);
	c.tcp_flags = ACK;
	cr_assert_eq(in(&c), 1);

	/* A SYN flood from 300 sources: the table stays full of half-open
	 * entries, each new SYN taking the room of an older one. */
	for (int i = 0; i < 300; i++) {
		struct pkt_spec s;

		snprintf(src, sizeof(src), "192.0.2.%d", i % 150 + 1);
		s = tcp(src, (__u16)(1024 + i), 22, SYN);
		cr_assert_eq(in(&s), 1, "SYN %d", i);
		if (i % 2) { /* half of them answered: RST, no listener */
			struct pkt_spec b =
				tcp_back(src, 22, (__u16)(1024 + i), RST | ACK);
			cr_assert_eq(out(&b), 1);
		}
	}
	cr_assert_eq(ct_used(), cap);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_CT_FULL), 0);
	/* The established flow was never taken and still passes. */
	cr_assert(ct_has("192.0.2.200", 50000, 22));
	cr_assert_eq(in(&c), 1);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_ACCEPT_ESTABLISHED), 2);

	/* A new real client still gets in and stays once it goes on. */
	struct pkt_spec d = tcp("192.0.2.201", 50001, 22, SYN);
	cr_assert_eq(in(&d), 1);
	d.tcp_flags = ACK;
	cr_assert_eq(in(&d), 1);
	for (int i = 0; i < 100; i++) {
		struct pkt_spec s;

		snprintf(src, sizeof(src), "192.0.2.%d", i + 1);
		s = tcp(src, (__u16)(2000 + i), 22, SYN);
		cr_assert_eq(in(&s), 1);
	}
	cr_assert(ct_has("192.0.2.200", 50000, 22));
	cr_assert(ct_has("192.0.2.201", 50001, 22));
	cr_assert_eq(ct_used(), cap);
}

Test(flood, full_of_established_flows_drops)
{
	const int cap = 4;
	char src[32];

	setup(SG_REJECT_BUDGET_DEFAULT, cap);
	for (int i = 0; i < cap; i++) {
		struct pkt_spec s;

		snprintf(src, sizeof(src), "192.0.2.%d", i + 1);
		s = tcp(src, 40000, 22, SYN);
		cr_assert_eq(in(&s), 1);
		s.tcp_flags = ACK;
		cr_assert_eq(in(&s), 1);
	}
	for (int i = 0; i < 20; i++) {
		struct pkt_spec s;

		snprintf(src, sizeof(src), "192.0.2.%d", 100 + i);
		s = tcp(src, 40000, 22, SYN);
		cr_assert_eq(in(&s), 0);
	}
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_CT_FULL), 20);
	cr_assert_eq(ct_used(), cap);
	for (int i = 0; i < cap; i++) {
		snprintf(src, sizeof(src), "192.0.2.%d", i + 1);
		cr_assert(ct_has(src, 40000, 22));
	}
}

/* sgctl check's dry run answers as the live program would, writing nothing. */
static int dry_counter(const struct pkt_spec *s)
{
	struct sgctl_bpf *d = sgctl_bpf__open();
	struct bpf_map *m, *o;
	__u8 buf[PKT_MAX];
	int c;

	cr_assert_not_null(d);
	bpf_object__for_each_map(m, d->obj)
	{
		bpf_map__set_pin_path(m, NULL);
		o = bpf_object__find_map_by_name(skel->obj, bpf_map__name(m));
		if (o && !bpf_map__is_internal(m))
			bpf_map__reuse_fd(m, bpf_map__fd(o));
	}
	d->rodata->sg_dry_run = 1;
	cr_assert_eq(sgctl_bpf__load(d), 0);
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = buf,
		    .data_size_in = (__u32)pkt_build(s, buf), .repeat = 1);
	cr_assert_eq(
		bpf_prog_test_run_opts(bpf_program__fd(d->progs.sg_xdp), &opts),
		0);
	cr_assert_eq(d->bss->sg_dry_result.done, 1);
	c = (int)d->bss->sg_dry_result.counter;
	sgctl_bpf__destroy(d);
	return c;
}

Test(flood, dry_run_answers_like_early_drop)
{
	const int cap = 2;
	struct pkt_spec s;

	setup(SG_REJECT_BUDGET_DEFAULT, cap);
	s = tcp("192.0.2.1", 40000, 22, SYN);
	cr_assert_eq(in(&s), 1);
	s = tcp("192.0.2.2", 40000, 22, SYN);
	cr_assert_eq(in(&s), 1);
	/* Full of half-open entries: a new flow would get in... */
	s = tcp("192.0.2.3", 40000, 22, SYN);
	cr_assert_eq(dry_counter(&s), SG_CNT_ACCEPT_NEW);
	/* ...and the dry run took no room. */
	cr_assert_eq(ct_used(), cap);
	cr_assert(ct_has("192.0.2.1", 40000, 22));
	cr_assert(ct_has("192.0.2.2", 40000, 22));
	/* Once both openers went on, the table is really full. */
	s = tcp("192.0.2.1", 40000, 22, ACK);
	cr_assert_eq(in(&s), 1);
	s = tcp("192.0.2.2", 40000, 22, ACK);
	cr_assert_eq(in(&s), 1);
	s = tcp("192.0.2.3", 40000, 22, SYN);
	cr_assert_eq(dry_counter(&s), SG_CNT_DROP_CT_FULL);
	cr_assert_eq(in(&s), 0);
}

/* Sets the port summary: inbound tcp/22, outbound tcp/443 and udp/53
 * (class CLASS_P + 1 for 192.0.2.0/24) are the only open ports. */
static void open_ports_only(void)
{
	__u32 zero = 0;
	struct sg_inst in;
	struct sg_class_key ck = {.prefixlen = 32 + 24,
				  .scope = SG_SCOPE(0, SG_DIR_OUT, 0, POLICY),
				  .addr = {192, 0, 2, 0}};
	struct sg_class_val cv = {.class_id = CLASS_P + 1, .prefixlen = 24};
	struct sg_rule_key rk = {.prefixlen = SG_RULE_PLEN_PROTO + 16,
				 .class_id = CLASS_P + 1,
				 .proto = 6,
				 .port = htons(443)};
	struct sg_rule_val rv = {.rule_ref = 2};
	struct sg_rule_key uk = rk;
	__u32 b;

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_inst), &zero,
					 &in),
		     0);
	in.flags |= SG_INST_PORTS;
	b = SG_PORT_BIT(0, 22);
	in.ports[SG_DIR_IN][b >> 6] |= 1ULL << (b & 63);
	b = SG_PORT_BIT(0, 443);
	in.ports[SG_DIR_OUT][b >> 6] |= 1ULL << (b & 63);
	b = SG_PORT_BIT(1, 53);
	in.ports[SG_DIR_OUT][b >> 6] |= 1ULL << (b & 63);
	uk.proto = 17;
	uk.port = htons(53);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_rule), &uk,
					 &rv, 0),
		     0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_inst), &zero,
					 &in, 0),
		     0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_class), &ck,
					 &cv, 0),
		     0);
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_rule), &rk,
					 &rv, 0),
		     0);
}

/*
 * A bare SYN to a port no rule opens is dropped before the conntrack
 * lookup (a spoofed SYN flood to closed ports costs no table miss), while
 * the replies of a flow this instance opened, which carry ACK, still pass
 * on its conntrack entry whatever their port. The one thing given up: a
 * simultaneous open (a bare SYN from the peer of an outbound connect) to
 * a port no inbound rule allows.
 */
Test(flood, bare_syn_to_closed_port_skips_conntrack)
{
	setup(SG_REJECT_BUDGET_DEFAULT, 64);
	open_ports_only();

	struct pkt_spec s = tcp("192.0.2.10", 40000, 8080, SYN);
	cr_assert_eq(in(&s), 0);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE), 1);
	cr_assert_eq(ct_used(), 0);

	/* An outbound connection to 192.0.2.50:443 from port 41000. */
	struct pkt_spec o = tcp_back("192.0.2.50", 41000, 443, SYN);
	cr_assert_eq(out(&o), 1);
	struct pkt_spec r = tcp("192.0.2.50", 443, 41000, SYN | ACK);
	cr_assert_eq(in(&r), 1);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_ACCEPT_ESTABLISHED), 1);
	/* The peer's own bare SYN on that flow: no inbound rule, dropped. */
	r.tcp_flags = SYN;
	cr_assert_eq(in(&r), 0);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE), 2);

	/* The open port still opens flows. */
	s = tcp("192.0.2.10", 40001, 22, SYN);
	cr_assert_eq(in(&s), 1);
	cr_assert(ct_has("192.0.2.10", 40001, 22));
}

static struct pkt_spec udp(const char *src, __u16 sport, __u16 dport)
{
	struct pkt_spec s = {.src = src,
			     .dst = ME4,
			     .proto = 17,
			     .sport = sport,
			     .dport = dport};
	return s;
}

/*
 * UDP to a port no rule opens: dropped before the conntrack lookup when no
 * tracked flow has that local port, and the replies of a flow the instance
 * opened still pass (its local port was marked before it was tracked).
 */
Test(flood, udp_to_closed_port_skips_conntrack)
{
	struct sg_ct_lports l;
	__u32 zero = 0, b = 41000 >> SG_CT_LPORT_SHIFT;

	setup(SG_REJECT_BUDGET_DEFAULT, 64);
	open_ports_only();

	struct pkt_spec s = udp("192.0.2.10", 40000, 9);
	cr_assert_eq(in(&s), 0);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE), 1);

	/* A query from local port 41000 to 192.0.2.53:53, and its answer. */
	struct pkt_spec q = udp(ME4, 41000, 53);
	q.dst = "192.0.2.53";
	cr_assert_eq(out(&q), 1);
	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_ct_lports),
					 &zero, &l),
		     0);
	cr_assert(l.bits[1][b >> 6] & (1ULL << (b & 63)));
	cr_assert_eq(l.bits[0][b >> 6], 0);
	struct pkt_spec a = udp("192.0.2.53", 53, 41000);
	cr_assert_eq(in(&a), 1);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_ACCEPT_ESTABLISHED), 1);
	/* The same port from another peer: no flow, no rule. */
	a.src = "192.0.2.54";
	cr_assert_eq(in(&a), 0);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE), 2);
}

/* ---- the established fast path (struct sg_flow_cache) ---- */

/* repeat copies of s through prog in one run; returns the frame length. */
static size_t run_many(struct bpf_program *prog, const struct pkt_spec *s,
		       __u32 repeat, int want)
{
	__u8 buf[PKT_MAX];
	size_t len = pkt_build(s, buf);

	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (__u32)len, .repeat = repeat);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	cr_assert_eq((int)o.retval, want);
	return len;
}

/* 192.0.2.7:50000 -> ME4:22, through its handshake. */
static void handshake(struct pkt_spec *c, struct pkt_spec *r)
{
	*c = tcp("192.0.2.7", 50000, 22, SYN);
	*r = tcp_back("192.0.2.7", 22, 50000, SYN | ACK);
	cr_assert_eq(in(c), 1);
	cr_assert_eq(out(r), 1);
	c->tcp_flags = ACK;
	r->tcp_flags = ACK;
	cr_assert_eq(in(c), 1);
}

static struct sg_ct_key flow_key(void)
{
	struct sg_ct_key k = {.slot = 0, .proto = 6, .family = 4};

	inet_pton(AF_INET, ME4, k.laddr);
	inet_pton(AF_INET, "192.0.2.7", k.raddr);
	k.lport = htons(22);
	k.rport = htons(50000);
	return k;
}

Test(fastpath, counts_stay_exact)
{
	struct pkt_spec c, r;
	struct sg_ct_key k = flow_key();
	struct sg_ct_val v;
	size_t lc, lr;

	setup(SG_REJECT_BUDGET_DEFAULT, 64);
	handshake(&c, &r);
	lc = run_many(skel->progs.sg_xdp, &c, 1000, XDP_PASS);
	lr = run_many(skel->progs.sg_tc, &r, 300, 0);
	/* What the cache counted is part of the flow as readers see it. */
	cr_assert(ct_view_get(skel, &k, &v));
	cr_assert_eq(v.packets[SG_DIR_IN], 2 + 1000);
	cr_assert_eq(v.packets[SG_DIR_OUT], 1 + 300);
	cr_assert_eq(v.bytes[SG_DIR_OUT], (1 + 300) * lr);
	cr_assert_geq(v.bytes[SG_DIR_IN], 1000 * lc);
	cr_assert_eq(v.state, SG_CT_TCP_ESTABLISHED);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_ACCEPT_ESTABLISHED), 1 + 1000);
	cr_assert_eq(counter(SG_DIR_OUT, SG_CNT_ACCEPT_ESTABLISHED), 1 + 300);
}

Test(fastpath, a_flushed_flow_is_not_vouched_for)
{
	struct pkt_spec c, r;

	setup(SG_REJECT_BUDGET_DEFAULT, 64);
	handshake(&c, &r);
	run_many(skel->progs.sg_tc, &r, 10, 0);
	/* The loader forgets the flow: the next reply has no rule. */
	ct_view_clear(skel);
	cr_assert_eq(out(&r), 0);
	cr_assert_eq(counter(SG_DIR_OUT, SG_CNT_DROP_NO_RULE), 1);
}

Test(fastpath, fin_and_new_flags_take_the_long_path)
{
	struct pkt_spec c, r;
	struct sg_ct_key k = flow_key();
	struct sg_ct_val v;

	setup(SG_REJECT_BUDGET_DEFAULT, 64);
	handshake(&c, &r);
	run_many(skel->progs.sg_xdp, &c, 5, XDP_PASS);
	c.tcp_flags = ACK | 0x08; /* PSH: new to the flow */
	cr_assert_eq(in(&c), 1);
	cr_assert(ct_view_get(skel, &k, &v));
	cr_assert(v.tcp_flags & 0x08, "flags %#x", v.tcp_flags);
	c.tcp_flags = ACK | 0x01; /* FIN */
	r.tcp_flags = ACK | 0x01;
	cr_assert_eq(in(&c), 1);
	cr_assert_eq(out(&r), 1);
	cr_assert(ct_view_get(skel, &k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_CLOSING);
	/* A fresh SYN on the closed connection is a new flow. */
	c.tcp_flags = SYN;
	cr_assert_eq(in(&c), 1);
	cr_assert(ct_view_get(skel, &k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_OPENING);
	cr_assert_eq(v.packets[SG_DIR_IN], 1);
}

Test(fastpath, the_gc_counts_what_the_cache_counted, .timeout = 40)
{
	struct sg_rule_hit_key hk = {.rule_key = 0x5151, .slot = 0};
	struct sg_rule_key rk = {.prefixlen = SG_RULE_PLEN_PROTO + 16,
				 .class_id = CLASS_P,
				 .proto = 6,
				 .port = htons(22)};
	struct sg_rule_val rv = {.rule_ref = 1};
	struct sg_ct_key k = flow_key();
	struct sg_ct4_key k4;
	struct pkt_spec c, r;
	struct sg_ct_val v;
	__u64 packets = 0;
	int i;

	setup(SG_REJECT_BUDGET_DEFAULT, 64);
	rv.rule_key = hk.rule_key;
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_rule), &rk,
					 &rv, 0),
		     0);
	handshake(&c, &r);
	run_many(skel->progs.sg_xdp, &c, 500, XDP_PASS);
	/* Make the flow idle past its timeout, in place (the entry it is). */
	sg_ct4_key_of(&k, &k4);
	cr_assert_eq(
		bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_ct4), &k4, &v),
		0);
	v.timeout_s = 1;
	v.last_seen_ns -= 10ULL * 1000000000ULL;
	cr_assert_eq(bpf_map_update_elem(bpf_map__fd(skel->maps.sg_ct4), &k4,
					 &v, BPF_EXIST),
		     0);
	/* The GC runs every second; a loaded machine may delay it. */
	for (i = 0; i < 150 && ct_view_get(skel, &k, &v); i++)
		usleep(100000);
	cr_assert_lt(i, 150, "the GC did not collect the flow");
	struct sg_rule_hit h[ncpus];

	cr_assert_eq(bpf_map_lookup_elem(bpf_map__fd(skel->maps.sg_rule_hits),
					 &hk, h),
		     0);
	for (int j = 0; j < ncpus; j++)
		packets += h[j].packets;
	cr_assert_eq(packets, 3 + 500, "the rule counted %llu packets",
		     (unsigned long long)packets);
}

Test(fastpath, a_whole_table_read_adds_every_line)
{
	enum { NFLOWS = 80 }; /* more than the per-entry reads cover */
	struct sg_ct4_key k4[NFLOWS + 1], prev;
	struct sg_ct_val v[NFLOWS + 1];
	int fd, n = 0;

	setup(SG_REJECT_BUDGET_DEFAULT, 256);
	for (int i = 0; i < NFLOWS; i++) {
		struct pkt_spec c =
			tcp("192.0.2.9", (__u16)(30000 + i), 22, SYN);
		struct pkt_spec r = tcp_back("192.0.2.9", 22,
					     (__u16)(30000 + i), SYN | ACK);

		cr_assert_eq(in(&c), 1);
		cr_assert_eq(out(&r), 1);
		c.tcp_flags = ACK;
		cr_assert_eq(in(&c), 1);
		run_many(skel->progs.sg_xdp, &c, 10, XDP_PASS);
	}
	fd = bpf_map__fd(skel->maps.sg_ct4);
	while (n <= NFLOWS &&
	       !bpf_map_get_next_key(fd, n ? &prev : NULL, &k4[n])) {
		cr_assert_eq(bpf_map_lookup_elem(fd, &k4[n], &v[n]), 0);
		prev = k4[n++];
	}
	cr_assert_eq(n, NFLOWS);
	cr_assert_eq(sg_flow_cache_merge(bpf_map__fd(skel->maps.sg_flow_cache),
					 k4, v, (size_t)n),
		     0);
	for (int i = 0; i < n; i++)
		cr_assert_eq(v[i].packets[SG_DIR_IN], 2 + 10, "flow %d: %llu",
			     i, (unsigned long long)v[i].packets[SG_DIR_IN]);
}
