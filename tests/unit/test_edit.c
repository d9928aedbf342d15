// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Edits of a desired state (desired/edit.c): each edit and each of its
 * AWS error codes, and that a failed edit leaves the state as it was.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <linux/types.h>

#include "sgctl.h"
#include "desired/edit.h"
#include "input/inputs.h"
#include "config/model.h"

static const char base[] =
	"vpc: vpc-t\n"
	"prefix_lists:\n"
	"  pl-office: {max_entries: 2, entries: [203.0.113.0/28]}\n"
	"security_groups:\n"
	"  sg-web:\n"
	"    inbound:\n"
	"      - {type: http, source: [0.0.0.0/0, \"::/0\"]}\n"
	"      - {type: ssh, source: 203.0.113.10/32, description: admin}\n"
	"  sg-db:\n"
	"    inbound:\n"
	"      - {type: postgresql, source: sg-web}\n"
	"    outbound: []\n"
	"  sg-free: {}\n"
	"instances:\n"
	"  i-web: {ips: [10.0.1.10], security_groups: [sg-web]}\n"
	"  i-db: {ips: [10.0.2.10], security_groups: [sg-db]}\n";

static struct sg_desired d;
static struct sg_diag diag;
static struct sg_config cfg;
static char *out, *before;

static const char *print_diag(void)
{
	size_t len = 0;
	FILE *f;

	free(out);
	f = open_memstream(&out, &len);
	sg_diag_print(&diag, f);
	fclose(f);
	return out;
}

static void load(const char *yaml)
{
	struct sg_input f = {(char *)"t.yaml", (char *)yaml, strlen(yaml)};
	struct sg_inputs in = {.files = &f, .n = 1};

	sg_desired_free(&d);
	cr_assert_eq(sg_desired_from_inputs(&in, &d, &diag), 0, "%s",
		     print_diag());
	free(before);
	before = sg_desired_text(&d, NULL);
}

static void setup(void)
{
	memset(&d, 0, sizeof(d));
	memset(&cfg, 0, sizeof(cfg));
	sg_diag_init(&diag);
	out = before = NULL;
	load(base);
}

static void teardown(void)
{
	sg_desired_free(&d);
	sg_config_free(&cfg);
	sg_diag_free(&diag);
	free(out);
	free(before);
}

TestSuite(edit, .init = setup, .fini = teardown);

/* The edit worked; cfg is the new state. */
static void ok(int rc)
{
	cr_assert_eq(rc, 0, "rc %d: %s", rc, print_diag());
	sg_config_free(&cfg);
	cr_assert_eq(sg_desired_validate(&d, &cfg, &diag), 0, "%s",
		     print_diag());
}

/* The edit failed with code (the first error's), changing nothing. */
static void refused(int rc, const char *code, const char *words)
{
	char *now = sg_desired_text(&d, NULL);

	cr_assert_eq(rc, -EINVAL, "rc %d", rc);
	cr_assert_geq(diag.nentries, 1);
	cr_assert_str_eq(diag.entries[0].code ? diag.entries[0].code : "-",
			 code, "%s", print_diag());
	cr_assert_null(diag.entries[0].pos.file, "no place in the JSON text");
	cr_assert_not(strstr(print_diag(), "(line "), "%s", out);
	if (words)
		cr_assert(strstr(out, words), "want '%s' in %s", words, out);
	cr_assert_str_eq(now, before, "a failed edit changed the state");
	free(now);
}

static const struct sg_group *group(const char *id)
{
	int i = sg_config_find_group(&cfg, id);

	cr_assert_geq(i, 0, "no group %s", id);
	return &cfg.groups[i];
}

static const struct sg_rule *rule_text(const char *gid, const char *text)
{
	const struct sg_group *g = group(gid);

	for (size_t i = 0; i < g->nrules; i++)
		if (!strcmp(g->rules[i].text, text))
			return &g->rules[i];
	return NULL;
}

