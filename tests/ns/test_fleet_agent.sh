#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# sgctl agent against a real etcd on loopback (docs/fleet.md): it applies
# the desired state and attaches its host's instance where the instance
# says; a membership change on another "host" lets a client in; show -j
# and status report the applied revision; an invalid value written
# straight into etcd is refused naming its key while the last good state
# keeps enforcing; SIGKILL, edits meanwhile, restart: it converges;
# compaction past its revision: it lists again and deletes what vanished.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=tests/ns/lib_fleet.sh
. "$here/lib_fleet.sh"
lab_init test_fleet_agent
fleet_require
lab_require_sgctl
fleet_init
lab_up me other web || exit 1
start_tcp_server web 22
web=$(ip4 web)
P=$FLEET_PFX

fleet_etcd_start || { expect "etcd starts" ok failed; lab_finish; }

# The desired state, object by object (as sgctl push writes it). i-web1 is
# this agent's (host hostA), nic mode on the web namespace's eth0; i-other
# lives elsewhere and only lends its address to sg-client.
fleet_put "${P}vpc" '{"vpc":"vpc-lab"}' >/dev/null
fleet_put "${P}groups/sg-web" '{"inbound":[{"type":"ssh","source":"203.0.113.10/32"},{"type":"ssh","source":"sg-client"}]}' >/dev/null
fleet_put "${P}groups/sg-client" '{"description":"may reach the web tier"}' >/dev/null
fleet_put "${P}groups/sg-other" '{}' >/dev/null
fleet_put "${P}instances/i-other" '{"ips":["198.51.100.20"],"security_groups":["sg-other"]}' >/dev/null
r0=$(fleet_put "${P}instances/i-web1" "{\"ips\":[\"$web\"],\"security_groups\":[\"sg-web\"],\"host\":\"hostA\",\"interface\":\"eth0\",\"netns\":\"$(nsname web)\"}")

fleet_agent_start a hostA "$LAB_PIN"
fleet_wait_rev a "$r0" && ok=ok || ok=timeout
expect "agent applies the listed revision $r0" ok "$ok"
[ "$ok" = ok ] || fleet_agent_log a
line=$(grep '"revision"' "$LAB_TMP/agent-a.out" | head -n 1)
for k in revision applied_at apply_ms entries_written entries_deleted host; do
	grep -q "\"$k\":" <<<"$line" && v=yes || v="no: $line"
	expect "agent -j line has $k" yes "$v"
done
expect "agent attached i-web1 to eth0 in its netns" xdp "$(xdp_on web nic)"
expect "show -j: revision is the applied one" "$r0" \
	"$(sgc show -j | sed -n 's/^  "revision": \([0-9]*\),$/\1/p')"
check_tcp "me -> web:22 (allowed by CIDR)" connected me "$web" 22
check_tcp "other -> web:22 (not in sg-client yet)" timeout other "$web" 22
expect "session me -> web:22 opens" open "$(session_open s1 me "$web" 22)"

# A membership change on another host: i-other joins sg-client.
r1=$(fleet_put "${P}instances/i-other" '{"ips":["198.51.100.20"],"security_groups":["sg-client"]}')
fleet_wait_rev a "$r1" && ok=ok || ok=timeout
expect "agent applies the membership change ($r1)" ok "$ok"
check_tcp "other -> web:22 once it is in sg-client" connected other "$web" 22
expect "tracked session survives the change" ok "$(session_send s1)"

# status: every host, its revision, lag 0, no error.
st=$(timeout 10 "$SGCTL" status --etcd "$FLEET_URL" --vpc "$FLEET_VPC" -j)
expect "status exits 0" 0 $?
h=$(python3 -c 'import json,sys; d=json.load(sys.stdin); h=[x for x in d["hosts"] if x["host"]=="hostA"][0]; print(h["revision"], h["lag"], h["error"])' <<<"$st" 2>&1)
expect "status: hostA at $r1, lag 0, no error" "$r1 0 None" "$h"

