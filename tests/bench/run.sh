#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make bench: every benchmark of sgctl in one bounded run (a few minutes),
# then docs/benchmarks.md and docs/bench-cost.png from what it measured.
#
#   tests/bench/run.sh [SGCTL]
#
# 1. micro    sgctl bench micro -j (BPF_PROG_TEST_RUN, real maps)
# 2. live     live frames into a veth: sgctl vs nftables vs no filter,
#             at 1, 100 and 1000 rules, several runs each (medians)
# 3. control  sgctl load time and peak memory, a membership change, map
#             memory (sgctl bench control + /usr/bin/time)
# 4. pktgen   whether scripts/pktgen.sh can run here
# 5. fleet    edit to enforcement on BENCH_AGENTS (10) agents and one etcd,
#             agent memory and CPU at idle (tests/bench/fleet.py)
# 6. console  sgctl console's API latency (median, p99) and memory on
#             1,000 groups / 10,000 instances (tests/bench/console.py)
#
# Environment: BENCH_RUNS (live runs per point, 3), LIVE_SECONDS (per run,
# 2), BENCH_OUT (docs/benchmarks.md), BENCH_QUICK=1 (fewer points),
# BENCH_PARTS (which of "micro live control pktgen fleet console" to run, all by default;
# the page then shows only those: point BENCH_OUT elsewhere).
# BENCH_LIVE_RULES (the live rule counts, "1 100 1000"), BENCH_NFT=0 (no
# nftables peer).
# Needs root. Namespaces, links and pins are removed on any exit.
set -u

