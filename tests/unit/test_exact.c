// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Unit tests of the exact-match plan and Bloom words (loader/compile/exact.c):
 * which entries are full-length, when a stage goes through its exact map,
 * the flags that route lookups there, and the filter bits. Compiled entries
 * are built by hand: the plan depends on their shape only.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "compile/exact.h"

#define IN  SG_DIR_IN
#define OUT SG_DIR_OUT

static struct sg_class_entry cls[16];
static struct sg_rule_entry rul[16];
static struct sg_compiled comp;

static void reset(size_t npolicies)
{
	memset(cls, 0, sizeof(cls));
	memset(rul, 0, sizeof(rul));
	memset(&comp, 0, sizeof(comp));
	comp.classes = cls;
	comp.rules = rul;
	comp.npolicies = npolicies;
}

/* A stage-1 entry of policy pol: plen address bits, class class_id. */
static void add_class(__u32 pol, int dir, int v6, __u32 plen, __u32 class_id)
{
	struct sg_class_entry *e = &cls[comp.nclasses_entries++];

	e->key.prefixlen = 32 + plen;
	e->key.scope = SG_SCOPE(0, dir, v6, pol);
	e->key.addr[0] = (__u8)(10 + comp.nclasses_entries);
	e->val.class_id = class_id;
	e->val.prefixlen = (__u16)(32 + plen);
}

/* A stage-2 entry of class_id: plen is the key's prefixlen. */
static void add_rule(__u32 class_id, __u32 plen, __u16 port)
{
	struct sg_rule_entry *e = &rul[comp.nrules_entries++];

	e->key.prefixlen = plen;
	e->key.class_id = class_id;
	e->key.proto = 6;
	e->key.port = port;
	e->val.rule_ref = class_id;
}

static const struct sg_exact_sizes roomy = {
	.class_room = 1000, .rule_room = 1000, .always = true};

Test(exact, full_length_entries)
{
	struct sg_class_key k = {.scope = SG_SCOPE(1, OUT, 0, 7)};
	struct sg_rule_key r = {.prefixlen = SG_RULE_PLEN_PROTO + 16};

	k.prefixlen = 64;
	cr_expect(sg_class_entry_exact(&k), "IPv4 /32");
	k.prefixlen = 56;
	cr_expect_not(sg_class_entry_exact(&k), "IPv4 /24");
	k.scope = SG_SCOPE(0, IN, 1, 7);
	k.prefixlen = 64;
	cr_expect_not(sg_class_entry_exact(&k), "IPv6 /32");
	k.prefixlen = 160;
	cr_expect(sg_class_entry_exact(&k), "IPv6 /128");
	cr_expect(sg_rule_entry_exact(&r), "one port");
	r.prefixlen = SG_RULE_PLEN_PROTO + 8;
	cr_expect_not(sg_rule_entry_exact(&r), "a port range");
	r.prefixlen = SG_RULE_PLEN_ALL;
	cr_expect_not(sg_rule_entry_exact(&r), "all traffic");
}

Test(exact, scope_macros_round_trip)
{
	__u32 s = SG_SCOPE(1, OUT, 1, 0x1234567);

	cr_expect_eq(SG_SCOPE_GEN(s), 1);
	cr_expect_eq(SG_SCOPE_DIR(s), OUT);
	cr_expect_eq(SG_SCOPE_V6(s), 1);
	cr_expect_eq(SG_SCOPE_POLICY(s), 0x1234567);
	cr_expect_eq(SG_SCOPE_SUB(s), OUT << 1 | 1);
	s = SG_SCOPE(0, IN, 0, SG_SCOPE_POLICY_MASK);
	cr_expect_eq(SG_SCOPE_GEN(s), 0);
	cr_expect_eq(SG_SCOPE_DIR(s), IN);
	cr_expect_eq(SG_SCOPE_V6(s), 0);
	cr_expect_eq(SG_SCOPE_POLICY(s), SG_SCOPE_POLICY_MASK);
	cr_expect_eq(SG_GEN_OF(SG_GEN_BIT(1) | 42), 1);
	cr_expect_eq(SG_GEN_SLOT(1, 5), SG_GEN_BIT(1) | 5);
}

