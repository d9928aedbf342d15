# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# The console tests' helpers (tests/ns/test_console_*.sh), on top of
# tests/lab/lib.sh: an `sgctl console` on a free loopback port of the lab's
# pin dir, and curl wrappers that speak its API (docs/console.md).
#
#   console_start [ARGS...]   CONSOLE_URL, CONSOLE_PID set; output in
#                             $LAB_TMP/console.out; 1 when it did not answer
#   console_stop
#   api METHOD PATH [BODY]    sets API_STATUS (HTTP status) and API_BODY;
#                             carries the CSRF token and the console's own
#                             Origin (call it directly, not in $(...))
#   api_nocsrf METHOD PATH [BODY]   the same without the token
#   jq_py EXPR                reads JSON on stdin, prints eval(EXPR) with
#                             the document as j ("" on a parse error)
#
# TLS: set CONSOLE_SCHEME=https and CONSOLE_CURL=(--cacert F -u U:P ...)
# (extra curl arguments for every request) before console_start.
#
# The console is killed by lab_down with the lab's other processes.

CONSOLE_URL=
CONSOLE_SCHEME=${CONSOLE_SCHEME:-http}
CONSOLE_CURL=()
CONSOLE_PID=
CONSOLE_CSRF=
API_STATUS=
API_BODY=

console_require() {
	if ! command -v curl >/dev/null; then
		echo "SKIP $LAB_NAME: curl not installed"
		exit 0
	fi
}

# A TCP port nobody listens on (the kernel picks it).
console_free_port() {
	"$LAB_PY" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

console_start() {
	local port i
	port=$(console_free_port)
	CONSOLE_URL="$CONSOLE_SCHEME://127.0.0.1:$port"
	"$SGCTL" console --listen "127.0.0.1:$port" --pin-dir "$LAB_PIN" "$@" \
		>"$LAB_TMP/console.out" 2>&1 &
	CONSOLE_PID=$!
	LAB_PIDS+=("$CONSOLE_PID")
	for i in $(seq 1 100); do
		if curl -s -o /dev/null "${CONSOLE_CURL[@]}" "$CONSOLE_URL/api/session"; then
			CONSOLE_CSRF=$(curl -s "${CONSOLE_CURL[@]}" "$CONSOLE_URL/api/session" |
				jq_py 'j["csrf_token"]')
			return 0
		fi
		kill -0 "$CONSOLE_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "console did not answer on $CONSOLE_URL:" >&2
	cat "$LAB_TMP/console.out" >&2
	return 1
}

console_stop() {
	[ -n "$CONSOLE_PID" ] || return 0
	kill "$CONSOLE_PID" 2>/dev/null
	wait "$CONSOLE_PID" 2>/dev/null
	CONSOLE_PID=
}

_api() {
	local csrf=$1 method=$2 path=$3 body=${4-} out=$LAB_TMP/api.body
	local args=(-s -o "$out" -w '%{http_code}' -X "$method" --max-time 20
		"${CONSOLE_CURL[@]}")
	if [ "$csrf" = yes ]; then
		args+=(-H "X-CSRF-Token: $CONSOLE_CSRF" -H "Origin: $CONSOLE_URL")
	fi
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	: >"$out"
	API_STATUS=$(curl "${args[@]}" "$CONSOLE_URL$path")
	API_BODY=$(cat "$out")
}

api() { _api yes "$@"; }
api_nocsrf() { _api no "$@"; }

jq_py() {
	"$LAB_PY" -c '
import json, sys
try:
    j = json.load(sys.stdin)
    v = eval(sys.argv[1])
except Exception:
    v = ""
print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None else v)' "$1"
}