cd "$(dirname "$0")/../.." || exit 1
SGCTL=${1:-build/sgctl}
case $SGCTL in /*) ;; *) SGCTL="$PWD/$SGCTL" ;; esac
export SGCTL
OUT=${BENCH_OUT:-docs/benchmarks.md}
RUNS=${BENCH_RUNS:-3}
LAB_PY=python3
[ -x /usr/bin/python3 ] && LAB_PY=/usr/bin/python3

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root" >&2
	exit 1
fi
[ -x "$SGCTL" ] || { echo "bench: no sgctl at $SGCTL" >&2; exit 1; }
for t in ip nft "$LAB_PY"; do
	command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 1; }
done

# shellcheck source=tests/bench/live.sh
. tests/bench/live.sh

TMP=$(mktemp -d /tmp/sgctl-bench.XXXXXX)
CP_PIN=/sys/fs/bpf/sgctl-bench-cp-$$
RES=$TMP/results.jsonl
cleanup() {
	live_down
	if [ -e "$CP_PIN" ]; then
		"$SGCTL" --pin-dir "$CP_PIN" unload >/dev/null 2>&1 || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

START=$(date +%s)
log() { printf '[%4ds] %s\n' $(($(date +%s) - START)) "$*" >&2; }
# rec KIND KEY=VALUE... JSON: one line of results.
rec() {
	local kind=$1
	shift
	"$LAB_PY" - "$kind" "$@" >>"$RES" <<'EOF'
import json, sys
d = {"kind": sys.argv[1]}
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    try:
        d[k] = json.loads(v)
    except ValueError:
        d[k] = v
print(json.dumps(d))
EOF
}

# ---- machine ----------------------------------------------------------
rec machine "uname=\"$(uname -srm)\"" \
	"cpu=\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\"" \
	"nproc=$(nproc)" "date=\"$(date -u +%Y-%m-%dT%H:%MZ)\"" \
	"mem=\"$(free -g | awk '/^Mem:/ {print $2 " GiB"}')\"" \
	"commit=\"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\"" \
	"load=\"$(cut -d' ' -f1-3 /proc/loadavg)\""

PARTS=" ${BENCH_PARTS:-micro live control pktgen fleet console} "
part() { [[ $PARTS == *" $1 "* ]]; }

# ---- 1. micro ---------------------------------------------------------
part micro && {
MICRO_ARGS=(--reference)
[ "${BENCH_QUICK:-0}" = 1 ] && MICRO_ARGS+=(--rules 1,1000 --members 0,100000 --runs 3)
log "micro: sgctl bench micro ${MICRO_ARGS[*]} -j"
if "$SGCTL" -j bench micro "${MICRO_ARGS[@]}" >"$TMP/micro.json"; then
	rec micro "cmd=\"sgctl bench micro ${MICRO_ARGS[*]} -j\"" \
		"data=$(cat "$TMP/micro.json")"
else
	log "micro FAILED"
fi
}

# ---- 2. live frames: sgctl, nftables, no filter -----------------------
live_point() { # SYSTEM RULES MIX SRC RECEIVER
	local sys=$1 rules=$2 mix=$3 src=$4 recv=$5 i out
	for i in $(seq "$RUNS"); do
		[ "$mix" = established ] && live_open_flow
		if out=$(live_run "$recv" "$mix" "$src"); then
			rec live "system=\"$sys\"" "rules=$rules" "run=$i" "data=$out"
		else
			log "live $sys $rules $mix run $i FAILED"
		fi
		[ "$mix" = established ] && live_close_flow
	done
}

part live && if live_up; then
	NFT_SRC=export
	[ "${BENCH_NFT:-1}" = 0 ] && NFT_SRC=none
	if [ $NFT_SRC = export ] && ! "$SGCTL" export nft --help >/dev/null 2>&1; then
		NFT_SRC=none
		log "sgctl export nft missing: no nftables peer"
	fi
	for R in ${BENCH_LIVE_RULES:-1 100 1000}; do
		Y=$TMP/live-$R.yaml
		"$SGCTL" bench gen micro --rules "$R" >"$Y"
		# "# bench-target: SRC PORT PLEN": the target rule
		read -r _ _ TGT TPORT TPLEN <<<"$(head -1 "$Y")"
		[ -n "${TPLEN:-}" ] || TPLEN=32
		log "live: $R rules (sgctl)"
		if live_sgctl_on "$Y"; then
			live_point sgctl "$R" drop "$TGT" sgctl
			live_point sgctl "$R" established "$LIVE_PEER_IP" sgctl
			live_point sgctl "$R" many-sources 198.18.0.0 sgctl
			# SYNs from the target rule's prefix to its port: allowed,
			# nothing listens; the table fills, half-open gives way.
			LIVE_SYN_PORT=$TPORT live_point sgctl "$R" syn-flood "$TGT/$TPLEN" sgctl
			live_sgctl_off
		else
			log "sgctl load/attach FAILED at $R rules"
		fi
		if [ "$NFT_SRC" = export ]; then
			log "live: $R rules (nftables)"
			"$SGCTL" export nft --instance i-bench "$Y" >"$TMP/live-$R.nft"
			if live_nft_on "$TMP/live-$R.nft"; then
				live_point nftables "$R" drop "$TGT" pass
				live_point nftables "$R" established "$LIVE_PEER_IP" pass
				live_point nftables "$R" many-sources 198.18.0.0 pass
				live_nft_off
			else
				log "nft -f FAILED at $R rules"
			fi
		fi
	done
	log "live: no filter (XDP_PASS into the stack) and XDP_DROP"
	live_point none 0 drop "$LIVE_OTHER_IP" pass
	live_point none 0 established "$LIVE_PEER_IP" pass
	live_point none 0 many-sources 198.18.0.0 pass
	LIVE_SYN_PORT=1024 live_point none 0 syn-flood 198.18.0.0/16 pass
	live_point xdp-drop 0 drop "$LIVE_OTHER_IP" drop
	# The ceiling of each flood mix: the generator's own work differs.
	live_point xdp-drop 0 many-sources 198.18.0.0 drop
	LIVE_SYN_PORT=1024 live_point xdp-drop 0 syn-flood 198.18.0.0/16 drop
	live_down
else
	log "live lab setup FAILED"
	live_down
fi

# ---- 3. control plane -------------------------------------------------
# sgctl load under /usr/bin/time: wall seconds and max RSS (KiB).
timed_load() { # PIN FILE -> "wall rss rc"
	local t=$TMP/time.txt rc
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f '%e %M' -o "$t" "$SGCTL" --pin-dir "$1" load "$2" \
			>/dev/null 2>"$TMP/load.err"
		rc=$?
		echo "$(cat "$t" | tail -1) $rc"
	else
		local s e
		s=$(date +%s.%N)
		"$SGCTL" --pin-dir "$1" load "$2" >/dev/null 2>"$TMP/load.err"
		rc=$?
		e=$(date +%s.%N)
		echo "$(echo "$e - $s" | bc) 0 $rc"
	fi
}

# local_instances N: the first N instances name an interface, i.e. this host
# enforces them. A config with more instances than slots compiles only
# those (docs/design.md); smaller configs compile every instance anyway.
local_instances() {
	awk -v n="$1" '{ print } /^  i-[0-9]+:$/ && seen < n {
		printf "    interface: vb%d\n", seen++ }'
}

cp_shape() { # GROUPS RULES INSTANCES GROUPS-PER-INSTANCE [LOCAL]
	local g=$1 r=$2 n=$3 k=$4 l=${5:-0} i v1=$TMP/cp-$1-$3.yaml v2=$TMP/cp-$1-$3-join.yaml
	local shape=(--groups "$g" --rules "$r" --instances "$n" --per-instance "$k")
	"$SGCTL" bench gen cp "${shape[@]}" | local_instances "$l" >"$v1"
	"$SGCTL" bench gen cp "${shape[@]}" --join | local_instances "$l" >"$v2"
	for i in $(seq "$RUNS"); do
		local a b
		read -r -a a <<<"$(timed_load "$CP_PIN" "$v1")"
		if [ "${a[2]}" != 0 ]; then
			rec cp_refused "groups=$g" "rules=$r" "instances=$n" "per_instance=$k" \
				"error=$(head -3 "$TMP/load.err" | "$LAB_PY" -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')"
			"$SGCTL" --pin-dir "$CP_PIN" unload >/dev/null 2>&1
			return 1
		fi
		read -r -a b <<<"$(timed_load "$CP_PIN" "$v2")"
		rec cp_load "groups=$g" "rules=$r" "instances=$n" "per_instance=$k" "local=$l" "run=$i" \
			"load_s=${a[0]}" "load_rss_kib=${a[1]}" \
			"join_s=${b[0]}" "join_rss_kib=${b[1]}" "join_rc=${b[2]}"
		"$SGCTL" --pin-dir "$CP_PIN" unload >/dev/null
	done
	local out
	if out=$("$SGCTL" -j bench control "${shape[@]}"); then
		rec cp_breakdown "data=$out"
	fi
	return 0
}

if part control; then
log "control plane: 100 groups x 60 rules, 1000 instances x 3 groups"
cp_shape 100 60 1000 3
# 1000 groups: one group per instance (+ sg-hub for every 50th): with 3
# groups each, 1000 distinct group sets overflow stage 2 (1M entries).
log "control plane: 1000 groups x 60 rules, 10000 instances (64 enforced here)"
if ! cp_shape 1000 60 10000 1 64; then
	log "refused (instance limit); measuring 1000 groups x 60 rules, 4096 instances"
	cp_shape 1000 60 4096 1
fi
# The same shape with 3 groups per instance, to record why it is not used.
"$SGCTL" bench gen cp --groups 1000 --rules 60 --instances 4096 --per-instance 3 \
	>"$TMP/cp-wide.yaml"
if ! "$SGCTL" validate "$TMP/cp-wide.yaml" >/dev/null 2>"$TMP/wide.err"; then
	rec cp_refused "groups=1000" "rules=60" "instances=4096" "per_instance=3" \
		"error=$(head -3 "$TMP/wide.err" | "$LAB_PY" -c 'import json,sys; print(json.dumps(sys.stdin.read().strip()))')"
fi
fi

# ---- 4. pktgen ----------------------------------------------------------
if part pktgen; then
	PK=$(scripts/pktgen.sh --check 2>&1)
	rec pktgen "status=$("$LAB_PY" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$PK")"
fi

# ---- 5. fleet -----------------------------------------------------------
if part fleet; then
	log "fleet: ${BENCH_AGENTS:-10} agents, one etcd"
	if command -v etcd >/dev/null; then
		"$LAB_PY" tests/bench/fleet.py "$SGCTL" "${BENCH_AGENTS:-10}" >>"$RES" ||
			log "fleet: failed"
	else
		log "fleet: etcd not installed (make deps)"
	fi
fi

# ---- 6. console ---------------------------------------------------------
if part console; then
	log "console: API latency and memory, 1000 groups / 10000 instances"
	"$LAB_PY" tests/bench/console.py "$SGCTL" >>"$RES" ||
		log "console: failed"
fi

# ---- report -------------------------------------------------------------
rec total "seconds=$(($(date +%s) - START))"
cp "$RES" "${BENCH_RESULTS:-$TMP/keep.jsonl}" 2>/dev/null
log "report: $OUT"
"$LAB_PY" tests/bench/report.py "$RES" "$OUT" "$(dirname "$OUT")" || exit 1
log "done"