static struct sg_rule_spec tcp(int dir, const char *ports, const char *peer)
{
	return (struct sg_rule_spec){
		.dir = dir, .protocol = "tcp", .ports = ports, .peer = peer};
}

/* ---- rule add ---- */

Test(edit, rule_add_returns_the_new_rules_id)
{
	struct sg_rule_spec s = tcp(SG_DIR_IN, "8080-8089", "10.0.0.0/8");
	char id[SG_RULE_ID_SIZE] = "";
	const struct sg_rule *r;

	s.description = "admin";
	ok(sg_edit_rule_add(&d, "sg-web", &s, id, &diag));
	cr_assert(sg_rule_id_valid(id), "%s", id);
	r = rule_text("sg-web", "tcp/8080-8089 from 10.0.0.0/8");
	cr_assert(r);
	cr_assert_str_eq(r->id, id);
	cr_assert_str_eq(r->description, "admin");
	cr_assert_eq(group("sg-web")->nrules, 6);
}

Test(edit, rule_add_preset_and_icmp)
{
	struct sg_rule_spec s = {
		.dir = SG_DIR_IN, .type = "https", .peer = "pl-office"};
	char id[SG_RULE_ID_SIZE];

	ok(sg_edit_rule_add(&d, "sg-db", &s, id, &diag));
	cr_assert(rule_text("sg-db", "https (tcp/443) from pl-office"));
	s = (struct sg_rule_spec){.dir = SG_DIR_IN,
				  .protocol = "icmp",
				  .icmp_type = "3",
				  .icmp_code = "4",
				  .peer = "sg-web"};
	ok(sg_edit_rule_add(&d, "sg-db", &s, id, &diag));
	cr_assert(rule_text("sg-db", "icmp type 3 code 4 from sg-web"));
}

Test(edit, rule_add_duplicate)
{
	struct sg_rule_spec s = tcp(SG_DIR_IN, "22", "203.0.113.10/32");

	refused(sg_edit_rule_add(&d, "sg-web", &s, NULL, &diag),
		"InvalidPermission.Duplicate", "sg-web already has this rule");
}

Test(edit, rule_add_group_not_found)
{
	struct sg_rule_spec s = tcp(SG_DIR_IN, "22", "10.0.0.0/8");

	refused(sg_edit_rule_add(&d, "sg-nope", &s, NULL, &diag),
		"InvalidGroup.NotFound", "sg-nope");
	sg_diag_free(&diag);
	s.peer = "sg-nope";
	refused(sg_edit_rule_add(&d, "sg-web", &s, NULL, &diag),
		"InvalidGroup.NotFound", "sg-nope");
}

Test(edit, rule_add_malformed)
{
	struct sg_rule_spec s = tcp(SG_DIR_IN, "70000", "10.0.0.0/8");

	refused(sg_edit_rule_add(&d, "sg-web", &s, NULL, &diag),
		"InvalidPermission.Malformed", "70000");
	sg_diag_free(&diag);
	s = (struct sg_rule_spec){
		.dir = SG_DIR_IN, .type = "nosuch", .peer = "10.0.0.0/8"};
	refused(sg_edit_rule_add(&d, "sg-web", &s, NULL, &diag),
		"InvalidParameterValue", "nosuch");
}

Test(edit, rule_add_quota)
{
	char peer[32];
	int rc = 0, i;

	for (i = 0; i < 61 && !rc; i++) {
		struct sg_rule_spec s = tcp(SG_DIR_IN, "22", peer);

		snprintf(peer, sizeof(peer), "10.%d.0.0/16", i);
		rc = sg_edit_rule_add(&d, "sg-free", &s, NULL, &diag);
		if (i < 60)
			cr_assert_eq(rc, 0, "%d: %s", i, print_diag());
		else {
			free(before);
			before = NULL;
		}
	}
	cr_assert_eq(rc, -EINVAL);
	cr_assert_str_eq(diag.entries[0].code,
			 "RulesPerSecurityGroupLimitExceeded", "%s",
			 print_diag());
	ok(0);
	cr_assert_eq(group("sg-free")->nrules, 62); /* 60 + default egress */
}

