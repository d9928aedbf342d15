#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The console in a real browser (issue 15 §4): Debian's chromium driven by
# playwright-core (tests/browser/console.test.mjs) does the study note's
# practice on the namespace lab, finding everything by role and label as
# SPEC §4 fixes them:
#   "/" -> Security Groups -> sg-web -> Edit inbound rules -> Add rule ->
#   HTTP -> Anywhere-IPv4 -> Save rules: a client on an outside host gets
#   the page and the rule's Hits rise; Delete -> Save rules: the same
#   client times out, and Flow logs shows the REJECT and its reason.
# Also: a duplicate rule shows role="alert" with InvalidPermission.Duplicate
# and changes nothing; a description "<script>..." shows as text; a
# --read-only console offers no edit. Then on etcd (when installed): the
# Hosts page lists the agent at its applied revision, and a rule saved in
# the browser reaches the agent through etcd.
#
# CONSOLE_SCREENSHOTS=docs/img also writes docs/img/console-*.png
# (1280x800). playwright-core is installed into tests/browser/node_modules
# with `npm ci` when absent (its browser download is never used).
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
# shellcheck source=tests/ns/lib_console.sh
. "$here/lib_console.sh"
browser=$(cd "$here/../browser" && pwd)
shots=${CONSOLE_SCREENSHOTS:-}
case $shots in "" | /*) ;; *) shots="$PWD/$shots" ;; esac

lab_init test_console_browser
chromium=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$chromium" ]; then
	echo "SKIP test_console_browser: $chromium not installed"
	exit 0
fi
for t in node npm; do
	if ! command -v $t >/dev/null; then
		echo "SKIP test_console_browser: $t not installed"
		exit 0
	fi
done
console_require
lab_require_sgctl
if [ ! -d "$browser/node_modules/playwright-core" ]; then
	if ! (cd "$browser" && npm ci --no-audit --no-fund) >"$LAB_TMP/npm.log" 2>&1; then
		echo "SKIP test_console_browser: npm ci of playwright-core failed"
		tail -n 5 "$LAB_TMP/npm.log" | sed 's/^/    | /'
		exit 0
	fi
fi

lab_up me other web || exit 1
start_tcp_server web 80 || exit 1
web=$(ip4 web) other=$(ip4 other)
mode=${LAB_MODES%% *}

# sg-web lets only my computer in (SSH): web:80 starts closed to everyone.
cat >"$LAB_TMP/console.yaml" <<'EOF'
vpc: vpc-lab
region: lab-1
account: "111122223333"
prefix_lists:
  pl-office:
    max_entries: 4
    entries: [203.0.113.0/28]
security_groups:
  sg-web:
    name: web
    description: the web server
    inbound:
      - { type: ssh, source: 203.0.113.10/32, description: my computer }
      - { protocol: tcp, ports: 8080, source: pl-office, description: admin from the office }
      - { protocol: icmp, icmp_type: 8, source: pl-office, description: ping from the office }
  sg-db:
    name: database
    description: PostgreSQL for the web tier only
    inbound:
      - { type: postgresql, source: sg-web, description: any instance carrying sg-web }
instances:
  i-web1:
    ips: [198.18.1.10, "2001:db8:1::10"]
    security_groups: [sg-web]
  i-db1:
    ips: [198.18.2.10, "2001:db8:2::10"]
    security_groups: [sg-db]
EOF
lab_load "$LAB_TMP/console.yaml" "load the console's config" || lab_finish
lab_attach web "$mode" i-web1 || lab_finish

console_start --read-only || { expect "console --read-only starts" ok failed; lab_finish; }
ro_url=$CONSOLE_URL
console_start || { expect "console starts" ok failed; lab_finish; }

# The driver probes from the outside host through this command.
printf '%s\n' "$_LAB_PROBE_TCP" >"$LAB_TMP/probe_tcp.py"
cat >"$LAB_TMP/probe" <<EOF
#!/bin/bash
exec ip netns exec $(nsname other) $LAB_PY $LAB_TMP/probe_tcp.py "\$@"
EOF
chmod +x "$LAB_TMP/probe"

out=$LAB_TMP/browser.out
CONSOLE_URL=$CONSOLE_URL CONSOLE_RO_URL=$ro_url CONSOLE_GROUP=sg-web \
	CONSOLE_PROBE=$LAB_TMP/probe WEB_ADDR=$web CLIENT_ADDR=$other \
	CONSOLE_SCREENSHOTS=$shots CHROMIUM=$chromium \
	timeout 600 node "$browser/console.test.mjs" 2>"$LAB_TMP/browser.err" | tee "$out"
rc=${PIPESTATUS[0]}
LAB_PASS=$((LAB_PASS + $(grep -c '^PASS' "$out")))
LAB_FAIL=$((LAB_FAIL + $(grep -c '^FAIL' "$out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$out"; then
	expect "browser: the driver ran to the end" 0 "$rc"
	tail -n 15 "$LAB_TMP/browser.err" | sed 's/^/    | /'
fi
if [ "$LAB_FAIL" -ne 0 ]; then
	echo "    console output:"
	tail -n 10 "$LAB_TMP/console.out" | sed 's/^/    | /'
fi

# ---- on etcd: Hosts lists the agent; a save goes through etcd to it ----
for t in etcd etcdctl; do
	if ! command -v $t >/dev/null; then
		echo "SKIP test_console_browser: etcd part: $t not installed"
		lab_finish
	fi
done
# shellcheck source=tests/ns/lib_fleet.sh
. "$here/lib_fleet.sh"
fleet_init
sgc_quiet unload # the agent owns the pin dir from here on
# shellcheck disable=SC2119 # plain etcd, no TLS
fleet_etcd_start || { expect "etcd starts" ok failed; lab_finish; }
P=$FLEET_PFX
fleet_put "${P}vpc" '{"vpc":"vpc-lab"}' >/dev/null
fleet_put "${P}groups/sg-web" '{"name":"web","description":"the web server","inbound":[{"type":"ssh","source":"203.0.113.10/32","description":"my computer"}]}' >/dev/null
fleet_put "${P}instances/i-db1" '{"ips":["198.18.2.10"],"security_groups":["sg-web"],"host":"hostB"}' >/dev/null
r0=$(fleet_put "${P}instances/i-web1" '{"ips":["198.18.1.10"],"security_groups":["sg-web"],"host":"hostA"}')
fleet_agent_start a hostA "$LAB_PIN"
fleet_wait_rev a "$r0" && ok=ok || ok=timeout
expect "etcd: the agent applies revision $r0" ok "$ok"
[ "$ok" = ok ] || { fleet_agent_log a; lab_finish; }
console_start --etcd "$FLEET_URL" --vpc "$FLEET_VPC" || {
	expect "console --etcd starts" ok failed
	lab_finish
}
out=$LAB_TMP/browser-etcd.out
CONSOLE_PART=etcd CONSOLE_URL=$CONSOLE_URL CONSOLE_GROUP=sg-web \
	CONSOLE_HOST=hostA CONSOLE_REV=$r0 \
	CONSOLE_SCREENSHOTS=$shots CHROMIUM=$chromium \
	timeout 300 node "$browser/console.test.mjs" 2>"$LAB_TMP/browser.err" | tee "$out"
rc=${PIPESTATUS[0]}
LAB_PASS=$((LAB_PASS + $(grep -c '^PASS' "$out")))
LAB_FAIL=$((LAB_FAIL + $(grep -c '^FAIL' "$out")))
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL' "$out"; then
	expect "browser (etcd): the driver ran to the end" 0 "$rc"
	tail -n 15 "$LAB_TMP/browser.err" | sed 's/^/    | /'
fi
lab_finish
