// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * `sgctl diff`'s core (loader/compile/diff.c): two small configs, the
 * exact changes stated by hand (traffic, addresses as prefixes, the rules
 * responsible), and a random cross-check against the reference model: for
 * random flows, the verdicts of the two configs differ exactly when some
 * change covers the flow.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <linux/types.h>

#include "sgctl.h"

#include "compile/diff.h"
#include "compile/refmodel.h"
#include "config/model.h"

static struct sg_config a, b;
static struct sg_diff d;

static void setup(void)
{
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(&d, 0, sizeof(d));
}

static void teardown(void)
{
	sg_diff_free(&d);
	sg_config_free(&a);
	sg_config_free(&b);
}

TestSuite(diff, .init = setup, .fini = teardown);

static void parse(const char *yaml, struct sg_config *cfg)
{
	struct sg_diag diag;
	int rc;

	sg_diag_init(&diag);
	rc = sg_config_parse_string("t.yaml", yaml, strlen(yaml), cfg, &diag);
	if (rc || diag.nerrors)
		sg_diag_print(&diag, stderr);
	cr_assert_eq(rc, 0, "config does not parse");
	sg_diag_free(&diag);
}

static void run(const char *old, const char *new)
{
	parse(old, &a);
	parse(new, &b);
	cr_assert_eq(sg_diff_configs(&a, &b, &d), 0);
}

/* "+tcp/81 203.0.113.0/24 [rule texts]": one change, for comparing. */
static char *describe(const struct sg_diff_change *c)
{
	const struct sg_config *cfg = c->accept ? &b : &a;
	static char out[4096];
	char what[128], pb[64];
	size_t n;

	sg_diff_what(c, what, sizeof(what));
	n = (size_t)snprintf(out, sizeof(out), "%c%s", c->accept ? '+' : '-',
			     what);
	for (size_t i = 0; i < c->nprefixes; i++)
		n += (size_t)snprintf(
			out + n, sizeof(out) - n, " %s",
			sg_prefix_str(&c->prefixes[i], pb, sizeof(pb)));
	n += (size_t)snprintf(out + n, sizeof(out) - n, " [");
	for (size_t i = 0; i < c->nrules; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
				      i ? "; " : "",
				      cfg->groups[c->rules[i].group]
					      .rules[c->rules[i].rule]
					      .text);
	snprintf(out + n, sizeof(out) - n, "]");
	return out;
}

/* The changes of one instance and direction, "; "-joined. */
static char *changes(const char *inst, int dir)
{
	static char out[16384];
	size_t n = 0;

	out[0] = 0;
	for (size_t i = 0; i < d.nchanges; i++) {
		const struct sg_diff_change *c = &d.changes[i];

		if (strcmp(d.insts[c->inst].id, inst) || c->dir != dir)
			continue;
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s",
				      n ? " | " : "", describe(c));
	}
	return out;
}

#define HEAD                                                                   \
	"security_groups:\n"                                                   \
	"  sg-web:\n"                                                          \
	"    outbound: []\n"                                                   \
	"    inbound:\n"

#define INST                                                                   \
	"instances:\n"                                                         \
	"  i-web1:\n"                                                          \
	"    ips: [198.18.1.10, \"2001:db8:1::10\"]\n"                         \
	"    security_groups: [sg-web]\n"

Test(diff, same_config_no_change)
{
	run(HEAD "      - { protocol: tcp, ports: 80, source: 203.0.113.0/24 "
		 "}\n" INST,
	    HEAD "      - { protocol: tcp, ports: 80, source: 203.0.113.0/24 "
		 "}\n" INST);
	cr_assert_eq(d.nchanges, 0, "%s", changes("i-web1", SG_DIR_IN));
}

Test(diff, same_traffic_other_rules_no_change)
{
	run(HEAD "      - { protocol: tcp, ports: 80-90, source: "
		 "203.0.113.0/24 }\n" INST,
	    HEAD
	    "      - { protocol: tcp, ports: 80-85, source: 203.0.113.0/25 }\n"
	    "      - { protocol: tcp, ports: 80-85, source: 203.0.113.128/25 "
	    "}\n"
	    "      - { protocol: tcp, ports: 86-90, source: 203.0.113.0/24 "
	    "}\n" INST);
	cr_assert_eq(d.nchanges, 0, "%s", changes("i-web1", SG_DIR_IN));
}

