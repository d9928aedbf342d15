#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# What-if, checked against what really happens afterwards:
#  - `check --config B` while A is loaded gives, case by case, the verdict
#    plain `check` gives once B is loaded (and leaves A's answers alone);
#  - it works with nothing loaded, and leaves no pin behind;
#  - `check --from --to` judges both ends of a path;
#  - `diff A B` predicts what changes: for every change, plain check says
#    its "before" verdict under A and its "after" verdict under B.
# Kernel dry runs only (no traffic): no namespaces needed, but pins are
# made, so it runs under sg-rootlock like the other ns tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_whatif
lab_require_sgctl

A=$LAB_TMP/a.yaml
B=$LAB_TMP/b.yaml
cat >"$A" <<'EOF'
vpc: vpc-lab
security_groups:
  sg-web:
    inbound:
      - { protocol: tcp, ports: 80, source: 0.0.0.0/0 }
      - { protocol: tcp, ports: 22, source: 203.0.113.0/24 }
      - { protocol: tcp, ports: 22, source: "2001:db8:100::/48" }
  sg-db:
    inbound:
      - { protocol: tcp, ports: 5432, source: sg-web }
    outbound: []
instances:
  i-web1: { ips: [198.18.1.10, "2001:db8:1::10"], security_groups: [sg-web] }
  i-db1: { ips: [198.18.2.10, "2001:db8:2::10"], security_groups: [sg-db] }
EOF
cat >"$B" <<'EOF'
vpc: vpc-lab
security_groups:
  sg-web:
    inbound:
      - { protocol: tcp, ports: 80, source: 0.0.0.0/0 }
      - { protocol: tcp, ports: 8080, source: 203.0.113.0/24 }
      - { protocol: tcp, ports: 22, source: 203.0.113.10/32 }
    outbound:
      - { protocol: tcp, ports: 5432-5433, destination: sg-db }
      - { protocol: tcp, ports: 443, destination: 0.0.0.0/0 }
  sg-db:
    inbound:
      - { protocol: tcp, ports: 5432-5433, source: sg-web }
      - { protocol: icmp, icmp_type: 8, source: 198.18.0.0/16 }
    outbound: []
instances:
  i-web1: { ips: [198.18.1.10, "2001:db8:1::10"], security_groups: [sg-web] }
  i-db1: { ips: [198.18.2.10, "2001:db8:2::10"], security_groups: [sg-db] }
EOF

# Cases: instance direction protocol remote [port].
CASES=(
	"i-web1 inbound tcp 203.0.113.10 22"
	"i-web1 inbound tcp 203.0.113.20 22"
	"i-web1 inbound tcp 203.0.113.20 8080"
	"i-web1 inbound tcp 198.51.100.1 8080"
	"i-web1 inbound tcp 198.51.100.1 80"
	"i-web1 inbound tcp 2001:db8:100::10 22"
	"i-web1 outbound tcp 198.18.2.10 5432"
	"i-web1 outbound tcp 198.51.100.1 3306"
	"i-web1 outbound udp 198.51.100.1 53"
	"i-db1 inbound tcp 198.18.1.10 5433"
	"i-db1 inbound icmp 198.18.1.10"
	"i-db1 inbound tcp 2001:db8:1::10 5432"
)

# verdict CASE [ARGS...]: ACCEPT, REJECT, or "exit N".
verdict() {
	local inst dir proto remote port out rc
	read -r inst dir proto remote port <<<"$1"
	shift
	out=$(sgc check --instance "$inst" "--$dir" --protocol "$proto" \
		--remote "$remote" ${port:+--port "$port"} "$@" 2>/dev/null)
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "exit $rc"
		return
	fi
	awk '{print $1; exit}' <<<"$out"
}

leftovers() {
	local n
	n=$(find "$(dirname "$LAB_PIN")" -maxdepth 1 -name "$(basename "$LAB_PIN")-whatif-*" 2>/dev/null | wc -l)
	echo "$n"
}

# ---- nothing loaded: a file for a machine with nothing on it yet
out=$(sgc check --instance i-web1 --inbound --protocol tcp --remote 203.0.113.20 --port 8080 --config "$B" 2>&1)
expect "nothing loaded: check --config answers" ACCEPT "$(awk '{print $1; exit}' <<<"$out")"
expect "nothing loaded: the answer names the rule id" yes \
	"$(grep -Eq 'rule id: sgr-[0-9a-f]{17}$' <<<"$out" && echo yes || echo "no: $out")"
expect "nothing loaded: no state was created" no "$([ -e "$LAB_PIN" ] && echo yes || echo no)"
expect "nothing loaded: no scratch state left" 0 "$(leftovers)"
out=$(sgc check --instance i-web1 --inbound --protocol tcp --remote 203.0.113.20 --port 8080 2>&1)
expect "nothing loaded: plain check still says so" yes \
	"$(grep -q 'no config loaded' <<<"$out" && echo yes || echo no)"

# ---- A loaded: what B would do, and A's own answers untouched
lab_load "$A" "load A" || lab_finish
declare -A under_b under_a
for c in "${CASES[@]}"; do
	under_b[$c]=$(verdict "$c" --config "$B")
	under_a[$c]=$(verdict "$c")
	expect "A loaded: check --config A = plain check ($c)" "${under_a[$c]}" \
		"$(verdict "$c" --config "$A")"
done
expect "check --config leaves no scratch state" 0 "$(leftovers)"
expect "B changes some of these verdicts" yes \
	"$(for c in "${CASES[@]}"; do [ "${under_a[$c]}" != "${under_b[$c]}" ] && echo x; done | grep -q x && echo yes || echo no)"
