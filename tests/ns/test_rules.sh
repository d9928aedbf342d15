#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Knowing every rule, with real traffic: a rule that admitted flows shows
# its hits and last use in `sgctl rules`, an idle rule is in the --unused
# report, untracked traffic counts per packet, a flow-log line names the
# admitting rule and a drop's reason, counters survive a reload that
# keeps the rules and a conntrack flush, and `audit on` lets a would-be
# drop through (counted and logged as an audited REJECT) until `audit off`.
# ${...} in single quotes are flow-log field names, never expanded.
# shellcheck disable=SC2016
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_rules
lab_up me other web || exit 1
start_tcp_server web 22
start_udp_echo web 9999
start_udp_echo web 9998
web=$(ip4 web) other=$(ip4 other)
lab_require_sgctl
if ! command -v jq >/dev/null; then
	echo "SKIP test_rules: jq not installed"
	exit 0
fi

# rule FIELD DESCRIPTION: FIELD of the rule with that description
# (sgctl rules -j), e.g. rule .hits "my computer".
rule() {
	sgc rules -j 2>/dev/null |
		jq -r --arg d "$2" ".rules[] | select(.description == \$d) | $1"
}

for mode in $LAB_MODES; do
	lab_load "$here/rules.yaml" "$mode: load rules.yaml" || break
	lab_attach web "$mode" i-web1 || continue

	ssh_id=$(rule .id "my computer")
	idle_id=$(rule .id "never used")
	expect "$mode: rules lists every rule with its id" yes \
		"$([[ $ssh_id =~ ^sgr-[0-9a-f]{17}$ && $idle_id =~ ^sgr-[0-9a-f]{17}$ ]] && echo yes || echo no)"
	expect "$mode: before any traffic, no hits" "0 null" \
		"$(rule '"\(.hits) \(.last_used)"' "my computer")"

	check_tcp "$mode: my computer -> web:22 connects" connected me "$web" 22
	check_tcp "$mode: my computer -> web:22 again" connected me "$web" 22
	expect "$mode: the ssh rule counts 2 new flows" 2 "$(rule .hits "my computer")"
	now=$(date +%s)
	last=$(rule .last_used "my computer")
	expect "$mode: the ssh rule's last use is now" yes \
		"$([ "${last:-0}" != null ] && [ $((now - last)) -le 5 ] && [ $((last - now)) -le 5 ] && echo yes || echo "no: $last vs $now")"
	pk=$(rule .packets "my computer")
	expect "$mode: the ssh rule counts the flows' packets" yes \
		"$([ "${pk:-0}" -ge 6 ] 2>/dev/null && echo yes || echo "no: $pk")"
	expect "$mode: per instance: i-web1 has the same hits" 2 \
		"$(rule '.instances[] | select(.instance == "i-web1") | .hits' "my computer")"
	plain=$(sgc rules --group sg-rules)
	expect "$mode: plain rules shows hits and last use" yes \
		"$(grep -E "^$ssh_id sg-rules inbound hits 2 packets [0-9]+ bytes [0-9]+ last used 20[0-9-]+T" <<<"$plain" >/dev/null && echo yes || echo no)"

	# Untracked: each packet is a hit.
	for _ in 1 2 3; do probe_udp me "$web" 9998 >/dev/null; done
	hits=$(rule .hits "untracked udp")
	expect "$mode: the untracked rule counts its packets" yes \
		"$([ "${hits:-0}" -ge 3 ] 2>/dev/null && echo yes || echo "no: $hits")"

	# The clean-up report.
	unused=$(sgc rules --unused)
	expect "$mode: --unused names the idle rule" yes \
		"$(grep -q "^$idle_id " <<<"$unused" && echo yes || echo no)"
	expect "$mode: --unused leaves out the used rule" no \
		"$(grep -q "^$ssh_id " <<<"$unused" && echo yes || echo no)"
	expect "$mode: --unused --since 1h leaves out a rule used now" no \
		"$(sgc rules --unused --since 1h | grep -q "^$ssh_id " && echo yes || echo no)"
	sleep 2
	expect "$mode: --unused --since 1s names a rule idle for 2s" yes \
		"$(sgc rules --unused --since 1s | grep -q "^$ssh_id " && echo yes || echo no)"

	# Flow logs name the rule and the reason.
	check_tcp "$mode: someone else -> web:22 times out" timeout other "$web" 22
	fmt='${sg-rule-id} ${srcaddr} ${dstport} ${action} ${reason} ${flow-direction} ${tcp-flags} ${vpc-id} ${type}'
	log=$(sgc flowlog --instance i-web1 --format "$fmt")
	expect "$mode: flowlog ACCEPT line carries the admitting rule id" yes \
		"$(grep -Eq "^$ssh_id $(ip4 me) 22 ACCEPT - ingress [0-9]+ vpc-lab IPv4$" <<<"$log" && echo yes || echo "no: $log")"
	expect "$mode: flowlog REJECT line carries the drop reason" yes \
		"$(grep -Eq "^- $other 22 REJECT no-rule ingress 2 vpc-lab IPv4$" <<<"$log" && echo yes || echo "no: $log")"
	expect "$mode: flowlog refuses an unknown field, listing the known ones" yes \
		"$(sgc flowlog --format '${nope}' 2>&1 | grep -q 'known fields: version' && echo yes || echo no)"
	out="$LAB_TMP/flows-$mode.log"
	sgc_quiet flowlog --instance i-web1 -j --output "$out"
	expect "$mode: flowlog --output -j appends one object per record" yes \
		"$(jq -e -s 'length > 0 and (map(has("sg-rule-id")) | all)' "$out" >/dev/null && echo yes || echo no)"
	sgc_quiet flowlog --instance i-web1 --output "$out" --max-size 1 --keep 2
	sgc_quiet flowlog --instance i-web1 --output "$out" --max-size 1 --keep 2
	expect "$mode: flowlog --output rotates by size, keeping 2" "yes no" \
		"$([ -s "$out.1" ] && echo yes || echo no) $([ -e "$out.3" ] && echo yes || echo no)"

	# A reload that keeps the rules keeps their counts.
	lab_load "$here/rules-b.yaml" "$mode: reload with one rule more"
	expect "$mode: the ssh rule's hits survive the reload" 2 "$(rule .hits "my computer")"
	expect "$mode: the new rule starts at 0" 0 "$(rule .hits "added by the reload")"
	sgc_quiet conntrack flush --instance i-web1
	expect "$mode: flushed flows still count for their rule" 2 "$(rule .hits "my computer")"

	# Audit: the would-be drop passes, is counted and logged.
	sgc_quiet audit on sg-rules
	check_tcp "$mode: audited: someone else -> web:22 connects" connected other "$web" 22
	awd=$(sgc stats --instance i-web1 -j | jq '.instances[0].inbound.counters.audit_would_drop.packets')
	expect "$mode: stats counts audit_would_drop" yes \
		"$([ "${awd:-0}" -ge 1 ] 2>/dev/null && echo yes || echo "no: $awd")"
	log=$(sgc flowlog --instance i-web1 --format '${srcaddr} ${dstport} ${action} ${reason} ${audit}')
	expect "$mode: the audited flow is logged REJECT ... AUDIT" yes \
		"$(grep -q "^$other 22 REJECT no-rule AUDIT$" <<<"$log" && echo yes || echo "no: $log")"
	sgc_quiet audit off sg-rules
	check_tcp "$mode: audit off: someone else -> web:22 times out again" timeout other "$web" 22

	lab_detach web "$mode"
	# A fresh state for the next mode: counters start at 0.
	sgc_quiet unload
done
lab_finish