Test(diff, port_widened)
{
	run(HEAD "      - { protocol: tcp, ports: 80, source: 203.0.113.0/24 "
		 "}\n" INST,
	    HEAD "      - { protocol: tcp, ports: 80-81, source: "
		 "203.0.113.0/24 }\n" INST);
	cr_assert_str_eq(
		changes("i-web1", SG_DIR_IN),
		"+tcp/81 203.0.113.0/24 [tcp/80-81 from 203.0.113.0/24]");
	cr_assert_str_eq(changes("i-web1", SG_DIR_OUT), "");
}

Test(diff, source_narrowed_with_a_hole)
{
	run(HEAD
	    "      - { protocol: tcp, ports: 22, source: 10.0.0.0/8 }\n" INST,
	    HEAD
	    "      - { protocol: tcp, ports: 22, source: 10.0.0.0/9 }\n"
	    "      - { protocol: udp, ports: 53, source: 10.1.2.3/32 }\n" INST);
	cr_assert_str_eq(changes("i-web1", SG_DIR_IN),
			 "+udp/53 10.1.2.3/32 [udp/53 from 10.1.2.3/32] | "
			 "-tcp/22 10.128.0.0/9 [tcp/22 from 10.0.0.0/8]");
}

Test(diff, range_written_as_prefixes)
{
	run(HEAD "      - { protocol: tcp, ports: 443, source: 203.0.113.0/24 "
		 "}\n" INST,
	    HEAD
	    "      - { protocol: tcp, ports: 443, source: 203.0.113.0/24 }\n"
	    "      - { protocol: tcp, ports: 443, source: 203.0.112.0/23 "
	    "}\n" INST);
	/* 203.0.112.0/23 less the /24 already allowed. */
	cr_assert_str_eq(
		changes("i-web1", SG_DIR_IN),
		"+tcp/443 203.0.112.0/24 [tcp/443 from 203.0.112.0/23]");
}

Test(diff, group_reference_members)
{
	const char *old = "security_groups:\n"
			  "  sg-app: { outbound: [] }\n"
			  "  sg-db:\n"
			  "    outbound: []\n"
			  "    inbound:\n"
			  "      - { type: postgresql, source: sg-app }\n"
			  "instances:\n"
			  "  i-db:\n    ips: [198.18.2.10]\n    "
			  "security_groups: [sg-db]\n"
			  "  i-app1:\n    ips: [198.18.1.10]\n    "
			  "security_groups: [sg-app]\n";
	char new[2048];

	snprintf(new, sizeof(new), "%s%s", old,
		 "  i-app2:\n    ips: [198.18.1.11]\n    security_groups: "
		 "[sg-app]\n");
	run(old, new);
	cr_assert_str_eq(
		changes("i-db", SG_DIR_IN),
		"+tcp/5432 198.18.1.11/32 [postgresql (tcp/5432) from sg-app]");
	cr_assert_str_eq(changes("i-app2", SG_DIR_IN), "");
	bool found = false;

	for (size_t i = 0; i < d.ninsts; i++)
		if (!strcmp(d.insts[i].id, "i-app2"))
			found = d.insts[i].presence == SG_DIFF_ONLY_NEW;
	cr_assert(found);
}

Test(diff, all_traffic_and_icmpv6_nd)
{
	run(HEAD "      - { protocol: tcp, ports: 22, source: 203.0.113.10/32 "
		 "}\n" INST,
	    HEAD
	    "      - { protocol: tcp, ports: 22, source: 203.0.113.10/32 }\n"
	    "      - { protocol: all, source: 198.51.100.0/24 }\n"
	    "      - { protocol: icmpv6, source: \"::/0\" }\n" INST);
	cr_assert_str_eq(changes("i-web1", SG_DIR_IN),
			 "+all traffic 198.51.100.0/24 [all traffic from "
			 "198.51.100.0/24] | "
			 "+icmpv6 types 0-132 ::/0 [icmpv6 all from ::/0] | "
			 "+icmpv6 types 138-255 ::/0 [icmpv6 all from ::/0]");
}

