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

static __always_inline const struct sg_rule_val *
sg_policy_lookup(__u32 gen, __u32 dir, const struct sg_inst *inst,
		 const struct sg_pkt *p)
{
	struct sg_class_key ck = {};
	struct sg_rule_key rk = {};
	struct sg_class_val *cv;
	int v6 = p->family == 6;

	ck.prefixlen = 32 + (v6 ? 128 : 32);
	ck.scope = SG_SCOPE(gen, dir, v6, inst->policy);
	__builtin_memcpy(ck.addr, dir == SG_DIR_IN ? p->saddr : p->daddr, 16);
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
	k.gen_slot = gen << SG_GEN_SHIFT | slot;
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
