#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make demo`: the seed notes' security-group cases on a lab of network
# namespaces, with real servers and clients, enforced by sgctl.
#   usage: tests/lab/demo.sh [path/to/sgctl]     (root)
# Prints a table (case, expected, observed) and "N/N scenarios as expected";
# exits 0 only if every case is as expected. The lab is always removed.
#
# Enforcement is host-side (the hypervisor end of each veth) rather than NIC
# mode: that is where an EC2 security group lives, "outside" the instance,
# which cannot see or remove it. tests/ns/ covers both modes.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/lib.sh"
# Own pin directory: the demo must never touch a real /sys/fs/bpf/sgctl.
LAB_PIN=${SGCTL_PIN_DIR:-/sys/fs/bpf/sgctl-demo-$$}
config=$root/examples/lab.yaml

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: needs root (network namespaces, BPF)" >&2
	exit 1
fi
lab_init demo "${1:-${SGCTL:-$root/build/sgctl}}"
if [ ! -x "$SGCTL" ]; then
	echo "demo: sgctl not found at $SGCTL (run make first)" >&2
	exit 1
fi

lab_up me other web db || { echo "demo: could not build the lab" >&2; exit 1; }
if ! { start_tcp_server web 22 && start_tcp_server web 80 &&
	start_tcp_server db 5432 && start_tcp_server other 80; }; then
	echo "demo: could not start the servers" >&2
	exit 1
fi

# Setup errors are shown, and the cases still run: the table then shows
# what the lab does without (full) enforcement.
setup_ok=1
setup() {
	local out
	if ! out=$(sgc "$@" 2>&1); then
		setup_ok=0
		echo "demo: sgctl $* failed:" >&2
		printf '%s\n' "$out" | head -n 5 | sed 's/^/  /' >&2
	fi
}
setup load "$config"
setup attach v-web --netns "$LAB_HV" --host-side --instance i-web1
setup attach v-db --netns "$LAB_HV" --host-side --instance i-db1

web=$(ip4 web) db=$(ip4 db) other=$(ip4 other)
echo "sgctl demo: the seed notes' security groups on a namespace lab (examples/lab.yaml)"
echo "  my computer $(ip4 me), someone else $other (also \"the internet\", :80)"
echo "  i-web1 $web [sg-web, sg-ssh] and i-db1 $db [sg-db], enforced host-side"
echo
fmt='%3s  %-56s %-10s %s%s\n'
# shellcheck disable=SC2059
printf "$fmt" '#' case expected observed ''
n=0 ok=0
row() { # DESCRIPTION EXPECTED OBSERVED
	local mark='' obs=$3
	n=$((n + 1))
	if [ "$2" = "$3" ]; then
		ok=$((ok + 1))
	else
		obs=$(printf '%-10s' "$3") mark='  <-- unexpected'
	fi
	# shellcheck disable=SC2059
	printf "$fmt" "$n" "$1" "$2" "$obs" "$mark"
}
tcp() { # DESCRIPTION EXPECTED FROM ADDR PORT
	row "$1" "$2" "$(probe_tcp "$3" "$4" "$5" "$(_lab_wait_for "$2")")"
}
ping1() { # DESCRIPTION EXPECTED FROM ADDR
	row "$1" "$2" "$(probe_ping "$3" "$4" "$(_lab_wait_for "$2")")"
}

tcp "my computer -> web:22 (sg-ssh allows my /32)" connected me "$web" 22
tcp "someone else -> web:22 (no rule: dropped, time-out)" timeout other "$web" 22
tcp "web -> internet:80 (default egress)" connected web "$other" 80
tcp "my computer -> web:8080 (allowed, nothing listens)" refused me "$web" 8080
tcp "web -> db:5432 (sg-db allows members of sg-web)" connected web "$db" 5432
tcp "someone else -> db:5432 (not a member of sg-web)" timeout other "$db" 5432
tcp "someone else -> web:80 (http open to 0.0.0.0/0)" connected other "$web" 80
ping1 "my computer pings web (icmp from pl-office)" reply me "$web"
ping1 "someone else pings web" timeout other "$web"
tcp "my computer -> web:22 over IPv6" connected me "$(ip6 web)" 22
tcp "db -> internet:80 (sg-db has outbound: [])" timeout db "$other" 80

# Why did it time out? `sgctl check` explains a verdict, `sgctl flowlog`
# shows the dropped packets (docs/troubleshooting.md, docs/semantics.md §11).
why22=$(sgc check --instance i-web1 --inbound --protocol tcp --remote "$other" --port 22 2>&1)
why8080=$(sgc check --instance i-web1 --inbound --protocol tcp --remote "$(ip4 me)" --port 8080 2>&1)
log22=$(sgc flowlog --instance i-web1 2>/dev/null |
	awk -v s="$other" -v d="$web" '$4 == s && $5 == d && $7 == 22 && $13 == "REJECT" { print; exit }')
row "sgctl check: someone else -> web:22 (why the time-out)" REJECT "$(awk '{ print $1; exit }' <<<"$why22")"
row "sgctl flowlog: someone else -> web:22 logged" REJECT "$(awk '{ print $13 }' <<<"${log22:-none}")"
row "sgctl check: my computer -> web:8080 (why refused)" ACCEPT "$(awk '{ print $1; exit }' <<<"$why8080")"

echo
echo "  time-out: a security group dropped it; refused: it got through, nothing listens"
echo
echo "  Why did someone else's SSH connection time out?"
echo "  \$ sgctl check --instance i-web1 --inbound --protocol tcp --remote $other --port 22"
printf '%s\n' "$why22" | sed 's/^/    /'
echo "  \$ sgctl flowlog --instance i-web1    (its record)"
echo "    ${log22:-(none)}"
echo "  Why was my computer refused on 8080?"
echo "  \$ sgctl check --instance i-web1 --inbound --protocol tcp --remote $(ip4 me) --port 8080"
printf '%s\n' "$why8080" | sed 's/^/    /'
echo
[ "$setup_ok" -eq 1 ] || echo "  sgctl could not set up the lab's policy (errors above)"
echo "$ok/$n scenarios as expected"
[ "$ok" -eq "$n" ] && [ "$setup_ok" -eq 1 ]
