#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The console's flow logs and rule preview, with real traffic: GET
# /api/flowlogs shows an ACCEPT with the rule that admitted it and a
# REJECT with its reason, its filters narrow the list, after=CURSOR gives
# only newer records (live follow); POST .../rules/preview of deleting the
# rule that admitted a recent flow lists that flow as REJECT under the
# draft and changes nothing, a bad edit gives the AWS code (and the row),
# and the preview is allowed under --read-only.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=tests/ns/lib_console.sh
. "$here/lib_console.sh"
lab_init test_console_flows
console_require
lab_up me other web || exit 1
start_tcp_server web 22
web=$(ip4 web) me=$(ip4 me) other=$(ip4 other)
lab_require_sgctl
mode=nic

# j EXPR: eval(EXPR) on the last answer's body, j being the document.
j() { jq_py "$1" <<<"$API_BODY"; }

# flows QUERY: GET /api/flowlogs?QUERY, expecting 200.
flows() {
	api GET "/api/flowlogs?$1"
	[ "$API_STATUS" = 200 ] || echo "flowlogs?$1: HTTP $API_STATUS $API_BODY" >&2
}

# wait_flows QUERY PYEXPR: polls (up to 5 s: the buffer reads once a
# second) until PYEXPR on the answer is True.
wait_flows() {
	for _ in $(seq 1 25); do
		flows "$1"
		[ "$(j "$2")" = true ] && return 0
		sleep 0.2
	done
	return 1
}

config_hash() { sgc show -j 2>/dev/null | jq_py 'j["config_hash"]'; }

# ---- nothing loaded yet: no records, no preview; the buffer waits
console_start || exit 1
flows ""
expect "nothing loaded: flowlogs answers, no records" "200 0" \
	"$API_STATUS $(j "len(j['records'])")"
api POST /api/groups/sg-rules/rules/preview '{"direction": "inbound", "add": []}'
expect "nothing loaded: preview is 503 ServiceUnavailable" "503 ServiceUnavailable" \
	"$API_STATUS $(j "j['code']")"

lab_load "$here/rules.yaml" "load rules.yaml" || exit 1
lab_attach web "$mode" i-web1 || exit 1
ssh_id=$(sgc rules -j 2>/dev/null |
	jq_py '[r["id"] for r in j["rules"] if r["description"] == "my computer"][0]')

# ---- the records
check_tcp "my computer -> web:22 connects" connected me "$web" 22
check_tcp "someone else -> web:22 times out" timeout other "$web" 22
acc="[r for r in j['records'] if r['action'] == 'ACCEPT' and r['srcaddr'] == '$me' and r['dstport'] == 22]"
rej="[r for r in j['records'] if r['action'] == 'REJECT' and r['srcaddr'] == '$other' and r['dstport'] == 22]"
wait_flows "" "len($acc) > 0 and len($rej) > 0"
expect "flowlogs: 200" 200 "$API_STATUS"
expect "flowlogs: the ACCEPT names the rule that admitted it" "$ssh_id" \
	"$(j "${acc}[0]['sg-rule-id']")"
expect "flowlogs: the ACCEPT is i-web1's, inbound" "i-web1 inbound ingress" \
	"$(j "' '.join([${acc}[0]['instance-id'], ${acc}[0]['direction'], ${acc}[0]['flow-direction']])")"
expect "flowlogs: the REJECT says why" no-rule "$(j "${rej}[0]['reason']")"
expect "flowlogs: the REJECT names no rule" - "$(j "${rej}[0]['sg-rule-id']")"
expect "flowlogs: flow-log fields (VPC names, numbers)" "2 111122223333 vpc-lab 6" \
	"$(j "' '.join(str(x) for x in [${acc}[0]['version'], ${acc}[0]['account-id'], ${acc}[0]['vpc-id'], ${acc}[0]['protocol']])")"
expect "flowlogs: every record has a cursor, rising" true \
	"$(j "all(isinstance(r['cursor'], int) for r in j['records']) and [r['cursor'] for r in j['records']] == sorted(set(r['cursor'] for r in j['records']))")"
expect "flowlogs: next is the newest cursor" true \
	"$(j "j['next'] == max(r['cursor'] for r in j['records'])")"