Test(edit, rule_add_outbound_keeps_the_default_egress)
{
	struct sg_rule_spec s = tcp(SG_DIR_OUT, "443", "10.0.0.0/8");
	char egress4[SG_RULE_ID_SIZE], egress6[SG_RULE_ID_SIZE];

	ok(0);
	snprintf(
		egress4, sizeof(egress4), "%s",
		rule_text("sg-web", "all traffic to 0.0.0.0/0 (default egress)")
			->id);
	snprintf(egress6, sizeof(egress6), "%s",
		 rule_text("sg-web", "all traffic to ::/0 (default egress)")
			 ->id);
	ok(sg_edit_rule_add(&d, "sg-web", &s, NULL, &diag));
	cr_assert_eq(group("sg-web")->nrules, 6);
	cr_assert_str_eq(rule_text("sg-web", "all traffic to 0.0.0.0/0")->id,
			 egress4);
	cr_assert_str_eq(rule_text("sg-web", "all traffic to ::/0")->id,
			 egress6);
	cr_assert(rule_text("sg-web", "tcp/443 to 10.0.0.0/8"));
}

Test(edit, rule_add_to_the_implicit_default_group)
{
	struct sg_rule_spec s = tcp(SG_DIR_IN, "22", "10.0.0.0/8");
	char self[SG_RULE_ID_SIZE];

	ok(0);
	cr_assert(group("sg-default")->implicit);
	snprintf(self, sizeof(self), "%s", group("sg-default")->rules[0].id);
	ok(sg_edit_rule_add(&d, "sg-default", &s, NULL, &diag));
	cr_assert_not(group("sg-default")->implicit);
	cr_assert_str_eq(group("sg-default")->name, "default");
	cr_assert_eq(group("sg-default")->nrules, 4);
	cr_assert_str_eq(group("sg-default")->rules[0].id, self);
	cr_assert(rule_text("sg-default", "tcp/22 from 10.0.0.0/8"));
}

/* ---- rule delete ---- */

Test(edit, rule_delete_by_id_one_peer_of_a_list)
{
	char gone[SG_RULE_ID_SIZE], keep[SG_RULE_ID_SIZE], del[SG_RULE_ID_SIZE];

	ok(0);
	snprintf(gone, sizeof(gone), "%s",
		 rule_text("sg-web", "http (tcp/80) from ::/0")->id);
	snprintf(keep, sizeof(keep), "%s",
		 rule_text("sg-web", "http (tcp/80) from 0.0.0.0/0")->id);
	ok(sg_edit_rule_delete(&d, "sg-web", gone, NULL, del, &diag));
	cr_assert_str_eq(del, gone);
	cr_assert_null(rule_text("sg-web", "http (tcp/80) from ::/0"));
	cr_assert_str_eq(
		rule_text("sg-web", "http (tcp/80) from 0.0.0.0/0")->id, keep);
	/* The last peer of the list: the entry goes. */
	ok(sg_edit_rule_delete(&d, "sg-web", keep, NULL, NULL, &diag));
	cr_assert_eq(group("sg-web")->nrules, 3);
}

Test(edit, rule_delete_by_selector)
{
	/* tcp/22 selects the rule written as type ssh. */
	struct sg_rule_spec s = tcp(SG_DIR_IN, "22", "203.0.113.10/32");

	ok(sg_edit_rule_delete(&d, "sg-web", NULL, &s, NULL, &diag));
	cr_assert_null(
		rule_text("sg-web", "ssh (tcp/22) from 203.0.113.10/32"));
	cr_assert_eq(group("sg-web")->nrules, 4);
	s = (struct sg_rule_spec){
		.dir = SG_DIR_IN, .type = "postgresql", .peer = "sg-web"};
	ok(sg_edit_rule_delete(&d, "sg-db", NULL, &s, NULL, &diag));
	cr_assert_eq(group("sg-db")->nrules, 0);
}

