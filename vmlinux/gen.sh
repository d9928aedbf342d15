#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Writes vmlinux.h: the running kernel's types from its BTF when bpftool can
# read them, else a fallback built on the kernel's UAPI headers (enough for
# sgctl's programs, which use only UAPI structs).
# usage: gen.sh BPFTOOL OUT   (SG_VMLINUX_FALLBACK=1 forces the fallback)
set -eu
bpftool=$1 out=$2
dir=$(dirname "$0")
if [ "${SG_VMLINUX_FALLBACK:-0}" != 1 ] && [ -r /sys/kernel/btf/vmlinux ] &&
	"$bpftool" btf dump file /sys/kernel/btf/vmlinux format c >"$out.tmp" 2>/dev/null; then
	mv "$out.tmp" "$out"
else
	rm -f "$out.tmp"
	echo "vmlinux: using the UAPI fallback $dir/vmlinux_fallback.h" >&2
	cp "$dir/vmlinux_fallback.h" "$out"
fi
