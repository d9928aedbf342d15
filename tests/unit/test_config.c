// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The YAML parser and validator: the model it builds and every diagnostic. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <linux/types.h>

#include "sgctl.h"

#include "config/model.h"
#include "config/prefix.h"

static struct sg_config cfg;
static struct sg_diag diag;
static char *out; /* sg_diag_print() of the last parse */

static void setup(void)
{
	memset(&cfg, 0, sizeof(cfg));
	sg_diag_init(&diag);
	out = NULL;
}

static void teardown(void)
{
	sg_config_free(&cfg);
	sg_diag_free(&diag);
	free(out);
}

TestSuite(config, .init = setup, .fini = teardown);

static int parse(const char *yaml)
{
	size_t len = 0;
	FILE *f;
	int rc;

	rc = sg_config_parse_string("t.yaml", yaml, strlen(yaml), &cfg, &diag);
	free(out);
	f = open_memstream(&out, &len);
	cr_assert(f);
	sg_diag_print(&diag, f);
	fclose(f);
	return rc;
}

/* The file must fail with exactly this one error line. */
static void expect_error(const char *yaml, const char *line)
{
	char want[1024];
	int rc = parse(yaml);

	snprintf(want, sizeof(want), "%s\n", line);
	cr_assert_eq(rc, -EINVAL, "rc %d, diagnostics:\n%s", rc, out);
	cr_assert_eq(diag.nerrors, 1, "want one error, got:\n%s", out);
	cr_assert(strstr(out, want), "want:\n%sgot:\n%s", want, out);
	/* On error the config is left empty. */
	cr_assert_eq(cfg.ngroups, 0);
	cr_assert_null(cfg.vpc);
}

static void expect_ok(const char *yaml)
{
	int rc = parse(yaml);

	cr_assert_eq(rc, 0, "rc %d, diagnostics:\n%s", rc, out);
	cr_assert_eq(diag.nerrors, 0);
}

static const struct sg_group *group(const char *id)
{
	int i = sg_config_find_group(&cfg, id);

	cr_assert_geq(i, 0, "no group %s", id);
	return &cfg.groups[i];
}

static const char *pstr(const struct sg_prefix *p)
{
	static char buf[64];

	return sg_prefix_str(p, buf, sizeof(buf));
}

static const char spec_example[] =
	"vpc: vpc-lab                 # optional, default vpc-default\n"
	"region: lab-1                # optional, default local\n"
	"account: \"111122223333\"      # optional\n"
	"prefix_lists:                # optional\n"
	"  pl-office:\n"
	"    max_entries: 4\n"
	"    entries: [203.0.113.0/28, \"2001:db8:100::/48\"]\n"
	"security_groups:\n"
	"  sg-ssh:\n"
	"    name: ssh-admin\n"
	"    description: SSH from my computer only\n"
	"    inbound:\n"
	"      - type: ssh\n"
	"        source: 203.0.113.10/32\n"
	"        description: my computer\n"
	"    # no outbound key: default egress\n"
	"  sg-web:\n"
	"    inbound:\n"
	"      - { type: http, source: [0.0.0.0/0, \"::/0\"] }\n"
	"      - { protocol: tcp, ports: 8080-8089, source: sg-lb }\n"
	"      - { protocol: icmp, icmp_type: 8, source: pl-office }\n"
	"    outbound:\n"
	"      - { type: postgresql, destination: sg-db }\n"
	"  sg-db:\n"
	"    inbound:\n"
	"      - { type: postgresql, source: sg-web }\n"
	"    outbound: []\n"
	"instances:\n"
	"  i-web1:\n"
	"    interface: veth-web1\n"
	"    ips: [198.18.1.10, \"2001:db8:1::10\"]\n"
	"    security_groups: [sg-web, sg-ssh]\n"
	"    source_dest_check: true  # optional\n"
	"    conntrack: { tcp_established: 432000, udp_stream: 180, udp: 30, "
	"max_entries: 65536 }\n"
	"  i-db1:\n"
	"    ips: [198.18.2.10]\n"
	"    security_groups: [sg-db]\n";

