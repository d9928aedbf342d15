// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Several inputs, AWS JSON among them (input/, config/load.c), the stored
 * archive, and the nftables export (export_nft.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <linux/types.h>

#include "sgctl.h"

#include "compile/export_nft.h"
#include "input/inputs.h"
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

TestSuite(aws, .init = setup, .fini = teardown);

static void print_diag(void)
{
	size_t len = 0;
	FILE *f;

	free(out);
	f = open_memstream(&out, &len);
	cr_assert(f);
	sg_diag_print(&diag, f);
	fclose(f);
}

/* Inputs in memory: name, text, name, text, ..., NULL. */
static int parse_mem(const char *name, ...)
{
	struct sg_input files[8];
	struct sg_inputs in = {files, 0, {}};
	const char *n = name;
	va_list ap;
	int rc;

	va_start(ap, name);
	while (n) {
		cr_assert_lt(in.n, 8);
		files[in.n].name = (char *)n;
		files[in.n].text = va_arg(ap, char *);
		files[in.n].len = strlen(files[in.n].text);
		in.n++;
		n = va_arg(ap, const char *);
	}
	va_end(ap);
	rc = sg_inputs_parse(&in, &cfg, &diag);
	print_diag();
	return rc;
}

/* tests/aws/NAME, found from this file's place in the tree. */
static const char *data(const char *name)
{
	static char buf[8][1024];
	static int k;
	char src[1024];

	snprintf(src, sizeof(src), "%s", __FILE__);
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/../aws/%s", dirname(src), name);
	return buf[k];
}

static int parse_files(const char *a, const char *b, const char *c)
{
	const char *paths[3] = {data(a), b ? data(b) : NULL,
				c ? data(c) : NULL};
	int rc = sg_config_parse_files(paths, c ? 3 : b ? 2 : 1, &cfg, &diag);

	print_diag();
	return rc;
}

static void expect_ok(int rc)
{
	cr_assert_eq(rc, 0, "rc %d, diagnostics:\n%s", rc, out);
	cr_assert_eq(diag.nerrors, 0, "%s", out);
}

static void expect_line(const char *line)
{
	char want[1024];

	snprintf(want, sizeof(want), "%s\n", line);
	cr_assert(strstr(out, want), "want:\n%sgot:\n%s", want, out);
}

static const struct sg_group *group(const char *id)
{
	int i = sg_config_find_group(&cfg, id);

	cr_assert_geq(i, 0, "no group %s", id);
	return &cfg.groups[i];
}

static const struct sg_instance *instance(const char *id)
{
	int i = sg_config_find_instance(&cfg, id);

	cr_assert_geq(i, 0, "no instance %s", id);
	return &cfg.instances[i];
}

/* The rule of g whose text is text (and its direction). */
static const struct sg_rule *rule(const struct sg_group *g, int dir,
				  const char *text)
{
	for (size_t i = 0; i < g->nrules; i++)
		if (g->rules[i].dir == dir && !strcmp(g->rules[i].text, text))
			return &g->rules[i];
	cr_assert_fail("%s has no %s rule '%s'", g->id,
		       dir == SG_DIR_IN ? "inbound" : "outbound", text);
	return NULL;
}

static const char *ip(const struct sg_prefix *p)
{
	static char buf[64];

	sg_prefix_str(p, buf, sizeof(buf));
	buf[strcspn(buf, "/")] = '\0';
	return buf;
}

/* ---- Realistic files (tests/aws/) ---- */

Test(aws, seed_files_become_the_seed_config)
{
	const struct sg_group *g;
	const struct sg_instance *in;
	const struct sg_rule *r;

	expect_ok(parse_files("seed-sgs.json", "seed-enis.json", NULL));
	cr_assert_str_eq(cfg.vpc, "vpc-0123456789abcdef0");
	cr_assert_str_eq(cfg.account, "111122223333");
	g = group("sg-0a1b2c3d4e5f60001");
	cr_assert_str_eq(g->name, "ssh-admin");
	cr_assert_str_eq(g->description, "SSH from my computer only");
	r = rule(g, SG_DIR_IN, "tcp/22 from 203.0.113.10/32");
	cr_assert_str_eq(r->description, "my computer");
	cr_assert_eq(r->proto, 6);
	cr_assert_eq(r->port_lo, 22);
	cr_assert_eq(r->port_hi, 22);
	rule(g, SG_DIR_IN, "tcp/8080 from 203.0.113.10/32");
	r = rule(g, SG_DIR_OUT, "all traffic to 0.0.0.0/0");
	cr_assert_eq(r->proto, SG_PROTO_ALL);
	rule(g, SG_DIR_OUT, "all traffic to ::/0");
	cr_assert_eq(g->nrules, 4);
	/* No group named default: the VPC's implicit one. */
	cr_assert(group("sg-default")->implicit);

	in = instance("eni-0a1b2c3d4e5f60001");
	cr_assert_eq(in->nips, 2);
	cr_assert_str_eq(ip(&in->ips[0]), "198.18.1.10");
	cr_assert_str_eq(ip(&in->ips[1]), "2001:db8:1::10");
	cr_assert_eq(in->ngroups, 1);
	cr_assert_str_eq(cfg.groups[in->groups[0]].id, "sg-0a1b2c3d4e5f60001");
	cr_assert(in->source_dest_check);
	cr_assert_eq(in->ct.tcp_established, 432000);
}

Test(aws, lab_files_with_a_yaml_prefix_list)
{
	const struct sg_group *web, *db;
	const struct sg_instance *in;
	const struct sg_rule *r;

	expect_ok(parse_files("lab-prefix-lists.yaml", "lab-sgs.json",
			      "lab-enis.json"));
	cr_assert_eq(cfg.ninstances, 4);
	cr_assert_eq(cfg.ngroups, 5, "the file's default group, no other");
	cr_assert_str_eq(group("sg-0d0000000000000a0")->name, "default");
	rule(group("sg-0d0000000000000a0"), SG_DIR_IN,
	     "all traffic from sg-0d0000000000000a0");

	web = group("sg-0e0000000000000b1");
	rule(web, SG_DIR_IN, "tcp/80 from 0.0.0.0/0");
	rule(web, SG_DIR_IN, "tcp/80 from ::/0");
	r = rule(web, SG_DIR_IN, "tcp/8080-8089 from sg-0e0000000000000b2");
	cr_assert_eq(r->peer_kind, SG_PEER_GROUP);
	cr_assert_str_eq(r->description, "from the load balancers");
	r = rule(web, SG_DIR_IN, "icmp type 8 from pl-0f00000000000office");
	cr_assert_eq(r->peer_kind, SG_PEER_PREFIX_LIST);
	cr_assert_eq(r->icmp_type, 8);
	cr_assert_eq(r->icmp_code, SG_ANY);
	r = rule(web, SG_DIR_IN, "icmpv6 all from 2001:db8:100::/48");
	cr_assert_eq(r->proto, 58);
	r = rule(web, SG_DIR_IN, "icmp type 3 code 4 from 0.0.0.0/0");
	cr_assert_eq(r->icmp_code, 4);
	rule(web, SG_DIR_OUT, "tcp/5432 to sg-0e0000000000000b3");
	rule(web, SG_DIR_OUT, "udp/53 to 198.18.0.2/32");
	cr_assert_eq(web->nrules, 8, "no default egress: the JSON lists it");

	db = group("sg-0e0000000000000b3");
	r = rule(db, SG_DIR_IN, "protocol 50 from 198.18.0.0/15");
	cr_assert_eq(r->port_lo, -1);
	for (size_t i = 0; i < db->nrules; i++)
		cr_assert_eq(db->rules[i].dir, SG_DIR_IN,
			     "IpPermissionsEgress [] is no outbound rule");

	in = instance("eni-0a00000000000web2");
	cr_assert_eq(in->nips, 2);
	cr_assert_str_eq(ip(&in->ips[1]), "198.18.1.12");
	in = instance("eni-0a000000000000db1");
	cr_assert_not(in->source_dest_check);
	in = instance("eni-0a00000000000web1");
	cr_assert_eq(in->ngroups, 2);
}

/* ---- Shapes and paths ---- */

#define SG_HEAD                                                                \
	"{\"SecurityGroups\": [{\"GroupId\": \"sg-1\", \"OwnerId\": "          \
	"\"111122223333\", \"VpcId\": \"vpc-a\", "

Test(aws, semantic_errors_name_the_json_path)
{
	cr_assert_eq(parse_mem("sgs.json",
			       SG_HEAD
			       "\"IpPermissions\": ["
			       "{\"IpProtocol\": \"tcp\", \"FromPort\": "
			       "22, \"ToPort\": 22, \"IpRanges\": "
			       "[{\"CidrIp\": \"10.0.0.0/8\"}]},"
			       "{\"IpProtocol\": \"tcp\", \"FromPort\": "
			       "70000, \"ToPort\": 70000, \"IpRanges\": "
			       "[{\"CidrIp\": \"10.0.0.0/8\"}]}]}]}",
			       NULL),
		     -EINVAL);
	expect_line("sgctl: sgs.json: SecurityGroups[0].IpPermissions[1]."
		    "FromPort: InvalidPermission.Malformed: TCP port 70000 "
		    "out of range 0-65535");
	cr_assert_eq(diag.nerrors, 1, "%s", out);
}

Test(aws, validator_errors_carry_the_path_too)
{
	cr_assert_eq(parse_mem("sgs.json",
			       SG_HEAD
			       "\"IpPermissions\": ["
			       "{\"IpProtocol\": \"gre\", \"IpRanges\": "
			       "[{\"CidrIp\": \"10.0.0.0/8\"}]},"
			       "{\"IpProtocol\": \"-1\", \"IpRanges\": "
			       "[{\"CidrIp\": \"10.0.0.300/8\"}]}]}]}",
			       NULL),
		     -EINVAL);
	expect_line("sgctl: sgs.json: SecurityGroups[0].IpPermissions[0]."
		    "IpProtocol: InvalidParameterValue: unknown protocol 'gre' "
		    "(expected tcp, udp, icmp, icmpv6, all, -1 or a number "
		    "0-255)");
	cr_assert(strstr(out, "sgs.json: SecurityGroups[0].IpPermissions[1]."
			      "IpRanges[0].CidrIp: InvalidParameterValue: "
			      "'10.0.0.300/8' is not a CIDR"),
		  "%s", out);
}

Test(aws, syntax_errors_have_line_and_column)
{
	cr_assert_eq(parse_mem("bad.json",
			       "{\n  \"SecurityGroups\": [\n    {\"GroupId\": "
			       "\"sg-1\",, }\n  ]\n}\n",
			       NULL),
		     -EINVAL);
	cr_assert(strstr(out, "sgctl: bad.json:3:"), "%s", out);
	cr_assert(strstr(out, ": JSON: "), "%s", out);
	cr_assert_eq(parse_mem("dup.json",
			       "{\"SecurityGroups\": [], \"SecurityGroups\": "
			       "[]}",
			       NULL),
		     -EINVAL);
	cr_assert(strstr(out, "dup.json:1:"), "%s", out);
}

Test(aws, not_aws_output)
{
	cr_assert_eq(parse_mem("x.json", "{\"Reservations\": []}", NULL),
		     -EINVAL);
	cr_assert(strstr(out, "no SecurityGroups, SecurityGroupRules or "
			      "NetworkInterfaces key"),
		  "%s", out);
	cr_assert_eq(parse_mem("y.json", "\"hello\"", NULL), -EINVAL);
}

Test(aws, missing_group_id)
{
	cr_assert_eq(parse_mem("sgs.json",
			       "{\"SecurityGroups\": [{\"GroupName\": \"x\"}]}",
			       NULL),
		     -EINVAL);
	expect_line("sgctl: sgs.json: SecurityGroups[0]: MissingParameter: "
		    "GroupId is missing");
}

Test(aws, protocols_and_icmp_ports)
{
	const struct sg_group *g;
	const struct sg_rule *r;

	expect_ok(parse_mem(
		"sgs.json",
		SG_HEAD
		"\"IpPermissions\": ["
		"{\"IpProtocol\": \"-1\", \"IpRanges\": [{\"CidrIp\": "
		"\"10.0.0.0/8\"}]},"
		"{\"IpProtocol\": \"58\", \"FromPort\": 128, \"ToPort\": "
		"-1, \"Ipv6Ranges\": [{\"CidrIpv6\": \"2001:db8::/32\"}]},"
		"{\"IpProtocol\": \"icmpv6\", \"Ipv6Ranges\": "
		"[{\"CidrIpv6\": \"2001:db8:1::/48\"}]},"
		"{\"IpProtocol\": \"icmp\", \"FromPort\": -1, "
		"\"ToPort\": -1, \"IpRanges\": [{\"CidrIp\": "
		"\"10.1.0.0/16\"}]},"
		"{\"IpProtocol\": \"47\", \"FromPort\": 0, \"ToPort\": 9, "
		"\"IpRanges\": [{\"CidrIp\": \"10.2.0.0/16\"}]},"
		"{\"IpProtocol\": \"6\", \"FromPort\": 0, \"ToPort\": "
		"65535, \"IpRanges\": [{\"CidrIp\": \"10.3.0.0/16\"}]},"
		"{\"IpProtocol\": \"udp\", \"FromPort\": 1024, "
		"\"ToPort\": 2048, \"IpRanges\": [{\"CidrIp\": "
		"\"10.4.0.0/16\"}]}"
		"], \"IpPermissionsEgress\": []}]}",
		NULL));
	g = group("sg-1");
	cr_assert_eq(g->nrules, 7);
	r = rule(g, SG_DIR_IN, "all traffic from 10.0.0.0/8");
	cr_assert_eq(r->proto, SG_PROTO_ALL);
	r = rule(g, SG_DIR_IN, "icmpv6 type 128 from 2001:db8::/32");
	cr_assert_eq(r->icmp_code, SG_ANY);
	r = rule(g, SG_DIR_IN, "icmpv6 all from 2001:db8:1::/48");
	cr_assert_eq(r->icmp_type, SG_ANY);
	rule(g, SG_DIR_IN, "icmp all from 10.1.0.0/16");
	r = rule(g, SG_DIR_IN, "protocol 47 from 10.2.0.0/16");
	cr_assert_eq(r->port_lo, -1, "AWS ignores ports of other protocols");
	r = rule(g, SG_DIR_IN, "tcp/0-65535 from 10.3.0.0/16");
	cr_assert_eq(r->proto, 6);
	rule(g, SG_DIR_IN, "udp/1024-2048 from 10.4.0.0/16");
}

Test(aws, icmp_code_without_type)
{
	cr_assert_eq(parse_mem("sgs.json",
			       SG_HEAD
			       "\"IpPermissions\": [{\"IpProtocol\": "
			       "\"icmp\", \"FromPort\": -1, \"ToPort\": "
			       "4, \"IpRanges\": [{\"CidrIp\": "
			       "\"10.0.0.0/8\"}]}]}]}",
			       NULL),
		     -EINVAL);
	cr_assert(strstr(out, "IpPermissions[0].ToPort: "
			      "InvalidPermission.Malformed: an ICMP code"),
		  "%s", out);
}

Test(aws, wrong_types)
{
	cr_assert_eq(parse_mem("sgs.json",
			       SG_HEAD "\"IpPermissions\": [{\"IpProtocol\": "
				       "\"tcp\", \"FromPort\": \"22\", "
				       "\"ToPort\": 22, \"IpRanges\": "
				       "[{\"CidrIp\": \"10.0.0.0/8\"}]}], "
				       "\"GroupName\": 5}]}",
			       NULL),
		     -EINVAL);
	expect_line("sgctl: sgs.json: SecurityGroups[0].GroupName: "
		    "InvalidParameterValue: must be a string, not a number");
	expect_line(
		"sgctl: sgs.json: SecurityGroups[0].IpPermissions[0]."
		"FromPort: InvalidPermission.Malformed: must be an integer, "
		"not a string");
}

Test(aws, egress_absent_means_default_egress)
{
	expect_ok(
		parse_mem("sgs.json", SG_HEAD "\"GroupName\": \"a\"}]}", NULL));
	rule(group("sg-1"), SG_DIR_OUT,
	     "all traffic to 0.0.0.0/0 (default "
	     "egress)");
}

Test(aws, bare_array_from_query)
{
	expect_ok(parse_mem("q.json",
			    "[{\"GroupId\": \"sg-1\", \"IpPermissions\": []},"
			    " {\"NetworkInterfaceId\": \"eni-1\", "
			    "\"PrivateIpAddress\": \"198.18.0.5\", \"Groups\": "
			    "[{\"GroupId\": \"sg-1\"}]}]",
			    NULL));
	cr_assert_str_eq(ip(&instance("eni-1")->ips[0]), "198.18.0.5");
}

Test(aws, one_vpc_for_all_inputs)
{
	cr_assert_eq(parse_mem("a.yaml", "vpc: vpc-b\n", "sgs.json",
			       SG_HEAD "\"IpPermissions\": []}]}", NULL),
		     -EINVAL);
	expect_line("sgctl: sgs.json: SecurityGroups[0].VpcId: "
		    "InvalidParameterValue: all inputs must be in one VPC: "
		    "this one says vpc-a, a.yaml:1 says vpc-b");
	/* Two YAML files disagree the same way. */
	sg_diag_free(&diag);
	sg_diag_init(&diag);
	cr_assert_eq(parse_mem("a.yaml", "vpc: vpc-a\n", "b.yaml",
			       "\nvpc: vpc-b\n", NULL),
		     -EINVAL);
	expect_line("sgctl: b.yaml:2:6: InvalidParameterValue: all inputs "
		    "must be in one VPC: this one says vpc-b, a.yaml:1 says "
		    "vpc-a");
	/* The same value twice is fine. */
	sg_diag_free(&diag);
	sg_diag_init(&diag);
	expect_ok(parse_mem("a.yaml", "vpc: vpc-a\n", "sgs.json",
			    SG_HEAD "\"IpPermissions\": []}]}", NULL));
	cr_assert_str_eq(cfg.vpc, "vpc-a");
}

Test(aws, yaml_files_merge_and_reference_each_other)
{
	const struct sg_instance *in;

	expect_ok(
		parse_mem("groups.yaml",
			  "vpc: vpc-lab\nsecurity_groups:\n  sg-web:\n"
			  "    inbound:\n      - {type: http, source: sg-lb}\n",
			  "more.yaml",
			  "security_groups:\n  sg-lb:\n    inbound: []\n"
			  "instances:\n  i-web1: {ips: [198.18.1.10], "
			  "security_groups: [sg-web]}\n"
			  "  i-lb1: {ips: [198.18.3.10], security_groups: "
			  "[sg-lb]}\n",
			  NULL));
	cr_assert_eq(diag.nwarnings, 0, "sg-lb is defined: %s", out);
	cr_assert_str_eq(cfg.vpc, "vpc-lab");
	in = instance("i-web1");
	cr_assert_str_eq(cfg.groups[in->groups[0]].id, "sg-web");
	cr_assert_eq(rule(group("sg-web"), SG_DIR_IN,
			  "http (tcp/80) from "
			  "sg-lb")
			     ->peer_index,
		     sg_config_find_group(&cfg, "sg-lb"));
}

Test(aws, a_group_defined_twice_names_both_places)
{
	cr_assert_eq(
		parse_mem("a.yaml",
			  "security_groups:\n  sg-1:\n    inbound: []\n",
			  "sgs.json",
			  "{\"SecurityGroups\": [{\"GroupId\": \"sg-1\"}]}",
			  NULL),
		-EINVAL);
	expect_line("sgctl: sgs.json: SecurityGroups[0].GroupId: "
		    "InvalidGroup.Duplicate: duplicate security group 'sg-1' "
		    "(first at a.yaml:2)");
	sg_diag_free(&diag);
	sg_diag_init(&diag);
	cr_assert_eq(
		parse_mem("a.yaml", "instances:\n  i-1: {ips: [198.18.0.1]}\n",
			  "b.yaml", "instances:\n  i-2: {ips: [198.18.0.1]}\n",
			  NULL),
		-EINVAL);
	expect_line("sgctl: b.yaml:2:15: InvalidParameterValue: address "
		    "198.18.0.1 is already used by i-1 (a.yaml:2)");
}

Test(aws, diagnostics_come_in_input_order)
{
	char *a, *b;

	cr_assert_eq(parse_mem("a.yaml", "\n\n\nfoo: 1\n", "b.yaml", "bar: 2\n",
			       NULL),
		     -EINVAL);
	a = strstr(out, "a.yaml:4:1");
	b = strstr(out, "b.yaml:1:1");
	cr_assert(a && b && a < b, "%s", out);
}

Test(aws, a_yaml_syntax_error_does_not_hide_the_other_inputs)
{
	cr_assert_eq(parse_mem("a.yaml", "security_groups:\n  sg-1: [\n",
			       "sgs.json",
			       "{\"SecurityGroups\": [{\"GroupId\": \"sg-2\", "
			       "\"GroupName\": \"sg-x\"}]}",
			       NULL),
		     -EINVAL);
	cr_assert(strstr(out, "sgctl: a.yaml:3:"), "%s", out);
	cr_assert(strstr(out, "sgs.json: SecurityGroups[0].GroupName: "
			      "InvalidParameterValue: group name 'sg-x' must "
			      "not start with sg-"),
		  "%s", out);
}

Test(aws, a_section_that_is_not_a_mapping)
{
	cr_assert_eq(parse_mem("a.yaml", "security_groups: [1]\n", "b.yaml",
			       "instances: {}\n", NULL),
		     -EINVAL);
	expect_line("sgctl: a.yaml:1:18: InvalidParameterValue: "
		    "security_groups must be a mapping, not a list");
}

/*
 * A YAML file through the merge (with an empty second input) is judged
 * exactly as alone: same model, same diagnostics.
 */
static char *alone(const char *yaml, struct sg_config *c)
{
	struct sg_diag d;
	size_t len = 0;
	char *text = NULL;
	FILE *f;

	sg_diag_init(&d);
	sg_config_parse_string("t.yaml", yaml, strlen(yaml), c, &d);
	f = open_memstream(&text, &len);
	sg_diag_print(&d, f);
	fclose(f);
	sg_diag_free(&d);
	return text;
}

static void same_as_alone(const char *yaml)
{
	struct sg_config c;
	char *want = alone(yaml, &c);

	parse_mem("t.yaml", yaml, "empty.json", "{\"SecurityGroups\": []}",
		  NULL);
	cr_assert_str_eq(out, want);
	cr_assert_eq(cfg.ngroups, c.ngroups);
	cr_assert_eq(cfg.ninstances, c.ninstances);
	for (size_t i = 0; i < c.ngroups; i++) {
		cr_assert_str_eq(cfg.groups[i].id, c.groups[i].id);
		cr_assert_eq(cfg.groups[i].nrules, c.groups[i].nrules);
		for (size_t k = 0; k < c.groups[i].nrules; k++)
			cr_assert_str_eq(cfg.groups[i].rules[k].text,
					 c.groups[i].rules[k].text);
	}
	free(want);
	sg_config_free(&c);
	sg_config_free(&cfg);
	sg_diag_free(&diag);
	sg_diag_init(&diag);
}

Test(aws, yaml_through_the_merge_is_unchanged)
{
	same_as_alone("vpc: vpc-lab\nregion: lab-1\nsecurity_groups:\n"
		      "  sg-ssh:\n    name: ssh-admin\n    inbound:\n"
		      "      - type: ssh\n        source: 203.0.113.10/32\n"
		      "        description: my computer\n"
		      "      - {protocol: tcp, ports: 8080, source: "
		      "203.0.113.10/32}\n"
		      "instances:\n  i-web1:\n    ips: [198.18.1.10, "
		      "\"2001:db8:1::10\"]\n    security_groups: [sg-ssh]\n");
	same_as_alone("security_groups:\n  sg-a:\n    inbound:\n"
		      "      - {protocol: tcp, ports: 70000, source: "
		      "10.0.0.0/8}\n      - {type: ssh, source: sg-nope}\n"
		      "      - {type: ssh, source: 10.0.0.0/8}\n"
		      "      - {type: ssh, source: 10.0.0.0/8}\n"
		      "  sg-a: {}\nbogus: 1\n");
	/* One idea of null (YAML core): nULL is a string, NULL is not. */
	same_as_alone("vpc: vpc-a\nprefix_lists: nULL\nsecurity_groups: NULL\n"
		      "instances: ~\n");
}

Test(aws, detection_by_extension_then_content)
{
	cr_assert(sg_input_is_json("x.json", "a: 1", 4));
	cr_assert_not(sg_input_is_json("x.yaml", "{}", 2));
	cr_assert(sg_input_is_json("<stdin>", "\n  {\"a\": 1}", 10));
	cr_assert(sg_input_is_json("x", "\xef\xbb\xbf[]", 5));
	cr_assert_not(sg_input_is_json("x", "vpc: vpc-a", 10));
}

/* ---- The stored form ---- */

Test(aws, archive_round_trip)
{
	struct sg_input f[2] = {
		{(char *)"p.yaml", (char *)"vpc: vpc-a\n", 11},
		{(char *)"s.json",
		 (char *)"{\"SecurityGroups\": [{\"GroupId\": \"sg-1\"}]}", 41},
	};
	struct sg_inputs in = {f, 2, {}}, back;
	char *blob;
	size_t len;

	cr_assert_eq(sg_inputs_pack(&in, &blob, &len), 0);
	cr_assert(sg_inputs_is_archive(blob, len));
	cr_assert_eq(sg_inputs_unpack(blob, len, &back), 0);
	cr_assert_eq(back.n, 2);
	cr_assert_str_eq(back.files[1].name, "s.json");
	cr_assert_eq(back.files[1].len, f[1].len);
	cr_assert_eq(memcmp(back.files[1].text, f[1].text, f[1].len), 0);
	sg_inputs_free(&back);
	/* What show and attach do; the old entry point understands it too. */
	expect_ok(sg_config_parse_blob(blob, len, &cfg, &diag));
	cr_assert_str_eq(cfg.vpc, "vpc-a");
	group("sg-1");
	sg_config_free(&cfg);
	expect_ok(sg_config_parse_string("(loaded config)", blob, len, &cfg,
					 &diag));
	group("sg-1");
	/* Corrupt: refused, not misread. */
	cr_assert_eq(sg_inputs_unpack(blob, len - 2, &back), -EUCLEAN);
	free(blob);

	/* One YAML file is stored as its text, as before. */
	in.n = 1;
	cr_assert_eq(sg_inputs_pack(&in, &blob, &len), 0);
	cr_assert_eq(len, 11);
	cr_assert_str_eq(blob, "vpc: vpc-a\n");
	free(blob);
}

Test(aws, reading_files)
{
	const char *paths[] = {"/nonexistent/x.yaml"};

	cr_assert_eq(sg_config_parse_files(paths, 1, &cfg, &diag), -EINVAL);
	print_diag();
	expect_line("sgctl: /nonexistent/x.yaml: No such file or directory");
}

/* ---- nftables ---- */

static char *export(int only)
{
	size_t len = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);

	cr_assert_eq(sg_export_nft(&cfg, only, f), 0);
	fclose(f);
	return text;
}

