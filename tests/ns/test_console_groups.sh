#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The console's groups and instances API (docs/console.md) on a lab with
# a loaded config, with real clients: a rule added through POST
# /api/groups/ID/rules (HTTP from 0.0.0.0/0, the study note's practice)
# lets a client in, its Hits rise in GET /api/groups/ID, deleting it makes
# the client time out again; a failed save changes nothing (the stored
# config's hash and the traffic stay as they were). Every answer is
# checked against the CLI (show -j's rule ids, rules -j's counts), every
# endpoint's errors (404, codes, "row", bad JSON, paging) and the write
# routes under --read-only.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=tests/ns/lib_console.sh
. "$here/lib_console.sh"
lab_init test_console_groups
console_require
lab_up me other web || exit 1
for p in 22 80 8080; do start_tcp_server web $p; done
web=$(ip4 web)
mode=${LAB_MODES%% *}
lab_require_sgctl

# hash: the stored config's hash (changes with every applied edit).
hash() {
	sgc -j show 2>/dev/null | jq_py 'j["config_hash"]'
}

# body EXPR: EXPR of the last answer (j is its JSON).
body() {
	printf '%s' "$API_BODY" | jq_py "$1"
}

# show_rule_ids GROUP: show -j's rule ids of GROUP, one line.
show_rule_ids() {
	sgc -j show 2>/dev/null |
		jq_py "' '.join(r['id'] for g in j['groups'] if g['id'] == '$1' for r in g['rules'])"
}

lab_load "$here/edit.yaml" "load edit.yaml" || lab_finish
lab_attach web "$mode" i-web1 || lab_finish
console_start || {
	expect "console starts" ok failed
	lab_finish
}

# ---- the Type menu ----
api GET /api/types
expect "types: 200" 200 "$API_STATUS"
expect "types: the menu starts with Custom TCP" "Custom TCP" "$(body 'j["types"][0]["name"]')"
expect "types: HTTP is tcp 80, fixed" "tcp 80 True" \
	"$(body '" ".join(str(t[k]) for t in j["types"] if t["name"] == "HTTP" for k in ("protocol", "port_range", "fixed"))')"
expect "types: All traffic is all, All" "all All" \
	"$(body '" ".join(str(t[k]) for t in j["types"] if t["name"] == "All traffic" for k in ("protocol", "port_range"))')"

# ---- the group list: counts, q, paging ----
api GET /api/groups
expect "groups: 200" 200 "$API_STATUS"
expect "groups: total (sg-web, sg-db, sg-alt and the default)" 4 "$(body 'j["total"]')"
expect "groups: the vpc" vpc-lab "$(body 'j["vpc"]')"
expect "groups: sg-web counts (inbound, outbound, instances)" "1 2 1" \
	"$(body '" ".join(str(g[k]) for g in j["groups"] if g["id"] == "sg-web" for k in ("inbound_rules", "outbound_rules", "instances"))')"
expect "groups: the list is show -j's groups" \
	"$(sgc -j show | jq_py '" ".join(g["id"] for g in j["groups"])')" \
	"$(body '" ".join(g["id"] for g in j["groups"])')"
second=$(body 'j["groups"][1]["id"]')
api GET '/api/groups?offset=1&limit=1'
expect "groups paging: one group from offset 1" "1 1 4 $second" \
	"$(body '" ".join(str(x) for x in (len(j["groups"]), j["offset"], j["total"], j["groups"][0]["id"]))')"
api GET '/api/groups?limit=5000'
expect "groups paging: a limit above 1000 is served" "200 4" "$API_STATUS $(body 'len(j["groups"])')"
api GET '/api/groups?offset=99'
expect "groups paging: past the end, none (total stays)" "200 0 4" \
	"$API_STATUS $(body 'len(j["groups"])') $(body 'j["total"]')"
api GET '/api/groups?limit=ten'
expect "groups paging: a bad limit is 400 InvalidRequest" "400 InvalidRequest" "$API_STATUS $(body 'j["code"]')"
api GET '/api/groups?q=SG-AL'
expect "groups q: matches the id, any case" "1 sg-alt" "$(body 'j["total"]') $(body 'j["groups"][0]["id"]')"

