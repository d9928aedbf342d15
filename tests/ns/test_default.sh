#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The default group: instances listing no groups carry sg-default, which
# admits all traffic from its own members and lets everything out; anyone
# else times out.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_default
lab_up me other web web2 db || exit 1
start_tcp_server web 22
start_tcp_server web2 22
start_tcp_server other 80
web=$(ip4 web) web2=$(ip4 web2)

check_tcp "baseline: other -> web:22 without sgctl" connected other "$web" 22
lab_require_sgctl

for mode in $LAB_MODES; do
	lab_load "$here/default.yaml" "$mode: load default.yaml" || break
	lab_attach web "$mode" i-web1 || continue
	lab_attach web2 "$mode" i-web2 || continue
	check_tcp "$mode: default member web -> web2:22" connected web "$web2" 22
	check_tcp "$mode: default member web2 -> web:22" connected web2 "$web" 22
	check_ping "$mode: default member web2 -> web ping" reply web2 "$web"
	check_tcp "$mode: default member web -> web2:22 over IPv6" connected web "$(ip6 web2)" 22
	check_tcp "$mode: default member web -> other:80 (outbound all)" connected web "$(ip4 other)" 80
	check_tcp "$mode: outsider other -> web:22" timeout other "$web" 22
	check_tcp "$mode: db (sg-app, not default) -> web:22" timeout db "$web" 22
	check_tcp "$mode: my computer (sg-app's source) -> web2:22" timeout me "$web2" 22
	lab_detach web "$mode"
	lab_detach web2 "$mode"
done
# docs/semantics.md §2.10: the group is there even though the file does not define it.
if sgc show 2>/dev/null | grep -q 'sg-default'; then shown=yes; else shown=no; fi
expect "show lists sg-default" yes "$shown"
lab_finish
