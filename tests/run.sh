#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs the test layers and prints one closing line "tests: N passed, N failed".
#   unit      Criterion tests of parser, validator, compiler (no root)
#   datapath  the real BPF programs on crafted packets (root)
#   ns        network namespaces with real clients and servers (root)
#   fuzz      each libFuzzer target for a few seconds (SG_FUZZ_SECONDS,
#             default 10): a PASS per fuzzer that ends without a crash
# usage: run.sh BUILD_DIR [unit|datapath|ns|fuzz]...
set -u
build=${1:-build}
shift || true
layers=${*:-unit datapath ns fuzz}
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0 skipped=0

run_criterion() { # binary
	local out rc
	out=$("$1" --jobs 1 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[(FAIL|----)\]|Synthesis' | sed "s|^|  $(basename "$1"): |"
	local line t p f c
	line=$(printf '%s\n' "$out" | grep 'Synthesis' | tail -n 1)
	t=$(sed -n 's/.*Tested: \([0-9]*\).*/\1/p' <<<"$line")
	p=$(sed -n 's/.*Passing: \([0-9]*\).*/\1/p' <<<"$line")
	f=$(sed -n 's/.*Failing: \([0-9]*\).*/\1/p' <<<"$line")
	c=$(sed -n 's/.*Crashing: \([0-9]*\).*/\1/p' <<<"$line")
	if [ -z "$t" ]; then
		echo "  $(basename "$1"): no summary (exit $rc)"
		printf '%s\n' "$out" | tail -n 20
		failed=$((failed + 1))
		return
	fi
	passed=$((passed + p))
	failed=$((failed + f + c))
	[ "$rc" -ne 0 ] && [ $((f + c)) -eq 0 ] && failed=$((failed + 1))
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "  $1: SKIP (needs root)"
		skipped=$((skipped + 1))
		return 1
	fi
}

for layer in $layers; do
	echo "== $layer"
	case $layer in
	unit)
		for t in "$build"/tests/unit/test_*; do
			[ -x "$t" ] && run_criterion "$t"
		done
		;;
	datapath)
		need_root datapath || continue
		for t in "$build"/tests/datapath/test_*; do
			[ -x "$t" ] && run_criterion "$t"
		done
		;;
	ns)
		need_root ns || continue
		for t in "$here"/ns/test_*.sh; do
			[ -f "$t" ] || continue
			out=$(SGCTL="$build/sgctl" bash "$t" 2>&1)
			rc=$?
			printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP)' | sed "s|^|  $(basename "$t"): |"
			p=$(grep -c '^PASS' <<<"$out")
			f=$(grep -c '^FAIL' <<<"$out")
			s=$(grep -c '^SKIP' <<<"$out")
			passed=$((passed + p))
			failed=$((failed + f))
			skipped=$((skipped + s))
			if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
				echo "  $(basename "$t"): exited $rc"
				printf '%s\n' "$out" | tail -n 20
				failed=$((failed + 1))
			fi
		done
		;;
	fuzz)
		out=$("$here"/fuzz/run.sh "$build" "${SG_FUZZ_SECONDS:-10}" 2>&1)
		printf '%s\n' "$out" | sed 's|^|  |'
		passed=$((passed + $(grep -c '^PASS' <<<"$out")))
		failed=$((failed + $(grep -c '^FAIL' <<<"$out")))
		skipped=$((skipped + $(grep -c '^SKIP' <<<"$out")))
		;;
	*)
		echo "unknown layer $layer" >&2
		exit 2
		;;
	esac
done

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
