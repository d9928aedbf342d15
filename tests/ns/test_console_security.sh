#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The console's security model (docs/console.md, "Security model"; issue
# 15 §3; SPEC §4), from the outside with curl and raw sockets, on a loaded
# config: the session and its token; writes without the token, from
# another origin or under --read-only refused (403) before any routing;
# limits (413 beyond 1 MiB, a slow client neither blocks others nor stays
# forever); JSON errors (404, 405); the security headers; a non-loopback
# listen refused without TLS and authentication; TLS with a password file
# (401 without it) and with a client CA (a client without a certificate
# signed by it refused); SIGTERM ends it with 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=tests/ns/lib_console.sh
. "$here/lib_console.sh"
lab_init test_console_security
lab_require_sgctl
console_require
if ! command -v openssl >/dev/null; then
	echo "SKIP $LAB_NAME: openssl not installed"
	exit 0
fi

# field EXPR: EXPR of the last API answer.
field() { jq_py "$1" <<<"$API_BODY"; }
# hdr NAME FILE: the value of header NAME in a curl -D dump.
hdr() { grep -i "^$1:" "$2" | head -1 | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }

lab_load "$here/edit.yaml" "load edit.yaml" || lab_finish
console_start || lab_finish

# ---- the session ----
api GET /api/session
expect "session: 200" 200 "$API_STATUS"
expect "session: a 64-hex token" yes \
	"$([[ $(field 'j["csrf_token"]') =~ ^[0-9a-f]{64}$ ]] && echo yes)"
expect "session: the token is the one console_start read" "$CONSOLE_CSRF" \
	"$(field 'j["csrf_token"]')"
expect "session: read_only false" false "$(field 'j["read_only"]')"
expect "session: source local" local "$(field 'j["source"]')"
expect "session: the loaded VPC" vpc-lab "$(field 'j["vpc"]')"
expect "session: client_ip" 127.0.0.1 "$(field 'j["client_ip"]')"
expect "session: a version" yes "$([ -n "$(field 'j["version"]')" ] && echo yes)"

# ---- CSRF and origin: before routing, for every write under /api/ ----
for m in POST PUT DELETE; do
	api_nocsrf "$m" /api/groups '{"name": "x", "description": "x"}'
	expect "$m without the token: 403" 403 "$API_STATUS"
	expect "$m without the token: InvalidCsrfToken" InvalidCsrfToken \
		"$(field 'j["code"]')"
done
api_nocsrf POST /api/no-such-path '{}'
expect "POST to an unknown path without the token: 403 (checked first)" \
	"403 InvalidCsrfToken" "$API_STATUS $(field 'j["code"]')"

out=$LAB_TMP/curl.body
code=$(curl -s -o "$out" -w '%{http_code}' -X POST --data-binary '{}' \
	-H 'Content-Type: application/json' -H "X-CSRF-Token: wrong$CONSOLE_CSRF" \
	-H "Origin: $CONSOLE_URL" "$CONSOLE_URL/api/groups")
expect "a wrong token: 403 InvalidCsrfToken" "403 InvalidCsrfToken" \
	"$code $(jq_py 'j["code"]' <"$out")"
code=$(curl -s -o "$out" -w '%{http_code}' -X POST --data-binary '{}' \
	-H 'Content-Type: application/json' -H "X-CSRF-Token: $CONSOLE_CSRF" \
	-H "Origin: http://attacker.example" "$CONSOLE_URL/api/groups")
expect "the token from another Origin: 403 InvalidCsrfToken" \
	"403 InvalidCsrfToken" "$code $(jq_py 'j["code"]' <"$out")"
code=$(curl -s -o "$out" -w '%{http_code}' -X POST --data-binary '{}' \
	-H "X-CSRF-Token: $CONSOLE_CSRF" -H "Origin: $CONSOLE_URL" \
	-H "Sec-Fetch-Site: cross-site" "$CONSOLE_URL/api/groups")