j=$(sgc -j check --instance i-web1 --inbound --protocol tcp --remote 203.0.113.20 --port 8080 --config "$B")
expect "-j: the candidate's rule id" yes \
	"$(jq -r '.rule_id' <<<"$j" | grep -Eq '^sgr-[0-9a-f]{17}$' && echo yes || echo no)"
expect "-j: the config judged" "$B" "$(jq -r '.config' <<<"$j")"
expect "-j: the kernel ran on a scratch copy" true "$(jq -r '.kernel.scratch' <<<"$j")"

# ---- a path, under A (loaded) and B (candidate)
p=$(sgc -j check --from i-web1 --to i-db1 --protocol tcp --port 5433)
expect "path under A: web -> db:5433 REJECT" REJECT "$(jq -r .verdict <<<"$p")"
expect "path under A: the source's egress accepts" ACCEPT "$(jq -r .source.verdict <<<"$p")"
expect "path under A: the destination's ingress rejects" REJECT "$(jq -r .destination.verdict <<<"$p")"
expect "path under A: the destination's closest rule is sg-db's" sg-db \
	"$(jq -r '.destination.closest_rules[0].group' <<<"$p")"
expect "path under A: addresses are the instances' first IPv4" \
	"198.18.1.10 198.18.2.10" "$(jq -r '"\(.source.address) \(.destination.address)"' <<<"$p")"
pb=$(sgc -j check --from i-web1 --to i-db1 --protocol tcp --port 5433 --config "$B")
expect "path under B: web -> db:5433 ACCEPT" ACCEPT "$(jq -r .verdict <<<"$pb")"
expect "path under B: the destination's deciding rule has an id" yes \
	"$(jq -r .destination.rule_id <<<"$pb" | grep -Eq '^sgr-' && echo yes || echo no)"
p6=$(sgc -j check --from i-web1 --to i-db1 --protocol tcp --port 3306 --family 6 --config "$B")
expect "path under B, IPv6: web -> db:3306 stopped at both ends" "REJECT REJECT REJECT 2001:db8:2::10" \
	"$(jq -r '"\(.verdict) \(.source.verdict) \(.destination.verdict) \(.destination.address)"' <<<"$p6")"
t=$(sgc check --from i-web1 --to i-db1 --protocol tcp --port 5433)
expect "path text: first line says which end stops it" yes \
	"$(head -n 1 <<<"$t" | grep -q "^REJECT tcp port 5433 from i-web1 (198.18.1.10) to i-db1 (198.18.2.10): the destination's inbound rules stop it" && echo yes || echo "no: $(head -n 1 <<<"$t")")"

# ---- diff A B: every change checked before (A loaded) and after (B)
d=$(sgc -j diff "$A" "$B")
expect "diff exits 0" 0 $?
dl=$(sgc -j diff "$B")
expect "diff against the loaded config = diff of the files" \
	"$(jq -c .changes <<<"$d")" "$(jq -c .changes <<<"$dl")"
nchanges=$(jq '.changes | length' <<<"$d")
expect "diff finds changes" yes "$([ "${nchanges:-0}" -ge 5 ] && echo yes || echo no)"
# One sample flow per change: the first address of its first prefix, its
# lowest port; protocols check cannot name are left out.
samples=$(jq -r '.changes[] |
	(if .direction == "inbound" then .sources[0] else .destinations[0] end | split("/")[0]) as $a |
	(if .protocol_number == 6 then "tcp \($a) \(.from_port)"
	 elif .protocol_number == 17 then "udp \($a) \(.from_port)"
	 elif .protocol_number == 1 and .family == 4 then "icmp \($a) - \(.icmp_from.type) \(.icmp_from.code)"
	 elif .protocol_number == -1 then "tcp \($a) 1"
	 else empty end) as $f |
	"\(.instance) \(.direction) \($f) \(.before) \(.after)"' <<<"$d")
declare -a sample_lines
while read -r line; do
	[ -n "$line" ] && sample_lines+=("$line")
done <<<"$samples"
expect "diff gives flows to spot-check" yes "$([ "${#sample_lines[@]}" -ge 5 ] && echo yes || echo no)"

# spot INST DIR PROTO ADDR PORT|- [TYPE CODE]: plain check's verdict.
spot() {
	local extra=()
	if [ "$3" = icmp ]; then
		extra=(--icmp-type "$6" --icmp-code "$7")
	else
		extra=(--port "$5")
	fi
	sgc check --instance "$1" "--$2" --protocol "$3" --remote "$4" "${extra[@]}" 2>/dev/null |
		awk '{print $1; exit}'
}
for s in "${sample_lines[@]}"; do
	read -r -a f <<<"$s"
	n=${#f[@]}
	expect "diff before, under A: ${f[*]}" "${f[n - 2]}" "$(spot "${f[@]:0:n-2}")"
done

# ---- B loaded: the predictions come true
lab_load "$B" "load B" || lab_finish
for c in "${CASES[@]}"; do
	expect "B loaded: plain check = what check --config B said ($c)" \
		"${under_b[$c]}" "$(verdict "$c")"
done
for s in "${sample_lines[@]}"; do
	read -r -a f <<<"$s"
	n=${#f[@]}
	expect "diff after, under B: ${f[*]}" "${f[n - 1]}" "$(spot "${f[@]:0:n-2}")"
done
p=$(sgc -j check --from i-web1 --to i-db1 --protocol tcp --port 5433)
expect "path under B loaded = what --config B said" \
	"$(jq -c '[.verdict, .source.verdict, .destination.verdict, .destination.rule_id]' <<<"$pb")" \
	"$(jq -c '[.verdict, .source.verdict, .destination.verdict, .destination.rule_id]' <<<"$p")"
expect "diff of the loaded B against B: nothing" 0 "$(sgc -j diff "$B" | jq '.changes | length')"
expect "no scratch state left at the end" 0 "$(leftovers)"

lab_finish
