#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# State that tells the truth (issue 16, docs: the apply protocol). What sgctl
# says about its state must match what the kernel enforces, checked with
# real connections from someone else's computer to web (198.18.1.10):
#   1  one lock per state whatever the spelling of --pin-dir: racing loads
#      through /x, //x and /./x end with exactly one config enforced,
#      `show` naming it and `check` agreeing;
#   4  attachments checked against the kernel: programs removed by hand
#      (`show` says lost); an interface renamed, moved to another
#      namespace, left in a deleted (but alive) namespace, an attach killed
#      before its record, a removed pin dir (`show` says stale, and
#      `detach`/`unload` never say "detached" while a program stays, and
#      leave none behind);
#   5  a missing pin is "state damaged", never re-created;
#   6  two states on one interface: the second is refused, the first keeps
#      filtering;
#   7  a deleted and re-created interface is a stale record that never
#      blocks a load;
#   8  --pin-dir on someone else's bpffs mount, a non-empty directory, a
#      symlink;
#   9  validate refuses what load cannot apply twice, naming the limit;
#  10  flowlog --follow across reloads;
#  and `attach ""`/`detach ""` are usage errors.
# Configs: state-a.yaml, state-b.yaml, state-c.yaml allow tcp/7000, 7001,
# 7002 respectively (one port apart). SGT_CASES="1 5" runs some cases.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export SGCTL_PIN_DIR=/sys/fs/bpf/sgt-truth-$$
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_state_truth
lab_require_sgctl
for t in strace bpftool nsenter tc; do
	if ! command -v $t >/dev/null; then
		echo "SKIP test_state_truth: $t not installed"
		exit 0
	fi
done
CASES=${SGT_CASES:-1 4 5 6 7 8 9 10 minor}
A=$here/state-a.yaml B=$here/state-b.yaml C=$here/state-c.yaml
PIN=$LAB_PIN
PIN2=/sys/fs/bpf/sgt-truth2-$$
WEB_IP=$(ip4 web)
OTHER_IP=$(ip4 other)
WEB= # the lab host playing web now (each case may build a fresh one)
DEAD_PIDS=() # processes keeping a deleted namespace alive

# truth_down: the EXIT trap. Our extra state, mounts and namespaces first,
# then the lab's own cleanup.
truth_down() {
	local rc=$? p m
	trap - EXIT
	timeout 20 "$SGCTL" unload --pin-dir "$PIN2" >/dev/null 2>&1
	for p in "${DEAD_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ -n "$LAB_TMP" ]; then
		# Mounts below our temp dir, deepest first.
		awk -v t="$LAB_TMP" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo |
			sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	fi
	rm -rf "$PIN2" /sys/fs/bpf/sgt-truth-mnt-$$
	(exit "$rc")
	lab_down
}
trap truth_down EXIT

# ---- helpers ---------------------------------------------------------------

# sgp PIN ARGS...: sgctl on another pin dir (or spelling), logged as sgc.
sgp() {
	local pin=$1 rc
	shift
	echo "+ sgctl $* --pin-dir $pin" >>"$LAB_TMP/sgctl.log"
	timeout 30 "$SGCTL" "$@" --pin-dir "$pin" 2> >(tee -a "$LAB_TMP/sgctl.log" >&2)
	rc=$?
	echo "  exit $rc" >>"$LAB_TMP/sgctl.log"
	return $rc
}

# run_to NAME ARGS...: sgctl on this run's pin dir, stdout and stderr to
# $LAB_TMP/NAME.out/.err; returns the exit status.
run_to() {
	local n=$1
	shift
	sgc "$@" >"$LAB_TMP/$n.out" 2>"$LAB_TMP/$n.err"
}

# has FILE TEXT: yes when FILE contains TEXT, else the first lines of FILE.
has() {
	if grep -qF -- "$2" "$1" 2>/dev/null; then
		echo yes
	else
		echo "no: $(head -c 200 "$1" 2>/dev/null | tr '\n' ' ')"
	fi
}

# host_addr NS DEV: web's addresses and the lab routes on DEV in NS.
host_addr() {
	local ns=$1 dev=$2 r
	ip -n "$ns" link set "$dev" up
	ip -n "$ns" addr replace "$WEB_IP/32" dev "$dev"
	ip -n "$ns" addr replace "$(ip6 web)/128" dev "$dev" nodad
	for r in 203.0.113.0/24 198.51.100.0/24 198.18.0.0/15; do
		ip -n "$ns" route replace "$r" dev "$dev"
	done
	ip -n "$ns" -6 route replace 2001:db8::/32 dev "$dev"
}

