#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Stateful enforcement: an instance with `outbound: []` still answers (TCP
# and UDP replies flow back) but cannot start anything; a tracked flow
# survives the removal of the rule that let it in while new flows time out;
# an untracked flow (0.0.0.0/0 rule, all-open egress) stops at once.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_stateful
lab_up me other web db || exit 1
start_tcp_server db 5432
start_udp_echo db 5353
start_tcp_server web 7000
start_tcp_server web 7001
start_tcp_server other 80
web=$(ip4 web) db=$(ip4 db)

check_tcp "baseline: db -> other:80 without sgctl" connected db "$(ip4 other)" 80
lab_require_sgctl

n=0
for mode in $LAB_MODES; do
	n=$((n + 1))
	lab_load "$here/stateful.yaml" "$mode: load stateful.yaml" || break
	lab_attach db "$mode" i-db1 || continue
	lab_attach web "$mode" i-web1 || continue

	check_tcp "$mode: outbound []: db answers TCP (web -> db:5432)" connected web "$db" 5432
	check_udp "$mode: outbound []: db answers UDP (web -> db:5353)" reply web "$db" 5353
	check_tcp "$mode: outbound []: db -> other:80 cannot start" timeout db "$(ip4 other)" 80
	check_ping "$mode: outbound []: db -> other ping cannot start" timeout db "$(ip4 other)"

	expect "$mode: tracked session me -> web:7000 opens" open "$(session_open "t$n" me "$web" 7000)"
	expect "$mode: tracked session exchanges data" ok "$(session_send "t$n")"
	expect "$mode: untracked session other -> web:7001 opens" open "$(session_open "u$n" other "$web" 7001)"
	expect "$mode: untracked session exchanges data" ok "$(session_send "u$n")"

	lab_load "$here/stateful-v2.yaml" "$mode: load stateful-v2.yaml (7000, 7001 removed)" || continue
	expect "$mode: tracked session survives the rule's removal" ok "$(session_send "t$n")"
	check_tcp "$mode: new connection me -> web:7000 times out" timeout me "$web" 7000
	expect "$mode: untracked session stops at once" timeout "$(session_send "u$n")"
	session_close "t$n"
	session_close "u$n"
	lab_detach db "$mode"
	lab_detach web "$mode"
done
lab_finish