# ---- filters
flows "action=REJECT"
expect "filter action=REJECT: only rejects, someone else's among them" true \
	"$(j "all(r['action'] == 'REJECT' for r in j['records']) and len($rej) > 0")"
flows "action=accept"
expect "filter action=accept: only accepts" true \
	"$(j "len(j['records']) > 0 and all(r['action'] == 'ACCEPT' for r in j['records'])")"
flows "addr=$other"
expect "filter addr: only that address's flows" true \
	"$(j "len(j['records']) > 0 and all('$other' in (r['srcaddr'], r['dstaddr']) for r in j['records'])")"
flows "rule=$ssh_id"
expect "filter rule: only that rule's flows, my computer's among them" true \
	"$(j "len($acc) > 0 and all(r['sg-rule-id'] == '$ssh_id' for r in j['records'])")"
flows "port=22&instance=i-web1"
expect "filter port and instance" true \
	"$(j "len(j['records']) > 0 and all(22 in (r['srcport'], r['dstport']) and r['instance-id'] == 'i-web1' for r in j['records'])")"
flows "port=2222"
expect "filter port: none on another port" 0 "$(j "len(j['records'])")"
flows "instance=i-nope"
expect "filter instance: none of an unknown instance" 0 "$(j "len(j['records'])")"
flows "limit=1"
expect "limit=1: one record" 1 "$(j "len(j['records'])")"
api GET "/api/flowlogs?action=DROP"
expect "a bad filter: 400 InvalidRequest" "400 InvalidRequest" \
	"$API_STATUS $(j "j['code']")"
api GET "/api/flowlogs?addr=not-an-address"
expect "a bad address: 400" 400 "$API_STATUS"

# ---- live follow
flows ""
cur=$(j "j['next']")
flows "after=$cur"
expect "after=next: nothing newer yet" 0 "$(j "len(j['records'])")"
expect "after=next: next stays" "$cur" "$(j "j['next']")"
check_tcp "my computer -> web:22 again" connected me "$web" 22
wait_flows "after=$cur" "len($acc) > 0"
expect "after=cursor: the new flow" true "$(j "len($acc) > 0")"
expect "after=cursor: only newer records" true \
	"$(j "all(r['cursor'] > $cur for r in j['records']) and j['next'] > $cur")"

# ---- preview: delete the rule that admitted the flow
hash0=$(config_hash)
api POST /api/groups/sg-rules/rules/preview \
	"{\"direction\": \"inbound\", \"delete\": [\"$ssh_id\"], \"add\": []}"
expect "preview delete: 200" 200 "$API_STATUS"
mine="[f for f in j['flows'] if f['srcaddr'] == '$me' and f['dstport'] == 22 and f['action'] == 'ACCEPT']"
expect "preview delete: my computer's flow would be rejected" "REJECT -" \
	"$(j "${mine}[0]['new_action'] + ' ' + ${mine}[0]['new_rule_id']")"
expect "preview delete: the flow is the record (its rule, its cursor)" true \
	"$(j "${mine}[0]['sg-rule-id'] == '$ssh_id' and isinstance(${mine}[0]['cursor'], int)")"
expect "preview delete: nothing of someone else's changes" 0 \
	"$(j "len([f for f in j['flows'] if f['srcaddr'] == '$other'])")"
expect "preview delete: diff removes the rule, adds none" "['$ssh_id'] 0" \
	"$(j "str([r['id'] for r in j['diff']['removed']]) + ' ' + str(len(j['diff']['added']))")"
expect "preview delete: changes as diff -j (-ACCEPT tcp/22 from my computer)" true \
	"$(j "any(c['change'] == '-ACCEPT' and c['traffic'] == 'tcp/22' and '$me/32' in c['sources'] for c in j['changes'])")"
expect "preview delete: window_s" 600 "$(j "j['window_s']")"
expect "preview changes nothing (config_hash)" "$hash0" "$(config_hash)"
check_tcp "after the preview my computer -> web:22 still connects" connected me "$web" 22

