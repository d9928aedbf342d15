#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Seeing what it does, with real traffic: a connection the groups drop is
# explained by `sgctl check`, counted by `sgctl stats` (no rule) and logged
# as a REJECT flow-log record; an accepted UDP exchange with known sizes is
# logged as two ACCEPT records (one per direction) with exact packet and
# byte counts, matches `sgctl conntrack list`, and `conntrack flush` gives
# the room back. `flowlog --follow` streams a record when its window closes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_observe
lab_up me other web || exit 1
start_tcp_server web 22
start_udp_echo web 9999
web=$(ip4 web) me=$(ip4 me) other=$(ip4 other)
lab_require_sgctl
if ! command -v jq >/dev/null; then
	echo "SKIP test_observe: jq not installed"
	exit 0
fi

# udp_burst HOST ADDR PORT SPORT N SIZE: N datagrams of SIZE bytes from a
# fixed source port, each echoed back; prints how many echoes came back.
read -r -d '' _OBS_UDP <<'PY'
import socket, sys
a, p, sp, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", sp))
s.settimeout(2)
got = 0
for i in range(n):
    s.sendto(b"x" * size, (a, p))
    try:
        d, _ = s.recvfrom(65536)
        got += len(d) == size
    except OSError:
        pass
print(got)
PY
udp_burst() {
	ns_exec "$1" "$LAB_PY" -c "$_OBS_UDP" "$2" "$3" "$4" "$5" "$6" 2>&1 | tail -n 1
}

# stat PATH: one number from `sgctl stats -j` for i-web1 (jq path).
stat() {
	sgc stats --instance i-web1 -j 2>/dev/null | jq -r ".instances[0]$1"
}

# flow ACTION SRC DST DPORT: the first matching flow-log record (or "none").
flow() {
	local r
	r=$(sgc flowlog --instance i-web1 2>/dev/null |
		awk -v a="$1" -v s="$2" -v d="$3" -v p="$4" \
			'$4 == s && $5 == d && $7 == p && $13 == a { print; exit }')
	echo "${r:-none}"
}

n=0
for mode in $LAB_MODES; do
	n=$((n + 1))
	lab_load "$here/observe.yaml" "$mode: load observe.yaml" || break
	lab_attach web "$mode" i-web1 || continue

	# ---- the time-out case
	check_tcp "$mode: someone else -> web:22 times out" timeout other "$web" 22
	v=$(sgc check --instance i-web1 --inbound --protocol tcp --remote "$other" --port 22)
	expect "$mode: check says REJECT" REJECT "$(awk '{print $1; exit}' <<<"$v")"
	expect "$mode: check says the client sees a time-out" yes \
		"$(grep -q 'time-out' <<<"$v" && echo yes || echo no)"
	expect "$mode: check names the rule that almost matched" yes \
		"$(grep -q 'ssh (tcp/22) from 203.0.113.10/32' <<<"$v" && echo yes || echo no)"
	drops=$(stat .inbound.drops.no_rule)
	expect "$mode: stats counts the dropped SYNs as no rule" yes \
		"$([ "${drops:-0}" -ge 1 ] 2>/dev/null && echo yes || echo no)"
	rej=$(stat .inbound.rejected.packets)
	expect "$mode: stats rejected packets = no-rule drops" "$drops" "$rej"
	rec=$(flow REJECT "$other" "$web" 22)
	expect "$mode: REJECT flow-log record" yes \
		"$(grep -Eq "^2 111122223333 i-web1 $other $web [0-9]+ 22 6 [1-9][0-9]* [0-9]+ [0-9]+ [0-9]+ REJECT OK$" <<<"$rec" && echo yes || echo "no: $rec")"
	# Every no-rule drop is in some REJECT record (IPv6 multicast
	# listener reports from the neighbours are dropped and logged too).
	sum=$(sgc flowlog --instance i-web1 -j 2>/dev/null |
		jq '[.records[] | select(.action == "REJECT" and .direction == "inbound") | .packets] | add // 0')
	expect "$mode: REJECT records add up to the no-rule drops" "$(stat .inbound.drops.no_rule)" "$sum"

	# ---- an accepted flow, exact counts: 3 datagrams of 100 bytes each
	# way; a frame is 14 + 20 + 8 + 100 = 142 bytes.
	sport=$((40100 + n))
	expect "$mode: me -> web:9999 udp, 3 echoes" 3 "$(udp_burst me "$web" 9999 "$sport" 3 100)"
	rec=$(flow ACCEPT "$me" "$web" 9999)
	expect "$mode: ACCEPT record inbound, 3 packets 426 bytes" \
		"2 111122223333 i-web1 $me $web $sport 9999 17 3 426" \
		"$(cut -d' ' -f1-10 <<<"$rec")"
	rec=$(sgc flowlog --instance i-web1 2>/dev/null |
		awk -v s="$web" -v d="$me" -v p="$sport" '$4 == s && $5 == d && $7 == p && $13 == "ACCEPT"')
	expect "$mode: ACCEPT record outbound (the replies), 3 packets 426 bytes" \
		"2 111122223333 i-web1 $web $me 9999 $sport 17 3 426" \
		"$(cut -d' ' -f1-10 <<<"$rec")"
	ct=$(sgc conntrack list --instance i-web1 -j 2>/dev/null |
		jq -r --argjson p "$sport" '.flows[] | select(.remote_port == $p) |
			"\(.protocol) \(.state) \(.origin) \(.packets_in) \(.packets_out)"')
	expect "$mode: conntrack list shows the UDP stream" "udp STREAM inbound 3 3" "$ct"
	check_tcp "$mode: my computer -> web:22 connects" connected me "$web" 22
	rec=$(flow ACCEPT "$me" "$web" 22)
	expect "$mode: the SSH connection is an ACCEPT record" yes \
		"$([ "$rec" != none ] && echo yes || echo no)"
	acc=$(stat .inbound.accepted.packets)
	expect "$mode: stats counts accepted inbound packets" yes \
		"$([ "${acc:-0}" -ge 3 ] 2>/dev/null && echo yes || echo no)"

	# ---- conntrack flush gives the room back
	used=$(stat .conntrack.in_use)
	expect "$mode: conntrack entries in use" yes "$([ "${used:-0}" -ge 2 ] 2>/dev/null && echo yes || echo no)"
	sgc_quiet conntrack flush --instance i-web1
	expect "$mode: after flush, no entries in use" "0 $(stat .conntrack.max_entries)" \
		"$(stat .conntrack.in_use) $(stat .conntrack.conntrack_allowance_available)"
	expect "$mode: after flush, conntrack list is empty" 0 \
		"$(sgc conntrack list --instance i-web1 -j 2>/dev/null | jq '.flows | length')"

	# ---- --follow: a new rejected flow shows up once its window closes
	out="$LAB_TMP/follow-$n.out"
	timeout -s INT 6 "$SGCTL" flowlog --instance i-web1 --follow --window 2 \
		--pin-dir "$LAB_PIN" >"$out" 2>>"$LAB_TMP/sgctl.log" &
	fpid=$!
	sleep 1
	check_udp "$mode: someone else -> web:9999 udp times out" timeout other "$web" 9999
	wait "$fpid"
	expect "$mode: flowlog --follow streamed the REJECT record" yes \
		"$(awk -v s="$other" -v d="$web" '$4 == s && $5 == d && $7 == 9999 && $8 == 17 && $13 == "REJECT"' "$out" | grep -q . && echo yes || echo no)"

	lab_detach web "$mode"
	# A fresh state for the next mode: counters and records start at 0.
	sgc_quiet unload
done
lab_finish
