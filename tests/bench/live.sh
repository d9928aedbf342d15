# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# shellcheck shell=bash
#
# The live-frame lab of `make bench` (sourced by tests/bench/run.sh):
#
#   netns sgb-<pid>-gen: tg0 (no address; the generator's end)
#        |  veth
#   netns sgb-<pid>-rx:  eth0 198.19.255.1/32 (the instance i-bench)
#
# `sgctl bench live` runs tg_gen with BPF_F_TEST_XDP_LIVE_FRAMES on tg0:
# every XDP_TX frame lands in eth0's XDP program (sgctl's sg_xdp, or
# tg_sink counting in front of the stack and nftables). Nothing routes out
# of the two namespaces; everything is removed by live_down.

LIVE_GEN=
LIVE_RX=
LIVE_PIN=
LIVE_SECONDS=${LIVE_SECONDS:-2}
LIVE_COUNT=${LIVE_COUNT:-20000000}
LIVE_INST_IP=198.19.255.1
LIVE_PEER_IP=198.19.255.2
LIVE_OTHER_IP=198.19.1.1 # in no rule's source

live_up() {
	LIVE_GEN="sgb-$$-gen"
	LIVE_RX="sgb-$$-rx"
	LIVE_PIN="/sys/fs/bpf/sgctl-bench-live-$$"
	ip netns add "$LIVE_GEN" || return 1
	ip netns add "$LIVE_RX" || return 1
	ip -n "$LIVE_GEN" link add tg0 type veth peer name eth0 netns "$LIVE_RX" || return 1
	ip -n "$LIVE_GEN" link set lo up
	ip -n "$LIVE_RX" link set lo up
	ip -n "$LIVE_GEN" link set tg0 up
	ip -n "$LIVE_RX" link set eth0 up
	ip -n "$LIVE_RX" addr add "$LIVE_INST_IP/32" dev eth0
	ip -n "$LIVE_RX" route add "$LIVE_PEER_IP/32" dev eth0
	local mac
	mac=$(ip -n "$LIVE_GEN" -o link show tg0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
	# The generator side has no address: what the instance sends there
	# (the one packet that opens the established flow) dies in its stack.
	ip -n "$LIVE_RX" neigh add "$LIVE_PEER_IP" lladdr "$mac" dev eth0 nud permanent
}

live_down() {
	live_close_flow
	if [ -n "$LIVE_PIN" ] && [ -e "$LIVE_PIN" ]; then
		"$SGCTL" --pin-dir "$LIVE_PIN" unload >/dev/null 2>&1 || true
	fi
	[ -n "$LIVE_RX" ] && ip netns del "$LIVE_RX" 2>/dev/null
	[ -n "$LIVE_GEN" ] && ip netns del "$LIVE_GEN" 2>/dev/null
	LIVE_RX=
	LIVE_GEN=
	return 0
}

# live_open_flow: the instance sends one UDP datagram 5000 -> peer:40000, so
# the peer's datagrams 40000 -> 5000 are replies of a tracked flow (sgctl's
# conntrack via TC egress, or netfilter's). The socket stays open (at most
# 120 s) so the replies end in its receive queue, not in ICMP errors; the
# same for every receiver. live_close_flow ends it.
LIVE_FLOW_PID=
live_open_flow() {
	live_close_flow
	ip netns exec "$LIVE_RX" "${LAB_PY:-python3}" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 5000))
s.sendto(b"open", (sys.argv[2], 40000))
time.sleep(120)' "$LIVE_INST_IP" "$LIVE_PEER_IP" &
	LIVE_FLOW_PID=$!
	sleep 0.3
}

live_close_flow() {
	if [ -n "$LIVE_FLOW_PID" ]; then
		kill "$LIVE_FLOW_PID" 2>/dev/null
		wait "$LIVE_FLOW_PID" 2>/dev/null
	fi
	LIVE_FLOW_PID=
	return 0
}

# live_run RECEIVER MIX SRC: one bounded run, its JSON on stdout.
live_run() {
	local recv=$1 mix=$2 src=$3 extra=()
	case $mix in
	established) extra=(--sport 40000 --dport 5000) ;;
	# SRC is a prefix; the port a rule allows there, nothing listens
	syn-flood) extra=(--sport 40000 --dport "${LIVE_SYN_PORT:-1024}") ;;
	*) extra=(--sport 40000 --dport 9) ;;
	esac
	local pin=()
	[ "$recv" = sgctl ] && pin=(--pin-dir "$LIVE_PIN")
	"$SGCTL" "${pin[@]}" -j bench live --gen-netns "$LIVE_GEN" --gen-dev tg0 \
		--rx-netns "$LIVE_RX" --rx-dev eth0 --receiver "$recv" --mix "$mix" \
		--src "$src" --dst "$LIVE_INST_IP" "${extra[@]}" \
		--seconds "$LIVE_SECONDS" --count "$LIVE_COUNT"
}

live_sgctl_on() { # YAML
	"$SGCTL" --pin-dir "$LIVE_PIN" load "$1" >/dev/null &&
		"$SGCTL" --pin-dir "$LIVE_PIN" attach eth0 --netns "$LIVE_RX" \
			--instance i-bench >/dev/null
}

live_sgctl_off() {
	"$SGCTL" --pin-dir "$LIVE_PIN" unload >/dev/null
}

live_nft_on() { # RULESET FILE
	ip netns exec "$LIVE_RX" nft -f "$1"
}

live_nft_off() {
	ip netns exec "$LIVE_RX" nft flush ruleset
}