Test(config, spec_example)
{
	const struct sg_group *ssh, *web, *db, *def, *lb;
	const struct sg_instance *web1, *db1;
	const struct sg_prefix_list *pl;

	expect_ok(spec_example);
	cr_assert_str_eq(cfg.vpc, "vpc-lab");
	cr_assert_str_eq(cfg.region, "lab-1");
	cr_assert_str_eq(cfg.account, "111122223333");

	cr_assert_eq(cfg.nprefix_lists, 1);
	pl = &cfg.prefix_lists[0];
	cr_assert_str_eq(pl->id, "pl-office");
	cr_assert_eq(pl->max_entries, 4);
	cr_assert_eq(pl->nentries, 2);
	cr_assert_str_eq(pstr(&pl->entries[0]), "203.0.113.0/28");
	cr_assert_str_eq(pstr(&pl->entries[1]), "2001:db8:100::/48");
	cr_assert_eq(pl->pos.line, 5);

	/* Three written, the VPC's default, and sg-lb: referenced only. */
	cr_assert_eq(cfg.ngroups, 5);
	ssh = group("sg-ssh");
	cr_assert_str_eq(ssh->name, "ssh-admin");
	cr_assert_str_eq(ssh->description, "SSH from my computer only");
	cr_assert_eq(ssh->nrules, 3);
	cr_assert_eq(ssh->rules[0].dir, SG_DIR_IN);
	cr_assert_eq(ssh->rules[0].proto, 6);
	cr_assert_eq(ssh->rules[0].port_lo, 22);
	cr_assert_eq(ssh->rules[0].port_hi, 22);
	cr_assert_eq(ssh->rules[0].peer_kind, SG_PEER_CIDR);
	cr_assert_str_eq(pstr(&ssh->rules[0].cidr), "203.0.113.10/32");
	cr_assert_str_eq(ssh->rules[0].text,
			 "ssh (tcp/22) from 203.0.113.10/32");
	cr_assert_str_eq(ssh->rules[0].peer_text, "203.0.113.10/32");
	cr_assert_str_eq(ssh->rules[0].description, "my computer");
	cr_assert_eq(ssh->rules[0].pos.line, 13);
	cr_assert_eq(ssh->rules[0].pos.col, 9);
	/* Default egress: no outbound key. */
	cr_assert_eq(ssh->rules[1].dir, SG_DIR_OUT);
	cr_assert_eq(ssh->rules[1].proto, SG_PROTO_ALL);
	cr_assert_str_eq(pstr(&ssh->rules[1].cidr), "0.0.0.0/0");
	cr_assert_str_eq(pstr(&ssh->rules[2].cidr), "::/0");
	cr_assert_str_eq(ssh->rules[1].text,
			 "all traffic to 0.0.0.0/0 (default egress)");

	web = group("sg-web");
	cr_assert_null(web->name);
	cr_assert_eq(web->nrules, 5);
	cr_assert_str_eq(web->rules[0].text, "http (tcp/80) from 0.0.0.0/0");
	cr_assert_str_eq(web->rules[1].text, "http (tcp/80) from ::/0");
	cr_assert_eq(web->rules[0].pos.line, web->rules[1].pos.line);
	cr_assert_str_eq(web->rules[2].text, "tcp/8080-8089 from sg-lb");
	cr_assert_eq(web->rules[2].port_lo, 8080);
	cr_assert_eq(web->rules[2].port_hi, 8089);
	cr_assert_eq(web->rules[2].peer_kind, SG_PEER_GROUP);
	cr_assert_str_eq(web->rules[3].text, "icmp type 8 from pl-office");
	cr_assert_eq(web->rules[3].icmp_type, 8);
	cr_assert_eq(web->rules[3].icmp_code, SG_ANY);
	cr_assert_eq(web->rules[3].port_lo, -1);
	cr_assert_eq(web->rules[3].peer_kind, SG_PEER_PREFIX_LIST);
	cr_assert_eq(web->rules[3].peer_index, 0);
	cr_assert_str_eq(web->rules[4].text, "postgresql (tcp/5432) to sg-db");
	cr_assert_eq(web->rules[4].dir, SG_DIR_OUT);
	cr_assert_eq(web->rules[4].peer_index,
		     sg_config_find_group(&cfg, "sg-db"));

	db = group("sg-db");
	cr_assert_eq(db->nrules, 1); /* outbound: [] means none */

	def = group("sg-default");
	cr_assert(def->implicit);
	cr_assert_str_eq(def->name, "default");

	/* sg-lb is referenced, never defined: a warning and an empty group. */
	lb = group("sg-lb");
	cr_assert(lb->undefined);
	cr_assert_eq(lb->nrules, 0);
	cr_assert_eq(web->rules[2].peer_index,
		     sg_config_find_group(&cfg, "sg-lb"));
	cr_assert_eq(diag.nwarnings, 1);
	cr_assert(strstr(out, "sgctl: t.yaml:20:52: warning: security group "
			      "sg-lb is not defined"),
		  "%s", out);

	cr_assert_eq(cfg.ninstances, 2);
	web1 = &cfg.instances[sg_config_find_instance(&cfg, "i-web1")];
	cr_assert_str_eq(web1->interface, "veth-web1");
	cr_assert_eq(web1->nips, 2);
	cr_assert_str_eq(pstr(&web1->ips[0]), "198.18.1.10/32");
	cr_assert_str_eq(pstr(&web1->ips[1]), "2001:db8:1::10/128");
	cr_assert_eq(web1->ngroups, 2);
	cr_assert_eq(web1->groups[0], sg_config_find_group(&cfg, "sg-web"));
	cr_assert_eq(web1->groups[1], sg_config_find_group(&cfg, "sg-ssh"));
	cr_assert(web1->source_dest_check);
	db1 = &cfg.instances[sg_config_find_instance(&cfg, "i-db1")];
	cr_assert_null(db1->interface);
	cr_assert(db1->source_dest_check);
	cr_assert_eq(db1->ct.tcp_established, 432000);
	cr_assert_eq(db1->ct.udp_stream, 180);
	cr_assert_eq(db1->ct.udp, 30);
	cr_assert_eq(db1->ct.max_entries, 65536);
	cr_assert_eq(sg_config_find_instance(&cfg, "i-nope"), -1);
	cr_assert_eq(sg_config_find_group(&cfg, "sg-nope"), -1);
}

Test(config, empty_file_has_default_group)
{
	const struct sg_group *def;

	expect_ok("");
	cr_assert_str_eq(cfg.vpc, "vpc-default");
	cr_assert_str_eq(cfg.region, "local");
	cr_assert_str_eq(cfg.account, "000000000000");
	cr_assert_eq(cfg.ngroups, 1);
	def = group("sg-default");
	cr_assert(def->implicit);
	cr_assert_eq(def->nrules, 3);
	cr_assert_eq(def->rules[0].dir, SG_DIR_IN);
	cr_assert_eq(def->rules[0].proto, SG_PROTO_ALL);
	cr_assert_eq(def->rules[0].peer_kind, SG_PEER_GROUP);
	cr_assert_eq(def->rules[0].peer_index, 0); /* itself */
	cr_assert_str_eq(def->rules[0].text, "all traffic from sg-default");
	cr_assert_eq(def->rules[1].dir, SG_DIR_OUT);
	cr_assert_str_eq(pstr(&def->rules[1].cidr), "0.0.0.0/0");
	cr_assert_str_eq(pstr(&def->rules[2].cidr), "::/0");
}

