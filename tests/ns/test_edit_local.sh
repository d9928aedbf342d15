#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Edits of the loaded config, one object at a time (sgctl rule add|delete,
# group create|delete, instance set-groups|remove without --etcd), seen by
# real clients: an added rule opens a port at once, its deletion (by the id
# add printed) closes it, set-groups swaps an instance's rules, a group in
# use cannot be deleted (DependencyViolation), and a failed edit changes
# nothing (the stored config's hash and the traffic stay as they were).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_edit_local
lab_up me other web || exit 1
for p in 22 80 8080; do start_tcp_server web $p; done
web=$(ip4 web)
mode=${LAB_MODES%% *}
lab_require_sgctl

# hash: the stored config's hash (changes with every applied edit).
hash() {
	sgc -j show 2>/dev/null | "$LAB_PY" -c \
		'import json, sys; print(json.load(sys.stdin)["config_hash"])'
}

# jfield FILE KEY: KEY of the one JSON object in FILE ("" when none).
jfield() {
	"$LAB_PY" -c '
import json, sys
try:
    print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))
except (OSError, ValueError):
    print("")' "$1" "$2"
}

out=$LAB_TMP/out
sgc rule add sg-web --inbound --type http --source 198.51.100.0/24 >"$out" 2>&1
expect "edit with nothing loaded: refused" 1 $?
expect "edit with nothing loaded: says so" yes \
	"$(grep -q 'nothing is loaded' "$out" && echo yes)"

lab_load "$here/edit.yaml" "load edit.yaml" || lab_finish
lab_attach web "$mode" i-web1 || lab_finish
check_tcp "before: my computer -> web:22" connected me "$web" 22
check_tcp "before: someone else -> web:80" timeout other "$web" 80

# rule add opens the port for a real client, and prints the revision.
sgc rule add sg-web --inbound --type http --source 198.51.100.0/24 \
	--description "web from the other net" >"$out"
expect "rule add: exit 0" 0 $?
id=$(grep -o 'sgr-[0-9a-f]\{17\}' "$out")
expect "rule add: prints the rule id and the revision" yes \
	"$([ -n "$id" ] && grep -q ': revision [0-9]' "$out" && echo yes)"
check_tcp "rule add: someone else -> web:80 now connects" connected other "$web" 80
sgc show | grep -q "$id.*http (tcp/80) from 198.51.100.0/24"
expect "rule add: show lists the rule with its id" 0 $?

# A duplicate is refused, with its AWS code, under -j as a JSON error.
h0=$(hash)
sgc -j rule add sg-web --inbound --protocol tcp --port 80 \
	--source 198.51.100.0/24 >"$out" 2>/dev/null
expect "duplicate rule: exit 1" 1 $?
expect "duplicate rule: -j error with InvalidPermission.Duplicate" yes \
	"$(jfield "$out" error | grep -q '^InvalidPermission.Duplicate' && echo yes)"
expect "duplicate rule: the config is unchanged" "$h0" "$(hash)"

# -j: {"revision": N}.
sgc -j rule add sg-web --inbound --protocol tcp --port 8080 \
	--source 198.51.100.0/24 >"$out"
expect "-j rule add: {\"revision\": N}" yes \
	"$(grep -Eqx '\{"revision": [0-9]+\}' "$out" && echo yes)"
check_tcp "rule add 8080: someone else -> web:8080 connects" connected other "$web" 8080
sgc rule delete sg-web --inbound --protocol tcp --port 8080 \
	--source 198.51.100.0/24 >/dev/null
expect "rule delete by selector: exit 0" 0 $?
check_tcp "rule delete by selector: web:8080 closed again" timeout other "$web" 8080

# rule delete by the id add printed closes the port.
sgc rule delete sg-web --rule-id "$id" >/dev/null
expect "rule delete --rule-id: exit 0" 0 $?
check_tcp "rule delete: someone else -> web:80 times out again" timeout other "$web" 80
h0=$(hash)
sgc rule delete sg-web --rule-id "$id" >"$out" 2>&1
expect "rule delete of a rule gone: exit 1" 1 $?
expect "rule delete of a rule gone: InvalidPermission.NotFound" yes \
	"$(grep -q 'InvalidPermission.NotFound' "$out" && echo yes)"
expect "rule delete of a rule gone: the config is unchanged" "$h0" "$(hash)"

# set-groups: i-web1 trades sg-web (ssh from me) for sg-alt (8080).
sgc instance set-groups i-web1 sg-alt >/dev/null
expect "set-groups: exit 0" 0 $?
check_tcp "set-groups: someone else -> web:8080 (sg-alt)" connected other "$web" 8080
check_tcp "set-groups: my computer -> web:22 (sg-web gone)" timeout me "$web" 22

# Groups in use cannot be deleted; a free one can, a default one never.
h0=$(hash)
sgc group delete sg-alt >"$out" 2>&1
expect "group delete in use: exit 1" 1 $?
expect "group delete in use: DependencyViolation naming i-web1" yes \
	"$(grep -q 'DependencyViolation: sg-alt is in use: instance i-web1' "$out" && echo yes)"
sgc group delete sg-web >"$out" 2>&1
expect "group delete referenced by a rule: DependencyViolation" yes \
	"$(grep -q 'DependencyViolation: sg-web is in use: rule sgr-.* of sg-db' "$out" && echo yes)"
sgc group delete sg-default >"$out" 2>&1
expect "group delete default: CannotDelete" yes \
	"$(grep -q 'CannotDelete' "$out" && echo yes)"
expect "refused group deletes: the config is unchanged" "$h0" "$(hash)"
check_tcp "refused group deletes: web:8080 still connects" connected other "$web" 8080

# A failed edit changes nothing: invalid port, unknown group, an attached
# instance removed (the apply refuses it).
sgc rule add sg-alt --inbound --protocol tcp --port 70000 \
	--source 0.0.0.0/0 >"$out" 2>&1
expect "rule add port 70000: InvalidPermission.Malformed" yes \
	"$(grep -q 'InvalidPermission.Malformed' "$out" && echo yes)"
sgc instance set-groups i-web1 sg-nope >"$out" 2>&1
expect "set-groups to an unknown group: InvalidGroup.NotFound" yes \
	"$(grep -q 'InvalidGroup.NotFound' "$out" && echo yes)"
sgc instance remove i-web1 >"$out" 2>&1
expect "instance remove while attached: refused" 1 $?
expect "failed edits: the config is unchanged" "$h0" "$(hash)"
check_tcp "failed edits: web:8080 still connects" connected other "$web" 8080
check_tcp "failed edits: web:22 still closed" timeout me "$web" 22

# group create, instance add/remove of an instance attached nowhere.
sgc group create sg-new --name new --description "made by an edit" >/dev/null
expect "group create: exit 0" 0 $?
sgc instance add i-web3 --ips 198.18.1.12 --groups sg-new,sg-db >/dev/null
expect "instance add: exit 0" 0 $?
sgc instance remove i-web3 >/dev/null
expect "instance remove: exit 0" 0 $?
sgc group delete sg-new >/dev/null
expect "group delete of a free group: exit 0" 0 $?
sgc show | grep -q sg-new
expect "group delete: show no longer lists it" 1 $?

lab_detach web "$mode"
lab_finish
