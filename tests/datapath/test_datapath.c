// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Datapath tests: the real sg_xdp / sg_tc programs, loaded unpinned, with
 * policy written straight into the maps (no compiler involved), run on
 * crafted frames with BPF_PROG_TEST_RUN. Each test asserts the verdict,
 * the counter it bumped and the conntrack side effects. Needs root.
 *
 * Instance view used throughout (NIC mode unless a test says otherwise):
 *   the instance is 10.0.0.1 / 2001:db8::1, XDP = inbound, TC = outbound.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <errno.h>
#include <stdbool.h>
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

#define ME4	  "10.0.0.1"
#define ME6	  "2001:db8::1"
#define PEER4	  "192.0.2.10" /* in the allowed class */
#define PEER6	  "2001:db8:ff::10"
#define STRANGER4 "198.51.100.7" /* matches no class */
#define ROUTER4	  "198.51.100.1"

#define POLICY	    7
#define CLASS_PEER  1 /* inbound from 192.0.2.0/24 */
#define CLASS_PEER6 2 /* inbound from 2001:db8:ff::/48 */
#define CLASS_OUT   3 /* outbound to 203.0.113.0/24 */

#define PASS 1
#define DROP 0

static struct sgctl_bpf *skel, *skel2;
static int ncpus;

/* ---- loading ---- */

static struct sgctl_bpf *open_prog(__u32 slot, __u32 host_side,
				   struct sgctl_bpf *share)
{
	struct sgctl_bpf *s;
	struct bpf_map *m, *o;
	int err;

	s = sgctl_bpf__open();
	cr_assert_not_null(s, "open skeleton");
	/* Never touch the real pinned state. */
	bpf_object__for_each_map(m, s->obj)
	{
		bpf_map__set_pin_path(m, NULL);
		/* Share the pinned-style maps, never another copy's .rodata. */
		if (share && !bpf_map__is_internal(m)) {
			o = bpf_object__find_map_by_name(share->obj,
							 bpf_map__name(m));
			if (o && bpf_map__fd(o) >= 0)
				bpf_map__reuse_fd(m, bpf_map__fd(o));
		}
	}
	s->rodata->sg_slot = slot;
	s->rodata->sg_host_side = host_side;
	err = sgctl_bpf__load(s);
	cr_assert_eq(err, 0, "load: %s", strerror(-err));
	return s;
}

static void teardown(void)
{
	sgctl_bpf__destroy(skel2);
	sgctl_bpf__destroy(skel);
	skel = skel2 = NULL;
}

static int mapfd(struct bpf_map *m)
{
	return bpf_map__fd(m);
}

/* ---- policy writers ---- */

static void set_active(__u32 gen)
{
	struct sg_active a = {.gen = gen};
	__u32 k = 0;

	cr_assert_eq(
		bpf_map_update_elem(mapfd(skel->maps.sg_active), &k, &a, 0), 0);
}

static void set_inst(__u32 gen, __u32 slot, __u32 flags, __u32 ct_max)
{
	struct sg_inst in = {
		.flags = SG_INST_PRESENT | flags,
		.policy = POLICY,
		.tcp_established = 432000,
		.udp_stream = 180,
		.udp = 30,
		.ct_max = ct_max,
	};
	__u32 k = gen * SG_MAX_INSTANCES + slot;

	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_inst), &k, &in, 0),
		     0);
}

static void parse_addr(const char *s, __u8 addr[16], int *v6)
{
	memset(addr, 0, 16);
	*v6 = strchr(s, ':') != NULL;
	cr_assert_eq(inet_pton(*v6 ? AF_INET6 : AF_INET, s, addr), 1, "%s", s);
}

static void add_class(__u32 gen, __u32 dir, const char *addr, int plen,
		      __u32 class_id)
{
	struct sg_class_key k = {};
	struct sg_class_val v = {};
	int v6;

	parse_addr(addr, k.addr, &v6);
	k.prefixlen = 32 + plen;
	k.scope = SG_SCOPE(gen, dir, v6, POLICY);
	v.class_id = SG_GEN_BIT(gen) | class_id;
	v.prefixlen = plen;
	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_class), &k, &v, 0),
		     0);
}

static void put_rule(__u32 gen, __u32 class_id, __u32 plen, __u8 proto,
		     __u16 port, __u32 flags)
{
	struct sg_rule_key k = {
		.prefixlen = plen,
		.class_id = SG_GEN_BIT(gen) | class_id,
		.proto = proto,
		.port = htons(port),
	};
	struct sg_rule_val v = {.rule_ref = 1, .flags = flags};

	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_rule), &k, &v, 0),
		     0);
}

/* A port range as the loader writes it: a few masked prefixes. */
static void add_ports(__u32 gen, __u32 class_id, __u8 proto, __u32 lo, __u32 hi,
		      __u32 flags)
{
	while (lo <= hi) {
		int bits = 0;

		while (bits < 16 && !(lo & ((1u << (bits + 1)) - 1)) &&
		       lo + (1u << (bits + 1)) - 1 <= hi)
			bits++;
		put_rule(gen, class_id, SG_RULE_PLEN_PROTO + 16 - bits, proto,
			 lo, flags);
		lo += 1u << bits;
	}
}

static void add_icmp(__u32 gen, __u32 class_id, __u8 proto, int type)
{
	if (type < 0)
		put_rule(gen, class_id, SG_RULE_PLEN_PROTO, proto, 0, 0);
	else
		put_rule(gen, class_id, SG_RULE_PLEN_PROTO + 8, proto,
			 type << 8, 0);
}

/*
 * The standard instance: slot 0, gen 0. Inbound from 192.0.2.0/24: tcp 22,
 * tcp 8080-8089, udp 53, icmp echo, proto 47; from 2001:db8:ff::/48: tcp 22,
 * icmpv6 echo. Outbound to 203.0.113.0/24: all traffic. Nothing else, so
 * replies only pass through conntrack.
 */
static void std_policy(__u32 flags, __u32 ct_max)
{
	set_active(0);
	set_inst(0, 0, flags, ct_max);
	add_class(0, SG_DIR_IN, "192.0.2.0", 24, CLASS_PEER);
	add_class(0, SG_DIR_IN, "2001:db8:ff::", 48, CLASS_PEER6);
	add_class(0, SG_DIR_OUT, "203.0.113.0", 24, CLASS_OUT);
	add_ports(0, CLASS_PEER, 6, 22, 22, 0);
	add_ports(0, CLASS_PEER, 6, 8080, 8089, 0);
	add_ports(0, CLASS_PEER, 17, 53, 53, 0);
	add_icmp(0, CLASS_PEER, 1, 8);
	put_rule(0, CLASS_PEER, SG_RULE_PLEN_PROTO, 47, 0, 0);
	add_ports(0, CLASS_PEER6, 6, 22, 22, 0);
	add_icmp(0, CLASS_PEER6, 58, 128);
	put_rule(0, CLASS_OUT, SG_RULE_PLEN_ALL, 0, 0, 0);
}

static void setup_std(void)
{
	skel = open_prog(0, 0, NULL);
	std_policy(0, 1024);
}

/* ---- running packets ---- */

static int run(struct bpf_program *prog, const void *buf, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (__u32)len, .repeat = 1);
	int err;

	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &o);
	cr_assert_eq(err, 0, "test_run: %s", strerror(errno));
	return o.retval;
}

