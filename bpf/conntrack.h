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

/* The tracked flow of k, in sg_ct4 or sg_ct by family. */
static __always_inline struct sg_ct_val *sg_ct_find(const struct sg_ct_key *k)
{
	struct sg_ct4_key k4;

	if (k->family == 4) {
		sg_ct4_key_of(k, &k4);
		return bpf_map_lookup_elem(&sg_ct4, &k4);
	}
	return bpf_map_lookup_elem(&sg_ct, k);
}

static __always_inline long sg_ct_insert(const struct sg_ct_key *k,
					 const struct sg_ct_val *v, __u64 flags)
{
	struct sg_ct4_key k4;

	if (k->family == 4) {
		sg_ct4_key_of(k, &k4);
		return bpf_map_update_elem(&sg_ct4, &k4, v, flags);
	}
	return bpf_map_update_elem(&sg_ct, k, v, flags);
}

static __always_inline long sg_ct_remove(const struct sg_ct_key *k)
{
	struct sg_ct4_key k4;

	if (k->family == 4) {
		sg_ct4_key_of(k, &k4);
		return bpf_map_delete_elem(&sg_ct4, &k4);
	}
	return bpf_map_delete_elem(&sg_ct, k);
}

/*
 * Where the bit of a TCP/UDP local port lives in struct sg_ct_lports; NULL
 * for another protocol or when the map has no entry (then nothing may be
 * concluded).
 */
static __always_inline __u64 *sg_ct_lport_word(__u32 slot, __u8 proto,
					       __be16 lport, __u64 *mask)
{
	struct sg_ct_lports *l;
	__u32 b = (__u32)bpf_ntohs(lport) >> SG_CT_LPORT_SHIFT;

	if (proto != SG_PROTO_TCP && proto != SG_PROTO_UDP)
		return NULL;
	l = bpf_map_lookup_elem(&sg_ct_lports, &slot);
	if (!l)
		return NULL;
	*mask = 1ULL << (b & 63);
	return &l->bits[proto == SG_PROTO_UDP][(b >> 6) & (SG_CT_LPORT_WORDS - 1)];
}

/* Whether a tracked flow of slot may own the packet: 0 proves none does. */
static __always_inline int sg_ct_lport_maybe(__u32 slot, const struct sg_pkt *p,
					     __u32 dir)
{
	__u64 mask = 0, *w;

	w = sg_ct_lport_word(slot, p->proto,
			     dir == SG_DIR_IN ? p->dport : p->sport, &mask);
	return !w || (*w & mask);
}

/* Marks k's local port before its flow is tracked (no atomic once set). */
static __always_inline void sg_ct_lport_mark(const struct sg_ct_key *k)
{
	__u64 mask = 0, *w;

	w = sg_ct_lport_word(k->slot, k->proto, k->lport, &mask);
	if (w && !(*w & mask))
		__sync_fetch_and_or(w, mask);
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

/* Where a key sits in its slot's early-drop candidates. */
static __always_inline __u32 sg_ct_way(const struct sg_ct_key *k)
{
	const __u32 *r = (const __u32 *)k->raddr;
	__u32 h =
		r[0] ^ r[1] ^ r[2] ^ r[3] ^ k->rport ^ ((__u32)k->lport << 16);

	return (h * 0x9e3779b1u) >> 28; /* 16 ways */
}

_Static_assert(SG_CT_OPENING_WAYS == 16, "sg_ct_way() makes 16 ways");

/*
 * Half-open: a TCP flow whose opener sent its SYN and nothing since
 * (whatever the reply was), or any entry past its timeout. A flow whose
 * opener went on is never taken.
 */
static __always_inline int sg_ct_half_open(const struct sg_ct_val *v,
					   __u8 proto, __u64 now)
{
	if (sg_ct_expired(v, now))
		return 1;
	return proto == SG_PROTO_TCP && v->packets[v->origin & 1] <= 1;
}

/*
 * The table of slot is full: delete one half-open entry among the recent
 * ones (Linux conntrack's early_drop). Returns 1 when room was made (dry:
 * could be made; nothing is written). A global function: verified once,
 * and only full tables pay for the call.
 */
__noinline int sg_ct_early_drop(__u32 slot, __u32 way, __u64 now, int dry)
{
	struct sg_ct_key ck;
	struct sg_ct_key *c;
	struct sg_ct_val *v;
	__s64 *cnt;

	if (slot >= SG_MAX_INSTANCES)
		return 0;
	for (__u32 i = 0; i < SG_CT_EARLY_PROBES; i++) {
		__u32 idx = slot * SG_CT_OPENING_WAYS +
			    ((way + i) & (SG_CT_OPENING_WAYS - 1));

		c = bpf_map_lookup_elem(&sg_ct_opening, &idx);
		if (!c || c->slot != slot || !c->family)
			continue;
		__builtin_memcpy(&ck, c, sizeof(ck));
		/* Tried once: gone or grown up, it is no candidate again. */
		if (!dry)
			c->family = 0;
		v = sg_ct_find(&ck);
		if (!v || !sg_ct_half_open(v, ck.proto, now))
			continue;
		if (dry)
			return 1;
		/* Only the deleter gives the room back (as the GC does). */
		if (sg_ct_remove(&ck))
			continue;
		cnt = bpf_map_lookup_elem(&sg_ct_count, &slot);
		if (cnt)
			__sync_fetch_and_add(cnt, -1);
		return 1;
	}
	return 0;
}

/* Remembers a new half-open TCP entry as a candidate. */
static __always_inline void sg_ct_note_opening(const struct sg_ct_key *k,
					       __u32 way)
{
	__u32 idx = k->slot * SG_CT_OPENING_WAYS + way;
	struct sg_ct_key *c;

	c = bpf_map_lookup_elem(&sg_ct_opening, &idx);
	if (c)
		__builtin_memcpy(c, k, sizeof(*k));
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
	__u32 slot = k->slot, way;
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
		if (stale || (cnt && *cnt < (__s64)inst->ct_max) ||
		    (cnt && sg_ct_early_drop(slot, sg_ct_way(k), now, 1)))
			return SG_CNT_ACCEPT_NEW;
		return SG_CNT_DROP_CT_FULL;
	}
	sg_ct_lport_mark(k);
	/* The GC may have just taken the stale entry: then insert anew. */
	if (stale && !sg_ct_insert(k, &v, BPF_EXIST))
		return SG_CNT_ACCEPT_NEW;

	cnt = bpf_map_lookup_elem(&sg_ct_count, &slot);
	if (!cnt)
		return SG_CNT_DROP_CT_FULL;
	way = sg_ct_way(k);
	if (*cnt >= (__s64)inst->ct_max &&
	    (!sg_ct_early_drop(slot, way, now, 0) || *cnt >= (__s64)inst->ct_max))
		return SG_CNT_DROP_CT_FULL;
	err = sg_ct_insert(k, &v, BPF_NOEXIST);
	if (err == -17 /* EEXIST: another CPU tracked it first */)
		return SG_CNT_ACCEPT_NEW;
	if (err)
		return SG_CNT_DROP_CT_FULL;
	__sync_fetch_and_add(cnt, 1);
	if (v.state == SG_CT_TCP_OPENING)
		sg_ct_note_opening(k, way);
	sg_gc_arm();
	return SG_CNT_ACCEPT_NEW;
}

#endif /* SG_BPF_CONNTRACK_H */