Test(config, presets)
{
	static const struct {
		const char *type;
		int proto, lo, hi, itype;
		const char *text;
	} t[] = {
		{"ssh", 6, 22, 22, -1, "ssh (tcp/22) from 10.0.0.0/8"},
		{"dns-udp", 17, 53, 53, -1, "dns-udp (udp/53) from 10.0.0.0/8"},
		{"winrm-https", 6, 5986, 5986, -1, NULL},
		{"all-traffic", SG_PROTO_ALL, -1, -1, -1,
		 "all-traffic (all) from 10.0.0.0/8"},
		{"all-tcp", 6, 0, 65535, -1,
		 "all-tcp (tcp/0-65535) from 10.0.0.0/8"},
		{"all-udp", 17, 0, 65535, -1, NULL},
		{"all-icmp", 1, -1, -1, SG_ANY,
		 "all-icmp (icmp all) from 10.0.0.0/8"},
		{"all-icmpv6", 58, -1, -1, SG_ANY, NULL},
	};
	char yaml[256];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct sg_rule *r;

		snprintf(yaml, sizeof(yaml),
			 "security_groups:\n  sg-a:\n    inbound:\n"
			 "      - { type: %s, source: 10.0.0.0/8 }\n",
			 t[i].type);
		expect_ok(yaml);
		r = &group("sg-a")->rules[0];
		cr_assert_eq(r->proto, t[i].proto, "%s", t[i].type);
		cr_assert_eq(r->port_lo, t[i].lo, "%s", t[i].type);
		cr_assert_eq(r->port_hi, t[i].hi, "%s", t[i].type);
		cr_assert_eq(r->icmp_type, t[i].itype, "%s", t[i].type);
		if (t[i].text)
			cr_assert_str_eq(r->text, t[i].text);
		sg_config_free(&cfg);
	}
}

Test(config, protocols_and_ports)
{
	const struct sg_group *g;

	expect_ok("security_groups:\n"
		  "  sg-a:\n"
		  "    inbound:\n"
		  "      - { protocol: 6, ports: 443, source: 10.0.0.0/8 }\n"
		  "      - { protocol: UDP, ports: all, source: 10.0.0.0/8 }\n"
		  "      - { protocol: 47, source: 10.0.0.0/8 }\n"
		  "      - { protocol: -1, source: 10.0.0.0/8 }\n"
		  "      - { protocol: icmpv6, icmp_type: 1, icmp_code: 4, "
		  "source: \"::/0\" }\n"
		  "      - { protocol: icmp, source: 10.0.0.0/8 }\n"
		  "    outbound: []\n");
	g = group("sg-a");
	cr_assert_eq(g->nrules, 6);
	cr_assert_str_eq(g->rules[0].text, "tcp/443 from 10.0.0.0/8");
	cr_assert_eq(g->rules[1].proto, 17);
	cr_assert_eq(g->rules[1].port_lo, 0);
	cr_assert_eq(g->rules[1].port_hi, 65535);
	cr_assert_eq(g->rules[2].proto, 47);
	cr_assert_eq(g->rules[2].port_lo, -1);
	cr_assert_eq(g->rules[2].icmp_type, -1);
	cr_assert_str_eq(g->rules[2].text, "protocol 47 from 10.0.0.0/8");
	cr_assert_eq(g->rules[3].proto, SG_PROTO_ALL);
	cr_assert_str_eq(g->rules[3].text, "all traffic from 10.0.0.0/8");
	cr_assert_eq(g->rules[4].proto, 58);
	cr_assert_eq(g->rules[4].icmp_type, 1);
	cr_assert_eq(g->rules[4].icmp_code, 4);
	cr_assert_str_eq(g->rules[4].text, "icmpv6 type 1 code 4 from ::/0");
	cr_assert_eq(g->rules[5].icmp_type, SG_ANY);
	cr_assert_str_eq(g->rules[5].text, "icmp all from 10.0.0.0/8");
}

Test(config, source_list_shares_pos_and_description)
{
	const struct sg_group *g;

	expect_ok("security_groups:\n"
		  "  sg-a:\n"
		  "    inbound:\n"
		  "      - type: https\n"
		  "        source: [10.0.0.0/8, sg-a, \"2001:db8::/32\"]\n"
		  "        description: office\n");
	g = group("sg-a");
	cr_assert_eq(g->nrules, 5);
	cr_assert_eq(g->rules[0].peer_kind, SG_PEER_CIDR);
	cr_assert_eq(g->rules[1].peer_kind, SG_PEER_GROUP);
	cr_assert_eq(g->rules[1].peer_index, 0); /* self-reference */
	cr_assert_eq(g->rules[2].cidr.family, 6);
	cr_assert_str_eq(g->rules[1].text, "https (tcp/443) from sg-a");
	cr_assert_str_eq(g->rules[2].description, "office");
	cr_assert_eq(g->rules[0].pos.line, 4);
	cr_assert_eq(g->rules[2].pos.line, 4);
}

Test(config, explicit_default_group)
{
	const struct sg_group *g;

	expect_ok("security_groups:\n"
		  "  sg-0abc:\n"
		  "    name: default\n"
		  "    inbound:\n"
		  "      - { type: ssh, source: 10.0.0.0/8 }\n"
		  "instances:\n"
		  "  i-a:\n"
		  "    ips: [10.1.1.1]\n");
	cr_assert_eq(cfg.ngroups, 1);
	cr_assert_eq(sg_config_find_group(&cfg, "sg-default"), -1);
	g = group("sg-0abc");
	cr_assert(!g->implicit);
	/* Exactly its rules, plus default egress (no outbound key). */
	cr_assert_eq(g->nrules, 3);
	cr_assert_eq(cfg.instances[0].ngroups, 1);
	cr_assert_eq(cfg.instances[0].groups[0], 0);
}

Test(config, sg_default_id_is_the_default_group)
{
	expect_ok("security_groups:\n  sg-default:\n    outbound: []\n");
	cr_assert_eq(cfg.ngroups, 1);
	cr_assert_str_eq(cfg.groups[0].name, "default");
	cr_assert_eq(cfg.groups[0].nrules, 0);
}

Test(config, instance_without_groups_gets_default)
{
	expect_ok(
		"security_groups:\n  sg-a: {}\n"
		"instances:\n  i-a: { ips: [10.1.1.1], security_groups: [] }\n"
		"  i-b: { ips: 10.1.1.2 }\n");
	cr_assert_eq(cfg.instances[0].ngroups, 1);
	cr_assert_eq(cfg.instances[0].groups[0],
		     sg_config_find_group(&cfg, "sg-default"));
	cr_assert_eq(cfg.instances[1].groups[0],
		     sg_config_find_group(&cfg, "sg-default"));
}

