// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The exact-match plan and Bloom words (see exact.h): which full-length
 * entries also go to the hash maps, and the flags that route lookups there.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "compile/exact.h"

bool sg_class_entry_exact(const struct sg_class_key *k)
{
	return k->prefixlen == 32u + (SG_SCOPE_V6(k->scope) ? 128u : 32u);
}

bool sg_rule_entry_exact(const struct sg_rule_key *k)
{
	return k->prefixlen == SG_RULE_PLEN_PROTO + 16;
}

void sg_exact_plan_free(struct sg_exact_plan *x)
{
	free(x->scope);
	free(x->class);
	free(x->ports);
	x->scope = NULL;
	x->class = NULL;
	x->ports = NULL;
}

/* The SG_PORT_BIT bits a stage-2 entry may match. */
static void rule_port_bits(const struct sg_rule_key *k, __u64 b[4])
{
	int udp, bits;
	__u32 lo, hi;

	if (k->prefixlen < SG_RULE_PLEN_PROTO) { /* every protocol */
		memset(b, 0xff, 4 * sizeof(*b));
		return;
	}
	if (k->proto != SG_PROTO_TCP && k->proto != SG_PROTO_UDP)
		return;
	udp = k->proto == SG_PROTO_UDP;
	bits = (int)k->prefixlen - SG_RULE_PLEN_PROTO;
	if (bits < 0)
		bits = 0;
	if (bits > 16)
		bits = 16;
	lo = ntohs(k->port) & ~((1u << (16 - bits)) - 1) & 0xffff;
	hi = lo | ((1u << (16 - bits)) - 1);
	for (__u32 i = SG_PORT_BIT(udp, lo); i <= SG_PORT_BIT(udp, hi); i++)
		b[i / 64] |= 1ULL << (i % 64);
}

int sg_exact_plan_make(const struct sg_compiled *c,
		       const struct sg_exact_sizes *sz, struct sg_exact_plan *x)
{
	__u64(*cports)[4];
	__u32 max_id = 0;

	memset(x, 0, sizeof(*x));
	x->use_class = sz->always || sz->class_trie >= SG_EXACT_MIN_TRIE;
	x->use_rule = sz->always || sz->rule_trie >= SG_EXACT_MIN_TRIE;
	for (size_t i = 0; i < c->nclasses_entries; i++)
		if (c->classes[i].val.class_id > max_id)
			max_id = c->classes[i].val.class_id;
	for (size_t i = 0; i < c->nrules_entries; i++)
		if (c->rules[i].key.class_id > max_id)
			max_id = c->rules[i].key.class_id;
	x->npolicies = c->npolicies;
	x->nclass_ids = (size_t)max_id + 1;
	x->scope = calloc(x->npolicies ? x->npolicies * 4 : 1, 1);
	x->class = calloc(x->nclass_ids, 1);
	x->ports = calloc(x->npolicies ? x->npolicies * SG_NDIR : 1,
			  sizeof(*x->ports));
	cports = calloc(x->nclass_ids, sizeof(*cports));
	if (!x->scope || !x->class || !x->ports || !cports) {
		free(cports);
		sg_exact_plan_free(x);
		return -ENOMEM;
	}
	/* Ports per class, then per policy and direction over its classes. */
	for (size_t i = 0; i < c->nrules_entries; i++)
		rule_port_bits(&c->rules[i].key,
			       cports[c->rules[i].key.class_id]);
	for (size_t i = 0; i < c->nclasses_entries; i++) {
		const struct sg_class_entry *e = &c->classes[i];
		__u32 pol = SG_SCOPE_POLICY(e->key.scope);

		if (pol >= x->npolicies || e->val.class_id >= x->nclass_ids)
			continue;
		for (int w = 0; w < 4; w++)
			x->ports[pol * SG_NDIR + SG_SCOPE_DIR(e->key.scope)]
				[w] |= cports[e->val.class_id][w];
	}
	free(cports);
	for (size_t i = 0; i < c->nclasses_entries; i++) {
		const struct sg_class_key *k = &c->classes[i].key;
		__u32 pol = SG_SCOPE_POLICY(k->scope);

		x->nclass_exact += x->use_class && sg_class_entry_exact(k);
		if (pol >= x->npolicies)
			continue; /* no instance reads it */
		x->scope[pol * 4 + SG_SCOPE_SUB(k->scope)] |=
			sg_class_entry_exact(k) ? SG_EXACT_HAS : SG_EXACT_OTHER;
	}
	for (size_t i = 0; i < c->nrules_entries; i++) {
		const struct sg_rule_key *k = &c->rules[i].key;

		x->class[k->class_id] |=
			sg_rule_entry_exact(k) ? SG_EXACT_HAS : SG_EXACT_OTHER;
		x->nrule_exact += x->use_rule && sg_rule_entry_exact(k);
	}
	if (x->nclass_exact > sz->class_room) {
		x->use_class = false;
		x->nclass_exact = 0;
	}
	if (x->nrule_exact > sz->rule_room) {
		x->use_rule = false;
		x->nrule_exact = 0;
	}
	return 0;
}

/*
 * A scope or class with no entry but full-length ones is answered by the
 * hash alone (a miss there is a miss in the trie too); one with none at
 * all as well, the hash then holding all zero of them.
 */
__u32 sg_exact_inst_flags(const struct sg_exact_plan *x, __u32 policy)
{
	__u32 f = 0;

	if (!x->use_class || policy >= x->npolicies)
		return 0;
	for (int dir = 0; dir < SG_NDIR; dir++) {
		for (int v6 = 0; v6 < 2; v6++) {
			__u8 s =
				x->scope[policy * 4 +
					 SG_SCOPE_SUB(SG_SCOPE(0, dir, v6, 0))];

			if (!(s & SG_EXACT_OTHER))
				f |= SG_INST_EXACT(dir, v6) |
				     SG_INST_EXACT_ONLY(dir, v6);
			else if (s & SG_EXACT_HAS)
				f |= SG_INST_EXACT(dir, v6);
		}
	}
	return f;
}

__u32 sg_exact_inst_ports(const struct sg_exact_plan *x, __u32 policy,
			  __u64 ports[SG_NDIR][4])
{
	if (!x->ports || policy >= x->npolicies)
		return 0;
	memcpy(ports, x->ports + policy * SG_NDIR, SG_NDIR * sizeof(*x->ports));
	return SG_INST_PORTS;
}

__u16 sg_exact_class_flags(const struct sg_exact_plan *x, __u32 class_id)
{
	__u8 r = class_id < x->nclass_ids ? x->class[class_id] : SG_EXACT_OTHER;

	if (!x->use_rule)
		return 0;
	if (!(r & SG_EXACT_OTHER))
		return SG_CLASS_EXACT_PORTS | SG_CLASS_EXACT_ONLY;
	return r & SG_EXACT_HAS ? SG_CLASS_EXACT_PORTS : 0;
}

void sg_exact_bloom_words(__u64 *words, const struct sg_class_exact_key *ck,
			  size_t nc, const struct sg_rule_exact_key *rk,
			  size_t nr)
{
	memset(words, 0, SG_BLOOM_WORDS * sizeof(*words));
	for (size_t i = 0; i < nc; i++) {
		__u64 h = sg_class_exact_hash(&ck[i]);

		words[sg_bloom_word(0, h)] |= sg_bloom_bits(h);
	}
	for (size_t i = 0; i < nr; i++) {
		__u64 h = sg_rule_exact_hash(&rk[i]);

		words[sg_bloom_word(0, h)] |= sg_bloom_bits(h);
	}
}
