/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Policy of new flows in two LPM lookups: (scope, remote address) -> class,
 * then (class, protocol, destination port) -> allow. The loader compiles
 * every group of an instance into these; see include/sgctl.h.
 */
#ifndef SG_BPF_POLICY_H
#define SG_BPF_POLICY_H

#include "maps.h"
#include "parse.h"

/* Whether an exact map may hold the key of hash h (no: it surely does not). */
static __always_inline int sg_bloom_maybe(__u32 gen, __u64 h)
{
	__u32 idx = sg_bloom_word(gen, h);
	__u64 bits = sg_bloom_bits(h), *w;

	w = bpf_map_lookup_elem(&sg_exact_bloom, &idx);
	return !w || (*w & bits) == bits;
}

/*
 * Whether a rule of the instance may allow the packet's TCP/UDP destination
 * port in dir, from the port summary (sg_inst.ports); 1 when the summary
 * cannot say (not written, or another protocol).
 */
static __always_inline int sg_port_maybe(const struct sg_inst *inst, __u32 dir,
					 const struct sg_pkt *p)
{
	__u32 b;

	if (!(inst->flags & SG_INST_PORTS) ||
	    (p->proto != SG_PROTO_TCP && p->proto != SG_PROTO_UDP))
		return 1;
	b = SG_PORT_BIT(p->proto == SG_PROTO_UDP, bpf_ntohs(p->dport));
	return !!(inst->ports[dir & 1][(b >> 6) & 3] & (1ULL << (b & 63)));
}

/*
 * Each stage tries its exact-match hash first where the loader says it
 * holds entries (a member /32 or a single port is one hash lookup, whatever
 * the trie's size), and the LPM trie on a miss unless the hash holds all
 * the scope's or class's entries. Without the flags (entries written to
 * the tries only) the tries alone decide, as they always could.
 */
static __always_inline const struct sg_rule_val *
sg_policy_lookup(__u32 gen, __u32 dir, const struct sg_inst *inst,
		 const struct sg_pkt *p)
{
	struct sg_class_key ck = {};
	struct sg_rule_key rk = {};
	struct sg_class_val *cv = NULL;
	struct sg_rule_val *rv;
	int v6 = p->family == 6;
	__u32 iflags = inst->flags;

	/* No entry of any class allows this port: no rule, no lookup. */
	if (!sg_port_maybe(inst, dir, p))
		return NULL;

	ck.prefixlen = 32 + (v6 ? 128 : 32);
	ck.scope = SG_SCOPE(gen, dir, v6, inst->policy);
	__builtin_memcpy(ck.addr, dir == SG_DIR_IN ? p->saddr : p->daddr, 16);
	if (iflags & SG_INST_EXACT(dir, v6)) {
		/* struct sg_class_exact_key is ck from scope on */
		void *xk = &ck.scope;

		if (sg_bloom_maybe(gen, sg_class_exact_hash(xk)))
			cv = bpf_map_lookup_elem(&sg_class_exact, xk);
		if (!cv && (iflags & SG_INST_EXACT_ONLY(dir, v6)))
			return NULL;
	}
	if (!cv)
		cv = bpf_map_lookup_elem(&sg_class, &ck);
	if (!cv)
		return NULL;

	rk.prefixlen = SG_RULE_PLEN_PROTO + 16;
	rk.class_id = cv->class_id;
	rk.proto = p->proto;
	/* Always the packet's destination port: the port being reached. */
	if (p->proto == SG_PROTO_TCP || p->proto == SG_PROTO_UDP)
		rk.port = p->dport;
	else if (p->icmp)
		rk.port = p->icmp_tc;
	if (cv->flags & SG_CLASS_EXACT_PORTS) {
		/* struct sg_rule_exact_key is rk from class_id on */
		void *xk = &rk.class_id;

		rv = NULL;
		if (sg_bloom_maybe(gen, sg_rule_exact_hash(xk)))
			rv = bpf_map_lookup_elem(&sg_rule_exact, xk);
		if (rv || (cv->flags & SG_CLASS_EXACT_ONLY))
			return rv;
	}
	return bpf_map_lookup_elem(&sg_rule, &rk);
}

static __always_inline int sg_addr_exempt(const struct sg_pkt *p)
{
	const __u64 *a = (const __u64 *)p->saddr;

	if (p->family != 6)
		return 0;
	/* fe80::/10 link-local, and :: (duplicate address detection). */
	if (p->saddr[0] == 0xfe && (p->saddr[1] & 0xc0) == 0x80)
		return 1;
	return a[0] == 0 && a[1] == 0;
}

/* Host-side source check: the instance may only send from its own IPs. */
static __always_inline int sg_source_ok(__u32 gen, __u32 slot,
					const struct sg_pkt *p)
{
	struct sg_ip_key k = {};

	if (sg_addr_exempt(p))
		return 1;
	k.gen_slot = SG_GEN_SLOT(gen, slot);
	k.family = p->family;
	__builtin_memcpy(k.addr, p->saddr, 16);
	return bpf_map_lookup_elem(&sg_ip, &k) != NULL;
}

static __always_inline void sg_frag_key_of(struct sg_frag_key *k,
					   const struct sg_pkt *p, __u32 slot,
					   __u32 dir)
{
	k->slot = slot;
	k->proto = p->proto;
	k->family = p->family;
	k->dir = dir;
	k->id = p->frag_id;
	__builtin_memcpy(k->saddr, p->saddr, 16);
	__builtin_memcpy(k->daddr, p->daddr, 16);
}

/* A later fragment follows its first fragment's verdict, if one was seen. */
static __always_inline int sg_frag_follow(const struct sg_pkt *p, __u32 slot,
					  __u32 dir, __u64 now)
{
	struct sg_frag_key k = {};
	struct sg_frag_val *v;

	sg_frag_key_of(&k, p, slot, dir);
	v = bpf_map_lookup_elem(&sg_frag, &k);
	if (!v || !v->allow || now > v->expires_ns)
		return SG_CNT_DROP_FRAGMENT;
	return SG_CNT_ACCEPT_FRAGMENT;
}

static __always_inline void sg_frag_remember(const struct sg_pkt *p, __u32 slot,
					     __u32 dir, __u64 now)
{
	struct sg_frag_key k = {};
	struct sg_frag_val v = {};

	sg_frag_key_of(&k, p, slot, dir);
	v.expires_ns = now + SG_FRAG_TIMEOUT_NS;
	v.allow = 1;
	bpf_map_update_elem(&sg_frag, &k, &v, BPF_ANY);
}

#endif /* SG_BPF_POLICY_H */
