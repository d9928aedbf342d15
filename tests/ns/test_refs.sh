#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Group references: sg-db admits members of sg-web. Moving sg-web from i-web1
# to i-web2 with `sgctl load` of an edited config lets the new member in and
# times out the old one, while a flow the old member already had keeps going
# (removing a membership does not cut tracked flows).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_refs
lab_up other web web2 db || exit 1
start_tcp_server db 5432
db=$(ip4 db)

check_tcp "baseline: other -> db:5432 without sgctl" connected other "$db" 5432
lab_require_sgctl

n=0
for mode in $LAB_MODES; do
	n=$((n + 1))
	lab_load "$here/refs.yaml" "$mode: load refs.yaml" || break
	lab_attach db "$mode" i-db1 || continue
	check_tcp "$mode: member web -> db:5432" connected web "$db" 5432
	check_tcp "$mode: member web -> db:5432 over IPv6" connected web "$(ip6 db)" 5432
	check_tcp "$mode: non-member web2 -> db:5432" timeout web2 "$db" 5432
	check_tcp "$mode: outsider other -> db:5432" timeout other "$db" 5432
	expect "$mode: web's session to db opens" open "$(session_open "old$n" web "$db" 5432)"

	lab_load "$here/refs-v2.yaml" "$mode: load refs-v2.yaml (sg-web moves to web2)" || continue
	check_tcp "$mode: new member web2 -> db:5432" connected web2 "$db" 5432
	check_tcp "$mode: new member web2 -> db:5432 over IPv6" connected web2 "$(ip6 db)" 5432
	check_tcp "$mode: removed member web -> db:5432" timeout web "$db" 5432
	expect "$mode: removed member's tracked session keeps going" ok "$(session_send "old$n")"
	session_close "old$n"
	lab_detach db "$mode"
done
lab_finish