Test(edit, rule_delete_not_found)
{
	struct sg_rule_spec s = tcp(SG_DIR_IN, "23", "203.0.113.10/32");

	refused(sg_edit_rule_delete(&d, "sg-web", NULL, &s, NULL, &diag),
		"InvalidPermission.NotFound", "tcp/23 from 203.0.113.10/32");
	sg_diag_free(&diag);
	refused(sg_edit_rule_delete(&d, "sg-web", "sgr-0123456789abcdef0", NULL,
				    NULL, &diag),
		"InvalidPermission.NotFound", "sgr-0123456789abcdef0");
	sg_diag_free(&diag);
	/* The direction is part of the selector. */
	s = tcp(SG_DIR_OUT, "22", "203.0.113.10/32");
	refused(sg_edit_rule_delete(&d, "sg-web", NULL, &s, NULL, &diag),
		"InvalidPermission.NotFound", NULL);
	sg_diag_free(&diag);
	refused(sg_edit_rule_delete(&d, "sg-nope", "sgr-0123456789abcdef0",
				    NULL, NULL, &diag),
		"InvalidGroup.NotFound", NULL);
}

Test(edit, rule_delete_one_default_egress_rule)
{
	struct sg_rule_spec s = {
		.dir = SG_DIR_OUT, .protocol = "all", .peer = "::/0"};
	char keep[SG_RULE_ID_SIZE];
	char *text;

	ok(0);
	snprintf(
		keep, sizeof(keep), "%s",
		rule_text("sg-web", "all traffic to 0.0.0.0/0 (default egress)")
			->id);
	ok(sg_edit_rule_delete(&d, "sg-web", NULL, &s, NULL, &diag));
	cr_assert_eq(group("sg-web")->nrules, 4);
	cr_assert_str_eq(rule_text("sg-web", "all traffic to 0.0.0.0/0")->id,
			 keep);
	cr_assert_null(rule_text("sg-web", "all traffic to ::/0"));
	text = sg_desired_text(&d, NULL);
	cr_assert(strstr(text, "\"outbound\""), "%s", text);
	free(text);
}

/* ---- groups ---- */

Test(edit, group_create)
{
	ok(sg_edit_group_create(&d, "sg-new", "new", "a new group", &diag));
	cr_assert_str_eq(group("sg-new")->name, "new");
	cr_assert_str_eq(group("sg-new")->description, "a new group");
	cr_assert_eq(group("sg-new")->nrules, 2); /* default egress */
	ok(sg_edit_group_create(&d, "sg-bare", NULL, NULL, &diag));
}

Test(edit, group_create_errors)
{
	refused(sg_edit_group_create(&d, "sg-web", NULL, NULL, &diag),
		"InvalidGroup.Duplicate", "sg-web");
	sg_diag_free(&diag);
	refused(sg_edit_group_create(&d, "sg-default", NULL, NULL, &diag),
		"InvalidGroup.Duplicate", NULL);
	sg_diag_free(&diag);
	refused(sg_edit_group_create(&d, "sg-x", "sg-named", "x", &diag),
		"InvalidParameterValue", "must not start with sg-");
}

Test(edit, group_delete)
{
	ok(sg_edit_group_delete(&d, "sg-free", &diag));
	cr_assert_lt(sg_config_find_group(&cfg, "sg-free"), 0);
}

Test(edit, group_delete_in_use)
{
	refused(sg_edit_group_delete(&d, "sg-web", &diag),
		"DependencyViolation", "instance i-web carries it");
	cr_assert(strstr(out, "of sg-db references it"), "%s", out);
	sg_diag_free(&diag);
	refused(sg_edit_group_delete(&d, "sg-db", &diag), "DependencyViolation",
		"i-db");
}

