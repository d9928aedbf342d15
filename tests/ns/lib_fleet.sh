# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# The fleet tests' helpers (tests/ns/test_fleet_*.sh, tests/lab/demo-fleet.sh),
# on top of tests/lab/lib.sh: a private etcd on loopback (plain or TLS with
# client certificates), agents on their own pin dirs, and the desired state
# written straight into etcd.
#
#   fleet_etcd_start [tls]   FLEET_URL, FLEET_ETCDCTL (array) set
#   fleet_etcd_stop / fleet_etcd_resume   same data dir
#   fleet_put KEY JSON       prints the new revision
#   fleet_del KEY            prints the new revision
#   fleet_agent_start NAME HOST PIN [ARGS...]   output in $LAB_TMP/agent-NAME.out
#   fleet_agent_kill NAME [SIGNAL]
#   fleet_wait_rev NAME REV  waits until agent NAME applied REV (or later)
#
# fleet_cleanup runs from lab_down (chained): agents, etcd, their pins.

FLEET_VPC=vpc-lab
FLEET_PFX=/sgctl/v1/$FLEET_VPC/
FLEET_URL=
FLEET_ETCDCTL=()
FLEET_TLS_DIR=
declare -gA FLEET_AGENT_PID=()
declare -gA FLEET_AGENT_PIN=()

fleet_require() {
	local t
	for t in etcd etcdctl openssl; do
		if ! command -v "$t" >/dev/null; then
			echo "SKIP $LAB_NAME: $t not installed (make deps)"
			exit 0
		fi
	done
}

# The etcd itself is tests/ns/lib_etcd.sh's (its trap is ours: fleet_init;
# our tests run under set -u).
ETCD_EXTRA_ARGS=${ETCD_EXTRA_ARGS:-}
# shellcheck source=tests/ns/lib_etcd.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib_etcd.sh"

# fleet_etcd_start [tls]: with tls, FLEET_TLS_DIR holds ca.crt,
# client.crt/.key (trusted), rogue.crt/.key (from another CA), rogue-ca.crt.
fleet_etcd_start() {
	local c
	if [ "${1:-}" = tls ]; then
		ETCD_NO_TRAP=1 etcd_start --tls || return 1
		FLEET_TLS_DIR="$LAB_TMP/tls"
		c=$ETCD_DIR/certs
		mkdir -p "$FLEET_TLS_DIR"
		ln -sf "$c/ca.pem" "$FLEET_TLS_DIR/ca.crt"
		ln -sf "$c/client.pem" "$FLEET_TLS_DIR/client.crt"
		ln -sf "$c/client-key.pem" "$FLEET_TLS_DIR/client.key"
		ln -sf "$c/rogue.pem" "$FLEET_TLS_DIR/rogue.crt"
		ln -sf "$c/rogue-key.pem" "$FLEET_TLS_DIR/rogue.key"
		ln -sf "$c/rogue-ca.pem" "$FLEET_TLS_DIR/rogue-ca.crt"
	else
		ETCD_NO_TRAP=1 etcd_start || return 1
	fi
	FLEET_URL=$ETCD_URL
	FLEET_ETCDCTL=(etcd_ctl)
}

fleet_etcd_stop() {
	etcd_stop
}

# The same data dir and ports again.
fleet_etcd_resume() {
	_etcd_launch
}

_fleet_rev() {
	sed -n 's/.*"revision":\([0-9]*\).*/\1/p' | head -n 1
}

fleet_put() {
	"${FLEET_ETCDCTL[@]}" put "$1" "$2" -w json 2>>"$LAB_TMP/etcd.log" | _fleet_rev
}

fleet_del() {
	"${FLEET_ETCDCTL[@]}" del "$1" -w json 2>>"$LAB_TMP/etcd.log" | _fleet_rev
}

# The store's current revision.
fleet_rev() {
	"${FLEET_ETCDCTL[@]}" get / --prefix --keys-only --limit 1 -w json \
		2>>"$LAB_TMP/etcd.log" | _fleet_rev
}

fleet_agent_start() {
	local name=$1 host=$2 pin=$3
	shift 3
	echo "+ sgctl agent --etcd $FLEET_URL --host $host --pin-dir $pin $*" >>"$LAB_TMP/sgctl.log"
	"$SGCTL" agent --etcd "$FLEET_URL" --host "$host" --vpc "$FLEET_VPC" \
		--pin-dir "$pin" -j "$@" >>"$LAB_TMP/agent-$name.out" \
		2>>"$LAB_TMP/agent-$name.err" &
	FLEET_AGENT_PID[$name]=$!
	FLEET_AGENT_PIN[$name]=$pin
}

# fleet_agent_kill NAME [SIGNAL]: stops it and waits; its exit status in
# FLEET_RC (not in a subshell: only this shell can wait for it).
fleet_agent_kill() {
	local pid=${FLEET_AGENT_PID[$1]:-}
	FLEET_RC=
	[ -n "$pid" ] || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	FLEET_RC=$?
	FLEET_AGENT_PID[$1]=
}

fleet_agent_alive() {
	local pid=${FLEET_AGENT_PID[$1]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# The highest revision agent NAME printed as applied.
fleet_applied() {
	sed -n 's/^{"revision":\([0-9]*\),.*/\1/p' "$LAB_TMP/agent-$1.out" 2>/dev/null |
		sort -n | tail -n 1
}

# fleet_wait_rev NAME REV [TENTHS]: 0 once agent NAME applied REV or later.
fleet_wait_rev() {
	local i a
	for i in $(seq "${3:-100}"); do
		a=$(fleet_applied "$1")
		if [ -n "$a" ] && [ "$a" -ge "$2" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# fleet_wait_err NAME TEXT [TENTHS]: 0 once the agent said TEXT (under -j
# its errors are {"error": ...} lines on stdout, warnings go to stderr).
fleet_wait_err() {
	local i
	for i in $(seq "${3:-100}"); do
		cat "$LAB_TMP/agent-$1.err" "$LAB_TMP/agent-$1.out" 2>/dev/null |
			grep -qF -- "$2" && return 0
		sleep 0.1
	done
	return 1
}

fleet_agent_log() {
	cat "$LAB_TMP/agent-$1.err" "$LAB_TMP/agent-$1.out" 2>/dev/null |
		tail -n "${2:-10}" | sed 's/^/    | /'
}

fleet_cleanup() {
	local n pin
	for n in "${!FLEET_AGENT_PID[@]}"; do
		[ -n "${FLEET_AGENT_PID[$n]}" ] && kill "${FLEET_AGENT_PID[$n]}" 2>/dev/null
	done
	for n in "${!FLEET_AGENT_PID[@]}"; do
		[ -n "${FLEET_AGENT_PID[$n]}" ] && wait "${FLEET_AGENT_PID[$n]}" 2>/dev/null
	done
	for n in "${!FLEET_AGENT_PIN[@]}"; do
		pin=${FLEET_AGENT_PIN[$n]}
		[ "$pin" = "$LAB_PIN" ] && continue # lab_down unloads it
		if [ -e "$pin" ]; then
			timeout 20 "$SGCTL" unload --pin-dir "$pin" >/dev/null 2>&1
			rm -rf "$pin" 2>/dev/null
		fi
	done
	etcd_cleanup
}

# Chains fleet_cleanup before lab_down in the EXIT trap.
fleet_init() {
	trap 'fleet_rc=$?; fleet_cleanup; (exit $fleet_rc); lab_down' EXIT
}
