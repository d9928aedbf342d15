#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The console's reachability answers (docs/console.md):
#  - GET /api/check gives what `sgctl check -j` gives for the same flow
#    (an allowed one, a denied one, a path by instance ids, a path by two
#    addresses, an instance and an address), and 400 naming the bad
#    parameter otherwise;
#  - GET /api/map has a node per group and instance and an edge for a known
#    rule (and one per membership);
#  - GET /api/hosts: {"source": "local", "hosts": []} on the loaded config;
#    with --etcd, the agents with their applied revision (sgctl status -j).
# Kernel dry runs only (no traffic, no namespaces), but pins are made: run
# it under sg-rootlock like the other ns tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=tests/ns/lib_console.sh
. "$here/lib_console.sh"
# shellcheck source=tests/ns/lib_fleet.sh
. "$here/lib_fleet.sh"
lab_init test_console_check
lab_require_sgctl
console_require

CFG=$LAB_TMP/check.yaml
cat >"$CFG" <<'EOF'
vpc: vpc-lab
security_groups:
  sg-web:
    inbound:
      - { protocol: tcp, ports: 80, source: 0.0.0.0/0 }
      - { protocol: tcp, ports: 22, source: 203.0.113.0/24 }
  sg-db:
    inbound:
      - { protocol: tcp, ports: 5432, source: sg-web, description: from the web tier }
    outbound: []
instances:
  i-web1: { ips: [198.18.1.10, "2001:db8:1::10"], security_groups: [sg-web] }
  i-db1: { ips: [198.18.2.10, "2001:db8:2::10"], security_groups: [sg-db] }
EOF

# same NAME A B: the two JSON documents are equal (as data).
same() {
	local v
	v=$("$LAB_PY" -c 'import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print("equal" if a == b else "differ:\n%s\n%s" % (sys.argv[1], sys.argv[2]))' "$2" "$3" 2>&1)
	expect "$1" equal "$v"
}

# api_check NAME QUERY CHECK-ARGS...: GET /api/check?QUERY is 200 and
# equal to sgctl -j check CHECK-ARGS.
api_check() {
	local name=$1 q=$2 cli
	shift 2
	cli=$(sgc -j check "$@")
	api GET "/api/check?$q"
	expect "$name: 200" 200 "$API_STATUS"
	same "$name: = sgctl check -j" "$cli" "$API_BODY"
}

# api_bad NAME QUERY CODE WORD: 400, the code, a message naming WORD.
api_bad() {
	local v
	api GET "/api/check?$2"
	expect "$1: 400" 400 "$API_STATUS"
	expect "$1: code" "$3" "$(jq_py 'j["code"]' <<<"$API_BODY")"
	v=$(jq_py 'j["error"]' <<<"$API_BODY")
	grep -q -- "$4" <<<"$v" && v=yes || v="no: $API_BODY"
	expect "$1: the message names $4" yes "$v"
}

lab_load "$CFG" "load the config" || lab_finish
console_start || { expect "console starts" ok failed; lab_finish; }

# ---- /api/check = sgctl check -j
api_check "allowed flow (src/dst)" \
	"src=203.0.113.10&dst=198.18.1.10&protocol=tcp&port=22" \
	--instance i-web1 --inbound --protocol tcp --remote 203.0.113.10 --port 22
expect "allowed flow: ACCEPT" ACCEPT "$(jq_py 'j["verdict"]' <<<"$API_BODY")"
expect "allowed flow: kernel and model agree" true "$(jq_py 'j["model_agrees"]' <<<"$API_BODY")"
api_check "denied flow (src/dst)" \
	"src=198.51.100.7&dst=198.18.1.10&protocol=tcp&port=22" \
	--instance i-web1 --inbound --protocol tcp --remote 198.51.100.7 --port 22
expect "denied flow: REJECT" REJECT "$(jq_py 'j["verdict"]' <<<"$API_BODY")"
expect "denied flow: closest rule named" yes \
	"$(jq_py '"yes" if j["closest_rules"] else "no"' <<<"$API_BODY")"
api_check "outbound flow (src is the instance)" \
	"src=198.18.2.10&dst=198.51.100.7&protocol=udp&port=53" \
	--instance i-db1 --outbound --protocol udp --remote 198.51.100.7 --port 53
api_check "path (from/to)" "from=i-web1&to=i-db1&protocol=tcp&port=5432" \
	--from i-web1 --to i-db1 --protocol tcp --port 5432
api_check "path (two instances' addresses)" \
	"src=198.18.1.10&dst=198.18.2.10&protocol=tcp&port=5432" \
	--from i-web1 --to i-db1 --protocol tcp --port 5432