Test(edit, group_delete_default_and_missing)
{
	refused(sg_edit_group_delete(&d, "sg-default", &diag), "CannotDelete",
		"default");
	sg_diag_free(&diag);
	refused(sg_edit_group_delete(&d, "sg-nope", &diag),
		"InvalidGroup.NotFound", NULL);
}

/* ---- instances ---- */

Test(edit, instance_add)
{
	const char *ips[] = {"10.0.1.11", "2001:db8::11"};
	const char *groups[] = {"sg-web", "sg-db"};
	struct sg_instance_spec s = {ips,  2,	     groups, 2,
				     NULL, "veth-x", NULL,   false};
	int i;

	ok(sg_edit_instance_add(&d, "i-new", &s, &diag));
	i = sg_config_find_instance(&cfg, "i-new");
	cr_assert_geq(i, 0);
	cr_assert_eq(cfg.instances[i].nips, 2);
	cr_assert_eq(cfg.instances[i].ngroups, 2);
	cr_assert_str_eq(cfg.instances[i].interface, "veth-x");
	/* No groups: the VPC's default group. */
	s = (struct sg_instance_spec){.ips = ips, .nips = 1};
	ips[0] = "10.0.1.12";
	ok(sg_edit_instance_add(&d, "i-plain", &s, &diag));
	i = sg_config_find_instance(&cfg, "i-plain");
	cr_assert_str_eq(cfg.groups[cfg.instances[i].groups[0]].id,
			 "sg-default");
}

Test(edit, instance_add_errors)
{
	const char *ips[] = {"10.0.1.10"};
	const char *bad[] = {"sg-nope"};
	struct sg_instance_spec s = {ips, 1, NULL, 0, NULL, NULL, NULL, false};

	refused(sg_edit_instance_add(&d, "i-web", &s, &diag),
		"InvalidInstanceID.Duplicate", "i-web");
	sg_diag_free(&diag);
	ips[0] = "10.0.9.9";
	s.groups = bad;
	s.ngroups = 1;
	refused(sg_edit_instance_add(&d, "i-x", &s, &diag),
		"InvalidGroup.NotFound", "sg-nope");
	sg_diag_free(&diag);
	s.nips = 0;
	s.ngroups = 0;
	refused(sg_edit_instance_add(&d, "i-x", &s, &diag), "MissingParameter",
		NULL);
}

Test(edit, instance_set_groups)
{
	const char *g2[] = {"sg-db", "sg-free"};
	int i;

	ok(sg_edit_instance_set_groups(&d, "i-web", g2, 2, &diag));
	i = sg_config_find_instance(&cfg, "i-web");
	cr_assert_eq(cfg.instances[i].ngroups, 2);
	cr_assert_str_eq(cfg.groups[cfg.instances[i].groups[0]].id, "sg-db");
	free(before);
	before = sg_desired_text(&d, NULL);
	/* sg-web is free now: it may go (but sg-db's rule still names it). */
	refused(sg_edit_group_delete(&d, "sg-web", &diag),
		"DependencyViolation", "of sg-db references it");
}

Test(edit, instance_set_groups_errors)
{
	const char *bad[] = {"sg-nope"};
	const char *many[17];
	char names[17][16];
	char *yaml;
	size_t len = 0;
	FILE *f;

	refused(sg_edit_instance_set_groups(&d, "i-nope", bad, 1, &diag),
		"InvalidInstanceID.NotFound", "i-nope");
	sg_diag_free(&diag);
	refused(sg_edit_instance_set_groups(&d, "i-web", bad, 1, &diag),
		"InvalidGroup.NotFound", "sg-nope");
	sg_diag_free(&diag);

	/* 17 groups: one above the limit. */
	f = open_memstream(&yaml, &len);
	fprintf(f, "security_groups:\n");
	for (int i = 0; i < 17; i++) {
		snprintf(names[i], sizeof(names[i]), "sg-g%d", i);
		many[i] = names[i];
		fprintf(f, "  sg-g%d: {}\n", i);
	}
	fprintf(f, "instances:\n  i-a: {ips: [10.0.0.1], security_groups: "
		   "[sg-g0]}\n");
	fclose(f);
	load(yaml);
	free(yaml);
	refused(sg_edit_instance_set_groups(&d, "i-a", many, 17, &diag),
		"SecurityGroupsPerInterfaceLimitExceeded", NULL);
	sg_diag_free(&diag);
	ok(sg_edit_instance_set_groups(&d, "i-a", many, 16, &diag));
}

