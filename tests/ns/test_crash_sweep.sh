#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Crash-safe apply (issue 16 cases 2 and 3, design.md "the apply protocol").
# With state-a.yaml loaded and i-web1 attached, `sgctl load state-b.yaml`
# is killed (SIGKILL, strace fault injection) at its bpf() call N. After
# each kill, checked with real connections from someone else's computer:
#   - `load state-a.yaml` exits 0 and a's verdicts hold (7000 connects,
#     7001 times out): never "unchanged" while b enforces; `show -j` names
#     a, `check` agrees (exit 0), `stats --instance` works for each of a's
#     instances (no slot lost);
#   - `load state-b.yaml` then gives exactly b's verdicts, `show` and
#     `stats` likewise;
#   - `attach` of another instance works and enforces b; `detach` works.
# One PASS/FAIL line per property, listing the N where it failed.
#
# Which N: the load's bpf() calls are counted first (strace -o). A kill at
# call N leaves the kernel as calls 1..N-1 left it, so kills at read-only
# calls between two writes are equivalent: by default every write call
# (runs of identical writes: first, second, middle, last), the first and
# the last call; past SGT_SWEEP_MAX points (default 60) a sample of each
# kind of write (same command, same map) over the whole load, then an even
# sample. SGT_SWEEP_ALL=1 kills at every N = 1..K; SGT_SWEEP_POINTS="N..."
# at those.
# SGT_SWEEP_FLEET=N appends N instances to both configs (b drops a tenth
# of a's and adds as many): tests/fuzz/crash_sweep.sh runs it large.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export SGCTL_PIN_DIR=${SGCTL_PIN_DIR:-/sys/fs/bpf/sgt-sweep-$$}
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
NAME=${SGT_SWEEP_NAME:-test_crash_sweep}
lab_init "$NAME"
lab_require_sgctl
if ! command -v strace >/dev/null; then
	echo "SKIP $NAME: strace not installed"
	exit 0
fi
FLEET=${SGT_SWEEP_FLEET:-0}
ALL=${SGT_SWEEP_ALL:-0}
MAXKILLS=${SGT_SWEEP_MAX:-60}
VERBOSE=${SGT_SWEEP_VERBOSE:-0}
PIN=$LAB_PIN
A=$LAB_TMP/a.yaml B=$LAB_TMP/b.yaml
OTHER_IP=$(ip4 other)

# The configs: state-a/b.yaml plus the fleet (instances are last there).
cp "$here/state-a.yaml" "$A"
cp "$here/state-b.yaml" "$B"
if [ "$FLEET" -gt 0 ]; then
	fleet() { # FIRST COUNT
		"$LAB_PY" -c '
import sys
first, n = int(sys.argv[1]), int(sys.argv[2])
for i in range(first, first + n):
    print("  i-fleet%05d:\n    ips: [198.19.%d.%d]\n    security_groups: [sg-web]"
          % ((i,) + divmod(i, 250)))' "$1" "$2"
	}
	fleet 0 "$FLEET" >>"$A"
	fleet $((FLEET / 10)) "$FLEET" >>"$B"
fi
INST_A="i-web1 i-web2 i-only-a" INST_B="i-web1 i-web2 i-only-b"
if [ "$FLEET" -gt 0 ]; then
	INST_A="$INST_A i-fleet00000 $(printf 'i-fleet%05d' $((FLEET - 1)))"
	INST_B="$INST_B $(printf 'i-fleet%05d i-fleet%05d' $((FLEET / 10)) $((FLEET + FLEET / 10 - 1)))"
fi

lab_up other web web2 || exit 1
for h in web web2; do
	start_tcp_server $h 7000 || exit 1
	start_tcp_server $h 7001 || exit 1
done

# verdict HOST...: per host, a when only 7000 connects, b when only 7001,
# open, none, or the observations; real connections in parallel.
verdict() {
	local h p pids=() out="" d=$LAB_TMP/v
	mkdir -p "$d"
	for h in "$@"; do
		for p in 7000 7001; do
			probe_tcp other "$(ip4 "$h")" "$p" 1 >"$d/$h.$p" &
			pids+=($!)
		done
	done
	wait "${pids[@]}"
	for h in "$@"; do
		case "$(cat "$d/$h.7000") $(cat "$d/$h.7001")" in
		"connected timeout") out="$out a" ;;
		"timeout connected") out="$out b" ;;
		"connected connected") out="$out open" ;;
		"timeout timeout") out="$out none" ;;
		*) out="$out $(cat "$d/$h.7000"),$(cat "$d/$h.7001")" ;;
		esac
	done
	echo "${out# }"
}