Test(exact, small_tries_go_without)
{
	struct sg_exact_plan x;
	struct sg_exact_sizes sz = {.class_trie = SG_EXACT_MIN_TRIE - 1,
				    .rule_trie = SG_EXACT_MIN_TRIE - 1,
				    .class_room = 1000,
				    .rule_room = 1000};

	reset(1);
	add_class(0, IN, 0, 32, 1);
	add_rule(1, SG_RULE_PLEN_PROTO + 16, 80);
	cr_assert_eq(sg_exact_plan_make(&comp, &sz, &x), 0);
	cr_expect_not(x.use_class);
	cr_expect_not(x.use_rule);
	cr_expect_eq(x.nclass_exact, 0);
	cr_expect_eq(x.nrule_exact, 0);
	cr_expect_eq(sg_exact_inst_flags(&x, 0), 0);
	cr_expect_eq(sg_exact_class_flags(&x, 1), 0);
	sg_exact_plan_free(&x);

	/* Deep enough: the same entries through the exact maps. */
	sz.class_trie = sz.rule_trie = SG_EXACT_MIN_TRIE;
	cr_assert_eq(sg_exact_plan_make(&comp, &sz, &x), 0);
	cr_expect(x.use_class);
	cr_expect(x.use_rule);
	cr_expect_eq(x.nclass_exact, 1);
	cr_expect_eq(x.nrule_exact, 1);
	sg_exact_plan_free(&x);
}

Test(exact, always_is_a_parameter)
{
	struct sg_exact_plan x;

	reset(1);
	add_class(0, IN, 0, 32, 1);
	cr_assert_eq(sg_exact_plan_make(&comp, &roomy, &x), 0);
	cr_expect(x.use_class);
	cr_expect(x.use_rule);
	sg_exact_plan_free(&x);
}

Test(exact, instance_flags_per_scope)
{
	struct sg_exact_plan x;
	__u32 f;

	reset(2);
	/* policy 0: IN v4 only hosts; OUT v4 mixed; IN v6 a /64 only;
	 * OUT v6 nothing at all */
	add_class(0, IN, 0, 32, 1);
	add_class(0, IN, 0, 32, 1);
	add_class(0, OUT, 0, 32, 2);
	add_class(0, OUT, 0, 16, 2);
	add_class(0, IN, 1, 64, 3);
	/* policy 1 only through a /8: no exact entry anywhere in IN v4 */
	add_class(1, IN, 0, 8, 4);
	cr_assert_eq(sg_exact_plan_make(&comp, &roomy, &x), 0);
	cr_expect_eq(x.nclass_exact, 3);

	f = sg_exact_inst_flags(&x, 0);
	cr_expect(f & SG_INST_EXACT(IN, 0));
	cr_expect(f & SG_INST_EXACT_ONLY(IN, 0));
	cr_expect(f & SG_INST_EXACT(OUT, 0));
	cr_expect_not(f & SG_INST_EXACT_ONLY(OUT, 0));
	cr_expect_not(f & SG_INST_EXACT(IN, 1));
	cr_expect_not(f & SG_INST_EXACT_ONLY(IN, 1));
	/* an empty scope is answered by the (empty) hash alone */
	cr_expect(f & SG_INST_EXACT(OUT, 1));
	cr_expect(f & SG_INST_EXACT_ONLY(OUT, 1));

	f = sg_exact_inst_flags(&x, 1);
	cr_expect_not(f & SG_INST_EXACT(IN, 0));
	cr_expect(f & SG_INST_EXACT_ONLY(OUT, 0));
	/* a policy the plan does not know gets no flag */
	cr_expect_eq(sg_exact_inst_flags(&x, 2), 0);
	sg_exact_plan_free(&x);
}