Test(diff, all_traffic_narrowed_folds_protocols)
{
	run(HEAD "      - { protocol: all, source: 10.0.0.0/8 }\n" INST, HEAD
	    "      - { protocol: tcp, ports: 22, source: 10.0.0.0/8 }\n" INST);
	cr_assert_str_eq(
		changes("i-web1", SG_DIR_IN),
		"-protocol 0 10.0.0.0/8 [all traffic from 10.0.0.0/8] | "
		"-icmp (all types) 10.0.0.0/8 [all traffic from 10.0.0.0/8] | "
		"-protocols 2-5 10.0.0.0/8 [all traffic from 10.0.0.0/8] | "
		"-tcp/0-21 10.0.0.0/8 [all traffic from 10.0.0.0/8] | "
		"-tcp/23-65535 10.0.0.0/8 [all traffic from 10.0.0.0/8] | "
		"-protocols 7-16 10.0.0.0/8 [all traffic from 10.0.0.0/8] | "
		"-udp/0-65535 10.0.0.0/8 [all traffic from 10.0.0.0/8] | "
		"-protocols 18-255 10.0.0.0/8 [all traffic from 10.0.0.0/8]");
}

Test(diff, compact_form_outer_except_holes)
{
	struct sg_prefix outer, *holes;
	size_t nholes;
	char pb[64];

	run(HEAD "      - { protocol: tcp, ports: 22, source: "
		 "\"2001:db8:100::10/128\" }\n" INST,
	    HEAD "      - { protocol: tcp, ports: 22, source: "
		 "\"2001:db8:100::/48\" }\n" INST);
	cr_assert_eq(d.nchanges, 1);
	/* Exact: 80 prefixes, the /48 less one address. */
	cr_assert_eq(d.changes[0].nprefixes, 80);
	cr_assert_eq(sg_diff_compact(&d.changes[0], &outer, &holes, &nholes),
		     1);
	cr_assert_str_eq(sg_prefix_str(&outer, pb, sizeof(pb)),
			 "2001:db8:100::/48");
	cr_assert_eq(nholes, 1);
	cr_assert_str_eq(sg_prefix_str(&holes[0], pb, sizeof(pb)),
			 "2001:db8:100::10/128");
	free(holes);
}

/* ---- random cross-check against the reference model ---- */

static __u64 rng = 0x2545f4914f6cdd1dULL;

static __u32 rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (__u32)(rng >> 11);
}

static bool covered(const struct sg_ref_pkt *p, const char *inst)
{
	int port = p->proto == SG_PROTO_TCP || p->proto == SG_PROTO_UDP
			   ? p->dport
		   : sg_ref_is_icmp(p->family, p->proto)
			   ? p->icmp_type << 8 | p->icmp_code
			   : 0;

	for (size_t i = 0; i < d.nchanges; i++) {
		const struct sg_diff_change *c = &d.changes[i];

		if (strcmp(d.insts[c->inst].id, inst) || c->dir != p->dir ||
		    c->family != p->family)
			continue;
		if (c->proto != SG_PROTO_ALL &&
		    (p->proto < c->proto || p->proto > c->proto_hi))
			continue;
		if (port < c->lo || port > c->hi)
			continue;
		for (size_t k = 0; k < c->nprefixes; k++) {
			struct sg_prefix one = {.family = (uint8_t)p->family,
						.len = p->family == 6 ? 128
								      : 32};

			memcpy(one.addr, p->remote, 16);
			if (sg_prefix_contains(&c->prefixes[k], &one))
				return true;
		}
	}
	return false;
}