Test(aws, nft_export_of_the_seed)
{
	char *t;

	expect_ok(parse_files("seed-sgs.json", "seed-enis.json", NULL));
	t = export(-1);
	cr_assert(strstr(t, "table inet sgctl {\n"), "%s", t);
	cr_assert(strstr(t, "set addr4_eni_0a1b2c3d4e5f60001 {"), "%s", t);
	cr_assert(strstr(t, "elements = { 2001:db8:1::10 }"), "%s", t);
	cr_assert(strstr(t, "\t\tip saddr 203.0.113.10/32 tcp dport 22 return "
			    "comment \"sg-0a1b2c3d4e5f60001: tcp/22 from "
			    "203.0.113.10/32 - my computer\"\n"),
		  "%s", t);
	cr_assert(strstr(t, "ct state established,related accept"), "%s", t);
	cr_assert(strstr(t, "type filter hook input priority filter; policy "
			    "accept;"),
		  "%s", t);
	cr_assert(strstr(t, "ip daddr @addr4_eni_0a1b2c3d4e5f60001 jump "
			    "in_eni_0a1b2c3d4e5f60001"),
		  "%s", t);
	cr_assert(strstr(t, "counter drop"), "%s", t);
	cr_assert(strstr(t, "udp sport { 67, 68 } udp dport { 67, 68 } return"),
		  "%s", t);
	free(t);
}