Test(edit, instance_remove)
{
	ok(sg_edit_instance_remove(&d, "i-db", &diag));
	cr_assert_lt(sg_config_find_instance(&cfg, "i-db"), 0);
	free(before);
	before = sg_desired_text(&d, NULL);
	refused(sg_edit_instance_remove(&d, "i-db", &diag),
		"InvalidInstanceID.NotFound", "i-db");
	sg_diag_free(&diag);
	/* Nothing carries sg-db now, nothing references it: it may go. */
	ok(sg_edit_group_delete(&d, "sg-db", &diag));
}

Test(edit, an_invalid_state_is_not_edited)
{
	json_t *g = json_object_get(json_object_get(d.doc, "security_groups"),
				    "sg-free");

	json_object_set_new(g, "colour", json_string("blue"));
	free(before);
	before = sg_desired_text(&d, NULL);
	refused(sg_edit_group_create(&d, "sg-new", NULL, NULL, &diag),
		"InvalidParameterValue", "colour");
	cr_assert(strstr(out, "has errors already"), "%s", out);
}

Test(edit, rules_with_written_ids)
{
	struct sg_rule_spec s = tcp(SG_DIR_IN, "443", "10.0.0.0/8");

	load("security_groups:\n"
	     "  sg-a:\n"
	     "    inbound:\n"
	     "      - {protocol: tcp, ports: 22, source: 10.0.0.0/8,"
	     " id: sgr-00000000000000001}\n"
	     "      - {protocol: tcp, ports: 443, source: 10.0.0.0/8,"
	     " id: sgr-00000000000000002}\n");
	ok(sg_edit_rule_delete(&d, "sg-a", "sgr-00000000000000001", NULL, NULL,
			       &diag));
	cr_assert_eq(group("sg-a")->nrules, 3);
	cr_assert_str_eq(group("sg-a")->rules[0].id, "sgr-00000000000000002");
	/* The selector finds a rule whatever its id. */
	ok(sg_edit_rule_delete(&d, "sg-a", NULL, &s, NULL, &diag));
	cr_assert_eq(group("sg-a")->nrules, 2);
}

/* ---- a batch of rule edits (judged once) ---- */

/* The batch on d makes the state and ids that one edit after another
 * makes on a copy. */