Test(config, instance_group_by_name)
{
	expect_ok("security_groups:\n  sg-a: { name: web }\n"
		  "instances:\n  eni-1: { ips: [10.1.1.1], security_groups: "
		  "[web, default] }\n");
	cr_assert_eq(cfg.instances[0].ngroups, 2);
	cr_assert_eq(cfg.instances[0].groups[0], 0);
	cr_assert_eq(cfg.instances[0].groups[1],
		     sg_config_find_group(&cfg, "sg-default"));
}

Test(config, conntrack_and_source_check)
{
	expect_ok("instances:\n"
		  "  i-a:\n"
		  "    ips: [10.1.1.1]\n"
		  "    source_dest_check: false\n"
		  "    conntrack: { tcp_established: 60, udp_stream: 60, udp: "
		  "60, max_entries: 1 }\n");
	cr_assert(!cfg.instances[0].source_dest_check);
	cr_assert_eq(cfg.instances[0].ct.tcp_established, 60);
	cr_assert_eq(cfg.instances[0].ct.udp_stream, 60);
	cr_assert_eq(cfg.instances[0].ct.udp, 60);
	cr_assert_eq(cfg.instances[0].ct.max_entries, 1);
}

Test(config, host_bits_masked_with_warning)
{
	const struct sg_group *g;

	expect_ok("security_groups:\n"
		  "  sg-a:\n"
		  "    inbound:\n"
		  "      - { type: ssh, source: 10.8.10.0/16 }\n");
	g = group("sg-a");
	cr_assert_str_eq(pstr(&g->rules[0].cidr), "10.8.0.0/16");
	cr_assert_str_eq(g->rules[0].peer_text, "10.8.10.0/16");
	cr_assert_eq(diag.nwarnings, 1);
	cr_assert_str_eq(out, "sgctl: t.yaml:4:30: warning: 10.8.10.0/16 has "
			      "host bits set; using 10.8.0.0/16\n");
}

/* ---- One test per error kind ---- */

Test(config, err_port_out_of_range)
{
	expect_error("security_groups:\n"
		     "  sg-a:\n"
		     "    inbound:\n"
		     "      - protocol: tcp\n"
		     "        ports: 70000\n"
		     "        source: 10.0.0.0/8\n",
		     "sgctl: t.yaml:5:16: InvalidPermission.Malformed: TCP "
		     "port 70000 out of range 0-65535");
}

Test(config, err_port_range_reversed)
{
	expect_error(
		"security_groups:\n  sg-a:\n    inbound:\n"
		"      - { protocol: udp, ports: 90-80, source: 10.0.0.0/8 }\n",
		"sgctl: t.yaml:4:33: InvalidPermission.Malformed: UDP port "
		"range 90-80 is reversed: the first port must not be above the "
		"last");
}

Test(config, err_ports_missing)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { protocol: tcp, source: 10.0.0.0/8 }\n",
		     "sgctl: t.yaml:4:9: MissingParameter: tcp rules need "
		     "ports (N, N-M or all)");
}

Test(config, err_ports_on_icmp)
{
	expect_error(
		"security_groups:\n  sg-a:\n    inbound:\n"
		"      - { protocol: icmp, ports: 8, source: 10.0.0.0/8 }\n",
		"sgctl: t.yaml:4:34: InvalidPermission.Malformed: ports apply "
		"only to tcp and udp, not to icmp");
}

Test(config, err_type_and_protocol)
{
	expect_error(
		"security_groups:\n  sg-a:\n    inbound:\n"
		"      - { type: ssh, protocol: tcp, source: 10.0.0.0/8 }\n",
		"sgctl: t.yaml:4:32: InvalidPermission.Malformed: a rule takes "
		"type or protocol, not both");
}

Test(config, err_unknown_type)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { type: telnet, source: 10.0.0.0/8 }\n",
		     "sgctl: t.yaml:4:17: InvalidParameterValue: unknown rule "
		     "type 'telnet' (expected a preset such as ssh, http, "
		     "all-traffic; or use protocol)");
}

Test(config, err_unknown_protocol)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { protocol: 256, source: 10.0.0.0/8 }\n",
		     "sgctl: t.yaml:4:21: InvalidParameterValue: unknown "
		     "protocol '256' (expected tcp, udp, icmp, icmpv6, all, -1 "
		     "or a number 0-255)");
}

Test(config, err_icmp_code_without_type)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { protocol: icmp, icmp_code: 0, source: "
		     "10.0.0.0/8 }\n",
		     "sgctl: t.yaml:4:38: InvalidPermission.Malformed: "
		     "icmp_code needs an icmp_type");
}

Test(config, err_icmp_type_on_tcp)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { protocol: tcp, ports: 22, icmp_type: 8, "
		     "source: 10.0.0.0/8 }\n",
		     "sgctl: t.yaml:4:48: InvalidPermission.Malformed: "
		     "icmp_type applies only to icmp and icmpv6");
}

Test(config, err_icmp_type_range)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { protocol: icmp, icmp_type: 300, source: "
		     "10.0.0.0/8 }\n",
		     "sgctl: t.yaml:4:38: InvalidPermission.Malformed: ICMP "
		     "type 300 out of range 0-255");
}

Test(config, err_source_in_outbound)
{
	expect_error("security_groups:\n  sg-a:\n    outbound:\n"
		     "      - { type: ssh, source: 10.0.0.0/8 }\n",
		     "sgctl: t.yaml:4:22: InvalidPermission.Malformed: "
		     "outbound rules take 'destination', not 'source'");
}

Test(config, err_missing_source)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { type: ssh }\n",
		     "sgctl: t.yaml:4:9: MissingParameter: inbound rules need "
		     "a source");
}

Test(config, err_rule_needs_type_or_protocol)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { ports: 22, source: 10.0.0.0/8 }\n",
		     "sgctl: t.yaml:4:9: MissingParameter: a rule needs a type "
		     "or a protocol");
}