# host_del HOST: a lab host and its processes, gone.
host_del() {
	local ns p
	ns=$(nsname "$1")
	for p in $(ip netns pids "$ns" 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
	ip -n "$LAB_HV" link del "v-$1" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
}

servers() { # NS: echo servers on 7000-7002 inside namespace NS (full name)
	local p
	for p in 7000 7001 7002; do
		ip netns exec "$1" "$LAB_PY" -c "$_LAB_TCP_SERVER" "$p" >/dev/null 2>&1 &
		LAB_PIDS+=($!)
	done
	for p in 7000 7001 7002; do
		_lab_wait_listen "$1" t "$p" || return 1
	done
}

# web_up HOST: a fresh lab host with web's addresses and servers on
# 7000-7002; the previous one goes (a case may have broken it).
web_up() {
	[ -n "$WEB" ] && host_del "$WEB"
	LAB_IP4[$1]=$WEB_IP
	LAB_IP6[$1]=$(ip6 web)
	lab_add_host "$1" || return 1
	WEB=$1
	servers "$(nsname "$1")" || return 1
	ip -n "$(nsname other)" neigh flush all 2>/dev/null
	ip -n "$(nsname other)" -6 neigh flush all 2>/dev/null
	return 0
}

# verdict: what someone else's computer gets from web now, judged by real
# connections to 7000, 7001 and 7002 (in parallel): a, b or c when only
# that config's port connects, open when all do, none when none does,
# else the list.
verdict() {
	local p r open="" d=$LAB_TMP/verdict pids=()
	mkdir -p "$d"
	for p in 7000 7001 7002; do
		probe_tcp other "$WEB_IP" "$p" 1 >"$d/$p" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for p in 7000 7001 7002; do
		r=$(cat "$d/$p")
		case $r in
		connected) open="$open $p" ;;
		timeout) ;;
		*) open="$open $p:$r" ;;
		esac
	done
	case $open in
	" 7000") echo a ;;
	" 7001") echo b ;;
	" 7002") echo c ;;
	" 7000 7001 7002") echo open ;;
	"") echo none ;;
	*) echo "mixed($open )" ;;
	esac
}

# shown [PIN]: the config `show -j` names, by sg-web's inbound port (a, b,
# c), or none / error.
# shellcheck disable=SC2120 # the argument is optional
shown() {
	sgp "${1:-$PIN}" show -j 2>/dev/null | "$LAB_PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("error"); sys.exit()
if not d.get("loaded"):
    print("none"); sys.exit()
names = {7000: "a", 7001: "b", 7002: "c"}
for g in d.get("groups", []):
    if g.get("id") == "sg-web":
        ports = [r.get("port_from") for r in g.get("rules", []) if r.get("direction") == "inbound"]
        print(",".join(names.get(p, str(p)) for p in ports)); sys.exit()
print("no-sg-web")'
}

# att_status IFNAME [PIN]: the status of the attachment record of IFNAME in
# `show -j`: ok / stale / lost, "no-status" for a record without one,
# "no-record" when there is none.
att_status() {
	sgp "${2:-$PIN}" show -j 2>/dev/null | "$LAB_PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    print("error"); sys.exit()
for a in d.get("attachments", []):
    if a.get("interface") == sys.argv[1]:
        print(a.get("status", "no-status")); sys.exit()
print("no-record")' "$1"
}

# progs_on NETNS_PATH DEV: BPF programs on DEV (XDP, tc egress, anything
# bpftool sees), "none" when there is none, "no-dev" without DEV.
progs_on() {
	local ns=$1 dev=$2 out=""
	if ! nsenter --net="$ns" ip link show dev "$dev" >/dev/null 2>&1; then
		echo no-dev
		return
	fi
	out+=$(nsenter --net="$ns" ip -d link show dev "$dev" 2>/dev/null |
		grep -o 'prog/xdp id [0-9]*' | sed 's/prog.xdp id /xdp:/')
	out+=" "$(nsenter --net="$ns" tc filter show dev "$dev" egress 2>/dev/null |
		grep -o ' bpf .* id [0-9]*' | sed 's/.* id /tc:/' | tr '\n' ' ')
	out+=" "$(nsenter --net="$ns" bpftool net show dev "$dev" 2>/dev/null |
		grep -o 'id [0-9]*' | sed 's/id /net:/' | tr '\n' ' ')
	out=$(tr -s ' ' <<<"$out" | sed 's/^ //; s/ $//')
	echo "${out:-none}"
}

nspath() { echo "/run/netns/$(nsname "$1")"; }

# attach_web [PIN]: i-web1 on web's eth0, nic mode.
# shellcheck disable=SC2120 # the argument is optional
attach_web() {
	sgp "${1:-$PIN}" attach eth0 --netns "$(nsname "$WEB")" --instance i-web1 \
		>>"$LAB_TMP/sgctl.log" 2>&1
}

# fresh CASE: a fresh web host and state-a.yaml loaded and attached to it.
fresh() {
	sgc_quiet unload
	web_up "$1" || return 1
	sgc_quiet load "$A" || { expect "$1: load state-a.yaml" ok failed; return 1; }
	attach_web || { expect "$1: attach i-web1" ok failed; lab_log_tail 4; return 1; }
	local v
	v=$(verdict)
	[ "$v" = a ] || { expect "$1: lab: state-a.yaml enforced after attach" a "$v"; return 1; }
}

# no_claim OUTFILE PROGS: "ok" unless OUTFILE says an interface was
# detached while PROGS (of progs_on) shows a program still there.
no_claim() {
	if [ "$2" != none ] && [ "$2" != no-dev ] &&
		grep -Eq '(^|[^a-z])detached ([1-9]|eth)|"detached": *(true|[1-9])' "$1"; then
		echo "claims detached while $2 stays: $(head -c 120 "$1" | tr '\n' ' ')"
	else
		echo ok
	fi
}

