#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Builds sgctl(8) from docs/sgctl.8.in and the command table itself:
#   mkman.sh SGCTL TEMPLATE > sgctl.8
# The commands are those of `SGCTL --help`; each one's usage and summary
# come from `SGCTL CMD --help`, its text from the template's
# `.\" @cmd NAME` ... `.\" @end` block. A command without a block, or a
# block for no command, is an error: the man page cannot drift from the
# tool.
set -eu
sgctl=$1
tmpl=$2

# roff: a literal '-' is \-, a backslash is \e.
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g'; }

cmds=$("$sgctl" --help | awk '/^commands/ { f = 1; next } /^$/ { f = 0 } f && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || { echo "mkman: no commands in '$sgctl --help'" >&2; exit 1; }
blocks=$(sed -n 's/^\.\\" @cmd \([a-z-]*\)$/\1/p' "$tmpl")

bad=0
for c in $cmds; do
	echo "$blocks" | grep -qx "$c" || {
		echo "mkman: command '$c' has no '.\\\" @cmd $c' block in $tmpl" >&2
		bad=1
	}
done
for b in $blocks; do
	echo "$cmds" | grep -qx "$b" || {
		echo "mkman: $tmpl documents '$b', which sgctl does not have" >&2
		bad=1
	}
done
[ "$bad" = 0 ] || exit 1

version=$("$sgctl" --version)
commands() {
	for c in $cmds; do
		help=$("$sgctl" "$c" --help)
		usage=$(printf '%s\n' "$help" | sed -n '1s/^usage: //p')
		summary=$(printf '%s\n' "$help" | sed -n '2p')
		echo ".TP"
		printf '.B "%s"\n' "$(printf '%s' "$usage" | esc)"
		printf '%s.\n' "$(printf '%s' "$summary" | esc | sed 's/^\./\\\&./')"
		echo ".IP"
		awk -v c="$c" '$0 == ".\\\" @cmd " c { f = 1; next } f && $0 == ".\\\" @end" { f = 0 } f' "$tmpl"
	done
}

# The template up to the blocks, with the placeholders filled.
cmdtext=$(commands)
awk -v v="$version" -v cmds="$cmdtext" '
	/^\.\\" ---- One block per command/ { exit }
	/^\.\\"/ && !started { next }
	{ started = 1 }
	/^@COMMANDS@$/ { print cmds; next }
	{ gsub(/@VERSION@/, v); print }
' "$tmpl"