Test(config, err_unknown_rule_key)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { type: ssh, source: 10.0.0.0/8, port: 22 }\n",
		     "sgctl: t.yaml:4:42: InvalidParameterValue: unknown rule "
		     "key 'port' (expected type, protocol, ports, icmp_type, "
		     "icmp_code, source, description, id, tags, outside)");
}

Test(config, err_bad_cidr)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { type: ssh, source: 10.0.0.300/8 }\n",
		     "sgctl: t.yaml:4:30: InvalidParameterValue: "
		     "'10.0.0.300/8' is not a CIDR, a security group (sg-...) "
		     "or a prefix list (pl-...)");
	sg_diag_free(&diag);
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { type: ssh, source: 10.0.0.1 }\n",
		     "sgctl: t.yaml:4:30: InvalidParameterValue: '10.0.0.1' is "
		     "not a CIDR: write 10.0.0.1/32");
}

Test(config, err_unknown_prefix_list)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { type: ssh, source: pl-nope }\n",
		     "sgctl: t.yaml:4:30: InvalidPrefixListID.NotFound: prefix "
		     "list pl-nope does not exist");
}

Test(config, err_unknown_group_in_instance)
{
	expect_error("instances:\n  i-a:\n    ips: [10.1.1.1]\n"
		     "    security_groups: [sg-nope]\n",
		     "sgctl: t.yaml:4:23: InvalidGroup.NotFound: security "
		     "group sg-nope does not exist in vpc-default");
}

Test(config, err_malformed_group_reference)
{
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { type: ssh, source: \"sg-a b\" }\n",
		     "sgctl: t.yaml:4:30: InvalidGroup.NotFound: security "
		     "group sg-a b does not exist in vpc-default");
}

Test(config, err_undefined_group_cannot_be_carried)
{
	/* A rule may name an undefined group; an instance may not carry it. */
	expect_error("security_groups:\n  sg-a:\n    inbound:\n"
		     "      - { type: ssh, source: sg-x }\n"
		     "instances:\n  i-a: { ips: [10.1.1.1], security_groups: "
		     "[sg-x] }\n",
		     "sgctl: t.yaml:6:45: InvalidGroup.NotFound: security "
		     "group sg-x does not exist in vpc-default");
	cr_assert_eq(diag.nwarnings, 1);
}

Test(config, err_duplicate_rule)
{
	expect_error(
		"security_groups:\n  sg-a:\n    inbound:\n"
		"      - { type: ssh, source: 10.0.0.0/8 }\n"
		"      - { protocol: tcp, ports: 22, source: 10.1.0.0/8 }\n",
		"sgctl: t.yaml:5:45: InvalidPermission.Duplicate: sg-a already "
		"has this rule: ssh (tcp/22) from 10.0.0.0/8 (line 4)");
	cr_assert_eq(diag.nwarnings, 1); /* 10.1.0.0/8 has host bits */
}

Test(config, err_duplicate_group_id)
{
	expect_error("security_groups:\n  sg-a: {}\n  sg-a: {}\n",
		     "sgctl: t.yaml:3:3: InvalidGroup.Duplicate: duplicate "
		     "security group 'sg-a' (first at line 2)");
}

Test(config, err_duplicate_group_name)
{
	expect_error("security_groups:\n  sg-a: { name: web }\n  sg-b: { name: "
		     "web }\n",
		     "sgctl: t.yaml:3:3: InvalidGroup.Duplicate: group name "
		     "'web' is already used by sg-a (line 2)");
}

Test(config, err_second_default_group)
{
	expect_error("security_groups:\n  sg-a: { name: default }\n  sg-b: { "
		     "name: default }\n",
		     "sgctl: t.yaml:3:3: InvalidGroup.Duplicate: the VPC "
		     "already has a default group (sg-a, line 2); only one "
		     "group may be named default");
}

Test(config, err_sg_default_reserved)
{
	expect_error("security_groups:\n  sg-default: { name: web }\n",
		     "sgctl: t.yaml:2:3: InvalidGroup.Reserved: sg-default is "
		     "the id of the VPC's default group; its name must be "
		     "default, not 'web'");
}

Test(config, err_duplicate_key)
{
	expect_error("vpc: vpc-a\nregion: r\nvpc: vpc-b\n",
		     "sgctl: t.yaml:3:1: InvalidParameterValue: duplicate key "
		     "'vpc' (first at line 1)");
}

Test(config, err_unknown_top_level_key)
{
	expect_error("vpc: vpc-a\ngroups: {}\n",
		     "sgctl: t.yaml:2:1: InvalidParameterValue: unknown key "
		     "'groups' (expected vpc, region, account, quotas, "
		     "prefix_lists, security_groups, instances)");
}

Test(config, err_yaml_syntax)
{
	expect_error("vpc: vpc-a\nsecurity_groups:\n  sg-a: [\n",
		     "sgctl: t.yaml:4:1: did not find expected node content "
		     "(while parsing a flow node at line 4 column 1)");
}

Test(config, err_account)
{
	expect_error("account: 1234\n",
		     "sgctl: t.yaml:1:10: InvalidParameterValue: account must "
		     "be 12 digits, not '1234'");
}

Test(config, err_bad_ids)
{
	expect_error("security_groups:\n  web: {}\n",
		     "sgctl: t.yaml:2:3: InvalidParameterValue: security group "
		     "id 'web' must be sg- followed by letters, digits, '-', "
		     "'_' or '.' (at most 63 characters)");
	sg_diag_free(&diag);
	expect_error("instances:\n  web1: { ips: [10.1.1.1] }\n",
		     "sgctl: t.yaml:2:3: InvalidParameterValue: instance id "
		     "'web1' must be i- or eni- followed by letters, digits, "
		     "'-', '_' or '.' (at most 63 characters)");
}

Test(config, err_description_too_long)
{
	char yaml[1024];

	snprintf(yaml, sizeof(yaml),
		 "security_groups:\n  sg-a:\n    description: %0256d\n", 0);
	expect_error(yaml, "sgctl: t.yaml:3:18: InvalidParameterValue: "
			   "description is longer than 255 characters");
}