# shown: a or b by sg-web's inbound port in `show -j` (also fails on a
# show that exits non-zero).
shown() {
	local j=$LAB_TMP/show.json
	timeout 30 "$SGCTL" show -j --pin-dir "$PIN" >"$j" 2>/dev/null || { echo "show-failed"; return; }
	"$LAB_PY" -c '
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except ValueError:
    print("bad-json"); sys.exit()
names = {7000: "a", 7001: "b"}
for g in d.get("groups", []):
    if g.get("id") == "sg-web":
        print(",".join(names.get(r.get("port_from"), "?") for r in g["rules"] if r["direction"] == "inbound"))
        sys.exit()
print("none")' "$j"
}

# stats_ok INSTANCE...: the instances whose `stats --instance` fails.
stats_bad() {
	local i bad=""
	for i in "$@"; do
		timeout 30 "$SGCTL" stats --instance "$i" --pin-dir "$PIN" >/dev/null 2>&1 || bad="$bad $i"
	done
	echo "${bad# }"
}

# check_word PORT: the first word of `check` for other -> i-web1:PORT, or
# exitN when it fails.
check_word() {
	local out
	out=$(timeout 30 "$SGCTL" check --instance i-web1 --inbound --protocol tcp \
		--remote "$OTHER_IP" --port "$1" --pin-dir "$PIN" 2>/dev/null)
	local rc=$?
	[ $rc -eq 0 ] && echo "${out%% *}" || echo "exit$rc"
}

attach_web() {
	sgc_quiet attach eth0 --netns "$(nsname web)" --instance i-web1
}

# baseline: a loaded, i-web1 attached on web; returns 1 if it cannot be had.
baseline() {
	sgc_quiet load "$A" && [ "$(xdp_on web nic)" = xdp ] && return 0
	sgc_quiet unload
	sgc_quiet load "$A" && attach_web
}

expect "lab: someone else reaches web and web2 without sgctl" "open open" "$(verdict web web2)"
lab_load "$A" "load a.yaml" || exit 1
lab_attach web nic i-web1 || exit 1
expect "lab: a.yaml enforced on web" a "$(verdict web)"

# Count the bpf() calls of `load b.yaml` from this state.
trace=$LAB_TMP/load-b.strace
timeout 120 strace -f -qq -o "$trace" -e trace=bpf "$SGCTL" load "$B" --pin-dir "$PIN" >/dev/null 2>&1
expect "lab: load b.yaml under strace exits 0" 0 $?
expect "lab: b.yaml enforced after it" b "$(verdict web)"
K=$(grep -c ' bpf(' "$trace")
baseline || { expect "lab: back to a.yaml" ok failed; exit 1; }

if [ -n "${SGT_SWEEP_POINTS:-}" ]; then
	POINTS=$SGT_SWEEP_POINTS
elif [ "$ALL" = 1 ]; then
	POINTS=$(seq "$K")
