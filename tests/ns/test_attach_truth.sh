#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Attachment records against the kernel (issue 16, the attach side; see
# also test_state_truth.sh): `show` says ok / stale / lost per record in
# text and JSON, detach of a lost record or a renamed interface does what
# it says, a load that drops a live attached instance is still refused,
# and the clsact qdisc goes only when sgctl added it and nothing else is
# on it.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_attach_truth
lab_up me other web || exit 1
lab_require_sgctl
for t in tc bpftool; do
	if ! command -v $t >/dev/null; then
		echo "SKIP test_attach_truth: $t not installed"
		exit 0
	fi
done
start_tcp_server web 22
web=$(ip4 web)
ns=$(nsname web)
good=$here/lifecycle.yaml

# status IFNAME: the "status" of IFNAME's record in show -j, or no-record.
status() {
	sgc show -j 2>/dev/null | "$LAB_PY" -c '
import json, sys
d = json.load(sys.stdin)
for a in d.get("attachments", []):
    if a.get("interface") == sys.argv[1]:
        print(a.get("status", "no-status")); sys.exit()
print("no-record")' "$1"
}

# text_status IFNAME: the last word of IFNAME's line under "attachments:"
# in the text show.
text_status() {
	sgc show 2>/dev/null | awk -v i="$1" '
		/^attachments:/ { a = 1; next }
		a && $1 == i { for (k = 1; k <= NF; k++) if ($k == "ok" || $k == "stale" || $k == "lost") s = $k }
		END { print s ? s : "none" }'
}

progs() { # DEV: BPF programs on DEV in web's namespace, or none
	local out
	out=$(ip netns exec "$ns" bpftool net show dev "$1" 2>/dev/null | grep -Eo 'id [0-9]+' | tr '\n' ' ')
	echo "${out:-none}"
}

clsact() { # DEV: clsact when web's DEV has that qdisc, else none
	if tc -n "$ns" qdisc show dev "$1" 2>/dev/null | grep -q clsact; then echo clsact; else echo none; fi
}

lab_load "$good" "load lifecycle.yaml" || exit 1

# ---- ok, in text and JSON
lab_attach web nic i-web1 || exit 1
check_tcp "attached: someone else -> web:22 times out" timeout other "$web" 22
expect "show -j: status ok" ok "$(status eth0)"
expect "show: the attachment's line says ok" ok "$(text_status eth0)"

# ---- lost: someone removed our programs; the record stays until detach
ip -n "$ns" link set dev eth0 xdp off
ip -n "$ns" link set dev eth0 xdpgeneric off 2>/dev/null
tc -n "$ns" filter del dev eth0 egress 2>/dev/null
check_tcp "lost: lab: programs removed by hand, web open again" connected other "$web" 22
expect "lost: show -j: status lost" lost "$(status eth0)"
expect "lost: show: the attachment's line says lost" lost "$(text_status eth0)"
out=$(sgc -j detach eth0 --netns "$ns")
expect "lost: detach exits 0" 0 $?
expect "lost: detach -j says not detached (nothing was attached)" False \
	"$("$LAB_PY" -c 'import json,sys; print(json.loads(sys.argv[1])["detached"])' "$out" 2>&1)"
expect "lost: detach removes the record" no-record "$(status eth0)"
expect "lost: detach removes the clsact qdisc sgctl added" none "$(clsact eth0)"

# ---- renamed: detach by the recorded name removes the programs there
lab_attach web nic i-web1 || exit 1
ip -n "$ns" link set eth0 down
ip -n "$ns" link set eth0 name eth9
ip -n "$ns" link set eth9 up
expect "renamed: show -j: status stale" stale "$(status eth0)"
out=$(sgc detach eth0 --netns "$ns")
expect "renamed: detach by the old name exits 0" 0 $?
expect "renamed: detach says detached" yes "$(grep -q '^detached eth0' <<<"$out" && echo yes || echo "no: $out")"
expect "renamed: no program left on the renamed interface" none "$(progs eth9)"
expect "renamed: the record is gone" no-record "$(status eth0)"
ip -n "$ns" link set eth9 down
ip -n "$ns" link set eth9 name eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" route replace 198.51.100.0/24 dev eth0
ip -n "$ns" route replace 203.0.113.0/24 dev eth0
ip -n "$ns" route replace 198.18.0.0/15 dev eth0
ip -n "$ns" -6 route replace 2001:db8::/32 dev eth0
check_tcp "renamed back: someone else -> web:22 connects" connected other "$web" 22

# ---- a live attachment still blocks a load that drops its instance
lab_attach web nic i-web1 || exit 1
drop=$LAB_TMP/drop.yaml
awk '/^  i-web1:/ { skip = 1; next } /^  [^ ]/ { skip = 0 } !skip' "$good" >"$drop"
err=$(sgc load "$drop" 2>&1 >/dev/null)
expect "live record: a load dropping i-web1 exits 1" 1 $?
expect "live record: it says detach it first" yes \
	"$(grep -q 'i-web1 is attached to eth0.*detach it first' <<<"$err" && echo yes || echo "no: $err")"
check_tcp "live record: still filtered" timeout other "$web" 22
sgc_quiet detach eth0 --netns "$ns"

# ---- a clsact qdisc sgctl did not add stays, with its other filters
tc -n "$ns" qdisc add dev eth0 clsact
# A filter that matches nothing: only its presence matters.
tc -n "$ns" filter add dev eth0 egress pref 7 protocol ip u32 match ip dst 192.0.2.99/32
lab_attach web nic i-web1 || exit 1
sgc_quiet detach eth0 --netns "$ns"
expect "foreign clsact: detach leaves it" clsact "$(clsact eth0)"
expect "foreign clsact: detach leaves its other filter" yes \
	"$(tc -n "$ns" filter show dev eth0 egress | grep -q 'pref 7 u32' && echo yes || echo no)"
tc -n "$ns" filter del dev eth0 egress pref 7
lab_attach web nic i-web1 || exit 1
sgc_quiet unload
expect "foreign clsact: unload leaves it (even empty)" clsact "$(clsact eth0)"
expect "foreign clsact: unload removes our programs" none "$(progs eth0)"
tc -n "$ns" qdisc del dev eth0 clsact

lab_finish