# ---- one group: the CLI's rules, with type, port range and use ----
api GET /api/groups/sg-web
expect "group: 200" 200 "$API_STATUS"
expect "group: rule ids are show -j's" "$(show_rule_ids sg-web)" \
	"$(body '" ".join(r["id"] for r in j["rules"])')"
expect "group: the ssh rule is SSH, port range 22" "SSH 22 0" \
	"$(body '" ".join(str(r[k]) for r in j["rules"] if r["direction"] == "inbound" for k in ("type", "port_range", "hits"))')"
expect "group: the default egress is All traffic, All" "All traffic All" \
	"$(body '" ".join(str(r[k]) for r in j["rules"][1:2] for k in ("type", "port_range"))')"
expect "group: its instances" '["i-web1"]' "$(body 'j["instances"]')"
api GET /api/groups/sg-nope
expect "group unknown: 404 InvalidGroup.NotFound" "404 InvalidGroup.NotFound" "$API_STATUS $(body 'j["code"]')"

# ---- Add rule -> HTTP -> Anywhere-IPv4 -> Save rules, with real traffic ----
check_tcp "before: other -> web:80 times out" timeout other "$web" 80
api POST /api/groups/sg-web/rules \
	'{"direction": "inbound", "delete": [], "add": [{"type": "HTTP", "protocol": "tcp", "port_range": "80", "peer": "0.0.0.0/0", "description": "web"}]}'
expect "save HTTP rule: 200" 200 "$API_STATUS"
http_id=$(body 'j["added"][0]')
expect "save HTTP rule: the id added is show -j's" yes \
	"$(show_rule_ids sg-web | grep -qw -- "$http_id" && [ -n "$http_id" ] && echo yes)"
expect "save HTTP rule: the revision" yes "$(body '"yes" if isinstance(j["revision"], int) else "no"')"
check_tcp "after save: other -> web:80 connects" connected other "$web" 80
check_tcp "after save: other -> web:80 connects again" connected other "$web" 80
api GET /api/groups/sg-web
hits=$(body "[r['hits'] for r in j['rules'] if r['id'] == '$http_id'][0]")
expect "the HTTP rule's hits rise" yes "$([ "${hits:-0}" -ge 2 ] 2>/dev/null && echo yes)"
expect "the HTTP rule: type HTTP, port range 80, last used set" "HTTP 80 yes" \
	"$(body "' '.join(str(x) for r in j['rules'] if r['id'] == '$http_id' for x in (r['type'], r['port_range'], 'yes' if r['last_used'] else 'no'))")"
expect "the HTTP rule's hits are rules -j's" \
	"$(sgc -j rules --group sg-web | jq_py "[r['hits'] for r in j['rules'] if r['id'] == '$http_id'][0]")" "$hits"

# ---- refused saves change nothing ----
h0=$(hash)
api POST /api/groups/sg-web/rules \
	'{"direction": "inbound", "add": [{"type": "HTTP", "peer": "0.0.0.0/0"}]}'
expect "duplicate: 400 InvalidPermission.Duplicate, row 0" "400 InvalidPermission.Duplicate 0" \
	"$API_STATUS $(body 'j["code"]') $(body 'j["row"]')"
api POST /api/groups/sg-web/rules \
	'{"direction": "inbound", "add": [{"type": "Custom TCP", "protocol": "tcp", "port_range": "8080", "peer": "0.0.0.0/0"}, {"type": "HTTP", "protocol": "tcp", "port_range": "80", "peer": "0.0.0.0/0"}]}'
expect "duplicate in row 1: 400 InvalidPermission.Duplicate, row 1" "400 InvalidPermission.Duplicate 1" \
	"$API_STATUS $(body 'j["code"]') $(body 'j["row"]')"
expect "duplicate in row 1: errors listed" yes "$(body '"yes" if j["errors"][0]["code"] == j["code"] else "no"')"
check_tcp "duplicate in row 1: row 0 (8080) was not added" timeout other "$web" 8080
api POST /api/groups/sg-web/rules \
	"{\"direction\": \"inbound\", \"delete\": [\"$http_id\"], \"add\": [{\"protocol\": \"tcp\", \"port_range\": \"70000\", \"peer\": \"0.0.0.0/0\"}]}"