static int xdp_raw(struct sgctl_bpf *s, const void *buf, size_t len)
{
	int r = run(s->progs.sg_xdp, buf, len);

	cr_assert(r == XDP_PASS || r == XDP_DROP, "xdp returned %d", r);
	return r == XDP_PASS;
}

static int tc_raw(struct sgctl_bpf *s, const void *buf, size_t len)
{
	int r = run(s->progs.sg_tc, buf, len);

	cr_assert(r == 0 || r == 2, "tc returned %d", r);
	return r == 0;
}

/* NIC mode: XDP sees inbound, TC outbound. */
static int in(const struct pkt_spec *s)
{
	__u8 buf[PKT_MAX];

	return xdp_raw(skel, buf, pkt_build(s, buf));
}

static int out(const struct pkt_spec *s)
{
	__u8 buf[PKT_MAX];

	return tc_raw(skel, buf, pkt_build(s, buf));
}

static __u64 counter_of(struct sgctl_bpf *s, __u32 slot, __u32 dir, __u32 cnt,
			__u64 *bytes)
{
	struct sg_counter_val v[ncpus];
	__u32 k = SG_STATS_INDEX(slot, dir, cnt);
	__u64 p = 0, b = 0;
	int i;

	cr_assert_eq(bpf_map_lookup_elem(mapfd(s->maps.sg_stats), &k, v), 0);
	for (i = 0; i < ncpus; i++) {
		p += v[i].packets;
		b += v[i].bytes;
	}
	if (bytes)
		*bytes = b;
	return p;
}

static __u64 cnt(__u32 dir, __u32 c)
{
	return counter_of(skel, 0, dir, c, NULL);
}

/* Total of every counter of one slot and direction. */
static __u64 cnt_all(__u32 slot, __u32 dir)
{
	__u64 t = 0;
	__u32 c;

	for (c = 0; c < SG_NCOUNTERS; c++)
		t += counter_of(skel, slot, dir, c, NULL);
	return t;
}

/* Asserts that exactly one packet was counted, under `c`. */
#define expect(pass_, dir_, c_, call_)                                         \
	do {                                                                   \
		__u64 before_ = cnt(dir_, c_), all_ = cnt_all(0, dir_);        \
		cr_assert_eq(call_, pass_, "verdict of %s", #call_);           \
		cr_assert_eq(cnt(dir_, c_), before_ + 1, "counter %s of %s",   \
			     #c_, #call_);                                     \
		cr_assert_eq(cnt_all(0, dir_), all_ + 1,                       \
			     "one counter only for %s", #call_);               \
	} while (0)

/* ---- conntrack inspection ---- */

static int ct_entries(void)
{
	return ct_view_count(skel, -1);
}

static void ct_key(struct sg_ct_key *k, __u32 slot, __u8 proto,
		   const char *laddr, __u16 lport, const char *raddr,
		   __u16 rport)
{
	int v6;

	memset(k, 0, sizeof(*k));
	k->slot = slot;
	k->proto = proto;
	parse_addr(laddr, k->laddr, &v6);
	parse_addr(raddr, k->raddr, &v6);
	k->family = v6 ? 6 : 4;
	k->lport = htons(lport);
	k->rport = htons(rport);
}

static bool ct_get(const struct sg_ct_key *k, struct sg_ct_val *v)
{
	return ct_view_get(skel, k, v);
}

static __s64 ct_used(__u32 slot)
{
	__s64 v = -1;

	cr_assert_eq(
		bpf_map_lookup_elem(mapfd(skel->maps.sg_ct_count), &slot, &v),
		0);
	return v;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- packet shorthands ---- */

static struct pkt_spec tcp_in(const char *src, __u16 sport, __u16 dport,
			      __u8 flags)
{
	struct pkt_spec s = {.src = src,
			     .dst = strchr(src, ':') ? ME6 : ME4,
			     .proto = 6,
			     .sport = sport,
			     .dport = dport,
			     .tcp_flags = flags};
	return s;
}

static struct pkt_spec tcp_out(const char *dst, __u16 sport, __u16 dport,
			       __u8 flags)
{
	struct pkt_spec s = {.src = strchr(dst, ':') ? ME6 : ME4,
			     .dst = dst,
			     .proto = 6,
			     .sport = sport,
			     .dport = dport,
			     .tcp_flags = flags};
	return s;
}

static struct pkt_spec udp_in(const char *src, __u16 sport, __u16 dport)
{
	struct pkt_spec s = {.src = src,
			     .dst = strchr(src, ':') ? ME6 : ME4,
			     .proto = 17,
			     .sport = sport,
			     .dport = dport};
	return s;
}

static struct pkt_spec udp_out(const char *dst, __u16 sport, __u16 dport)
{
	struct pkt_spec s = {.src = strchr(dst, ':') ? ME6 : ME4,
			     .dst = dst,
			     .proto = 17,
			     .sport = sport,
			     .dport = dport};
	return s;
}

#define SYN 0x02
#define FIN 0x01
#define RST 0x04
#define ACK 0x10
#define IN  SG_DIR_IN
#define OUT SG_DIR_OUT

TestSuite(dp, .fini = teardown);

static void __attribute__((constructor)) init_cpus(void)
{
	ncpus = libbpf_num_possible_cpus();
}

/* ---- protocols allowed and denied ---- */

Test(dp, tcp_allow_deny)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s = tcp_in(PEER4, 40001, 23, SYN);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	s = tcp_in(STRANGER4, 40002, 22, SYN);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	cr_assert_eq(ct_entries(), 1);
}

Test(dp, counts_bytes)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);
	__u8 buf[PKT_MAX];
	size_t n = pkt_build(&s, buf);
	__u64 b;

	cr_assert_eq(xdp_raw(skel, buf, n), PASS);
	cr_assert_eq(counter_of(skel, 0, IN, SG_CNT_ACCEPT_NEW, &b), 1);
	cr_assert_eq(b, n);
}

Test(dp, port_edges)
{
	setup_std();
	struct pkt_spec s;
	__u16 p;

	for (p = 8078; p <= 8091; p++) {
		s = tcp_in(PEER4, 1000 + p, p, SYN);
		expect(p >= 8080 && p <= 8089 ? PASS : DROP, IN,
		       p >= 8080 && p <= 8089 ? SG_CNT_ACCEPT_NEW
					      : SG_CNT_DROP_NO_RULE,
		       in(&s));
	}
	/* The source port never matters. */
	s = tcp_in(PEER4, 22, 21, SYN);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

Test(dp, port_extremes)
{
	skel = open_prog(0, 0, NULL);
	set_active(0);
	set_inst(0, 0, 0, 1024);
	add_class(0, IN, "0.0.0.0", 0, CLASS_PEER);
	add_ports(0, CLASS_PEER, 17, 0, 0, 0);
	add_ports(0, CLASS_PEER, 17, 65535, 65535, 0);
	struct pkt_spec s = udp_in(PEER4, 1, 0);

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s = udp_in(PEER4, 1, 65535);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s = udp_in(PEER4, 1, 1);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	s = udp_in(PEER4, 1, 65534);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

/* ---- the exact-match fronts, as the loader writes them ---- */

#define CLASS_EXACT 4

static void bloom_add(__u32 gen, __u64 h)
{
	__u32 k = sg_bloom_word(gen, h);
	__u64 w = 0;

	cr_assert_eq(bpf_map_lookup_elem(mapfd(skel->maps.sg_exact_bloom), &k,
					 &w),
		     0);
	w |= sg_bloom_bits(h);
	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_exact_bloom), &k,
					 &w, 0),
		     0);
}

