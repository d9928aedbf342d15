/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the harness's measurements share (bench/ only): the clock, frames
 * (frame.c), and a temporary state loaded from generated configs
 * (setup.c).
 */
#ifndef SG_BENCH_PRIV_H
#define SG_BENCH_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <linux/types.h>

#include "bench/bench.h"

struct sg_state;
struct sg_config;
struct sg_compiled;

/* CLOCK_MONOTONIC in seconds. */
double bench_now(void);
/* Sorts v; NAN when n is 0. */
double bench_median(double *v, size_t n);

struct bench_frame_spec {
	const __u8 *dmac, *smac; /* NULL: locally administered defaults */
	__u32 saddr, daddr;	 /* host order */
	__u8 proto;		 /* 6 or 17 */
	__u16 sport, dport;
	__u8 tcp_flags;
	size_t size; /* frame length, >= 60 */
};

/* Ethernet + IPv4 + TCP or UDP, every checksum correct, into buf
 * (BENCH_FRAME_MAX bytes). Returns the length. */
size_t bench_frame_build(const struct bench_frame_spec *s, __u8 *buf);

/* Opens a fresh state in /sys/fs/bpf/sgctl-bench-PID, removed at exit, on
 * SIGINT/SIGTERM/SIGHUP or by bench_state_cleanup(). */
int bench_state_open(struct sg_state *st);
void bench_state_cleanup(void);

/* Parses and compiles a generated config, timing each step when the
 * pointers are set. Diagnostics go to stderr. */
int bench_compile_text(const char *text, size_t len, struct sg_config *cfg,
		       struct sg_compiled *c, double *t_parse,
		       double *t_compile);

/* Applies c with instance i in slot i; strip_members leaves the other
 * instances' addresses out of sg_ip. */
int bench_apply(struct sg_state *st, struct sg_compiled *c, bool strip_members);

#endif /* SG_BENCH_PRIV_H */