Test(config, err_prefix_list)
{
	expect_error("prefix_lists:\n  pl-a:\n    max_entries: 1\n"
		     "    entries: [10.0.0.0/8, 11.0.0.0/8]\n",
		     "sgctl: t.yaml:4:14: InvalidParameterValue: prefix list "
		     "pl-a has 2 entries, more than its max_entries 1");
	sg_diag_free(&diag);
	expect_error("prefix_lists:\n  pl-a:\n    max_entries: 1001\n",
		     "sgctl: t.yaml:3:18: InvalidParameterValue: max_entries "
		     "must be a number from 1 to 1000");
}

Test(config, err_rules_per_group_limit)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	int i;

	fprintf(f, "security_groups:\n  sg-a:\n    inbound:\n");
	/* 60 IPv4 and 60 IPv6 rules: within the quota (per family). */
	for (i = 0; i < 60; i++)
		fprintf(f,
			"      - { type: ssh, source: [10.0.%d.0/24, "
			"\"2001:db8:%x::/48\"] }\n",
			i, i);
	fclose(f);
	expect_ok(yaml);
	sg_config_free(&cfg);
	free(yaml);

	yaml = NULL;
	f = open_memstream(&yaml, &len);
	fprintf(f, "security_groups:\n  sg-a:\n    inbound:\n");
	for (i = 0; i < 61; i++)
		fprintf(f, "      - { type: ssh, source: 10.0.%d.0/24 }\n", i);
	fclose(f);
	expect_error(yaml,
		     "sgctl: t.yaml:64:30: RulesPerSecurityGroupLimitExceeded: "
		     "sg-a has more than 60 inbound IPv4 rules (this rule "
		     "brings it to 61); if the account's quota is higher, "
		     "say so: --quota rules_per_group=N or `quotas: "
		     "{rules_per_group: N}` in the config (at most 1000 / "
		     "groups per instance)");
	free(yaml);
}

Test(config, err_prefix_list_counts_max_entries)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	int i;

	fprintf(f, "prefix_lists:\n  pl-a: { max_entries: 50, entries: "
		   "[10.0.0.0/8] }\n"
		   "security_groups:\n  sg-a:\n    outbound:\n"
		   "      - { type: ssh, destination: pl-a }\n");
	for (i = 0; i < 11; i++)
		fprintf(f, "      - { type: ssh, destination: 11.0.%d.0/24 }\n",
			i);
	fclose(f);
	expect_error(yaml,
		     "sgctl: t.yaml:17:35: RulesPerSecurityGroupLimitExceeded: "
		     "sg-a has more than 60 outbound IPv4 rules (this rule "
		     "brings it to 61); if the account's quota is higher, "
		     "say so: --quota rules_per_group=N or `quotas: "
		     "{rules_per_group: N}` in the config (at most 1000 / "
		     "groups per instance)");
	free(yaml);
}

Test(config, err_groups_per_instance)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	int i;

	fprintf(f, "security_groups:\n");
	for (i = 0; i < 17; i++)
		fprintf(f, "  sg-%d: {}\n", i);
	fprintf(f, "instances:\n  i-a:\n    ips: [10.1.1.1]\n    "
		   "security_groups: [");
	for (i = 0; i < 17; i++)
		fprintf(f, "%ssg-%d", i ? ", " : "", i);
	fprintf(f, "]\n");
	fclose(f);
	expect_error(
		yaml,
		"sgctl: t.yaml:22:22: SecurityGroupsPerInterfaceLimitExceeded: "
		"i-a has 17 security groups; the limit is 16");
	free(yaml);
}

Test(config, err_rules_per_instance)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&yaml, &len);
	int i;

	/* A group with 60 IPv4 + 60 IPv6 inbound rules counts 120 here:
	 * 9 of them make 1080. */
	fprintf(f, "security_groups:\n  sg-big:\n    inbound:\n");
	for (i = 0; i < 60; i++)
		fprintf(f,
			"      - { type: ssh, source: [10.0.%d.0/24, "
			"\"2001:db8:%x::/48\"] }\n",
			i, i);
	for (i = 0; i < 8; i++)
		fprintf(f, "  sg-%d: {}\n", i);
	fprintf(f, "instances:\n  i-a:\n    ips: [10.1.1.1]\n    "
		   "security_groups: [sg-big");
	for (i = 0; i < 8; i++)
		fprintf(f, ", sg-%d", i);
	fprintf(f, "]\n");
	fclose(f);
	expect_error(yaml,
		     "sgctl: t.yaml:75:22: RulesPerSecurityGroupLimitExceeded: "
		     "i-a: 9 groups x 120 rules (sg-big) = 1080, above the "
		     "limit of 1000 rules per interface");
	free(yaml);
}

Test(config, err_duplicate_ip)
{
	expect_error("instances:\n  i-a: { ips: [10.1.1.1] }\n  i-b: { ips: "
		     "[10.1.1.1/32] }\n",
		     "sgctl: t.yaml:3:16: InvalidParameterValue: address "
		     "10.1.1.1 is already used by i-a (line 2)");
}

Test(config, err_ip_is_network)
{
	expect_error("instances:\n  i-a: { ips: [10.1.1.0/24] }\n",
		     "sgctl: t.yaml:2:16: InvalidParameterValue: ips takes "
		     "addresses, not networks: '10.1.1.0/24'");
}

Test(config, err_missing_ips)
{
	expect_error(
		"instances:\n  i-a: { interface: eth0 }\n",
		"sgctl: t.yaml:2:3: MissingParameter: instance i-a needs ips");
}

Test(config, err_duplicate_group_in_instance)
{
	expect_error("security_groups:\n  sg-a: {}\n"
		     "instances:\n  i-a: { ips: [10.1.1.1], security_groups: "
		     "[sg-a, sg-a] }\n",
		     "sgctl: t.yaml:4:51: InvalidParameterValue: i-a lists "
		     "sg-a twice");
}

Test(config, err_conntrack_range)
{
	expect_error("instances:\n  i-a:\n    ips: [10.1.1.1]\n"
		     "    conntrack: { udp: 61 }\n",
		     "sgctl: t.yaml:4:23: InvalidParameterValue: conntrack udp "
		     "must be a number from 30 to 60");
}

