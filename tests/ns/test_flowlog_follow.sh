#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `flowlog --follow` follows the state it reads, with real traffic
# (issue 16, case 10):
#   - a reload that removes instance A and gives its slot to B: B's flows
#     are labelled B (never A) and carry the new config's account id;
#   - the state rebuilt (unload then load while the follower sleeps, so it
#     never sees the state missing): it reopens the new maps and goes on;
#   - the state gone (unload, no new load): `state removed; exiting` on
#     stderr, exit 1.
# A second follower with --instance A must print nothing of B's flows after
# the reload (it used to keep A's slot and print them as A's).
# One enforcement mode is enough: what is tested is the reader, not the
# datapath.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_flowlog_follow
lab_up me other web || exit 1
start_udp_echo web 9999
web=$(ip4 web) me=$(ip4 me) other=$(ip4 other)
lab_require_sgctl
if ! command -v jq >/dev/null; then
	echo "SKIP test_flowlog_follow: jq not installed"
	exit 0
fi
mode=${LAB_MODES%% *}

# A: UDP 9999 from me only. B (A removed, same addresses): UDP 9999 from
# someone else only, and another account, so every record says whose it is.
cat >"$LAB_TMP/a.yaml" <<'EOF'
vpc: vpc-lab
region: lab-1
account: "111122223333"
security_groups:
  sg-a:
    inbound:
      - protocol: udp
        ports: 9999
        source: 203.0.113.10/32
instances:
  i-flowa:
    ips: [198.18.1.10, "2001:db8:1::10"]
    security_groups: [sg-a]
EOF
cat >"$LAB_TMP/b.yaml" <<'EOF'
vpc: vpc-lab
region: lab-1
account: "444455556666"
security_groups:
  sg-b:
    inbound:
      - protocol: udp
        ports: 9999
        source: 198.51.100.20/32
instances:
  i-flowb:
    ips: [198.18.1.10, "2001:db8:1::10"]
    security_groups: [sg-b]
EOF

# udp_from HOST SPORT: one datagram to web:9999 from a fixed source port;
# prints reply / timeout.
read -r -d '' _FL_UDP <<'PY'
import socket, sys
a, p, sp = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", sp))
s.settimeout(1)
s.sendto(b"sgctl-follow", (a, p))
try:
    s.recvfrom(65536)
    print("reply")
except OSError:
    print("timeout")
PY
udp_from() {
	ns_exec "$1" "$LAB_PY" -c "$_FL_UDP" "$web" 9999 "$2" 2>&1 | tail -n 1
}

slot_of() {
	sgc show -j 2>/dev/null | jq -r --arg i "$1" '.instances[] | select(.id == $i) | .slot'
}

# record SRC SPORT ACTION: the follower's first record of that flow into
# web:9999 (waits up to 8 s for it), or "none".
record() {
	local r
	for _ in $(seq 80); do
		r=$(awk -v s="$1" -v d="$web" -v sp="$2" -v a="$3" \
			'$4 == s && $5 == d && $6 == sp && $7 == 9999 && $13 == a { print; exit }' "$out")
		[ -n "$r" ] && break
		sleep 0.1
	done
	echo "${r:-none}"
}

# label RECORD: "account interface-id" of a record ("none" for none).
label() {
	if [ "$1" = none ]; then echo none; else awk '{ print $2, $3 }' <<<"$1"; fi
}

# follower_pid: sgctl itself (timeout is its parent).
follower_pid() {
	pgrep -P "$tpid" -x sgctl 2>/dev/null | head -n 1
}

lab_load "$LAB_TMP/a.yaml" "load a.yaml (i-flowa)" || lab_finish
lab_attach web "$mode" i-flowa || lab_finish
slot_a=$(slot_of i-flowa)

out="$LAB_TMP/follow.out" err="$LAB_TMP/follow.err"
timeout -s INT 90 "$SGCTL" flowlog --follow --window 1 \
	--pin-dir "$LAB_PIN" >"$out" 2>"$err" &
tpid=$!
LAB_PIDS+=("$tpid")
out_a="$LAB_TMP/follow-a.out" err_a="$LAB_TMP/follow-a.err"
timeout -s INT 90 "$SGCTL" flowlog --follow --window 1 --instance i-flowa \
	--pin-dir "$LAB_PIN" >"$out_a" 2>"$err_a" &
