// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Per-rule hits, audit mode and MLD on the real programs (loaded unpinned,
 * policy written straight into the maps, frames run with
 * BPF_PROG_TEST_RUN): a new flow's conntrack entry remembers its rule,
 * creation time and TCP flags and no counter is written on its path; the
 * GC counts a collected flow for its rule (hit, packets, bytes, last
 * use); untracked packets count one by one,
 * an audited instance lets a no-rule packet pass as audit_would_drop and
 * logs it, MLD from link-local with hop limit 1 passes. Needs root.
 */
#include <criterion/criterion.h>
#include <errno.h>
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

#define ME4		"10.0.0.1"
#define PEER4		"192.0.2.10"
#define STRANGER4	"198.51.100.7"
#define POLICY		7
#define CLASS_PEER	1
#define KEY_SSH		0x1111222233334444ULL
#define KEY_UDP		0x5555666677778888ULL
#define KEY_UDP_TRACKED 0x9999aaaabbbbccccULL

static struct sgctl_bpf *skel;
static int ncpus;

static void setup(void)
{
	struct bpf_map *m;
	int err;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	ncpus = libbpf_num_possible_cpus();
	skel = sgctl_bpf__open();
	cr_assert_not_null(skel);
	bpf_object__for_each_map(m, skel->obj) bpf_map__set_pin_path(m, NULL);
	err = sgctl_bpf__load(skel);
	cr_assert_eq(err, 0, "load: %s", strerror(-err));
}

static void teardown(void)
{
	sgctl_bpf__destroy(skel);
	skel = NULL;
}

TestSuite(hits, .init = setup, .fini = teardown);

static int fd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

/* Slot 0, gen 0: from 192.0.2.0/24 tcp 22 (KEY_SSH, tracked) and udp
 * 53 (KEY_UDP, untracked); flags of sg_inst as given. */
static void policy(__u32 flags)
{
	struct sg_active a = {.gen = 0};
	struct sg_inst in = {.flags = SG_INST_PRESENT | flags,
			     .policy = POLICY,
			     .tcp_established = 432000,
			     .udp_stream = 180,
			     .udp = 30,
			     .ct_max = 1024};
	struct sg_class_key ck = {.prefixlen = 32 + 24,
				  .scope = SG_SCOPE(0, SG_DIR_IN, 0, POLICY)};
	struct sg_class_val cv = {.class_id = CLASS_PEER, .prefixlen = 24};
	struct sg_rule_key rk = {.prefixlen = SG_RULE_PLEN_PROTO + 16,
				 .class_id = CLASS_PEER,
				 .proto = 6,
				 .port = htons(22)};
	struct sg_rule_val rv = {.rule_ref = 1, .rule_key = KEY_SSH};
	__u32 zero = 0;

	cr_assert_eq(
		bpf_map_update_elem(fd(skel->maps.sg_active), &zero, &a, 0), 0);
	cr_assert_eq(bpf_map_update_elem(fd(skel->maps.sg_inst), &zero, &in, 0),
		     0);
	inet_pton(AF_INET, "192.0.2.0", ck.addr);
	cr_assert_eq(bpf_map_update_elem(fd(skel->maps.sg_class), &ck, &cv, 0),
		     0);
	cr_assert_eq(bpf_map_update_elem(fd(skel->maps.sg_rule), &rk, &rv, 0),
		     0);
	rk.proto = 17;
	rk.port = htons(53);
	rv.rule_ref = 2;
	rv.rule_key = KEY_UDP;
	rv.flags = SG_RULE_UNTRACKED;
	cr_assert_eq(bpf_map_update_elem(fd(skel->maps.sg_rule), &rk, &rv, 0),
		     0);
	rk.port = htons(54);
	rv.rule_ref = 3;
	rv.rule_key = KEY_UDP_TRACKED;
	rv.flags = 0;
	cr_assert_eq(bpf_map_update_elem(fd(skel->maps.sg_rule), &rk, &rv, 0),
		     0);
}

/* Idle timeouts of slot 0 shortened to udp seconds (the GC test). */
static void short_udp(__u32 udp)
{
	struct sg_inst in;
	__u32 zero = 0;

	cr_assert_eq(bpf_map_lookup_elem(fd(skel->maps.sg_inst), &zero, &in),
		     0);
	in.udp = udp;
	cr_assert_eq(bpf_map_update_elem(fd(skel->maps.sg_inst), &zero, &in, 0),
		     0);
}

static int run_frame(struct bpf_program *prog, __u8 *buf, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (__u32)len, .repeat = 1);

	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	return o.retval;
}