static void batch_like_one_by_one(const char *gid, const char *const *del,
				  size_t ndel, const struct sg_rule_spec *add,
				  size_t nadd)
{
	struct sg_desired seq = {json_deep_copy(d.doc)};
	char sdel[8][SG_RULE_ID_SIZE], sadd[8][SG_RULE_ID_SIZE];
	char bdel[8][SG_RULE_ID_SIZE], badd[8][SG_RULE_ID_SIZE];
	char *a, *b;
	int row = 7;

	cr_assert(ndel <= 8 && nadd <= 8);
	for (size_t i = 0; i < ndel; i++)
		cr_assert_eq(sg_edit_rule_delete(&seq, gid, del[i], NULL,
						 sdel[i], &diag),
			     0, "%s", print_diag());
	for (size_t i = 0; i < nadd; i++)
		cr_assert_eq(sg_edit_rule_add(&seq, gid, &add[i], sadd[i],
					      &diag),
			     0, "%s", print_diag());
	sg_config_free(&cfg);
	cr_assert_eq(sg_edit_rule_batch(&d, gid, NULL, del, ndel, bdel, add,
					nadd, badd, &row, &cfg, &diag),
		     0, "%s", print_diag());
	cr_assert_eq(row, -1);
	cr_assert_geq(sg_config_find_group(&cfg, gid), 0, "next is left");
	a = sg_desired_text(&seq, NULL);
	b = sg_desired_text(&d, NULL);
	cr_assert_str_eq(b, a);
	for (size_t i = 0; i < ndel; i++)
		cr_assert_str_eq(bdel[i], sdel[i]);
	for (size_t i = 0; i < nadd; i++) {
		cr_assert(sadd[i][0], "add %zu has an id", i);
		cr_assert_str_eq(badd[i], sadd[i]);
	}
	free(a);
	free(b);
	sg_desired_free(&seq);
}

static void rule_id(char id[SG_RULE_ID_SIZE], const char *gid, const char *text)
{
	const struct sg_rule *r = rule_text(gid, text);

	cr_assert_not_null(r, "no rule '%s' in %s", text, gid);
	snprintf(id, SG_RULE_ID_SIZE, "%s", r->id);
}

Test(edit, batch_deletes_a_whole_peer_list_and_default_egress)
{
	char h4[SG_RULE_ID_SIZE], h6[SG_RULE_ID_SIZE], e4[SG_RULE_ID_SIZE];
	const char *del[3] = {h6, e4, h4};
	struct sg_rule_spec add[3] = {
		tcp(SG_DIR_IN, "443", "0.0.0.0/0"),
		tcp(SG_DIR_OUT, "5432", "sg-db"),
		{.dir = SG_DIR_IN, .type = "https", .peer = "::/0",
		 .description = "web"},
	};

	ok(0);
	rule_id(h4, "sg-web", "http (tcp/80) from 0.0.0.0/0");
	rule_id(h6, "sg-web", "http (tcp/80) from ::/0");
	rule_id(e4, "sg-web", "all traffic to 0.0.0.0/0 (default egress)");
	batch_like_one_by_one("sg-web", del, 3, add, 3);
}

Test(edit, batch_one_peer_both_egress_and_the_default_group)
{
	char h6[SG_RULE_ID_SIZE], e4[SG_RULE_ID_SIZE], e6[SG_RULE_ID_SIZE];
	const char *del[3] = {e6, h6, e4};
	struct sg_rule_spec add[2] = {
		tcp(SG_DIR_OUT, "443", "0.0.0.0/0"),
		tcp(SG_DIR_IN, "8080-8089", "pl-office"),
	};

	ok(0);
	rule_id(h6, "sg-web", "http (tcp/80) from ::/0");
	rule_id(e4, "sg-web", "all traffic to 0.0.0.0/0 (default egress)");
	rule_id(e6, "sg-web", "all traffic to ::/0 (default egress)");
	batch_like_one_by_one("sg-web", del, 3, add, 2);
	/* Only adds, to the VPC's implicit default group. */
	load(base);
	ok(0);
	batch_like_one_by_one("sg-default", NULL, 0, add, 2);
	/* Only deletes. */
	load(base);
	ok(0);
	rule_id(e4, "sg-web", "all traffic to 0.0.0.0/0 (default egress)");
	batch_like_one_by_one("sg-web", (const char *[]){e4}, 1, NULL, 0);
}