# ---- lab -----------------------------------------------------------------

lab_up other web2 || exit 1
web_up w0 || exit 1
expect "lab: someone else reaches web 7000-7002 without sgctl" open "$(verdict)"

# ---- 1: one lock per state ---------------------------------------------------

case_1() {
	local rounds=${SGT_RACE_ROUNDS:-16} r sp v s bad="" n_ok=0 cbad="" ra rb p q rc want
	local spell=("/sys/fs/bpf//sgt-truth-$$" "/sys/fs/bpf/./sgt-truth-$$")
	fresh w1 || return
	for r in $(seq "$rounds"); do
		sp=${spell[$((r % 2))]}
		sgc_quiet load "$C"
		# Both at once, through two spellings of one pin dir.
		sgp "$PIN" load "$A" >/dev/null 2>&1 &
		ra=$!
		sgp "$sp" load "$B" >/dev/null 2>&1 &
		rb=$!
		wait "$ra"
		ra=$?
		wait "$rb"
		rb=$?
		v=$(verdict)
		s=$(shown)
		if [ "$ra$rb" != 00 ] || { [ "$v" != a ] && [ "$v" != b ]; } || [ "$v" != "$s" ]; then
			bad="$bad [round $r via $sp: exits $ra/$rb, enforced $v, show $s]"
		else
			n_ok=$((n_ok + 1))
		fi
		# check agrees with the kernel: exit 0, ACCEPT on the enforced port.
		for p in 7000 7001; do
			q=$(sgc check --instance i-web1 --inbound --protocol tcp \
				--remote "$OTHER_IP" --port "$p" 2>"$LAB_TMP/check.err")
			rc=$?
			want=REJECT
			{ [ "$v$p" = a7000 ] || [ "$v$p" = b7001 ]; } && want=ACCEPT
			if [ "$rc" -ne 0 ] || [ "${q%% *}" != "$want" ]; then
				cbad="$cbad [round $r port $p: exit $rc, ${q%% *} (want $want) $(head -c 80 "$LAB_TMP/check.err")]"
			fi
		done
	done
	expect "1 spellings: $rounds racing loads (a via /x, b via //x or /./x) each end with one config enforced and named by show" \
		"" "$bad"
	expect "1 spellings: check exits 0 and agrees with the traffic after every race" "" "$cbad"
}

# ---- 4: detached while attached ---------------------------------------------

# after_unload CASE NETNS_PATH DEV: unload, then the program must be gone
# from DEV and someone else reaches web again.
after_unload() {
	local p
	run_to unload unload
	p=$(progs_on "$2" "$3")
	expect "$1: unload never says detached while a program stays" ok "$(no_claim "$LAB_TMP/unload.out" "$p")"
	expect "$1: after unload no program on the interface" none "$p"
	expect "$1: after unload someone else reaches web on every port" open "$(verdict)"
}

case_4_rename() {
	local ns p
	fresh w4a || return
	ns=$(nsname "$WEB")
	ip -n "$ns" link set eth0 down
	ip -n "$ns" link set eth0 name eth9
	host_addr "$ns" eth9
	expect "4 rename: lab: renamed interface still filtered" a "$(verdict)"
	expect "4 rename: show says stale" stale "$(att_status eth0)"
	run_to det detach eth0 --netns "$ns"
	p=$(progs_on "$(nspath "$WEB")" eth9)
	expect "4 rename: detach by the old name never says detached while a program stays" ok \
		"$(no_claim "$LAB_TMP/det.out" "$p")"
	after_unload "4 rename" "$(nspath "$WEB")" eth9
}

case_4_moved() {
	local ns mv
	fresh w4b || return
	ns=$(nsname "$WEB")
	mv=$(nsname w4b-mv)
	ip netns add "$mv" || return
	LAB_HOSTS+=(w4b-mv)
	ip -n "$mv" link set lo up
	ip -n "$ns" link set eth0 netns "$mv"
	host_addr "$mv" eth0
	servers "$mv"
	ip -n "$(nsname other)" neigh flush all
	expect "4 moved: lab: moved interface still filtered" a "$(verdict)"
	expect "4 moved: show says stale" stale "$(att_status eth0)"
	run_to det detach eth0 --netns "$ns"
	expect "4 moved: detach in the old namespace never says detached while a program stays" ok \
		"$(no_claim "$LAB_TMP/det.out" "$(progs_on "/run/netns/$mv" eth0)")"
	after_unload "4 moved" "/run/netns/$mv" eth0
	host_del w4b-mv
}

