// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The reference stateful filter of `sgctl bench micro`, not part of
 * enforcement: the least any stateful filter does per packet of a tracked
 * flow. Parse Ethernet / IPv4 / TCP, one hash lookup of the flow's
 * 5-tuple, one per-CPU counter update; pass a tracked flow, drop the
 * rest. sgctl's established case is reported as a ratio to it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct rs_flow_key {
	__u32 saddr, daddr; /* network order */
	__u16 sport, dport;
	__u32 proto;
};

struct rs_count {
	__u64 packets, bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct rs_flow_key);
	__type(value, __u32);
} rs_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rs_count);
} rs_stats SEC(".maps");

SEC("xdp")
int rs_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct rs_flow_key k = {};
	struct rs_count *c;
	struct tcphdr *tcp;
	struct iphdr *ip;
	__u32 zero = 0;

	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(0x0800))
		return XDP_PASS;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl < 5 || ip->protocol != 6)
		return XDP_DROP;
	tcp = (void *)ip + ip->ihl * 4;
	if ((void *)(tcp + 1) > end)
		return XDP_DROP;
	k.saddr = ip->saddr;
	k.daddr = ip->daddr;
	k.sport = tcp->source;
	k.dport = tcp->dest;
	k.proto = 6;
	if (!bpf_map_lookup_elem(&rs_flows, &k))
		return XDP_DROP;
	c = bpf_map_lookup_elem(&rs_stats, &zero);
	if (c) {
		c->packets++;
		c->bytes += end - data;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