static void add_exact_class(__u32 gen, __u32 dir, const char *addr,
			    __u32 class_id, __u16 flags)
{
	struct sg_class_exact_key k = {};
	struct sg_class_val v = {.class_id = SG_GEN_BIT(gen) | class_id,
				 .flags = flags};
	int v6;

	parse_addr(addr, k.addr, &v6);
	k.scope = SG_SCOPE(gen, dir, v6, POLICY);
	v.prefixlen = v6 ? 128 : 32;
	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_class_exact), &k,
					 &v, 0),
		     0);
	bloom_add(gen, sg_class_exact_hash(&k));
}

static void add_exact_rule(__u32 gen, __u32 class_id, __u8 proto, __u16 port)
{
	struct sg_rule_exact_key k = {.class_id = SG_GEN_BIT(gen) | class_id,
				      .proto = proto,
				      .port = htons(port)};
	struct sg_rule_val v = {.rule_ref = 2};

	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_rule_exact), &k,
					 &v, 0),
		     0);
	bloom_add(gen, sg_rule_exact_hash(&k));
}

/*
 * A /32 only in sg_class_exact, its one port only in sg_rule_exact: found
 * when the flags say so, and final for the class (EXACT_ONLY) even where
 * the trie's /24 allows more; other sources fall back to the trie unless
 * the scope is EXACT_ONLY too. Entries in the tries alone (every other
 * test) need no flag.
 */
Test(dp, exact_maps)
{
	setup_std();
	set_inst(0, 0, SG_INST_EXACT(IN, 0), 1024);
	add_exact_class(0, IN, "192.0.2.99", CLASS_EXACT,
			SG_CLASS_EXACT_PORTS | SG_CLASS_EXACT_ONLY);
	add_exact_rule(0, CLASS_EXACT, 6, 443);
	struct pkt_spec s = tcp_in("192.0.2.99", 40000, 443, SYN);

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s = tcp_in("192.0.2.99", 40001, 22, SYN);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	s = tcp_in(PEER4, 40002, 22, SYN);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s = tcp_in(PEER4, 40003, 443, SYN);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));

	/* The scope's exact map is all there is: the /24 is not read. */
	set_inst(0, 0, SG_INST_EXACT(IN, 0) | SG_INST_EXACT_ONLY(IN, 0), 1024);
	s = tcp_in(PEER4, 40004, 22, SYN);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	s = tcp_in("192.0.2.99", 40005, 443, SYN);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	/* IPv6 is another scope, without the flags: the trie decides. */
	s = tcp_in(PEER6, 40006, 22, SYN);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
}

Test(dp, udp_allow_deny)
{
	setup_std();
	struct pkt_spec s = udp_in(PEER4, 5353, 53);

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s = udp_in(PEER4, 5353, 54);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

Test(dp, icmp_echo)
{
	setup_std();
	struct pkt_spec s = {.src = PEER4,
			     .dst = ME4,
			     .proto = 1,
			     .icmp_type = 8,
			     .icmp_id = 77};
	struct sg_ct_key k;
	struct sg_ct_val v;

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	ct_key(&k, 0, 1, ME4, 77, PEER4, 0);
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_ICMP);
	cr_assert_eq(v.timeout_s, SG_CT_TIMEOUT_ICMP);
	/* The reply needs no outbound rule. */
	struct pkt_spec r = {.src = ME4,
			     .dst = PEER4,
			     .proto = 1,
			     .icmp_type = 0,
			     .icmp_id = 77};
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&r));
	/* A reply with another id is not part of it. */
	r.icmp_id = 78;
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&r));
	/* Timestamp request: no rule for type 13. */
	s.icmp_type = 13;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	s.icmp_type = 8;
	s.src = STRANGER4;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

Test(dp, icmpv6_echo)
{
	setup_std();
	struct pkt_spec s = {.src = PEER6,
			     .dst = ME6,
			     .proto = 58,
			     .icmp_type = 128,
			     .icmp_id = 5};
	struct sg_ct_key k;
	struct sg_ct_val v;

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	ct_key(&k, 0, 58, ME6, 5, PEER6, 0);
	cr_assert(ct_get(&k, &v));
	struct pkt_spec r = {.src = ME6,
			     .dst = PEER6,
			     .proto = 58,
			     .icmp_type = 129,
			     .icmp_id = 5};
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&r));
	s.src = "2001:db8:fe::1";
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	/* An ICMP (v4) echo rule does not open ICMPv6. */
	s.src = PEER6;
	s.icmp_type = 1; /* unreachable, unrelated */
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

Test(dp, other_protocol)
{
	setup_std();
	struct pkt_spec s = {.src = PEER4, .dst = ME4, .proto = 47};
	struct sg_ct_key k;
	struct sg_ct_val v;

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	ct_key(&k, 0, 47, ME4, 0, PEER4, 0);
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_OTHER);
	cr_assert_eq(v.timeout_s, SG_CT_TIMEOUT_OTHER);
	struct pkt_spec r = {.src = ME4, .dst = PEER4, .proto = 47};
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&r));
	s.proto = 50;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

Test(dp, ipv6_tcp)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER6, 40000, 22, SYN);

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s = tcp_in(PEER6, 40000, 80, SYN);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

Test(dp, outbound_all_traffic)
{
	setup_std();
	struct pkt_spec s = tcp_out("203.0.113.5", 40000, 443, SYN);

	expect(PASS, OUT, SG_CNT_ACCEPT_NEW, out(&s));
	s = tcp_out("198.51.100.5", 40000, 443, SYN);
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&s));
	s = udp_out("203.0.113.5", 5000, 9999);
	expect(PASS, OUT, SG_CNT_ACCEPT_NEW, out(&s));
}

/* ---- layer 2 ---- */

Test(dp, vlan_and_qinq)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);

	s.vlans = 1;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s.vlans = 2;
	s.sport = 40001;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s.dport = 23;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	/* The rules apply to the inner packet on egress too. */
	s = tcp_out("198.51.100.5", 1, 2, SYN);
	s.vlans = 2;
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&s));
}

Test(dp, three_tags_refused)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);
	__u8 buf[PKT_MAX], b3[PKT_MAX];
	size_t n;

	s.vlans = 2;
	n = pkt_build(&s, buf);
	/* Insert a third tag after the second one. */
	memcpy(b3, buf, 20);
	pkt_put16(b3 + 20, 0x8100);
	pkt_put16(b3 + 22, 7);
	memcpy(b3 + 24, buf + 20, n - 20);
	expect(DROP, IN, SG_CNT_DROP_MALFORMED, xdp_raw(skel, b3, n + 4));
}

