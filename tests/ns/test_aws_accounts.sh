#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Real AWS accounts (issue 14), end to end on a private pin dir: --vpc is
# stored with the inputs (show reads them as load did), a NAT gateway's
# interface (Groups: []) cannot be attached and show says why, groups of
# a peered VPC or another account are shown and checked as outside these
# inputs, the Name tag is shown, and -j validate is one object. The
# document-by-document expectations are tests/unit/test_aws_real.c.
set -u
here=$(cd "$(dirname "$0")" && pwd)
aws="$here/../aws"
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_aws_accounts
lab_require_sgctl

out=$LAB_TMP/out
cat >"$LAB_TMP/i.yaml" <<'YAML'
instances:
  i-a: { ips: [10.5.0.5], security_groups: [sg-0e500000000000web] }
YAML

# ---- several VPCs: refused without --vpc, one taken with it ----------------
sgc load "$aws/real-two-vpcs.json" >"$out" 2>&1
expect "several VPCs: load refused" 1 "$?"
expect "several VPCs: one message naming --vpc" 1 \
	"$(grep -c 'these inputs hold 2 VPCs.*--vpc ID' "$out")"
sgc load --vpc vpc-0aaaa000000000001 "$aws/real-two-vpcs.json" >"$out" 2>&1
expect "--vpc: loaded" 0 "$?"
sgc show >"$out" 2>&1
expect "--vpc kept with the inputs: show reads the VPC taken" 1 \
	"$(grep -c '^vpc-0aaaa000000000001 ' "$out")"
expect "show prints the Name tag" 1 "$(grep -c '\[Name: web-tier\]' "$out")"

# ---- an interface AWS does not filter ---------------------------------------
sgc_quiet load "$aws/real-sgs-nat.json" "$aws/real-enis-nat.json"
expect "NAT gateway interface: loaded" 0 "$?"
sgc attach lo --instance eni-0d400000000000nat >"$out" 2>&1
expect "NAT gateway interface: attach refused" 1 "$?"
expect "attach says there is nothing to enforce" 1 \
	"$(grep -c 'nothing to enforce' "$out")"
sgc -j show >"$out" 2>/dev/null
expect "show -j: filtered false, no group" "False []" \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); i=[x for x in d["instances"] if x["id"]=="eni-0d400000000000nat"][0]; print(i["filtered"], i["groups"])' "$out")"

# ---- groups outside these inputs --------------------------------------------
sgc_quiet load "$aws/real-peering.json" "$LAB_TMP/i.yaml"
expect "peering and another account: loaded fail-closed" 0 "$?"
sgc show >"$out" 2>&1
expect "show: members outside these inputs, twice" 2 \
	"$(grep -c 'members outside these inputs' "$out")"
sgc check --instance i-a --inbound --protocol tcp --remote 10.9.9.9 \
	--port 60001 >"$out" 2>&1
expect "check: REJECT, naming the peering connection" "1 1" \
	"$(grep -c '^REJECT' "$out") $(grep -c 'outside these inputs (peering connection pcx-0e5f6000000000001' "$out")"

# ---- -j validate: one object ------------------------------------------------
"$SGCTL" -j validate "$aws/real-peering.json" >"$out" 2>"$LAB_TMP/err"
expect "-j validate: one object with verdict and warnings, stderr empty" \
	"True 2 " \
	"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["valid"], d["warnings"], end=" ")' "$out")$(cat "$LAB_TMP/err")"

echo "test_aws_accounts: $LAB_PASS passed, $LAB_FAIL failed"
lab_finish
