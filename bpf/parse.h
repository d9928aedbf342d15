/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsers. Each one reads at a cursor only after checking the header
 * fits before data_end, and fills struct sg_pkt with what the policy needs.
 * A parser returns SG_CONTINUE when the packet goes on to the next stage, or
 * the counter (enum sg_counter) of the final verdict.
 */
#ifndef SG_BPF_PARSE_H
#define SG_BPF_PARSE_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "sgctl.h"
#include "consts.h"
#include "structs.h"

#define SG_CONTINUE (-1)

static __always_inline int sg_is_echo(const struct sg_pkt *p)
{
	if (p->family == 4)
		return p->icmp_type == SG_ICMP_ECHO ||
		       p->icmp_type == SG_ICMP_ECHOREPLY;
	return p->icmp_type == SG_ICMP6_ECHO ||
	       p->icmp_type == SG_ICMP6_ECHOREPLY;
}

static __always_inline int sg_is_echo_request(const struct sg_pkt *p)
{
	return p->icmp_type == (p->family == 4 ? SG_ICMP_ECHO : SG_ICMP6_ECHO);
}

/* Destination unreachable, time exceeded, parameter problem (+ too big). */
static __always_inline int sg_is_icmp_error(const struct sg_pkt *p)
{
	__u8 t = p->icmp_type;

	if (p->family == 4)
		return t == 3 || t == 11 || t == 12;
	return t >= 1 && t <= 4;
}

/*
 * Ethernet and up to two VLAN tags. Returns the inner ethertype (network
 * order) or 0 on truncation; a third tag is refused (0) rather than passed
 * as non-IP, so QinQinQ cannot smuggle IP past the filter.
 */
static __always_inline int sg_is_vlan(__be16 proto)
{
	return proto == bpf_htons(SG_ETH_P_8021Q) ||
	       proto == bpf_htons(SG_ETH_P_8021AD);
}

static __always_inline __be16 sg_parse_eth(void **pos, void *data_end)
{
	struct ethhdr *eth = *pos;
	struct sg_vlan_hdr *vh;
	__be16 proto;

	if ((void *)(eth + 1) > data_end)
		return 0;
	proto = eth->h_proto;
	vh = (void *)(eth + 1);
	if (sg_is_vlan(proto)) {
		if ((void *)(vh + 1) > data_end)
			return 0;
		proto = vh->proto;
		vh++;
		if (sg_is_vlan(proto)) {
			if ((void *)(vh + 1) > data_end)
				return 0;
			proto = vh->proto;
			vh++;
			if (sg_is_vlan(proto))
				return 0;
		}
	}
	*pos = vh;
	return proto;
}

/* l3_avail: bytes of the frame from the IP header on (may exceed data_end). */
static __always_inline int sg_parse_ipv4(void *pos, void *data_end,
					 __u32 l3_avail, struct sg_pkt *p,
					 void **l4)
{
	struct iphdr *ip = pos;
	__u32 hlen, tot;
	__u16 fo;
	__u8 vihl;

	if ((void *)(ip + 1) > data_end)
		return SG_CNT_DROP_MALFORMED;
	vihl = *(__u8 *)ip;
	hlen = (vihl & 0xf) * 4;
	if ((vihl >> 4) != 4 || hlen < sizeof(*ip))
		return SG_CNT_DROP_MALFORMED;
	if (pos + hlen > data_end)
		return SG_CNT_DROP_MALFORMED;
	tot = bpf_ntohs(ip->tot_len);
	if (tot < hlen || tot > l3_avail)
		return SG_CNT_DROP_MALFORMED;

	p->family = 4;
	p->proto = ip->protocol;
	__builtin_memcpy(p->saddr, &ip->saddr, 4);
	__builtin_memcpy(p->daddr, &ip->daddr, 4);
	fo = bpf_ntohs(ip->frag_off);
	if (fo & SG_IP_OFFSET)
		p->frag = SG_FRAG_LATER;
	else if (fo & SG_IP_MF)
		p->frag = SG_FRAG_FIRST;
	p->frag_id = bpf_ntohs(ip->id);
	*l4 = pos + hlen;
	p->l4_len = tot - hlen;
	return SG_CONTINUE;
}

