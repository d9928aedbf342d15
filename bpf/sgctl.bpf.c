// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* STUB: replaced by the datapath. Declares the maps so the skeleton exists. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "maps.h"

const volatile __u32 sg_slot = 0;
const volatile __u32 sg_host_side = 0;

SEC("xdp")
int sg_xdp(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tc")
int sg_tc(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
