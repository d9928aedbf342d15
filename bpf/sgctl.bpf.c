// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The sgctl datapath: security groups enforced on one instance's interface.
 * XDP sees frames arriving on the interface, TC egress frames leaving it;
 * which of them is the instance's inbound depends on sg_host_side. Both run
 * the same decision, sg_decide(), against the pinned maps (maps.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "consts.h"
#include "structs.h"
#include "maps.h"
#include "parse.h"
#include "counters.h"
#include "policy.h"
#include "conntrack.h"
#include "flowcache.h"
#include "flowlog.h"
#include "gc.h"

/* Set by the loader per attachment, before load. */
const volatile __u32 sg_slot = 0;
const volatile __u32 sg_host_side = 0;
/* sgctl check: decide, write no map, leave the verdict in sg_dry_result. */
const volatile __u32 sg_dry_run = 0;

struct sg_dry_result sg_dry_result = {};

/*
 * Multicast listener discovery (query, report, done, MLDv2 report), as
 * neighbour discovery: only from a link-local source with hop limit 1,
 * which is what RFC 2710/3810 receivers require anyway.
 */
static __always_inline int sg_is_mld(const struct sg_pkt *p)
{
	__u8 t = p->icmp_type;

	if (!(t == 130 || t == 131 || t == 132 || t == 143))
		return 0;
	return p->hop_limit == 1 && p->saddr[0] == 0xfe &&
	       (p->saddr[1] & 0xc0) == 0x80;
}

/* ARP-like traffic SGs never filter: DHCP, IPv6 RS/RA/NS/NA/redirect, MLD. */
static __always_inline int sg_is_infra(const struct sg_pkt *p)
{
	__u16 s = bpf_ntohs(p->sport), d = bpf_ntohs(p->dport);

	/* Both ports must be DHCP's, or "sport 68" would open every port. */
	if (p->proto == SG_PROTO_UDP) {
		if (p->family == 4)
			return (s == 67 || s == 68) && (d == 67 || d == 68);
		return (s == 546 || s == 547) && (d == 546 || d == 547);
	}
	if (p->icmp && p->family == 6)
		return (p->icmp_type >= 133 && p->icmp_type <= 137) ||
		       sg_is_mld(p);
	return 0;
}

static __always_inline int sg_addr_eq(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1];
}

/*
 * An ICMP error about a live tracked flow. The quoted packet travelled the
 * other way, so its key is built for the opposite direction; the instance's
 * address must be the same in the error and in the quote.
 */
static __always_inline int sg_related(const struct sg_parsed *m, __u32 slot,
				      __u32 dir, __u64 now)
{
	const struct sg_pkt *p = &m->p, *q = &m->q;
	struct sg_ct_key k = {};
	struct sg_ct_val *v;
	__u32 qdir = dir ^ 1;

	if (!m->quoted)
		return 0;
	if (!sg_addr_eq(dir == SG_DIR_IN ? p->daddr : p->saddr,
			qdir == SG_DIR_IN ? q->daddr : q->saddr))
		return 0;
	sg_ct_key_of(&k, q, slot, qdir);
	v = sg_ct_find(&k);
	return v && !sg_ct_expired(v, now);
}