static __always_inline int sg_ipv6_is_ext(__u8 nh)
{
	return SG_PROTO_IS_IPV6_EXT(nh);
}

static __always_inline int sg_parse_ipv6(void *pos, void *data_end,
					 __u32 l3_avail, struct sg_pkt *p,
					 void **l4)
{
	struct ipv6hdr *ip6 = pos;
	void *cur = (void *)(ip6 + 1);
	__u32 end, off = sizeof(*ip6), len;
	__u8 nh;
	int i;

	if ((void *)(ip6 + 1) > data_end)
		return SG_CNT_DROP_MALFORMED;
	if ((*(__u8 *)ip6 >> 4) != 6)
		return SG_CNT_DROP_MALFORMED;
	/* 0: a jumbogram or a BIG TCP super-packet, as long as the frame. */
	end = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
	if (end == sizeof(*ip6))
		end = l3_avail;
	if (end > l3_avail)
		return SG_CNT_DROP_MALFORMED;

	p->family = 6;
	p->hop_limit = ip6->hop_limit;
	__builtin_memcpy(p->saddr, &ip6->saddr, 16);
	__builtin_memcpy(p->daddr, &ip6->daddr, 16);
	nh = ip6->nexthdr;

	/* One pass more than the limit: meeting a 9th header drops. */
#pragma unroll
	for (i = 0; i <= SG_IPV6_MAX_EXT_HDRS; i++) {
		if (!sg_ipv6_is_ext(nh))
			break;
		if (i == SG_IPV6_MAX_EXT_HDRS)
			return SG_CNT_DROP_IPV6_CHAIN;
		if (nh == SG_PROTO_FRAGMENT) {
			struct sg_ipv6_frag *fh = cur;
			__u16 fo;

			if ((void *)(fh + 1) > data_end)
				return SG_CNT_DROP_MALFORMED;
			fo = bpf_ntohs(fh->frag_off);
			p->frag_id = bpf_ntohl(fh->id);
			nh = fh->nexthdr;
			len = sizeof(*fh);
			if (fo & 0xfff8) {
				/* A later fragment carries no more headers. */
				p->frag = SG_FRAG_LATER;
				off += len;
				cur += len;
				break;
			}
			if (fo & 1)
				p->frag = SG_FRAG_FIRST;
		} else {
			struct sg_ipv6_opt *oh = cur;

			if ((void *)(oh + 1) > data_end)
				return SG_CNT_DROP_MALFORMED;
			/* AH counts 4-byte units minus 2, the rest 8-byte
			 * minus 1. */
			if (nh == SG_PROTO_AH)
				len = ((__u32)oh->hdrlen + 2) * 4;
			else
				len = ((__u32)oh->hdrlen + 1) * 8;
			nh = oh->nexthdr;
		}
		off += len;
		cur += len;
		if (off > end)
			return SG_CNT_DROP_MALFORMED;
	}
	if (off > end)
		return SG_CNT_DROP_MALFORMED;
	p->proto = nh;
	*l4 = cur;
	p->l4_len = end - off;
	return SG_CONTINUE;
}

/*
 * The L4 header of an unfragmented packet or a first fragment. Lengths are
 * checked against the IP length (l4_len) and the bytes read against
 * data_end; TCP options are skipped unread.
 */
static __always_inline int sg_parse_l4(void *l4, void *data_end,
				       struct sg_pkt *p)
{
	p->icmp = (p->family == 4 && p->proto == SG_PROTO_ICMP) ||
		  (p->family == 6 && p->proto == SG_PROTO_ICMPV6);
	if (p->proto == SG_PROTO_TCP) {
		struct tcphdr *th = l4;
		__u32 doff;

		if (p->l4_len < sizeof(*th) || (void *)(th + 1) > data_end)
			return SG_CNT_DROP_MALFORMED;
		doff = (((__u8 *)th)[12] >> 4) * 4;
		if (doff < sizeof(*th) || doff > p->l4_len)
			return SG_CNT_DROP_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		p->tcp_flags = ((__u8 *)th)[13];
	} else if (p->proto == SG_PROTO_UDP) {
		struct udphdr *uh = l4;

		if (p->l4_len < sizeof(*uh) || (void *)(uh + 1) > data_end)
			return SG_CNT_DROP_MALFORMED;
		p->sport = uh->source;
		p->dport = uh->dest;
	} else if (p->icmp) {
		__u8 *ih = l4;

		/* type, code, checksum, then id/seq or unused: 8 bytes. */
		if (p->l4_len < 8 || (void *)(ih + 8) > data_end)
			return SG_CNT_DROP_MALFORMED;
		p->icmp_type = ih[0];
		p->icmp_tc = *(__be16 *)ih;
		p->icmp_id = *(__be16 *)(ih + 4);
	}
	return SG_CONTINUE;
}

