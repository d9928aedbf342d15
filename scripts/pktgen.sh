#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Kernel pktgen into a veth whose far end runs sgctl: the classic load
# generator, for lab hosts whose kernel has the pktgen module (the live-frame
# generator of `sgctl bench live` needs no module).
#
#   scripts/pktgen.sh --check
#       says whether pktgen is usable here (exit 0) or why not (exit 2)
#   scripts/pktgen.sh DEV DST_IP DST_MAC [COUNT] [SRC_MIN SRC_MAX] [DPORT]
#       sends COUNT (default 10M, at most 100M) 64-byte UDP frames out of
#       DEV (the generator's end of the veth), sources cycling over
#       SRC_MIN-SRC_MAX; one kernel thread, the current CPU's; prints
#       pktgen's result line. Bounded: also stopped after 60 s.
#
# Example, with the lab of tests/bench/live.sh (run inside its gen netns):
#   ip netns exec sgb-123-gen scripts/pktgen.sh tg0 198.19.255.1 \
#       <eth0 mac> 5000000 198.18.0.1 198.18.255.254 9
set -u

PG=/proc/net/pktgen

check() {
	if [ ! -d "$PG" ]; then
		if command -v modprobe >/dev/null 2>&1; then
			modprobe pktgen 2>/dev/null
		fi
	fi
	if [ ! -d "$PG" ]; then
		local why="no $PG"
		command -v modprobe >/dev/null 2>&1 || why="$why, no modprobe"
		[ -e "/lib/modules/$(uname -r)/kernel/net/core/pktgen.ko" ] ||
			why="$why, no pktgen.ko for $(uname -r)"
		echo "pktgen unavailable: kernel $(uname -r) has no pktgen module ($why); use sgctl bench live (XDP live frames) instead"
		return 2
	fi
	echo "pktgen available ($PG)"
	return 0
}

if [ "${1:-}" = --check ]; then
	check
	exit $?
fi
if [ $# -lt 3 ]; then
	sed -n '4,18p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
check >&2 || exit 2

DEV=$1 DST=$2 MAC=$3 COUNT=${4:-10000000}
SMIN=${5:-198.18.0.1} SMAX=${6:-198.18.0.1} DPORT=${7:-9}
[ "$COUNT" -gt 100000000 ] && COUNT=100000000
case $DST in 198.18.* | 198.19.* | 192.0.2.* | 198.51.100.* | 203.0.113.*) ;;
*) echo "pktgen.sh: $DST is outside the benchmark and documentation ranges" >&2; exit 2 ;;
esac

CPU=$(awk '{print $39}' /proc/self/stat)
THR=$PG/kpktgend_$CPU
pg() { echo "$2" >"$1" || { echo "pktgen.sh: '$2' > $1 failed" >&2; exit 1; }; }

stop() { echo stop >$PG/pgctrl 2>/dev/null; pg "$THR" "rem_device_all"; }
trap stop EXIT

pg "$THR" "rem_device_all"
pg "$THR" "add_device $DEV"
D=$PG/$DEV
pg "$D" "count $COUNT"
pg "$D" "pkt_size 60"
pg "$D" "delay 0"
pg "$D" "burst 32"
pg "$D" "clone_skb 0"
pg "$D" "dst $DST"
pg "$D" "dst_mac $MAC"
pg "$D" "src_min $SMIN"
pg "$D" "src_max $SMAX"
pg "$D" "udp_dst_min $DPORT"
pg "$D" "udp_dst_max $DPORT"
pg "$D" "flag IPSRC_RND"
timeout 60 sh -c "echo start > $PG/pgctrl"
grep -A2 '^Result' "$D"