Test(dp, infra_passes)
{
	setup_std();
	__u8 buf[PKT_MAX];
	struct pkt_spec arp = {.src = PEER4, .dst = ME4, .ethertype = 0x0806};

	struct sg_inst none = {};
	__u32 k0 = 0;

	/* No instance is even needed for non-IP frames. */
	cr_assert_eq(
		bpf_map_update_elem(mapfd(skel->maps.sg_inst), &k0, &none, 0),
		0);
	expect(PASS, IN, SG_CNT_PASS_INFRA,
	       xdp_raw(skel, buf, pkt_build(&arp, buf)));
	expect(PASS, OUT, SG_CNT_PASS_INFRA,
	       tc_raw(skel, buf, pkt_build(&arp, buf)));
	set_inst(0, 0, 0, 1024);

	struct pkt_spec ns = {.src = "fe80::1",
			      .dst = "ff02::1:ff00:1",
			      .proto = 58,
			      .icmp_type = 135};
	__u8 t;

	for (t = 133; t <= 137; t++) {
		ns.icmp_type = t;
		expect(PASS, IN, SG_CNT_PASS_INFRA, in(&ns));
		expect(PASS, OUT, SG_CNT_PASS_INFRA, out(&ns));
	}
	ns.icmp_type = 138;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&ns));

	struct pkt_spec dhcp = {.src = "0.0.0.0",
				.dst = "255.255.255.255",
				.proto = 17,
				.sport = 68,
				.dport = 67};
	expect(PASS, OUT, SG_CNT_PASS_INFRA, out(&dhcp));
	dhcp.sport = 67;
	dhcp.dport = 68;
	expect(PASS, IN, SG_CNT_PASS_INFRA, in(&dhcp));
	/* A DHCP source port does not open other ports. */
	dhcp.src = STRANGER4;
	dhcp.dst = ME4;
	dhcp.dport = 9999;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&dhcp));

	struct pkt_spec d6 = {.src = "fe80::1",
			      .dst = "ff02::1:2",
			      .proto = 17,
			      .sport = 546,
			      .dport = 547};
	expect(PASS, OUT, SG_CNT_PASS_INFRA, out(&d6));
	d6.sport = 547;
	d6.dport = 546;
	expect(PASS, IN, SG_CNT_PASS_INFRA, in(&d6));
	/* DHCPv4 ports mean nothing over IPv6. */
	d6.sport = 67;
	d6.dport = 68;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&d6));
}

Test(dp, no_instance)
{
	skel = open_prog(0, 0, NULL);
	set_active(0);
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);

	expect(DROP, IN, SG_CNT_DROP_NO_INSTANCE, in(&s));
	/* Present only in the inactive generation. */
	set_inst(1, 0, 0, 10);
	expect(DROP, IN, SG_CNT_DROP_NO_INSTANCE, in(&s));
}

Test(dp, generation_flip)
{
	setup_std();
	/* Generation 1 allows tcp 23 only. */
	set_inst(1, 0, 0, 1024);
	add_class(1, IN, "192.0.2.0", 24, CLASS_PEER);
	add_ports(1, CLASS_PEER, 6, 23, 23, 0);
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);
	struct pkt_spec t = tcp_in(PEER4, 40001, 23, SYN);

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&t));
	set_active(1);
	/* Tracked flows survive a rule removal; new flows see the new rules. */
	s.tcp_flags = ACK;
	expect(PASS, IN, SG_CNT_ACCEPT_ESTABLISHED, in(&s));
	s.sport = 40002;
	s.tcp_flags = SYN;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	t.sport = 40003;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&t));
}

/* ---- IPv4 header checks ---- */

Test(dp, ipv4_options)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);

	s.ip_opts = 8;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s.ip_opts = 40;
	s.sport = 40001;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s.dport = 23;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

static void expect_malformed_in(__u8 *buf, size_t n)
{
	expect(DROP, IN, SG_CNT_DROP_MALFORMED, xdp_raw(skel, buf, n));
	expect(DROP, OUT, SG_CNT_DROP_MALFORMED, tc_raw(skel, buf, n));
}

Test(dp, ipv4_malformed)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);
	__u8 buf[PKT_MAX];
	size_t n;

	/* IHL below 5. */
	n = pkt_build(&s, buf);
	buf[14] = 0x44;
	expect_malformed_in(buf, n);
	/* IHL beyond the frame. */
	n = pkt_build(&s, buf);
	buf[14] = 0x4f;
	expect_malformed_in(buf, n);
	/* Total length longer than the frame. */
	n = pkt_build(&s, buf);
	pkt_put16(buf + 16, n - 14 + 1);
	expect_malformed_in(buf, n);
	/* Total length shorter than the header. */
	n = pkt_build(&s, buf);
	pkt_put16(buf + 16, 19);
	expect_malformed_in(buf, n);
	/* Version is not 4. */
	n = pkt_build(&s, buf);
	buf[14] = 0x65;
	expect_malformed_in(buf, n);
	/* Frame ends inside the IP header. */
	n = pkt_build(&s, buf);
	expect(DROP, IN, SG_CNT_DROP_MALFORMED, xdp_raw(skel, buf, 14 + 19));
	/* Frame ends inside a VLAN tag (test_run wants 14 bytes at least). */
	s.vlans = 1;
	n = pkt_build(&s, buf);
	expect(DROP, IN, SG_CNT_DROP_MALFORMED, xdp_raw(skel, buf, 17));
	/* Nothing was tracked. */
	cr_assert_eq(ct_entries(), 0);
}

Test(dp, total_length_shorter_than_frame)
{
	setup_std();
	/* Padding after the datagram (Ethernet minimum) is fine... */
	struct pkt_spec s = udp_in(PEER4, 5353, 53);
	__u8 buf[PKT_MAX];
	size_t n = pkt_build(&s, buf);

	cr_assert_eq(n, 60);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, xdp_raw(skel, buf, n));
	/* ...but a total length that cuts the UDP header is not. */
	pkt_put16(buf + 16, 20 + 7);
	expect_malformed_in(buf, n);
}

Test(dp, l4_malformed)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);
	__u8 buf[PKT_MAX];
	size_t n;

	/* TCP: data offset below 5, beyond the datagram, header cut short. */
	n = pkt_build(&s, buf);
	buf[14 + 20 + 12] = 4 << 4;
	expect_malformed_in(buf, n);
	n = pkt_build(&s, buf);
	buf[14 + 20 + 12] = 6 << 4;
	expect_malformed_in(buf, n);
	n = pkt_build(&s, buf);
	pkt_put16(buf + 16, 20 + 19);
	expect_malformed_in(buf, n);
	expect(DROP, IN, SG_CNT_DROP_MALFORMED,
	       xdp_raw(skel, buf, 14 + 20 + 19));
	/* UDP shorter than 8. */
	s = udp_in(PEER4, 5353, 53);
	n = pkt_build(&s, buf);
	expect(DROP, IN, SG_CNT_DROP_MALFORMED,
	       xdp_raw(skel, buf, 14 + 20 + 7));
	/* ICMP shorter than 8. */
	s = (struct pkt_spec){
		.src = PEER4, .dst = ME4, .proto = 1, .icmp_type = 8};
	n = pkt_build(&s, buf);
	pkt_put16(buf + 16, 20 + 4);
	expect_malformed_in(buf, n);
	/* ICMPv6 shorter than 8. */
	s = (struct pkt_spec){
		.src = PEER6, .dst = ME6, .proto = 58, .icmp_type = 128};
	n = pkt_build(&s, buf);
	pkt_put16(buf + 18, 4);
	expect_malformed_in(buf, n);
	cr_assert_eq(ct_entries(), 0);
}

