#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# attach --all honours the instance keys host, interface, netns and
# host_side: each instance of this host is attached where it says, in the
# mode it says; an instance of another host is not attached here.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_fleet_attach_all
lab_require_sgctl
lab_up me other web web2 db || exit 1
start_tcp_server web 22
start_tcp_server db 5432
me=$(hostname)
cfg=$LAB_TMP/placed.yaml
cat >"$cfg" <<EOF2
security_groups:
  sg-web: { inbound: [ { type: ssh, source: $(ip4 me)/32 } ] }
  sg-db: { inbound: [ { type: postgresql, source: $(ip4 me)/32 } ] }
instances:
  i-web1: { ips: [$(ip4 web)], security_groups: [sg-web], host: $me, interface: eth0, netns: $(nsname web) }
  i-web2: { ips: [$(ip4 web2)], security_groups: [sg-web], host: not-$me, interface: eth0, netns: $(nsname web2) }
  i-db1: { ips: [$(ip4 db)], security_groups: [sg-db], interface: v-db, netns: $LAB_HV, host_side: true }
EOF2
lab_load "$cfg" "load a config with placement keys"
sgc_quiet attach --all
expect "attach --all exits 0" 0 $?
expect "i-web1 (this host): attached in its netns (nic)" xdp "$(xdp_on web nic)"
expect "i-web2 (another host): not attached" none "$(xdp_on web2 nic)"
expect "i-web2 (another host): not attached host-side either" none "$(xdp_on web2 host)"
expect "i-db1 (no host): attached host-side on the hypervisor end" xdp "$(xdp_on db host)"
mode=$(sgc show -j | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted((a["instance"], a["mode"]) for a in d["attachments"]))' 2>&1)
expect "show: i-db1 host-side, i-web1 nic" "[('i-db1', 'host-side'), ('i-web1', 'nic')]" "$mode"
check_tcp "me -> web:22 connects" connected me "$(ip4 web)" 22
check_tcp "other -> web:22 times out" timeout other "$(ip4 web)" 22
check_tcp "other -> db:5432 times out (host-side inbound)" timeout other "$(ip4 db)" 5432
check_tcp "me -> db:5432 connects" connected me "$(ip4 db)" 5432
lab_finish
