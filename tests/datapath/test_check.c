// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `sgctl check` cross-checked: configs go through the real parser,
 * compiler and map writer into a temporary pin directory; the programs are
 * loaded in dry-run mode (sg_kcheck_*) and thousands of random new flows,
 * biased towards rule boundaries, go through both the kernel and the
 * reference model, which must agree on every one. Then the maps are
 * corrupted on purpose and the same comparison must notice. Needs root.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sgctl.h"
#include "state/skel.h"

#include "compile/compile.h"
#include "state/state.h"
#include "config/model.h"
#include "enforce/kcheck.h"

#define NPKTS 1500

static char pin[128];
static struct sg_config cfg;
static struct sg_compiled comp;
static struct sg_state st;
static int slots[64];
static __u64 rng = 0x9e3779b97f4a7c15ULL;

static __u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (__u32)(rng >> 11);
}

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root");
	snprintf(pin, sizeof(pin), "/sys/fs/bpf/sgctl-test-check-%d",
		 (int)getpid());
	memset(&cfg, 0, sizeof(cfg));
	memset(&comp, 0, sizeof(comp));
	memset(&st, 0, sizeof(st));
}

static void teardown(void)
{
	sg_state_close(&st);
	sg_compiled_free(&comp);
	sg_config_free(&cfg);
	sg_state_remove(pin);
}

TestSuite(check, .init = setup, .fini = teardown, .timeout = 120);

/* Parse, compile and apply as `sgctl load` does. */
static void load(const char *yaml)
{
	struct sg_diag diag;
	int rc;

	sg_diag_init(&diag);
	rc = sg_config_parse_string("t.yaml", yaml, strlen(yaml), &cfg, &diag);
	if (rc || diag.nerrors)
		sg_diag_print(&diag, stderr);
	cr_assert_eq(rc, 0);
	rc = sg_compile(&cfg, &comp, &diag);
	cr_assert_eq(rc, 0, "compile: %d", rc);
	sg_diag_free(&diag);
	cr_assert_eq(sg_state_open(&st, pin, -1, false), 0);
	cr_assert_leq(cfg.ninstances, 64);
	for (size_t i = 0; i < cfg.ninstances; i++) {
		slots[i] = sg_slot_get(&st, cfg.instances[i].id, true);
		cr_assert_geq(slots[i], 0);
	}
	/* The exact-match maps too, though these policies are small. */
	cr_assert_eq(sg_state_apply_opts(&st, &comp, slots, cfg.ninstances,
					 &(struct sg_apply_opts){
						 .exact_always = true}),
		     0);
}

/* ---- random packets, biased towards what the config mentions ---- */

static void pick_addr(int family, __u8 *out)
{
	const struct sg_prefix *cands[512];
	size_t n = 0;

	for (size_t g = 0; g < cfg.ngroups; g++)
		for (size_t r = 0; r < cfg.groups[g].nrules && n < 512; r++)
			if (cfg.groups[g].rules[r].peer_kind == SG_PEER_CIDR)
				cands[n++] = &cfg.groups[g].rules[r].cidr;
	for (size_t l = 0; l < cfg.nprefix_lists; l++)
		for (size_t e = 0; e < cfg.prefix_lists[l].nentries && n < 512;
		     e++)
			cands[n++] = &cfg.prefix_lists[l].entries[e];
	for (size_t i = 0; i < cfg.ninstances; i++)
		for (size_t k = 0; k < cfg.instances[i].nips && n < 512; k++)
			cands[n++] = &cfg.instances[i].ips[k];

	memset(out, 0, 16);
	for (int i = 0; i < (family == 6 ? 16 : 4); i++)
		out[i] = (__u8)rnd();
	if (!n || rnd() % 5 == 0)
		return; /* anywhere */
	const struct sg_prefix *c = cands[rnd() % n];

	if (c->family != family)
		return;
	/* inside the prefix (random host part), or its base, or next to it */
	int alen = family == 6 ? 16 : 4, bits = c->len;

	switch (rnd() % 4) {
	case 0:
		memcpy(out, c->addr, 16);
		break;
	case 1:
		/* just outside: the prefix's last bit flipped */
		memcpy(out, c->addr, 16);
		if (bits > 0) {
			int byte = (bits - 1) / 8, bit = 7 - (bits - 1) % 8;

			out[byte] ^= (__u8)(1u << bit);
		}
		break;
	default:
		for (int i = 0; i < alen * 8; i++) {
			int byte = i / 8, bit = 7 - i % 8;

			if (i < bits) {
				out[byte] &= (__u8) ~(1u << bit);
				out[byte] |= c->addr[byte] & (1u << bit);
			}
		}
		break;
	}
}

