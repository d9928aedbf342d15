// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Real AWS documents that nobody on this project wrote (SOURCES.md in
 * their folder): each is read as a user would, and gets what a real AWS
 * user should get. The folder is outside the repository; its path comes
 * from SGCTL_AWS_REAL (default ../shared/data/aws-real next to the
 * repository, then /work/shared/data/aws-real). Without it, the test is
 * skipped with a message.
 *
 * The expectations: refused only where the document itself is broken
 * (02, 24), partial (23), of another account than its groups (08 with
 * 07), or holds several VPCs without --vpc (15, 19, 25: one error).
 */
#define _GNU_SOURCE
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config/model.h"
#include "input/inputs.h"
#include "util/diag.h"

struct expect {
	const char *files[2]; /* names in the folder */
	const char *vpc; /* --vpc, or NULL */
	int rc; /* 0 or -EINVAL */
	size_t errors, groups, instances; /* groups/instances: if valid */
	const char *has[3]; /* in the diagnostics, in order of appearance */
	unsigned int quota; /* rules_per_group, 0: not checked */
};

static const struct expect table[] = {
	{{"01-awscli-sg-vpc-tags-selfref.json"}, NULL, 0, 0, 2, 0, {NULL}},
	{{"02-awscli-sg-doc-verbatim-trailing-comma.json"}, NULL, -EINVAL, 1,
	 0, 0, {"trailing-comma.json:53:", "JSON: "}},
	{{"03-awscli-sg-ec2-classic.json"}, NULL, 0, 0, 2, 0,
	 {"SecurityGroups[0]: warning: sg-903004f8 is an EC2-Classic group"}},
	{{"04-awscli-sg-rules.json"}, NULL, 0, 0, 2, 0, {NULL}},
	{{"05-awscli-eni-attached-eip.json"}, NULL, 0, 0, 2, 2,
	 {"sg-8637d3e3 is not in these inputs"}},
	{{"06-awscli-eni-secondary-ips-tagset.json"}, NULL, 0, 0, 2, 1,
	 {"sg-905002f5 is not in these inputs"}},
	{{"07-cloudmapper-demo-sgs.json"}, NULL, 0, 0, 8, 0,
	 {"2.2.2.2/28 has host bits set; using 2.2.2.0/28"}},
	{{"08-cloudmapper-demo-enis.json"}, NULL, 0, 0, 2, 1, {NULL}},
	{{"07-cloudmapper-demo-sgs.json", "08-cloudmapper-demo-enis.json"},
	 NULL, -EINVAL, 1, 0, 0,
	 {"NetworkInterfaces[0].OwnerId: InvalidParameterValue: all inputs "
	  "must be in one account"}},
	{{"09-c7n-sg-peering-stale.json"}, NULL, 0, 0, 3, 0,
	 {"warning: sg-e9843198 is in peering connection pcx-0a5e2a63"}},
	{{"10-c7n-sg-prefix-list-hostbits.json"}, NULL, 0, 0, 4, 0,
	 {"prefix list pl-63a5400b: AWS's JSON does not hold its entries",
	  "192.168.0.1/31 has host bits set; using 192.168.0.0/31"}},
	{{"11-c7n-sg-icmp-udp-self.json"}, NULL, 0, 0, 1, 0, {NULL}},
	{{"12-c7n-sg-ecs-task.json", "13-c7n-eni-ecs-task.json"}, NULL, 0, 0,
	 2, 1, {NULL}},
	{{"14-c7n-sg-descriptions-empty-egress.json"}, NULL, 0, 0, 3, 0,
	 {NULL}},
	{{"15-c7n-sg-unfiltered-4-vpcs.json"}, NULL, -EINVAL, 1, 0, 0,
	 {"these inputs hold 4 VPCs: vpc-6b7e9b0c (10 groups)", "--vpc ID"}},
	{{"15-c7n-sg-unfiltered-4-vpcs.json"}, "vpc-6b7e9b0c", 0, 0, 10, 0,
	 {"note: --vpc vpc-6b7e9b0c: skipped 9 groups"}},
	{{"16-c7n-eni-11-interfaces.json"}, NULL, 0, 0, 4, 11,
	 {"NetworkInterfaces[0]: note: eni-0449d9bc9a2d3536c (InterfaceType "
	  "nat_gateway) has no security group",
	  "NetworkInterfaces[1]: note: eni-093527bfac74a413e (InterfaceType "
	  "transit_gateway)"}},
	{{"17-boto3-sg-ipv6-responsemetadata.json"}, NULL, 0, 0, 6, 0, {NULL}},
	{{"18-cli-query-bare-list.json"}, NULL, 0, 0, 1, 0, {NULL}},
	{{"19-cli-2025-arn-two-vpcs.json"}, NULL, -EINVAL, 1, 0, 0,
	 {"these inputs hold 2 VPCs"}},
	{{"19-cli-2025-arn-two-vpcs.json"}, "vpc-0b01e3c90d78d7028", 0, 0, 2,
	 0, {NULL}},
	{{"20-cli-2024-k8s-empty-ingress.json"}, NULL, 0, 0, 2, 0, {NULL}},
	{{"21-cli-compact-one-line.json"}, NULL, 0, 0, 1, 0, {NULL}},
	{{"22-cli-sg-rules-real.json"}, NULL, 0, 0, 2, 0, {NULL}},
	{{"23-cli-skeleton-nexttoken.json"}, NULL, -EINVAL, 1, 0, 0,
	 {"NextToken is set", "--max-items"}},
	{{"24-cli-query-ippermissions-only.json"}, NULL, -EINVAL, 1, 0, 0,
	 {"[0]: InvalidParameterValue: permissions without their group"}},
	{{"25-real-account-566-groups.json"}, NULL, -EINVAL, 1, 0, 0,
	 {"these inputs hold 15 VPCs: vpc-03c58e092e827fda1 (180 groups)"}},
	{{"25-real-account-566-groups.json"}, "vpc-03c58e092e827fda1", 0, 0,
	 188, 0,
	 {"note: --vpc vpc-03c58e092e827fda1: skipped 386 groups",
	  "sg-0cbf9d834041f1161 has 70 rules"},
	 70},
	{{"25-real-account-566-groups.json"}, "vpc-93ce8df7", 0, 0, 195, 0,
	 {"is in peering connection"}, 78},
};