Test(aws, nft_export_sets_for_references_and_prefix_lists)
{
	char *t;
	int web;

	expect_ok(parse_files("lab-prefix-lists.yaml", "lab-sgs.json",
			      "lab-enis.json"));
	web = sg_config_find_instance(&cfg, "eni-0a00000000000web1");
	t = export(web);
	cr_assert(strstr(t, "set pl4_pl_0f00000000000office {\n\t\ttype "
			    "ipv4_addr\n\t\tflags interval\n"),
		  "%s", t);
	cr_assert(strstr(t, "ip saddr @sg4_sg_0e0000000000000b2 tcp dport "
			    "8080-8089 return"),
		  "%s", t);
	cr_assert(strstr(t, "elements = { 198.18.3.10 }"), "%s", t);
	cr_assert(strstr(t, "ip saddr @pl4_pl_0f00000000000office icmp type 8 "
			    "return"),
		  "%s", t);
	cr_assert(strstr(t, "meta nfproto ipv4 icmp type 3 icmp code 4 return"),
		  "%s", t);
	/* Only the chosen instance. */
	cr_assert_null(strstr(t, "in_eni_0a000000000000db1"), "%s", t);
	free(t);
}

Test(aws, nft_comment_is_safe)
{
	char *t;

	expect_ok(parse_mem(
		"a.yaml",
		"security_groups:\n  sg-a:\n    inbound:\n"
		"      - {type: ssh, source: 10.0.0.0/8, description: "
		"'say \"hi\" ééééééééééééééééééééééééééééééééééééééééé"
		"éééééééééééééééééééééééééééééééééééééééééééééééééé'}\n"
		"instances:\n  i-1: {ips: [198.18.0.1], "
		"security_groups: [sg-a]}\n",
		NULL));
	t = export(-1);
	cr_assert(strstr(t, "say 'hi'"), "%s", t);
	for (char *c = strstr(t, "comment \""); c;
	     c = strstr(c + 1, "comment \"")) {
		char *end = strchr(c + 9, '"');

		cr_assert(end && end - (c + 9) <= 127, "%s", c);
	}
	free(t);
}