/*
 * The packet an ICMP error quotes: its IP header and the first 8 bytes of
 * its L4 header. Returns 0 when q describes it, -1 when the quote is too
 * short or not something a tracked flow could have sent.
 */
static __always_inline int sg_parse_quoted(const struct sg_pkt *p, void *l4,
					   void *data_end, struct sg_pkt *q)
{
	void *in = l4 + 8;
	__u8 *ql4;

	if (p->family == 4) {
		struct iphdr *ip = in;
		__u32 hlen;
		__u8 vihl;

		if ((void *)(ip + 1) > data_end)
			return -1;
		vihl = *(__u8 *)ip;
		hlen = (vihl & 0xf) * 4;
		if ((vihl >> 4) != 4 || hlen < sizeof(*ip))
			return -1;
		/* Only a first (or whole) datagram quotes its ports. */
		if (bpf_ntohs(ip->frag_off) & SG_IP_OFFSET)
			return -1;
		q->proto = ip->protocol;
		__builtin_memcpy(q->saddr, &ip->saddr, 4);
		__builtin_memcpy(q->daddr, &ip->daddr, 4);
		ql4 = in + hlen;
	} else {
		struct ipv6hdr *ip6 = in;

		if ((void *)(ip6 + 1) > data_end)
			return -1;
		q->proto = ip6->nexthdr;
		__builtin_memcpy(q->saddr, &ip6->saddr, 16);
		__builtin_memcpy(q->daddr, &ip6->daddr, 16);
		ql4 = (void *)(ip6 + 1);
	}
	if ((void *)(ql4 + 8) > data_end)
		return -1;
	q->family = p->family;
	q->icmp = p->proto == q->proto;
	if (q->proto == SG_PROTO_TCP || q->proto == SG_PROTO_UDP) {
		q->sport = *(__be16 *)ql4;
		q->dport = *(__be16 *)(ql4 + 2);
	} else if (q->icmp) {
		q->icmp_type = ql4[0];
		q->icmp_tc = *(__be16 *)ql4;
		q->icmp_id = *(__be16 *)(ql4 + 4);
		if (!sg_is_echo(q))
			return -1;
	}
	return 0;
}

/*
 * The parse stage of both programs: headers into *m, or an early verdict.
 * Returns SG_CONTINUE when the policy stage is to decide, else the
 * counter of the verdict. tests/fuzz/fuzz_parse.c runs this very function.
 */
static __always_inline int sg_parse(void *data, void *data_end,
				    struct sg_parsed *m)
{
	struct sg_pkt *p = &m->p;
	void *pos = data, *l4 = NULL;
	__be16 eth_proto;
	__u32 l3_avail;
	int ret;

	eth_proto = sg_parse_eth(&pos, data_end);
	if (!eth_proto)
		return SG_CNT_DROP_MALFORMED;
	l3_avail = m->pkt_len - (__u32)(pos - data);
	if (eth_proto == bpf_htons(SG_ETH_P_IP))
		ret = sg_parse_ipv4(pos, data_end, l3_avail, p, &l4);
	else if (eth_proto == bpf_htons(SG_ETH_P_IPV6))
		ret = sg_parse_ipv6(pos, data_end, l3_avail, p, &l4);
	else
		return SG_CNT_PASS_INFRA; /* SGs filter IP only */
	if (ret != SG_CONTINUE || p->frag == SG_FRAG_LATER)
		return ret;
	ret = sg_parse_l4(l4, data_end, p);
	if (ret != SG_CONTINUE)
		return ret;
	if (p->icmp && sg_is_icmp_error(p))
		m->quoted = !sg_parse_quoted(p, l4, data_end, &m->q);
	return SG_CONTINUE;
}

#endif /* SG_BPF_PARSE_H */