expect "Sec-Fetch-Site: cross-site: 403" 403 "$code"
code=$(curl -s -o "$out" -w '%{http_code}' -X POST --data-binary '{}' \
	-H "X-CSRF-Token: $CONSOLE_CSRF" -H "Origin: null" \
	"$CONSOLE_URL/api/groups")
expect "Origin: null: 403" 403 "$code"
# The token and the console's own origin (or none) get through the
# checks: an unknown path is then a JSON 404.
api POST /api/no-such-path '{}'
expect "POST with the token, same origin: routed (404 NotFound)" \
	"404 NotFound" "$API_STATUS $(field 'j["code"]')"
code=$(curl -s -o "$out" -w '%{http_code}' -X POST --data-binary '{}' \
	-H "X-CSRF-Token: $CONSOLE_CSRF" -H "Sec-Fetch-Site: same-origin" \
	"$CONSOLE_URL/api/no-such-path")
expect "POST with the token and no Origin: routed (404)" 404 "$code"
# DNS rebinding: a loopback console answers only loopback host names.
code=$(curl -s -o "$out" -w '%{http_code}' -H "Host: attacker.example:80" \
	"$CONSOLE_URL/api/session")
expect "Host of another name: 400, no token" "400 no" \
	"$code $(grep -q "$CONSOLE_CSRF" "$out" && echo yes || echo no)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: localhost:1" \
	"$CONSOLE_URL/api/session")
expect "Host localhost: 200" 200 "$code"

# ---- JSON errors ----
api GET /api/no-such-path
expect "unknown /api path: 404" 404 "$API_STATUS"
expect "unknown /api path: JSON code NotFound with a message" "NotFound yes" \
	"$(field 'j["code"]') $([ -n "$(field 'j["error"]')" ] && echo yes)"
api DELETE /api/session
expect "DELETE /api/session: 405 JSON" "405 InvalidRequest" \
	"$API_STATUS $(field 'j["code"]')"
code=$(curl -s -o "$out" -w '%{http_code}' "$CONSOLE_URL/no-such-page.js")
expect "unknown page: 404 JSON" "404 NotFound" "$code $(jq_py 'j["code"]' <"$out")"

# ---- body limit ----
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$LAB_TMP/big.json"
code=$(curl -s -o "$out" -w '%{http_code}' -X POST --max-time 20 \
	-H 'Content-Type: application/json' -H "X-CSRF-Token: $CONSOLE_CSRF" \
	-H "Origin: $CONSOLE_URL" --data-binary @"$LAB_TMP/big.json" \
	"$CONSOLE_URL/api/groups")
expect "2 MiB body: 413 RequestTooLarge" "413 RequestTooLarge" \
	"$code $(jq_py 'j["code"]' <"$out")"
code=$(curl -s -o "$out" -w '%{http_code}' -X POST --max-time 20 \
	-H 'Content-Type: application/json' -H "X-CSRF-Token: $CONSOLE_CSRF" \
	-H "Origin: $CONSOLE_URL" -H 'Transfer-Encoding: chunked' \
	--data-binary @"$LAB_TMP/big.json" "$CONSOLE_URL/api/groups")
expect "2 MiB chunked body (no Content-Length): 413" "413 RequestTooLarge" \
	"$code $(jq_py 'j["code"]' <"$out")"
head -c $((1024 * 1024 - 2)) /dev/zero | tr '\0' ' ' >"$LAB_TMP/ok.json"
code=$(curl -s -o "$out" -w '%{http_code}' -X POST --max-time 20 \
	-H 'Content-Type: application/json' -H "X-CSRF-Token: $CONSOLE_CSRF" \
	-H "Origin: $CONSOLE_URL" --data-binary @"$LAB_TMP/ok.json" \
	"$CONSOLE_URL/api/no-such-path")
expect "a body under 1 MiB: read and routed (404)" 404 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 20 \
	-H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" "$CONSOLE_URL/api/session")
expect "100 kB of headers: refused (4xx)" yes \
	"$([ "$code" -ge 400 ] && [ "$code" -lt 500 ] && echo yes)"

