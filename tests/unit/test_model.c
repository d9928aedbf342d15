// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The reference model (loader/compile/refmodel.c) against hand-written cases of
 * docs/semantics.md §2-3: each test writes a small config, asks about one new
 * flow, and states the verdict, the rule and the tracking by hand. No
 * kernel, no compiler: these pin down what "right" means for `check`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <linux/types.h>

#include "sgctl.h"

#include "config/model.h"
#include "compile/refmodel.h"

/* Questions are written { inst, dir, proto, remote, port [, code] }. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

static struct sg_config cfg;
static struct sg_diag diag;
static struct sg_ref_result res;

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	memset(&res, 0, sizeof(res));
	sg_diag_init(&diag);
}

static void teardown(void)
{
	sg_ref_result_free(&res);
	sg_config_free(&cfg);
	sg_diag_free(&diag);
}

TestSuite(model, .init = setup, .fini = teardown);

static void load(const char *yaml)
{
	int rc = sg_config_parse_string("t.yaml", yaml, strlen(yaml), &cfg,
					&diag);

	if (rc || diag.nerrors)
		sg_diag_print(&diag, stderr);
	cr_assert_eq(rc, 0, "config does not parse");
	cr_assert_eq(diag.nerrors, 0);
}

struct q {
	const char *inst;
	int dir;
	const char *proto; /* "tcp", "udp", "icmp", "icmpv6", or a number */
	const char *remote;
	int port;  /* tcp/udp destination port; icmp type */
	int code;  /* icmp code */
	int sport; /* 0: an ephemeral 40000 */
	bool ct_full;
};

static struct sg_ref_pkt pkt_of(const struct q *q)
{
	struct sg_ref_pkt p = {0};

	p.dir = q->dir;
	p.family = strchr(q->remote, ':') ? 6 : 4;
	cr_assert_eq(inet_pton(p.family == 6 ? AF_INET6 : AF_INET, q->remote,
			       p.remote),
		     1, "bad address %s", q->remote);
	if (!strcmp(q->proto, "tcp"))
		p.proto = 6;
	else if (!strcmp(q->proto, "udp"))
		p.proto = 17;
	else if (!strcmp(q->proto, "icmp"))
		p.proto = 1;
	else if (!strcmp(q->proto, "icmpv6"))
		p.proto = 58;
	else
		p.proto = atoi(q->proto);
	p.sport = q->sport ? q->sport : 40000;
	p.dport = q->port;
	p.icmp_type = q->port;
	p.icmp_code = q->code;
	return p;
}

static void ask(const struct q *q)
{
	int i = sg_config_find_instance(&cfg, q->inst);
	struct sg_ref_pkt p = pkt_of(q);

	cr_assert_geq(i, 0, "no instance %s", q->inst);
	sg_ref_result_free(&res);
	cr_assert_eq(sg_ref_decide(&cfg, (size_t)i, &p, q->ct_full, &res), 0);
}

#define IN  SG_DIR_IN
#define OUT SG_DIR_OUT

/* Does any matching rule have this text? */
static bool matched_text(const char *text)
{
	for (size_t i = 0; i < res.nmatches; i++)
		if (!strcmp(cfg.groups[res.matches[i].group]
				    .rules[res.matches[i].rule]
				    .text,
			    text))
			return true;
	return false;
}

static const struct sg_rule *near_rule(size_t i)
{
	cr_assert_lt(i, res.nnear);
	return &cfg.groups[res.near[i].group].rules[res.near[i].rule];
}

#define ACCEPTS(...)                                                           \
	do {                                                                   \
		struct q q_ = {__VA_ARGS__};                                   \
		ask(&q_);                                                      \
		cr_assert(res.accept, "%s %s %d from %s: want ACCEPT",         \
			  q_.inst, q_.proto, q_.port, q_.remote);              \
	} while (0)

#define REJECTS(...)                                                           \
	do {                                                                   \
		struct q q_ = {__VA_ARGS__};                                   \
		ask(&q_);                                                      \
		cr_assert(!res.accept, "%s %s %d from %s: want REJECT",        \
			  q_.inst, q_.proto, q_.port, q_.remote);              \
	} while (0)

