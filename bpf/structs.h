/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath's own structs: headers it reads, under names of its own,
 * and what the parse stage hands to the policy stage. Map layouts, shared
 * with the loader, are in include/sgctl.h.
 */
#ifndef SG_BPF_STRUCTS_H
#define SG_BPF_STRUCTS_H

#include "vmlinux.h"

struct sg_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct sg_ipv6_opt {
	__u8 nexthdr;
	__u8 hdrlen;
};

struct sg_ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M */
	__be32 id;
};

enum sg_frag_kind {
	SG_FRAG_NONE,
	SG_FRAG_FIRST,
	SG_FRAG_LATER,
};

/*
 * A packet as seen on the wire (source/destination, not instance view).
 * Plain data, no packet pointers: the policy stage is a separate function
 * verified once (see sgctl.bpf.c).
 */
struct sg_pkt {
	__u8 saddr[16]; /* IPv4 in the first 4 bytes, rest zero */
	__u8 daddr[16];
	__u32 l4_len; /* L4 bytes per the IP length fields */
	__u32 frag_id;
	__be16 sport; /* TCP/UDP */
	__be16 dport;
	__be16 icmp_tc; /* ICMP type << 8 | code, network order */
	__be16 icmp_id; /* ICMP echo identifier */
	__u8 family;	/* 4 or 6 */
	__u8 proto;
	__u8 frag; /* enum sg_frag_kind */
	__u8 tcp_flags;
	__u8 icmp; /* 1 when proto is this family's ICMP */
	__u8 icmp_type;
	__u8 hop_limit; /* IPv6 only: MLD must come with 1 */
};

/* What the parse stage hands to the policy stage: data only. */
struct sg_parsed {
	struct sg_pkt p;
	struct sg_pkt q; /* the packet an ICMP error quotes, when quoted */
	__u32 quoted;
	__u32 pkt_len; /* set by the caller: the whole frame, paged part too */
};

#endif /* SG_BPF_STRUCTS_H */
