# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# Namespace lab shared by tests/ns/test_*.sh and tests/lab/demo.sh.
#
# Topology (nothing touches the root namespace or the host's uplink):
#
#   namespace sgl-<pid>-hv:  bridge br0, ports v-me v-other v-web ...  (the "hypervisor")
#   namespace sgl-<pid>-me:  eth0 = peer of v-me, 203.0.113.10, 2001:db8:100::10
#   ...one namespace per host, see LAB_IP4 / LAB_IP6 below.
#
# Every host sits on the one L2 segment; addresses are /32 and /128 with
# on-link device routes for the documentation ranges, so ARP/ND go across the
# bridge and no router is needed.
#
# Enforcement modes (docs/semantics.md §8):
#   nic   sgctl attach eth0 --netns <host ns> --instance ID
#   host  sgctl attach v-<host> --netns <hv ns> --host-side --instance ID
#
# Use: source this file, call lab_init NAME, lab_up HOST..., then probes and
# `expect`, and lab_finish at the end. An EXIT trap removes everything.

# Interpreter: the system python starts ~3x faster than a pyenv shim, and
# probes are run many times.
if [ -x /usr/bin/python3 ]; then LAB_PY=/usr/bin/python3; else LAB_PY=python3; fi

LAB_PFX="sgl-$$"
LAB_HV="$LAB_PFX-hv"
LAB_PIN=${SGCTL_PIN_DIR:-/sys/fs/bpf/sgctl-lab-$$}
# Enforcement modes a test loops over; SGCTL_LAB_MODES=nic runs one.
# shellcheck disable=SC2034 # used by the scripts that source this file
LAB_MODES=${SGCTL_LAB_MODES:-nic host}
LAB_TMP=
LAB_HOSTS=()
LAB_PIDS=()
LAB_PASS=0
LAB_FAIL=0
LAB_NAME=lab
LAB_UP=0

declare -gA LAB_IP4=(
	[me]=203.0.113.10 [other]=198.51.100.20
	[web]=198.18.1.10 [web2]=198.18.1.11 [db]=198.18.2.10
)
declare -gA LAB_IP6=(
	[me]=2001:db8:100::10 [other]=2001:db8:200::20
	[web]=2001:db8:1::10 [web2]=2001:db8:1::11 [db]=2001:db8:2::10
)

# ---- setup and teardown ------------------------------------------------

