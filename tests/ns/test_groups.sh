#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Several groups on one instance (the union of their rules applies) and one
# group on several instances, in NIC and host-side mode.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_groups
lab_up me other web web2 || exit 1
for p in 22 80 443; do start_tcp_server web $p; done
for p in 22 80; do start_tcp_server web2 $p; done
web=$(ip4 web) web2=$(ip4 web2)

check_tcp "baseline: other -> web2:22 without sgctl" connected other "$web2" 22
lab_require_sgctl

for mode in $LAB_MODES; do
	lab_load "$here/groups.yaml" "$mode: load groups.yaml" || break
	lab_attach web "$mode" i-web1 || continue
	lab_attach web2 "$mode" i-web2 || continue
	# i-web1 carries sg-web and sg-ssh.
	check_tcp "$mode: union: my computer -> web:22 (sg-ssh)" connected me "$web" 22
	check_tcp "$mode: union: someone else -> web:80 (sg-web)" connected other "$web" 80
	check_tcp "$mode: union: someone else -> web:443 (sg-web, its /24)" connected other "$web" 443
	check_tcp "$mode: union: someone else -> web:22 (neither group)" timeout other "$web" 22
	check_tcp "$mode: union: my computer -> web:443 (neither group)" timeout me "$web" 443
	# i-web2 carries sg-ssh only.
	check_tcp "$mode: shared sg-ssh: my computer -> web2:22" connected me "$web2" 22
	check_tcp "$mode: shared sg-ssh: someone else -> web2:22" timeout other "$web2" 22
	check_tcp "$mode: web2 lacks sg-web: someone else -> web2:80" timeout other "$web2" 80
	lab_detach web "$mode"
	lab_detach web2 "$mode"
done
lab_finish