/* ---- IPv6 ---- */

Test(dp, ipv6_malformed)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER6, 40000, 22, SYN);
	__u8 buf[PKT_MAX];
	size_t n;

	/* Payload length beyond the frame. */
	n = pkt_build(&s, buf);
	pkt_put16(buf + 18, n - 54 + 1);
	expect_malformed_in(buf, n);
	/* Frame ends inside the fixed header. */
	n = pkt_build(&s, buf);
	expect(DROP, IN, SG_CNT_DROP_MALFORMED, xdp_raw(skel, buf, 14 + 39));
	/* An extension header that runs past the payload. */
	s.v6_ext = 1;
	n = pkt_build(&s, buf);
	buf[54 + 1] = 10; /* 88 bytes */
	expect_malformed_in(buf, n);
	/* Payload cut inside the extension header. */
	n = pkt_build(&s, buf);
	pkt_put16(buf + 18, 4);
	expect_malformed_in(buf, n);
}

Test(dp, ipv6_ext_chain)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER6, 40000, 22, SYN);

	s.v6_ext = 2;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s.v6_ext = 8;
	s.sport = 40001;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s.v6_ext = 9;
	s.sport = 40002;
	expect(DROP, IN, SG_CNT_DROP_IPV6_CHAIN, in(&s));
	expect(DROP, OUT, SG_CNT_DROP_IPV6_CHAIN, out(&s));
	s.v6_ext = 3;
	s.dport = 80;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
}

Test(dp, ipv6_ah_and_hbh)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER6, 40000, 22, SYN);
	__u8 buf[PKT_MAX], b2[PKT_MAX];
	size_t n = pkt_build(&s, buf);

	/* Hop-by-hop (8 bytes) then AH (16 bytes: hdrlen 2 in 4-byte units). */
	memcpy(b2, buf, 54);
	b2[20] = 0;
	memset(b2 + 54, 0, 24);
	b2[54] = 51;
	b2[54 + 2] = 1;
	b2[54 + 3] = 4;
	b2[62] = 6;
	b2[63] = 2;
	memcpy(b2 + 78, buf + 54, n - 54);
	pkt_put16(b2 + 18, 24 + 20);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, xdp_raw(skel, b2, n + 24));
}

/* ---- fragments ---- */

Test(dp, ipv4_fragments)
{
	setup_std();
	struct pkt_spec s = udp_in(PEER4, 5353, 53);

	s.frag = PKT_FIRST;
	s.frag_id = 4242;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s.frag = PKT_LATER;
	expect(PASS, IN, SG_CNT_ACCEPT_FRAGMENT, in(&s));
	expect(PASS, IN, SG_CNT_ACCEPT_FRAGMENT, in(&s));
	/* Another datagram's later fragment, with no first seen. */
	s.frag_id = 4243;
	expect(DROP, IN, SG_CNT_DROP_FRAGMENT, in(&s));
	/* A first fragment the rules refuse lets none of its tail through. */
	s = udp_in(PEER4, 5353, 54);
	s.frag = PKT_FIRST;
	s.frag_id = 4244;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	s.frag = PKT_LATER;
	expect(DROP, IN, SG_CNT_DROP_FRAGMENT, in(&s));
	/* The same id the other way round is another datagram. */
	s = udp_out(PEER4, 53, 5353);
	s.frag = PKT_LATER;
	s.frag_id = 4242;
	expect(DROP, OUT, SG_CNT_DROP_FRAGMENT, out(&s));
}

Test(dp, first_fragment_too_short)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);
	__u8 buf[PKT_MAX];
	size_t n;

	s.frag = PKT_FIRST;
	n = pkt_build(&s, buf);
	pkt_put16(buf + 16, 20 + 8); /* 8 bytes of TCP */
	expect(DROP, IN, SG_CNT_DROP_MALFORMED, xdp_raw(skel, buf, n));
}

Test(dp, ipv6_fragments)
{
	setup_std();
	struct pkt_spec s = tcp_in(PEER6, 40000, 22, SYN);

	s.frag = PKT_FIRST;
	s.frag_id = 0xdeadbeef;
	s.v6_ext = 1;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	s.frag = PKT_LATER;
	s.v6_ext = 0;
	expect(PASS, IN, SG_CNT_ACCEPT_FRAGMENT, in(&s));
	s.frag_id = 1;
	expect(DROP, IN, SG_CNT_DROP_FRAGMENT, in(&s));
}

/* ---- conntrack ---- */

Test(dp, tcp_lifecycle_fin)
{
	setup_std();
	struct pkt_spec i = tcp_in(PEER4, 40000, 22, SYN);
	struct pkt_spec o = tcp_out(PEER4, 22, 40000, SYN | ACK);
	struct sg_ct_key k;
	struct sg_ct_val v;

	ct_key(&k, 0, 6, ME4, 22, PEER4, 40000);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&i));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_OPENING);
	cr_assert_eq(v.timeout_s, SG_CT_TIMEOUT_TCP_OPENING);
	cr_assert_eq(v.origin, IN);
	cr_assert_eq(v.packets[IN], 1);
	cr_assert_eq(ct_used(0), 1);
	/* SYN retransmit: still opening. */
	expect(PASS, IN, SG_CNT_ACCEPT_ESTABLISHED, in(&i));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_OPENING);
	/* SYN-ACK goes out with no outbound rule: established. */
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&o));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_ESTABLISHED);
	cr_assert_eq(v.timeout_s, 432000);
	cr_assert(v.flags & SG_CT_SEEN_REPLY);
	cr_assert_eq(v.packets[OUT], 1);
	cr_assert_eq(v.packets[IN], 2);
	i.tcp_flags = ACK;
	expect(PASS, IN, SG_CNT_ACCEPT_ESTABLISHED, in(&i));
	o.tcp_flags = ACK;
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&o));
	/* FIN one way: not closing yet. */
	i.tcp_flags = FIN | ACK;
	expect(PASS, IN, SG_CNT_ACCEPT_ESTABLISHED, in(&i));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_ESTABLISHED);
	o.tcp_flags = FIN | ACK;
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&o));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_CLOSING);
	cr_assert_eq(v.timeout_s, SG_CT_TIMEOUT_TCP_CLOSING);
	i.tcp_flags = ACK;
	expect(PASS, IN, SG_CNT_ACCEPT_ESTABLISHED, in(&i));
	/* Unrelated port of the same peer is a new flow and has no rule. */
	o.sport = 23;
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&o));
	cr_assert_eq(ct_entries(), 1);
	cr_assert_eq(ct_used(0), 1);
}

Test(dp, tcp_rst_closes)
{
	setup_std();
	struct pkt_spec i = tcp_in(PEER4, 40000, 22, SYN);
	struct pkt_spec o = tcp_out(PEER4, 22, 40000, RST | ACK);
	struct sg_ct_key k;
	struct sg_ct_val v;

	ct_key(&k, 0, 6, ME4, 22, PEER4, 40000);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&i));
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&o));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_CLOSING);
	cr_assert_eq(v.timeout_s, SG_CT_TIMEOUT_TCP_CLOSING);
	/* A new SYN on the closing tuple is judged (and tracked) afresh. */
	i.tcp_flags = SYN;
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&i));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_TCP_OPENING);
	cr_assert_eq(ct_used(0), 1);
}