# lab_init NAME [SGCTL]: checks root and the binary, arms the cleanup trap.
# SGCTL comes from the argument, else $SGCTL, else build/sgctl. It is made
# absolute so a later cd cannot break it.
lab_init() {
	LAB_NAME=$1
	SGCTL=${2:-${SGCTL:-build/sgctl}}
	case $SGCTL in /*) ;; *) SGCTL="$PWD/$SGCTL" ;; esac
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP $LAB_NAME: needs root"
		exit 0
	fi
	local t
	for t in ip python3 ss ping; do
		if ! command -v "$t" >/dev/null; then
			echo "SKIP $LAB_NAME: $t not installed"
			exit 0
		fi
	done
	LAB_TMP=$(mktemp -d "/tmp/$LAB_PFX.XXXXXX")
	trap lab_down EXIT
	trap 'exit 130' INT TERM
}

# lab_require_sgctl: one FAIL line (not one per case) when the tool is missing.
lab_require_sgctl() {
	if [ ! -x "$SGCTL" ]; then
		echo "FAIL $LAB_NAME: sgctl not found at $SGCTL"
		exit 1
	fi
}

# nsname HOST: the namespace of a lab host (hv for the hypervisor). A name
# that is already a full namespace name passes through.
nsname() {
	case $1 in
	hv) echo "$LAB_HV" ;;
	"$LAB_PFX"-*) echo "$1" ;;
	*) echo "$LAB_PFX-$1" ;;
	esac
}

ip4() { echo "${LAB_IP4[$1]}"; }
ip6() { echo "${LAB_IP6[$1]}"; }

ns_exec() {
	local ns
	ns=$(nsname "$1")
	shift
	ip netns exec "$ns" "$@"
}

# lab_up HOST...: the bridge namespace plus one namespace per host.
lab_up() {
	LAB_UP=1
	ip netns add "$LAB_HV" || return 1
	# No DAD anywhere: addresses must be usable at once, and the bridge
	# ports' link-local addresses should not delay anything either.
	_lab_sysctls hv
	ip -n "$LAB_HV" link set lo up
	# Snooping off: with no MLD querier it can only get in the way of ND.
	ip -n "$LAB_HV" link add br0 type bridge mcast_snooping 0 stp_state 0
	ip -n "$LAB_HV" link set br0 up
	local h
	for h in "$@"; do
		lab_add_host "$h" || return 1
	done
}

_lab_sysctls() {
	ns_exec "$1" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.default.dad_transmits=0 >/dev/null 2>&1 || true
}

lab_add_host() {
	local h=$1 ns
	ns=$(nsname "$h")
	[ -n "${LAB_IP4[$h]:-}" ] || { echo "lab: unknown host $h" >&2; return 1; }
	ip netns add "$ns" || return 1
	LAB_HOSTS+=("$h")
	_lab_sysctls "$h"
	ip -n "$ns" link set lo up
	# Created from the hypervisor side with the peer born inside the host
	# namespace: host-end names only need to be unique within $LAB_HV.
	ip -n "$LAB_HV" link add "v-$h" type veth peer name eth0 netns "$ns" || return 1
	ip -n "$LAB_HV" link set "v-$h" master br0
	ip -n "$LAB_HV" link set "v-$h" up
	ip -n "$ns" addr add "${LAB_IP4[$h]}/32" dev eth0
	ip -n "$ns" addr add "${LAB_IP6[$h]}/128" dev eth0 nodad
	ip -n "$ns" link set eth0 up
	local r
	for r in 203.0.113.0/24 198.51.100.0/24 198.18.0.0/15; do
		ip -n "$ns" route add "$r" dev eth0
	done
	ip -n "$ns" -6 route add 2001:db8::/32 dev eth0
}

# lab_down: the EXIT trap. Order matters: sgctl unload first (it may need
# the namespaces to find its attachments), then our processes, then the
# namespaces, then whatever pins are left.
lab_down() {
	local rc=$?
	trap - EXIT
	if [ -n "${SGCTL:-}" ] && [ -x "${SGCTL:-}" ] && [ -e "$LAB_PIN" ]; then
		timeout 20 "$SGCTL" unload --pin-dir "$LAB_PIN" >/dev/null 2>&1
	fi
	local p h ns
	for p in "${LAB_PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	if [ "$LAB_UP" = 1 ]; then
		# Anything else still running inside our namespaces was started by
		# this run (the names are unique to it).
		for h in "${LAB_HOSTS[@]}" hv; do
			ns=$(nsname "$h")
			for p in $(ip netns pids "$ns" 2>/dev/null); do
				kill "$p" 2>/dev/null
			done
		done
		for h in "${LAB_HOSTS[@]}"; do
			ip netns del "$(nsname "$h")" 2>/dev/null
		done
		ip netns del "$LAB_HV" 2>/dev/null
	fi
	for p in "${LAB_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	[ -e "$LAB_PIN" ] && rm -rf "$LAB_PIN"
	[ -n "$LAB_TMP" ] && rm -rf "$LAB_TMP"
	exit "$rc"
}

# ---- sgctl -----------------------------------------------------------------

# sgc ARGS...: run sgctl on this run's pin directory, bounded in time. The
# command and its stderr also go to $LAB_TMP/sgctl.log for FAIL diagnostics
# (lab_log_tail).
sgc() {
	local rc
	echo "+ sgctl $* --pin-dir $LAB_PIN" >>"$LAB_TMP/sgctl.log"
	timeout 30 "$SGCTL" "$@" --pin-dir "$LAB_PIN" 2> >(tee -a "$LAB_TMP/sgctl.log" >&2)
	rc=$?
	echo "  exit $rc" >>"$LAB_TMP/sgctl.log"
	return $rc
}

# sgc_quiet ARGS...: as sgc, all output only to the log.
sgc_quiet() {
	local rc
	echo "+ sgctl $* --pin-dir $LAB_PIN" >>"$LAB_TMP/sgctl.log"
	timeout 30 "$SGCTL" "$@" --pin-dir "$LAB_PIN" >>"$LAB_TMP/sgctl.log" 2>&1
	rc=$?
	echo "  exit $rc" >>"$LAB_TMP/sgctl.log"
	return $rc
}

lab_log_tail() {
	[ -f "$LAB_TMP/sgctl.log" ] && tail -n "${1:-15}" "$LAB_TMP/sgctl.log" | sed 's/^/    | /'
}

# attach_args HOST MODE: the interface and namespace sgctl attach/detach take.
#   nic   the instance's own eth0, inside its namespace
#   host  the hypervisor end of its veth (with --host-side)
attach_if() {
	case $2 in
	nic) echo "eth0 --netns $(nsname "$1")" ;;
	host) echo "v-$1 --netns $LAB_HV" ;;
	*) echo "lab: bad mode $2" >&2; return 1 ;;
	esac
}

# lab_attach HOST MODE INSTANCE: attach; prints a FAIL line itself on error.
lab_attach() {
	local h=$1 mode=$2 inst=$3 extra=()
	[ "$mode" = host ] && extra=(--host-side)
	# shellcheck disable=SC2046
	if ! sgc_quiet attach $(attach_if "$h" "$mode") "${extra[@]}" --instance "$inst"; then
		expect "$mode: attach $inst" ok failed
		lab_log_tail 6
		return 1
	fi
}

lab_detach() {
	# shellcheck disable=SC2046
	sgc_quiet detach $(attach_if "$1" "$2")
}

# lab_load FILE [LABEL]: load and record PASS/FAIL.
lab_load() {
	if sgc_quiet load "$1"; then
		expect "${2:-load $(basename "$1")}" ok ok
	else
		expect "${2:-load $(basename "$1")}" ok failed
		lab_log_tail 6
		return 1
	fi
}

# xdp_on HOST MODE: prints "xdp" when any XDP program is attached to the
# interface the mode uses, "none" otherwise.
xdp_on() {
	local ns dev
	if [ "$2" = host ]; then ns=$LAB_HV dev="v-$1"; else ns=$(nsname "$1") dev=eth0; fi
	if ip -n "$ns" -d link show dev "$dev" 2>/dev/null | grep -q 'prog/xdp'; then
		echo xdp
	else
		echo none
	fi
}

# bpf_net HOST MODE: BPF programs on the interface (xdp, tc and tcx), one
# per line, ids included; empty when none.
bpf_net() {
	local ns dev
	if [ "$2" = host ]; then ns=$LAB_HV dev="v-$1"; else ns=$(nsname "$1") dev=eth0; fi
	command -v bpftool >/dev/null || return 0
	ip netns exec "$ns" bpftool net show dev "$dev" 2>/dev/null |
		grep -E 'id [0-9]+' || true
}

# tcp_insegs HOST: TCP segments HOST's stack has received. A packet a
# security group drops must never get there (the filter sits outside).
tcp_insegs() {
	# shellcheck disable=SC2016 # awk's $, not the shell's
	ns_exec "$1" awk '/^Tcp:/ { if (!c) { for (i = 1; i <= NF; i++) if ($i == "InSegs") c = i } else print $c }' /proc/net/snmp
}

# ---- servers ---------------------------------------------------------------

# Echo servers, dual stack (one AF_INET6 socket with V6ONLY off).
read -r -d '' _LAB_TCP_SERVER <<'EOF'
import socket, sys, threading
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(128)
def serve(c):
    with c:
        while True:
            try:
                d = c.recv(65536)
            except OSError:
                return
            if not d:
                return
            c.sendall(d)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF

read -r -d '' _LAB_UDP_SERVER <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(65536)
    s.sendto(d, a)
EOF

# _lab_wait_listen HOST PROTO(t|u) PORT: bounded wait for the socket.
_lab_wait_listen() {
	for _ in $(seq 60); do
		if [ -n "$(ns_exec "$1" ss -Hln"$2" "sport = :$3" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.05
	done
	echo "lab: server $1:$3/$2 did not start" >&2
	return 1
}

# start_tcp_server HOST PORT: TCP echo server on every address of HOST.
start_tcp_server() {
	ns_exec "$1" "$LAB_PY" -c "$_LAB_TCP_SERVER" "$2" >/dev/null 2>&1 &
	LAB_PIDS+=($!)
	_lab_wait_listen "$1" t "$2"
}

# start_udp_echo HOST PORT
start_udp_echo() {
	ns_exec "$1" "$LAB_PY" -c "$_LAB_UDP_SERVER" "$2" >/dev/null 2>&1 &
	LAB_PIDS+=($!)
	_lab_wait_listen "$1" u "$2"
}

# ---- probes ----------------------------------------------------------------

# probe_tcp HOST ADDR PORT [TIMEOUT]: connect from HOST and exchange one
# line with the echo server. Prints:
#   connected  handshake done and the line came back
#   stalled    handshake done but no echo (half a flow is being dropped)
#   refused    RST: the packet got through and nothing listens
#   timeout    no answer at all: a security group dropped it
#   error:...  anything else (e.g. No_route_to_host)
read -r -d '' _LAB_PROBE_TCP <<'EOF'
import socket, sys
a, p, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.settimeout(t)
try:
    s.connect((a, p))
except ConnectionRefusedError:
    print("refused"); sys.exit()
except (socket.timeout, TimeoutError):
    print("timeout"); sys.exit()
except OSError as e:
    print("error:" + (e.strerror or str(e)).replace(" ", "_")); sys.exit()
try:
    s.sendall(b"sgctl-probe\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    print("connected" if buf == b"sgctl-probe\n" else "stalled")
except OSError:
    print("stalled")
EOF

probe_tcp() {
	ns_exec "$1" "$LAB_PY" -c "$_LAB_PROBE_TCP" "$2" "$3" "${4:-2}" 2>&1 | tail -n 1
}

# probe_udp HOST ADDR PORT [TIMEOUT]: one datagram to an echo server.
# Prints reply / timeout / refused (ICMP port unreachable came back).
read -r -d '' _LAB_PROBE_UDP <<'EOF'
import socket, sys
a, p, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(t)
try:
    s.connect((a, p))
    s.send(b"sgctl-probe")
    print("reply" if s.recv(65536) == b"sgctl-probe" else "garbled")
except ConnectionRefusedError:
    print("refused")
except (socket.timeout, TimeoutError):
    print("timeout")
except OSError as e:
    print("error:" + (e.strerror or str(e)).replace(" ", "_"))
EOF

probe_udp() {
	ns_exec "$1" "$LAB_PY" -c "$_LAB_PROBE_UDP" "$2" "$3" "${4:-2}" 2>&1 | tail -n 1
}

# probe_ping HOST ADDR [TIMEOUT]: one echo request. Prints reply / timeout.
probe_ping() {
	if ns_exec "$1" ping -n -q -c 1 -W "${3:-2}" "$2" >/dev/null 2>&1; then
		echo reply
	else
		echo timeout
	fi
}

# Probes expected to time out wait 1 s, the others 2 s: a blocked packet
# never answers, so a longer wait proves nothing more.
_lab_wait_for() { if [ "$1" = timeout ]; then echo 1; else echo 2; fi; }

# check_tcp NAME EXPECTED FROM ADDR PORT
check_tcp() {
	expect "$1" "$2" "$(probe_tcp "$3" "$4" "$5" "$(_lab_wait_for "$2")")"
}

# check_udp NAME EXPECTED FROM ADDR PORT
check_udp() {
	expect "$1" "$2" "$(probe_udp "$3" "$4" "$5" "$(_lab_wait_for "$2")")"
}

# check_ping NAME EXPECTED FROM ADDR
check_ping() {
	expect "$1" "$2" "$(probe_ping "$3" "$4" "$(_lab_wait_for "$2")")"
}

# ---- long-lived TCP sessions ---------------------------------------------
#
# session_open NAME FROM ADDR PORT starts a client that connects to an echo
# server and then waits for commands; session_send NAME sends one line over
# the same connection and prints ok / timeout / closed. This is how a tracked
# flow is shown to survive a policy change.
read -r -d '' _LAB_SESSION <<'EOF'
import os, socket, sys, time
a, p, ctl, out, t = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
def say(x):
    with open(out, "a") as f:
        f.write(x + "\n")
s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
s.settimeout(2)
try:
    s.connect((a, p))
except OSError as e:
    say("connect-failed"); sys.exit()
s.settimeout(t)
say("open")
done, end = 0, time.time() + 180
while time.time() < end:
    try:
        with open(ctl) as f:
            cmds = f.read().split()
    except FileNotFoundError:
        cmds = []
    for c in cmds[done:]:
        done += 1
        if c == "quit":
            s.close(); sys.exit()
        try:
            s.sendall(c.encode() + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                d = s.recv(4096)
                if not d:
                    raise EOFError
                buf += d
            say("ok" if buf == c.encode() + b"\n" else "garbled")
        except (socket.timeout, TimeoutError):
            say("timeout")
        except (OSError, EOFError):
            say("closed")
    time.sleep(0.05)
EOF

# _lab_wait_lines FILE N: bounded wait until FILE has N lines; prints the last.
_lab_wait_lines() {
	for _ in $(seq 80); do
		if [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; then
			sed -n "${2}p" "$1"
			return 0
		fi
		sleep 0.05
	done
	echo "no-answer"
}

# session_open NAME FROM ADDR PORT [REPLY_TIMEOUT]: prints open / connect-failed.
session_open() {
	local n=$1
	: >"$LAB_TMP/$n.ctl"
	ns_exec "$2" "$LAB_PY" -c "$_LAB_SESSION" "$3" "$4" "$LAB_TMP/$n.ctl" \
		"$LAB_TMP/$n.out" "${5:-1.5}" >/dev/null 2>&1 &
	LAB_PIDS+=($!)
	_lab_wait_lines "$LAB_TMP/$n.out" 1
}

# session_send NAME: prints ok / timeout / closed / garbled. Stateless (the
# command file counts the lines sent), so it works inside $(...).
session_send() {
	local k
	echo "m$RANDOM" >>"$LAB_TMP/$1.ctl"
	k=$(wc -l <"$LAB_TMP/$1.ctl")
	_lab_wait_lines "$LAB_TMP/$1.out" $((k + 1))
}

session_close() {
	echo quit >>"$LAB_TMP/$1.ctl"
}

# ---- results ---------------------------------------------------------------

# expect NAME EXPECTED OBSERVED
expect() {
	if [ "$2" = "$3" ]; then
		echo "PASS $1"
		LAB_PASS=$((LAB_PASS + 1))
	else
		echo "FAIL $1 (expected $2, got $3)"
		LAB_FAIL=$((LAB_FAIL + 1))
	fi
}

# lab_finish: exit status of the test (the EXIT trap still cleans up).
lab_finish() {
	[ "$LAB_FAIL" -eq 0 ]
	exit $?
}