api_check "path, IPv6, denied" \
	"src=2001:db8:2::10&dst=2001:db8:1::10&protocol=tcp&port=5432" \
	--from i-db1 --to i-web1 --protocol tcp --port 5432 --family 6
api_check "an instance to an address (from/dst)" \
	"from=i-web1&dst=198.51.100.7&protocol=tcp&port=443" \
	--instance i-web1 --outbound --protocol tcp --remote 198.51.100.7 --port 443
api_check "an address to an instance (src/to)" \
	"src=198.51.100.7&to=i-web1&protocol=tcp&port=80" \
	--instance i-web1 --inbound --protocol tcp --remote 198.51.100.7 --port 80
api_check "icmp" "src=203.0.113.9&dst=198.18.2.10&protocol=icmp" \
	--instance i-db1 --inbound --protocol icmp --remote 203.0.113.9

# ---- bad parameters: 400 naming them
api_bad "no protocol" "src=203.0.113.10&dst=198.18.1.10&port=22" InvalidRequest protocol
api_bad "protocol all" "src=203.0.113.10&dst=198.18.1.10&protocol=all" InvalidRequest protocol
api_bad "unknown protocol" "src=203.0.113.10&dst=198.18.1.10&protocol=sctpx&port=1" InvalidRequest protocol
api_bad "port not a number" "src=203.0.113.10&dst=198.18.1.10&protocol=tcp&port=http" InvalidRequest port
api_bad "port out of range" "src=203.0.113.10&dst=198.18.1.10&protocol=tcp&port=70000" InvalidRequest port
api_bad "tcp without a port" "src=203.0.113.10&dst=198.18.1.10&protocol=tcp" InvalidRequest port
api_bad "src not an address" "src=web&dst=198.18.1.10&protocol=tcp&port=22" InvalidRequest src
api_bad "dst missing" "src=203.0.113.10&protocol=tcp&port=22" InvalidRequest dst
api_bad "no instance at either address" "src=203.0.113.10&dst=198.51.100.1&protocol=tcp&port=22" InvalidRequest 198.51.100.1
api_bad "unknown instance" "from=i-nope&to=i-db1&protocol=tcp&port=22" InvalidInstanceID.NotFound i-nope
api_bad "from without to" "from=i-web1&protocol=tcp&port=22" InvalidRequest to
api_bad "both forms" "from=i-web1&to=i-db1&src=198.18.1.10&dst=198.18.2.10&protocol=tcp&port=22" InvalidRequest src
api_bad "from with a bad dst" "from=i-web1&dst=web&protocol=tcp&port=22" InvalidRequest dst
api_bad "nothing asked" "protocol=tcp&port=22" InvalidRequest src

# ---- /api/map
api GET /api/map
expect "map: 200" 200 "$API_STATUS"
m=$API_BODY
for n in sg-web:group sg-db:group i-web1:instance i-db1:instance 0.0.0.0/0:cidr; do
	expect "map: node ${n%%:*} (${n#*:})" yes "$(jq_py "'yes' if any(x['id'] == '${n%%:*}' and x['kind'] == '${n#*:}' for x in j['nodes']) else 'no'" <<<"$m")"