static const char *seed =
	"security_groups:\n"
	"  sg-ssh:\n"
	"    inbound:\n"
	"      - type: ssh\n"
	"        source: 203.0.113.10/32\n"
	"        description: my computer\n"
	"      - { protocol: tcp, ports: 8080-8089, source: 203.0.113.10/32 }\n"
	"      - { protocol: udp, ports: 53, source: \"2001:db8:100::/48\" }\n"
	"instances:\n"
	"  i-web1:\n"
	"    ips: [198.18.1.10, \"2001:db8:1::10\"]\n"
	"    security_groups: [sg-ssh]\n";

Test(model, ssh_from_my_computer_only)
{
	load(seed);
	ACCEPTS("i-web1", IN, "tcp", "203.0.113.10", 22);
	cr_assert_eq(res.reason, SG_REF_BY_RULE);
	cr_assert_eq(res.nmatches, 1);
	cr_assert(matched_text("ssh (tcp/22) from 203.0.113.10/32"));
	cr_assert_str_eq(cfg.groups[res.matches[0].group]
				 .rules[res.matches[0].rule]
				 .description,
			 "my computer");
	cr_assert(res.tracked);

	REJECTS("i-web1", IN, "tcp", "198.51.100.20", 22);
	cr_assert_eq(res.reason, SG_REF_NO_RULE);
	cr_assert_eq(res.nmatches, 0);
	/* right port, wrong source: the SSH rule is the closest */
	cr_assert_geq(res.nnear, 1);
	cr_assert_str_eq(near_rule(0)->text,
			 "ssh (tcp/22) from 203.0.113.10/32");
	cr_assert_eq(res.near[0].miss, SG_REF_MISS_PEER);
}

Test(model, port_ranges_are_inclusive)
{
	load(seed);
	ACCEPTS("i-web1", IN, "tcp", "203.0.113.10", 8080);
	ACCEPTS("i-web1", IN, "tcp", "203.0.113.10", 8085);
	ACCEPTS("i-web1", IN, "tcp", "203.0.113.10", 8089);
	REJECTS("i-web1", IN, "tcp", "203.0.113.10", 8079);
	REJECTS("i-web1", IN, "tcp", "203.0.113.10", 8090);
	/* right source, wrong port: both tcp rules are one miss away */
	cr_assert_eq(res.nnear, 2);
	cr_assert_eq(res.near[0].miss, SG_REF_MISS_PORT);
	cr_assert_eq(res.near[1].miss, SG_REF_MISS_PORT);
}

Test(model, only_the_destination_port_is_matched)
{
	load(seed);
	REJECTS("i-web1", IN, "tcp", "203.0.113.10", 40000, .sport = 22);
	ACCEPTS("i-web1", IN, "tcp", "203.0.113.10", 22, .sport = 9);
}

Test(model, protocol_must_match)
{
	load(seed);
	REJECTS("i-web1", IN, "udp", "203.0.113.10", 22);
	cr_assert_geq(res.nnear, 1);
	cr_assert_eq(res.near[0].miss, SG_REF_MISS_PROTO);
	ACCEPTS("i-web1", IN, "udp", "2001:db8:100::5", 53);
	REJECTS("i-web1", IN, "tcp", "2001:db8:100::5", 53);
}

Test(model, families_never_mix)
{
	load(seed);
	/* An IPv6 source is not in an IPv4 CIDR, and the other way. */
	REJECTS("i-web1", IN, "tcp", "::ffff:203.0.113.10", 22);
	REJECTS("i-web1", IN, "udp", "203.0.113.10", 53);
	/* and an IPv6-only rule is no near miss for an IPv4 remote */
	for (size_t i = 0; i < res.nnear; i++)
		cr_assert_neq(near_rule(i)->proto, 17);
}

Test(model, outbound_rules_do_not_apply_inbound)
{
	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound: []\n"
	     "    outbound:\n"
	     "      - { type: https, destination: 192.0.2.0/24 }\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1], security_groups: [sg-a] }\n");
	ACCEPTS("i-a", OUT, "tcp", "192.0.2.7", 443);
	REJECTS("i-a", IN, "tcp", "192.0.2.7", 443);
	cr_assert_eq(res.nnear, 0);
	REJECTS("i-a", OUT, "tcp", "192.0.3.7", 443);
	REJECTS("i-a", OUT, "tcp", "192.0.2.7", 80);
}