expect "bad port after a delete: 400 InvalidPermission.Malformed, row 0" "400 InvalidPermission.Malformed 0" \
	"$API_STATUS $(body 'j["code"]') $(body 'j["row"]')"
check_tcp "bad port after a delete: the deleted rule still lets other in" connected other "$web" 80
api POST /api/groups/sg-web/rules \
	'{"direction": "inbound", "delete": ["sgr-00000000000000000"]}'
expect "delete of an unknown rule: 400 InvalidPermission.NotFound, no add row" \
	"400 InvalidPermission.NotFound null" \
	"$API_STATUS $(body 'j["code"]') $(body 'j.get("row")')"
api POST /api/groups/sg-web/rules \
	'{"direction": "inbound", "add": [{"type": "SSH", "peer": "sg-nope"}]}'
expect "a peer group that does not exist: InvalidGroup.NotFound, row 0" "400 InvalidGroup.NotFound 0" \
	"$API_STATUS $(body 'j["code"]') $(body 'j["row"]')"
api POST /api/groups/sg-nope/rules '{"direction": "inbound", "add": [{"type": "SSH", "peer": "0.0.0.0/0"}]}'
expect "save to an unknown group: 404 InvalidGroup.NotFound" "404 InvalidGroup.NotFound" \
	"$API_STATUS $(body 'j["code"]')"
api POST /api/groups/sg-web/rules '{"direction": "inbound", "add": [{'
expect "bad JSON: 400 InvalidRequest" "400 InvalidRequest" "$API_STATUS $(body 'j["code"]')"
api POST /api/groups/sg-web/rules '{"direction": "up", "add": []}'
expect "bad direction: 400 InvalidRequest" "400 InvalidRequest" "$API_STATUS $(body 'j["code"]')"
api POST /api/groups/sg-web/rules '{"direction": "inbound", "add": [{"peer": "0.0.0.0/0"}]}'
expect "a rule without type or protocol: 400, row 0" "400 0" "$API_STATUS $(body 'j["row"]')"
expect "refused saves: the config is unchanged" "$h0" "$(hash)"

# ---- Delete -> Save rules: the client times out again ----
api POST /api/groups/sg-web/rules "{\"direction\": \"inbound\", \"delete\": [\"$http_id\"], \"add\": []}"
expect "delete the HTTP rule: 200, deleted its id" "200 $http_id" "$API_STATUS $(body 'j["deleted"][0]')"
check_tcp "after delete: other -> web:80 times out" timeout other "$web" 80
expect "after delete: show -j no longer has it" no \
	"$(show_rule_ids sg-web | grep -qw -- "$http_id" && echo yes || echo no)"

# A changed row: the delete of its rule plus an add, in one save.
ssh_id=$(show_rule_ids sg-web | cut -d' ' -f1)
api POST /api/groups/sg-web/rules \
	"{\"direction\": \"inbound\", \"delete\": [\"$ssh_id\"], \"add\": [{\"type\": \"SSH\", \"protocol\": \"tcp\", \"port_range\": \"22\", \"peer\": \"198.51.100.0/24\", \"description\": \"moved\"}]}"
expect "changed row: 200" 200 "$API_STATUS"
check_tcp "changed row: other -> web:22 connects" connected other "$web" 22
check_tcp "changed row: me -> web:22 times out" timeout me "$web" 22

# ---- create and delete groups ----
api POST /api/groups '{"name": "app", "description": "app tier"}'
new_id=$(body 'j["id"]')
expect "create: 200 with an sg- + 17 hex id" "200 yes" \
	"$API_STATUS $(echo "$new_id" | grep -Eqx 'sg-[0-9a-f]{17}' && echo yes)"
expect "create: show -j lists it" yes \
	"$(sgc -j show | jq_py "'yes' if any(g['id'] == '$new_id' and g['name'] == 'app' for g in j['groups']) else 'no'")"
api POST /api/groups '{"id": "sg-app2", "name": "app2", "description": "x"}'
expect "create with an id: 200 sg-app2" "200 sg-app2" "$API_STATUS $(body 'j["id"]')"
api POST /api/groups '{"id": "sg-app2", "name": "app3", "description": "x"}'
expect "create a duplicate id: 400 InvalidGroup.Duplicate" "400 InvalidGroup.Duplicate" \
	"$API_STATUS $(body 'j["code"]')"
