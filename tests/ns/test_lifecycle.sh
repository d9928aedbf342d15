#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The command-line contract around a running policy: a bad config changes
# nothing, loading the same file twice is a no-op, detach restores plain
# connectivity, and unload leaves no pins and no programs on interfaces.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_lifecycle
lab_up me other web web2 || exit 1
start_tcp_server web 22
start_tcp_server web2 22
web=$(ip4 web) web2=$(ip4 web2)
good=$here/lifecycle.yaml bad=$here/lifecycle-bad.yaml

check_tcp "baseline: other -> web:22 without sgctl" connected other "$web" 22
lab_require_sgctl

# Exit status: 0 success, 1 error, 2 usage (docs/usage.md "Commands").
sgc_quiet validate "$good"
expect "validate lifecycle.yaml exits 0" 0 $?
err=$(sgc validate "$bad" 2>&1 >/dev/null)
expect "validate lifecycle-bad.yaml exits 1" 1 $?
# docs/usage.md "Errors": errors name the file, line and column (port 70000 is on line 11).
if grep -Eq 'lifecycle-bad\.yaml:11:[0-9]+: InvalidPermission\.Malformed' <<<"$err"; then
	loc=yes
else
	loc="no: $(head -n 1 <<<"$err")"
fi
expect "validate names lifecycle-bad.yaml:11:COL: InvalidPermission.Malformed" yes "$loc"
sgc_quiet frobnicate
expect "unknown command exits 2" 2 $?

n=0
for mode in $LAB_MODES; do
	n=$((n + 1))
	lab_load "$good" "$mode: load lifecycle.yaml" || break
	lab_attach web "$mode" i-web1 || continue
	check_tcp "$mode: my computer -> web:22" connected me "$web" 22
	check_tcp "$mode: someone else -> web:22" timeout other "$web" 22
	expect "$mode: session me -> web:22 opens" open "$(session_open "s$n" me "$web" 22)"
	show1=$(sgc show -j 2>&1)
	net1=$(bpf_net web "$mode")

	# A refused load changes nothing (atomic).
	err=$(sgc load "$bad" 2>&1 >/dev/null)
	expect "$mode: load lifecycle-bad.yaml exits 1" 1 $?
	if grep -q 'lifecycle-bad\.yaml:11:' <<<"$err"; then loc=yes; else loc="no: $(head -n 1 <<<"$err")"; fi
	expect "$mode: load names lifecycle-bad.yaml:11" yes "$loc"
	check_tcp "$mode: after bad load someone else still times out" timeout other "$web" 22
	check_tcp "$mode: after bad load my computer still connects" connected me "$web" 22
	expect "$mode: after bad load show -j unchanged" "$show1" "$(sgc show -j 2>&1)"

	# The same file again: nothing reattached, nothing cut.
	sgc_quiet load "$good"
	expect "$mode: load lifecycle.yaml again exits 0" 0 $?
	expect "$mode: same load: show -j unchanged" "$show1" "$(sgc show -j 2>&1)"
	expect "$mode: same load: programs on the interface unchanged" "$net1" "$(bpf_net web "$mode")"
	expect "$mode: same load: open session still exchanges data" ok "$(session_send "s$n")"
	check_tcp "$mode: same load: someone else still times out" timeout other "$web" 22

	lab_detach web "$mode"
	expect "$mode: detach exits 0" 0 $?
	expect "$mode: detach removes XDP" none "$(xdp_on web "$mode")"
	expect "$mode: detach removes every program" "" "$(bpf_net web "$mode")"
	check_tcp "$mode: after detach someone else connects again" connected other "$web" 22
	session_close "s$n"
done

# unload with one attachment in each mode at once.
lab_load "$good" "unload: load lifecycle.yaml" &&
	lab_attach web nic i-web1 &&
	lab_attach web2 host i-web2 &&
	check_tcp "unload: before, someone else -> web2:22 times out" timeout other "$web2" 22
sgc_quiet unload
expect "unload exits 0" 0 $?
left=$(find "$LAB_PIN" -mindepth 1 2>/dev/null | head -n 3 | tr '\n' ' ')
expect "unload leaves no pins" "" "$left"
expect "unload: no XDP on web's eth0" none "$(xdp_on web nic)"
expect "unload: no XDP on the host end of web2" none "$(xdp_on web2 host)"
expect "unload: no programs on web's eth0" "" "$(bpf_net web nic)"
expect "unload: no programs on the host end of web2" "" "$(bpf_net web2 host)"
check_tcp "unload: someone else -> web:22 connects" connected other "$web" 22
check_tcp "unload: someone else -> web2:22 connects" connected other "$web2" 22
lab_finish
