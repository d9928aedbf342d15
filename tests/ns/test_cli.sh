#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The command line itself: errors under -j are JSON objects with an "error"
# member (usage errors add "usage"), a config's diagnostics come as objects
# with file, line, column and code, exit codes stay 1 (error) and 2 (usage),
# every command of the table answers --help, global options work before or
# after the command, and conntrack's subcommands abbreviate like commands.
# Loads a config into a private pin dir (root); the parts
# that need no root run without it. Prints PASS/FAIL/SKIP lines.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
SGCTL=${SGCTL:-$here/../build/sgctl}
case $SGCTL in /*) ;; *) SGCTL=$PWD/$SGCTL ;; esac
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
pin=/sys/fs/bpf/sgctl-cli-$$
tmp=$(mktemp -d /tmp/sg-cli.XXXXXX)
root=0
[ "$(id -u)" -eq 0 ] && root=1
pass=0 fail=0

cleanup() {
	if [ "$root" -eq 1 ] && [ -e "$pin" ]; then
		"$SGCTL" --pin-dir "$pin" unload >/dev/null 2>&1
		rm -rf "$pin"
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [ ! -x "$SGCTL" ]; then
	echo "FAIL test_cli: sgctl not found at $SGCTL"
	exit 1
fi

expect() { # NAME WANT GOT
	if [ "$2" = "$3" ]; then
		echo "PASS $1"
		pass=$((pass + 1))
	else
		echo "FAIL $1 (expected '$2', got '$3')"
		fail=$((fail + 1))
	fi
}

# sg ARGS...: runs sgctl; stdout in $tmp/out, stderr in $tmp/err, status in $rc.
sg() {
	"$SGCTL" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# json FILE EXPR: EXPR (Python, d = the one JSON document in FILE) printed;
# "invalid JSON: ..." when FILE is not exactly one JSON document.
json() {
	"$PY" -c '
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
except ValueError as e:
    print("invalid JSON: %s" % e)
    sys.exit(0)
print(eval(sys.argv[2]))' "$1" "$2"
}

# ---- errors under -j -----------------------------------------------------
sg -j bogus
expect "-j unknown command: exit 2" 2 "$rc"
expect "-j unknown command: one object with error" True \
	"$(json "$tmp/out" '"unknown command" in d["error"]')"
sg bogus --json
expect "--json after an unknown command: JSON error" True \
	"$(json "$tmp/out" 'isinstance(d["error"], str)')"
sg bogus
expect "unknown command without -j: plain text on stderr" \
	"sgctl: unknown command 'bogus' (see sgctl --help)|" \
	"$(cat "$tmp/err")|$(cat "$tmp/out")"
sg -j
expect "-j without a command: exit 2" 2 "$rc"
expect "-j without a command: error and usage" True \
	"$(json "$tmp/out" '"error" in d and d["usage"].startswith("sgctl ")')"
sg -j --pin-dir
expect "-j --pin-dir without a value: exit 2 with a JSON error" "2 needs a directory" \
	"$rc $(json "$tmp/out" 'd["error"].split(" ", 1)[1]')"

sg -j validate /nonexistent
expect "-j validate of a missing file: exit 1" 1 "$rc"
expect "-j validate of a missing file: error names the file" True \
	"$(json "$tmp/out" 'd["error"].startswith("/nonexistent")')"
sg -j validate "$tmp/no\"such\\file.yaml"
expect "-j error text with a quote and a backslash stays JSON" True \
	"$(json "$tmp/out" '"no\"such\\file" in d["error"]')"

bad=$here/badconfig/66-many-errors-at-once.yaml
sg validate "$bad"
plain_first=$(head -n 1 "$tmp/err" | sed 's/^sgctl: //')
plain_n=$(wc -l <"$tmp/err")
sg validate -j "$bad"
expect "validate -j of a bad config: exit 1" 1 "$rc"
expect "validate -j of a bad config: error is the first plain line" "$plain_first" \
	"$(json "$tmp/out" 'd["error"]')"
expect "validate -j of a bad config: one diagnostic per plain line" "$plain_n" \
	"$(json "$tmp/out" 'len(d["diagnostics"])')"
expect "validate -j: each diagnostic has file, line, column, code" True \
	"$(json "$tmp/out" 'all(x["severity"] == "error" and x["file"].endswith("66-many-errors-at-once.yaml") and x["line"] > 0 and x["column"] > 0 and x["code"] and x["message"] for x in d["diagnostics"])')"
expect "validate -j of a bad config: nothing on stderr" "" "$(cat "$tmp/err")"

sg -j validate "$here/badconfig/65-rule-ref-warning-and-error.yaml"
expect "-j validate: warnings are diagnostics too" "warning error" \
	"$(json "$tmp/out" '" ".join(x["severity"] for x in d["diagnostics"])')"

# Warnings only: one object on stdout, the verdict and the warnings.
cat >"$tmp/warn.yaml" <<'EOF'
security_groups:
  sg-web:
    inbound:
      - { protocol: tcp, ports: 8080, source: sg-lb }
EOF
sg -j validate "$tmp/warn.yaml"
expect "-j validate with warnings only: exit 0, valid" "0 True" \
	"$rc $(json "$tmp/out" 'd["valid"]')"
expect "-j validate with warnings only: warnings in the same object, no error" "False warning 4" \
	"$(json "$tmp/out" '"%s %s %d" % ("error" in d, d["diagnostics"][0]["severity"], d["diagnostics"][0]["line"])')"
expect "-j validate with warnings only: nothing on stderr" "" "$(cat "$tmp/err")"
sg -j validate "$here/aws/real-peering.json"
expect "-j validate of AWS JSON: a diagnostic names its JSON path" \
	"SecurityGroups[0].IpPermissions[0].UserIdGroupPairs[0] None" \
	"$(json "$tmp/out" '"%s %s" % (d["diagnostics"][0]["path"], d["diagnostics"][0]["line"])')"

sg -j stats --bogus
expect "-j usage error: exit 2" 2 "$rc"
expect "-j usage error: error and the command's usage" "stats: unknown option '--bogus'|sgctl stats" \
	"$(json "$tmp/out" 'd["error"] + "|" + d["usage"][:11]')"
sg stats --bogus
expect "usage error without -j: message and usage line on stderr" \
	"sgctl: stats: unknown option '--bogus'|usage: sgctl stats" \
	"$(head -n 1 "$tmp/err")|$(sed -n 2p "$tmp/err" | cut -c1-18)"

# ---- every command of the table answers --help ----------------------------
cmds=$("$SGCTL" --help | awk '/^commands/ { f = 1; next } /^$/ { f = 0 } f && /^  [a-z]/ { print $1 }')
bad_help=
for c in $cmds; do
	sg "$c" --help
	[ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q "^usage: sgctl $c" ||
		bad_help="$bad_help $c"
	# The shortest prefix of 4 or more letters that names only c.
	k=4 p=${c:0:4}
	while [ "$p" != "$c" ] && [ "$(printf '%s\n' $cmds | grep -c "^$p")" -gt 1 ]; do
		k=$((k + 1)) p=${c:0:k}
	done
	sg -h "$p"
	[ "$rc" -eq 0 ] && head -n 1 "$tmp/out" | grep -q "^usage: sgctl $c" ||
		bad_help="$bad_help -h:$p"
done
expect "CMD --help and -h CMD-prefix: usage, exit 0, for every command" "" "${bad_help# }"

# ---- show, conntrack: state (root) ---------------------------------------
if setpriv --help >/dev/null 2>&1 && [ "$root" -eq 1 ]; then
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$SGCTL" --pin-dir "$pin" -j show >"$tmp/out" 2>"$tmp/err"
	rc=$?
	expect "-j show without root: exit 1 with a JSON error" "1 True" \
		"$rc $(json "$tmp/out" '"needs root" in d["error"]')"
else
	echo "SKIP -j show without root: needs root and setpriv"
fi

if [ "$root" -eq 0 ]; then
	echo "SKIP show and conntrack on loaded state: needs root"
	echo "test_cli: $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
fi

sg --pin-dir "$pin" -j show
expect "-j show with no state: exit 0, not loaded" "0 False" \
	"$rc $(json "$tmp/out" 'd["loaded"]')"

sg --pin-dir "$pin" conntrack fl
expect "conntrack fl with no state: flush" "0 flushed 0 tracked flows" "$rc $(cat "$tmp/out")"

sg --pin-dir "$pin" load "$here/ns/seed.yaml"
expect "load the seed config" 0 "$rc"
[ "$rc" -eq 0 ] || cat "$tmp/err"

sg show --pin-dir "$pin" -j
expect "show -j (global options after the command)" "0 True" \
	"$rc $(json "$tmp/out" 'd["loaded"]')"
inst=$(json "$tmp/out" 'd["instances"][0]["id"]')

sg --pin-dir "$pin" conntrack fl
expect "conntrack fl: abbreviation of flush" "0 flushed 0 tracked flows" "$rc $(cat "$tmp/out")"
sg --pin-dir "$pin" -j conntrack f --instance "$inst"
expect "-j conntrack f --instance ID: flush of one instance" "0 $inst 0" \
	"$rc $(json "$tmp/out" '"%s %d" % (d["instance"], d["flushed"])')"
sg --pin-dir "$pin" conntrack l -j
expect "conntrack l -j: list" "0 []" "$rc $(json "$tmp/out" 'd["flows"]')"
sg --pin-dir "$pin" conntrack x
expect "conntrack x: usage error" "2 sgctl: conntrack: unknown subcommand 'x' (list, flush)" \
	"$rc $(head -n 1 "$tmp/err")"
sg --pin-dir "$pin" -j conntrack x
expect "-j conntrack x: JSON usage error" "2 True" \
	"$rc $(json "$tmp/out" '"unknown subcommand" in d["error"] and "conntrack" in d["usage"]')"
sg --pin-dir "$pin" conntrack
expect "conntrack without a subcommand: usage error" 2 "$rc"
sg --pin-dir "$pin" conntrack list extra
expect "conntrack list extra: usage error" 2 "$rc"

sg --pin-dir "$pin" -j stats --instance i-not-there
expect "-j stats of an unknown instance: exit 1 with a JSON error" "1 True" \
	"$rc $(json "$tmp/out" '"i-not-there" in d["error"]')"
sg --pin-dir "$pin" stats -i "$inst" -j
expect "stats -i ID -j: one instance" "0 $inst" \
	"$rc $(json "$tmp/out" '" ".join(x["instance"] for x in d["instances"])')"
sg --pin-dir "$pin" stats --prometheus -j
expect "stats --prometheus -j: usage error" 2 "$rc"

echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
