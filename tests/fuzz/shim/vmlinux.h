/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Userspace stand-in for vmlinux.h, so that bpf/parse.h compiles unchanged
 * into the packet-parser fuzzer: the kernel's own UAPI headers give the
 * same struct and field names the BPF build gets from BTF.
 */
#ifndef SG_FUZZ_SHIM_VMLINUX_H
#define SG_FUZZ_SHIM_VMLINUX_H

#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#endif /* SG_FUZZ_SHIM_VMLINUX_H */