case_4_nsdel() {
	local ns pids p path
	fresh w4c || return
	ns=$(nsname "$WEB")
	ip netns exec "$ns" sleep 300 &
	DEAD_PIDS+=($!)
	read -r -a pids <<<"$(ip netns pids "$ns" | tr '\n' ' ')"
	DEAD_PIDS+=("${pids[@]}")
	path=/proc/$!/ns/net
	sleep 0.2
	ip netns del "$ns"
	[ -e "$path" ] || { expect "4 netns deleted: lab: namespace kept alive" yes no; return; }
	expect "4 netns deleted: lab: interface in the deleted namespace still filtered" a "$(verdict)"
	expect "4 netns deleted: show says stale" stale "$(att_status eth0)"
	run_to det detach eth0 --netns "$ns"
	expect "4 netns deleted: detach never says detached while a program stays" ok \
		"$(no_claim "$LAB_TMP/det.out" "$(progs_on "$path" eth0)")"
	after_unload "4 netns deleted" "$path" eth0
	for p in "${DEAD_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	ip -n "$LAB_HV" link del "v-$WEB" 2>/dev/null
	WEB=
}

# kill_attach N: sgctl attach of i-web1 on web's eth0, killed at its bpf()
# call N (the shell's "Killed" report silenced).
kill_attach() {
	{ timeout 30 strace -f -qq -o /dev/null -e trace=bpf -e "inject=bpf:signal=KILL:when=$1" \
		"$SGCTL" attach eth0 --netns "$(nsname "$WEB")" --instance i-web1 \
		--pin-dir "$PIN" >/dev/null 2>&1; } 2>/dev/null
}