Test(aws, nft_names_must_not_collide)
{
	size_t len = 0;
	char *text = NULL;
	FILE *f;

	expect_ok(parse_mem("a.yaml",
			    "instances:\n  i-a.1: {ips: [198.18.0.1]}\n"
			    "  i-a_1: {ips: [198.18.0.2]}\n",
			    NULL));
	f = open_memstream(&text, &len);
	cr_assert_eq(sg_export_nft(&cfg, -1, f), -EINVAL);
	fclose(f);
	free(text);
}

/* ---- Real accounts (issue 14): fixtures in tests/aws/real-*.json ---- */

static int parse_opts(const struct sg_input_opts *o, const char *a,
		      const char *b)
{
	const char *paths[2] = {data(a), b ? data(b) : NULL};
	int rc = sg_config_parse_files_opts(paths, b ? 2 : 1, o, &cfg, &diag);

	print_diag();
	return rc;
}

Test(aws, several_vpcs_refused_in_one_message)
{
	cr_assert_eq(parse_opts(NULL, "real-two-vpcs.json", NULL), -EINVAL);
	cr_assert_eq(diag.nerrors, 1, "%s", out);
	cr_assert(strstr(out, "2 VPCs: vpc-0aaaa000000000001 (2 groups), "
			      "vpc-0bbbb000000000002 (1 group)"),
		  "%s", out);
	cr_assert(strstr(out, "--vpc"), "%s", out);
}

