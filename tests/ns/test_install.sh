#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make install into a staging DESTDIR, then: the man page renders cleanly
# and lists exactly the commands of the command table, the bash completion
# offers every command, and the systemd unit passes systemd-analyze verify.
# Needs no network namespace; lives here because it runs the real build.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
SGCTL=${SGCTL:-build/sgctl}
case $SGCTL in /*) ;; *) SGCTL="$PWD/$SGCTL" ;; esac
build=$(dirname "$SGCTL")
pass=0 fail=0
expect() {
	if [ "$2" = "$3" ]; then
		echo "PASS $1"
		pass=$((pass + 1))
	else
		echo "FAIL $1 (expected $2, got $3)"
		fail=$((fail + 1))
	fi
}
if [ ! -x "$SGCTL" ]; then
	echo "FAIL test_install: sgctl not found at $SGCTL"
	exit 1
fi
dest=$(mktemp -d /tmp/sgctl-install.XXXXXX)
trap 'rm -rf "$dest"' EXIT

if make -s -C "$top" BUILD="$build" DESTDIR="$dest" PREFIX=/usr/local install >"$dest.log" 2>&1; then
	expect "make install" ok ok
	rm -f "$dest.log"
else
	expect "make install" ok "failed: $(tail -n 3 "$dest.log" | tr '\n' ' ')"
	rm -f "$dest.log"
	exit 1
fi
for f in sbin/sgctl share/man/man8/sgctl.8 share/bash-completion/completions/sgctl \
	lib/systemd/system/sgctl.service; do
	if [ -f "$dest/usr/local/$f" ]; then
		expect "installed $f" yes yes
	else
		expect "installed $f" yes no
	fi
done
bin="$dest/usr/local/sbin/sgctl"
man="$dest/usr/local/share/man/man8/sgctl.8"
comp="$dest/usr/local/share/bash-completion/completions/sgctl"
unit="$dest/usr/local/lib/systemd/system/sgctl.service"

# ---- the man page and the command table agree, both ways ----------------
cmds=$("$bin" --help | awk '/^commands/ { f = 1; next } /^$/ { f = 0 } f && /^  [a-z]/ { print $1 }')
missing=
for c in $cmds; do
	usage=$("$bin" "$c" --help | sed -n '1s/^usage: //p' | sed 's/-/\\-/g')
	grep -qF ".B \"$usage\"" "$man" || missing="$missing $c"
done
expect "man page: every command with its usage from the table" "" "${missing# }"
extra=
while read -r c; do
	grep -qx "$c" <<<"$cmds" || extra="$extra $c"
done < <(sed -n 's/^\.B "sgctl \([a-z]*\).*/\1/p' "$man")
expect "man page: no command the table lacks" "" "${extra# }"
if command -v groff >/dev/null; then
	warn=$(groff -man -Tutf8 -ww -z "$man" 2>&1)
	expect "man page renders without warnings" "" "$warn"
fi
# A block for a command the table does not have stops the build.
bad="$dest/bad.8.in"
{ cat "$top/docs/sgctl.8.in"; printf '.\\" @cmd frobnicate\nx\n.\\" @end\n'; } >"$bad"
if "$top/scripts/mkman.sh" "$bin" "$bad" >/dev/null 2>&1; then
	expect "mkman refuses a block for an unknown command" refused accepted
else
	expect "mkman refuses a block for an unknown command" refused refused
fi

# ---- bash completion ------------------------------------------------------
complete_line() { # WORDS... (the last one is being completed)
	bash -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_sgctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
PATH="$dest/usr/local/sbin:$PATH"
got=$(complete_line sgctl "" | sort | tr '\n' ' ')
missing=
for c in $cmds; do
	grep -qw -- "$c" <<<"$got" || missing="$missing $c"
done
expect "completion: every command" "" "${missing# }"
expect "completion: export FORMAT" nft "$(complete_line sgctl export "")"
expect "completion: attach options" "--all" "$(complete_line sgctl attach --a)"
expect "completion: global options after a command" "--json" "$(complete_line sgctl load --js)"
expect "completion: --xdp-mode values" "generic native" \
	"$(complete_line sgctl attach eth0 --xdp-mode "" | sort | tr '\n' ' ' | sed 's/ $//')"

# ---- the systemd unit -----------------------------------------------------
grep -q "^ExecStart=/usr/local/sbin/sgctl attach --all$" "$unit"
expect "unit: attaches every configured interface" 0 $?
if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart exists: point it into the staging tree.
	sed "s|/usr/local/sbin/|$dest/usr/local/sbin/|g" "$unit" >"$dest/sgctl.service"
	out=$(MANPATH="$dest/usr/local/share/man" systemd-analyze verify "$dest/sgctl.service" 2>&1)
	expect "systemd-analyze verify sgctl.service" "" "$out"
else
	echo "SKIP systemd-analyze verify: not installed"
fi
[ "$fail" -eq 0 ]
