#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Reload under load (docs/semantics.md §10.2, design.md "Reload is
# atomic"). While `sgctl load` alternates between reload-a.yaml and
# reload-b.yaml $RELOADS times (one of the A loads carries 3,000 extra
# instances referenced by a group), long-lived TCP and UDP streams flow
# through sgctl and a prober opens new connections without pause. Asserted:
#   - every load applies and flips the generation;
#   - no stream breaks or stalls and every byte count grows between samples,
#     including tracked streams whose rule B removes and an untracked stream
#     whose every packet is judged by the rules of the moment;
#   - sgctl drops no packet of i-web1 (streams and always-allowed new
#     connections): all its drop counters are unchanged;
#   - every new connection is judged by the old or the new policy: a port
#     both allow always connects, the port neither allows always times out,
#     the ports one allows do both, nothing is refused or stalls; and
#     i-web2's no-rule drops match the prober's time-outs one for one.
# Ports and verdicts: the table at the top of reload-a.yaml.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_reload
lab_require_sgctl
lab_up me other web web2 || exit 1

RELOADS=${SGCTL_RELOADS:-100}
FLEET=${SGCTL_FLEET:-3000}
STREAM=$here/stream.py
A=$here/reload-a.yaml
B=$here/reload-b.yaml
BIG=$LAB_TMP/reload-large.yaml

