#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make demo-fleet`: three hosts, one desired state in etcd, an sgctl agent
# per host (docs/fleet.md).
#   usage: tests/lab/demo-fleet.sh [path/to/sgctl]     (root)
#
# A private etcd on loopback; three "hosts", each an sgctl agent with its
# own pin dir and --host, enforcing its own instance host-side on the
# hypervisor end of that instance's veth:
#   host-a  i-web1  (web namespace)
#   host-b  i-db1   (db namespace): PostgreSQL from members of sg-app only
#   host-c  i-app1  (other namespace), in sg-batch at first
# The desired state is pushed once; then i-app1 joins sg-app on host-c and
# the database on host-b lets it in. Prints the time from the edit's start
# to the last agent's apply. Exits 0 only when every step worked; the lab,
# etcd and the agents are always removed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/ns/lib_fleet.sh
. "$root/tests/ns/lib_fleet.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "demo-fleet: needs root (network namespaces, BPF)" >&2
	exit 1
fi
lab_init demo-fleet "${1:-${SGCTL:-$root/build/sgctl}}"
if [ ! -x "$SGCTL" ]; then
	echo "demo-fleet: sgctl not found at $SGCTL (run make first)" >&2
	exit 1
fi
fleet_require
fleet_init
# Every agent's state under one directory of this run (never /sys/fs/bpf/sgctl).
PINS=/sys/fs/bpf/sgctl-demo-fleet-$$

fail=0
step() { # DESCRIPTION EXPECTED OBSERVED
	if [ "$2" = "$3" ]; then
		printf '  ok    %s\n' "$1"
	else
		printf '  FAIL  %s (expected %s, got %s)\n' "$1" "$2" "$3"
		fail=1
	fi
}

lab_up me other web db || { echo "demo-fleet: could not build the lab" >&2; exit 1; }
start_tcp_server db 5432 && start_tcp_server web 80 ||
	{ echo "demo-fleet: could not start the servers" >&2; exit 1; }
fleet_etcd_start || { echo "demo-fleet: etcd did not start" >&2; exit 1; }
web=$(ip4 web) db=$(ip4 db) app=$(ip4 other)

echo "sgctl demo-fleet: three hosts, one desired state in etcd ($FLEET_URL)"
echo "  host-a: i-web1 $web   host-b: i-db1 $db   host-c: i-app1 $app"
echo

# The desired state: a YAML file, pushed whole when this sgctl has `push`.
cfg=$LAB_TMP/fleet.yaml
cat >"$cfg" <<EOF
vpc: $FLEET_VPC
security_groups:
  sg-web:
    inbound:
      - { type: http, source: 0.0.0.0/0 }
  sg-app:
    description: application servers
  sg-batch:
    description: batch jobs
  sg-db:
    inbound:
      - { type: postgresql, source: sg-app }
instances:
  i-web1: { ips: [$web], security_groups: [sg-web], host: host-a, interface: v-web, netns: $LAB_HV, host_side: true }
  i-db1: { ips: [$db], security_groups: [sg-db], host: host-b, interface: v-db, netns: $LAB_HV, host_side: true }
  i-app1: { ips: [$app], security_groups: [sg-batch], host: host-c, interface: v-other, netns: $LAB_HV, host_side: true }
EOF
P=$FLEET_PFX
inst() { # ID IP HOST IFACE GROUPS-JSON
	printf '{"ips":["%s"],"security_groups":%s,"host":"%s","interface":"%s","netns":"%s","host_side":true}' \
		"$2" "$5" "$3" "$4" "$LAB_HV"
}
if "$SGCTL" push --help >/dev/null 2>&1; then
	echo "  \$ sgctl push fleet.yaml --etcd $FLEET_URL"
	rev=$("$SGCTL" push "$cfg" --etcd "$FLEET_URL" -j 2>>"$LAB_TMP/sgctl.log" |
		sed -n 's/.*"revision": *\([0-9]*\).*/\1/p')