Test(aws, vpc_option_takes_one)
{
	struct sg_input_opts o = {};

	cr_assert_eq(sg_input_opts_vpc(&o, "vpc-0aaaa000000000001"), 0);
	expect_ok(parse_opts(&o, "real-two-vpcs.json", NULL));
	cr_assert_str_eq(cfg.vpc, "vpc-0aaaa000000000001");
	cr_assert_eq(cfg.ngroups, 2);
	cr_assert(strstr(out, "note: --vpc vpc-0aaaa000000000001: skipped 1 "
			      "groups"),
		  "%s", out);
	/* Tags kept; Name among them. */
	cr_assert_eq(group("sg-0a1000000000000ab")->ntags, 2);
	cr_assert_str_eq(group("sg-0a1000000000000ab")->tags[0].value,
			 "web-tier");
}

Test(aws, json_proves_a_raised_quota)
{
	expect_ok(parse_opts(NULL, "real-quota-70.json", NULL));
	cr_assert_eq(diag.nwarnings, 1, "%s", out);
	cr_assert(strstr(out, "sg-0c300000000000eks has 70 rules"), "%s", out);
	cr_assert_eq(cfg.quotas.rules_per_group, 70);
	cr_assert_eq(cfg.quotas.groups_per_instance, 14);
}

