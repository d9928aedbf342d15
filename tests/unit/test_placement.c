// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Where an instance is enforced: the keys host, interface, netns and
 * host_side, and their validation. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "config/model.h"

static struct sg_config cfg;
static struct sg_diag diag;
static char *out;

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

TestSuite(placement, .init = setup, .fini = teardown);

static int parse(const char *yaml)
{
	size_t len = 0;
	FILE *f;
	int rc;

	sg_config_free(&cfg);
	sg_diag_free(&diag);
	sg_diag_init(&diag);
	rc = sg_config_parse_string("t.yaml", yaml, strlen(yaml), &cfg, &diag);
	free(out);
	f = open_memstream(&out, &len);
	cr_assert(f);
	sg_diag_print(&diag, f);
	fclose(f);
	return rc;
}

static void expect_error(const char *yaml, const char *line)
{
	int rc = parse(yaml);

	cr_assert_eq(rc, -EINVAL, "rc %d, diagnostics:\n%s", rc, out);
	cr_assert_eq(diag.nerrors, 1, "want one error, got:\n%s", out);
	cr_assert(strstr(out, line), "want:\n%s\ngot:\n%s", line, out);
}

static const struct sg_instance *inst(const char *id)
{
	int i = sg_config_find_instance(&cfg, id);

	cr_assert_geq(i, 0, "no instance %s", id);
	return &cfg.instances[i];
}

Test(placement, all_keys)
{
	int rc = parse("instances:\n"
		       "  i-a:\n"
		       "    ips: [10.1.1.1]\n"
		       "    host: node-1.lab\n"
		       "    interface: veth-a\n"
		       "    netns: host-a\n"
		       "    host_side: true\n"
		       "  i-b: { ips: [10.1.1.2] }\n");

	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_str_eq(inst("i-a")->host, "node-1.lab");
	cr_assert_str_eq(inst("i-a")->interface, "veth-a");
	cr_assert_str_eq(inst("i-a")->netns, "host-a");
	cr_assert(inst("i-a")->host_side);
	cr_assert_null(inst("i-b")->host);
	cr_assert_null(inst("i-b")->netns);
	cr_assert_not(inst("i-b")->host_side);
}

/* JSON is YAML: the desired state in etcd is read by the same parser. */
Test(placement, json_form)
{
	int rc = parse("{\"instances\": {\"i-a\": {\"ips\": [\"10.1.1.1\"], "
		       "\"host\": \"h1\", \"interface\": \"eth0\", "
		       "\"host_side\": false}}}");

	cr_assert_eq(rc, 0, "%s", out);
	cr_assert_str_eq(inst("i-a")->host, "h1");
	cr_assert_not(inst("i-a")->host_side);
}

/* A host alone (no interface) is fine: the agent enforces it, attaching
 * nothing. */
Test(placement, host_without_interface)
{
	cr_assert_eq(
		parse("instances:\n  i-a: { ips: [10.1.1.1], host: h1 }\n"), 0,
		"%s", out);
	cr_assert_str_eq(inst("i-a")->host, "h1");
}

Test(placement, bad_types)
{
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], host: [a] }\n",
		     "t.yaml:2:33: InvalidParameterValue: host must be a "
		     "string");
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], host: a/b }\n",
		     "t.yaml:2:33: InvalidParameterValue: host 'a/b' is not a "
		     "valid host name");
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], interface: e0, "
		     "netns: {} }\n",
		     "InvalidParameterValue: netns must be a string");
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], interface: e0, "
		     "netns: \"a b\" }\n",
		     "InvalidParameterValue: netns 'a b' is not a valid "
		     "network namespace name");
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], interface: e0, "
		     "host_side: maybe }\n",
		     "InvalidParameterValue: host_side must be true or false");
}

Test(placement, needs_interface)
{
	expect_error("instances:\n  i-a: { ips: [10.1.1.1], netns: ns1 }\n",
		     "t.yaml:2:34: MissingParameter: instance i-a: netns needs "
		     "interface");
	expect_error(
		"instances:\n  i-a: { ips: [10.1.1.1], host_side: true }\n",
		"t.yaml:2:38: MissingParameter: instance i-a: host_side "
		"needs interface");
	/* false says nothing that needs one */
	cr_assert_eq(parse("instances:\n  i-a: { ips: [10.1.1.1], host_side: "
			   "false }\n"),
		     0, "%s", out);
}

/* eth0 on two hosts, or in two namespaces, is two interfaces. */
Test(placement, interface_unique_per_place)
{
	cr_assert_eq(
		parse("instances:\n"
		      "  i-a: { ips: [10.1.1.1], host: h1, interface: eth0 }\n"
		      "  i-b: { ips: [10.1.1.2], host: h2, interface: eth0 }\n"
		      "  i-c: { ips: [10.1.1.3], host: h2, interface: eth0, "
		      "netns: n1 }\n"),
		0, "%s", out);
	expect_error("instances:\n"
		     "  i-a: { ips: [10.1.1.1], host: h1, interface: eth0 }\n"
		     "  i-b: { ips: [10.1.1.2], host: h1, interface: eth0 }\n",
		     "t.yaml:3:3: InvalidParameterValue: interface eth0 is "
		     "already used by i-a (line 2)");
	expect_error(
		"instances:\n"
		"  i-a: { ips: [10.1.1.1], interface: e0, netns: n }\n"
		"  i-b: { ips: [10.1.1.2], interface: e0, netns: n }\n",
		"t.yaml:3:3: InvalidParameterValue: interface e0 in netns n "
		"is already used by i-a (line 2)");
}
