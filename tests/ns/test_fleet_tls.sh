#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# etcd over TLS with client certificates (--client-cert-auth; docs/fleet.md
# shows how the certificates are made): an agent or a status without a
# valid client certificate fails with a clear error and changes nothing;
# with one, it applies.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=tests/ns/lib_fleet.sh
. "$here/lib_fleet.sh"
lab_init test_fleet_tls
fleet_require
lab_require_sgctl
fleet_init
lab_up me web || exit 1
start_tcp_server web 22
web=$(ip4 web)
P=$FLEET_PFX

fleet_etcd_start tls || { expect "etcd (TLS) starts" ok failed; lab_finish; }
T=$FLEET_TLS_DIR
fleet_put "${P}groups/sg-web" '{"inbound":[{"type":"ssh","source":"203.0.113.10/32"}]}' >/dev/null
r0=$(fleet_put "${P}instances/i-web1" "{\"ips\":[\"$web\"],\"security_groups\":[\"sg-web\"],\"host\":\"hostA\",\"interface\":\"eth0\",\"netns\":\"$(nsname web)\"}")
[ -n "$r0" ] && v=yes || v=no
expect "etcdctl with the client certificate writes" yes "$v"

# agent_try NAME ARGS...: a short run; exit status in rc, messages in err.
agent_try() {
	local name=$1
	shift
	err=$(timeout 20 "$SGCTL" agent --etcd "$FLEET_URL" --host hostA \
		--vpc "$FLEET_VPC" --pin-dir "$LAB_PIN" "$@" 2>&1 >/dev/null)
	rc=$?
	echo "+ agent $name: exit $rc: $err" >>"$LAB_TMP/sgctl.log"
}

agent_try no-cert --cacert "$T/ca.crt"
expect "agent without a client certificate exits 1" 1 "$rc"
grep -qi "certificate" <<<"$err" && v=yes || v="no: $err"
expect "agent without a client certificate: the error says certificate" yes "$v"
[ -e "$LAB_PIN" ] && v=created || v=none
expect "agent without a client certificate: no state created" none "$v"
expect "agent without a client certificate: nothing attached" none "$(xdp_on web nic)"

agent_try rogue-cert --cacert "$T/ca.crt" --cert "$T/rogue.crt" --key "$T/rogue.key"
expect "agent with a certificate of another CA exits 1" 1 "$rc"
grep -qi "certificate" <<<"$err" && v=yes || v="no: $err"
expect "agent with a certificate of another CA: the error says certificate" yes "$v"
[ -e "$LAB_PIN" ] && v=created || v=none
expect "agent with a certificate of another CA: no state created" none "$v"

agent_try wrong-ca --cacert "$T/rogue-ca.crt" --cert "$T/client.crt" --key "$T/client.key"
expect "agent that does not trust the server's CA exits 1" 1 "$rc"
[ -n "$err" ] && v=yes || v=no
expect "agent that does not trust the server: says why" yes "$v"

out=$(timeout 10 "$SGCTL" status --etcd "$FLEET_URL" --vpc "$FLEET_VPC" --cacert "$T/ca.crt" 2>&1)
expect "status without a client certificate exits 1" 1 $?
grep -q "etcd at $FLEET_URL" <<<"$out" && v=yes || v="no: $out"
expect "status without a client certificate: the error names etcd" yes "$v"

fleet_agent_start a hostA "$LAB_PIN" --cacert "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key"
fleet_wait_rev a "$r0" && ok=ok || ok=timeout
expect "agent with a valid client certificate applies $r0" ok "$ok"
[ "$ok" = ok ] || fleet_agent_log a
expect "agent with a valid client certificate attaches" xdp "$(xdp_on web nic)"
check_tcp "me -> web:22 connects" connected me "$web" 22
show1=$(sgc show -j)

# A second agent on the same state with a bad certificate changes nothing.
agent_try rogue-again --cacert "$T/ca.crt" --cert "$T/rogue.crt" --key "$T/rogue.key"
expect "bad agent on a running state exits 1" 1 "$rc"
expect "bad agent on a running state: show -j unchanged" "$show1" "$(sgc show -j)"
check_tcp "bad agent: me -> web:22 still connects" connected me "$web" 22

st=$(timeout 10 "$SGCTL" status --etcd "$FLEET_URL" --vpc "$FLEET_VPC" --cacert "$T/ca.crt" \
	--cert "$T/client.crt" --key "$T/client.key" -j)
h=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print([x["revision"] for x in d["hosts"] if x["host"]=="hostA"])' <<<"$st" 2>&1)
expect "status with a valid certificate: hostA at $r0" "[$r0]" "$h"

lab_finish