Test(aws, an_explicit_quota_wins_and_says_how_to_raise)
{
	struct sg_input_opts o = {};

	cr_assert_eq(sg_input_opts_quota(&o, "rules_per_group=65"), 0);
	cr_assert_eq(parse_opts(&o, "real-quota-70.json", NULL), -EINVAL);
	cr_assert(strstr(out, "RulesPerSecurityGroupLimitExceeded: "
			      "sg-0c300000000000eks has more than 65"),
		  "%s", out);
	cr_assert(strstr(out, "--quota rules_per_group=N"), "%s", out);
	cr_assert_eq(sg_input_opts_quota(&o, "groups_per_instance=17"),
		     -EINVAL);
	cr_assert_eq(sg_input_opts_quota(&o, "rules_per_group=100"), 0);
	cr_assert_eq(sg_input_opts_quota(&o, "groups_per_instance=11"),
		     -EINVAL, "100 x 11 > 1000");
	cr_assert_eq(sg_input_opts_quota(&o, "rules=5"), -EINVAL);
}

Test(aws, quotas_key_in_yaml)
{
	const char *y = "quotas: {rules_per_group: 100, groups_per_instance: 10}\n";

	cr_assert_eq(sg_config_parse_string("q.yaml", y, strlen(y), &cfg,
					    &diag),
		     0);
	cr_assert_eq(cfg.quotas.rules_per_group, 100);
	cr_assert_eq(cfg.quotas.groups_per_instance, 10);
	sg_config_free(&cfg);
	y = "quotas: {rules_per_group: 100, groups_per_instance: 16}\n";
	cr_assert_eq(sg_config_parse_string("q.yaml", y, strlen(y), &cfg,
					    &diag),
		     -EINVAL);
}

