/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Wire-format and kernel constants of the datapath, under names of its own.
 * What the loader shares (protocol numbers, counters, limits) is in
 * include/sgctl.h.
 */
#ifndef SG_BPF_CONSTS_H
#define SG_BPF_CONSTS_H

/* Own names: vmlinux.h and the UAPI fallback disagree on which exist. */
#define SG_ETH_P_IP	0x0800
#define SG_ETH_P_IPV6	0x86DD
#define SG_ETH_P_8021Q	0x8100
#define SG_ETH_P_8021AD 0x88A8

#define SG_TCP_FIN 0x01
#define SG_TCP_SYN 0x02
#define SG_TCP_RST 0x04
#define SG_TCP_ACK 0x10

#define SG_ICMP_ECHOREPLY  0
#define SG_ICMP_ECHO	   8
#define SG_ICMP6_ECHO	   128
#define SG_ICMP6_ECHOREPLY 129

#define SG_IP_MF     0x2000
#define SG_IP_OFFSET 0x1fff

/* TC verdicts (TC_ACT_*). */
#define SG_TC_ACT_OK   0
#define SG_TC_ACT_SHOT 2
/* Linear bytes TC makes sure of: any sane header stack fits. */
#define SG_PULL_LEN 512

#define SG_CLOCK_MONOTONIC 1
#define SG_NS		   1000000000ULL

#endif /* SG_BPF_CONSTS_H */
