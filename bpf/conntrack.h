/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Connection tracking, one entry per flow per instance, keyed in the
 * instance's view (l = instance side, r = remote side) so that both
 * directions of a flow find the same entry with one lookup.
 */
#ifndef SG_BPF_CONNTRACK_H
#define SG_BPF_CONNTRACK_H

#include "maps.h"
#include "parse.h"
#include "gc.h"

/* Whether a packet of this kind can belong to a tracked flow. */
static __always_inline int sg_ct_trackable(const struct sg_pkt *p)
{
	return !p->icmp || sg_is_echo(p);
}

static __always_inline void
sg_ct_key_of(struct sg_ct_key *k, const struct sg_pkt *p, __u32 slot, __u32 dir)
{
	int in = dir == SG_DIR_IN;

	k->slot = slot;
	k->proto = p->proto;
	k->family = p->family;
	__builtin_memcpy(k->laddr, in ? p->daddr : p->saddr, 16);
	__builtin_memcpy(k->raddr, in ? p->saddr : p->daddr, 16);
	if (p->proto == SG_PROTO_TCP || p->proto == SG_PROTO_UDP) {
		k->lport = in ? p->dport : p->sport;
		k->rport = in ? p->sport : p->dport;
	} else if (p->icmp) {
		k->lport = p->icmp_id;
	}
}

static __always_inline void sg_ct_set(struct sg_ct_val *v, __u8 state,
				      __u32 timeout_s)
{
	v->state = state;
	v->timeout_s = timeout_s;
}

/*
 * A packet of a live flow: account it and advance the state. Stores are
 * plain: a lost update between CPUs only blurs a counter or an idle time.
 */
static __always_inline void sg_ct_refresh(struct sg_ct_val *v,
					  const struct sg_pkt *p, __u32 dir,
					  const struct sg_inst *inst, __u64 now,
					  __u32 len)
{
	int reply = dir != v->origin;

	dir &= 1;
	v->last_seen_ns = now;
	v->packets[dir]++;
	v->bytes[dir] += len;
	if (reply && !(v->flags & SG_CT_SEEN_REPLY))
		v->flags |= SG_CT_SEEN_REPLY;

	if (p->proto == SG_PROTO_TCP) {
		__u8 f = p->tcp_flags;

		/* Stored only when a flag is new: the line stays clean. */
		if (f & ~v->tcp_flags)
			v->tcp_flags |= f;
		if (v->state == SG_CT_TCP_CLOSING)
			return;
		if (f & SG_TCP_RST) {
			sg_ct_set(v, SG_CT_TCP_CLOSING,
				  SG_CT_TIMEOUT_TCP_CLOSING);
			return;
		}
		if (f & SG_TCP_FIN) {
			v->flags |=
				dir == SG_DIR_IN ? SG_CT_FIN_IN : SG_CT_FIN_OUT;
			if ((v->flags & (SG_CT_FIN_IN | SG_CT_FIN_OUT)) ==
			    (SG_CT_FIN_IN | SG_CT_FIN_OUT)) {
				sg_ct_set(v, SG_CT_TCP_CLOSING,
					  SG_CT_TIMEOUT_TCP_CLOSING);
				return;
			}
		}
		if (v->state == SG_CT_TCP_OPENING && reply)
			sg_ct_set(v, SG_CT_TCP_ESTABLISHED,
				  inst->tcp_established);
	} else if (p->proto == SG_PROTO_UDP) {
		if (v->state == SG_CT_UDP && reply)
			sg_ct_set(v, SG_CT_UDP_STREAM, inst->udp_stream);
	}
}

/*
 * Whether a found entry carries this packet. An echo request must come
 * from the side that opened the flow (a reply-side request is a new flow),
 * and a fresh SYN on a closing connection starts a new one.
 */
static __always_inline int sg_ct_matches(const struct sg_ct_val *v,
					 const struct sg_pkt *p, __u32 dir)
{
	if (p->icmp && sg_is_echo_request(p))
		return dir == v->origin;
	if (p->proto == SG_PROTO_TCP && v->state == SG_CT_TCP_CLOSING &&
	    (p->tcp_flags & (SG_TCP_SYN | SG_TCP_ACK)) == SG_TCP_SYN)
		return 0;
	return 1;
}

/* The initial state of a new flow, or 0 when it is not to be tracked. */
static __always_inline __u8 sg_ct_initial(const struct sg_pkt *p,
					  const struct sg_inst *inst,
					  __u32 *timeout_s)
{
	if (p->proto == SG_PROTO_TCP) {
		/* Only a bare SYN opens a flow; mid-stream packets do not. */
		if ((p->tcp_flags & (SG_TCP_SYN | SG_TCP_ACK | SG_TCP_RST |
				     SG_TCP_FIN)) != SG_TCP_SYN)
			return 0;
		*timeout_s = SG_CT_TIMEOUT_TCP_OPENING;
		return SG_CT_TCP_OPENING;
	}
	if (p->proto == SG_PROTO_UDP) {
		*timeout_s = inst->udp;
		return SG_CT_UDP;
	}
	if (p->icmp) {
		if (!sg_is_echo_request(p))
			return 0;
		*timeout_s = SG_CT_TIMEOUT_ICMP;
		return SG_CT_ICMP;
	}
	*timeout_s = SG_CT_TIMEOUT_OTHER;
	return SG_CT_OTHER;
}

/*
 * Track a new flow the rules allowed. stale: an expired entry with this
 * key exists and is reused in place (it already holds its room). Returns
 * the verdict counter.
 */
static __always_inline int sg_ct_create(const struct sg_ct_key *k,
					const struct sg_pkt *p, __u32 dir,
					const struct sg_inst *inst, __u64 now,
					__u32 len, int stale, int dry,
					__u64 rule_key)
{
	struct sg_ct_val v = {};
	__u32 slot = k->slot;
	__s64 *cnt;
	long err;

	v.state = sg_ct_initial(p, inst, &v.timeout_s);
	if (!v.state)
		return SG_CNT_ACCEPT_UNTRACKED;
	v.created_ns = now;
	v.last_seen_ns = now;
	v.origin = dir;
	v.packets[dir & 1] = 1;
	v.bytes[dir & 1] = len;
	v.tcp_flags = p->tcp_flags;
	v.rule_key = rule_key;

	/* Dry run (sgctl check): the verdict an insert would give. */
	if (dry) {
		cnt = bpf_map_lookup_elem(&sg_ct_count, &slot);
		if (stale || (cnt && *cnt < (__s64)inst->ct_max))
			return SG_CNT_ACCEPT_NEW;
		return SG_CNT_DROP_CT_FULL;
	}
	/* The GC may have just taken the stale entry: then insert anew. */
	if (stale && !bpf_map_update_elem(&sg_ct, k, &v, BPF_EXIST))
		return SG_CNT_ACCEPT_NEW;

	cnt = bpf_map_lookup_elem(&sg_ct_count, &slot);
	if (!cnt || *cnt >= (__s64)inst->ct_max)
		return SG_CNT_DROP_CT_FULL;
	err = bpf_map_update_elem(&sg_ct, k, &v, BPF_NOEXIST);
	if (err == -17 /* EEXIST: another CPU tracked it first */)
		return SG_CNT_ACCEPT_NEW;
	if (err)
		return SG_CNT_DROP_CT_FULL;
	__sync_fetch_and_add(cnt, 1);
	sg_gc_arm();
	return SG_CNT_ACCEPT_NEW;
}

#endif /* SG_BPF_CONNTRACK_H */
