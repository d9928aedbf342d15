#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Least privilege (sgctl(8) DESCRIPTION: it needs root (it says so clearly
# otherwise)):
#   - the pin directory is 0700 and every pin 0600, root's; the lock files
#     and a bpffs sgctl mounts itself are not open to others either;
#   - as nobody, and as root with its capabilities dropped, every command
#     that touches the kernel refuses with a clear message and exit 1,
#     changes nothing, and validate still works;
#   - concurrent runs are serialised by the lock: a run that finds it held
#     says it waits, and gives up after the lock timeout saying another
#     sgctl is running; loads started together all apply, one after the
#     other, and leave a consistent state.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_privilege
lab_require_sgctl
for t in setpriv capsh; do
	if ! command -v $t >/dev/null; then
		echo "SKIP test_privilege: $t not installed"
		exit 0
	fi
done
lab_up web || exit 1
CFG=$here/fulltable.yaml
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
NOCAPS=(setpriv --inh-caps=-all --ambient-caps=-all --bounding-set=-all --)

# A directory nobody can read, for configs and for a pin dir it may try.
chmod 0711 "$LAB_TMP"
PUB=$LAB_TMP/pub
mkdir -m 0755 "$PUB"
cp "$CFG" "$PUB/ok.yaml"
printf 'security_groups:\n  sg-x:\n    inbound:\n      - { protocol: tcp, ports: 70000, source: 0.0.0.0/0 }\n' >"$PUB/bad.yaml"
chmod 0644 "$PUB"/*.yaml

# lock_path PIN_DIR: the lock file sgctl uses (maps.c sg_state_lock: FNV-1a
# 64 of the pin directory).
lock_path() {
	"$LAB_PY" -c '
import sys
d = sys.argv[1]
if d == "/sys/fs/bpf/sgctl":
    print("/run/sgctl.lock"); sys.exit()
h = 0xcbf29ce484222325
for b in d.encode():
    h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
print("/run/sgctl-%016x.lock" % h)' "$1"
}
LOCK=$(lock_path "$LAB_PIN")

# ---- modes of what sgctl creates ------------------------------------------

lab_load "$CFG" "load fulltable.yaml" || exit 1
lab_attach web host i-web1 || exit 1
expect "pin dir: mode, owner" "700 root" "$(stat -c '%a %U' "$LAB_PIN")"
n=$(find "$LAB_PIN" -mindepth 1 | wc -l)
bad=$(find "$LAB_PIN" -mindepth 1 \( -perm /077 -o ! -user root \) -printf '%p %m %u\n')
expect "pins: all $n are 0600 and root's" "" "$bad"
expect "lock file $(basename "$LOCK"): mode, owner" "600 root" "$(stat -c '%a %U' "$LOCK" 2>&1)"
expect "no sgctl lock file under /run is group- or world-writable" "" \
	"$(find /run -maxdepth 1 -name 'sgctl*.lock' -perm /022 -printf '%p %m\n')"

# A pin dir outside any bpffs gets a bpffs of its own: root-only as well.
own=$LAB_TMP/own-pins
if timeout 30 "$SGCTL" load "$CFG" --pin-dir "$own" >/dev/null 2>&1; then
	expect "own bpffs: type, mode" "bpf_fs 700" "$(stat -f -c '%T' "$own") $(stat -c '%a' "$own")"
	expect "own bpffs: pins 0600" "" "$(find "$own" -mindepth 1 -perm /077 -printf '%p %m\n')"
	timeout 30 "$SGCTL" unload --pin-dir "$own" >/dev/null 2>&1
	expect "own bpffs: unload unmounts and removes it" gone "$([ -e "$own" ] && echo left || echo gone)"
else
	expect "load into a pin dir outside bpffs" ok failed
fi
mountpoint -q "$own" 2>/dev/null && umount -l "$own"

# ---- refusing without privileges -------------------------------------------

state() { sgc -j show 2>/dev/null | md5sum | cut -c1-12; }
before=$(state)

# refuse_all WHO MESSAGE PREFIX...: every kernel-touching command, run
# under PREFIX, must exit 1 with MESSAGE.
refuse_all() {
	local who=$1 want=$2
	shift 2
	local c out rc
	local cmds=(
		"load $PUB/ok.yaml" "unload" "attach v-web --netns $LAB_HV --host-side --instance i-web1"
		"detach v-web --netns $LAB_HV" "show" "stats"
		"check --instance i-web1 --inbound --protocol tcp --remote 203.0.113.10 --port 7000"
		"conntrack list" "conntrack flush" "flowlog" "export nft"
	)
	for c in "${cmds[@]}"; do
		# shellcheck disable=SC2086 # c is a command line
		out=$(timeout 20 "$@" "$SGCTL" $c --pin-dir "$LAB_PIN" 2>&1 >/dev/null)
		rc=$?
		case $out in
		*"$want"*) out=clear ;;
		*) out="unclear: $(head -c 160 <<<"$out" | tr '\n' ' ')" ;;
		esac
		expect "$who: sgctl $(awk '{ print $1 " " ($1 == "conntrack" || $1 == "export" ? $2 " " : "") }' <<<"$c")refused (exit, message)" \
			"1 clear" "$rc $out"
	done
}
refuse_all nobody "needs root (CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN)" "${NOBODY[@]}"
refuse_all "root without capabilities" "runs as root without CAP_BPF" "${NOCAPS[@]}"

out=$(timeout 20 capsh --drop=cap_sys_admin,cap_bpf,cap_perfmon,cap_net_admin -- -c \
	"'$SGCTL' load '$PUB/ok.yaml' --pin-dir '$LAB_PIN'" 2>&1 >/dev/null)
rc=$?
expect "root under capsh --drop=...: load refused (exit, message)" "1 yes" \
	"$rc $([[ $out == *"runs as root without"* ]] && echo yes || echo "no: $out")"

# Nothing above may have left a trace.
expect "state unchanged by the refused commands" "$before" "$(state)"
expect "still attached after refused detach/unload" xdp "$(xdp_on web host)"
sneak=/tmp/sgl-$$-nobody-pins
"${NOBODY[@]}" "$SGCTL" load "$PUB/ok.yaml" --pin-dir "$sneak" >/dev/null 2>&1
expect "nobody: a refused load creates no pin dir" absent "$([ -e "$sneak" ] && echo created || echo absent)"
[ -e "$sneak" ] && rm -rf "$sneak"
expect "nobody: cannot list the pins" denied \
	"$("${NOBODY[@]}" ls "$LAB_PIN" >/dev/null 2>&1 && echo listed || echo denied)"
if command -v bpftool >/dev/null; then
	expect "nobody: cannot open a pinned map" denied \
		"$("${NOBODY[@]}" bpftool map dump pinned "$LAB_PIN/sg_meta" >/dev/null 2>&1 && echo opened || echo denied)"
fi

# validate needs nothing.
for who in nobody nocaps; do
	if [ $who = nobody ]; then pfx=("${NOBODY[@]}"); else pfx=("${NOCAPS[@]}"); fi
	"${pfx[@]}" "$SGCTL" validate "$PUB/ok.yaml" >/dev/null 2>&1
	expect "$who: validate of a good file" 0 $?
	out=$("${pfx[@]}" "$SGCTL" validate "$PUB/bad.yaml" 2>&1)
	rc=$?
	expect "$who: validate of a bad file names file:line:column" "1 yes" \
		"$rc $([[ $out == *"bad.yaml:4:"* ]] && echo yes || echo "no: $out")"
done

# ---- serialised runs -------------------------------------------------------

# hold_lock SECONDS: holds sgctl's lock (as another sgctl would); waits
# until it is held. The pid is in HOLDER.
hold_lock() {
	rm -f "$LAB_TMP/held"
	"$LAB_PY" -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
open(sys.argv[3], "w").close()
time.sleep(float(sys.argv[2]))' "$LOCK" "$1" "$LAB_TMP/held" &
	HOLDER=$!
	LAB_PIDS+=("$HOLDER")
	for _ in $(seq 50); do
		[ -e "$LAB_TMP/held" ] && return 0
		sleep 0.05
	done
	return 1
}

# v2: the same instances with another capacity, so that a load changes
# something (loading the same file twice is a no-op).
sed 's/max_entries: 8/max_entries: 9/' "$CFG" >"$LAB_TMP/v2.yaml"

hold_lock 1.5
t0=$(date +%s%N)
out=$(timeout 30 "$SGCTL" load "$LAB_TMP/v2.yaml" --pin-dir "$LAB_PIN" 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
expect "lock held 1.5 s: load waits, says so, then applies (exit, message, waited)" "0 yes yes" \
	"$rc $([[ $out == *"another sgctl is running; waiting"* ]] && echo yes || echo "no: $out") \
$([ $ms -ge 1000 ] && echo yes || echo "no: ${ms} ms")"
wait "$HOLDER" 2>/dev/null

hold_lock 15
t0=$(date +%s%N)
out=$(timeout 30 "$SGCTL" load "$CFG" --pin-dir "$LAB_PIN" 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
kill "$HOLDER" 2>/dev/null
wait "$HOLDER" 2>/dev/null
expect "lock held longer than the timeout: load gives up (exit, message)" "1 yes" \
	"$rc $([[ $out == *"another sgctl is running (lock $LOCK held); try again later"* ]] && echo yes || echo "no: $out")"
printf '# gave up after %d ms\n' "$ms"
expect "the loser changed nothing (v2 still loaded)" unchanged \
	"$(timeout 30 "$SGCTL" load "$LAB_TMP/v2.yaml" --pin-dir "$LAB_PIN" 2>/dev/null | grep -o unchanged)"

# Eight loads at once, of eight different files: all apply, one at a time.
pids=()
for k in 1 2 3 4 5 6 7 8; do
	sed "s/max_entries: 8/max_entries: $((100 + k))/" "$CFG" >"$LAB_TMP/c$k.yaml"
done
for k in 1 2 3 4 5 6 7 8; do
	(
		timeout 30 "$SGCTL" load "$LAB_TMP/c$k.yaml" --pin-dir "$LAB_PIN" \
			>"$LAB_TMP/c$k.out" 2>"$LAB_TMP/c$k.err"
		echo "$? $(date +%s%N)" >"$LAB_TMP/c$k.rc"
	) &
	pids+=($!)
done
wait "${pids[@]}"
ok=0 waited=0 last=0 lastk=0
for k in 1 2 3 4 5 6 7 8; do
	read -r rc end <"$LAB_TMP/c$k.rc"
	[ "$rc" = 0 ] && grep -q '^loaded' "$LAB_TMP/c$k.out" && ok=$((ok + 1))
	grep -q "waiting" "$LAB_TMP/c$k.err" && waited=$((waited + 1))
	if [ "$end" -gt "$last" ]; then last=$end lastk=$k; fi
done
expect "8 concurrent loads: all applied" 8 "$ok"
echo "# $waited of the 8 said they waited for the lock"
# Consistent: the last to finish is what is loaded, in the maps as in the
# stored config (check compares the kernel's verdict with the model's).
expect "the last load is the state (reload is a no-op)" unchanged \
	"$(timeout 30 "$SGCTL" load "$LAB_TMP/c$lastk.yaml" --pin-dir "$LAB_PIN" 2>/dev/null | grep -o unchanged)"
expect "its capacity is in the maps" "$((100 + lastk))" \
	"$(sgc -j stats --instance i-web1 2>/dev/null | "$LAB_PY" -c \
		'import json,sys; print(json.load(sys.stdin)["instances"][0]["conntrack"]["max_entries"])' 2>&1)"
out=$(sgc check --instance i-web1 --inbound --protocol tcp --remote 203.0.113.10 --port 7000 2>&1)
rc=$?
expect "kernel and model agree after the race (check)" "0 ACCEPT" "$rc $(head -c 6 <<<"$out")"
lab_finish