api POST /api/groups '{"description": "no name"}'
expect "create without a name: 400" 400 "$API_STATUS"
api POST /api/groups 'not json'
expect "create, bad JSON: 400 InvalidRequest" "400 InvalidRequest" "$API_STATUS $(body 'j["code"]')"
h0=$(hash)
api DELETE /api/groups/sg-db
expect "delete a group in use: 400 DependencyViolation" "400 DependencyViolation" \
	"$API_STATUS $(body 'j["code"]')"
api DELETE /api/groups/sg-default
expect "delete the default group: 400 CannotDelete" "400 CannotDelete" "$API_STATUS $(body 'j["code"]')"
api DELETE /api/groups/sg-nope
expect "delete an unknown group: 404 InvalidGroup.NotFound" "404 InvalidGroup.NotFound" \
	"$API_STATUS $(body 'j["code"]')"
expect "refused deletes: the config is unchanged" "$h0" "$(hash)"
api DELETE "/api/groups/$new_id"
expect "delete a free group: 200" 200 "$API_STATUS"
api DELETE /api/groups/sg-app2
expect "delete sg-app2: 200" 200 "$API_STATUS"
api GET "/api/groups/$new_id"
expect "deleted group: 404" 404 "$API_STATUS"

# ---- instances ----
api GET /api/instances
expect "instances: 200, total 2" "200 2" "$API_STATUS $(body 'j["total"]')"
expect "instances: i-web1 attached, one live attachment" "True 1 ok" \
	"$(body '" ".join(str(x) for i in j["instances"] if i["id"] == "i-web1" for x in (i["attached"], len(i["attachments"]), i["attachments"][0]["status"]))')"
expect "instances: i-web1 conntrack used and room are numbers" yes \
	"$(body '"yes" if [i for i in j["instances"] if i["id"] == "i-web1" and isinstance(i["conntrack_used"], int) and i["conntrack_room"] > 0] else "no"')"
expect "instances: i-web2 not attached" "False 0" \
	"$(body '" ".join(str(x) for i in j["instances"] if i["id"] == "i-web2" for x in (i["attached"], len(i["attachments"])))')"
expect "instances: the objects are show -j's" \
	"$(sgc -j show | jq_py '[[i["id"], i["ips"], i["groups"], i["slot"]] for i in j["instances"]]')" \
	"$(body '[[i["id"], i["ips"], i["groups"], i["slot"]] for i in j["instances"]]')"
api GET '/api/instances?q=198.18.1.11'
expect "instances q: by address" "1 i-web2" "$(body 'j["total"]') $(body 'j["instances"][0]["id"]')"
api GET '/api/instances?limit=1&offset=1'
expect "instances paging" "1 1 2" "$(body 'len(j["instances"])') $(body 'j["offset"]') $(body 'j["total"]')"
api GET '/api/instances?offset=-1'
expect "instances paging: a bad offset is 400" 400 "$API_STATUS"

# Change security groups: i-web1 trades sg-web for sg-alt (8080).
api PUT /api/instances/i-web1/groups '{"groups": ["sg-alt"]}'
expect "set groups: 200" 200 "$API_STATUS"
check_tcp "set groups: other -> web:8080 (sg-alt) connects" connected other "$web" 8080
check_tcp "set groups: other -> web:22 (sg-web gone) times out" timeout other "$web" 22
h0=$(hash)
api PUT /api/instances/i-web1/groups '{"groups": ["sg-nope"]}'
expect "set groups to an unknown group: 400 InvalidGroup.NotFound" "400 InvalidGroup.NotFound" \
	"$API_STATUS $(body 'j["code"]')"
api PUT /api/instances/i-nope/groups '{"groups": ["sg-web"]}'
expect "set groups of an unknown instance: 404 InvalidInstanceID.NotFound" \
	"404 InvalidInstanceID.NotFound" "$API_STATUS $(body 'j["code"]')"
