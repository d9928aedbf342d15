#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The loader's folders are pipeline stages; a file may include only its own
# stage and the stages before it (docs/design.md):
#   util, out -> input -> config -> desired, compile -> state -> enforce
#   -> fleet, view -> bench, console -> cmd
# The pure core (util out input config compile) never includes libbpf or
# the skeleton. Prints each violation and exits 1 if there is any.
set -u
cd "$(dirname "$0")/../loader" || exit 2
declare -A rank=([util]=0 [out]=0 [input]=1 [config]=2 [desired]=3 [compile]=3
	[state]=4 [enforce]=5 [fleet]=6 [view]=6 [bench]=7 [console]=7 [cmd]=8)
bad=0
for f in */*.[ch]; do
	stage=${f%%/*}
	if [ -z "${rank[$stage]:-}" ]; then
		echo "check-layers: $f: folder $stage is not a known stage"
		bad=1
		continue
	fi
	while IFS= read -r inc; do
		dep=${inc%%/*}
		[ -n "${rank[$dep]:-}" ] || continue
		if [ "${rank[$dep]}" -gt "${rank[$stage]}" ]; then
			echo "check-layers: $f includes $inc: $stage may not reach up to $dep"
			bad=1
		fi
	done < <(sed -n 's/^#include "\([a-z_]*\/[^"]*\)".*/\1/p' "$f")
	if [ "${rank[$stage]}" -le 3 ] &&
		grep -qE '^#include [<"](bpf/|.*skel\.h)' "$f"; then
		echo "check-layers: $f: the pure core may not include libbpf or a skeleton"
		bad=1
	fi
done
[ $bad -eq 0 ] && echo "check-layers: every include points to an earlier stage"
exit $bad