done
expect "map: every group of show -j is a node" yes "$("$LAB_PY" -c '
import json, sys
m = json.loads(sys.argv[1]); s = json.loads(sys.argv[2])
ids = {n["id"] for n in m["nodes"] if n["kind"] == "group"}
print("yes" if {g["id"] for g in s["groups"]} <= ids else "no")' "$m" "$(sgc show -j)" 2>&1)"
rid=$(sgc -j show | "$LAB_PY" -c '
import json, sys
s = json.load(sys.stdin)
g = [g for g in s["groups"] if g["id"] == "sg-db"][0]
print([r["id"] for r in g["rules"] if r.get("port_from") == 5432][0])' 2>&1)
e=$(jq_py "[x for x in j['edges'] if x.get('rule_id') == '$rid'][0]" <<<"$m")
expect "map: the rule sg-db tcp/5432 from sg-web is an edge sg-web -> sg-db" \
	"sg-web sg-db sg-db inbound tcp 5432 tcp/5432" \
	"$(jq_py '" ".join(str(j[k]) for k in ("from", "to", "group", "direction", "protocol", "ports", "label"))' <<<"$e")"
e=$(jq_py "[x['to'] for x in j['edges'] if x['from'] == '0.0.0.0/0' and x['to'] == 'sg-web' and x.get('label') == 'tcp/80']" <<<"$m")
expect "map: tcp/80 from 0.0.0.0/0 is an edge to sg-web" '["sg-web"]' "$e"
e=$(jq_py "[x['to'] for x in j['edges'] if x.get('kind') == 'member' and x['from'] == 'sg-db']" <<<"$m")
expect "map: sg-db -> i-db1 membership edge" '["i-db1"]' "$e"

# One group's map: its rules, the rules naming it, its instances only.
api GET "/api/map?group=sg-db"
expect "map ?group=sg-db: 200" 200 "$API_STATUS"
expect "map ?group=sg-db: its rule from sg-web, no sg-web rule to 0.0.0.0/0" "yes no" \
	"$(jq_py "' '.join('yes' if c else 'no' for c in (any(x.get('rule_id') == '$rid' for x in j['edges']), any(x['from'] == '0.0.0.0/0' and x['to'] == 'sg-web' for x in j['edges'])))" <<<"$API_BODY")"
expect "map ?group=sg-db: i-db1 and not i-web1" "True False" \
	"$(jq_py "' '.join(str(any(n['id'] == i for n in j['nodes'])) for i in ('i-db1', 'i-web1'))" <<<"$API_BODY")"
api GET "/api/map?group=sg-nope"
expect "map ?group=sg-nope: 404 InvalidGroup.NotFound" "404 InvalidGroup.NotFound" \
	"$API_STATUS $(jq_py 'j["code"]' <<<"$API_BODY")"

# ---- /api/rules/ID: where a rule lives
api GET "/api/rules/$rid"
expect "rules/ID: the group and direction" "200 sg-db inbound" \
	"$API_STATUS $(jq_py '" ".join((j["group"], j["direction"]))' <<<"$API_BODY")"
api GET "/api/rules/sgr-00000000000000000"
expect "rules/ID unknown: 404" "404 InvalidSecurityGroupRuleId.NotFound" \
	"$API_STATUS $(jq_py 'j["code"]' <<<"$API_BODY")"

# ---- /api/hosts, local
api GET /api/hosts
expect "hosts (local): 200" 200 "$API_STATUS"
same "hosts (local): no fleet" '{"source": "local", "hosts": []}' "$API_BODY"
console_stop
sgc_quiet unload

# ---- /api/hosts with etcd: the agent and its applied revision
if ! command -v etcd >/dev/null; then
	echo "SKIP etcd part: etcd not installed"
	lab_finish
	exit
fi
fleet_init
fleet_etcd_start || { expect "etcd starts" ok failed; lab_finish; }
P=$FLEET_PFX
fleet_put "${P}vpc" '{"vpc":"vpc-lab"}' >/dev/null
fleet_put "${P}groups/sg-web" '{"inbound":[{"type":"ssh","source":"203.0.113.0/24"}]}' >/dev/null
fleet_put "${P}instances/i-other" '{"ips":["198.51.100.20"],"security_groups":["sg-web"],"host":"hostB"}' >/dev/null
r0=$(fleet_put "${P}instances/i-web1" '{"ips":["198.18.1.10"],"security_groups":["sg-web"],"host":"hostA"}')
fleet_agent_start a hostA "$LAB_PIN"
fleet_wait_rev a "$r0" && ok=ok || ok=timeout
expect "agent applies revision $r0" ok "$ok"
[ "$ok" = ok ] || fleet_agent_log a
console_start --etcd "$FLEET_URL" --vpc "$FLEET_VPC" || {
	expect "console --etcd starts" ok failed
	lab_finish
}
# The agent publishes its status right after it applies: wait for it.
for _ in $(seq 1 50); do
	api GET /api/hosts
	[ "$(jq_py '[h["revision"] for h in j["hosts"] if h["host"] == "hostA"]' <<<"$API_BODY")" = "[$r0]" ] && break
	sleep 0.1
done
expect "hosts (etcd): 200" 200 "$API_STATUS"
expect "hosts (etcd): hostA at its applied revision $r0, no error" "$r0 None" \
	"$(jq_py '" ".join(str(h[k]) for h in j["hosts"] if h["host"] == "hostA" for k in ("revision", "error"))' <<<"$API_BODY")"
st=$(timeout 10 "$SGCTL" status --etcd "$FLEET_URL" --vpc "$FLEET_VPC" -j)
same "hosts (etcd) = sgctl status -j" "$st" "$API_BODY"
# check in etcd mode: i-web1 is enforced here (kernel asked), i-other is not.
api_check "etcd: instance enforced here" \
	"src=203.0.113.10&dst=198.18.1.10&protocol=tcp&port=22" \
	--instance i-web1 --inbound --protocol tcp --remote 203.0.113.10 --port 22
api GET "/api/check?src=203.0.113.10&dst=198.51.100.20&protocol=tcp&port=22"
expect "etcd: instance elsewhere: 200" 200 "$API_STATUS"
expect "etcd: instance elsewhere: the model's answer alone" "ACCEPT None desired" \
	"$(jq_py '" ".join(str(j[k]) for k in ("verdict", "kernel", "config"))' <<<"$API_BODY")"
console_stop

lab_finish