else
	echo "  (this sgctl has no push: the same objects with etcdctl put)"
	fleet_put "${P}vpc" "{\"vpc\":\"$FLEET_VPC\"}" >/dev/null
	fleet_put "${P}groups/sg-web" '{"inbound":[{"type":"http","source":"0.0.0.0/0"}]}' >/dev/null
	fleet_put "${P}groups/sg-app" '{"description":"application servers"}' >/dev/null
	fleet_put "${P}groups/sg-batch" '{"description":"batch jobs"}' >/dev/null
	fleet_put "${P}groups/sg-db" '{"inbound":[{"type":"postgresql","source":"sg-app"}]}' >/dev/null
	fleet_put "${P}instances/i-web1" "$(inst i-web1 "$web" host-a v-web '["sg-web"]')" >/dev/null
	fleet_put "${P}instances/i-db1" "$(inst i-db1 "$db" host-b v-db '["sg-db"]')" >/dev/null
	rev=$(fleet_put "${P}instances/i-app1" "$(inst i-app1 "$app" host-c v-other '["sg-batch"]')")
fi
step "desired state written (revision ${rev:-?})" yes "$([ -n "$rev" ] && echo yes || echo no)"

for h in a b c; do
	fleet_agent_start "$h" "host-$h" "$PINS-$h"
done
all=ok
for h in a b c; do
	fleet_wait_rev "$h" "${rev:-1}" 150 || all="host-$h timed out"
done
step "three agents applied revision $rev" ok "$all"
step "i-db1 is enforced on host-b (XDP on v-db)" xdp "$(xdp_on db host)"
step "app -> db:5432 before: sg-batch is not allowed" timeout "$(probe_tcp other "$db" 5432 1)"
step "app -> web:80 (http open to all)" connected "$(probe_tcp other "$web" 80 2)"

# The edit: i-app1 joins sg-app, made on host-c's side of the world.
echo
t0=$(date +%s.%N)
if "$SGCTL" instance set-groups --help >/dev/null 2>&1 &&
	r1=$(SGCTL_ETCD=$FLEET_URL "$SGCTL" instance set-groups i-app1 sg-app \
		--vpc "$FLEET_VPC" -j 2>>"$LAB_TMP/sgctl.log" |
		sed -n 's/.*"revision": *\([0-9]*\).*/\1/p') && [ -n "$r1" ]; then
	echo "  \$ sgctl instance set-groups i-app1 sg-app --etcd $FLEET_URL"
else
	echo "  \$ etcdctl put ${P}instances/i-app1 '{... \"security_groups\":[\"sg-app\"] ...}'"
	r1=$(fleet_put "${P}instances/i-app1" "$(inst i-app1 "$app" host-c v-other '["sg-app"]')")
fi
all=ok
for h in a b c; do
	fleet_wait_rev "$h" "${r1:-1}" 100 || all="host-$h timed out"
done
step "every agent applied revision ${r1:-?}" ok "$all"
last=0
for h in a b c; do
	t=$(sed -n "s/^{\"revision\":${r1:-x},\"applied_at\":\([0-9.]*\),.*/\1/p" "$LAB_TMP/agent-$h.out" | head -n 1)
	[ -n "$t" ] && last=$(python3 -c "print(max($last, $t))")
done
ms=$(python3 -c "print('%.1f' % (($last - $t0) * 1000))")
step "app -> db:5432 after: host-b lets i-app1 in" connected "$(probe_tcp other "$db" 5432 2)"
echo
echo "  edit start -> enforced on all three hosts: $ms ms"
echo
echo "  \$ sgctl status --etcd $FLEET_URL --vpc $FLEET_VPC"
timeout 10 "$SGCTL" status --etcd "$FLEET_URL" --vpc "$FLEET_VPC" | sed 's/^/    /'
echo
if [ "$fail" = 0 ]; then
	echo "demo-fleet: every step as expected"
else
	echo "demo-fleet: some steps failed (agent logs in the lines above)"
	for h in a b c; do fleet_agent_log "$h" 4; done
fi
[ "$fail" = 0 ]