# ---- security headers ----
for p in /api/session /api/no-such-path /; do
	curl -s -o /dev/null -D "$LAB_TMP/h" "$CONSOLE_URL$p"
	expect "$p: Content-Security-Policy default-src 'self'" yes \
		"$(hdr Content-Security-Policy "$LAB_TMP/h" | grep -q "default-src 'self'" && echo yes)"
	expect "$p: X-Content-Type-Options nosniff" nosniff \
		"$(hdr X-Content-Type-Options "$LAB_TMP/h")"
	expect "$p: Referrer-Policy no-referrer" no-referrer \
		"$(hdr Referrer-Policy "$LAB_TMP/h")"
	expect "$p: X-Frame-Options DENY" DENY "$(hdr X-Frame-Options "$LAB_TMP/h")"
done
curl -s -o /dev/null -D "$LAB_TMP/h" "$CONSOLE_URL/api/session"
expect "/api/: Cache-Control no-store" no-store "$(hdr Cache-Control "$LAB_TMP/h")"
expect "/api/: Content-Type application/json" application/json \
	"$(hdr Content-Type "$LAB_TMP/h")"

# ---- a slow client ----
# Sockets that send half a request and wait must not delay anyone else,
# and are dropped after the connection timeout.
"$LAB_PY" - "${CONSOLE_URL##*:}" >"$LAB_TMP/slow.out" 2>&1 <<'EOF' &
import socket, sys, time
port = int(sys.argv[1])
socks = []
for _ in range(8):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /api/session HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    socks.append(s)
print("sent", flush=True)
s = socks[0]
s.settimeout(40)
t0 = time.time()
try:
    data = s.recv(4096)
    print("closed after %.0f s (%d bytes)" % (time.time() - t0, len(data)))
except socket.timeout:
    print("still open after 40 s")
EOF
slow=$!
LAB_PIDS+=("$slow")
for _ in $(seq 1 50); do
	grep -q sent "$LAB_TMP/slow.out" && break
	sleep 0.1
done
t0=$(date +%s%N)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$CONSOLE_URL/api/session")
ms=$((($(date +%s%N) - t0) / 1000000))
expect "with 8 slow clients, another client is answered" 200 "$code"
expect "... promptly (${ms} ms < 1000 ms)" yes "$([ "$ms" -lt 1000 ] && echo yes)"

# ---- --read-only ----
console_stop
console_start --read-only || lab_finish
api GET /api/session
expect "--read-only: session says read_only" true "$(field 'j["read_only"]')"
api POST /api/groups '{"name": "x", "description": "x"}'
expect "--read-only: a write with the token: 403 UnauthorizedOperation" \
	"403 UnauthorizedOperation" "$API_STATUS $(field 'j["code"]')"
api DELETE /api/groups/sg-web
expect "--read-only: DELETE: 403 UnauthorizedOperation" \
	"403 UnauthorizedOperation" "$API_STATUS $(field 'j["code"]')"
api_nocsrf POST /api/groups '{}'
expect "--read-only: a write without the token: still InvalidCsrfToken" \
	"403 InvalidCsrfToken" "$API_STATUS $(field 'j["code"]')"
api GET /api/no-such-path
expect "--read-only: reads still routed" 404 "$API_STATUS"

# ---- SIGTERM ----
kill -TERM "$CONSOLE_PID"
wait "$CONSOLE_PID"
expect "SIGTERM: exit 0" 0 $?
CONSOLE_PID=

# ---- where it may listen ----
port=$(console_free_port)
for addr in "0.0.0.0:$port" "[::]:$port" "192.0.2.1:$port"; do
	timeout 10 "$SGCTL" console --listen "$addr" --pin-dir "$LAB_PIN" \
		>"$LAB_TMP/refused.out" 2>&1
	rc=$?
	expect "--listen $addr without TLS: exit 1" 1 "$rc"
	expect "--listen $addr without TLS: the message names TLS" yes \
		"$(grep -q 'TLS' "$LAB_TMP/refused.out" && echo yes)"
