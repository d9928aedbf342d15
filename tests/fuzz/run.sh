#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Runs the libFuzzer targets for SECONDS each, starting from the committed
# seed corpora (tests/fuzz/corpus_*; new inputs go to BUILD/fuzz/work/, the
# seeds are never modified). One line per fuzzer:
#   PASS fuzz_parse: 123456 executions in 10 s, 0 crashes
# or FAIL with the crash artifact left in BUILD/fuzz/.
# usage: run.sh BUILD_DIR SECONDS [fuzz_config|fuzz_parse]...
set -u
build=${1:-build}
secs=${2:-10}
shift 2 || true
targets=${*:-fuzz_config fuzz_parse}
here=$(cd "$(dirname "$0")" && pwd)
out=$build/fuzz
rc=0
for t in $targets; do
	bin=$out/$t
	if [ ! -x "$bin" ]; then
		echo "SKIP $t: $bin not built (needs clang with libFuzzer)"
		continue
	fi
	seeds=$here/corpus_${t#fuzz_}
	work=$out/work/$t
	mkdir -p "$work"
	log=$out/$t.log
	# -timeout: a single input running longer is a hang, reported as one.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$out/$t-" "$work" "$seeds" >"$log" 2>&1
	status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$status" -eq 0 ]; then
		echo "PASS $t: ${execs:-0} executions in $secs s, 0 crashes"
	else
		echo "FAIL $t: exit $status after ${execs:-?} executions; see $log"
		grep -E 'ERROR|SUMMARY|artifact|fuzz_parse:|fuzz_config:' "$log" |
			head -n 8 | sed 's/^/    /'
		rc=1
	fi
done
exit $rc
