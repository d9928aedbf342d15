#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# IPv6, ICMP and ICMPv6 echo, UDP (allowed: the echo comes back; denied:
# silence, not an ICMP error) and a prefix list as a source.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_proto
lab_up me other web || exit 1
start_tcp_server web 22
start_tcp_server web 80
start_udp_echo web 9999
web=$(ip4 web) web6=$(ip6 web)

check_ping "baseline: other -> web ping without sgctl" reply other "$web"
check_udp "baseline: other -> web:9999/udp without sgctl" reply other "$web" 9999
lab_require_sgctl

for mode in $LAB_MODES; do
	lab_load "$here/proto.yaml" "$mode: load proto.yaml" || break
	lab_attach web "$mode" i-web1 || continue
	check_tcp "$mode: IPv6 my computer -> web:22" connected me "$web6" 22
	check_tcp "$mode: IPv6 someone else -> web:22" timeout other "$web6" 22
	check_tcp "$mode: IPv6-only rule: someone else -> web:80 over IPv6" connected other "$web6" 80
	check_tcp "$mode: IPv6-only rule: someone else -> web:80 over IPv4" timeout other "$web" 80
	check_ping "$mode: ping from the office prefix list" reply me "$web"
	check_ping "$mode: ping from someone else" timeout other "$web"
	check_ping "$mode: ping6 from the office prefix list" reply me "$web6"
	check_ping "$mode: ping6 from someone else" timeout other "$web6"
	check_udp "$mode: UDP 9999 from the office: echo comes back" reply me "$web" 9999
	check_udp "$mode: UDP 9999 over IPv6 from the office" reply me "$web6" 9999
	check_udp "$mode: UDP 9999 from someone else" timeout other "$web" 9999
	# Not "refused": a blocked datagram never reaches the stack, so no ICMP
	# port unreachable comes back.
	check_udp "$mode: UDP 9998 (no rule, nothing listens) is silent" timeout me "$web" 9998
	lab_detach web "$mode"
done
lab_finish