case_4_killed() {
	local ns n trace
	fresh w4d || return
	ns=$(nsname "$WEB")
	sgc_quiet detach eth0 --netns "$ns"
	# Where the record is written: the first bpf() map update after the
	# last netlink message (the XDP and tc attach).
	trace=$LAB_TMP/attach.strace
	timeout 30 strace -f -qq -o "$trace" -e trace=bpf,sendto,sendmsg \
		"$SGCTL" attach eth0 --netns "$ns" --instance i-web1 --pin-dir "$PIN" >/dev/null 2>&1
	sgc_quiet detach eth0 --netns "$ns"
	n=$(awk '
		/ bpf\(/ { nb++ }
		/ (sendto|sendmsg)\(/ { last = nb; seen = 1 }
		/ bpf\(BPF_MAP_UPDATE_ELEM/ { upd[nb] = 1 }
		END { if (seen) for (i = last + 1; i <= nb; i++) if (upd[i]) { print i; exit } }' "$trace")
	if [ -z "$n" ]; then
		echo "SKIP 4 attach killed before its record: no map update after the netlink attach in the trace"
		return
	fi
	kill_attach "$n"
	if [ "$(progs_on "$(nspath "$WEB")" eth0)" = none ]; then
		echo "SKIP 4 attach killed before its record: the kill at bpf call $n came before the attach"
		return
	fi
	expect "4 attach killed before its record: lab: program attached (killed at bpf call $n)" a "$(verdict)"
	run_to det detach eth0 --netns "$ns"
	expect "4 attach killed before its record: detach never says detached while a program stays" ok \
		"$(no_claim "$LAB_TMP/det.out" "$(progs_on "$(nspath "$WEB")" eth0)")"
	sgc_quiet attach eth0 --netns "$ns" --instance i-web1 >/dev/null 2>&1
	sgc_quiet detach eth0 --netns "$ns"
	kill_attach "$n"
	after_unload "4 attach killed before its record" "$(nspath "$WEB")" eth0
}

case_4_pinrm() {
	local ns p rc r
	fresh w4e || return
	ns=$(nsname "$WEB")
	rm -rf "$PIN"
	expect "4 pin dir removed: lab: interface still filtered" a "$(verdict)"
	run_to det detach eth0 --netns "$ns"
	rc=$?
	p=$(progs_on "$(nspath "$WEB")" eth0)
	expect "4 pin dir removed: detach never says detached while a program stays" ok \
		"$(no_claim "$LAB_TMP/det.out" "$p")"
	# The program outlived its state: detach either removes it or fails
	# saying so (naming eth0, not claiming it is "not attached").
	if [ "$p" = none ]; then
		r=ok
	elif [ "$rc" -eq 1 ] && grep -q eth0 "$LAB_TMP/det.err" && ! grep -q 'not attached' "$LAB_TMP/det.err"; then
		r=ok
	else
		r="exit $rc, $p stays: $(head -c 120 "$LAB_TMP/det.err" | tr '\n' ' ')"
	fi
	expect "4 pin dir removed: detach removes the orphaned program or exits 1 saying it is there" ok "$r"
	run_to unload unload
	p=$(progs_on "$(nspath "$WEB")" eth0)
	expect "4 pin dir removed: unload never says detached while a program stays" ok \
		"$(no_claim "$LAB_TMP/unload.out" "$p")"
	if [ "$p" != none ]; then
		# Not ours to judge further: an orphan with no state. Clear it.
		ip -n "$ns" link set eth0 xdp off 2>/dev/null
		ip -n "$ns" link set eth0 xdpgeneric off 2>/dev/null
		tc -n "$ns" qdisc del dev eth0 clsact 2>/dev/null
	fi
}

# lost: the interface is there, our programs were removed behind sgctl's
# back (ip link set xdp off, the clsact qdisc deleted).
case_4_lost() {
	local ns
	fresh w4f || return
	ns=$(nsname "$WEB")
	ip -n "$ns" link set dev eth0 xdp off
	ip -n "$ns" link set dev eth0 xdpgeneric off 2>/dev/null
	tc -n "$ns" qdisc del dev eth0 clsact 2>/dev/null
	expect "4 lost: lab: programs removed by hand, web unfiltered" open "$(verdict)"
	expect "4 lost: show says lost" lost "$(att_status eth0)"
	run_to att attach eth0 --netns "$ns" --instance i-web1
	expect "4 lost: attach again exits 0 and filters" "0 a" "$? $(verdict)"
	expect "4 lost: then show says ok" ok "$(att_status eth0)"
}

case_4() {
	case_4_lost
	case_4_rename
	case_4_moved
	case_4_nsdel
	case_4_killed
	case_4_pinrm
}

# ---- 5: missing pins ---------------------------------------------------------

case_5() {
	local map=sg_rule c want
	fresh w5 || return
	# A policy map the attached programs read; another pinned map if the
	# names changed.
	[ -e "$PIN/$map" ] ||
		map=$(find "$PIN" -maxdepth 1 -name 'sg_*' ! -name sg_meta -printf '%f\n' | sort | head -n 1)
	if [ -z "$map" ] || [ ! -e "$PIN/$map" ]; then
		expect "5 missing pin: lab: a pinned map to remove" yes no
		return
	fi
	rm "$PIN/$map"
	want="state damaged: missing $map; run 'sgctl unload'"
	for c in show stats flowlog "conntrack list" \
		"check --instance i-web1 --inbound --protocol tcp --remote $OTHER_IP --port 7000"; do
		# shellcheck disable=SC2086 # c is a command line
		run_to miss $c
		expect "5 missing pin: ${c%% -*} exits 1 saying: $want" "1 yes" "$? $(has "$LAB_TMP/miss.err" "$want")"
		expect "5 missing pin: ${c%% -*} does not re-create $map" absent \
			"$([ -e "$PIN/$map" ] && echo re-created || echo absent)"
	done
	run_to miss load "$B"
	expect "5 missing pin: load state-b.yaml exits 1 saying: $want" "1 yes" "$? $(has "$LAB_TMP/miss.err" "$want")"
	expect "5 missing pin: load does not re-create $map" absent \
		"$([ -e "$PIN/$map" ] && echo re-created || echo absent)"
	expect "5 missing pin: state-a.yaml still enforced" a "$(verdict)"
	run_to miss unload
	expect "5 missing pin: unload exits 0" 0 $?
	expect "5 missing pin: unload removes the pin dir" gone "$([ -e "$PIN" ] && echo left || echo gone)"
	expect "5 missing pin: after unload no program on web" none "$(progs_on "$(nspath "$WEB")" eth0)"
	expect "5 missing pin: after unload someone else reaches web on every port" open "$(verdict)"
}

# ---- 6: two states on one interface -----------------------------------------

case_6() {
	local ns p0 rc
	fresh w6 || return
	ns=$(nsname "$WEB")
	p0=$(progs_on "$(nspath "$WEB")" eth0)
	sgp "$PIN2" load "$B" >/dev/null 2>&1 || { expect "6 two states: load b into a second pin dir" ok failed; return; }
	sgp "$PIN2" attach eth0 --netns "$ns" --instance i-web1 >"$LAB_TMP/att2.out" 2>"$LAB_TMP/att2.err"
	rc=$?
	expect "6 two states: second state's attach exits 1 saying: attached by another sgctl state" "1 yes" \
		"$rc $(has "$LAB_TMP/att2.err" "attached by another sgctl state")"
	expect "6 two states: the first state's programs stay" "$p0" "$(progs_on "$(nspath "$WEB")" eth0)"
	expect "6 two states: traffic still filtered by the first (state-a.yaml)" a "$(verdict)"
	sgp "$PIN2" detach eth0 --netns "$ns" >/dev/null 2>&1
	expect "6 two states: second state's detach leaves the first's programs" "$p0" \
		"$(progs_on "$(nspath "$WEB")" eth0)"
	sgp "$PIN2" unload >/dev/null 2>&1
	expect "6 two states: second state's unload exits 0" 0 $?
	expect "6 two states: second state's unload leaves the first's programs" "$p0" \
		"$(progs_on "$(nspath "$WEB")" eth0)"
	expect "6 two states: after it, traffic still filtered by state-a.yaml" a "$(verdict)"
	expect "6 two states: the first state's show says ok" ok "$(att_status eth0)"
	sgc_quiet unload
	expect "6 two states: first state's unload removes its programs" none "$(progs_on "$(nspath "$WEB")" eth0)"
	expect "6 two states: unload removes the clsact qdisc sgctl added" none \
		"$(tc -n "$ns" qdisc show dev eth0 | grep -q clsact && echo clsact || echo none)"
	expect "6 two states: after both unloads someone else reaches web" open "$(verdict)"
}

# ---- 7: stale records ----------------------------------------------------------

# recreate_link: web's veth deleted and created again, same names.
recreate_link() {
	local ns
	ns=$(nsname "$WEB")
	ip -n "$LAB_HV" link del "v-$WEB"
	ip -n "$LAB_HV" link add "v-$WEB" type veth peer name eth0 netns "$ns"
	ip -n "$LAB_HV" link set "v-$WEB" master br0
	ip -n "$LAB_HV" link set "v-$WEB" up
	host_addr "$ns" eth0
	ip -n "$(nsname other)" neigh flush all
}

case_7() {
	local ns drop=$LAB_TMP/state-a-drop.yaml rc
	fresh w7 || return
	ns=$(nsname "$WEB")
	recreate_link
	expect "7 stale record: lab: the re-created interface is unfiltered" open "$(verdict)"
	expect "7 stale record: show says stale" stale "$(att_status eth0)"
	run_to det detach eth0 --netns "$ns"
	expect "7 stale record: detach removes the record" no-record "$(att_status eth0)"
	run_to att attach eth0 --netns "$ns" --instance i-web1
	expect "7 stale record: attach again exits 0" 0 $?
	expect "7 stale record: attach again: filtered by state-a.yaml" a "$(verdict)"
	expect "7 stale record: attach again: show says ok" ok "$(att_status eth0)"
	recreate_link
	# state-a.yaml without i-web1.
	awk '/^  i-web1:/ { skip = 1; next } /^  [^ ]/ { skip = 0 } !skip' "$A" >"$drop"
	run_to drop load "$drop"
	rc=$?
	expect "7 stale record: a load dropping the instance exits 0 with a warning naming eth0" "0 yes" \
		"$rc $(has "$LAB_TMP/drop.err" eth0)"
	expect "7 stale record: after it the record is gone" no-record "$(att_status eth0)"
}

# ---- 8: pin dirs that are not sgctl's ------------------------------------------

in_mountinfo() { # PATH: yes when PATH is a mount point
	awk -v p="$1" '$5 == p { f = 1 } END { print f ? "mounted" : "not-mounted" }' /proc/self/mountinfo
}

# foreign_mnt DIR: DIR is a bpffs mount of "another tool", with its map
# pinned as DIR/foreign (made again if a step under test removed them).
foreign_mnt() {
	mkdir -p "$1"
	if [ "$(in_mountinfo "$1")" = not-mounted ]; then
		mount -t bpf bpf "$1" || { expect "8 foreign bpffs: lab: mount -t bpf" ok failed; return 1; }
	fi
	[ -e "$1/foreign" ] && return 0
	bpftool map create "$1/foreign" type array key 4 value 4 entries 1 name foreign ||
		{ expect "8 foreign bpffs: lab: bpftool map create" ok failed; return 1; }
}

case_8() {
	local mnt=$LAB_TMP/bpfmnt plain=$LAB_TMP/plain tgt=$LAB_TMP/target lnk=$LAB_TMP/link rc locks
	sgc_quiet unload
	foreign_mnt "$mnt" || return
	rm -f "$mnt/foreign"

	# (a) the root of someone else's bpffs, empty when sgctl loads; another
	# tool pins a map there afterwards.
	sgp "$mnt" load "$A" >/dev/null 2>&1
	expect "8 foreign bpffs: load into an empty bpffs mount exits 0" 0 $?
	foreign_mnt "$mnt" || return
	sgp "$mnt" unload >/dev/null 2>&1
	expect "8 foreign bpffs: unload exits 0" 0 $?
	expect "8 foreign bpffs: unload leaves the mount" mounted "$(in_mountinfo "$mnt")"
	expect "8 foreign bpffs: unload leaves the foreign pin" yes "$([ -e "$mnt/foreign" ] && echo yes || echo no)"
	expect "8 foreign bpffs: unload removes sgctl's pins" "" "$(find "$mnt" -name 'sg_*' 2>/dev/null | head -n 3)"

	# (b) a new directory on it, next to the foreign pin.
	foreign_mnt "$mnt" || return
	sgp "$mnt/sg" load "$A" >/dev/null 2>&1
	expect "8 foreign bpffs: load into a new directory on it exits 0" 0 $?
	sgp "$mnt/sg" unload >/dev/null 2>&1
	expect "8 foreign bpffs: unload of the directory leaves the mount" mounted "$(in_mountinfo "$mnt")"
	expect "8 foreign bpffs: ... and the foreign pin" yes "$([ -e "$mnt/foreign" ] && echo yes || echo no)"
	expect "8 foreign bpffs: ... and removes the directory" gone "$([ -e "$mnt/sg" ] && echo left || echo gone)"

	# (c) its root while it holds the foreign pin: not empty, not sgctl's.
	foreign_mnt "$mnt" || return
	sgp "$mnt" load "$A" >/dev/null 2>"$LAB_TMP/p8.err"
	expect "8 foreign bpffs: load into its root holding a foreign pin exits 1 saying: not empty" "1 yes" \
		"$? $(has "$LAB_TMP/p8.err" "not empty")"
	expect "8 foreign bpffs: ... the foreign pin stays" yes "$([ -e "$mnt/foreign" ] && echo yes || echo no)"
	expect "8 foreign bpffs: ... no sgctl pin made" "" "$(find "$mnt" -maxdepth 1 -name 'sg_*' | head -n 3 | tr '\n' ' ')"
	sgp "$mnt" unload >/dev/null 2>&1
	[ "$(in_mountinfo "$mnt")" = mounted ] && umount -l "$mnt"

	# (d) an ordinary non-empty directory. Neither it nor (e) may leave a
	# lock file behind (taken before the pin dir was judged).
	locks=$(ls /run/sgctl*.lock 2>/dev/null)
	mkdir -p "$plain"
	echo keep >"$plain/keep.txt"
	sgp "$plain" load "$A" >/dev/null 2>"$LAB_TMP/p8.err"
	rc=$?
	expect "8 non-empty directory: load exits 1 saying: not empty" "1 yes" "$rc $(has "$LAB_TMP/p8.err" "not empty")"
	expect "8 non-empty directory: nothing mounted over it" not-mounted "$(in_mountinfo "$plain")"
	expect "8 non-empty directory: its file still visible" keep "$(cat "$plain/keep.txt" 2>&1)"
	[ "$(in_mountinfo "$plain")" = mounted ] && umount -l "$plain"

	# (e) a symlink to an empty directory.
	mkdir -p "$tgt"
	ln -s "$tgt" "$lnk"
	sgp "$lnk" load "$A" >/dev/null 2>"$LAB_TMP/p8.err"
	rc=$?
	expect "8 symlink: load exits 1 saying: symlink" "1 yes" "$rc $(has "$LAB_TMP/p8.err" symlink)"
	expect "8 symlink: nothing mounted at the link or its target" "not-mounted not-mounted" \
		"$(in_mountinfo "$lnk") $(in_mountinfo "$tgt")"
	expect "8 symlink: target left empty" "" "$(find "$tgt" -mindepth 1 -maxdepth 1 -printf '%f ' 2>&1 | head -c 80)"
	[ "$(in_mountinfo "$tgt")" = mounted ] && umount -l "$tgt"
	sgp "$lnk" unload >/dev/null 2>&1
	[ "$(in_mountinfo "$tgt")" = mounted ] && umount -l "$tgt"
	expect "8 refused pin dirs leave no new lock file" "" \
		"$(comm -13 <(echo "$locks") <(ls /run/sgctl*.lock 2>/dev/null) | tr '\n' ' ')"
	# And under /sys/fs/bpf: a symlink there is refused as well.
	mkdir -p /sys/fs/bpf/sgt-truth-mnt-$$
	ln -s /sys/fs/bpf/sgt-truth-mnt-$$ "$PIN2" 2>/dev/null
	sgp "$PIN2" load "$A" >/dev/null 2>"$LAB_TMP/p8.err"
	expect "8 symlink under /sys/fs/bpf: load exits 1 saying: symlink" "1 yes" "$? $(has "$LAB_TMP/p8.err" symlink)"
	rm -f "$PIN2"
	sgp /sys/fs/bpf/sgt-truth-mnt-$$ unload >/dev/null 2>&1
	rm -rf /sys/fs/bpf/sgt-truth-mnt-$$
}

# ---- 9: sizes ----------------------------------------------------------------

case_9() {
	local big=$LAB_TMP/state-big-ips.yaml big2=$LAB_TMP/state-big-ips2.yaml
	local ifs=$LAB_TMP/state-5000-ifs.yaml rc
	# 4,000 instances (each gets a slot, so each address is in sg_ip) of 9
	# addresses: 36,000 instance addresses in 198.19/16.
	"$LAB_PY" - "$big" 7000 <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("vpc: vpc-lab\nsecurity_groups:\n  sg-web:\n    inbound:\n"
            "      - { protocol: tcp, ports: %s, source: sg-web }\ninstances:\n" % sys.argv[2])
    for i in range(4000):
        ips = ", ".join("198.19.%d.%d" % divmod(i * 9 + k, 256) for k in range(9))
        f.write("  i-big%05d:\n    ips: [%s]\n    security_groups: [sg-web]\n" % (i, ips))
EOF
	sed 's/ports: 7000,/ports: 7001,/' "$big" >"$big2"
	timeout 120 "$SGCTL" validate "$big" >"$LAB_TMP/v9.out" 2>"$LAB_TMP/v9.err"
	rc=$?
	if [ "$rc" -eq 1 ]; then
		expect "9 sizes: validate of 36,000 instance addresses names the 32768 limit" yes \
			"$(has "$LAB_TMP/v9.err" 32768)"
	elif [ "$rc" -eq 0 ]; then
		# Bigger maps: then it must load twice, and a one-port variant too.
		sgc_quiet unload
		local r1 r2 r3
		sgc_quiet load "$big"
		r1=$?
		sgc_quiet load "$big2"
		r2=$?
		sgc_quiet load "$big"
		r3=$?
		expect "9 sizes: 36,000 addresses validate, so they load, change and load back" "0 0 0" "$r1 $r2 $r3"
		sgc_quiet unload
	else
		expect "9 sizes: validate of 36,000 instance addresses exits 0 or 1" "0 or 1" "$rc"
	fi
	# 5,000 instances that name an interface: more than the 4096 slots.
	"$LAB_PY" - "$ifs" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("vpc: vpc-lab\nsecurity_groups:\n  sg-web:\n    inbound:\n"
            "      - { protocol: tcp, ports: 7000, source: 198.51.100.0/24 }\ninstances:\n")
    for i in range(5000):
        f.write("  i-if%04d:\n    ips: [198.19.%d.%d]\n    interface: v%04d\n"
                "    security_groups: [sg-web]\n" % ((i,) + divmod(i, 256) + (i,)))
EOF
	timeout 120 "$SGCTL" validate "$ifs" >"$LAB_TMP/v9.out" 2>"$LAB_TMP/v9.err"
	rc=$?
	expect "9 sizes: validate of 5,000 instances with interfaces exits 1 naming the 4096-slot limit" "1 yes" \
		"$rc $(has "$LAB_TMP/v9.err" 4096)"
}

# ---- 10: flowlog --follow ----------------------------------------------------

# fl_wait FILE PORT FROM_LINE: waits (bounded) for a record to PORT after
# line FROM_LINE; prints its interface-id, or none.
fl_wait() {
	local id
	for _ in $(seq 40); do
		id=$(tail -n +"$(($3 + 1))" "$1" 2>/dev/null | awk -v p="$2" '$1 == 2 && $7 == p { print $3; exit }')
		if [ -n "$id" ]; then
			echo "$id"
			return
		fi
		sleep 0.25
	done
	echo none
}

case_10() {
	local ns fl=$LAB_TMP/flowlog.out swap=$LAB_TMP/state-a-swap.yaml pid s1 s9 n r id
	fresh w10 || return
	ns=$(nsname "$WEB")
	timeout 90 "$SGCTL" flowlog --follow --window 1 --pin-dir "$PIN" >"$fl" 2>"$LAB_TMP/flowlog.err" &
	pid=$!
	sleep 1.5
	probe_tcp other "$WEB_IP" 7001 1 >/dev/null
	expect "10 flowlog: lab: the follower reports a REJECT of i-web1" i-web1 "$(fl_wait "$fl" 7001 0)"
	s1=$(sgc show -j | "$LAB_PY" -c 'import json,sys; print([i["slot"] for i in json.load(sys.stdin)["instances"] if i["id"] == "i-web1"][0])')
	# i-web1 becomes i-web9 (same address): its slot is released and reused.
	sed 's/i-web1:/i-web9:/' "$A" >"$swap"
	sgc_quiet detach eth0 --netns "$ns"
	sgc_quiet load "$swap"
	sgc_quiet attach eth0 --netns "$ns" --instance i-web9
	s9=$(sgc show -j | "$LAB_PY" -c 'import json,sys; print([i["slot"] for i in json.load(sys.stdin)["instances"] if i["id"] == "i-web9"][0])')
	expect "10 flowlog: lab: i-web9 reuses i-web1's slot" "$s1" "$s9"
	n=$(wc -l <"$fl")
	probe_tcp other "$WEB_IP" 7002 1 >/dev/null
	expect "10 flowlog: after a reload reusing the slot records name the new instance" i-web9 "$(fl_wait "$fl" 7002 "$n")"

	# unload and load again under the follower.
	sgc_quiet unload
	sgc_quiet load "$A"
	sgc_quiet attach eth0 --netns "$ns" --instance i-web1
	n=$(wc -l <"$fl")
	r=silent
	for _ in 1 2 3; do
		probe_tcp other "$WEB_IP" 7001 1 >/dev/null
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			r="exited $? $(has "$LAB_TMP/flowlog.err" "state removed; exiting")"
			[ "$r" = "exited 1 yes" ] && r=ok
			break
		fi
		id=$(fl_wait "$fl" 7001 "$n")
		if [ "$id" = i-web1 ]; then
			r=ok
			break
		fi
	done
	expect "10 flowlog: across unload/load it follows, or says 'state removed; exiting' and exits 1" ok "$r"
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# ---- minor ---------------------------------------------------------------------

case_minor() {
	sgc_quiet unload
	sgc_quiet load "$A"
	sgc_quiet attach ""
	expect "minor: attach \"\" is a usage error (exit 2)" 2 $?
	sgc_quiet detach ""
	expect "minor: detach \"\" is a usage error (exit 2)" 2 $?
	# An AWS JSON with a NUL in a string: refused without internal names.
	printf '{"SecurityGroups": [{"GroupId": "sg-1\\u0000x", "IpPermissions": []}]}\n' \
		>"$LAB_TMP/nul.json"
	timeout 30 "$SGCTL" validate "$LAB_TMP/nul.json" >/dev/null 2>"$LAB_TMP/nul.err"
	expect "minor: a JSON string with \\u0000 is refused (exit 1) without internal names (JSON_ALLOW_NUL)" \
		"1 no" "$? $(grep -q JSON_ALLOW_NUL "$LAB_TMP/nul.err" && echo yes || echo no)"
	sgc_quiet unload
}

for c in $CASES; do
	"case_$c"
	sgc_quiet unload
	sgp "$PIN2" unload >/dev/null 2>&1
done
lab_finish