Test(dp, bare_ack_no_rule)
{
	setup_std();
	/* From outside, no rule, no entry: dropped, nothing created. */
	struct pkt_spec s = tcp_in(STRANGER4, 40000, 22, ACK);

	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	s.tcp_flags = SYN | ACK;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	/* Allowed by a rule but mid-stream: passes untracked. */
	s = tcp_in(PEER4, 40000, 22, ACK);
	expect(PASS, IN, SG_CNT_ACCEPT_UNTRACKED, in(&s));
	s.tcp_flags = RST;
	expect(PASS, IN, SG_CNT_ACCEPT_UNTRACKED, in(&s));
	cr_assert_eq(ct_entries(), 0);
	cr_assert_eq(ct_used(0), 0);
	/* And the reply to it is not allowed back. */
	s = tcp_out(PEER4, 22, 40000, ACK);
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&s));
}

Test(dp, udp_stream)
{
	setup_std();
	struct pkt_spec i = udp_in(PEER4, 5353, 53);
	struct pkt_spec o = udp_out(PEER4, 53, 5353);
	struct sg_ct_key k;
	struct sg_ct_val v;

	/* Reply before any request: no rule outbound to 192.0.2.10. */
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&o));
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&i));
	ct_key(&k, 0, 17, ME4, 53, PEER4, 5353);
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_UDP);
	cr_assert_eq(v.timeout_s, 30);
	expect(PASS, IN, SG_CNT_ACCEPT_ESTABLISHED, in(&i));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_UDP);
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&o));
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.state, SG_CT_UDP_STREAM);
	cr_assert_eq(v.timeout_s, 180);
	cr_assert_eq(v.packets[IN], 2);
	cr_assert_eq(v.packets[OUT], 1);
}

Test(dp, outbound_flow_reply_inbound)
{
	setup_std();
	struct pkt_spec o = tcp_out("203.0.113.5", 41000, 443, SYN);
	struct pkt_spec i = tcp_in("203.0.113.5", 443, 41000, SYN | ACK);
	struct sg_ct_key k;
	struct sg_ct_val v;

	/* No inbound rule for 203.0.113.5 at all. */
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&i));
	expect(PASS, OUT, SG_CNT_ACCEPT_NEW, out(&o));
	expect(PASS, IN, SG_CNT_ACCEPT_ESTABLISHED, in(&i));
	ct_key(&k, 0, 6, ME4, 41000, "203.0.113.5", 443);
	cr_assert(ct_get(&k, &v));
	cr_assert_eq(v.origin, OUT);
	cr_assert_eq(v.state, SG_CT_TCP_ESTABLISHED);
	/* The remote cannot open its own connection back on that port. */
	i.sport = 444;
	i.tcp_flags = SYN;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&i));
}

Test(dp, expired_entry_is_new)
{
	setup_std();
	struct sg_ct_key k;
	struct sg_ct_val v = {
		.state = SG_CT_UDP,
		.timeout_s = 30,
		.origin = IN,
	};
	__s64 one = 1;
	__u32 slot = 0;

	v.created_ns = v.last_seen_ns = mono_ns() - 31ULL * 1000000000ULL;
	ct_key(&k, 0, 17, ME4, 53, PEER4, 5353);
	cr_assert_eq(ct_view_put(skel, &k, &v, BPF_NOEXIST), 0);
	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_ct_count), &slot,
					 &one, 0),
		     0);

	/* The reply side of a dead flow has no rule. */
	struct pkt_spec o = udp_out(PEER4, 53, 5353);
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&o));
	/* The allowed side starts it over, in place. */
	struct pkt_spec i = udp_in(PEER4, 5353, 53);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&i));
	cr_assert(ct_get(&k, &v));
	cr_assert_gt(v.last_seen_ns, mono_ns() - 1000000000ULL);
	cr_assert_eq(v.packets[IN], 1);
	cr_assert_eq(ct_used(0), 1);
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&o));
}

Test(dp, not_yet_expired)
{
	setup_std();
	struct sg_ct_key k;
	struct sg_ct_val v = {
		.state = SG_CT_UDP,
		.timeout_s = 30,
		.origin = IN,
	};

	v.created_ns = v.last_seen_ns = mono_ns() - 25ULL * 1000000000ULL;
	ct_key(&k, 0, 17, ME4, 53, PEER4, 5353);
	cr_assert_eq(ct_view_put(skel, &k, &v, BPF_NOEXIST), 0);
	struct pkt_spec o = udp_out(PEER4, 53, 5353);
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&o));
}

Test(dp, gc_reclaims, .timeout = 20)
{
	setup_std();
	struct sg_ct_key k, k2;
	struct sg_ct_val v = {
		.state = SG_CT_UDP,
		.timeout_s = 30,
		.origin = IN,
	};
	__s64 one = 1;
	__u32 slot = 0;
	int i;

	v.created_ns = v.last_seen_ns = mono_ns() - 40ULL * 1000000000ULL;
	ct_key(&k, 0, 17, ME4, 53, PEER4, 1);
	cr_assert_eq(ct_view_put(skel, &k, &v, BPF_NOEXIST), 0);
	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_ct_count), &slot,
					 &one, 0),
		     0);
	/* A new flow arms the timer. */
	struct pkt_spec p = udp_in(PEER4, 2, 53);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&p));
	cr_assert_eq(ct_used(0), 2);
	ct_key(&k2, 0, 17, ME4, 53, PEER4, 2);
	for (i = 0; i < 40 && ct_get(&k, &v); i++)
		usleep(100000);
	cr_assert(!ct_get(&k, &v), "expired entry still there after 4 s");
	cr_assert(ct_get(&k2, &v), "live entry was reclaimed");
	cr_assert_eq(ct_used(0), 1);
}

Test(dp, untracked_rule)
{
	skel = open_prog(0, 0, NULL);
	std_policy(0, 1024);
	add_ports(0, CLASS_PEER, 6, 80, 80, SG_RULE_UNTRACKED);
	add_ports(0, CLASS_PEER, 17, 123, 123, SG_RULE_UNTRACKED);
	struct pkt_spec s = tcp_in(PEER4, 40000, 80, SYN);

	expect(PASS, IN, SG_CNT_ACCEPT_UNTRACKED, in(&s));
	s = udp_in(PEER4, 40000, 123);
	expect(PASS, IN, SG_CNT_ACCEPT_UNTRACKED, in(&s));
	cr_assert_eq(ct_entries(), 0);
	/* Its replies are judged by the (here absent) outbound rules. */
	s = tcp_out(PEER4, 80, 40000, SYN | ACK);
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&s));
}

static size_t quote(const struct pkt_spec *inner, __u8 *q)
{
	__u8 buf[PKT_MAX];
	size_t n = pkt_build(inner, buf);
	size_t l3 = pkt_l3_off(inner);

	(void)n;
	/* IPv4: header + 8 bytes; IPv6 likewise. */
	n = strchr(inner->src, ':') ? 40 + 8 : 20 + 8;
	memcpy(q, buf + l3, n);
	return n;
}

