/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The established fast path (struct sg_flow_cache in include/sgctl.h): a
 * per-CPU array in front of sg_ct4, so that a packet of a steady IPv4 flow
 * costs an inlined array lookup and a compare instead of a hash lookup.
 * The long path checks the flow against sg_ct4 at least once a jiffy and
 * hands over what the cache counted meanwhile.
 */
#ifndef SG_BPF_FLOWCACHE_H
#define SG_BPF_FLOWCACHE_H

#include "maps.h"
#include "parse.h"

/* The sg_ct4 key of a packet, in the instance's view. */
static __always_inline void sg_fc_key_of(struct sg_ct4_key *k,
					 const struct sg_pkt *p, __u32 slot,
					 __u32 dir)
{
	int in = dir == SG_DIR_IN;

	__builtin_memcpy(&k->laddr, in ? p->daddr : p->saddr, 4);
	__builtin_memcpy(&k->raddr, in ? p->saddr : p->daddr, 4);
	k->lport = in ? p->dport : p->sport;
	k->rport = in ? p->sport : p->dport;
	k->slot = (__u16)slot;
	k->proto = p->proto;
	k->pad = 0;
}

/*
 * Whether the cache vouches for the packet: an IPv4 TCP/UDP packet, no
 * fragment, no SYN/FIN/RST nor a flag its flow has not seen, of a flow
 * checked in this jiffy and this epoch. Then it is counted here.
 */
static __always_inline int sg_fc_hit(const struct sg_pkt *p, __u32 slot,
				     __u32 dir, __u32 epoch, __u32 len)
{
	struct sg_flow_cache *e;
	struct sg_ct4_key k;
	__u32 idx;

	if (p->family != 4 || p->frag != SG_FRAG_NONE ||
	    (p->proto != SG_PROTO_TCP && p->proto != SG_PROTO_UDP) ||
	    (p->tcp_flags & (SG_TCP_SYN | SG_TCP_FIN | SG_TCP_RST)))
		return 0;
	sg_fc_key_of(&k, p, slot, dir);
	idx = sg_flow_cache_index(&k);
	e = bpf_map_lookup_elem(&sg_flow_cache, &idx);
	if (!e || e->jiffies != bpf_jiffies64() || e->epoch != epoch ||
	    !sg_ct4_key_eq(&e->key, &k) || (p->tcp_flags & ~e->tcp_flags))
		return 0;
	e->pend_packets[dir & 1]++;
	e->pend_bytes[dir & 1] += len;
	return 1;
}

static __always_inline void sg_fc_clear(struct sg_flow_cache *e)
{
	e->pend_packets[0] = e->pend_packets[1] = 0;
	e->pend_bytes[0] = e->pend_bytes[1] = 0;
}

/* Adds what e counted to v; then e holds nothing. */
static __always_inline void sg_fc_hand_over(struct sg_flow_cache *e,
					    struct sg_ct_val *v)
{
	v->packets[0] += e->pend_packets[0];
	v->packets[1] += e->pend_packets[1];
	v->bytes[0] += e->pend_bytes[0];
	v->bytes[1] += e->pend_bytes[1];
	sg_fc_clear(e);
}

/*
 * The line is to count for another flow (or another entry of its own):
 * what it counted goes to the entry it was checked against if that entry
 * is still there, else nowhere. Not on the hit path, so a function of its
 * own.
 */
static __noinline void sg_fc_evict(struct sg_flow_cache *e)
{
	struct sg_ct4_key k;
	struct sg_ct_val *v;

	if (!e)
		return;
	if (e->pend_packets[0] | e->pend_packets[1]) {
		__builtin_memcpy(&k, &e->key, sizeof(k));
		v = bpf_map_lookup_elem(&sg_ct4, &k);
		if (v && v->created_ns == e->created_ns) {
			sg_fc_hand_over(e, v);
			return;
		}
	}
	sg_fc_clear(e);
}

/*
 * The long path found flow k live in v (and refreshed it): take over what
 * the cache counted for it, and let the cache vouch for it for the rest
 * of this jiffy if its state is steady (TCP established with no FIN and
 * an opener gone past its SYN, or a UDP stream); otherwise the line
 * vouches for nothing.
 */
static __always_inline void sg_fc_sync(const struct sg_ct_key *wk,
				       struct sg_ct_val *v, __u32 epoch)
{
	struct sg_flow_cache *e;
	struct sg_ct4_key k;
	__u32 idx;

	if (wk->family != 4 ||
	    (wk->proto != SG_PROTO_TCP && wk->proto != SG_PROTO_UDP))
		return;
	sg_ct4_key_of(wk, &k);
	idx = sg_flow_cache_index(&k);
	e = bpf_map_lookup_elem(&sg_flow_cache, &idx);
	if (!e)
		return;
	if (sg_ct4_key_eq(&e->key, &k) && e->created_ns == v->created_ns)
		sg_fc_hand_over(e, v);
	else
		sg_fc_evict(e);
	__builtin_memcpy(&e->key, &k, sizeof(k));
	e->created_ns = v->created_ns;
	e->epoch = epoch;
	e->tcp_flags = v->tcp_flags;
	/* Early drop reads the opener's packets in the entry: a flow whose
	 * opener sent only its SYN takes the long path. */
	if ((v->state == SG_CT_TCP_ESTABLISHED &&
	     !(v->flags & (SG_CT_FIN_IN | SG_CT_FIN_OUT)) &&
	     v->packets[v->origin & 1] > 1) ||
	    v->state == SG_CT_UDP_STREAM)
		e->jiffies = bpf_jiffies64();
	else
		e->jiffies = 0;
}

/*
 * For the GC, collecting v4 entry key: what every CPU's cache counted for
 * it and has not handed over yet (read only: the line is then left to
 * count for a gone entry, and sg_fc_sync or sg_fc_evict drop it).
 */
static __always_inline void sg_fc_pending(const struct sg_ct4_key *key,
					  __u64 created_ns, __u64 *packets,
					  __u64 *bytes)
{
	__u32 idx = sg_flow_cache_index(key);

	for (__u32 cpu = 0; cpu < SG_FLOW_CACHE_MAX_CPUS; cpu++) {
		struct sg_flow_cache *e;

		e = bpf_map_lookup_percpu_elem(&sg_flow_cache, &idx, cpu);
		if (!e)
			break;
		if (e->created_ns != created_ns || !sg_ct4_key_eq(&e->key, key))
			continue;
		*packets += e->pend_packets[0] + e->pend_packets[1];
		*bytes += e->pend_bytes[0] + e->pend_bytes[1];
	}
}

#endif /* SG_BPF_FLOWCACHE_H */
