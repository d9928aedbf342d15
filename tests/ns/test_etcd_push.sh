#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# sgctl push against a private etcd (tests/ns/lib_etcd.sh): the keys it
# writes (read back with etcdctl), a second push of the same files writes
# nothing, an invalid file writes nothing, a group removed from the file
# is deleted from etcd (the agents' status/ keys are left alone), and etcd
# over TLS with client certificates: the right one works, none or one
# from another CA fails with a clear error and writes nothing.
# Needs no root and no namespaces. Prints PASS/FAIL/SKIP lines.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
SGCTL=${SGCTL:-$here/../build/sgctl}
case $SGCTL in /*) ;; *) SGCTL=$PWD/$SGCTL ;; esac
pass=0 fail=0

. "$here/ns/lib_etcd.sh"

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	echo "SKIP test_etcd_push: etcd and etcdctl are not installed (make deps)"
	exit 0
fi
if [ ! -x "$SGCTL" ]; then
	echo "FAIL test_etcd_push: sgctl not found at $SGCTL"
	exit 1
fi

ok() {
	echo "PASS $1"
	pass=$((pass + 1))
}
bad() {
	echo "FAIL $1"
	shift
	[ $# -gt 0 ] && printf '  %s\n' "$@"
	fail=$((fail + 1))
}
expect() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1" "want: $2" "got:  $3"; fi
}

etcd_start || {
	echo "FAIL test_etcd_push: could not start etcd"
	exit 1
}
tmp=$ETCD_DIR/files
mkdir -p "$tmp"
P=/sgctl/v1/vpc-lab/

cat >"$tmp/a.yaml" <<'EOF'
vpc: vpc-lab
security_groups:
  sg-ssh:
    description: SSH from my computer only
    inbound:
      - { type: ssh, source: 203.0.113.10/32 }
  sg-web:
    description: web server
    inbound:
      - { type: http, source: 0.0.0.0/0 }
  sg-db:
    description: database
    inbound:
      - { protocol: tcp, ports: 5432, source: sg-web }
instances:
  i-web1:
    ips: [198.18.1.10]
    security_groups: [sg-web, sg-ssh]
  i-db1:
    ips: [198.18.1.20]
    security_groups: [sg-db]
EOF

keys() { etcd_ctl get --prefix --keys-only "$P" | grep -v '^$' | tr '\n' ' '; }
rev() { etcd_ctl get --write-out=json / | sed -n 's/.*"revision":\([0-9]*\).*/\1/p'; }

# ---- a first push writes one key per object
out=$("$SGCTL" push "$tmp/a.yaml" --etcd "$ETCD_URL" 2>&1)
rc=$?
expect "push: exit 0" 0 "$rc"
r1=$(rev)
expect "push: prints the new revision" "revision $r1" "$out"
expect "push: one key per object" \
	"${P}groups/sg-db ${P}groups/sg-ssh ${P}groups/sg-web ${P}instances/i-db1 ${P}instances/i-web1 ${P}vpc " \
	"$(keys)"
v=$(etcd_ctl get --print-value-only "${P}groups/sg-db")
case $v in
*5432*sg-web*) ok "push: a group's value is its object" ;;
*) bad "push: a group's value is its object" "got: $v" ;;
esac

# ---- the same files again: nothing written
out=$("$SGCTL" -j push "$tmp/a.yaml" --etcd "$ETCD_URL" 2>&1)
expect "push unchanged: revision stays" "$r1" "$(rev)"
expect "push unchanged: -j prints the current revision" \
	"{\"revision\": $r1}" "$(tr -d '\n' <<<"$out" | sed 's/{ *"revision": *\([0-9]*\) *}/{"revision": \1}/')"

# ---- an invalid file: exit 1, the diagnostics of load, nothing written
sed 's/ports: 5432/ports: 70000/' "$tmp/a.yaml" >"$tmp/bad.yaml"
out=$("$SGCTL" push "$tmp/bad.yaml" --etcd "$ETCD_URL" 2>&1)
rc=$?
want=$("$SGCTL" validate "$tmp/bad.yaml" 2>&1)
expect "push invalid: exit 1" 1 "$rc"
expect "push invalid: the same diagnostics as validate" "$want" "$out"
expect "push invalid: nothing written" "$r1" "$(rev)"

# ---- a status key of an agent, then a group removed from the file
etcd_ctl put "${P}status/host1" '{"revision": 1}' >/dev/null
r2=$(rev)
sed '/^  sg-ssh:/,/^  sg-web:/{/^  sg-web:/!d}' "$tmp/a.yaml" |
	sed 's/security_groups: \[sg-web, sg-ssh\]/security_groups: [sg-web]/' >"$tmp/b.yaml"
out=$(SGCTL_ETCD=$ETCD_URL "$SGCTL" push "$tmp/b.yaml" 2>&1)
rc=$?
expect "push removal (SGCTL_ETCD): exit 0" 0 "$rc"
r3=$(rev)
expect "push removal: one transaction" "$((r2 + 1))" "$r3"
expect "push removal: prints it" "revision $r3" "$out"
expect "push removal: the group's key is gone, status stays" \
	"${P}groups/sg-db ${P}groups/sg-web ${P}instances/i-db1 ${P}instances/i-web1 ${P}status/host1 ${P}vpc " \
	"$(keys)"
