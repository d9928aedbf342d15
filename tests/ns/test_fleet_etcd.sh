#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Enforcement never stops while the agent or etcd is down (docs/fleet.md,
# "Failure"): a client keeps connecting the whole time and a tracked flow
# survives every applied change. etcd stopped and started on the same data
# dir: the agent keeps the state, retries with backoff, resumes its watch
# and applies what changed after the restart. Both down at once, then both
# back: it converges.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=tests/ns/lib_fleet.sh
. "$here/lib_fleet.sh"
lab_init test_fleet_etcd
fleet_require
lab_require_sgctl
fleet_init
lab_up me other web || exit 1
start_tcp_server web 22
web=$(ip4 web)
P=$FLEET_PFX

fleet_etcd_start || { expect "etcd starts" ok failed; lab_finish; }
fleet_put "${P}vpc" '{"vpc":"vpc-lab"}' >/dev/null
fleet_put "${P}groups/sg-web" '{"inbound":[{"type":"ssh","source":"203.0.113.10/32"},{"type":"ssh","source":"sg-client"}]}' >/dev/null
fleet_put "${P}groups/sg-client" '{}' >/dev/null
fleet_put "${P}groups/sg-other" '{}' >/dev/null
fleet_put "${P}instances/i-other" '{"ips":["198.51.100.20"],"security_groups":["sg-other"]}' >/dev/null
r0=$(fleet_put "${P}instances/i-web1" "{\"ips\":[\"$web\"],\"security_groups\":[\"sg-web\"],\"host\":\"hostA\",\"interface\":\"eth0\",\"netns\":\"$(nsname web)\"}")
fleet_agent_start a hostA "$LAB_PIN"
fleet_wait_rev a "$r0" && ok=ok || ok=timeout
expect "agent applies $r0" ok "$ok"
check_tcp "me -> web:22" connected me "$web" 22
check_tcp "other -> web:22 (not in sg-client)" timeout other "$web" 22

# A client that keeps connecting (new connection every 0.2 s) until told
# to stop; one line per attempt.
read -r -d '' client <<'PY'
import os, socket, sys, time
a, p, stop, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(out, "a", buffering=1) as f:
    while not os.path.exists(stop):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect((a, p)); s.sendall(b"x\n")
            f.write("ok\n" if s.recv(16) == b"x\n" else "garbled\n")
        except OSError as e:
            f.write("fail %s\n" % e)
        s.close()
        time.sleep(0.2)
PY
ns_exec me "$LAB_PY" -c "$client" "$web" 22 "$LAB_TMP/client.stop" "$LAB_TMP/client.log" &
LAB_PIDS+=($!)
expect "tracked session me -> web:22 opens" open "$(session_open s1 me "$web" 22)"

# etcd down: the agent keeps the state and retries.
fleet_etcd_stop
fleet_wait_err a "retrying" && ok=ok || ok=missing
expect "etcd down: agent says it retries" ok "$ok"
sleep 3
fleet_agent_alive a && ok=alive || ok=dead
expect "etcd down: agent keeps running" alive "$ok"
check_tcp "etcd down: me -> web:22 connects" connected me "$web" 22
check_tcp "etcd down: other -> web:22 still times out" timeout other "$web" 22
expect "etcd down: tracked session alive" ok "$(session_send s1)"
expect "etcd down: attachment in place" xdp "$(xdp_on web nic)"

# etcd back on the same data dir: the agent resumes its watch and applies
# what changed after the restart.
fleet_etcd_resume || expect "etcd restarts" ok failed
r1=$(fleet_put "${P}instances/i-other" '{"ips":["198.51.100.20"],"security_groups":["sg-client"]}')
fleet_wait_rev a "$r1" && ok=ok || ok=timeout
expect "etcd back: agent applies the change made after the restart ($r1)" ok "$ok"
[ "$ok" = ok ] || fleet_agent_log a
fleet_wait_err a "answers again" 10 && ok=ok || ok=missing
expect "etcd back: agent says so" ok "$ok"
grep -q "listing again" "$LAB_TMP/agent-a.err" && v=relisted || v=resumed
expect "etcd back: the watch resumed (no re-list)" resumed "$v"
check_tcp "etcd back: other -> web:22 connects" connected other "$web" 22
expect "etcd back: tracked session alive" ok "$(session_send s1)"

# Both down: agent SIGKILLed, then etcd stopped; enforcement stays.
fleet_agent_kill a KILL
fleet_etcd_stop
check_tcp "both down: me -> web:22 connects" connected me "$web" 22
check_tcp "both down: other -> web:22 connects (last applied state)" connected other "$web" 22
expect "both down: tracked session alive" ok "$(session_send s1)"
# Agent back first, etcd later: it waits with backoff, then converges.
fleet_agent_start a hostA "$LAB_PIN"
fleet_wait_err a "retrying" && ok=ok || ok=missing
expect "agent without etcd: says it retries" ok "$ok"
check_tcp "agent without etcd: other -> web:22 still connects" connected other "$web" 22
fleet_etcd_resume || expect "etcd restarts" ok failed
r2=$(fleet_put "${P}instances/i-other" '{"ips":["198.51.100.20"],"security_groups":["sg-other"]}')
fleet_wait_rev a "$r2" && ok=ok || ok=timeout
expect "both back: agent converges to $r2" ok "$ok"
check_tcp "both back: other -> web:22 times out again" timeout other "$web" 22
expect "both back: tracked session survived everything" ok "$(session_send s1)"
session_close s1

touch "$LAB_TMP/client.stop"
sleep 0.5
n=$(grep -c . "$LAB_TMP/client.log")
bad=$(grep -vc '^ok$' "$LAB_TMP/client.log")
[ "$n" -ge 20 ] && v=yes || v="no: $n"
expect "client kept connecting throughout (>= 20 attempts)" yes "$v"
expect "client: no attempt failed" 0 "$bad"
[ "$bad" = 0 ] || grep -v '^ok$' "$LAB_TMP/client.log" | head -n 3 | sed 's/^/    | /'

lab_finish
