// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Ids stable across compiles (sg_compile_prev): a membership change
 * keeps every policy and class id it does not concern, so two compiles
 * differ in a few entries; new ids are never ids the previous compile
 * used; without a previous compile, ids are dense as before.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile/compile.h"
#include "config/model.h"
#include "util/diag.h"

/* Groups sg-0..sg-3 (each: tcp 80+g from 10.g.0.0/16, postgres from
 * sg-hub), sg-hub; 8 instances, instance i in sg-(i%4), instance 0 in
 * sg-hub too when hub0, instance 7 in sg-hub when hub7. */
static void compile_cfg(bool hub0, bool hub7, const struct sg_compiled *prev,
			struct sg_config *cfg, struct sg_compiled *c)
{
	char text[8192];
	size_t n = 0;
	struct sg_diag diag;

#define OUT(...)                                                               \
	(n += (size_t)snprintf(text + n, sizeof(text) - n, __VA_ARGS__))
	OUT("security_groups:\n  sg-hub:\n    inbound: []\n");
	for (int g = 0; g < 4; g++)
		OUT("  sg-%d:\n    inbound:\n"
		    "      - { protocol: tcp, ports: %d, source: "
		    "\"10.%d.0.0/16\" }\n"
		    "      - { type: postgresql, source: sg-hub }\n",
		    g, 80 + g, g);
	OUT("instances:\n");
	for (int i = 0; i < 8; i++)
		OUT("  i-%d:\n    ips: [\"198.18.0.%d\"]\n    security_groups: "
		    "[sg-%d%s]\n",
		    i, i + 1, i % 4,
		    (i == 0 && hub0) || (i == 7 && hub7) ? ", sg-hub" : "");
#undef OUT
	memset(cfg, 0, sizeof(*cfg));
	sg_diag_init(&diag);
	cr_assert_eq(sg_config_parse_string("ids.yaml", text, n, cfg, &diag),
		     0);
	cr_assert_eq(diag.nerrors, 0);
	cr_assert_eq(sg_compile_prev(cfg, prev, c, &diag), 0);
	sg_diag_free(&diag);
}

static bool class_has(const struct sg_compiled *c,
		      const struct sg_class_entry *e)
{
	for (size_t i = 0; i < c->nclasses_entries; i++)
		if (!memcmp(&c->classes[i], e, sizeof(*e)))
			return true;
	return false;
}

static size_t class_diff(const struct sg_compiled *a,
			 const struct sg_compiled *b)
{
	size_t d = 0;

	for (size_t i = 0; i < a->nclasses_entries; i++)
		d += !class_has(b, &a->classes[i]);
	for (size_t i = 0; i < b->nclasses_entries; i++)
		d += !class_has(a, &b->classes[i]);
	return d;
}

Test(stable_ids, membership_change_keeps_ids)
{
	struct sg_config ca, cb, cc;
	struct sg_compiled a, b, fresh;

	compile_cfg(false, false, NULL, &ca, &a);
	/* Dense without a previous compile. */
	cr_assert_eq(a.npolicies, 4);
	for (size_t p = 0; p < a.npolicies; p++)
		cr_assert_neq(a.policies[p].key, 0);

	/* i-0 joins sg-hub: a new policy {sg-0, sg-hub}; the others keep
	 * theirs, and only the entries of i-0's address and of the new
	 * policy differ. */
	compile_cfg(true, false, &a, &cb, &b);
	for (size_t i = 1; i < 8; i++)
		cr_assert_eq(b.insts[i].inst.policy, a.insts[i].inst.policy,
			     "i-%zu", i);
	cr_assert_geq(b.insts[0].inst.policy, a.npolicies,
		      "a new policy takes an id the old compile did not use");
	cr_assert_leq(class_diff(&a, &b), 12, "%zu stage-1 entries differ",
		      class_diff(&a, &b));

	/* Without the previous compile the ids move more. */
	compile_cfg(true, false, NULL, &cc, &fresh);
	cr_assert_eq(fresh.npolicies, 5);

	sg_compiled_free(&a);
	sg_compiled_free(&b);
	sg_compiled_free(&fresh);
	sg_config_free(&ca);
	sg_config_free(&cb);
	sg_config_free(&cc);
}

Test(stable_ids, leaving_leaves_a_hole_then_reuses_it)
{
	struct sg_config c1, c2, c3;
	struct sg_compiled a, b, c;
	size_t used = 0;

	compile_cfg(true, false, NULL, &c1, &a);
	/* i-0 leaves sg-hub: its policy {sg-0, sg-hub} is gone, its id a
	 * hole (key 0, compiles to nothing). */
	compile_cfg(false, false, &a, &c2, &b);
	for (size_t p = 0; p < b.npolicies; p++)
		used += b.policies[p].key != 0;
	cr_assert_eq(used, 4);
	/* i-0 is back in {sg-0}, the policy i-4 kept all along. */
	cr_assert_eq(b.insts[0].inst.policy, a.insts[4].inst.policy);
	cr_assert_eq(b.policies[a.insts[0].inst.policy].key, 0);
	/* i-7 joins sg-hub next: the hole (unused by b) may be taken. */
	compile_cfg(false, true, &b, &c3, &c);
	cr_assert_lt(c.insts[7].inst.policy, c.npolicies);
	cr_assert_eq(c.policies[c.insts[7].inst.policy].ngroups, 2);
	for (size_t i = 0; i < 7; i++)
		cr_assert_eq(c.insts[i].inst.policy, b.insts[i].inst.policy);
	sg_compiled_free(&a);
	sg_compiled_free(&b);
	sg_compiled_free(&c);
	sg_config_free(&c1);
	sg_config_free(&c2);
	sg_config_free(&c3);
}