done

# Certificates: a CA, a server certificate for 127.0.0.1 signed by it, a
# client certificate signed by it and one self-signed.
pki=$LAB_TMP/pki
mkdir -p "$pki"
(
	cd "$pki" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=sgctl-test-ca \
		-keyout ca.key -out ca.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
		-keyout server.key -out server.csr
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days 2 -extfile server.ext -out server.pem
	openssl req -newkey rsa:2048 -nodes -subj /CN=alice \
		-keyout client.key -out client.csr
	openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key \
		-CAcreateserial -days 2 -out client.pem
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mallory \
		-keyout other.key -out other.pem
) >"$LAB_TMP/openssl.log" 2>&1
expect "test certificates made" yes \
	"$([ -s "$pki/client.pem" ] && [ -s "$pki/other.pem" ] && echo yes)"
tls=(--tls-cert "$pki/server.pem" --tls-key "$pki/server.key")

timeout 10 "$SGCTL" console --listen "0.0.0.0:$port" "${tls[@]}" \
	--pin-dir "$LAB_PIN" >"$LAB_TMP/refused.out" 2>&1
expect "--listen 0.0.0.0 with TLS but no authentication: exit 1" 1 $?
timeout 10 "$SGCTL" console --tls-cert "$pki/server.pem" --pin-dir "$LAB_PIN" \
	>"$LAB_TMP/refused.out" 2>&1
expect "--tls-cert without --tls-key: usage error (2)" 2 $?
timeout 10 "$SGCTL" console --password-file /dev/null --pin-dir "$LAB_PIN" \
	>"$LAB_TMP/refused.out" 2>&1
expect "--password-file without TLS: usage error (2)" 2 $?

# TLS + password file.
printf '# users\nalice:%s\n' "$(openssl passwd -6 'correct horse')" >"$pki/users"
CONSOLE_SCHEME=https
CONSOLE_CURL=(--cacert "$pki/ca.pem")
console_start "${tls[@]}" --password-file "$pki/users" || lab_finish
code=$(curl -s -o "$out" -D "$LAB_TMP/h" -w '%{http_code}' --cacert "$pki/ca.pem" \
	"$CONSOLE_URL/api/session")
expect "password file: no credentials: 401" 401 "$code"
expect "password file: 401 says WWW-Authenticate Basic" yes \
	"$(hdr WWW-Authenticate "$LAB_TMP/h" | grep -q '^Basic' && echo yes)"
expect "password file: 401 is JSON, no token" "yes no" \
	"$([ -n "$(jq_py 'j["code"]' <"$out")" ] && echo yes) $(grep -q "csrf" "$out" && echo yes || echo no)"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.pem" \
	-u 'alice:wrong' "$CONSOLE_URL/api/session")
expect "password file: a wrong password: 401" 401 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.pem" \
	-u 'bob:correct horse' "$CONSOLE_URL/api/session")
expect "password file: an unknown user: 401" 401 "$code"
code=$(curl -s -o "$out" -w '%{http_code}' --cacert "$pki/ca.pem" \
	-u 'alice:correct horse' "$CONSOLE_URL/api/session")
expect "password file: the right password over https: 200 with a token" "200 yes" \
	"$code $([[ $(jq_py 'j["csrf_token"]' <"$out") =~ ^[0-9a-f]{64}$ ]] && echo yes)"
CONSOLE_CURL=(--cacert "$pki/ca.pem" -u 'alice:correct horse')
CONSOLE_CSRF=$(jq_py 'j["csrf_token"]' <"$out")
api POST /api/no-such-path '{}'
expect "https: a write with the token and https Origin: routed (404)" 404 "$API_STATUS"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	"${CONSOLE_URL/https/http}/api/session")
expect "plain http to the https console: no answer" 000 "$code"
console_stop

# TLS + client CA.
console_start "${tls[@]}" --client-ca "$pki/ca.pem" || lab_finish
code=$(curl -s -o "$out" -w '%{http_code}' --cacert "$pki/ca.pem" \
	"$CONSOLE_URL/api/session")