Test(edit, batch_errors_name_the_row)
{
	struct sg_rule_spec add[3] = {
		tcp(SG_DIR_IN, "443", "0.0.0.0/0"),
		tcp(SG_DIR_IN, "444", "sg-nope"),
		tcp(SG_DIR_IN, "443", "0.0.0.0/0"),
	};
	char ssh[SG_RULE_ID_SIZE];
	int row;

	ok(0);
	rule_id(ssh, "sg-web", "ssh (tcp/22) from 203.0.113.10/32");
	/* A duplicate of an earlier row of the same batch. */
	cr_assert_eq(sg_edit_rule_batch(&d, "sg-web", NULL, NULL, 0, NULL,
					(struct sg_rule_spec[]){add[0], add[2]},
					2, NULL, &row, NULL, &diag),
		     -EINVAL);
	cr_assert_eq(row, 1);
	cr_assert_str_eq(diag.entries[0].code, "InvalidPermission.Duplicate",
			 "%s", print_diag());
	sg_diag_free(&diag);
	load(base);
	/* A peer group that does not exist. */
	cr_assert_eq(sg_edit_rule_batch(&d, "sg-web", NULL, NULL, 0, NULL, add,
					3, NULL, &row, NULL, &diag),
		     -EINVAL);
	cr_assert_eq(row, 1);
	cr_assert_str_eq(diag.entries[0].code, "InvalidGroup.NotFound", "%s",
			 print_diag());
	sg_diag_free(&diag);
	load(base);
	/* The same rule deleted twice: the second is not found. */
	cr_assert_eq(sg_edit_rule_batch(&d, "sg-web", NULL,
					(const char *[]){ssh, ssh}, 2, NULL,
					add, 1, NULL, &row, NULL, &diag),
		     -EINVAL);
	cr_assert_eq(row, -1);
	cr_assert_str_eq(diag.entries[0].code, "InvalidPermission.NotFound",
			 "%s", print_diag());
	sg_diag_free(&diag);
	load(base);
	/* No such group. */
	cr_assert_eq(sg_edit_rule_batch(&d, "sg-nope", NULL, NULL, 0, NULL,
					add, 1, NULL, &row, NULL, &diag),
		     -EINVAL);
	cr_assert_eq(row, 0);
	cr_assert_str_eq(diag.entries[0].code, "InvalidGroup.NotFound", "%s",
			 print_diag());
}

Test(edit, batch_quota_names_the_first_row_over)
{
	struct sg_rule_spec add[4];
	char ports[4][16];
	int row;

	load("quotas: {rules_per_group: 4}\n"
	     "security_groups:\n"
	     "  sg-a:\n"
	     "    inbound:\n"
	     "      - {protocol: tcp, ports: 22, source: 10.0.0.0/8}\n");
	for (int i = 0; i < 4; i++) {
		snprintf(ports[i], sizeof(ports[i]), "%d", 1000 + i);
		add[i] = tcp(SG_DIR_IN, ports[i], "10.0.0.0/8");
	}
	cr_assert_eq(sg_edit_rule_batch(&d, "sg-a", NULL, NULL, 0, NULL, add,
					4, NULL, &row, NULL, &diag),
		     -EINVAL);
	cr_assert_eq(row, 3, "%s", print_diag());
	cr_assert_str_eq(diag.entries[0].code,
			 "RulesPerSecurityGroupLimitExceeded", "%s",
			 print_diag());
}

Test(edit, batch_adds_only_without_reading_the_config_first)
{
	struct sg_rule_spec add[3] = {
		tcp(SG_DIR_OUT, "5432", "sg-db"),
		tcp(SG_DIR_IN, "443", "sg-n"),
		{.dir = SG_DIR_IN, .type = "https", .peer = "pl-office"},
	};

	load("vpc: vpc-t\n"
	     "prefix_lists:\n"
	     "  pl-office: {max_entries: 2, entries: [203.0.113.0/28]}\n"
	     "security_groups:\n"
	     "  sg-db:\n"
	     "    inbound: []\n"
	     "  sg-n:\n");
	batch_like_one_by_one("sg-n", NULL, 0, add, 3);
	/* A peer that is the VPC's implicit default group. */
	add[1].peer = "sg-default";
	batch_like_one_by_one("sg-db", NULL, 0, add, 2);
}