# The large config: A plus FLEET instances carrying sg-fleet (instances
# are the last section of reload-a.yaml), addresses in 198.19.0.0/16.
{
	cat "$A"
	"$LAB_PY" -c '
import sys
for i in range(int(sys.argv[1])):
    print("  i-fleet%04d:\n    ips: [198.19.%d.%d]\n    security_groups: [sg-fleet]"
          % (i, i // 250, i % 250 + 1))' "$FLEET"
} >"$BIG"

# start_server HOST PORT...: stream.py's echo server on every PORT.
start_server() {
	local h=$1 p
	shift
	ns_exec "$h" "$LAB_PY" "$STREAM" server "$@" >/dev/null 2>&1 &
	LAB_PIDS+=($!)
	for p in "$@"; do
		_lab_wait_listen "$h" t "$p" || return 1
	done
}
start_server web 7000 7001 7002 8000 || exit 1
start_server web2 8000 8001 8002 8003 || exit 1
start_udp_echo web 7000 || exit 1

# The streams: name, kind, from, to, port, what it shows.
STREAMS=(
	"t7000 tcp me $(ip4 web) 7000 tracked, allowed by both"
	"t7000v6 tcp me $(ip6 web) 7000 tracked IPv6, allowed by both"
	"t7001 tcp me $(ip4 web) 7001 tracked, rule removed by every B load"
	"t7001o tcp other $(ip4 web) 7001 tracked, rule removed by every B load"
	"t7002 tcp other $(ip4 web) 7002 untracked: every packet judged"
	"u7000 udp me $(ip4 web) 7000 tracked UDP, allowed by both"
)
PROBES="$(ip4 web):8000 $(ip4 web2):8000 $(ip4 web2):8001 $(ip4 web2):8002 $(ip4 web2):8003"

# stats_json INST FILE: sgctl stats -j of one instance into FILE.
stats_json() {
	sgc -j stats --instance "$1" >"$2" 2>/dev/null
}

# stream_rounds DIR: "name=rounds ..." of every stream's status.
stream_rounds() {
	"$LAB_PY" -c '
import json, sys, os
out = []
for n in sys.argv[2:]:
    try:
        with open(os.path.join(sys.argv[1], n + ".json")) as f:
            out.append("%s=%d" % (n, json.load(f)["rounds"]))
    except (OSError, ValueError):
        out.append("%s=0" % n)
print(" ".join(out))' "$1" "${NAMES[@]}"
}

# all_done DIR: yes when every client wrote its final status.
all_done() {
	"$LAB_PY" -c '
import json, sys, os
for n in sys.argv[2:]:
    try:
        with open(os.path.join(sys.argv[1], n + ".json")) as f:
            if not json.load(f)["done"]:
                sys.exit(1)
    except (OSError, ValueError):
        sys.exit(1)' "$1" "${NAMES[@]}" probe && echo yes
}

NAMES=()
for s in "${STREAMS[@]}"; do
	read -r n _ <<<"$s"
	NAMES+=("$n")
done

run_mode() {
	local mode=$1 dir=$LAB_TMP/$1 s n kind from to port
	local i f out gen prev="" loaded=0 bad_load="" t0 t1 tb=0 tb0
	local sample last="" grew=yes
	mkdir -p "$dir"

	lab_load "$A" "$mode: load reload-a.yaml" || return 1
	lab_attach web "$mode" i-web1 || return 1
	lab_attach web2 "$mode" i-web2 || return 1

	for s in "${STREAMS[@]}"; do
		read -r n kind from to port _ <<<"$s"
		ns_exec "$from" "$LAB_PY" "$STREAM" "$kind" "$to" "$port" \
			"$dir/$n.json" "$dir/stop" >/dev/null 2>&1 &
		LAB_PIDS+=($!)
	done
	for _ in $(seq 50); do
		[[ $(stream_rounds "$dir") =~ =0( |$) ]] || break
		sleep 0.1
	done
	last=$(stream_rounds "$dir")
	expect "$mode: ${#STREAMS[@]} streams flowing before the reloads" yes \
		"$([[ $last =~ =0( |$) ]] && echo "no ($last)" || echo yes)"

	# Flow log read outside the counters' interval on both ends, so every
	# drop the counters see falls inside the flow log's interval.
	sgc flowlog --instance i-web1 >"$dir/w1.fl.before" 2>/dev/null
	sgc flowlog --instance i-web2 >"$dir/w2.fl.before" 2>/dev/null
	stats_json i-web1 "$dir/w1.before"
	stats_json i-web2 "$dir/w2.before"
	# shellcheck disable=SC2086 # PROBES is a list
	ns_exec me "$LAB_PY" "$STREAM" probe "$dir/probe.json" "$dir/stop" $PROBES \
		>/dev/null 2>&1 &
	LAB_PIDS+=($!)
	sleep 0.5

	t0=$(date +%s.%N)
	for i in $(seq "$RELOADS"); do
		if [ $((i % 2)) = 1 ]; then
			f=$B
		elif [ "$i" = $((RELOADS / 2)) ]; then
			f=$BIG
			tb0=$(date +%s.%N)
		else
			f=$A
		fi
		out=$(timeout 60 "$SGCTL" -j load "$f" --pin-dir "$LAB_PIN" 2>>"$LAB_TMP/sgctl.log")
		gen=$(sed -n 's/.*"generation": *\([0-9]*\).*/\1/p' <<<"$out")
		if grep -q '"status": *"loaded"' <<<"$out" && [ -n "$gen" ] && [ "$gen" != "$prev" ]; then
			loaded=$((loaded + 1))
		elif [ -z "$bad_load" ]; then
			bad_load="load $i ($(basename "$f")): $(tr -d '\n' <<<"$out" | head -c 200)"
		fi
		prev=$gen
		[ "$f" = "$BIG" ] && tb=$(awk -v a="$(date +%s.%N)" -v b="$tb0" 'BEGIN { printf "%.2f", a - b }')
		if [ $((i % 10)) = 0 ]; then
			sample=$(stream_rounds "$dir")
			# Every stream must have made progress since the last sample.
			if ! "$LAB_PY" -c '
import sys
a = dict(x.split("=") for x in sys.argv[1].split())
b = dict(x.split("=") for x in sys.argv[2].split())
sys.exit(any(int(b[k]) <= int(a[k]) for k in a))' "$last" "$sample"; then
				[ "$grew" = yes ] && grew="no after load $i: $last -> $sample"
			fi
			last=$sample
		fi
		sleep 0.05
	done
	t1=$(date +%s.%N)
	sleep 0.5
	touch "$dir/stop"
	for _ in $(seq 100); do
		[ "$(all_done "$dir")" = yes ] && break
		sleep 0.1
	done
	stats_json i-web1 "$dir/w1.after"
	stats_json i-web2 "$dir/w2.after"
	sgc flowlog --instance i-web1 >"$dir/w1.fl.after" 2>/dev/null
	sgc flowlog --instance i-web2 >"$dir/w2.fl.after" 2>/dev/null

	expect "$mode: $RELOADS loads applied, each flipping the generation" "$RELOADS" \
		"$loaded${bad_load:+ (first bad: $bad_load)}"
	printf '# %s: %d loads in %.1f s (the one with %d more instances: %s s)\n' \
		"$mode" "$RELOADS" "$(awk -v a="$t1" -v b="$t0" 'BEGIN { print a - b }')" "$FLEET" "$tb"
	expect "$mode: every stream's byte count grew at every 10th load" yes "$grew"

	# The verdicts, computed from the status files and the counters.
	while IFS='|' read -r name want got; do
		case $name in
		'#'*) echo "$name" ;;
		*) expect "$mode: $name" "$want" "$got" ;;
		esac
	done < <("$LAB_PY" - "$dir" "$(ip4 web):8000" "$(ip4 web2)" "${STREAMS[@]}" <<'EOF'
import json, os, sys
d, web8000, web2 = sys.argv[1], sys.argv[2], sys.argv[3]
def load(n):
    try:
        with open(os.path.join(d, n)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
for s in sys.argv[4:]:
    n, kind, frm, to, port, what = s.split(" ", 5)
    st = load(n + ".json")
    if st is None:
        print("stream %s (%s): status|ok|missing" % (n, what))
        continue
    err = st["error"] or ("lost %d datagrams" % st["lost"] if st.get("lost") else None)
    if err is None and st["max_gap"] > 2.0:
        err = "stalled %.1f s" % st["max_gap"]
    print("stream %s (%s): unbroken|ok|%s" % (n, what, err or "ok"))
    print("# %s: %s %s -> %s:%s, %d round trips, %.1f MB, longest gap %.3f s"
          % (n, kind, frm, to, port, st["rounds"], st["bytes"] / 1e6, st["max_gap"]))

def drops(inst):
    a, b = load(inst + ".after"), load(inst + ".before")
    if not a or not b:
        return None
    out = {}
    for dr in ("inbound", "outbound"):
        for k, v in a["instances"][0][dr]["drops"].items():
            out[dr + "." + k] = v - b["instances"][0][dr]["drops"][k]
    return out

# Rejected packets per flow during the reloads, from the flow log (REJECT
# records: srcaddr dstaddr srcport dstport protocol packets ...), after
# minus before. The flow log names the flow the counters cannot.
def rejected(inst):
    def read(n):
        r = {}
        try:
            with open(os.path.join(d, inst + ".fl." + n)) as f:
                for line in f:
                    x = line.split()
                    if len(x) >= 13 and x[12] == "REJECT":
                        k = (x[3], x[4], x[5], x[6], x[7])
                        r[k] = r.get(k, 0) + int(x[8])
        except OSError:
            pass
        return r
    a, b = read("after"), read("before")
    return {k: v - b.get(k, 0) for k, v in a.items() if v != b.get(k, 0)}

w1, w2 = drops("w1"), drops("w2")
if w1 is None or w2 is None:
    print("sgctl stats before and after|ok|missing")
    sys.exit()
r1, r2 = rejected("w1"), rejected("w2")
for inst, w, r in (("i-web1", w1, r1), ("i-web2", w2, r2)):
    other = {k: v for k, v in w.items() if v and k != "inbound.no_rule"}
    print("%s: drops other than inbound no-rule|0|%s" % (inst, other or 0))
    # Other hosts' stray packets (IPv6 MLD) may be dropped just outside
    # the counters' interval: the flow log may hold more, never fewer.
    nd, nr = w["inbound.no_rule"] + w["outbound.no_rule"], sum(r.values())
    print("%s: every no-rule drop is in the flow log|yes|%s"
          % (inst, "yes" if nr >= nd else "no (%d of %d)" % (nr, nd)))
    for k, v in sorted(r.items()):
        if k[4] not in ("6", "17"):
            print("# %s: also rejected: %d packet(s) %s -> %s protocol %s "
                  "(not the test's traffic)" % (inst, v, k[0], k[1], k[4]))
def passed(inst, c):
    a, b = load(inst + ".after"), load(inst + ".before")
    return sum(a["instances"][0][dr]["counters"][c]["packets"]
               - b["instances"][0][dr]["counters"][c]["packets"]
               for dr in ("inbound", "outbound"))
print("# i-web1 during the reloads: %d packets of tracked flows passed, %d untracked, %d new flows"
      % (passed("w1", "accept_established"), passed("w1", "accept_untracked"),
         passed("w1", "accept_new")))
flows1 = {k: v for k, v in r1.items() if k[4] in ("6", "17")}
print("i-web1: packets of its streams and always-allowed connections dropped|0|%s"
      % (sum(flows1.values()) if not flows1 else "%d %s" % (sum(flows1.values()), flows1)))

p = load("probe.json")
if p is None:
    print("prober status|ok|missing")
    sys.exit()
t = p["targets"]
total = sum(sum(v.values()) for v in t.values())
for k, v in sorted(t.items()):
    print("# new connections to %s: %s" % (k, " ".join("%s %d" % x for x in sorted(v.items()))))
print("# new connections judged: %d" % total)
for k in (web8000, web2 + ":8000"):
    v = t[k]
    print("%s (allowed by both): never times out, refused or stalls|0 0 0 0|%d %d %d %d"
          % (k, v["timeout"], v["refused"], v["stalled"], v["error"]))
    print("%s (allowed by both): connections made|yes|%s" % (k, "yes" if v["connected"] else "none"))
v = t[web2 + ":8003"]
print("%s:8003 (allowed by neither): never connects, refused or stalls|0 0 0 0|%d %d %d %d"
      % (web2, v["connected"], v["refused"], v["stalled"], v["error"]))
print("%s:8003 (allowed by neither): time-outs seen|yes|%s" % (web2, "yes" if v["timeout"] else "none"))
for port, who in (("8001", "A"), ("8002", "B")):
    v = t[web2 + ":" + port]
    print("%s:%s (allowed by %s only): never refused or stalls|0 0 0|%d %d %d"
          % (web2, port, who, v["refused"], v["stalled"], v["error"]))
    print("%s:%s (allowed by %s only): both policies seen (connected, timed out)|yes yes|%s %s"
          % (web2, port, who, "yes" if v["connected"] else "no", "yes" if v["timeout"] else "no"))
tw2 = sum(v["timeout"] for k, v in t.items() if k.startswith(web2 + ":"))
syn = sum(v for k, v in r2.items() if k[4] == "6" and k[1] == web2)
print("i-web2: TCP packets rejected = prober time-outs (one SYN each)|%d|%d" % (tw2, syn))
bad = sorted({k[3] for k in r2 if k[4] == "6" and k[3] not in ("8001", "8002", "8003")})
print("i-web2: rejected TCP ports (only 8001-8003 may be)|none|%s" % (" ".join(bad) or "none"))
EOF
	)

	lab_detach web "$mode"
	lab_detach web2 "$mode"
}

for mode in $LAB_MODES; do
	run_mode "$mode"
done
lab_finish