static int pick_port(void)
{
	static const int common[] = {0,	   1,	 21,   22,   23,   53,
				     67,   68,	 79,   80,   81,   443,
				     5432, 8079, 8080, 8089, 8090, 65535};
	size_t g = rnd() % cfg.ngroups;

	if (rnd() % 3 == 0)
		return (int)(rnd() % 65536);
	if (rnd() % 2 && cfg.groups[g].nrules) {
		const struct sg_rule *r =
			&cfg.groups[g].rules[rnd() % cfg.groups[g].nrules];

		if (r->port_lo >= 0) {
			int p[] = {r->port_lo - 1, r->port_lo, r->port_hi,
				   r->port_hi + 1};
			int v = p[rnd() % 4];

			if (v >= 0 && v <= 65535)
				return v;
		}
	}
	return common[rnd() % (sizeof(common) / sizeof(common[0]))];
}

static void random_pkt(struct sg_ref_pkt *p)
{
	static const int other4[] = {47, 50, 132, 2, 0, 41, 255};
	static const int other6[] = {47, 50, 132, 17, 6, 89, 255};
	static const int icmp4[] = {0, 3, 5, 8, 11, 12, 13};
	static const int icmp6[] = {1, 2, 3, 4, 128, 129, 133, 135, 137, 143};
	int k = (int)(rnd() % 10);

	memset(p, 0, sizeof(*p));
	p->dir = (int)(rnd() % 2);
	p->family = rnd() % 3 == 0 ? 6 : 4;
	pick_addr(p->family, p->remote);
	if (k < 4)
		p->proto = 6;
	else if (k < 6)
		p->proto = 17;
	else if (k < 8)
		p->proto = p->family == 6 ? 58 : 1;
	else
		p->proto =
			p->family == 6 ? other6[rnd() % 7] : other4[rnd() % 7];
	p->sport = rnd() % 20 == 0 ? 67 + (int)(rnd() % 2) : 40000;
	if (p->family == 6 && p->sport < 100)
		p->sport = 546 + (int)(rnd() % 2);
	p->dport = pick_port();
	if (p->proto == 1)
		p->icmp_type = icmp4[rnd() % 7];
	else if (p->proto == 58)
		p->icmp_type = icmp6[rnd() % 10];
	p->icmp_code = rnd() % 4 == 0 ? (int)(rnd() % 16) : 0;
}

static void describe(const struct sg_ref_pkt *p, char *buf, size_t len)
{
	char a[64];

	inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->remote, a, sizeof(a));
	snprintf(buf, len, "%s proto %d remote %s sport %d dport %d icmp %d/%d",
		 p->dir == SG_DIR_IN ? "in" : "out", p->proto, a, p->sport,
		 p->dport, p->icmp_type, p->icmp_code);
}

struct tally {
	int accept, reject, untracked, infra, disagree;
};

/*
 * npkts random flows per instance through kernel and model. Returns the
 * tally; with strict, the first disagreement fails the test.
 */
static struct tally run_random(int npkts, bool strict, bool ct_full)
{
	struct tally t = {0};