/* Inbound (XDP): 1 pass, 0 drop. */
static int in(const struct pkt_spec *s)
{
	__u8 buf[PKT_MAX];

	return run_frame(skel->progs.sg_xdp, buf, pkt_build(s, buf)) ==
	       XDP_PASS;
}

/* Outbound (TC): 1 pass, 0 drop. */
static int out(const struct pkt_spec *s)
{
	__u8 buf[PKT_MAX];

	return run_frame(skel->progs.sg_tc, buf, pkt_build(s, buf)) == 0;
}

/* The rule's counters summed over the CPUs; false when it has none. */
static bool hits_of(__u64 key, struct sg_rule_hit *sum)
{
	struct sg_rule_hit_key k = {.rule_key = key, .slot = 0};
	struct sg_rule_hit v[ncpus];

	memset(sum, 0, sizeof(*sum));
	if (bpf_map_lookup_elem(fd(skel->maps.sg_rule_hits), &k, v))
		return false;
	for (int i = 0; i < ncpus; i++) {
		sum->hits += v[i].hits;
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
		if (v[i].last_ns > sum->last_ns)
			sum->last_ns = v[i].last_ns;
	}
	return true;
}

static __u64 counter(__u32 dir, __u32 cnt)
{
	struct sg_counter_val v[ncpus];
	__u32 k = SG_STATS_INDEX(0, dir, cnt);
	__u64 p = 0;

	cr_assert_eq(bpf_map_lookup_elem(fd(skel->maps.sg_stats), &k, v), 0);
	for (int i = 0; i < ncpus; i++)
		p += v[i].packets;
	return p;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct pkt_spec tcp(const char *src, const char *dst, __u16 sport,
			   __u16 dport, __u8 flags)
{
	struct pkt_spec s = {.src = src,
			     .dst = dst,
			     .proto = 6,
			     .sport = sport,
			     .dport = dport,
			     .tcp_flags = flags};
	return s;
}

Test(hits, new_flow_remembers_its_rule)
{
	struct pkt_spec syn = tcp(PEER4, ME4, 40000, 22, 0x02);
	struct pkt_spec synack = tcp(ME4, PEER4, 22, 40000, 0x12);
	struct pkt_spec ack = tcp(PEER4, ME4, 40000, 22, 0x10);
	struct pkt_spec psh = tcp(PEER4, ME4, 40000, 22, 0x18);
	struct sg_rule_hit h;
	struct sg_ct_key k = {.slot = 0, .proto = 6, .family = 4};
	struct sg_ct_val v;
	__u64 t0;

	policy(0);
	t0 = mono_ns();
	cr_assert(in(&syn));
	cr_assert(out(&synack));
	cr_assert(in(&ack));
	cr_assert(in(&psh));
	/* The new-flow path writes no counter: the entry holds the rule,
	 * its creation time is the hit's time, and the flags seen. */
	cr_assert_not(hits_of(KEY_SSH, &h), "no map write per new flow");
	inet_pton(AF_INET, ME4, k.laddr);
	inet_pton(AF_INET, PEER4, k.raddr);
	k.lport = htons(22);
	k.rport = htons(40000);
	cr_assert_eq(ct_view_get(skel, &k, &v), true);
	cr_assert_eq(v.rule_key, KEY_SSH);
	cr_assert_eq(v.tcp_flags, 0x1a, "SYN|ACK|PSH, got %#x", v.tcp_flags);
	/* Coarse clock: within a few ticks of now. */
	cr_assert_geq(v.created_ns + 50000000ULL, t0);
	cr_assert_leq(v.created_ns, mono_ns());
	cr_assert_eq(v.packets[0] + v.packets[1], 4);
}

Test(hits, untracked_counts_packets)
{
	struct pkt_spec s = {.src = PEER4,
			     .dst = ME4,
			     .proto = 17,
			     .sport = 5000,
			     .dport = 53};
	struct sg_rule_hit h;

	policy(0);
	for (int i = 0; i < 3; i++)
		cr_assert(in(&s));
	cr_assert(hits_of(KEY_UDP, &h));
	cr_assert_eq(h.hits, 3);
	cr_assert_eq(h.packets, 3);
	cr_assert_gt(h.bytes, 3 * 42 - 1);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_ACCEPT_UNTRACKED), 3);
}