/* The policy stage; returns the verdict's counter. */
static __always_inline int sg_judge(const struct sg_parsed *m, __u32 dir,
				    __u32 slot, __u64 *now,
				    const struct sg_rule_val **rulep)
{
	const struct sg_pkt *p = &m->p;
	const struct sg_rule_val *rule;
	struct sg_ct_key k = {};
	struct sg_active *act;
	struct sg_inst *inst;
	struct sg_ct_val *v;
	__u32 zero = 0, gen, idx;
	int stale = 0;

	if (p->frag != SG_FRAG_LATER && sg_is_infra(p))
		return SG_CNT_PASS_INFRA;

	act = bpf_map_lookup_elem(&sg_active, &zero);
	if (!act)
		return SG_CNT_DROP_NO_INSTANCE;
	gen = act->gen & 1;
	idx = gen * SG_MAX_INSTANCES + slot;
	inst = bpf_map_lookup_elem(&sg_inst, &idx);
	if (!inst || !(inst->flags & SG_INST_PRESENT))
		return SG_CNT_DROP_NO_INSTANCE;

	if (sg_host_side && dir == SG_DIR_OUT &&
	    (inst->flags & SG_INST_SOURCE_CHECK) && !sg_source_ok(gen, slot, p))
		return SG_CNT_DROP_SPOOFED;

	/* A steady IPv4 flow checked this jiffy: no hash lookup at all. */
	if (!sg_dry_run && sg_fc_hit(p, slot, dir, act->ct_epoch, m->pkt_len))
		return SG_CNT_ACCEPT_ESTABLISHED;

	*now = sg_now();
	if (p->frag == SG_FRAG_LATER)
		return sg_frag_follow(p, slot, dir, *now);

	/*
	 * No rule allows the port and no tracked flow can own the packet (no
	 * flow has its local port; or a bare SYN, which replies never are):
	 * dropped before the conntrack lookup, so a flood from spoofed
	 * sources cannot make each frame pay a miss in a big table.
	 */
	if (!sg_port_maybe(inst, dir, p) &&
	    ((p->proto == SG_PROTO_TCP &&
	      (p->tcp_flags & (SG_TCP_SYN | SG_TCP_ACK)) == SG_TCP_SYN) ||
	     !sg_ct_lport_maybe(slot, p, dir)))
		return (inst->flags & SG_INST_AUDIT) ? SG_CNT_AUDIT_WOULD_DROP
						     : SG_CNT_DROP_NO_RULE;

	if (sg_ct_trackable(p)) {
		sg_ct_key_of(&k, p, slot, dir);
		v = sg_ct_find(&k);
		if (v) {
			if (!sg_ct_expired(v, *now) &&
			    sg_ct_matches(v, p, dir)) {
				if (!sg_dry_run) {
					sg_ct_refresh(v, p, dir, inst, *now,
						      m->pkt_len);
					sg_fc_sync(&k, v, act->ct_epoch);
				}
				return SG_CNT_ACCEPT_ESTABLISHED;
			}
			/* Dead or superseded: a new flow may take it over. */
			stale = 1;
		}
	}

	if (sg_related(m, slot, dir, *now))
		return SG_CNT_ACCEPT_RELATED;

	rule = sg_policy_lookup(gen, dir, inst, p);
	if (!rule)
		return (inst->flags & SG_INST_AUDIT) ? SG_CNT_AUDIT_WOULD_DROP
						     : SG_CNT_DROP_NO_RULE;
	*rulep = rule;
	if (!sg_ct_trackable(p))
		return SG_CNT_ACCEPT_UNTRACKED;
	if ((rule->flags & SG_RULE_UNTRACKED) &&
	    (p->proto == SG_PROTO_TCP || p->proto == SG_PROTO_UDP))
		return SG_CNT_ACCEPT_UNTRACKED;
	return sg_ct_create(&k, p, dir, inst, *now, m->pkt_len, stale,
			    sg_dry_run, rule->rule_key);
}

/*
 * Counts the verdict; returns 1 pass, 0 drop. Inlined: behind SRSO return
 * thunks a BPF-to-BPF call costs ~10 ns a packet. The verifier then checks
 * it once per parser path (~344k of 1M insns, ~160k as a global function):
 * make it __noinline again if the parsers grow.
 */
