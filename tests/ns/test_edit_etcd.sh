#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Edits against a real etcd (a private one on loopback, tests/ns/lib_etcd.sh):
# each edit is one transaction that writes only the keys it changes and
# prints the store's new revision; racing edits all land (a transaction
# guarded by the mod_revisions it read retries on a fresh read); errors
# carry AWS codes and write nothing; --vpc is needed when etcd holds
# several VPCs; TLS without a valid client certificate changes nothing.
# Needs no root and no namespaces. Prints PASS/FAIL/SKIP lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SGCTL=${SGCTL:-$here/../../build/sgctl}
case $SGCTL in /*) ;; *) SGCTL=$PWD/$SGCTL ;; esac
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
fail=0

expect() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then
		echo "PASS $1"
	else
		echo "FAIL $1 (expected '$2', got '$3')"
		fail=$((fail + 1))
	fi
}

if ! command -v etcd >/dev/null; then
	echo "SKIP test_edit_etcd: etcd not installed (make deps)"
	exit 0
fi
# lib_etcd.sh reads it unset-safe only without set -u.
ETCD_EXTRA_ARGS=${ETCD_EXTRA_ARGS:-}
# shellcheck source=tests/ns/lib_etcd.sh
. "$here/lib_etcd.sh"
etcd_start || {
	echo "FAIL test_edit_etcd: could not start etcd"
	exit 1
}
out=$ETCD_DIR/out
P=/sgctl/v1/vpc-t

sg() { timeout 30 "$SGCTL" "$@" --etcd "$ETCD_URL"; }

# modrevs: "key=mod_revision ..." of every key under /sgctl/.
modrevs() {
	etcd_ctl get --prefix /sgctl/ -w json | "$PY" -c '
import base64, json, sys
d = json.load(sys.stdin)
print(" ".join("%s=%s" % (base64.b64decode(k["key"]).decode(), k["mod_revision"])
               for k in d.get("kvs", [])))'
}
modrev() { # KEY
	modrevs | tr ' ' '\n' | sed -n "s|^$1=||p"
}
store_rev() {
	etcd_ctl get / -w json | "$PY" -c \
		'import json, sys; print(json.load(sys.stdin)["header"]["revision"])'
}

sg group create sg-web >"$out" 2>&1
expect "empty etcd without --vpc: refused" 1 $?
expect "empty etcd without --vpc: says push or --vpc" yes \
	"$(grep -q 'holds no desired state' "$out" && echo yes)"

sg group create sg-web --vpc vpc-t --name web >/dev/null
expect "group create --vpc: exit 0" 0 $?
sg -j group create sg-db >"$out"
expect "-j group create: {\"revision\": N} equal to the store's" \
	"{\"revision\": $(store_rev)}" "$(cat "$out")"
sg rule add sg-db --inbound --type postgresql --source sg-web >/dev/null
SGCTL_ETCD=$ETCD_URL timeout 30 "$SGCTL" instance add i-web1 --ips 198.18.1.10 \
	--groups sg-web >/dev/null
expect "SGCTL_ETCD names etcd: instance add exit 0" 0 $?

# One edit writes one key.
before=$(modrevs)
sg rule add sg-web --inbound --type http --source 0.0.0.0/0 >"$out"
rev=$(sed -n 's/.*: revision \([0-9]*\)$/\1/p' "$out")
expect "rule add prints the store's revision" "$(store_rev)" "$rev"
expect "rule add wrote only groups/sg-web" "$rev" "$(modrev $P/groups/sg-web)"
for k in $P/vpc $P/groups/sg-db $P/instances/i-web1; do
	expect "rule add left $k alone" \
		"$(tr ' ' '\n' <<<"$before" | sed -n "s|^$k=||p")" "$(modrev "$k")"
done

# Errors write nothing.
rev=$(store_rev)
sg rule add sg-web --inbound --protocol tcp --port 80 --source 0.0.0.0/0 >"$out" 2>&1
expect "duplicate: exit 1" 1 $?
expect "duplicate: InvalidPermission.Duplicate" yes \
	"$(grep -q InvalidPermission.Duplicate "$out" && echo yes)"
sg group delete sg-web >"$out" 2>&1
expect "group delete in use: DependencyViolation" yes \
	"$(grep -q 'DependencyViolation: sg-web is in use' "$out" && echo yes)"
sg -j instance set-groups i-web1 sg-nope >"$out" 2>/dev/null
expect "-j set-groups unknown group: error with InvalidGroup.NotFound" yes \
	"$("$PY" -c 'import json,sys; print("yes" if json.load(open(sys.argv[1]))["error"].startswith("InvalidGroup.NotFound") else "no")' "$out" 2>/dev/null)"
expect "failed edits: the store's revision did not move" "$rev" "$(store_rev)"

# Racing edits: every one lands.
pids=()
for i in $(seq 1 12); do
	sg rule add sg-web --inbound --protocol tcp --port $((2000 + i)) \
		--source 10.0.0.0/8 >/dev/null 2>"$ETCD_DIR/race.$i" &
	pids+=($!)
done
ok=0
for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
expect "12 racing rule adds: all exit 0" 12 "$ok"
n=$(etcd_ctl get $P/groups/sg-web --print-value-only | "$PY" -c \
	'import json, sys; print(len(json.load(sys.stdin)["inbound"]))')
expect "12 racing rule adds: all 13 rules are there" 13 "$n"

# Racing edits of different objects, and a delete by selector.
sg instance set-groups i-web1 sg-db >/dev/null &
p1=$!
sg rule delete sg-web --inbound --protocol tcp --port 2001 --source 10.0.0.0/8 >/dev/null &
p2=$!
wait $p1; r1=$?
wait $p2; r2=$?
expect "set-groups and rule delete racing: both exit 0" "0 0" "$r1 $r2"
etcd_ctl get $P/instances/i-web1 --print-value-only | grep -q '"sg-db"'
expect "set-groups landed" 0 $?
n=$(etcd_ctl get $P/groups/sg-web --print-value-only | "$PY" -c \
	'import json, sys; print(len(json.load(sys.stdin)["inbound"]))')
expect "rule delete landed" 12 "$n"

# A second VPC: --vpc is needed.
etcd_ctl put /sgctl/v1/vpc-u/vpc '{"vpc":"vpc-u"}' >/dev/null
sg group create sg-x >"$out" 2>&1
expect "two VPCs without --vpc: refused, naming both" yes \
	"$(grep -q 'several VPCs (vpc-t, vpc-u)' "$out" && echo yes)"
sg group create sg-x --vpc vpc-u >/dev/null
expect "two VPCs with --vpc: exit 0" 0 $?

# A key written straight into etcd that is not JSON: refused, named.
etcd_ctl put $P/groups/sg-bad '{not json' >/dev/null
rev=$(store_rev)
sg group create sg-y --vpc vpc-t >"$out" 2>&1
expect "malformed key in etcd: refused naming the key" yes \
	"$(grep -q "$P/groups/sg-bad: .*not JSON" "$out" && echo yes)"
expect "malformed key in etcd: nothing written" "$rev" "$(store_rev)"
etcd_ctl del $P/groups/sg-bad >/dev/null

# TLS with client certificates.
etcd_cleanup
etcd_start --tls || {
	echo "FAIL test_edit_etcd: could not start etcd with TLS"
	exit 1
}
C=$ETCD_DIR/certs
out=$ETCD_DIR/out
timeout 30 "$SGCTL" group create sg-web --vpc vpc-t --etcd "$ETCD_URL" \
	--cacert "$C/ca.pem" --cert "$C/client.pem" --key "$C/client-key.pem" >/dev/null
expect "TLS with a client certificate: exit 0" 0 $?
rev=$(store_rev)
timeout 30 "$SGCTL" group create sg-db --vpc vpc-t --etcd "$ETCD_URL" \
	--cacert "$C/ca.pem" --cert "$C/rogue.pem" --key "$C/rogue-key.pem" >"$out" 2>&1
expect "TLS with a rogue client certificate: exit 1" 1 $?
expect "TLS with a rogue client certificate: names etcd" yes \
	"$(grep -q "etcd at $ETCD_URL: " "$out" && echo yes)"
timeout 30 "$SGCTL" group create sg-db --vpc vpc-t --etcd "$ETCD_URL" \
	--cacert "$C/ca.pem" >"$out" 2>&1
expect "TLS without a client certificate: exit 1" 1 $?
expect "TLS refusals: nothing written" "$rev" "$(store_rev)"

[ "$fail" -eq 0 ]