	for (size_t i = 0; i < cfg.ninstances; i++) {
		struct sg_kcheck k;

		cr_assert_eq(sg_kcheck_open(&k, pin, (__u32)slots[i]), 0);
		for (int n = 0; n < npkts; n++) {
			struct sg_ref_pkt p;
			struct sg_ref_result m;
			struct sg_kverdict v;
			__u8 local[16];
			char why[512], d[200];

			random_pkt(&p);
			sg_ref_local_addr(&cfg.instances[i], p.family, local);
			cr_assert_eq(sg_ref_decide(&cfg, i, &p, ct_full, &m),
				     0);
			cr_assert_eq(sg_kcheck_run(&k, &p, local, &v), 0);
			if (!sg_check_agree(&comp, &m, &v, why, sizeof(why))) {
				t.disagree++;
				describe(&p, d, sizeof(d));
				if (strict)
					cr_assert_fail("%s: %s: %s",
						       cfg.instances[i].id, d,
						       why);
			}
			if (m.accept)
				t.accept++;
			else
				t.reject++;
			if (m.accept && m.reason == SG_REF_INFRA)
				t.infra++;
			if (m.accept && m.reason == SG_REF_BY_RULE &&
			    !m.tracked)
				t.untracked++;
			sg_ref_result_free(&m);
		}
		sg_kcheck_close(&k);
	}
	return t;
}

/* ---- configs ---- */

static const char *lab_yaml =
	"vpc: vpc-lab\n"
	"prefix_lists:\n"
	"  pl-office:\n"
	"    max_entries: 4\n"
	"    entries: [203.0.113.0/28, \"2001:db8:100::/48\"]\n"
	"security_groups:\n"
	"  sg-ssh:\n"
	"    inbound:\n"
	"      - { type: ssh, source: [203.0.113.10/32, "
	"\"2001:db8:100::10/128\"] }\n"
	"  sg-web:\n"
	"    inbound:\n"
	"      - { type: http, source: [0.0.0.0/0, \"::/0\"] }\n"
	"      - { protocol: tcp, ports: 8080-8089, source: pl-office }\n"
	"      - { protocol: icmp, icmp_type: 8, source: pl-office }\n"
	"    outbound:\n"
	"      - { type: postgresql, destination: sg-db }\n"
	"  sg-db:\n"
	"    inbound:\n"
	"      - { type: postgresql, source: sg-web }\n"
	"    outbound: []\n"
	"instances:\n"
	"  i-web1:\n"
	"    ips: [198.18.1.10, \"2001:db8:1::10\"]\n"
	"    security_groups: [sg-web, sg-ssh]\n"
	"  i-web2:\n"
	"    ips: [198.18.1.11]\n"
	"    security_groups: [sg-web]\n"
	"  i-db1:\n"
	"    ips: [198.18.2.10, \"2001:db8:2::10\"]\n"
	"    security_groups: [sg-db]\n";

static const char *world_yaml =
	"security_groups:\n"
	"  sg-pub:\n"
	"    inbound:\n"
	"      - { type: http, source: [0.0.0.0/0, \"::/0\"] }\n"
	"      - { type: https, source: 0.0.0.0/0 }\n"
	"      - { protocol: tcp, ports: 1000-2000, source: 10.0.0.0/8 }\n"
	"      - { protocol: udp, ports: 53, source: 0.0.0.0/0 }\n"
	"      - { protocol: icmp, source: 0.0.0.0/0 }\n"
	"      - { protocol: icmpv6, icmp_type: 128, source: \"::/0\" }\n"
	"    outbound:\n"
	"      - { type: all-traffic, destination: 0.0.0.0/0 }\n"
	"      - { protocol: tcp, ports: 0-1023, destination: \"::/0\" }\n"
	"  sg-narrow:\n"
	"    inbound:\n"
	"      - { type: all-tcp, source: 10.1.0.0/16 }\n"
	"      - { protocol: 47, source: 192.0.2.0/24 }\n"
	"      - { protocol: icmp, icmp_type: 3, icmp_code: 4, "
	"source: 192.0.2.0/24 }\n"
	"    outbound: []\n"
	"instances:\n"
	"  i-pub:\n"
	"    ips: [198.18.1.1, \"2001:db8:1::1\"]\n"
	"    security_groups: [sg-pub]\n"
	"  i-both:\n"
	"    ips: [198.18.1.2]\n"
	"    security_groups: [sg-pub, sg-narrow]\n"
	"  i-narrow:\n"
	"    ips: [198.18.1.3]\n"
	"    security_groups: [sg-narrow]\n";