Test(model, union_of_groups)
{
	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound: [ { type: http, source: 0.0.0.0/0 } ]\n"
	     "  sg-b:\n"
	     "    inbound: [ { type: https, source: 0.0.0.0/0 } ]\n"
	     "  sg-c:\n"
	     "    inbound: [ { type: ssh, source: 192.0.2.1/32 } ]\n"
	     "instances:\n"
	     "  i-ab: { ips: [198.18.1.1], security_groups: [sg-a, sg-b] }\n"
	     "  i-c: { ips: [198.18.1.2], security_groups: [sg-c] }\n");
	ACCEPTS("i-ab", IN, "tcp", "198.51.100.1", 80);
	ACCEPTS("i-ab", IN, "tcp", "198.51.100.1", 443);
	REJECTS("i-ab", IN, "tcp", "192.0.2.1", 22);
	/* sg-c belongs to another instance: not part of i-ab's policy */
	for (size_t i = 0; i < res.nnear; i++)
		cr_assert_neq(res.near[i].group,
			      sg_config_find_group(&cfg, "sg-c"));
	ACCEPTS("i-c", IN, "tcp", "192.0.2.1", 22);
	REJECTS("i-c", IN, "tcp", "198.51.100.1", 80);
}

Test(model, overlapping_rules_all_match)
{
	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound:\n"
	     "      - { type: ssh, source: [10.0.0.0/8, 10.1.0.0/16] }\n"
	     "      - { type: all-tcp, source: 10.1.2.3/32 }\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1], security_groups: [sg-a] }\n");
	ACCEPTS("i-a", IN, "tcp", "10.1.2.3", 22);
	cr_assert_eq(res.nmatches, 3);
	ACCEPTS("i-a", IN, "tcp", "10.9.9.9", 22);
	cr_assert_eq(res.nmatches, 1);
	ACCEPTS("i-a", IN, "tcp", "10.1.2.3", 0);
	ACCEPTS("i-a", IN, "tcp", "10.1.2.3", 65535);
}

Test(model, host_bits_are_masked)
{
	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound: [ { type: ssh, source: 10.8.10.0/16 } ]\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1], security_groups: [sg-a] }\n");
	ACCEPTS("i-a", IN, "tcp", "10.8.200.1", 22);
	REJECTS("i-a", IN, "tcp", "10.9.0.1", 22);
}

Test(model, prefix_lists)
{
	load("prefix_lists:\n"
	     "  pl-office:\n"
	     "    max_entries: 4\n"
	     "    entries: [203.0.113.0/28, \"2001:db8:100::/48\"]\n"
	     "security_groups:\n"
	     "  sg-a:\n"
	     "    inbound:\n"
	     "      - { protocol: icmp, icmp_type: 8, source: pl-office }\n"
	     "      - { protocol: icmpv6, icmp_type: 128, source: pl-office }\n"
	     "      - { type: ssh, source: pl-office }\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1], security_groups: [sg-a] }\n");
	ACCEPTS("i-a", IN, "tcp", "203.0.113.15", 22);
	REJECTS("i-a", IN, "tcp", "203.0.113.16", 22);
	ACCEPTS("i-a", IN, "tcp", "2001:db8:100:ff::1", 22);
	ACCEPTS("i-a", IN, "icmp", "203.0.113.1", 8, 0);
	ACCEPTS("i-a", IN, "icmpv6", "2001:db8:100::1", 128, 0);
	REJECTS("i-a", IN, "icmpv6", "2001:db8:200::1", 128, 0);
	cr_assert_geq(res.nnear, 1);
	cr_assert_eq(res.near[0].miss, SG_REF_MISS_PEER);
}

