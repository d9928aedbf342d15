#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `sgctl bench micro --rules 1 --members 0 -j` prints the JSON of sgctl(8)
# "bench" and docs/benchmarks.md, and leaves no pinned state behind. Fast (a few
# seconds); the benchmarks themselves are `make bench`, not part of tests.
set -u
SGCTL=${SGCTL:-build/sgctl}
name=test_bench_smoke
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP $name: needs root"
	exit 0
fi
if [ ! -x "$SGCTL" ]; then
	echo "FAIL $name: sgctl not found at $SGCTL"
	exit 1
fi
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

before=$(ls -d /sys/fs/bpf/sgctl-bench-* 2>/dev/null | wc -l)
out=$(timeout 60 "$SGCTL" bench micro --rules 1 --members 0 -j 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL $name: sgctl bench micro exited $rc: $out"
	exit 1
fi
if why=$("$py" - "$out" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
assert isinstance(d, dict) and set(d) == {"floor_ns", "results"}, "top-level keys"
num = (int, float)
assert isinstance(d["floor_ns"], num) and not isinstance(d["floor_ns"], bool) \
    and d["floor_ns"] > 0, "floor_ns"
res = d["results"]
assert isinstance(res, list) and len(res) == 3, "three results"
cases = set()
for r in res:
    assert set(r) == {"case", "rules", "members", "ns_per_pkt"}, "result keys %s" % sorted(r)
    assert r["case"] in ("established", "new-accept", "new-reject"), r["case"]
    assert r["rules"] == 1 and r["members"] == 0, "rules/members"
    assert isinstance(r["ns_per_pkt"], num) and r["ns_per_pkt"] > 0, "ns_per_pkt"
    cases.add(r["case"])
assert len(cases) == 3, "each case once"
EOF
); then
	echo "PASS $name: bench micro -j prints the documented shape"
else
	echo "FAIL $name: bad JSON ($why): $out"
fi
after=$(ls -d /sys/fs/bpf/sgctl-bench-* 2>/dev/null | wc -l)
if [ "$after" -le "$before" ]; then
	echo "PASS $name: no pinned state left behind"
else
	echo "FAIL $name: /sys/fs/bpf/sgctl-bench-* left behind"
fi
