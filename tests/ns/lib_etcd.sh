# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# A private etcd for a test: sourced, not run. On 127.0.0.1 with free ports
# (23000-29999, never 2379/2380) and a temporary --data-dir, plain or TLS
# with client certificates made by openssl. Always cleaned up: etcd_start
# sets `trap etcd_cleanup EXIT` (INT and TERM exit through it) unless
# ETCD_NO_TRAP=1, in which case the test's own trap must call etcd_cleanup.
#
#   . tests/ns/lib_etcd.sh
#   etcd_start [--tls]    start; sets ETCD_URL, ETCD_DIR (data dir, certs),
#                         ETCD_PID, ETCD_TLS_ARGS (--cacert/--cert/--key of
#                         a valid client, for sgctl and etcdctl)
#   etcd_ctl ARGS...      etcdctl (API v3) against it, with the client cert
#   etcd_stop             stop it (SIGTERM), keep the data dir
#   etcd_restart          start it again on the same data dir and ports
#   etcd_cleanup          stop it and remove everything
# With --tls, $ETCD_DIR/certs also holds rogue-ca.pem, rogue.pem and
# rogue-key.pem: a client certificate from a CA etcd does not trust.
# ETCD_EXTRA_ARGS adds etcd options. Transactions may hold many
# operations (push writes a whole VPC in one): --max-txn-ops is raised.

ETCD_BIN=${ETCD_BIN:-etcd}
ETCDCTL_BIN=${ETCDCTL_BIN:-etcdctl}
ETCD_URL= ETCD_DIR= ETCD_PID= ETCD_TLS= ETCD_TLS_ARGS=
ETCD_CLIENT_PORT= ETCD_PEER_PORT=

_etcd_port_free() { # PORT
	! ss -Htln "sport = :$1" 2>/dev/null | grep -q .
}

# Two adjacent free ports, starting from a place that depends on $$ so
# that tests running side by side seldom collide.
_etcd_pick_ports() {
	local base=$((23000 + ($$ * 7 + RANDOM) % 6990)) i p
	for ((i = 0; i < 200; i++)); do
		p=$((23000 + (base - 23000 + i * 2) % 6990))
		if _etcd_port_free "$p" && _etcd_port_free $((p + 1)); then
			ETCD_CLIENT_PORT=$p
			ETCD_PEER_PORT=$((p + 1))
			return 0
		fi
	done
	echo "lib_etcd: no free ports in 23000-29999" >&2
	return 1
}

# A CA, a server certificate for 127.0.0.1/localhost, a client certificate,
# and a rogue client certificate from another CA (etcd_make_certs DIR).
etcd_make_certs() {
	local d=$1 n
	mkdir -p "$d"
	(
		cd "$d" || exit 1
		for n in ca rogue-ca; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
				-nodes -days 2 -subj "/CN=sgctl test $n" \
				-keyout "$n-key.pem" -out "$n.pem" 2>/dev/null || exit 1
		done
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >server.ext
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		for n in server:ca:server.ext client:ca:client.ext rogue:rogue-ca:client.ext; do
			set -- ${n//:/ }
			openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
				-subj "/CN=sgctl test $1" -keyout "$1-key.pem" -out "$1.csr" \
				2>/dev/null || exit 1
			openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2-key.pem" \
				-CAcreateserial -days 2 -extfile "$3" -out "$1.pem" \
				2>/dev/null || exit 1
		done
	)
}

_etcd_launch() {
	local scheme=http tls=()
	if [ -n "$ETCD_TLS" ]; then
		scheme=https
		tls=(--cert-file "$ETCD_DIR/certs/server.pem"
			--key-file "$ETCD_DIR/certs/server-key.pem"
			--trusted-ca-file "$ETCD_DIR/certs/ca.pem" --client-cert-auth)
	fi
	ETCD_URL=$scheme://127.0.0.1:$ETCD_CLIENT_PORT
	# shellcheck disable=SC2086
	"$ETCD_BIN" --name sgtest --data-dir "$ETCD_DIR/data" \
		--listen-client-urls "$ETCD_URL" --advertise-client-urls "$ETCD_URL" \
		--listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
		--initial-cluster "sgtest=http://127.0.0.1:$ETCD_PEER_PORT" \
		--max-txn-ops 100000 --max-request-bytes 33554432 \
		"${tls[@]}" $ETCD_EXTRA_ARGS >>"$ETCD_DIR/etcd.log" 2>&1 &
	ETCD_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do
		if etcd_ctl endpoint health >/dev/null 2>&1; then
			return 0
		fi
		if ! kill -0 "$ETCD_PID" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "lib_etcd: etcd did not come up; its log:" >&2
	tail -n 20 "$ETCD_DIR/etcd.log" >&2
	return 1
}

etcd_start() {
	ETCD_TLS=
	[ "${1:-}" = --tls ] && ETCD_TLS=1
	command -v "$ETCD_BIN" >/dev/null || {
		echo "lib_etcd: $ETCD_BIN not found (make deps installs etcd-server)" >&2
		return 1
	}
	ETCD_DIR=$(mktemp -d /tmp/sgctl-etcd.XXXXXX) || return 1
	if [ "${ETCD_NO_TRAP:-0}" != 1 ]; then
		trap etcd_cleanup EXIT
		trap 'exit 130' INT TERM
	fi
	if [ -n "$ETCD_TLS" ]; then
		etcd_make_certs "$ETCD_DIR/certs" || {
			echo "lib_etcd: openssl failed to make certificates" >&2
			return 1
		}
		ETCD_TLS_ARGS="--cacert $ETCD_DIR/certs/ca.pem --cert $ETCD_DIR/certs/client.pem --key $ETCD_DIR/certs/client-key.pem"
	else
		ETCD_TLS_ARGS=
	fi
	_etcd_pick_ports || return 1
	_etcd_launch
}

etcd_ctl() {
	# shellcheck disable=SC2086
	ETCDCTL_API=3 "$ETCDCTL_BIN" --endpoints "$ETCD_URL" --dial-timeout 2s \
		--command-timeout 5s $ETCD_TLS_ARGS "$@"
}

etcd_stop() {
	[ -n "$ETCD_PID" ] || return 0
	kill "$ETCD_PID" 2>/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$ETCD_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$ETCD_PID" 2>/dev/null
	wait "$ETCD_PID" 2>/dev/null
	ETCD_PID=
}

etcd_restart() {
	etcd_stop
	_etcd_launch
}

etcd_cleanup() {
	etcd_stop
	if [ -n "$ETCD_DIR" ] && [ -d "$ETCD_DIR" ]; then
		rm -rf "$ETCD_DIR"
	fi
	ETCD_DIR=
}