Test(dp, related_icmp_error)
{
	setup_std();
	/* The instance opens a connection out; a router says frag needed. */
	struct pkt_spec o = tcp_out("203.0.113.5", 41000, 443, SYN);
	__u8 q[128];
	struct pkt_spec err = {.src = ROUTER4,
			       .dst = ME4,
			       .proto = 1,
			       .icmp_type = 3,
			       .icmp_code = 4,
			       .payload = q};

	expect(PASS, OUT, SG_CNT_ACCEPT_NEW, out(&o));
	err.payload_len = quote(&o, q);
	expect(PASS, IN, SG_CNT_ACCEPT_RELATED, in(&err));
	/* Time exceeded too. */
	err.icmp_type = 11;
	err.icmp_code = 0;
	expect(PASS, IN, SG_CNT_ACCEPT_RELATED, in(&err));
	/* Quoting a flow nobody opened. */
	o.sport = 41001;
	err.payload_len = quote(&o, q);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&err));
	/* Quoting the tracked flow but sent to someone else. */
	o.sport = 41000;
	err.payload_len = quote(&o, q);
	err.dst = "10.0.0.2";
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&err));
	/* A truncated quote is not related (and not malformed). */
	err.dst = ME4;
	err.payload_len = 20 + 4;
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&err));
	/* An icmp rule can still allow errors from a source. */
	err.src = PEER4;
	err.icmp_type = 3;
	add_icmp(0, CLASS_PEER, 1, 3);
	expect(PASS, IN, SG_CNT_ACCEPT_UNTRACKED, in(&err));
	cr_assert_eq(ct_entries(), 1);
}

Test(dp, related_icmpv6_and_outbound)
{
	setup_std();
	/* An inbound ssh flow over IPv6; the instance's too-big goes out. */
	struct pkt_spec i = tcp_in(PEER6, 40000, 22, SYN);
	__u8 q[128];
	struct pkt_spec err = {.src = ME6,
			       .dst = PEER6,
			       .proto = 58,
			       .icmp_type = 2,
			       .payload = q};

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&i));
	err.payload_len = quote(&i, q);
	expect(PASS, OUT, SG_CNT_ACCEPT_RELATED, out(&err));
	i.sport = 40001;
	err.payload_len = quote(&i, q);
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE, out(&err));
}

Test(dp, capacity_full)
{
	skel = open_prog(0, 0, NULL);
	std_policy(0, 2);
	struct pkt_spec a = udp_in(PEER4, 1001, 53);
	struct pkt_spec b = udp_in(PEER4, 1002, 53);
	struct pkt_spec c = udp_in(PEER4, 1003, 53);

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&a));
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&b));
	expect(DROP, IN, SG_CNT_DROP_CT_FULL, in(&c));
	expect(DROP, IN, SG_CNT_DROP_CT_FULL, in(&c));
	cr_assert_eq(ct_used(0), 2);
	cr_assert_eq(ct_entries(), 2);
	/* Existing flows are never evicted and keep passing. */
	expect(PASS, IN, SG_CNT_ACCEPT_ESTABLISHED, in(&a));
	struct pkt_spec r = udp_out(PEER4, 53, 1002);
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&r));
	/* Untracked-eligible traffic (bare ACK) is not affected. */
	struct pkt_spec t = tcp_in(PEER4, 1, 22, ACK);
	expect(PASS, IN, SG_CNT_ACCEPT_UNTRACKED, in(&t));
}

Test(dp, source_check_host_side)
{
	/* Host side: XDP sees what the instance sends (outbound). */
	skel = open_prog(0, 1, NULL);
	std_policy(SG_INST_SOURCE_CHECK, 1024);
	struct sg_ip_key ik = {.gen_slot = SG_GEN_SLOT(0, 0), .family = 4};
	__u8 one = 1, buf[PKT_MAX];
	int v6;

	parse_addr(ME4, ik.addr, &v6);
	cr_assert_eq(bpf_map_update_elem(mapfd(skel->maps.sg_ip), &ik, &one, 0),
		     0);

	struct pkt_spec s = tcp_out("203.0.113.5", 40000, 443, SYN);
	expect(PASS, OUT, SG_CNT_ACCEPT_NEW,
	       xdp_raw(skel, buf, pkt_build(&s, buf)));
	s.src = "10.0.0.2";
	expect(DROP, OUT, SG_CNT_DROP_SPOOFED,
	       xdp_raw(skel, buf, pkt_build(&s, buf)));
	/* Borrowing an address the rules would let in is still spoofing. */
	s.src = PEER4;
	expect(DROP, OUT, SG_CNT_DROP_SPOOFED,
	       xdp_raw(skel, buf, pkt_build(&s, buf)));
	/* IPv6: the instance has no v6 address registered... */
	struct pkt_spec e = {.src = ME6,
			     .dst = "2001:db8:ff::10",
			     .proto = 58,
			     .icmp_type = 128,
			     .icmp_id = 1};
	expect(DROP, OUT, SG_CNT_DROP_SPOOFED,
	       xdp_raw(skel, buf, pkt_build(&e, buf)));
	/* ...but link-local and unspecified sources are exempt. */
	e.src = "fe80::1";
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE,
	       xdp_raw(skel, buf, pkt_build(&e, buf)));
	e.src = "::";
	expect(DROP, OUT, SG_CNT_DROP_NO_RULE,
	       xdp_raw(skel, buf, pkt_build(&e, buf)));
	/* TC is inbound here: no source check, rules of the inbound side. */
	struct pkt_spec i = tcp_in(PEER4, 40000, 22, SYN);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW,
	       tc_raw(skel, buf, pkt_build(&i, buf)));
	/* The reply leaves by XDP and passes the source check. */
	struct pkt_spec r = tcp_out(PEER4, 22, 40000, SYN | ACK);
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED,
	       xdp_raw(skel, buf, pkt_build(&r, buf)));
}

Test(dp, source_check_off)
{
	skel = open_prog(0, 1, NULL);
	std_policy(0, 1024);
	__u8 buf[PKT_MAX];
	struct pkt_spec s = tcp_out("203.0.113.5", 40000, 443, SYN);

	s.src = "10.0.0.2";
	expect(PASS, OUT, SG_CNT_ACCEPT_NEW,
	       xdp_raw(skel, buf, pkt_build(&s, buf)));
}

Test(dp, instance_isolation)
{
	skel = open_prog(0, 0, NULL);
	skel2 = open_prog(1, 0, skel);
	std_policy(0, 1024);
	/* Slot 1: same groups (same policy id), its own table. */
	set_inst(0, 1, 0, 1024);
	__u8 buf[PKT_MAX];
	struct pkt_spec i = tcp_in(PEER4, 40000, 22, SYN);
	struct pkt_spec r = tcp_out(PEER4, 22, 40000, SYN | ACK);

	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&i));
	/* Slot 1 never saw the SYN: its reply has no rule. */
	cr_assert_eq(tc_raw(skel2, buf, pkt_build(&r, buf)), DROP);
	cr_assert_eq(counter_of(skel, 1, OUT, SG_CNT_DROP_NO_RULE, NULL), 1);
	cr_assert_eq(counter_of(skel, 0, OUT, SG_CNT_DROP_NO_RULE, NULL), 0);
	cr_assert_eq(ct_used(1), 0);
	/* Slot 0 did. */
	expect(PASS, OUT, SG_CNT_ACCEPT_ESTABLISHED, out(&r));
	/* Slot 1 tracks its own flow with its own room. */
	cr_assert_eq(xdp_raw(skel2, buf, pkt_build(&i, buf)), PASS);
	cr_assert_eq(ct_used(1), 1);
	cr_assert_eq(ct_entries(), 2);
}