Test(exact, class_flags)
{
	struct sg_exact_plan x;

	reset(1);
	add_class(0, IN, 0, 32, 3);
	add_rule(1, SG_RULE_PLEN_PROTO + 16, 22);
	add_rule(1, SG_RULE_PLEN_PROTO + 16, 80);
	add_rule(2, SG_RULE_PLEN_PROTO + 16, 443);
	add_rule(2, SG_RULE_PLEN_PROTO + 6, 1024);
	add_rule(3, SG_RULE_PLEN_ALL, 0);
	cr_assert_eq(sg_exact_plan_make(&comp, &roomy, &x), 0);
	cr_expect_eq(x.nrule_exact, 3);
	cr_expect_eq(sg_exact_class_flags(&x, 1),
		     SG_CLASS_EXACT_PORTS | SG_CLASS_EXACT_ONLY);
	cr_expect_eq(sg_exact_class_flags(&x, 2), SG_CLASS_EXACT_PORTS);
	cr_expect_eq(sg_exact_class_flags(&x, 3), 0);
	/* a class without stage-2 entries: the hash holds all none of them */
	cr_expect_eq(sg_exact_class_flags(&x, 0),
		     SG_CLASS_EXACT_PORTS | SG_CLASS_EXACT_ONLY);
	/* one beyond every id: the trie decides */
	cr_expect_eq(sg_exact_class_flags(&x, 99), 0);
	sg_exact_plan_free(&x);
}

Test(exact, no_room_goes_without)
{
	struct sg_exact_sizes sz = roomy;
	struct sg_exact_plan x;

	reset(1);
	add_class(0, IN, 0, 32, 1);
	add_class(0, IN, 0, 32, 1);
	add_rule(1, SG_RULE_PLEN_PROTO + 16, 22);
	sz.class_room = 1;
	sz.rule_room = 1;
	cr_assert_eq(sg_exact_plan_make(&comp, &sz, &x), 0);
	cr_expect_not(x.use_class, "two entries, room for one");
	cr_expect_eq(x.nclass_exact, 0);
	cr_expect_eq(sg_exact_inst_flags(&x, 0), 0);
	cr_expect(x.use_rule, "one entry, room for one");
	cr_expect_eq(x.nrule_exact, 1);
	sg_exact_plan_free(&x);
}

Test(exact, bloom_words)
{
	__u64 *w = malloc(SG_BLOOM_WORDS * sizeof(*w));
	struct sg_class_exact_key ck[2] = {
		{.scope = SG_SCOPE(0, IN, 0, 1), .addr = {10, 0, 0, 1}},
		{.scope = SG_SCOPE(1, OUT, 1, 2), .addr = {0x20, 1}},
	};
	struct sg_rule_exact_key rk = {
		.class_id = SG_GEN_BIT(1) | 5, .proto = 17, .port = 53};
	size_t set = 0;

	cr_assert_not_null(w);
	memset(w, 0xff, SG_BLOOM_WORDS * sizeof(*w));
	sg_exact_bloom_words(w, ck, 2, &rk, 1);
	for (size_t i = 0; i < 2; i++) {
		__u64 h = sg_class_exact_hash(&ck[i]);
		__u64 b = sg_bloom_bits(h);

		cr_expect_eq(w[sg_bloom_word(0, h)] & b, b, "class key %zu", i);
	}
	{
		__u64 h = sg_rule_exact_hash(&rk);
		__u64 b = sg_bloom_bits(h);

		cr_expect_eq(w[sg_bloom_word(0, h)] & b, b, "rule key");
	}
	/* cleared first: three keys set at most six bits */
	for (size_t i = 0; i < SG_BLOOM_WORDS; i++)
		set += (size_t)__builtin_popcountll(w[i]);
	cr_expect_geq(set, 1);
	cr_expect_leq(set, 6);
	free(w);
}
