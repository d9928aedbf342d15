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
FLEET_ETCD_PID=
FLEET_ETCD_DIR=
FLEET_ETCD_ARGS=()
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

# A free loopback port from 23000-29999, from our pid, probed.
_fleet_port() {
	local p=$((23000 + ($$ * 7 + ${1:-0} * 13) % 7000)) i
	for i in $(seq 50); do
		if ! ss -Hltn "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
		p=$((23000 + (p - 23000 + 17) % 7000))
	done
	echo "$p"
}

# fleet_certs DIR: a CA, a server certificate for 127.0.0.1, a client
# certificate, and a client certificate from another CA (not trusted).
fleet_certs() {
	local d=$1
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sgctl-test-ca \
			-keyout ca.key -out ca.crt
		openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
			-keyout server.key -out server.csr
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile server.ext -out server.crt
		openssl req -newkey rsa:2048 -nodes -subj /CN=sgctl-agent \
			-keyout client.key -out client.csr
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile client.ext -out client.crt
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=rogue-ca \
			-keyout rogue-ca.key -out rogue-ca.crt
		openssl req -newkey rsa:2048 -nodes -subj /CN=rogue \
			-keyout rogue.key -out rogue.csr
		openssl x509 -req -in rogue.csr -CA rogue-ca.crt -CAkey rogue-ca.key \
			-CAcreateserial -days 2 -extfile client.ext -out rogue.crt
	) >/dev/null 2>&1
}

_fleet_etcd_launch() {
	etcd "${FLEET_ETCD_ARGS[@]}" >>"$LAB_TMP/etcd.log" 2>&1 &
	FLEET_ETCD_PID=$!
	local i
	for i in $(seq 100); do
		if "${FLEET_ETCDCTL[@]}" endpoint health >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "lab: etcd did not start; its log:" >&2
	tail -n 20 "$LAB_TMP/etcd.log" >&2
	return 1
}

# fleet_etcd_start [tls]
fleet_etcd_start() {
	local cport pport scheme=http
	cport=$(_fleet_port 1)
	pport=$(_fleet_port 2)
	[ "$pport" = "$cport" ] && pport=$((cport + 1))
	FLEET_ETCD_DIR="$LAB_TMP/etcd-data"
	FLEET_ETCD_ARGS=(--name sgtest --data-dir "$FLEET_ETCD_DIR"
		--listen-peer-urls "http://127.0.0.1:$pport"
		--initial-advertise-peer-urls "http://127.0.0.1:$pport"
		--initial-cluster "sgtest=http://127.0.0.1:$pport"
		--logger zap --log-level error)
	FLEET_ETCDCTL=(env ETCDCTL_API=3 etcdctl --dial-timeout=2s --command-timeout=5s)
	if [ "${1:-}" = tls ]; then
		scheme=https
		FLEET_TLS_DIR="$LAB_TMP/tls"
		fleet_certs "$FLEET_TLS_DIR"
		FLEET_ETCD_ARGS+=(--cert-file "$FLEET_TLS_DIR/server.crt"
			--key-file "$FLEET_TLS_DIR/server.key"
			--client-cert-auth --trusted-ca-file "$FLEET_TLS_DIR/ca.crt")
		FLEET_ETCDCTL+=(--cacert "$FLEET_TLS_DIR/ca.crt"
			--cert "$FLEET_TLS_DIR/client.crt" --key "$FLEET_TLS_DIR/client.key")
	fi
	FLEET_URL="$scheme://127.0.0.1:$cport"
	FLEET_ETCD_ARGS+=(--listen-client-urls "$FLEET_URL" --advertise-client-urls "$FLEET_URL")
	FLEET_ETCDCTL+=(--endpoints "$FLEET_URL")
	_fleet_etcd_launch
}

fleet_etcd_stop() {
	if [ -n "$FLEET_ETCD_PID" ]; then
		kill "$FLEET_ETCD_PID" 2>/dev/null
		wait "$FLEET_ETCD_PID" 2>/dev/null
		FLEET_ETCD_PID=
	fi
}

# The same data dir and ports again.
fleet_etcd_resume() {
	_fleet_etcd_launch
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
	fleet_etcd_stop
}

# Chains fleet_cleanup before lab_down in the EXIT trap.
fleet_init() {
	trap 'fleet_rc=$?; fleet_cleanup; (exit $fleet_rc); lab_down' EXIT
}
