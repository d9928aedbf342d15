#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Full tracking tables (docs/semantics.md §3.11): with `max_entries: 8`, the
# 9th flow is dropped and counted (conntrack_allowance_exceeded), the 8
# tracked flows keep working, and room comes back when closed flows expire
# (TCP closing: 10 s) with no sgctl process running: the bpf_timer in the
# pinned maps does the expiry. Both enforcement modes run side by side, one
# instance each (i-web1 in NIC mode, i-web2 host-side), so the 10 s wait is
# paid once.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_fulltable
lab_require_sgctl
lab_up me web web2 || exit 1
if ! command -v bpftool >/dev/null; then
	echo "SKIP test_fulltable: bpftool not installed"
	exit 0
fi
start_tcp_server web 7000
start_tcp_server web2 7000
start_udp_echo web 7000
start_udp_echo web2 7000

CAP=8
declare -A HOST=([i-web1]=web [i-web2]=web2)
declare -A MODE=([i-web1]=nic [i-web2]=host)
declare -A SLOT=()
INSTS="i-web1 i-web2"

# stat_of INST FIELD...: dotted fields of `sgctl stats -j`, space separated.
stat_of() {
	local inst=$1
	shift
	sgc -j stats --instance "$inst" 2>/dev/null | "$LAB_PY" -c '
import json, sys
d = json.load(sys.stdin)["instances"][0]
out = []
for p in sys.argv[1:]:
    v = d
    for k in p.split("."):
        v = v[k]
    out.append(str(v))
print(" ".join(out))' "$@" 2>/dev/null
}

# ct_in_use SLOT: sg_ct_count read straight from the pin with bpftool, so
# that waiting for expiry runs no sgctl process at all.
ct_in_use() {
	bpftool -j map lookup pinned "$LAB_PIN/sg_ct_count" key \
		$(("$1" & 255)) $((("$1" >> 8) & 255)) 0 0 2>/dev/null | "$LAB_PY" -c '
import json, sys
d = json.load(sys.stdin)
v = d.get("formatted", d)["value"]
if isinstance(v, list):
    v = int.from_bytes(bytes(int(b, 16) for b in v), "little", signed=True)
print(v)' 2>/dev/null
}

lab_load "$here/fulltable.yaml" "load fulltable.yaml (max_entries 8)" || exit 1
for i in $INSTS; do
	lab_attach "${HOST[$i]}" "${MODE[$i]}" "$i" || exit 1
	SLOT[$i]=$(stat_of "$i" slot)
	expect "${MODE[$i]}: $i starts empty (in use, available)" "0 $CAP" \
		"$(stat_of "$i" conntrack.in_use conntrack.conntrack_allowance_available)"
done

# Fill both tables: 8 long-lived TCP sessions each.
for i in $INSTS; do
	h=${HOST[$i]} ok=0
	for k in $(seq $CAP); do
		[ "$(session_open "$h-$k" me "$(ip4 "$h")" 7000)" = open ] &&
			[ "$(session_send "$h-$k")" = ok ] && ok=$((ok + 1))
	done
	expect "${MODE[$i]}: $CAP sessions open and exchange data" $CAP $ok
	expect "${MODE[$i]}: table full (in use, available, exceeded)" "$CAP 0 0" \
		"$(stat_of "$i" conntrack.in_use conntrack.conntrack_allowance_available \
			conntrack.conntrack_allowance_exceeded)"
done

# Flows beyond capacity: dropped (the client times out) and counted, one
# packet each (0.8 s is below the 1 s SYN retransmission).
for i in $INSTS; do
	h=${HOST[$i]} m=${MODE[$i]}
	expect "$m: 9th TCP flow times out" timeout "$(probe_tcp me "$(ip4 "$h")" 7000 0.8)"
	expect "$m: new UDP flow times out" timeout "$(probe_udp me "$(ip4 "$h")" 7000 0.8)"
	expect "$m: both counted (conntrack_allowance_exceeded, drops conntrack_full in)" "2 2" \
		"$(stat_of "$i" conntrack.conntrack_allowance_exceeded inbound.drops.conntrack_full)"
	ok=0
	for k in $(seq $CAP); do
		[ "$(session_send "$h-$k")" = ok ] && ok=$((ok + 1))
	done
	expect "$m: the $CAP tracked flows keep working while full" $CAP $ok
done

# Close half of the flows: FIN both ways, closing state, 10 s. Until they
# expire they still hold their room. From here until room is back no sgctl
# runs: only the bpf_timer in the pinned maps can free it.
t0=$(date +%s.%N)
for i in $INSTS; do
	for k in 1 2 3 4; do
		session_close "${HOST[$i]}-$k"
	done
done
sleep 0.3
for i in $INSTS; do
	expect "${MODE[$i]}: right after closing, a new flow still times out" timeout \
		"$(probe_tcp me "$(ip4 "${HOST[$i]}")" 7000 0.8)"
done

declare -A BACK=()
for _ in $(seq 80); do
	left=0
	for i in $INSTS; do
		[ -n "${BACK[$i]:-}" ] && continue
		n=$(ct_in_use "${SLOT[$i]}")
		if [ -n "$n" ] && [ "$n" -le $((CAP - 4)) ]; then
			BACK[$i]=$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN { print a - b }')
		else
			left=1
		fi
	done
	[ $left = 0 ] && break
	sleep 0.2
done
for i in $INSTS; do
	m=${MODE[$i]}
	if [ -n "${BACK[$i]:-}" ]; then
		expect "$m: room back with no sgctl running" yes yes
		printf '# %s: 4 closed flows expired %.1f s after closing (closing timeout 10 s)\n' \
			"$m" "${BACK[$i]}"
	else
		expect "$m: room back with no sgctl running" yes "no (in use $(ct_in_use "${SLOT[$i]}"))"
	fi
done

for i in $INSTS; do
	h=${HOST[$i]} m=${MODE[$i]} ok=0
	expect "$m: after expiry (in use, available)" "4 4" \
		"$(stat_of "$i" conntrack.in_use conntrack.conntrack_allowance_available)"
	for k in 9 10 11 12; do
		[ "$(session_open "$h-$k" me "$(ip4 "$h")" 7000)" = open ] &&
			[ "$(session_send "$h-$k")" = ok ] && ok=$((ok + 1))
	done
	expect "$m: 4 new flows take the freed room" 4 $ok
	expect "$m: the next one times out again" timeout "$(probe_tcp me "$(ip4 "$h")" 7000 0.8)"
	ok=0
	for k in 5 6 7 8 9 10 11 12; do
		[ "$(session_send "$h-$k")" = ok ] && ok=$((ok + 1))
	done
	expect "$m: all $CAP tracked flows work" $CAP $ok
	expect "$m: final (in use, available, exceeded)" "$CAP 0 4" \
		"$(stat_of "$i" conntrack.in_use conntrack.conntrack_allowance_available \
			conntrack.conntrack_allowance_exceeded)"
done
lab_finish