static __always_inline int sg_policy_stage(const struct sg_parsed *m, __u32 dir)
{
	const struct sg_rule_val *rule = NULL;
	__u32 slot = sg_slot;
	__u64 now = 0;
	int cnt, pass;

	if (!m)
		return 0;
	dir &= 1;
	cnt = sg_judge(m, dir, slot, &now, &rule);
	pass = sg_counter_passes(cnt);
	if (sg_dry_run) {
		sg_dry_result.counter = cnt;
		if (rule) {
			sg_dry_result.matched = 1;
			sg_dry_result.rule_ref = rule->rule_ref;
			sg_dry_result.rule_flags = rule->flags;
		}
		sg_dry_result.done = 1;
		return pass;
	}
	/* Later fragments of this datagram will follow a pass. */
	if (pass && m->p.frag == SG_FRAG_FIRST) {
		if (!now)
			now = sg_now();
		sg_frag_remember(&m->p, slot, dir, now);
	}
	/*
	 * A tracked flow's hit costs nothing here: its entry holds the rule
	 * key, and the GC (or `sgctl rules`, for live entries) counts it.
	 */
	if (cnt == SG_CNT_ACCEPT_UNTRACKED || cnt == SG_CNT_AUDIT_WOULD_DROP ||
	    !pass) {
		__u64 key = rule ? rule->rule_key : 0;

		if (!now)
			now = sg_now();
		/* Untracked: every packet is admitted on its own. */
		if (rule)
			sg_rule_hit(slot, key, 1, m->pkt_len, now);
		sg_log_reject(&m->p, slot, dir, m->pkt_len, now, (__u32)cnt,
			      key);
	}
	sg_count(slot, dir, cnt, m->pkt_len);
	return pass;
}

/* The one policy path of both programs. Returns 1 to pass, 0 to drop. */
static __always_inline int sg_decide(void *data, void *data_end, __u32 pkt_len,
				     __u32 dir)
{
	struct sg_parsed m = {.pkt_len = pkt_len};
	int cnt;

	cnt = sg_parse(data, data_end, &m);
	if (cnt == SG_CONTINUE)
		return sg_policy_stage(&m, dir);
	if (sg_dry_run) {
		sg_dry_result.counter = cnt;
		sg_dry_result.done = 1;
	} else {
		/* Malformed or too long a header chain: logged with what
		 * the parser got to (addresses may be zero). */
		if (!sg_counter_passes(cnt))
			sg_log_reject(&m.p, sg_slot, dir & 1, pkt_len, 0,
				      (__u32)cnt, 0);
		sg_count(sg_slot, dir, cnt, pkt_len);
	}
	return sg_counter_passes(cnt);
}

SEC("xdp")
int sg_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 dir = sg_host_side ? SG_DIR_OUT : SG_DIR_IN;

	return sg_decide(data, data_end, (__u32)(data_end - data), dir)
		       ? XDP_PASS
		       : XDP_DROP;
}

/*
 * Reads skb->data / data_end with one load from the unmodified ctx
 * pointer: clang otherwise hoists ctx + offset out of the reads around the
 * pull, and the verifier refuses a modified ctx pointer.
 */
#define SG_SKB_PTR(skb, field)                                                 \
	({                                                                     \
		void *__p;                                                     \
		asm volatile("%0 = *(u32 *)(%1 + %2)"                          \
			     : "=r"(__p)                                       \
			     : "r"(skb), "i"(__builtin_offsetof(               \
						 struct __sk_buff, field)));   \
		__p;                                                           \
	})

SEC("tc")
int sg_tc(struct __sk_buff *skb)
{
	__u32 dir = sg_host_side ? SG_DIR_IN : SG_DIR_OUT;
	__u32 len = skb->len;
	__u32 want = len < SG_PULL_LEN ? len : SG_PULL_LEN;
	void *data = SG_SKB_PTR(skb, data);
	void *data_end = SG_SKB_PTR(skb, data_end);

	/* Headers may sit in paged data; the parsers need them linear. */
	if (data + want > data_end) {
		bpf_skb_pull_data(skb, want);
		data = SG_SKB_PTR(skb, data);
		data_end = SG_SKB_PTR(skb, data_end);
	}
	return sg_decide(data, data_end, len, dir) ? SG_TC_ACT_OK
						   : SG_TC_ACT_SHOT;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