mods=$(etcd_ctl get --write-out=fields "${P}groups/sg-web" | sed -n 's/^"ModRevision" : //p')
expect "push removal: unchanged keys not rewritten" "$r1" "$mods"

# ---- real AWS inputs: --vpc picks one VPC; proved quotas are kept
aws=$here/aws
r4=$(rev)
"$SGCTL" push "$aws/real-two-vpcs.json" --etcd "$ETCD_URL" >/dev/null 2>&1
rc=$?
expect "push of two VPCs without --vpc: exit 1" 1 "$rc"
expect "push of two VPCs without --vpc: nothing written" "$r4" "$(rev)"
out=$("$SGCTL" push --vpc vpc-0aaaa000000000001 "$aws/real-two-vpcs.json" \
	--etcd "$ETCD_URL" 2>/dev/null)
expect "push --vpc: only that VPC" \
	"/sgctl/v1/vpc-0aaaa000000000001/groups/sg-0a1000000000000aa /sgctl/v1/vpc-0aaaa000000000001/groups/sg-0a1000000000000ab /sgctl/v1/vpc-0aaaa000000000001/vpc " \
	"$(etcd_ctl get --prefix --keys-only /sgctl/v1/vpc-0 | grep -v '^$' | tr '\n' ' ')"
"$SGCTL" push "$aws/real-quota-70.json" --etcd "$ETCD_URL" >/dev/null 2>&1
v=$(etcd_ctl get --print-value-only /sgctl/v1/vpc-0cccc000000000003/vpc)
case $v in
*'"rules_per_group":70'*) ok "push: a quota AWS's JSON proves is stored with the VPC" ;;
*) bad "push: a quota AWS's JSON proves is stored with the VPC" "got: $v" ;;
esac

# ---- errors
out=$("$SGCTL" push "$tmp/a.yaml" 2>&1)
rc=$?
expect "push without etcd: usage error" 2 "$rc"
out=$("$SGCTL" push "$tmp/a.yaml" --etcd http://127.0.0.1:1 2>&1)
rc=$?
case $rc:$out in
1:*"etcd at http://127.0.0.1:1"*"refused"*) ok "push to nothing: names the URL" ;;
*) bad "push to nothing: names the URL" "exit $rc: $out" ;;
esac
out=$("$SGCTL" -j push "$tmp/a.yaml" --etcd http://127.0.0.1:1 2>/dev/null)
case $out in
*'"error"'*) ok "push -j error: a JSON object with error" ;;
*) bad "push -j error: a JSON object with error" "got: $out" ;;
esac
etcd_cleanup

# ---- TLS with client certificates
if ! command -v openssl >/dev/null; then
	echo "SKIP push over TLS: no openssl"
else
	etcd_start --tls || {
		echo "FAIL test_etcd_push: could not start etcd with TLS"
		exit 1
	}
	c=$ETCD_DIR/certs
	mkdir -p "$ETCD_DIR/files"
	cat >"$ETCD_DIR/files/a.yaml" <<'EOF'
vpc: vpc-lab
security_groups:
  sg-web:
    inbound:
      - { type: http, source: 0.0.0.0/0 }
EOF
	f=$ETCD_DIR/files/a.yaml
	r0=$(rev)
	out=$("$SGCTL" push "$f" --etcd "$ETCD_URL" --cacert "$c/ca.pem" 2>&1)
	rc=$?
	case $rc:$out in
	1:*"etcd at $ETCD_URL"*"TLS handshake refused: client certificate required"*)
		ok "push TLS without a client certificate: refused clearly" ;;
	*) bad "push TLS without a client certificate: refused clearly" "exit $rc: $out" ;;
	esac
	out=$("$SGCTL" push "$f" --etcd "$ETCD_URL" --cacert "$c/ca.pem" \
		--cert "$c/rogue.pem" --key "$c/rogue-key.pem" 2>&1)
	rc=$?
	case $rc:$out in
	1:*"etcd at $ETCD_URL"*"TLS handshake refused: client certificate"*)
		ok "push TLS with a certificate of another CA: refused clearly" ;;
	*) bad "push TLS with a certificate of another CA: refused clearly" "exit $rc: $out" ;;
	esac
	out=$("$SGCTL" push "$f" --etcd "$ETCD_URL" --cert "$c/client.pem" \
		--key "$c/client-key.pem" 2>&1)
	rc=$?
	case $rc:$out in
	1:*"etcd at $ETCD_URL"*"--cacert"*) ok "push TLS, server not trusted: names --cacert" ;;
	*) bad "push TLS, server not trusted: names --cacert" "exit $rc: $out" ;;
	esac
	expect "push TLS refused: nothing written" "$r0" "$(rev)"
	expect "push TLS refused: no key" "" "$(keys)"
	out=$("$SGCTL" push "$f" --etcd "$ETCD_URL" --cacert "$c/ca.pem" \
		--cert "$c/client.pem" --key "$c/client-key.pem" 2>&1)
	rc=$?
	expect "push TLS with the client certificate: exit 0" 0 "$rc"
	expect "push TLS with the client certificate: written" \
		"${P}groups/sg-web ${P}vpc " "$(keys)"
	expect "push TLS: prints the revision" "revision $(rev)" "$out"
	etcd_cleanup
fi

echo "test_etcd_push: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