Test(model, group_references_match_member_addresses)
{
	load("security_groups:\n"
	     "  sg-web:\n"
	     "    inbound: []\n"
	     "  sg-db:\n"
	     "    inbound:\n"
	     "      - { type: postgresql, source: sg-web }\n"
	     "      - { protocol: all, source: sg-db }\n"
	     "    outbound: []\n"
	     "instances:\n"
	     "  i-web1: { ips: [198.18.1.10, \"2001:db8:1::10\"], "
	     "security_groups: [sg-web] }\n"
	     "  i-web2: { ips: [198.18.1.11], security_groups: [sg-web] }\n"
	     "  i-db1: { ips: [198.18.2.10], security_groups: [sg-db] }\n"
	     "  i-db2: { ips: [198.18.2.11], security_groups: [sg-db] }\n");
	/* every configured IP of every member, both families */
	ACCEPTS("i-db1", IN, "tcp", "198.18.1.10", 5432);
	ACCEPTS("i-db1", IN, "tcp", "198.18.1.11", 5432);
	ACCEPTS("i-db1", IN, "tcp", "2001:db8:1::10", 5432);
	REJECTS("i-db1", IN, "tcp", "198.18.1.12", 5432);
	cr_assert_str_eq(near_rule(0)->text,
			 "postgresql (tcp/5432) from sg-web");
	/* the reference is only to addresses: no ports of the web group */
	REJECTS("i-db1", IN, "tcp", "198.18.1.10", 22);
	/* self-reference: the other database, any protocol */
	ACCEPTS("i-db1", IN, "udp", "198.18.2.11", 9);
	ACCEPTS("i-db1", IN, "47", "198.18.2.10", 0);
	/* outbound: [] allows nothing, not even to a member */
	REJECTS("i-db1", OUT, "tcp", "198.18.2.11", 5432);
}

Test(model, default_egress_and_empty_outbound)
{
	load("security_groups:\n"
	     "  sg-open:\n"
	     "    inbound: []\n"
	     "  sg-closed:\n"
	     "    inbound: []\n"
	     "    outbound: []\n"
	     "instances:\n"
	     "  i-open: { ips: [198.18.1.1], security_groups: [sg-open] }\n"
	     "  i-closed: { ips: [198.18.1.2], security_groups: [sg-closed] "
	     "}\n");
	ACCEPTS("i-open", OUT, "tcp", "192.0.2.1", 443);
	ACCEPTS("i-open", OUT, "udp", "2001:db8::53", 53);
	ACCEPTS("i-open", OUT, "icmp", "192.0.2.1", 8, 0);
	ACCEPTS("i-open", OUT, "132", "192.0.2.1", 0);
	REJECTS("i-open", IN, "tcp", "192.0.2.1", 443);
	REJECTS("i-closed", OUT, "tcp", "192.0.2.1", 443);
	REJECTS("i-closed", OUT, "icmp", "192.0.2.1", 8, 0);
}

Test(model, default_group)
{
	load("security_groups: {}\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1] }\n"
	     "  i-b: { ips: [198.18.1.2] }\n");
	/* the VPC's default group: inbound from itself, outbound anywhere */
	ACCEPTS("i-a", IN, "tcp", "198.18.1.2", 22);
	ACCEPTS("i-a", IN, "udp", "198.18.1.1", 9);
	REJECTS("i-a", IN, "tcp", "192.0.2.1", 22);
	ACCEPTS("i-a", OUT, "tcp", "192.0.2.1", 22);
	cr_assert_str_eq(cfg.groups[res.matches[0].group].id, "sg-default");
}

Test(model, icmp_types_and_codes)
{
	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound:\n"
	     "      - { protocol: icmp, icmp_type: 8, source: 0.0.0.0/0 }\n"
	     "      - { protocol: icmp, icmp_type: 3, icmp_code: 4, "
	     "source: 0.0.0.0/0 }\n"
	     "      - { protocol: icmpv6, source: \"::/0\" }\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1], security_groups: [sg-a] }\n");
	ACCEPTS("i-a", IN, "icmp", "192.0.2.1", 8, 0);
	ACCEPTS("i-a", IN, "icmp", "192.0.2.1", 8, 7); /* all codes of 8 */
	REJECTS("i-a", IN, "icmp", "192.0.2.1", 0, 0);
	cr_assert_geq(res.nnear, 1);
	cr_assert_eq(res.near[0].miss, SG_REF_MISS_ICMP);
	ACCEPTS("i-a", IN, "icmp", "192.0.2.1", 3, 4);
	REJECTS("i-a", IN, "icmp", "192.0.2.1", 3, 3);
	ACCEPTS("i-a", IN, "icmpv6", "2001:db8::1", 1, 0);
	ACCEPTS("i-a", IN, "icmpv6", "2001:db8::1", 128, 0);
	/* ICMP is not icmpv6 */
	REJECTS("i-a", IN, "icmp", "192.0.2.1", 128, 0);
}

