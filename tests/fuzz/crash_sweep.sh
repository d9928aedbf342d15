#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The kill sweep of tests/ns/test_crash_sweep.sh on a large config: both
# configs carry COUNT more instances (b drops a tenth of a's and adds as
# many), so the load writes thousands of entries and slots. `sgctl load` is
# killed at its bpf() calls (every write call, or every call with
# SGT_SWEEP_ALL=1) and after each kill a load of either file must give
# exactly that file's verdicts, with show, stats and attach working.
# Needs root, like the ns tests (and not two at once: they share lab names).
# One PASS/FAIL line per property.
# usage: crash_sweep.sh BUILD_DIR [COUNT [KILLS]]
#   COUNT  instances added to each config (default 3000)
#   KILLS  at most this many kill points (default 60: about 8 minutes at
#          3000; SGT_SWEEP_ALL=1 in the environment kills at every bpf()
#          call instead)
set -u
build=${1:-build}
count=${2:-${SGT_SWEEP_FLEET:-3000}}
kills=${3:-${SGT_SWEEP_MAX:-60}}
here=$(cd "$(dirname "$0")" && pwd)
case $count$kills in
'' | *[!0-9]*)
	echo "usage: crash_sweep.sh BUILD_DIR [COUNT [KILLS]]" >&2
	exit 2
	;;
esac
SGCTL=$build/sgctl SGT_SWEEP_FLEET=$count SGT_SWEEP_MAX=$kills SGT_SWEEP_NAME=crash_sweep_large \
	SGCTL_PIN_DIR=/sys/fs/bpf/sgt-sweep-large-$$ \
	exec bash "$here/../ns/test_crash_sweep.sh"