Test(config, err_interface)
{
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], interface: "
		     "a-very-long-interface }\n",
		     "sgctl: t.yaml:2:38: InvalidParameterValue: interface "
		     "'a-very-long-interface' is not a valid interface name "
		     "(1-15 characters, no '/', ':' or spaces)");
	sg_diag_free(&diag);
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], interface: eth0 }\n"
		     "  i-b: { ips: [10.1.1.2], interface: eth0 }\n",
		     "sgctl: t.yaml:3:3: InvalidParameterValue: interface eth0 "
		     "is already used by i-a (line 2)");
}

Test(config, err_source_dest_check)
{
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], source_dest_check: "
		     "maybe }\n",
		     "sgctl: t.yaml:2:46: InvalidParameterValue: "
		     "source_dest_check must be true or false");
}

Test(config, several_errors_all_reported_in_order)
{
	int rc = parse(
		"vpc: vpc-a\n"
		"colour: blue\n"
		"security_groups:\n"
		"  sg-a:\n"
		"    inbound:\n"
		"      - { protocol: tcp, ports: 99999, source: 10.0.0.0/8 }\n"
		"      - { type: ssh, source: sg-nope b }\n"
		"      - { type: ssh, source: 10.9.9.9/8 }\n"
		"instances:\n"
		"  i-a: { ips: [10.1.1.1], security_groups: [sg-zzz] }\n");

	cr_assert_eq(rc, -EINVAL);
	cr_assert_eq(diag.nerrors, 4, "%s", out);
	cr_assert_eq(diag.nwarnings, 1, "%s", out);
	cr_assert_str_eq(out,
			 "sgctl: t.yaml:2:1: InvalidParameterValue: unknown "
			 "key 'colour' (expected vpc, region, account, "
			 "quotas, prefix_lists, security_groups, instances)\n"
			 "sgctl: t.yaml:6:33: InvalidPermission.Malformed: TCP "
			 "port 99999 out of range 0-65535\n"
			 "sgctl: t.yaml:7:30: InvalidGroup.NotFound: security "
			 "group sg-nope b does not exist in vpc-a\n"
			 "sgctl: t.yaml:8:30: warning: 10.9.9.9/8 has host "
			 "bits set; using 10.0.0.0/8\n"
			 "sgctl: t.yaml:10:45: InvalidGroup.NotFound: security "
			 "group sg-zzz does not exist in vpc-a\n");
	cr_assert_eq(cfg.ngroups, 0);
}

Test(config, non_utf8_input)
{
	static const char bad[] = "vpc: vpc-a\nregion: \xff\xfe\n";

	cr_assert_eq(sg_config_parse_string("t.yaml", bad, sizeof(bad) - 1,
					    &cfg, &diag),
		     -EINVAL);
	cr_assert_eq(diag.nerrors, 1);
	cr_assert_eq(diag.entries[0].pos.line, 2);
	cr_assert_eq(diag.entries[0].pos.col, 9);
	cr_assert_str_eq(
		diag.entries[0].message,
		"invalid UTF-8 (byte 0xff): the config must be UTF-8 text");
}

Test(config, nul_and_huge_input)
{
	static const char nul[] = "vpc: a\0b\n";
	size_t big = (16u << 20) + 1;
	char *text = malloc(big);

	cr_assert_eq(sg_config_parse_string("t.yaml", nul, sizeof(nul) - 1,
					    &cfg, &diag),
		     -EINVAL);
	cr_assert_eq(diag.entries[0].pos.col, 7);
	cr_assert(text);
	memset(text, '#', big);
	cr_assert_eq(sg_config_parse_string("t.yaml", text, big, &cfg, &diag),
		     -EINVAL);
	cr_assert_eq(diag.nerrors, 2);
	cr_assert_str_eq(diag.entries[1].message,
			 "the config is larger than 16 MiB");
	free(text);
}

Test(config, second_document)
{
	expect_error("vpc: vpc-a\n---\nvpc: vpc-b\n",
		     "sgctl: t.yaml:2:1: a config holds one YAML document; "
		     "this is a second one");
}

Test(config, alias_bomb_is_bounded)
{
	char *yaml = NULL;
	size_t len = 0;
	FILE *f;
	int i;

	/* Each *r names a rule with 1000 sources: 20000 x 1000 if walked. */
	f = open_memstream(&yaml, &len);
	fprintf(f, "security_groups:\n  sg-a:\n    inbound: [&r { protocol: "
		   "all, source: [");
	for (i = 0; i < 1000; i++)
		fprintf(f, "%s10.%d.%d.0/24", i ? "," : "", i / 256, i % 256);
	fprintf(f, "] }");
	for (i = 0; i < 20000; i++)
		fprintf(f, ", *r");
	fprintf(f, "]\n");
	fclose(f);
	cr_assert_eq(parse(yaml), -EINVAL);
	cr_assert(strstr(out, "the document is too complex"), "%.300s", out);
	free(yaml);
}

Test(config, parse_file)
{
	char path[] = "/tmp/sgctl-test-XXXXXX";
	const char *paths[] = {path};
	static const char *const missing[] = {"/nonexistent/x.yaml"};
	int fd = mkstemp(path);
	static const char text[] = "vpc: vpc-a\nbogus: 1\n";

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1),
		     (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_assert_eq(sg_config_parse_files(paths, 1, &cfg, &diag), -EINVAL);
	cr_assert_eq(diag.nerrors, 1);
	cr_assert_str_eq(diag.entries[0].pos.file, path);
	cr_assert_eq(diag.entries[0].pos.line, 2);
	unlink(path);
	/* A file that cannot be read is an error naming it. */
	cr_assert_eq(sg_config_parse_files(missing, 1, &cfg, &diag), -EINVAL);
	cr_assert_eq(diag.nerrors, 2);
	cr_assert_str_eq(diag.entries[1].pos.file, missing[0]);
	cr_assert_str_eq(diag.entries[1].message, "No such file or directory");
}

/* ---- prefix.c ---- */