# An invalid value straight into etcd (bypassing push): refused, naming the
# key; the last good state keeps enforcing; the status shows it.
rbad=$(fleet_put "${P}groups/sg-web" '{"inbound":[{"protocol":"tcp","ports":"70000","source":"0.0.0.0/0"}]}')
fleet_wait_err a "${P}groups/sg-web" && ok=ok || ok=missing
expect "invalid value refused, naming ${P}groups/sg-web" ok "$ok"
expect "refused revision is not applied" "$r1" "$(fleet_applied a)"
check_tcp "refused: other -> web:22 still as before" connected other "$web" 22
check_tcp "refused: someone else (me) still allowed" connected me "$web" 22
st=$(timeout 10 "$SGCTL" status --etcd "$FLEET_URL" --vpc "$FLEET_VPC" -j)
h=$(python3 -c 'import json,sys; d=json.load(sys.stdin); h=[x for x in d["hosts"] if x["host"]=="hostA"][0]; print(h["revision"], (h["error"] or {}).get("key"), h["lag"] > 0)' <<<"$st" 2>&1)
expect "status: hostA still at $r1, error names the key, lagging" "$r1 ${P}groups/sg-web True" "$h"
plain=$(timeout 10 "$SGCTL" status --etcd "$FLEET_URL" --vpc "$FLEET_VPC")
grep -q "hostA.*${P}groups/sg-web" <<<"$plain" && v=yes || v="no: $plain"
expect "status (plain) shows the error with its key" yes "$v"
# Malformed JSON: refused too.
fleet_put "${P}groups/sg-client" '{"description": ' >/dev/null
fleet_wait_err a "${P}groups/sg-client" && ok=ok || ok=missing
expect "malformed JSON refused, naming ${P}groups/sg-client" ok "$ok"
fleet_put "${P}groups/sg-client" '{"description":"may reach the web tier"}' >/dev/null
# The next valid revision applies: other is out of sg-web's sources now.
r2=$(fleet_put "${P}groups/sg-web" '{"inbound":[{"type":"ssh","source":"203.0.113.10/32"}]}')
fleet_wait_rev a "$r2" && ok=ok || ok=timeout
expect "next valid revision ($r2) applies" ok "$ok"
check_tcp "after $r2: other -> web:22 times out" timeout other "$web" 22
check_tcp "after $r2: me -> web:22 connects" connected me "$web" 22
expect "tracked session survives every applied change" ok "$(session_send s1)"
st=$(timeout 10 "$SGCTL" status --etcd "$FLEET_URL" --vpc "$FLEET_VPC" -j)
h=$(python3 -c 'import json,sys; d=json.load(sys.stdin); h=[x for x in d["hosts"] if x["host"]=="hostA"][0]; print(h["revision"], h["error"])' <<<"$st" 2>&1)
expect "status: error cleared at $r2" "$r2 None" "$h"
[ -n "$rbad" ] || expect "invalid put gave a revision" yes no

# SIGKILL, edits meanwhile, restart: converges.
fleet_agent_kill a KILL
expect "SIGKILL the agent" 137 "$FLEET_RC"
check_tcp "agent dead: me -> web:22 still connects" connected me "$web" 22
check_tcp "agent dead: other -> web:22 still times out" timeout other "$web" 22
fleet_put "${P}groups/sg-web" '{"inbound":[{"type":"ssh","source":"203.0.113.10/32"},{"type":"ssh","source":"sg-client"}]}' >/dev/null
r3=$(fleet_put "${P}groups/sg-client" '{"description":"edited while the agent was down"}')
fleet_agent_start a hostA "$LAB_PIN"
fleet_wait_rev a "$r3" && ok=ok || ok=timeout
expect "restarted agent converges to $r3" ok "$ok"
check_tcp "after restart: other -> web:22 connects again" connected other "$web" 22
expect "after restart: still attached" xdp "$(xdp_on web nic)"
expect "tracked session survives the restart" ok "$(session_send s1)"

# Compaction past the agent's revision: the agent is frozen (SIGSTOP) while
# etcd restarts, i-other is deleted and the store compacted; thawed, its
# watch resumes from a compacted revision, so it lists again and deletes
# what vanished (i-other: sg-client has no member left).
kill -STOP "${FLEET_AGENT_PID[a]}"
fleet_etcd_stop
fleet_etcd_resume || expect "etcd restarts" ok failed
fleet_del "${P}instances/i-other" >/dev/null
r4=$(fleet_put "${P}groups/sg-other" '{"description":"after the delete"}')
"${FLEET_ETCDCTL[@]}" compact "$r4" >/dev/null 2>&1
expect "etcd compacted to $r4" 0 $?
kill -CONT "${FLEET_AGENT_PID[a]}"
fleet_wait_err a "was compacted" && ok=ok || ok=missing
expect "agent sees the compaction and lists again" ok "$ok"
fleet_wait_rev a "$r4" && ok=ok || ok=timeout
expect "agent after compaction applies $r4" ok "$ok"
[ "$ok" = ok ] || fleet_agent_log a
check_tcp "i-other vanished: other -> web:22 times out" timeout other "$web" 22
n=$(sgc show -j | grep -c '"id": "i-other"')
expect "i-other is gone from the applied state" 0 "$n"
fleet_agent_kill a TERM
expect "SIGTERM the agent: exit 0" 0 "$FLEET_RC"
expect "stopped agent leaves enforcement attached" xdp "$(xdp_on web nic)"
check_tcp "agent stopped: me -> web:22 still connects" connected me "$web" 22
session_close s1

lab_finish
