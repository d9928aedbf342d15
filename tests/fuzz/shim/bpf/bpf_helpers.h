/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Userspace stand-in for libbpf's bpf_helpers.h: only what bpf/parse.h
 * uses. The parser calls no helper; it needs the inline attributes.
 */
#ifndef SG_FUZZ_SHIM_BPF_HELPERS_H
#define SG_FUZZ_SHIM_BPF_HELPERS_H

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif
#ifndef __noinline
#define __noinline __attribute__((noinline))
#endif
#ifndef SEC
#define SEC(name)
#endif

#endif /* SG_FUZZ_SHIM_BPF_HELPERS_H */