apid=$!
LAB_PIDS+=("$apid")
sleep 1

# ---- A's flows, labelled A
expect "A: me -> web:9999 gets a reply" reply "$(udp_from me 41001)"
expect "A: someone else -> web:9999 times out" timeout "$(udp_from other 41002)"
expect "A: ACCEPT record of A" "111122223333 i-flowa" "$(label "$(record "$me" 41001 ACCEPT)")"
expect "A: REJECT record of A" "111122223333 i-flowa" "$(label "$(record "$other" 41002 REJECT)")"

# ---- reload: A removed, B takes its slot
lab_detach web "$mode"
lab_load "$LAB_TMP/b.yaml" "load b.yaml (i-flowa removed, i-flowb added)" || lab_finish
expect "B took A's slot (the case under test)" "$slot_a" "$(slot_of i-flowb)"
lab_attach web "$mode" i-flowb || lab_finish
expect "B: someone else -> web:9999 gets a reply" reply "$(udp_from other 41003)"
expect "B: me -> web:9999 times out" timeout "$(udp_from me 41004)"
expect "B: ACCEPT record names B and B's account" "444455556666 i-flowb" \
	"$(label "$(record "$other" 41003 ACCEPT)")"
expect "B: REJECT record names B and B's account" "444455556666 i-flowb" \
	"$(label "$(record "$me" 41004 REJECT)")"
expect "B: no record of B's flows names A" 0 \
	"$(awk '($6 == 41003 || $6 == 41004 || $7 == 41003 || $7 == 41004) && $3 != "i-flowb"' "$out" | wc -l)"
expect "--instance A: A's flows before the reload" yes \
	"$(awk '$6 == 41001 && $3 == "i-flowa"' "$out_a" | grep -q . && echo yes || echo no)"
expect "--instance A: says A is gone" yes \
	"$(grep -q 'i-flowa is no longer in the loaded config' "$err_a" && echo yes || echo "no: $(tail -n 2 "$err_a")")"

# ---- rebuilt: unload and load while the follower is stopped, so it only
# sees new maps, never a missing state.
fpid=$(follower_pid)
if [ -z "$fpid" ]; then
	expect "follower still running after the reload" running gone
	lab_log_tail 6
	lab_finish
fi
kill -STOP "$fpid"
sgc_quiet unload
lab_load "$LAB_TMP/b.yaml" "unload, then load b.yaml again (new maps)"
kill -CONT "$fpid"
lab_attach web "$mode" i-flowb || lab_finish
expect "rebuilt: someone else -> web:9999 gets a reply" reply "$(udp_from other 41005)"
expect "rebuilt: me -> web:9999 times out" timeout "$(udp_from me 41006)"
expect "rebuilt: the follower reads the new maps (ACCEPT)" "444455556666 i-flowb" \
	"$(label "$(record "$other" 41005 ACCEPT)")"
expect "rebuilt: the follower reads the new maps (REJECT)" "444455556666 i-flowb" \
	"$(label "$(record "$me" 41006 REJECT)")"

# ---- gone: unload, no new load
sgc_quiet unload
rc=none
for _ in $(seq 100); do
	if ! kill -0 "$tpid" 2>/dev/null; then
		wait "$tpid"
		rc=$?
		break
	fi
	sleep 0.1
done
expect "gone: the follower exits 1 after unload" 1 "$rc"
expect "gone: it says why on stderr" yes \
	"$(grep -q 'state removed; exiting' "$err" && echo yes || echo "no: $(tail -n 2 "$err")")"
rc=none
for _ in $(seq 30); do
	if ! kill -0 "$apid" 2>/dev/null; then
		wait "$apid"
		rc=$?
		break
	fi
	sleep 0.1
done
expect "gone: the --instance follower exits 1 too" 1 "$rc"
# Its output is complete now: not one record of B's flows.
expect "--instance A: nothing of B's flows after the reload" 0 \
	"$(awk '$6 >= 41003 && $6 <= 41006 || $7 >= 41003 && $7 <= 41006' "$out_a" | wc -l)"
lab_finish