Test(model, protocol_numbers_and_all_traffic)
{
	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound:\n"
	     "      - { protocol: 47, source: 192.0.2.0/24 }\n"
	     "      - { type: all-traffic, source: 198.51.100.0/24 }\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1], security_groups: [sg-a] }\n");
	ACCEPTS("i-a", IN, "47", "192.0.2.9", 0);
	REJECTS("i-a", IN, "50", "192.0.2.9", 0);
	REJECTS("i-a", IN, "tcp", "192.0.2.9", 22);
	ACCEPTS("i-a", IN, "tcp", "198.51.100.9", 22);
	ACCEPTS("i-a", IN, "udp", "198.51.100.9", 65535);
	ACCEPTS("i-a", IN, "icmp", "198.51.100.9", 13, 0);
	ACCEPTS("i-a", IN, "50", "198.51.100.9", 0);
	REJECTS("i-a", IN, "50", "2001:db8::9", 0);
}

Test(model, never_filtered)
{
	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound: []\n"
	     "    outbound: []\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1], security_groups: [sg-a] }\n");
	for (int t = 133; t <= 137; t++) {
		ACCEPTS("i-a", IN, "icmpv6", "fe80::1", t, 0);
		cr_assert_eq(res.reason, SG_REF_INFRA);
	}
	REJECTS("i-a", IN, "icmpv6", "fe80::1", 138, 0);
	REJECTS("i-a", IN, "icmpv6", "2001:db8::1", 128, 0);
	ACCEPTS("i-a", IN, "udp", "192.0.2.1", 68, .sport = 67);
	ACCEPTS("i-a", OUT, "udp", "192.0.2.1", 67, .sport = 68);
	ACCEPTS("i-a", OUT, "udp", "ff02::1:2", 547, .sport = 546);
	/* one DHCP port is not enough: sport 68 must not open every port */
	REJECTS("i-a", IN, "udp", "192.0.2.1", 22, .sport = 68);
	REJECTS("i-a", IN, "udp", "192.0.2.1", 67, .sport = 40000);
	REJECTS("i-a", IN, "tcp", "192.0.2.1", 67, .sport = 68);
}

static const char *world =
	"security_groups:\n"
	"  sg-pub:\n"
	"    inbound:\n"
	"      - { type: http, source: [0.0.0.0/0, \"::/0\"] }\n"
	"      - { type: ssh, source: 192.0.2.0/24 }\n"
	"      - { protocol: udp, ports: 53, source: 0.0.0.0/0 }\n"
	"      - { protocol: icmp, source: 0.0.0.0/0 }\n"
	"    outbound:\n"
	"      - { type: all-traffic, destination: 0.0.0.0/0 }\n"
	"  sg-narrow:\n"
	"    inbound:\n"
	"      - { type: http, source: 0.0.0.0/0 }\n"
	"    outbound:\n"
	"      - { type: all-tcp, destination: 0.0.0.0/0 }\n"
	"instances:\n"
	"  i-pub: { ips: [198.18.1.1, \"2001:db8:1::1\"], "
	"security_groups: [sg-pub] }\n"
	"  i-narrow: { ips: [198.18.1.2], security_groups: [sg-narrow] }\n";

Test(model, untracked_flows)
{
	load(world);
	/* /0 rule, and all traffic to 0.0.0.0/0 the other way */
	ACCEPTS("i-pub", IN, "tcp", "198.51.100.1", 80);
	cr_assert_not(res.tracked);
	ACCEPTS("i-pub", IN, "udp", "198.51.100.1", 53);
	cr_assert_not(res.tracked);
	/* the rule's peer is not the world */
	ACCEPTS("i-pub", IN, "tcp", "192.0.2.5", 22);
	cr_assert(res.tracked);
	/* ICMP is always tracked */
	ACCEPTS("i-pub", IN, "icmp", "198.51.100.1", 8, 0);
	cr_assert(res.tracked);
	/* IPv6: egress is only open to the IPv4 world */
	ACCEPTS("i-pub", IN, "tcp", "2001:db8:9::1", 80);
	cr_assert(res.tracked);
	/* outbound: the inbound side is not open to all traffic */
	ACCEPTS("i-pub", OUT, "tcp", "198.51.100.1", 443);
	cr_assert(res.tracked);
	/* egress all-tcp is not "all traffic" */
	ACCEPTS("i-narrow", IN, "tcp", "198.51.100.1", 80);
	cr_assert(res.tracked);
}

