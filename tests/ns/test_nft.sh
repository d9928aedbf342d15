#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Living with other tools: the seed's cases imported from AWS JSON (two
# files) and enforced by sgctl; the boot sequence of sgctl.service (load,
# attach --all); and sgctl export nft: the ruleset passes `nft -c`, and
# applied with nft inside the instance's namespace (no sgctl attached) it
# enforces the seed's cases: my computer reaches SSH, someone else times
# out, outbound is allowed, "connection refused" when nothing listens.
set -u
here=$(cd "$(dirname "$0")" && pwd)
aws="$here/../aws"
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_nft
if ! command -v nft >/dev/null; then
	echo "SKIP test_nft: nft not installed"
	exit 0
fi
lab_require_sgctl

# ---- every export is a valid ruleset ----------------------------------------
nft_check() { # LABEL FILE...
	local label=$1 out
	shift
	out="$LAB_TMP/check.nft"
	if ! "$SGCTL" export nft "$@" >"$out" 2>"$LAB_TMP/export.err"; then
		expect "nft -c: $label" valid "export-failed:$(head -c 200 "$LAB_TMP/export.err")"
		return
	fi
	if nft -c -f "$out" 2>"$LAB_TMP/nft.err"; then
		expect "nft -c: $label" valid valid
	else
		expect "nft -c: $label" valid "invalid:$(head -n 3 "$LAB_TMP/nft.err" | tr '\n' ' ')"
	fi
}
nft_check "seed.yaml" "$here/seed.yaml"
nft_check "AWS seed JSON" "$aws/seed-sgs.json" "$aws/seed-enis.json"
nft_check "AWS lab JSON + prefix list YAML" "$aws/lab-prefix-lists.yaml" \
	"$aws/lab-sgs.json" "$aws/lab-enis.json"
for f in groups refs proto stateful default; do
	[ -f "$here/$f.yaml" ] && nft_check "$f.yaml" "$here/$f.yaml"
done

# ---- the seed cases, from AWS JSON: by sgctl, then by netfilter -----------
inst=eni-0a1b2c3d4e5f60001
lab_up me other web || exit 1
start_tcp_server web 22
start_tcp_server other 80
web=$(ip4 web)
web6=$(ip6 web)
check_tcp "baseline: other -> web:22 without a ruleset" connected other "$web" 22

# Exported from the loaded config (the stored archive of two JSON files)
# and from the files directly: the same ruleset.
if sgc_quiet load "$aws/seed-sgs.json" "$aws/seed-enis.json"; then
	expect "load AWS JSON (two files)" ok ok
	sgc export nft --instance "$inst" >"$LAB_TMP/loaded.nft" 2>>"$LAB_TMP/sgctl.log"
	"$SGCTL" export nft --instance "$inst" "$aws/seed-sgs.json" "$aws/seed-enis.json" \
		>"$LAB_TMP/web.nft"
	if cmp -s "$LAB_TMP/loaded.nft" "$LAB_TMP/web.nft"; then
		expect "export from the loaded config = from the files" same same
	else
		expect "export from the loaded config = from the files" same different
	fi
	expect "show -j names the interface's instance" "$inst" \
		"$(sgc show -j 2>/dev/null | grep -o "\"$inst\"" | head -n 1 | tr -d '"')"
	# The imported config, enforced by sgctl itself first (attach re-reads
	# the stored archive).
	if lab_attach web nic "$inst"; then
		check_tcp "xdp (AWS JSON): my computer -> web:22 allowed" connected me "$web" 22
		check_tcp "xdp (AWS JSON): someone else -> web:22 times out" timeout other "$web" 22
		lab_detach web nic
	fi
	sgc_quiet unload
else
	expect "load AWS JSON (two files)" ok failed
	lab_log_tail 6
	"$SGCTL" export nft --instance "$inst" "$aws/seed-sgs.json" "$aws/seed-enis.json" \
		>"$LAB_TMP/web.nft"
fi

# What sgctl.service runs at boot: load, then attach --all (every instance
# that names its interface; here eth0 inside web's namespace).
sed 's/^  i-web1:$/  i-web1:\n    interface: eth0/' "$here/seed.yaml" >"$LAB_TMP/boot.yaml"
if sgc_quiet load "$LAB_TMP/boot.yaml" &&
	sgc_quiet attach --all --netns "$(nsname web)"; then
	expect "boot: load + attach --all" ok ok
	expect "boot: attached (xdp on eth0)" xdp "$(xdp_on web nic)"
	check_tcp "boot: my computer -> web:22 allowed" connected me "$web" 22
	check_tcp "boot: someone else -> web:22 times out" timeout other "$web" 22
else
	expect "boot: load + attach --all" ok failed
	lab_log_tail 6
fi
sgc_quiet unload

if ns_exec web nft -f "$LAB_TMP/web.nft" 2>"$LAB_TMP/nft.err"; then
	expect "nft -f in web's namespace" ok ok
else
	expect "nft -f in web's namespace" ok "failed:$(head -n 2 "$LAB_TMP/nft.err" | tr '\n' ' ')"
	lab_finish
fi
expect "no sgctl attached" none "$(xdp_on web nic)"
check_tcp "nft: case 1 my computer -> web:22 allowed" connected me "$web" 22
check_tcp "nft: case 2 someone else -> web:22 times out" timeout other "$web" 22
check_tcp "nft: case 3 web -> internet:80 (default egress)" connected web "$(ip4 other)" 80
check_tcp "nft: case 4 my computer -> web:8080 allowed, nothing listens" refused me "$web" 8080
check_tcp "nft: someone else -> web:8080 times out" timeout other "$web" 8080
check_tcp "nft: someone else -> web:22 over IPv6 times out" timeout other "$web6" 22
check_tcp "nft: web -> internet:80 over IPv6 (default egress ::/0)" connected web "$(ip6 other)" 80
check_ping "nft: someone else's ping times out (no ICMP rule)" timeout other "$web"
# Applying it again replaces the table (nft -f is idempotent).
if ns_exec web nft -f "$LAB_TMP/web.nft" 2>/dev/null &&
	[ "$(ns_exec web nft list tables | grep -c 'inet sgctl')" = 1 ]; then
	expect "nft -f again: one table" ok ok
else
	expect "nft -f again: one table" ok failed
fi
check_tcp "nft: after re-apply, my computer -> web:22" connected me "$web" 22
lab_finish