# ---- preview: allow someone else
api POST /api/groups/sg-rules/rules/preview \
	"{\"direction\": \"inbound\", \"add\": [{\"type\": \"SSH\", \"protocol\": \"tcp\", \"port_range\": \"22\", \"peer\": \"$other/32\", \"description\": \"other\"}]}"
expect "preview add: 200" 200 "$API_STATUS"
new_id=$(j "j['diff']['added'][0]['id']")
oth="[f for f in j['flows'] if f['srcaddr'] == '$other' and f['dstport'] == 22]"
expect "preview add: someone else's rejected flow would be accepted by the new rule" "ACCEPT $new_id" \
	"$(j "${oth}[0]['new_action'] + ' ' + ${oth}[0]['new_rule_id']")"
expect "preview add: still nothing changed" "$hash0" "$(config_hash)"

# ---- preview: bad edits
api POST /api/groups/sg-rules/rules/preview \
	"{\"direction\": \"inbound\", \"add\": [{\"protocol\": \"udp\", \"port_range\": \"53\", \"peer\": \"0.0.0.0/0\"}, {\"protocol\": \"tcp\", \"port_range\": \"22\", \"peer\": \"$me/32\"}]}"
expect "preview duplicate: 400 InvalidPermission.Duplicate, row 1" "400 InvalidPermission.Duplicate 1" \
	"$API_STATUS $(j "j['code']") $(j "j['row']")"
api POST /api/groups/sg-rules/rules/preview \
	'{"direction": "inbound", "add": [{"protocol": "tcp", "port_range": "80", "peer": "sg-nope"}]}'
expect "preview unknown peer group: InvalidGroup.NotFound" "400 InvalidGroup.NotFound" \
	"$API_STATUS $(j "j['code']")"
api POST /api/groups/sg-rules/rules/preview \
	'{"direction": "inbound", "delete": ["sgr-00000000000000000"]}'
expect "preview delete of no such rule: InvalidPermission.NotFound" "400 InvalidPermission.NotFound" \
	"$API_STATUS $(j "j['code']")"
api POST /api/groups/sg-nope/rules/preview '{"direction": "inbound", "add": []}'
expect "preview of no such group: InvalidGroup.NotFound" InvalidGroup.NotFound \
	"$(j "j['code']")"
api POST /api/groups/sg-rules/rules/preview '{"direction": "sideways"}'
expect "preview of a malformed body: 400 InvalidRequest" "400 InvalidRequest" \
	"$API_STATUS $(j "j['code']")"
expect "bad previews changed nothing" "$hash0" "$(config_hash)"

# ---- read-only
console_stop
console_start --read-only || exit 1
api POST /api/groups/sg-rules/rules/preview \
	"{\"direction\": \"inbound\", \"delete\": [\"$ssh_id\"]}"
expect "read-only: the preview is allowed" 200 "$API_STATUS"
expect "read-only: it answers with the diff" "$ssh_id" \
	"$(j "j['diff']['removed'][0]['id']")"
flows "rule=$ssh_id"
expect "read-only: a new console reads the flows still in the maps" true \
	"$(j "len($acc) > 0")"

# ---- a reload: the buffer follows (names re-read), nothing lost
flows ""
cur=$(j "j['next']")
sgc_quiet load "$here/rules-b.yaml"
check_tcp "after a reload my computer -> web:22 connects" connected me "$web" 22
wait_flows "after=$cur" "len($acc) > 0"
expect "after a reload: the new flow is logged" true "$(j "len($acc) > 0")"

# ---- unloaded: the records stay; loaded again: followed again
sgc_quiet unload
sleep 3 # the poller sees the state missing twice, and lets it go
flows "rule=$ssh_id"
expect "after unload: the records stay" true "$(j "len($acc) > 0")"
cur=$(j "j['next']")
lab_load "$here/rules.yaml" "load rules.yaml again" || exit 1
lab_attach web "$mode" i-web1 || exit 1
check_tcp "loaded again: my computer -> web:22 connects" connected me "$web" 22
wait_flows "after=$cur" "len($acc) > 0"
expect "loaded again: the new state's flow is logged, with its rule" "$ssh_id" \
	"$(j "${acc}[0]['sg-rule-id']")"
console_stop
lab_finish
