#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The seed notes' cases, in NIC and host-side mode: my computer reaches SSH,
# someone else's computer times out, outbound is allowed by default, and
# "connection refused" means the group let the packet through.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_seed
lab_up me other web || exit 1
start_tcp_server web 22
start_tcp_server other 80
web=$(ip4 web)

# Without sgctl everything connects: later time-outs are the filter's doing.
check_tcp "baseline: other -> web:22 without sgctl" connected other "$web" 22
lab_require_sgctl

for mode in $LAB_MODES; do
	lab_load "$here/seed.yaml" "$mode: load seed.yaml" || break
	lab_attach web "$mode" i-web1 || continue
	expect "$mode: attached (xdp on the interface)" xdp "$(xdp_on web "$mode")"
	check_tcp "$mode: case 1 my computer -> web:22 allowed" connected me "$web" 22
	before=$(tcp_insegs web)
	check_tcp "$mode: case 2 someone else -> web:22 times out" timeout other "$web" 22
	expect "$mode: dropped SYNs never reach the instance's stack" "$before" "$(tcp_insegs web)"
	check_tcp "$mode: case 3 web -> internet:80 (default egress)" connected web "$(ip4 other)" 80
	check_tcp "$mode: case 4 my computer -> web:8080 allowed, nothing listens" refused me "$web" 8080
	check_tcp "$mode: someone else -> web:8080 times out" timeout other "$web" 8080
	lab_detach web "$mode"
done

# The verdict tool agrees (docs/semantics.md §11.3: first word ACCEPT or REJECT, exit 0 for
# either).
verdict() {
	local out rc
	out=$(sgc check --instance i-web1 --inbound --protocol tcp --remote "$1" --port "$2" 2>&1)
	rc=$?
	echo "$(awk '{print $1; exit}' <<<"$out") exit $rc"
}
expect "check: my computer on 22" "ACCEPT exit 0" "$(verdict 203.0.113.10 22)"
expect "check: someone else on 22" "REJECT exit 0" "$(verdict 198.51.100.20 22)"
lab_finish