expect "client CA: no client certificate: refused" yes \
	"$([ "$code" = 403 ] || [ "$code" = 000 ] && echo yes)"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$pki/ca.pem" \
	--cert "$pki/other.pem" --key "$pki/other.key" "$CONSOLE_URL/api/session")
expect "client CA: a certificate it did not sign: refused" yes \
	"$([ "$code" = 403 ] || [ "$code" = 000 ] && echo yes)"
code=$(curl -s -o "$out" -w '%{http_code}' --cacert "$pki/ca.pem" \
	--cert "$pki/client.pem" --key "$pki/client.key" "$CONSOLE_URL/api/session")
expect "client CA: a certificate it signed: 200" 200 "$code"
console_stop

# A non-loopback address with TLS and authentication is accepted (in a
# namespace of its own, so nothing outside can reach it).
ns=sgcs-$$
if ip netns add "$ns" 2>/dev/null; then
	ip -n "$ns" link set lo up
	ip netns exec "$ns" "$SGCTL" -j console --listen "0.0.0.0:$port" "${tls[@]}" \
		--password-file "$pki/users" --pin-dir "$LAB_PIN" \
		>"$LAB_TMP/any.out" 2>&1 &
	anypid=$!
	LAB_PIDS+=("$anypid")
	code=000
	for _ in $(seq 1 50); do
		code=$(ip netns exec "$ns" curl -s -o /dev/null -w '%{http_code}' \
			--cacert "$pki/ca.pem" -u 'alice:correct horse' \
			"https://127.0.0.1:$port/api/session")
		[ "$code" = 200 ] && break
		sleep 0.1
	done
	expect "--listen 0.0.0.0 with TLS and a password file: serves (200)" 200 "$code"
	expect "-j: the start line is {\"listen\": URL}" "https://0.0.0.0:$port/" \
		"$(head -1 "$LAB_TMP/any.out" | jq_py 'j["listen"]')"
	kill "$anypid" 2>/dev/null
	wait "$anypid" 2>/dev/null
	ip netns del "$ns"
fi

# etcd: the same checks on a VPC's desired state (no root needed there).
if command -v etcd >/dev/null; then
	ETCD_NO_TRAP=1 ETCD_EXTRA_ARGS=
	# shellcheck source=tests/ns/lib_etcd.sh
	. "$here/lib_etcd.sh"
	if etcd_start; then
		LAB_PIDS+=("$ETCD_PID")
		timeout 30 "$SGCTL" push "$here/edit.yaml" --etcd "$ETCD_URL" \
			>"$LAB_TMP/push.out" 2>&1
		expect "etcd: push edit.yaml" 0 $?
		CONSOLE_SCHEME=http
		CONSOLE_CURL=()
		console_start --etcd "$ETCD_URL" --read-only || lab_finish
		api GET /api/session
		expect "etcd: session says source etcd, the VPC, read-only" \
			"etcd vpc-lab true" \
			"$(field 'j["source"]') $(field 'j["vpc"]') $(field 'j["read_only"]')"
		api POST /api/groups '{"name": "x", "description": "x"}'
		expect "etcd --read-only: a write: 403 UnauthorizedOperation" \
			"403 UnauthorizedOperation" "$API_STATUS $(field 'j["code"]')"
		api_nocsrf PUT /api/instances/i-web1/groups '{"groups": []}'
		expect "etcd: a write without the token: 403 InvalidCsrfToken" \
			"403 InvalidCsrfToken" "$API_STATUS $(field 'j["code"]')"
		console_stop
		etcd_cleanup
	else
		echo "SKIP etcd part: etcd did not start"
	fi
fi

# The slow client of before: dropped by the connection timeout.
wait "$slow"
expect "a slow client is dropped by the timeout" yes \
	"$(grep -q '^closed after' "$LAB_TMP/slow.out" && echo yes)"

lab_finish