static const char *folder(void)
{
	static char buf[1024];
	const char *env = getenv("SGCTL_AWS_REAL");
	char src[1024];
	struct stat st;

	if (env && *env)
		return env;
	snprintf(src, sizeof(src), "%s", __FILE__);
	snprintf(buf, sizeof(buf), "%s/../../../shared/data/aws-real",
		 dirname(src));
	if (!stat(buf, &st))
		return buf;
	return "/work/shared/data/aws-real";
}

/* The facts of the documents tested (SOURCES.md). */
static void check_row(const char *dir, const struct expect *e)
{
	struct sg_input_opts o = {};
	struct sg_config cfg;
	struct sg_diag diag;
	char paths[2][1200], *out = NULL;
	const char *pv[2] = {paths[0], paths[1]};
	size_t n = e->files[1] ? 2 : 1, len = 0;
	char *shown;
	const char *at;
	FILE *f;
	int rc;

	for (size_t i = 0; i < n; i++)
		snprintf(paths[i], sizeof(paths[i]), "%s/%s", dir,
			 e->files[i]);
	if (e->vpc)
		cr_assert_eq(sg_input_opts_vpc(&o, e->vpc), 0);
	sg_diag_init(&diag);
	rc = sg_config_parse_files_opts(pv, n, &o, &cfg, &diag);
	f = open_memstream(&out, &len);
	sg_diag_print(&diag, f);
	fclose(f);
	/* Shown on failure: enough to see why, not 300 warnings. */
	shown = strndup(out, 3000);
	cr_assert(shown);
	cr_expect_eq(rc, e->rc, "%s%s%s: rc %d, want %d\n%s", e->files[0],
		     e->vpc ? " --vpc " : "", e->vpc ? e->vpc : "", rc, e->rc,
		     shown);
	cr_expect_eq(diag.nerrors, e->errors, "%s: %zu errors, want %zu\n%s",
		     e->files[0], diag.nerrors, e->errors, shown);
	if (!rc) {
		cr_expect_eq(cfg.ngroups, e->groups, "%s: %zu groups, want %zu",
			     e->files[0], cfg.ngroups, e->groups);
		cr_expect_eq(cfg.ninstances, e->instances,
			     "%s: %zu instances, want %zu", e->files[0],
			     cfg.ninstances, e->instances);
		if (e->quota)
			cr_expect_eq(cfg.quotas.rules_per_group, e->quota,
				     "%s: quota %u", e->files[0],
				     cfg.quotas.rules_per_group);
	}
	at = out;
	for (size_t i = 0; i < 3 && e->has[i]; i++) {
		const char *p = strstr(at, e->has[i]);


		cr_expect(p, "%s: no \"%s\" in:\n%s", e->files[0], e->has[i],
			  shown);
		if (p)
			at = p;
	}
	if (!rc)
		sg_config_free(&cfg);
	sg_diag_free(&diag);
	free(shown);
	free(out);
}

Test(aws_real, every_document_gets_what_an_aws_user_expects)
{
	const char *dir = folder();
	struct stat st;

	if (stat(dir, &st) || !S_ISDIR(st.st_mode))
		cr_skip_test("no real AWS documents at %s (set SGCTL_AWS_REAL)",
			     dir);
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		check_row(dir, &table[i]);
}

/* Every rule id of describe-security-group-rules output is kept. */
Test(aws_real, rule_ids_come_from_the_rule_listing)
{
	const char *dir = folder();
	struct sg_config cfg;
	struct sg_diag diag;
	char path[1200];
	const char *pv[1] = {path};
	int g;

	if (access(dir, R_OK))
		cr_skip_test("no real AWS documents at %s", dir);
	snprintf(path, sizeof(path), "%s/22-cli-sg-rules-real.json", dir);
	sg_diag_init(&diag);
	cr_assert_eq(sg_config_parse_files_opts(pv, 1, NULL, &cfg, &diag), 0);
	g = sg_config_find_group(&cfg, "sg-05e2452adb3981e96");
	cr_assert_geq(g, 0);
	cr_assert_eq(cfg.groups[g].nrules, 4);
	cr_assert_str_eq(cfg.groups[g].rules[0].id, "sgr-0dc398368eab9560d");
	for (size_t i = 0; i < cfg.groups[g].nrules; i++)
		cr_assert(cfg.groups[g].rules[i].id_written);
	sg_config_free(&cfg);
	sg_diag_free(&diag);
}