api PUT /api/instances/i-web1/groups '{"groups": "sg-web"}'
expect "set groups, not a list: 400 InvalidRequest" "400 InvalidRequest" "$API_STATUS $(body 'j["code"]')"
expect "refused set groups: the config is unchanged" "$h0" "$(hash)"
api GET /api/groups/sg-alt
expect "sg-alt now lists i-web1" yes "$(body '"yes" if "i-web1" in j["instances"] else "no"')"

# ---- writes need the CSRF token; --read-only refuses them ----
api_nocsrf POST /api/groups '{"name": "x", "description": "x"}'
expect "create without the CSRF token: 403" 403 "$API_STATUS"
console_stop
console_start --read-only || expect "read-only console starts" ok failed
h0=$(hash)
api POST /api/groups '{"name": "x", "description": "x"}'
expect "read-only: create 403 UnauthorizedOperation" "403 UnauthorizedOperation" "$API_STATUS $(body 'j["code"]')"
api DELETE /api/groups/sg-alt
expect "read-only: delete 403" 403 "$API_STATUS"
api POST /api/groups/sg-web/rules '{"direction": "inbound", "add": [{"type": "HTTP", "peer": "0.0.0.0/0"}]}'
expect "read-only: save rules 403" 403 "$API_STATUS"
api PUT /api/instances/i-web1/groups '{"groups": ["sg-web"]}'
expect "read-only: set groups 403" 403 "$API_STATUS"
api GET /api/groups/sg-web
expect "read-only: reads work" 200 "$API_STATUS"
expect "read-only: nothing changed" "$h0" "$(hash)"
console_stop

# ---- the same API on a VPC in etcd (the edits are etcd transactions) ----
if command -v etcd >/dev/null && command -v etcdctl >/dev/null; then
	ETCD_NO_TRAP=1
	ETCD_EXTRA_ARGS=${ETCD_EXTRA_ARGS:-}
	# shellcheck source=tests/ns/lib_etcd.sh
	. "$here/lib_etcd.sh"
	# lab_down exits with the status it is entered with.
	trap 'rc=$?; etcd_cleanup; (exit $rc); lab_down' EXIT
	if etcd_start && "$SGCTL" push "$here/edit.yaml" --etcd "$ETCD_URL" >/dev/null 2>&1 &&
		console_start --etcd "$ETCD_URL"; then
		api GET /api/groups
		expect "etcd: groups from etcd" "200 vpc-lab 4" \
			"$API_STATUS $(body 'j["vpc"]') $(body 'j["total"]')"
		rev0=$(body 'j["revision"]')
		api POST /api/groups/sg-web/rules \
			'{"direction": "inbound", "add": [{"type": "HTTPS", "protocol": "tcp", "port_range": "443", "peer": "0.0.0.0/0"}]}'
		expect "etcd: save rules: 200" 200 "$API_STATUS"
		id=$(body 'j["added"][0]')
		expect "etcd: the revision moved" yes \
			"$(body "'yes' if j['revision'] > $rev0 else 'no'")"
		api GET /api/groups/sg-web
		expect "etcd: the rule is there, type HTTPS, no hits here" "HTTPS 443 0" \
			"$(body "' '.join(str(x) for r in j['rules'] if r['id'] == '$id' for x in (r['type'], r['port_range'], r['hits']))")"
		api POST /api/groups/sg-web/rules \
			'{"direction": "inbound", "add": [{"type": "HTTPS", "peer": "0.0.0.0/0"}]}'
		expect "etcd: duplicate: InvalidPermission.Duplicate, row 0" "400 InvalidPermission.Duplicate 0" \
			"$API_STATUS $(body 'j["code"]') $(body 'j["row"]')"
		api DELETE /api/groups/sg-db
		expect "etcd: delete a group in use: DependencyViolation" "400 DependencyViolation" \
			"$API_STATUS $(body 'j["code"]')"
		api PUT /api/instances/i-web2/groups '{"groups": ["sg-alt"]}'
		expect "etcd: set groups: 200" 200 "$API_STATUS"
		api GET '/api/instances?q=i-web2'
		expect "etcd: i-web2 now in sg-alt, not attached here" '["sg-alt"] false' \
			"$(body 'j["instances"][0]["groups"]') $(body 'j["instances"][0]["attached"]')"
		console_stop
	else
		expect "etcd: etcd, push and the console start" ok failed
	fi
fi

lab_detach web "$mode"
lab_finish