/* The flow-log record of src to ME4:dport (as flowlog reads it). */
static bool record(const char *src, __u8 proto, __u16 sport, __u16 dport,
		   __u8 reason, struct sg_reject_val *v)
{
	struct sg_reject_key k = {.slot = 0,
				  .dir = SG_DIR_IN,
				  .family = 4,
				  .proto = proto,
				  .reason = reason,
				  .sport = htons(sport),
				  .dport = htons(dport)};

	inet_pton(AF_INET, src, k.saddr);
	inet_pton(AF_INET, ME4, k.daddr);
	return reject_view_get(skel, &k, v);
}

Test(hits, records_carry_reason_and_rule)
{
	struct pkt_spec s = tcp(STRANGER4, ME4, 40000, 22, 0x02);
	struct pkt_spec u = {.src = PEER4,
			     .dst = ME4,
			     .proto = 17,
			     .sport = 5000,
			     .dport = 53};
	struct sg_reject_val v;

	policy(0);
	cr_assert_not(in(&s));
	cr_assert(record(STRANGER4, 6, 40000, 22, SG_CNT_DROP_NO_RULE, &v));
	cr_assert_eq(v.packets, 1);
	cr_assert_eq(v.tcp_flags, 0x02);
	cr_assert(in(&u));
	cr_assert(record(PEER4, 17, 5000, 53, SG_CNT_ACCEPT_UNTRACKED, &v));
	cr_assert_eq(v.rule_key, KEY_UDP);
}

Test(hits, audit_passes_and_counts)
{
	struct pkt_spec s = tcp(STRANGER4, ME4, 40000, 22, 0x02);
	struct sg_reject_val v;
	struct sg_rule_hit h;

	policy(SG_INST_AUDIT);
	cr_assert(in(&s), "audited: a no-rule packet passes");
	cr_assert(in(&s));
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_AUDIT_WOULD_DROP), 2);
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_DROP_NO_RULE), 0);
	cr_assert(record(STRANGER4, 6, 40000, 22, SG_CNT_AUDIT_WOULD_DROP, &v));
	cr_assert_eq(v.packets, 2);
	/* Not tracked: nothing remembers it. */
	cr_assert_not(hits_of(KEY_SSH, &h));
	/* Allowed traffic is unchanged. */
	s.src = PEER4;
	cr_assert(in(&s));
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_ACCEPT_NEW), 1);
}

/* An ICMPv6 frame of type t from src with hop limit hl. */
static int mld(const char *src, __u8 t, __u8 hl)
{
	struct pkt_spec s = {
		.src = src, .dst = "ff02::16", .proto = 58, .icmp_type = t};
	__u8 buf[PKT_MAX];
	size_t n = pkt_build(&s, buf);

	buf[pkt_l3_off(&s) + 7] = hl;
	return run_frame(skel->progs.sg_xdp, buf, n) == XDP_PASS;
}

Test(hits, mld_passes_like_nd)
{
	__u8 types[] = {130, 131, 132, 143};

	policy(0);
	for (size_t i = 0; i < sizeof(types); i++) {
		cr_assert(mld("fe80::1", types[i], 1), "type %u", types[i]);
		cr_assert_not(mld("fe80::1", types[i], 2),
			      "hop limit 2, type %u", types[i]);
		cr_assert_not(mld("2001:db8::7", types[i], 1),
			      "global source, type %u", types[i]);
	}
	cr_assert_eq(counter(SG_DIR_IN, SG_CNT_PASS_INFRA), 4);
	/* Other ICMPv6 from link-local is still judged by the rules. */
	cr_assert_not(mld("fe80::1", 128, 1));
}

Test(hits, gc_counts_a_collected_flow_for_its_rule, .timeout = 20)
{
	struct pkt_spec s = {.src = PEER4,
			     .dst = ME4,
			     .proto = 17,
			     .sport = 5001,
			     .dport = 54};
	struct sg_rule_hit h;
	__u64 t0;
	int i;

	policy(0);
	short_udp(1);
	t0 = mono_ns();
	for (i = 0; i < 4; i++)
		cr_assert(in(&s));
	s.sport = 5002; /* a second flow of the same rule */
	cr_assert(in(&s));
	cr_assert_not(hits_of(KEY_UDP_TRACKED, &h));
	/* Idle 1 s, then the GC (every second) collects both and counts. */
	for (i = 0; i < 100 && h.hits < 2; i++) {
		usleep(100000);
		hits_of(KEY_UDP_TRACKED, &h);
	}
	cr_assert_eq(h.hits, 2, "hits %llu", (unsigned long long)h.hits);
	cr_assert_eq(h.packets, 5);
	cr_assert_gt(h.bytes, 5 * 42 - 1);
	cr_assert_geq(h.last_ns + 50000000ULL, t0);
	cr_assert_leq(h.last_ns, mono_ns());
}