static const char *refs_yaml =
	"security_groups:\n"
	"  sg-a:\n"
	"    inbound:\n"
	"      - { protocol: all, source: sg-a }\n"
	"      - { protocol: udp, ports: 5000-5100, source: sg-b }\n"
	"      - { protocol: tcp, ports: all, source: 10.8.10.0/16 }\n"
	"    outbound:\n"
	"      - { protocol: tcp, ports: 443, destination: [sg-b, "
	"192.0.2.128/25] }\n"
	"  sg-b:\n"
	"    inbound:\n"
	"      - { type: all-icmpv6, source: sg-a }\n"
	"      - { type: dns-udp, source: \"2001:db8::/32\" }\n"
	"instances:\n"
	"  i-a1: { ips: [198.18.3.1, \"2001:db8:3::1\"], "
	"security_groups: [sg-a] }\n"
	"  i-a2: { ips: [198.18.3.2, 198.18.3.3], security_groups: [sg-a] }\n"
	"  i-b1: { ips: [\"2001:db8:4::1\", 198.18.4.1], "
	"security_groups: [sg-b, sg-a] }\n"
	"  i-dflt: { ips: [198.18.5.1] }\n";

Test(check, lab_config_agrees)
{
	struct tally t;

	load(lab_yaml);
	t = run_random(NPKTS, true, false);
	cr_log_info("lab: %d accept, %d reject, %d infra", t.accept, t.reject,
		    t.infra);
	cr_assert_gt(t.accept, 100, "too few accepts (%d)", t.accept);
	cr_assert_gt(t.reject, 100, "too few rejects (%d)", t.reject);
}

Test(check, untracked_and_protocols_agree)
{
	struct tally t;

	load(world_yaml);
	t = run_random(NPKTS, true, false);
	cr_log_info("world: %d accept (%d untracked), %d reject", t.accept,
		    t.untracked, t.reject);
	cr_assert_gt(t.untracked, 20, "too few untracked (%d)", t.untracked);
	cr_assert_gt(t.reject, 100);
}

Test(check, references_and_default_group_agree)
{
	struct tally t;

	load(refs_yaml);
	t = run_random(NPKTS, true, false);
	cr_assert_gt(t.accept, 100);
	cr_assert_gt(t.reject, 100);
	cr_assert_gt(t.infra, 0);
}

Test(check, full_conntrack_table_agrees)
{
	struct sg_inst inst;
	struct tally t;

	load(world_yaml);
	for (size_t i = 0; i < cfg.ninstances; i++) {
		cr_assert_eq(sg_inst_read(&st, (__u32)slots[i], &inst), 0);
		cr_assert_eq(
			sg_ct_count_write(&st, (__u32)slots[i], inst.ct_max),
			0);
	}
	t = run_random(500, true, true);
	cr_assert_gt(t.reject, 0);
	cr_assert_gt(t.untracked, 0); /* untracked still pass */
}

Test(check, dry_run_writes_nothing)
{
	struct sg_counter_val c[SG_NDIR][SG_NCOUNTERS];
	struct sg_ct_key *keys;
	struct sg_reject_key *rkeys;
	struct bpf_map *rm;
	size_t n;
	void *vals;

	load(lab_yaml);
	run_random(300, true, false);
	for (size_t i = 0; i < cfg.ninstances; i++) {
		__s64 used = -1;

		cr_assert_eq(sg_stats_read(&st, (__u32)slots[i], c), 0);
		for (int d = 0; d < SG_NDIR; d++)
			for (int k = 0; k < SG_NCOUNTERS; k++)
				cr_assert_eq(c[d][k].packets, 0,
					     "counter %s counted",
					     sg_counter_name(k));
		cr_assert_eq(sg_ct_count_read(&st, (__u32)slots[i], &used), 0);
		cr_assert_eq(used, 0);
	}
	cr_assert_eq(sg_ct_dump(&st, &keys, (struct sg_ct_val **)&vals, &n),
		     0);
	free(keys);
	free(vals);
	cr_assert_eq(n, 0, "%zu conntrack entries", n);
	rm = bpf_object__find_map_by_name(st.skel->obj, "sg_reject");
	if (rm) {
		cr_assert_eq(sg_map_dump(bpf_map__fd(rm), sizeof(*rkeys),
					 sizeof(struct sg_reject_val),
					 (void **)&rkeys, &vals, &n),
			     0);
		free(rkeys);
		free(vals);
		cr_assert_eq(n, 0, "%zu reject records", n);
	}
}

