#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make demo-console`: the demo's lab (examples/lab.yaml, host-side) with
# `sgctl console` on it, and a little traffic every few seconds (my
# computer's SSH, someone else's web request, someone else's refused SSH)
# so that Hits, Last used and the flow logs have something to show.
#   usage: tests/lab/demo-console.sh [path/to/sgctl]     (root)
# Open http://127.0.0.1:8080/ (CONSOLE_PORT to change it; over SSH:
# ssh -L 8080:127.0.0.1:8080 HOST). Ctrl-C stops it and removes the lab.
# DEMO_SECONDS=N stops it after N seconds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
LAB_PIN=${SGCTL_PIN_DIR:-/sys/fs/bpf/sgctl-demo-console-$$}
config=$root/examples/lab.yaml
port=${CONSOLE_PORT:-8080}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo-console: needs root (network namespaces, BPF)" >&2
	exit 1
fi
lab_init demo-console "${1:-${SGCTL:-$root/build/sgctl}}"
lab_up me other web db || { echo "demo-console: could not build the lab" >&2; exit 1; }
start_tcp_server web 22 && start_tcp_server web 80 && start_tcp_server db 5432 ||
	{ echo "demo-console: could not start the servers" >&2; exit 1; }
for step in "load $config" \
	"attach v-web --netns $LAB_HV --host-side --instance i-web1" \
	"attach v-db --netns $LAB_HV --host-side --instance i-db1"; do
	# shellcheck disable=SC2086
	sgc $step >/dev/null || { echo "demo-console: sgctl $step failed" >&2; exit 1; }
done

web=$(ip4 web)
# Traffic in the background: allowed, allowed, refused (a time-out).
(
	while :; do
		probe_tcp me "$web" 22 1 >/dev/null
		probe_tcp other "$web" 80 1 >/dev/null
		probe_tcp other "$web" 22 1 >/dev/null
		sleep 3
	done
) &
LAB_PIDS+=($!)

echo "sgctl console on the demo lab (examples/lab.yaml): http://127.0.0.1:$port/"
echo "  my computer $(ip4 me), someone else $(ip4 other), i-web1 $web, i-db1 $(ip4 db)"
echo "  try: Security Groups -> sg-web -> Edit inbound rules -> Add rule -> SSH -> Anywhere-IPv4 -> Save rules"
echo "  then the flow logs stop showing someone else's SSH as REJECT. Ctrl-C to stop."
"$SGCTL" console --listen "127.0.0.1:$port" --pin-dir "$LAB_PIN" &
console=$!
LAB_PIDS+=("$console")
if [ -n "${DEMO_SECONDS:-}" ]; then
	sleep "$DEMO_SECONDS"
	kill "$console" 2>/dev/null
fi
wait "$console"