Test(aws, an_interface_without_groups_is_unfiltered)
{
	const struct sg_instance *nat, *app;

	expect_ok(parse_opts(NULL, "real-sgs-nat.json", "real-enis-nat.json"));
	nat = instance("eni-0d400000000000nat");
	app = instance("eni-0d400000000000app");
	cr_assert(nat->unfiltered);
	cr_assert_eq(nat->ngroups, 0, "never in the default group");
	cr_assert_not(app->unfiltered);
	cr_assert_eq(app->ngroups, 1);
	cr_assert_eq(diag.nnotes, 1, "%s", out);
	cr_assert(strstr(out, "NetworkInterfaces[0]: note: eni-0d400000000000nat "
			      "(InterfaceType nat_gateway)"),
		  "%s", out);
	cr_assert_str_eq(app->tags[0].value, "app-1");
}

Test(aws, an_interface_group_missing_from_the_inputs_is_fail_closed)
{
	const struct sg_group *g;

	expect_ok(parse_opts(NULL, "real-enis-nat.json", NULL));
	g = group("sg-0d400000000000app");
	cr_assert(g->outside);
	cr_assert_eq(g->nrules, 0, "no rules: its rules are unknown");
	cr_assert(strstr(out, "sg-0d400000000000app is not in these inputs"),
		  "%s", out);
}

Test(aws, peering_and_other_accounts_load_fail_closed)
{
	const struct sg_group *far, *oth;

	expect_ok(parse_opts(NULL, "real-peering.json", NULL));
	cr_assert_eq(diag.nwarnings, 2, "one per rule: %s", out);
	cr_assert(strstr(out, "UserIdGroupPairs[0]: warning: "
			      "sg-0f600000000000far is in peering connection "
			      "pcx-0e5f6000000000001"),
		  "%s", out);
	cr_assert(strstr(out, "sg-0a70000000000othr is in account "
			      "999988887777"),
		  "%s", out);
	far = group("sg-0f600000000000far");
	oth = group("sg-0a70000000000othr");
	cr_assert(far->undefined && far->outside);
	cr_assert(oth->undefined && strstr(oth->outside, "999988887777"));
}