/*
 * The comparison can fail: delete one stage-1 entry (a class) of the live
 * generation and the kernel rejects what the model accepts.
 */
Test(check, a_missing_class_is_caught)
{
	struct sg_class_key *keys;
	struct sg_class_val *vals;
	struct tally t;
	size_t n, victim = (size_t)-1;
	__u32 gen;
	int fd;

	load(lab_yaml);
	fd = bpf_map__fd(st.skel->maps.sg_class);
	cr_assert_eq(sg_active_gen(&st, &gen), 0);
	cr_assert_eq(sg_map_dump(fd, sizeof(*keys), sizeof(*vals),
				 (void **)&keys, (void **)&vals, &n),
		     0);
	/* the widest IPv4 inbound prefix of the live generation */
	for (size_t i = 0; i < n; i++) {
		__u32 s = keys[i].scope;

		if (SG_SCOPE_GEN(s) != gen || SG_SCOPE_DIR(s) != SG_DIR_IN ||
		    SG_SCOPE_V6(s))
			continue;
		if (victim == (size_t)-1 ||
		    keys[i].prefixlen < keys[victim].prefixlen)
			victim = i;
	}
	cr_assert_neq(victim, (size_t)-1);
	cr_assert_eq(bpf_map_delete_elem(fd, &keys[victim]), 0);
	free(keys);
	free(vals);
	t = run_random(NPKTS, false, false);
	cr_log_info("missing class: %d disagreements", t.disagree);
	cr_assert_gt(t.disagree, 0, "a corrupted map went unnoticed");
}

/* Points every entry of a stage-2 map at the next rule; returns how many. */
static size_t shift_rule_refs(struct bpf_map *m, size_t ksz)
{
	struct sg_rule_val *vals;
	size_t n;
	char *keys;
	int fd = bpf_map__fd(m);

	cr_assert_eq(sg_map_dump(fd, ksz, sizeof(*vals), (void **)&keys,
				 (void **)&vals, &n),
		     0);
	for (size_t i = 0; i < n; i++) {
		vals[i].rule_ref = (vals[i].rule_ref + 1) % comp.nrule_refs;
		cr_assert_eq(bpf_map_update_elem(fd, keys + i * ksz, &vals[i],
						 BPF_EXIST),
			     0);
	}
	free(keys);
	free(vals);
	return n;
}

/*
 * A stage-2 entry pointing at the wrong rule is caught too, in the trie
 * and in its exact-match copy (single ports are answered from the copy).
 */
Test(check, a_wrong_rule_ref_is_caught)
{
	struct tally t;

	load(lab_yaml);
	cr_assert_gt(comp.nrule_refs, 2);
	cr_assert_gt(shift_rule_refs(st.skel->maps.sg_rule,
				     sizeof(struct sg_rule_key)),
		     0);
	cr_assert_gt(shift_rule_refs(st.skel->maps.sg_rule_exact,
				     sizeof(struct sg_rule_exact_key)),
		     0);
	t = run_random(NPKTS, false, false);
	cr_log_info("wrong rule_ref: %d disagreements", t.disagree);
	cr_assert_gt(t.disagree, 0, "a corrupted map went unnoticed");
}

/* The exact-match copy alone: proof that the datapath reads it. */
Test(check, a_wrong_exact_rule_ref_is_caught)
{
	struct tally t;

	load(lab_yaml);
	cr_assert_gt(comp.nrule_refs, 2);
	cr_assert_gt(shift_rule_refs(st.skel->maps.sg_rule_exact,
				     sizeof(struct sg_rule_exact_key)),
		     0);
	t = run_random(NPKTS, false, false);
	cr_log_info("wrong exact rule_ref: %d disagreements", t.disagree);
	cr_assert_gt(t.disagree, 0, "a corrupted exact map went unnoticed");
}
