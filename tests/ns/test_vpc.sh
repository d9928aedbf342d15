#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# A whole VPC in one config: more instances than slots. Only the instances
# this host enforces take a slot; the rest lend their addresses to group
# references. Attaching a remote instance compiles it in, and a group
# reference to 5,000 members still decides who gets in.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_vpc
lab_up me other web || exit 1
start_tcp_server web 5432
web=$(ip4 web)
lab_require_sgctl

# sg-app's members: my computer (203.0.113.10) and 4,998 instances
# elsewhere in the VPC (198.19.0.0/16); sg-db lets them reach 5432.
cfg=$LAB_TMP/vpc.yaml
python3 - "$cfg" <<'PY'
import ipaddress, sys
out = ["vpc: vpc-big", "security_groups:",
       "  sg-app: {}",
       "  sg-db:",
       "    inbound:",
       "      - { type: postgresql, source: sg-app }",
       "instances:",
       "  i-web1:",
       "    ips: [198.18.1.10]",
       "    security_groups: [sg-db]",
       "  i-me:",
       "    ips: [203.0.113.10]",
       "    security_groups: [sg-app]"]
base = ipaddress.ip_address("198.19.0.1")
for i in range(4998):
    out += ["  i-m%d:" % i, "    ips: [%s]" % (base + i),
            "    security_groups: [sg-app]"]
open(sys.argv[1], "w").write("\n".join(out) + "\n")
PY

for mode in $LAB_MODES; do
	lab_load "$cfg" "$mode: load 5,000 instances (more than the slots)" || break
	slots=$(sgc show -j | python3 -c 'import json,sys
d = json.load(sys.stdin)
print(sum(1 for i in d["instances"] if i["slot"] is not None))')
	expect "$mode: no instance enforced before attach" 0 "$slots"
	out=$(sgc check --instance i-web1 --inbound --protocol tcp --remote 203.0.113.10 --port 5432 2>&1)
	expect "$mode: check on a remote instance says attach it first" yes \
		"$(grep -q 'not enforced on this host' <<<"$out" && echo yes || echo no)"
	lab_attach web "$mode" i-web1 || continue
	expect "$mode: attach compiles the instance in" xdp "$(xdp_on web "$mode")"
	check_tcp "$mode: member of sg-app -> web:5432" connected me "$web" 5432
	check_tcp "$mode: not a member -> web:5432 times out" timeout other "$web" 5432
	out=$(sgc check --instance i-web1 --inbound --protocol tcp --remote 198.19.10.10 --port 5432 2>&1)
	expect "$mode: check: a remote member is allowed" ACCEPT "$(awk '{print $1; exit}' <<<"$out")"
	lab_detach web "$mode"
	sgc_quiet unload
done
lab_finish