Test(model, icmp_other_than_echo_request_is_not_tracked)
{
	load(world);
	ACCEPTS("i-pub", IN, "icmp", "198.51.100.1", 3, 4);
	cr_assert_not(res.tracked);
	ACCEPTS("i-pub", IN, "icmp", "198.51.100.1", 0, 0);
	cr_assert_not(res.tracked);
}

Test(model, full_conntrack_table_rejects_new_tracked_flows)
{
	load(world);
	REJECTS("i-pub", IN, "tcp", "192.0.2.5", 22, .ct_full = true);
	cr_assert_eq(res.reason, SG_REF_CT_FULL);
	cr_assert_eq(res.nmatches, 1); /* the rule that would have allowed it */
	/* untracked flows need no room */
	ACCEPTS("i-pub", IN, "tcp", "198.51.100.1", 80, .ct_full = true);
	ACCEPTS("i-pub", IN, "icmp", "198.51.100.1", 3, 4, .ct_full = true);
	REJECTS("i-pub", IN, "icmp", "198.51.100.1", 8, 0, .ct_full = true);
	cr_assert_eq(res.reason, SG_REF_CT_FULL);
	/* no rule stays "no rule" */
	REJECTS("i-pub", IN, "tcp", "198.51.100.1", 25, .ct_full = true);
	cr_assert_eq(res.reason, SG_REF_NO_RULE);
}

Test(model, explanations)
{
	char buf[512];
	struct sg_ref_pkt p;
	struct q q = {"i-web1", IN, "tcp", "198.51.100.20", 22};

	load(seed);
	ask(&q);
	p = pkt_of(&q);
	sg_ref_explain_miss(&cfg, near_rule(0), &p, res.near[0].miss, buf,
			    sizeof(buf));
	cr_assert(strstr(buf, "right protocol and port"), "%s", buf);
	cr_assert(strstr(buf, "wrong source"), "%s", buf);
	cr_assert(strstr(buf, "198.51.100.20 is not in 203.0.113.10/32"), "%s",
		  buf);

	q.remote = "203.0.113.10";
	q.port = 2222;
	ask(&q);
	p = pkt_of(&q);
	sg_ref_explain_miss(&cfg, near_rule(0), &p, res.near[0].miss, buf,
			    sizeof(buf));
	cr_assert(strstr(buf, "right source"), "%s", buf);
	cr_assert(strstr(buf, "wrong port (the rule allows port 22, not 2222)"),
		  "%s", buf);
}

Test(model, near_misses_are_bounded_and_best_first)
{
	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound:\n"
	     "      - { type: ssh, source: 10.0.0.1/32 }\n"
	     "      - { type: ssh, source: 10.0.0.2/32 }\n"
	     "      - { type: ssh, source: 10.0.0.3/32 }\n"
	     "      - { type: ssh, source: 10.0.0.4/32 }\n"
	     "      - { type: ssh, source: 10.0.0.5/32 }\n"
	     "      - { type: ssh, source: 10.0.0.6/32 }\n"
	     "      - { type: http, source: 10.0.0.9/32 }\n"
	     "      - { type: https, source: 192.0.2.9/32 }\n"
	     "instances:\n"
	     "  i-a: { ips: [198.18.1.1], security_groups: [sg-a] }\n");
	REJECTS("i-a", IN, "tcp", "10.0.0.9", 22);
	/* right source wrong port (http) first, then right port wrong
	 * source, at most SG_REF_MAX_NEAR; the 2-miss https rule is out */
	cr_assert_eq(res.nnear, SG_REF_MAX_NEAR);
	cr_assert_str_eq(near_rule(0)->text, "http (tcp/80) from 10.0.0.9/32");
	for (size_t i = 0; i < res.nnear; i++)
		cr_assert_eq(__builtin_popcount(res.near[i].miss), 1);
}

Test(model, bad_input)
{
	struct sg_ref_pkt p = {.dir = IN, .family = 5, .proto = 6};

	load(seed);
	cr_assert_eq(sg_ref_decide(&cfg, 0, &p, false, &res), -EINVAL);
	p.family = 4;
	cr_assert_eq(sg_ref_decide(&cfg, 7, &p, false, &res), -EINVAL);
}