else
	POINTS=$("$LAB_PY" - "$trace" "$MAXKILLS" <<'EOF'
import re, sys
calls = []
for line in open(sys.argv[1]):
    m = re.search(r" bpf\((\w+), \{([^,}]*)", line)
    if m:
        calls.append((m.group(1), m.group(2)))
K, cap = len(calls), int(sys.argv[2])
write = re.compile(r"UPDATE|DELETE|PIN|FREEZE|LINK|ATTACH|DETACH")
def sample(idx):  # first, second, middle, last of a list of call numbers
    return {idx[0], idx[min(1, len(idx) - 1)], idx[len(idx) // 2], idx[-1]}
# Runs of the same write on the same map: a sample of each run.
pts, run = {1, K}, []
for n, c in enumerate(calls, 1):
    if run and c != calls[run[-1] - 1]:
        if write.search(calls[run[0] - 1][0]):
            pts |= sample(run)
        run = []
    run.append(n)
if run and write.search(calls[run[0] - 1][0]):
    pts |= sample(run)
if len(pts) > cap:
    # Too many (one write per instance, interleaved with reads): a sample
    # of each kind of write over the whole load.
    kinds = {}
    for n, c in enumerate(calls, 1):
        if write.search(c[0]):
            kinds.setdefault(c, []).append(n)
    pts = {1, K}
    for idx in kinds.values():
        pts |= sample(idx)
pts = sorted(pts)
if len(pts) > cap:
    pts = sorted({pts[round(i * (len(pts) - 1) / (cap - 1))] for i in range(cap)})
print(" ".join(map(str, pts)))
EOF
)
fi
npoints=$(wc -w <<<"$POINTS")
echo "INFO $NAME: load b.yaml makes $K bpf() calls; killing it at $npoints of them (fleet: $FLEET instances)"

declare -A BAD=()
fail_at() { # PROPERTY N WHAT
	BAD[$1]="${BAD[$1]:-} [N=$2: $3]"
}

t0=$SECONDS
for n in $POINTS; do
	{ timeout 120 strace -f -qq -o /dev/null -e trace=bpf \
		-e "inject=bpf:signal=KILL:when=$n" "$SGCTL" load "$B" --pin-dir "$PIN" \
		>/dev/null 2>&1; } 2>/dev/null
	killed=$?

	# load a.yaml: exactly a.
	out=$(timeout 120 "$SGCTL" load "$A" --pin-dir "$PIN" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail_at load_a "$n" "exit $rc: $(head -c 100 <<<"$out" | tr '\n' ' ')"
	v=$(verdict web)
	[ "$v" = a ] || fail_at verdict_a "$n" "enforced $v after: $(head -c 60 <<<"$out" | tr '\n' ' ')"
	s=$(shown)
	[ "$s" = a ] || fail_at show_a "$n" "show $s"
	c="$(check_word 7000) $(check_word 7001)"
	[ "$c" = "ACCEPT REJECT" ] || fail_at check_a "$n" "check $c"
	# shellcheck disable=SC2086 # a list
	sb=$(stats_bad $INST_A)
	[ -z "$sb" ] || fail_at stats_a "$n" "stats fails for $sb"

	# load b.yaml: exactly b.
	out=$(timeout 120 "$SGCTL" load "$B" --pin-dir "$PIN" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || fail_at load_b "$n" "exit $rc: $(head -c 100 <<<"$out" | tr '\n' ' ')"
	s=$(shown)
	[ "$s" = b ] || fail_at show_b "$n" "show $s"
	# shellcheck disable=SC2086 # a list
	sb=$(stats_bad $INST_B)
	[ -z "$sb" ] || fail_at stats_b "$n" "stats fails for $sb"
	# attach of another instance, then both filtered by b.
	if ! sgc_quiet attach eth0 --netns "$(nsname web2)" --instance i-web2; then
		fail_at attach "$n" "attach i-web2: $(tail -n 2 "$LAB_TMP/sgctl.log" | head -n 1)"
	fi
	v=$(verdict web web2)
	[ "$v" = "b b" ] || fail_at verdict_b "$n" "enforced (web web2) $v"
	if ! sgc_quiet detach eth0 --netns "$(nsname web2)"; then
		fail_at attach "$n" "detach i-web2 failed"
	fi
	[ "$VERBOSE" = 1 ] && echo "INFO N=$n killed=$killed"

	baseline || fail_at reset "$n" "cannot get back to a.yaml attached"
done
echo "INFO $NAME: $npoints kills in $((SECONDS - t0)) s"

prop() { # KEY TEXT
	expect "sweep ($npoints kills of load b.yaml): $2" "" "${BAD[$1]:-}"
}
prop load_a "after each kill, load a.yaml exits 0"
prop verdict_a "after each kill, load a.yaml enforces exactly a (7000 connects, 7001 times out)"
prop show_a "after each kill, load a.yaml: show -j names a"
prop check_a "after each kill, load a.yaml: check agrees (exit 0, ACCEPT 7000, REJECT 7001)"
prop stats_a "after each kill, load a.yaml: stats --instance works for a's instances ($INST_A)"
prop load_b "after each kill, then load b.yaml exits 0"
prop show_b "after each kill, then load b.yaml: show -j names b"
prop stats_b "after each kill, then load b.yaml: stats --instance works for b's instances ($INST_B)"
prop attach "after each kill, attach and detach of i-web2 work"
prop verdict_b "after each kill, then load b.yaml enforces exactly b on web and the new attach"
prop reset "after each kill, the state returns to a.yaml attached"
lab_finish