Test(diff, agrees_with_the_model)
{
	const char *old =
		"prefix_lists:\n"
		"  pl-x: { max_entries: 3, entries: [10.0.0.0/8, 10.1.0.0/16, "
		"\"2001:db8::/32\"] }\n"
		"security_groups:\n"
		"  sg-a:\n"
		"    inbound:\n"
		"      - { protocol: tcp, ports: 20-30, source: 10.0.0.0/8 }\n"
		"      - { protocol: udp, ports: 53, source: pl-x }\n"
		"      - { protocol: icmp, icmp_type: 8, source: 10.2.0.0/16 "
		"}\n"
		"      - { protocol: tcp, ports: 5000-6000, source: sg-a }\n"
		"  sg-b:\n"
		"    outbound:\n"
		"      - { protocol: tcp, ports: 443, destination: 0.0.0.0/0 "
		"}\n"
		"instances:\n"
		"  i-1: { ips: [10.1.1.1, \"2001:db8::1\"], security_groups: "
		"[sg-a] }\n"
		"  i-2: { ips: [10.3.1.1], security_groups: [sg-a, sg-b] }\n";
	const char *new =
		"prefix_lists:\n"
		"  pl-x: { max_entries: 3, entries: [10.0.0.0/9, 10.1.0.0/16, "
		"\"2001:db8::/48\"] }\n"
		"security_groups:\n"
		"  sg-a:\n"
		"    inbound:\n"
		"      - { protocol: tcp, ports: 25-40, source: 10.0.0.0/9 }\n"
		"      - { protocol: udp, ports: 50-60, source: pl-x }\n"
		"      - { protocol: icmp, source: 10.2.3.0/24 }\n"
		"      - { protocol: 47, source: 10.0.0.0/8 }\n"
		"      - { protocol: tcp, ports: 5000-6000, source: sg-a }\n"
		"  sg-b:\n"
		"    outbound:\n"
		"      - { protocol: all, destination: 10.0.0.0/8 }\n"
		"instances:\n"
		"  i-1: { ips: [10.1.1.1, \"2001:db8::1\"], security_groups: "
		"[sg-a] }\n"
		"  i-2: { ips: [10.3.1.1], security_groups: [sg-a, sg-b] }\n"
		"  i-3: { ips: [10.200.1.1], security_groups: [sg-a] }\n";
	static const int protos[] = {6, 17, 1, 58, 47, 132};
	const char *insts[] = {"i-1", "i-2"};
	int ndiffer = 0, nsame = 0;

	run(old, new);
	for (int n = 0; n < 20000; n++) {
		struct sg_ref_pkt p = {};
		struct sg_ref_result ra = {}, rb = {};
		const char *id = insts[rnd() % 2];

		p.dir = (int)(rnd() % 2);
		p.family = rnd() % 4 ? 4 : 6;
		p.proto = protos[rnd() % 6];
		if ((p.proto == 1 && p.family == 6) ||
		    (p.proto == 58 && p.family == 4))
			continue;
		if (p.family == 4) {
			static const __u8 firsts[] = {10, 10, 10, 203};
			__u32 v = rnd();

			p.remote[0] = firsts[rnd() % 4];
			p.remote[1] = (__u8)(rnd() % 3 ? v % 4 : 200 + v % 3);
			p.remote[2] = (__u8)(rnd() % 2 ? 1 : rnd());
			p.remote[3] = (__u8)(rnd() % 2 ? 1 : rnd());
		} else {
			p.remote[0] = 0x20;
			p.remote[1] = 0x01;
			p.remote[2] = 0x0d;
			p.remote[3] = 0xb8;
			p.remote[5] = (__u8)(rnd() % 3);
			p.remote[15] = (__u8)(rnd() % 3);
		}
		p.sport = 40000;
		p.dport = (int)(rnd() % 70);
		if (rnd() % 4 == 0)
			p.dport = 4990 + (int)(rnd() % 20);
		p.icmp_type = (int)(rnd() % 12);
		p.icmp_code = (int)(rnd() % 2);

		size_t ia = (size_t)sg_config_find_instance(&a, id);
		size_t ib = (size_t)sg_config_find_instance(&b, id);

		cr_assert_eq(sg_ref_decide(&a, ia, &p, false, &ra), 0);
		cr_assert_eq(sg_ref_decide(&b, ib, &p, false, &rb), 0);
		bool differ = ra.accept != rb.accept;

		ndiffer += differ;
		nsame += !differ;

		cr_assert_eq(differ, covered(&p, id),
			     "%s dir %d family %d proto %d remote %u.%u.%u.%u "
			     "port %d type %d: old %d new %d\n%s",
			     id, p.dir, p.family, p.proto, p.remote[0],
			     p.remote[1], p.remote[2], p.remote[3], p.dport,
			     p.icmp_type, ra.accept, rb.accept,
			     changes(id, p.dir));
		sg_ref_result_free(&ra);
		sg_ref_result_free(&rb);
	}
	/* Both outcomes were tried often. */
	cr_assert_gt(ndiffer, 1000, "%d", ndiffer);
	cr_assert_gt(nsame, 1000, "%d", nsame);
}