Test(aws, rule_listing_alone)
{
	const struct sg_group *g;
	size_t out_rules = 0;

	expect_ok(parse_opts(NULL, "real-sg-rules.json", NULL));
	g = group("sg-0b80000000000000db");
	cr_assert_eq(g->nrules, 3);
	for (size_t i = 0; i < g->nrules; i++)
		out_rules += g->rules[i].dir == SG_DIR_OUT;
	cr_assert_eq(out_rules, 1, "no default egress assumed");
	cr_assert_str_eq(g->rules[0].id, "sgr-0a10000000000000a");
	cr_assert(g->rules[0].id_written);
	cr_assert_str_eq(g->rules[0].tags[0].value, "from-app");
}

Test(aws, rule_listing_with_its_groups)
{
	const struct sg_group *g;

	expect_ok(parse_opts(NULL, "real-sg-rules-groups.json",
			     "real-sg-rules.json"));
	g = group("sg-0b80000000000000db");
	cr_assert_eq(g->nrules, 3, "%s", out);
	cr_assert_str_eq(g->name, "db");
	for (size_t i = 0; i < g->nrules; i++)
		cr_assert(g->rules[i].id_written, "rule %zu", i);
	cr_assert_str_eq(g->rules[0].id, "sgr-0a10000000000000a");
}

Test(aws, rule_listing_disagreeing_with_groups)
{
	cr_assert_eq(parse_opts(NULL, "real-sg-rules-groups.json",
				"real-sg-rules-mismatch.json"),
		     -EINVAL);
	cr_assert_eq(diag.nerrors, 2, "%s", out);
	cr_assert(strstr(out, "real-sg-rules-mismatch.json: "
			      "SecurityGroupRules[0]: InvalidGroup.NotFound: "
			      "rule sgr-0a10000000000000a"),
		  "%s", out);
	cr_assert(strstr(out, "real-sg-rules-groups.json: SecurityGroups[0]."
			      "IpPermissions[0].IpRanges[0]"),
		  "%s", out);
}

Test(aws, a_partial_page_is_refused)
{
	cr_assert_eq(parse_opts(NULL, "real-nexttoken.json", NULL), -EINVAL);
	cr_assert(strstr(out, "NextToken is set"), "%s", out);
	cr_assert(strstr(out, "--max-items"), "%s", out);
}

Test(aws, ec2_classic_egress_is_not_filtered)
{
	const struct sg_group *g;
	size_t eg = 0;

	expect_ok(parse_opts(NULL, "real-classic.json", NULL));
	cr_assert(strstr(out, "SecurityGroups[0]: warning: "
			      "sg-0d100000000classic is an EC2-Classic group"),
		  "%s", out);
	g = group("sg-0d100000000classic");
	for (size_t i = 0; i < g->nrules; i++)
		eg += g->rules[i].dir == SG_DIR_OUT &&
		      g->rules[i].proto == SG_PROTO_ALL;
	cr_assert_eq(eg, 2, "all outbound, IPv4 and IPv6");
}

Test(aws, a_prefix_list_without_entries_is_fail_closed)
{
	expect_ok(parse_files("lab-sgs.json", "lab-enis.json", NULL));
	cr_assert(strstr(out, "prefix list pl-0f00000000000office: AWS's JSON "
			      "does not hold its entries"),
		  "%s", out);
}

Test(aws, options_survive_the_stored_archive)
{
	struct sg_input f[1] = {{(char *)"a.yaml", (char *)"vpc: vpc-x\n", 11}};
	struct sg_inputs in = {f, 1, {}}, back;
	char *blob;
	size_t len;

	cr_assert_eq(sg_input_opts_vpc(&in.opts, "vpc-x"), 0);
	cr_assert_eq(sg_input_opts_quota(&in.opts, "rules_per_group=80"), 0);
	cr_assert_eq(sg_inputs_pack(&in, &blob, &len), 0);
	cr_assert(sg_inputs_is_archive(blob, len));
	cr_assert_eq(sg_inputs_unpack(blob, len, &back), 0);
	cr_assert_eq(back.n, 1);
	cr_assert_str_eq(back.opts.vpc, "vpc-x");
	cr_assert_eq(back.opts.rules_per_group, 80);
	sg_inputs_free(&back);
	free(blob);
}

Test(aws, nft_comments_show_the_enforced_cidr)
{
	const char *y = "security_groups:\n  sg-a:\n    inbound:\n"
			"      - { type: ssh, source: 192.168.0.1/31 }\n"
			"instances:\n  i-a: { ips: [10.0.0.1], "
			"security_groups: [sg-a] }\n";
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	cr_assert_eq(sg_config_parse_string("m.yaml", y, strlen(y), &cfg,
					    &diag),
		     0);
	f = open_memstream(&text, &len);
	cr_assert_eq(sg_export_nft(&cfg, -1, f), 0);
	fclose(f);
	cr_assert(strstr(text, "comment \"sg-a: ssh (tcp/22) from "
			       "192.168.0.0/31\""),
		  "%s", text);
	cr_assert_null(strstr(text, "192.168.0.1"), "%s", text);
	free(text);
}