Test(prefix, parse_and_format)
{
	struct sg_prefix p;
	bool masked;
	char buf[64];

	cr_assert_eq(sg_prefix_parse("198.18.1.10", &p, &masked), 0);
	cr_assert_eq(p.family, 4);
	cr_assert_eq(p.len, 32);
	cr_assert(!masked);
	cr_assert_str_eq(sg_prefix_str(&p, buf, sizeof(buf)), "198.18.1.10/32");

	cr_assert_eq(sg_prefix_parse("2001:db8::1", &p, NULL), 0);
	cr_assert_eq(p.family, 6);
	cr_assert_eq(p.len, 128);

	cr_assert_eq(sg_prefix_parse("2001:db8:ffff::/32", &p, &masked), 0);
	cr_assert(masked);
	cr_assert_str_eq(sg_prefix_str(&p, buf, sizeof(buf)), "2001:db8::/32");

	cr_assert_eq(sg_prefix_parse("0.0.0.0/0", &p, &masked), 0);
	cr_assert_eq(p.len, 0);
	cr_assert(!masked);

	cr_assert_eq(sg_prefix_parse("10.0.0.0/33", &p, NULL), -EINVAL);
	cr_assert_eq(sg_prefix_parse("10.0.0.0/", &p, NULL), -EINVAL);
	cr_assert_eq(sg_prefix_parse("10.0.0.0/-1", &p, NULL), -EINVAL);
	cr_assert_eq(sg_prefix_parse("10.0.0/8", &p, NULL), -EINVAL);
	cr_assert_eq(sg_prefix_parse("::/129", &p, NULL), -EINVAL);
	cr_assert_eq(sg_prefix_parse("", &p, NULL), -EINVAL);
	cr_assert_eq(sg_prefix_parse("sg-a", &p, NULL), -EINVAL);
}

Test(prefix, contains)
{
	struct sg_prefix a, b;

	sg_prefix_parse("10.0.0.0/8", &a, NULL);
	sg_prefix_parse("10.1.2.3", &b, NULL);
	cr_assert(sg_prefix_contains(&a, &b));
	cr_assert(!sg_prefix_contains(&b, &a));
	cr_assert(sg_prefix_contains(&a, &a));
	sg_prefix_parse("11.0.0.0/8", &b, NULL);
	cr_assert(!sg_prefix_contains(&a, &b));
	sg_prefix_parse("10.128.0.0/9", &a, NULL);
	sg_prefix_parse("10.127.255.255/32", &b, NULL);
	cr_assert(!sg_prefix_contains(&a, &b));
	sg_prefix_parse("0.0.0.0/0", &a, NULL);
	cr_assert(sg_prefix_contains(&a, &b));
	/* Families never mix: ::/0 does not hold IPv4. */
	sg_prefix_parse("::/0", &a, NULL);
	cr_assert(!sg_prefix_contains(&a, &b));
	sg_prefix_parse("2001:db8::/33", &a, NULL);
	sg_prefix_parse("2001:db8:7fff::1", &b, NULL);
	cr_assert(sg_prefix_contains(&a, &b));
	sg_prefix_parse("2001:db8:8000::1", &b, NULL);
	cr_assert(!sg_prefix_contains(&a, &b));
}

/* ---- diag.c ---- */

Test(diag, print_formats)
{
	struct sg_diag d;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	const char *file;

	sg_diag_init(&d);
	file = sg_diag_intern(&d, "lab.yaml");
	cr_assert_eq(sg_diag_intern(&d, "lab.yaml"), file);
	sg_error(&d, ((struct sg_pos){file, 14, 17}),
		 "InvalidPermission.Malformed",
		 "TCP port %d out of range 0-65535", 70000);
	sg_error(&d, ((struct sg_pos){file, 2, 1}), NULL, "plain");
	sg_warn(&d, ((struct sg_pos){file, 3, 5}), "careful");
	cr_assert_eq(d.nerrors, 2);
	cr_assert_eq(d.nwarnings, 1);
	f = open_memstream(&text, &len);
	sg_diag_print(&d, f);
	fclose(f);
	cr_assert_str_eq(text,
			 "sgctl: lab.yaml:14:17: InvalidPermission.Malformed: "
			 "TCP port 70000 out of range 0-65535\n"
			 "sgctl: lab.yaml:2:1: plain\n"
			 "sgctl: lab.yaml:3:5: warning: careful\n");
	free(text);
	sg_diag_free(&d);
}

Test(config, rule_ids_written_or_derived)
{
	const char *y = "security_groups:\n"
			"  sg-a:\n"
			"    inbound:\n"
			"      - { type: ssh, source: 10.0.0.1/8 }\n"
			"      - { type: http, source: 0.0.0.0/0, "
			"id: sgr-0123456789abcdef0 }\n";
	const char *y2 = "security_groups:\n"
			 "  sg-a:\n"
			 "    inbound:\n"
			 "      - { type: ssh, source: 10.0.0.0/8 }\n";
	struct sg_config c2 = {0};
	struct sg_diag d2;
	char first[SG_RULE_ID_SIZE];
	size_t g, r;

	cr_assert_eq(sg_config_parse_string("t.yaml", y, strlen(y), &cfg,
					    &diag),
		     0);
	g = (size_t)sg_config_find_group(&cfg, "sg-a");
	cr_assert(sg_rule_id_valid(cfg.groups[g].rules[0].id));
	cr_assert_str_eq(cfg.groups[g].rules[1].id, "sgr-0123456789abcdef0");
	cr_assert(sg_config_find_rule(&cfg, "sgr-0123456789abcdef0", &g, &r));
	cr_assert_eq(r, 1);
	memcpy(first, cfg.groups[g].rules[0].id, sizeof(first));
	/* The enforced CIDR names the rule, not the text. */
	sg_diag_init(&d2);
	cr_assert_eq(sg_config_parse_string("u.yaml", y2, strlen(y2), &c2, &d2),
		     0);
	g = (size_t)sg_config_find_group(&c2, "sg-a");
	cr_assert_str_eq(c2.groups[g].rules[0].id, first);
	sg_config_free(&c2);
	sg_diag_free(&d2);
}
