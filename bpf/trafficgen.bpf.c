// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Benchmark helpers (sgctl bench live), not part of enforcement:
 *
 * tg_gen   the traffic generator. Run by BPF_PROG_TEST_RUN with
 *          BPF_F_TEST_XDP_LIVE_FRAMES on the generator's end of a veth:
 *          every XDP_TX becomes a real frame sent to the far end. It
 *          rewrites the varying field of each frame (pages are recycled,
 *          so every field it varies is written in full each time).
 * tg_sink  a counting XDP program for the receiving end when sgctl is not
 *          there (no filter, or nftables): counts, then XDP_PASS or
 *          XDP_DROP. A veth only takes redirected frames when its peer has
 *          an XDP program (or GRO), so the runs without sgctl need it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TG_VARY_NONE  0
#define TG_VARY_SPORT 1 /* UDP source port: base + n */
#define TG_VARY_SADDR 2 /* IPv4 source address: base + n */
/* TCP SYN flood: source address in [base, base + span) and source port
 * 1024-65535, both scrambled per frame; TCP checksum kept right. */
#define TG_VARY_SYN 3

const volatile __u32 tg_vary = TG_VARY_NONE;
const volatile __u32 tg_span = 1; /* n cycles over [0, span) */
const volatile __u32 tg_base = 0; /* host order */
const volatile __u32 tg_sink_verdict = XDP_PASS;
/* The template frame's source, source port and raw TCP checksum word. */
const volatile __u32 tg_saddr0 = 0;
const volatile __u32 tg_sport0 = 0;
const volatile __u32 tg_csum0 = 0;

__u64 tg_seq = 0;

struct tg_count {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tg_count);
} tg_counter SEC(".maps");

static __always_inline __u16 tg_ip_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u32 sum = 0;

	ip->check = 0;
#pragma unroll
	for (int i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int tg_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	/* Fixed layout: Ethernet, IPv4 without options, UDP. */
	struct iphdr *ip = data + sizeof(struct ethhdr);
	struct udphdr *udp = (void *)(ip + 1);
	__u32 n;

	if (tg_vary == TG_VARY_NONE)
		return XDP_TX;
	if ((void *)(udp + 1) > data_end)
		return XDP_ABORTED;
	if (tg_vary == TG_VARY_SYN) {
		struct tcphdr *tcp = (void *)(ip + 1);
		__u32 x = (__u32)tg_seq++ * 2654435761u, sum;
		__be32 na, oa = bpf_htonl(tg_saddr0);
		__be16 np, op = bpf_htons((__u16)tg_sport0);

		if ((void *)(tcp + 1) > data_end)
			return XDP_ABORTED;
		na = bpf_htonl(tg_base + (x & (tg_span - 1)));
		np = bpf_htons((__u16)(1024 + (x >> 16) % 64512));
		ip->saddr = na;
		ip->check = tg_ip_csum(ip);
		tcp->source = np;
		/* RFC 1624 update of the template's checksum. */
		sum = (__u16)~tg_csum0;
		sum += (~oa & 0xffff) + (~oa >> 16) + (na & 0xffff) +
		       (na >> 16);
		sum += (__u16)~op + np;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		tcp->check = (__u16)~sum;
		return XDP_TX;
	}
	n = (__u32)(tg_seq++ % tg_span);
	if (tg_vary == TG_VARY_SPORT) {
		udp->source = bpf_htons((__u16)(tg_base + n));
		udp->check = 0; /* none: optional for UDP over IPv4 */
	} else {
		ip->saddr = bpf_htonl(tg_base + n);
		ip->check = tg_ip_csum(ip);
	}
	return XDP_TX;
}

SEC("xdp")
int tg_sink(struct xdp_md *ctx)
{
	struct tg_count *c;
	__u32 zero = 0;

	c = bpf_map_lookup_elem(&tg_counter, &zero);
	if (c) {
		c->packets++;
		c->bytes += ctx->data_end - ctx->data;
	}
	return tg_sink_verdict;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
