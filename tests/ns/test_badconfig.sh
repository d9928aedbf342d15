#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Bad configs (tests/badconfig/NN-name.yaml, expected stderr in NN-name.expect,
# plus a file over the size limit generated here): `sgctl validate` and
# `sgctl load` must exit 1 with exactly the expected lines, within a time
# limit, and a load must leave the loaded state as it was (`show -j` and
# the policy maps). validate needs no root; load does (it is skipped
# without). Prints PASS/FAIL/SKIP lines.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
SGCTL=${SGCTL:-$here/../build/sgctl}
case $SGCTL in /*) ;; *) SGCTL=$PWD/$SGCTL ;; esac
bad=$here/badconfig
good=$here/ns/seed.yaml
tmp=$(mktemp -d /tmp/sg-badcfg.XXXXXX)
pin=/sys/fs/bpf/sgctl-badcfg-$$
TIMEOUT=${SG_BADCONFIG_TIMEOUT:-20}
root=0
[ "$(id -u)" -eq 0 ] && root=1

cleanup() {
	[ "$root" -eq 1 ] && "$SGCTL" --pin-dir "$pin" unload >/dev/null 2>&1
	[ -d "$pin" ] && rm -rf "$pin"
	rm -rf "$tmp"
}
trap cleanup EXIT

# What a load must not change: the model as shown, and every policy map.
snapshot() {
	local m
	"$SGCTL" --pin-dir "$pin" show -j 2>&1
	for m in sg_active sg_inst sg_class sg_rule sg_class_exact sg_rule_exact \
		 sg_ip sg_slots sg_meta sg_blob; do
		echo "== $m"
		bpftool map dump pinned "$pin/$m" 2>&1 | sha256sum
	done
	ls "$pin"
}

# The huge file: a valid config padded past the 16 MiB limit.
{
	cat "$good"
	head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' '#'
	echo
} >"$tmp/huge.yaml"
echo "sgctl: huge.yaml: larger than 16 MiB" >"$tmp/huge.expect"

cases=()
for f in "$bad"/*.yaml; do cases+=("$f"); done
cases+=("$tmp/huge.yaml")
[ "${#cases[@]}" -ge 50 ] || echo "FAIL only ${#cases[@]} bad configs (want >= 50)"

# run DIR FILE CMD...: exit status and stderr of CMD run in DIR on FILE.
run() {
	local dir=$1
	shift
	(cd "$dir" && timeout "$TIMEOUT" "$@" 2>"$tmp/err" >"$tmp/out")
}

check_result() { # what rc expect_file
	local what=$1 rc=$2 exp=$3
	if [ "$rc" -eq 124 ]; then
		echo "FAIL $what: timed out after ${TIMEOUT}s"
		return 1
	fi
	if [ "$rc" -ne 1 ]; then
		echo "FAIL $what: exit $rc, want 1"
		head -n 5 "$tmp/err" | sed 's/^/    /'
		return 1
	fi
	if ! diff -u "$exp" "$tmp/err" >"$tmp/diff"; then
		echo "FAIL $what: stderr differs"
		sed 's/^/    /' "$tmp/diff" | head -n 20
		return 1
	fi
	return 0
}

# validate: no root needed
for f in "${cases[@]}"; do
	name=$(basename "$f")
	run "$(dirname "$f")" "$SGCTL" validate "$name"
	check_result "validate $name" $? "${f%.yaml}.expect" &&
		echo "PASS validate $name"
done

if [ "$root" -ne 1 ]; then
	echo "SKIP load of bad configs (needs root)"
	exit 0
fi

if ! "$SGCTL" --pin-dir "$pin" load "$good" >/dev/null 2>"$tmp/err"; then
	echo "FAIL load of the good config $good"
	cat "$tmp/err"
	exit 1
fi
snapshot >"$tmp/before"
for f in "${cases[@]}"; do
	name=$(basename "$f")
	run "$(dirname "$f")" "$SGCTL" --pin-dir "$pin" load "$name"
	check_result "load $name" $? "${f%.yaml}.expect" || continue
	snapshot >"$tmp/after"
	if ! diff -u "$tmp/before" "$tmp/after" >"$tmp/diff"; then
		echo "FAIL load $name: the loaded state changed"
		sed 's/^/    /' "$tmp/diff" | head -n 20
		continue
	fi
	echo "PASS load $name"
done
