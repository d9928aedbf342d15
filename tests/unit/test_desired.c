// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The desired state as data (desired/desired.c): files into JSON and back
 * through the validator to the very same config, the stored blob form, and
 * the key layout of the store with its errors naming the key.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "desired/desired.h"
#include "input/inputs.h"
#include "config/model.h"

static struct sg_diag diag;
static char *out;

static void setup(void)
{
	sg_diag_init(&diag);
	out = NULL;
}

static void teardown(void)
{
	sg_diag_free(&diag);
	free(out);
}

TestSuite(desired, .init = setup, .fini = teardown);

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

/* A path relative to the repository (found from this file's place). */
static const char *repo(const char *rel)
{
	static char buf[8][1024];
	static int k;
	char src[1024];

	snprintf(src, sizeof(src), "%s", __FILE__);
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/../../%s", dirname(src), rel);
	return buf[k];
}

static bool prefix_eq(const struct sg_prefix *a, const struct sg_prefix *b)
{
	return a->family == b->family && a->len == b->len &&
	       !memcmp(a->addr, b->addr, sizeof(a->addr));
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Same groups, rules (with ids), instances and prefix lists. */
static void expect_same(const struct sg_config *a, const struct sg_config *b)
{
	cr_assert_str_eq(a->vpc, b->vpc);
	cr_assert_str_eq(a->region, b->region);
	cr_assert_str_eq(a->account, b->account);
	cr_assert_eq(a->ngroups, b->ngroups);
	for (size_t g = 0; g < a->ngroups; g++) {
		const struct sg_group *x = &a->groups[g], *y = &b->groups[g];

		cr_assert_str_eq(x->id, y->id);
		cr_assert(str_eq(x->name, y->name), "%s", x->id);
		cr_assert(str_eq(x->description, y->description), "%s", x->id);
		cr_assert_eq(x->implicit, y->implicit);
		cr_assert_eq(x->undefined, y->undefined);
		cr_assert_eq(x->nrules, y->nrules, "%s", x->id);
		for (size_t r = 0; r < x->nrules; r++) {
			const struct sg_rule *p = &x->rules[r],
					     *q = &y->rules[r];

			cr_assert_str_eq(p->id, q->id);
			cr_assert_str_eq(p->text, q->text);
			cr_assert(str_eq(p->description, q->description));
			cr_assert_eq(p->dir, q->dir);
			cr_assert_eq(p->proto, q->proto);
			cr_assert_eq(p->port_lo, q->port_lo);
			cr_assert_eq(p->port_hi, q->port_hi);
			cr_assert_eq(p->icmp_type, q->icmp_type);
			cr_assert_eq(p->icmp_code, q->icmp_code);
			cr_assert_eq(p->peer_kind, q->peer_kind);
			cr_assert_eq(p->peer_index, q->peer_index);
			cr_assert(prefix_eq(&p->cidr, &q->cidr));
			cr_assert_eq(p->id_written, q->id_written);
		}
	}
	cr_assert_eq(a->ninstances, b->ninstances);
	for (size_t i = 0; i < a->ninstances; i++) {
		const struct sg_instance *x = &a->instances[i],
					 *y = &b->instances[i];

		cr_assert_str_eq(x->id, y->id);
		cr_assert(str_eq(x->interface, y->interface));
		cr_assert_eq(x->nips, y->nips);
		for (size_t k = 0; k < x->nips; k++)
			cr_assert(prefix_eq(&x->ips[k], &y->ips[k]));
		cr_assert_eq(x->ngroups, y->ngroups);
		cr_assert_arr_eq(x->groups, y->groups,
				 x->ngroups * sizeof(*x->groups));
		cr_assert_eq(x->source_dest_check, y->source_dest_check);
		cr_assert_arr_eq(&x->ct, &y->ct, sizeof(x->ct));
	}
	cr_assert_eq(a->nprefix_lists, b->nprefix_lists);
	for (size_t i = 0; i < a->nprefix_lists; i++) {
		const struct sg_prefix_list *x = &a->prefix_lists[i],
					    *y = &b->prefix_lists[i];

		cr_assert_str_eq(x->id, y->id);
		cr_assert_eq(x->max_entries, y->max_entries);
		cr_assert_eq(x->nentries, y->nentries);
		for (size_t k = 0; k < x->nentries; k++)
			cr_assert(prefix_eq(&x->entries[k], &y->entries[k]));
	}
}

/* Files -> desired -> text -> config equals files -> config. */
static void round_trip(const char *const *rel, size_t n)
{
	const char *paths[8];
	struct sg_inputs in;
	struct sg_config want, got;
	struct sg_desired d;
	struct sg_kvset kv;
	char *text, *blob, *prefix;
	size_t len;

	for (size_t i = 0; i < n; i++)
		paths[i] = repo(rel[i]);
	cr_assert_eq(sg_inputs_read(paths, n, &in, &diag), 0, "%s",
		     print_diag());
	cr_assert_eq(sg_inputs_parse(&in, &want, &diag), 0, "%s", print_diag());
	cr_assert_eq(sg_desired_from_inputs(&in, &d, &diag), 0, "%s",
		     print_diag());
	sg_inputs_free(&in);

	text = sg_desired_text(&d, &len);
	cr_assert(text);
	cr_assert_eq(sg_config_parse_string("desired", text, len, &got, &diag),
		     0, "%s\n%s", print_diag(), text);
	expect_same(&want, &got);
	sg_config_free(&got);

	/* The stored form reads as YAML, then back into the same state. */
	blob = sg_desired_blob(&d, &len);
	cr_assert(blob);
	cr_assert_eq(sg_config_parse_blob(blob, len, &got, &diag), 0, "%s",
		     print_diag());
	expect_same(&want, &got);
	sg_config_free(&got);
	{
		struct sg_desired e;
		char *t2;

		cr_assert_eq(sg_desired_from_blob(blob, len, &e, &diag), 0);
		t2 = sg_desired_text(&e, NULL);
		cr_assert_str_eq(t2, text);
		free(t2);
		sg_desired_free(&e);
	}
	free(blob);

	/* Through the store's keys: the same config but for group order. */
	prefix = sg_desired_prefix(sg_desired_vpc(&d));
	cr_assert_eq(sg_desired_to_kv(&d, prefix, &kv), 0);
	{
		struct sg_desired e;
		char *t2;

		cr_assert_eq(sg_desired_from_kv(&kv, prefix, &e, &diag), 0,
			     "%s", print_diag());
		t2 = sg_desired_text(&e, &len);
		cr_assert_eq(sg_config_parse_string("kv", t2, len, &got, &diag),
			     0, "%s", print_diag());
		cr_assert_eq(got.ngroups, want.ngroups);
		cr_assert_eq(got.ninstances, want.ninstances);
		for (size_t g = 0; g < want.ngroups; g++) {
			int k = sg_config_find_group(&got, want.groups[g].id);

			cr_assert_geq(k, 0);
			cr_assert_eq(got.groups[k].nrules,
				     want.groups[g].nrules);
			for (size_t r = 0; r < want.groups[g].nrules; r++)
				cr_assert_str_eq(got.groups[k].rules[r].id,
						 want.groups[g].rules[r].id);
		}
		sg_config_free(&got);
		free(t2);
		sg_desired_free(&e);
	}
	sg_kvset_free(&kv);
	free(prefix);
	free(text);
	sg_config_free(&want);
	sg_desired_free(&d);
}

Test(desired, lab_example_round_trip)
{
	const char *f[] = {"examples/lab.yaml"};

	round_trip(f, 1);
}

Test(desired, ns_configs_round_trip)
{
	static const char *const files[] = {
		"tests/ns/default.yaml",   "tests/ns/groups.yaml",
		"tests/ns/proto.yaml",	   "tests/ns/refs.yaml",
		"tests/ns/refs-v2.yaml",   "tests/ns/seed.yaml",
		"tests/ns/stateful.yaml",  "tests/ns/stateful-v2.yaml",
		"tests/ns/observe.yaml",   "tests/ns/reload-a.yaml",
		"tests/ns/reload-b.yaml",  "tests/ns/lifecycle.yaml",
		"tests/ns/fulltable.yaml",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		round_trip(&files[i], 1);
}

Test(desired, aws_json_round_trip)
{
	const char *seed[] = {"tests/aws/seed-sgs.json",
			      "tests/aws/seed-enis.json"};
	const char *lab[] = {"tests/aws/lab-prefix-lists.yaml",
			     "tests/aws/lab-sgs.json",
			     "tests/aws/lab-enis.json"};

	round_trip(seed, 2);
	round_trip(lab, 3);
}

static int from_text(const char *yaml, struct sg_desired *d)
{
	struct sg_input f = {(char *)"t.yaml", (char *)yaml, strlen(yaml)};
	struct sg_inputs in = {&f, 1};

	return sg_desired_from_inputs(&in, d, &diag);
}

Test(desired, scalars_keep_their_text)
{
	struct sg_desired d;
	struct sg_config cfg;
	char *text;

	cr_assert_eq(
		from_text(
			"account: \"000000000007\"\n"
			"security_groups:\n"
			"  sg-a:\n"
			"    description: True\n"
			"    inbound:\n"
			"      - {protocol: tcp, ports: 22, source: 10.0.0.0/8,"
			" description: 0x10}\n"
			"      - {protocol: '6', ports: '80', source: "
			"10.0.0.0/8,"
			"}\n"
			"  sg-b: ~\n"
			"instances:\n"
			"  i-a: {ips: [10.1.1.1], security_groups: [sg-a],"
			" source_dest_check: false}\n",
			&d),
		0, "%s", print_diag());
	text = sg_desired_text(&d, NULL);
	cr_assert(strstr(text, "\"ports\": 22"), "%s", text);
	cr_assert(strstr(text, "\"description\": \"True\""), "%s", text);
	cr_assert(strstr(text, "\"description\": \"0x10\""), "%s", text);
	cr_assert(strstr(text, "\"sg-b\": null"), "%s", text);
	cr_assert(strstr(text, "\"source_dest_check\": false"), "%s", text);
	cr_assert(strstr(text, "\"account\": \"000000000007\""), "%s", text);
	cr_assert_eq(
		sg_config_parse_string("d", text, strlen(text), &cfg, &diag), 0,
		"%s", print_diag());
	cr_assert_str_eq(cfg.groups[0].description, "True");
	cr_assert_str_eq(cfg.groups[0].rules[0].description, "0x10");
	cr_assert_str_eq(cfg.groups[1].id, "sg-b");
	cr_assert_str_eq(cfg.account, "000000000007");
	cr_assert_not(cfg.instances[0].source_dest_check);
	sg_config_free(&cfg);
	free(text);
	sg_desired_free(&d);
}

Test(desired, invalid_inputs_give_no_state)
{
	struct sg_desired d;

	cr_assert_eq(from_text("security_groups:\n"
			       "  sg-a:\n"
			       "    inbound:\n"
			       "      - {protocol: tcp, ports: 70000, "
			       "source: 10.0.0.0/8}\n",
			       &d),
		     -EINVAL);
	cr_assert_null(d.doc);
	cr_assert(strstr(print_diag(), "t.yaml:4:"), "%s", out);
}

Test(desired, key_layout)
{
	struct sg_desired d;
	struct sg_kvset kv;
	char *prefix;

	cr_assert_eq(
		from_text("vpc: vpc-x\nregion: r1\n"
			  "prefix_lists:\n"
			  "  pl-a: {max_entries: 1, entries: [10.0.0.0/8]}\n"
			  "security_groups:\n"
			  "  sg-a: {}\n"
			  "  sg-b: {inbound: [{type: ssh, source: sg-a}]}\n"
			  "instances:\n"
			  "  i-a: {ips: [10.1.1.1], security_groups: [sg-a]}\n",
			  &d),
		0, "%s", print_diag());
	prefix = sg_desired_prefix(sg_desired_vpc(&d));
	cr_assert_str_eq(prefix, "/sgctl/v1/vpc-x/");
	cr_assert_eq(sg_desired_to_kv(&d, prefix, &kv), 0);
	cr_assert_eq(kv.n, 5);
	cr_assert_str_eq(kv.v[0].key, "/sgctl/v1/vpc-x/vpc");
	cr_assert_str_eq(kv.v[0].value,
			 "{\"vpc\":\"vpc-x\",\"region\":\"r1\"}");
	cr_assert_str_eq(kv.v[1].key, "/sgctl/v1/vpc-x/prefix-lists/pl-a");
	cr_assert_str_eq(kv.v[2].key, "/sgctl/v1/vpc-x/groups/sg-a");
	cr_assert_str_eq(kv.v[2].value, "{}");
	cr_assert_str_eq(kv.v[3].key, "/sgctl/v1/vpc-x/groups/sg-b");
	cr_assert_str_eq(kv.v[4].key, "/sgctl/v1/vpc-x/instances/i-a");
	cr_assert_str_eq(
		kv.v[4].value,
		"{\"ips\":[\"10.1.1.1\"],\"security_groups\":[\"sg-a\"]}");
	sg_kvset_free(&kv);
	free(prefix);
	sg_desired_free(&d);
}

static struct sg_kv kv_of(const char *key, const char *value)
{
	return (struct sg_kv){(char *)key, (char *)value, strlen(value), 3};
}

Test(desired, from_kv_errors_name_the_key)
{
	struct sg_kv v[] = {
		kv_of("/sgctl/v1/vpc-x/vpc", "{\"vpc\":\"vpc-x\"}"),
		kv_of("/sgctl/v1/vpc-x/groups/sg-a", "{\"inbound\": [}"),
		kv_of("/sgctl/v1/vpc-x/widgets/w", "{}"),
		kv_of("/sgctl/v1/vpc-x/groups/", "{}"),
		kv_of("/sgctl/v1/vpc-x/status/host1", "not json at all"),
	};
	struct sg_kvset kv = {v, 5};
	struct sg_desired d;

	cr_assert_eq(sg_desired_from_kv(&kv, "/sgctl/v1/vpc-x/", &d, &diag),
		     -EINVAL);
	cr_assert_null(d.doc);
	print_diag();
	cr_assert(strstr(out, "/sgctl/v1/vpc-x/groups/sg-a: "
			      "InvalidParameterValue: the value is not JSON"),
		  "%s", out);
	cr_assert(strstr(out,
			 "/sgctl/v1/vpc-x/widgets/w: InvalidParameterValue: "
			 "not a key of the desired state"),
		  "%s", out);
	cr_assert(strstr(out, "/sgctl/v1/vpc-x/groups/: "), "%s", out);
	cr_assert_not(strstr(out, "status"), "%s", out);
	cr_assert_eq(diag.nerrors, 3);
}

Test(desired, from_kv_vpc_must_match_prefix)
{
	struct sg_kv v[] = {
		kv_of("/sgctl/v1/vpc-x/vpc", "{\"vpc\":\"vpc-y\"}"),
	};
	struct sg_kvset kv = {v, 1};
	struct sg_desired d;

	cr_assert_eq(sg_desired_from_kv(&kv, "/sgctl/v1/vpc-x/", &d, &diag),
		     -EINVAL);
	cr_assert(strstr(print_diag(), "/sgctl/v1/vpc-x/vpc: "), "%s", out);
}

Test(desired, from_kv_without_settings_names_the_vpc)
{
	struct sg_kv v[] = {
		kv_of("/sgctl/v1/vpc-x/groups/sg-a", "null"),
	};
	struct sg_kvset kv = {v, 1};
	struct sg_desired d;
	char *text;

	cr_assert_eq(sg_desired_from_kv(&kv, "/sgctl/v1/vpc-x/", &d, &diag), 0,
		     "%s", print_diag());
	cr_assert_str_eq(sg_desired_vpc(&d), "vpc-x");
	text = sg_desired_text(&d, NULL);
	cr_assert(strstr(text, "\"sg-a\": null"), "%s", text);
	free(text);
	sg_desired_free(&d);
}
