// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of what the rule counters and audit mode rely on, through the
 * real parser and compiler: `enforcement: audit` on a group or an instance
 * becomes SG_INST_AUDIT on exactly the instances it concerns, a bad value
 * is refused, and every stage-2 entry carries the key of its rule's id
 * (the same key after a reload that keeps the rule).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "compile/compile.h"
#include "config/model.h"

static const char *const base =
	"security_groups:\n"
	"  sg-a:\n"
	"    %s\n"
	"    inbound:\n"
	"      - { type: ssh, source: 203.0.113.10/32 }\n"
	"  sg-b:\n"
	"    inbound:\n"
	"      - { protocol: udp, ports: 53, source: 0.0.0.0/0 }\n"
	"instances:\n"
	"  i-one:\n"
	"    ips: [198.18.1.10]\n"
	"    security_groups: [sg-a]\n"
	"  i-two:\n"
	"    ips: [198.18.1.11]\n"
	"    security_groups: [sg-b]\n"
	"    %s\n";

static int parse(const char *group_line, const char *inst_line,
		 struct sg_config *cfg, struct sg_diag *diag)
{
	char text[2048];

	snprintf(text, sizeof(text), base, group_line, inst_line);
	sg_diag_init(diag);
	memset(cfg, 0, sizeof(*cfg));
	return sg_config_parse_string("t.yaml", text, strlen(text), cfg, diag);
}

static __u32 inst_flags(const char *group_line, const char *inst_line, int i)
{
	struct sg_config cfg;
	struct sg_compiled c = {};
	struct sg_diag diag;
	__u32 flags;

	cr_assert_eq(parse(group_line, inst_line, &cfg, &diag), 0);
	cr_assert_eq(sg_compile(&cfg, &c, &diag), 0);
	flags = c.insts[i].inst.flags;
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	sg_diag_free(&diag);
	return flags;
}

Test(audit, group_and_instance)
{
	cr_assert_eq(inst_flags("name: a", "source_dest_check: true", 0) &
			     SG_INST_AUDIT,
		     0, "enforce by default");
	cr_assert_neq(
		inst_flags("enforcement: audit", "source_dest_check: true", 0) &
			SG_INST_AUDIT,
		0, "a group's audit reaches its instance");
	cr_assert_eq(
		inst_flags("enforcement: audit", "source_dest_check: true", 1) &
			SG_INST_AUDIT,
		0, "and no other");
	cr_assert_neq(
		inst_flags("enforcement: enforce", "enforcement: audit", 1) &
			SG_INST_AUDIT,
		0, "an instance's own audit");
}

Test(audit, bad_value_refused)
{
	struct sg_config cfg;
	struct sg_diag diag;

	cr_assert_neq(parse("enforcement: maybe", "source_dest_check: true",
			    &cfg, &diag),
		      0);
	cr_assert_geq(diag.nerrors, 1);
	sg_diag_free(&diag);
	sg_config_free(&cfg);
}

Test(rulehits, entries_carry_the_rule_key)
{
	struct sg_config cfg;
	struct sg_compiled c = {};
	struct sg_diag diag;

	cr_assert_eq(parse("name: a", "source_dest_check: true", &cfg, &diag),
		     0);
	cr_assert_eq(sg_compile(&cfg, &c, &diag), 0);
	cr_assert_gt(c.nrules_entries, 0);
	for (size_t i = 0; i < c.nrules_entries; i++) {
		const struct sg_rule_ref *rr =
			&c.rule_refs[c.rules[i].val.rule_ref];
		const struct sg_rule *r =
			&cfg.groups[rr->group].rules[rr->rule];

		cr_assert_eq(c.rules[i].val.rule_key, sg_rule_key_of(r->id));
		cr_assert_neq(c.rules[i].val.rule_key, 0);
	}
	sg_compiled_free(&c);
	sg_config_free(&cfg);
	sg_diag_free(&diag);
}

Test(rulehits, key_is_stable_and_distinct)
{
	cr_assert_eq(sg_rule_key_of("sgr-0123456789abcdef0"),
		     sg_rule_key_of("sgr-0123456789abcdef0"));
	cr_assert_neq(sg_rule_key_of("sgr-0123456789abcdef0"),
		      sg_rule_key_of("sgr-0123456789abcdef1"));
}