/* ---- cost, printed when SG_BENCH=1 ---- */

static double ns_per_pkt(int prog_fd, const void *buf, size_t len, int reps)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = buf,
		    .data_size_in = (__u32)len, .repeat = reps);

	cr_assert_eq(bpf_prog_test_run_opts(prog_fd, &o), 0);
	return o.duration;
}

Test(dp, bench)
{
	struct bpf_insn pass[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K,
		 .dst_reg = 0,
		 .imm = XDP_PASS},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int reps = 1000000, floor_fd, xfd;
	__u8 buf[PKT_MAX];
	size_t n;

	if (!getenv("SG_BENCH"))
		cr_skip_test("set SG_BENCH=1 to measure");
	setup_std();
	xfd = bpf_program__fd(skel->progs.sg_xdp);
	floor_fd =
		bpf_prog_load(BPF_PROG_TYPE_XDP, "pass", "GPL", pass, 2, NULL);
	cr_assert_geq(floor_fd, 0);

	struct pkt_spec s = tcp_in(PEER4, 40000, 22, SYN);
	n = pkt_build(&s, buf);
	cr_log_info("floor (XDP_PASS): %.1f ns/pkt",
		    ns_per_pkt(floor_fd, buf, n, reps));
	xdp_raw(skel, buf, n); /* create the flow */
	s.tcp_flags = ACK;
	n = pkt_build(&s, buf);
	cr_log_info("established tcp: %.1f ns/pkt",
		    ns_per_pkt(xfd, buf, n, reps));
	s = tcp_in(PEER4, 40001, 22, ACK);
	n = pkt_build(&s, buf);
	cr_log_info("new, accepted (2 LPM, untracked ACK): %.1f ns/pkt",
		    ns_per_pkt(xfd, buf, n, reps));
	s = tcp_in(PEER4, 40001, 23, SYN);
	n = pkt_build(&s, buf);
	cr_log_info("new, rejected (no rule): %.1f ns/pkt",
		    ns_per_pkt(xfd, buf, n, reps));
	s = tcp_in(STRANGER4, 40001, 22, SYN);
	n = pkt_build(&s, buf);
	cr_log_info("new, rejected (no class): %.1f ns/pkt",
		    ns_per_pkt(xfd, buf, n, reps));
	s = (struct pkt_spec){.src = PEER4, .dst = ME4, .ethertype = 0x0806};
	n = pkt_build(&s, buf);
	cr_log_info("non-IP pass (parse + counter): %.1f ns/pkt",
		    ns_per_pkt(xfd, buf, n, reps));
	close(floor_fd);
}

Test(dp, ipv6_payload_length_zero)
{
	setup_std();
	/* BIG TCP / jumbogram: the frame's length stands in. */
	struct pkt_spec s = tcp_in(PEER6, 40000, 22, SYN);
	__u8 buf[PKT_MAX];
	size_t n = pkt_build(&s, buf);

	pkt_put16(buf + 18, 0);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, xdp_raw(skel, buf, n));
}

Test(dp, related_error_quoting_echo)
{
	setup_std();
	struct pkt_spec ping = {.src = ME4,
				.dst = "203.0.113.5",
				.proto = 1,
				.icmp_type = 8,
				.icmp_id = 99};
	__u8 q[128];
	struct pkt_spec err = {.src = ROUTER4,
			       .dst = ME4,
			       .proto = 1,
			       .icmp_type = 11,
			       .payload = q};

	expect(PASS, OUT, SG_CNT_ACCEPT_NEW, out(&ping));
	err.payload_len = quote(&ping, q);
	expect(PASS, IN, SG_CNT_ACCEPT_RELATED, in(&err));
	ping.icmp_id = 100;
	err.payload_len = quote(&ping, q);
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&err));
}

Test(dp, reject_flow_log)
{
	setup_std();
	struct pkt_spec s = tcp_in(STRANGER4, 40000, 22, SYN);
	struct sg_reject_key k = {
		.slot = 0, .dir = IN, .family = 4, .proto = 6,
		.reason = SG_CNT_DROP_NO_RULE};
	struct sg_reject_val v;
	int v6;

	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	expect(DROP, IN, SG_CNT_DROP_NO_RULE, in(&s));
	k.sport = htons(40000);
	k.dport = htons(22);
	parse_addr(STRANGER4, k.saddr, &v6);
	parse_addr(ME4, k.daddr, &v6);
	/* The second is pending on this CPU: flowlog adds it. */
	cr_assert(reject_view_get(skel, &k, &v));
	cr_assert_eq(v.packets, 2);
	cr_assert_geq(v.last_ns, v.first_ns);
	/* Accepted traffic writes nothing there. */
	s = tcp_in(PEER4, 40000, 22, SYN);
	expect(PASS, IN, SG_CNT_ACCEPT_NEW, in(&s));
	struct sg_reject_key nk, *prev = NULL;
	int n = 0;

	while (!bpf_map_get_next_key(mapfd(skel->maps.sg_reject), prev, &nk)) {
		k = nk;
		prev = &k;
		n++;
	}
	cr_assert_eq(n, 1);
}

Test(dp, dry_run_writes_nothing)
{
	struct sgctl_bpf *d;
	struct bpf_map *m, *o;
	__u8 buf[PKT_MAX];

	setup_std();
	d = sgctl_bpf__open();
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
	skel2 = d;

	struct pkt_spec s = tcp_in(PEER4, 40000, 8081, SYN);
	cr_assert_eq(xdp_raw(d, buf, pkt_build(&s, buf)), PASS);
	cr_assert_eq(d->bss->sg_dry_result.done, 1);
	cr_assert_eq(d->bss->sg_dry_result.counter, SG_CNT_ACCEPT_NEW);
	cr_assert_eq(d->bss->sg_dry_result.matched, 1);
	cr_assert_eq(d->bss->sg_dry_result.rule_ref, 1);
	memset(&d->bss->sg_dry_result, 0, sizeof(d->bss->sg_dry_result));
	s = tcp_in(STRANGER4, 40000, 22, SYN);
	cr_assert_eq(xdp_raw(d, buf, pkt_build(&s, buf)), DROP);
	cr_assert_eq(d->bss->sg_dry_result.counter, SG_CNT_DROP_NO_RULE);
	cr_assert_eq(d->bss->sg_dry_result.matched, 0);
	/* Outbound through TC. */
	s = tcp_out("203.0.113.9", 1, 443, SYN);
	cr_assert_eq(tc_raw(d, buf, pkt_build(&s, buf)), PASS);
	cr_assert_eq(d->bss->sg_dry_result.counter, SG_CNT_ACCEPT_NEW);
	/* Nothing written: no flow, no counter, no flow log. */
	cr_assert_eq(ct_entries(), 0);
	cr_assert_eq(ct_used(0), 0);
	cr_assert_eq(cnt_all(0, IN), 0);
	cr_assert_eq(cnt_all(0, OUT), 0);
	struct sg_reject_key rk;
	cr_assert_neq(
		bpf_map_get_next_key(mapfd(skel->maps.sg_reject), NULL, &rk),
		0);
}
