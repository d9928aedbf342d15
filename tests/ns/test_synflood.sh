#!/bin/bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Floods (issue 11). A SYN flood from spoofed sources inside the rule's
# prefix fills the instance's tracking table (max_entries: 32) with
# half-open entries; a real client still connects (half-open entries give
# way to new flows, Linux conntrack's early drop) and an established
# session survives the flood. A flood of rejected packets from many
# sources keeps at most the flow-log budget of records; the rest are
# counted (stats exact) and reported as SKIPDATA records.
# Every flood is bounded in packets (raw sockets, python) and in time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lab/lib.sh
. "$here/../lab/lib.sh"
lab_init test_synflood
lab_require_sgctl
lab_up me web || exit 1
start_tcp_server web 7000

# stat_of FIELD...: dotted fields of `sgctl stats -j` for i-web1.
stat_of() {
	sgc -j stats --instance i-web1 2>/dev/null | "$LAB_PY" -c '
import json, sys
d = json.load(sys.stdin)["instances"][0]
out = []
for p in sys.argv[1:]:
    v = d
    for k in p.split("."):
        v = v[k]
    out.append(str(v))
print(" ".join(out))' "$@" 2>/dev/null
}

# flood DST DPORT COUNT: COUNT TCP SYNs from 203.0.113.100-249, random
# source ports, through a raw socket of the client namespace.
read -r -d '' _FLOOD <<'PY'
import random, socket, struct, sys
dst, dport, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
d = socket.inet_aton(dst)
rnd = random.Random(11)
for i in range(n):
    src = socket.inet_aton("203.0.113.%d" % rnd.randint(100, 249))
    sport = rnd.randint(1024, 65535)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, rnd.getrandbits(32), 0,
                      5 << 4, 0x02, 64240, 0, 0)
    c = csum(src + d + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xffff,
                     0, 64, 6, 0, src, d)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    s.sendto(ip + tcp, (dst, 0))
print(n)
PY
flood() {
	ns_exec me timeout 30 "$LAB_PY" -c "$_FLOOD" "$@" 2>&1 | tail -n 1
}

lab_load "$here/synflood.yaml" "load synflood.yaml (max_entries 32)" || exit 1
lab_attach web nic i-web1 || exit 1

# An established session first.
expect "session to :7000 opens" open "$(session_open s1 me "$(ip4 web)" 7000)"
expect "it exchanges data" ok "$(session_send s1)"

# The flood: 3000 SYNs, to the listener and to the port without one.
expect "SYN flood to :7000 sent" 2000 "$(flood "$(ip4 web)" 7000 2000)"
expect "SYN flood to :7001 sent" 1000 "$(flood "$(ip4 web)" 7001 1000)"
expect "table full after the flood (in use)" 32 "$(stat_of conntrack.in_use)"
expect "no flood SYN dropped for a full table (drops conntrack_full)" 0 \
	"$(stat_of inbound.drops.conntrack_full)"

# Half-open entries give way: a real client connects, the session lives.
expect "a real client connects during the flood" connected \
	"$(probe_tcp me "$(ip4 web)" 7000 2)"
expect "the established session survived the flood" ok "$(session_send s1)"
expect "table still full, nothing more (in use)" 32 "$(stat_of conntrack.in_use)"
# And once more after a second wave.
flood "$(ip4 web)" 7000 2000 >/dev/null
expect "a real client connects after a second wave" connected \
	"$(probe_tcp me "$(ip4 web)" 7000 2)"
expect "the session survived the second wave" ok "$(session_send s1)"

# Rejected-traffic flood: 3000 SYNs to :9 (no rule) from 150 sources and
# random ports. Records up to the budget (256 per CPU per ~1 s), the rest
# SKIPDATA; every packet is counted either way.
before=$(stat_of inbound.drops.no_rule)
fout="$LAB_TMP/follow.out"
timeout -s INT 5 "$SGCTL" flowlog --instance i-web1 --follow --window 2 \
	--pin-dir "$LAB_PIN" >"$fout" 2>>"$LAB_TMP/sgctl.log" &
fpid=$!
sleep 1
expect "reject flood to :9 sent" 3000 "$(flood "$(ip4 web)" 9 3000)"
wait "$fpid"
after=$(stat_of inbound.drops.no_rule)
expect "flowlog --follow streamed a SKIPDATA record for the window" yes \
	"$(awk '$3 == "i-web1" && $14 == "SKIPDATA" && $9 > 0' "$fout" | grep -q . && echo yes || echo no)"
expect "stats count every rejected packet" 3000 $((after - before))
fl=$(sgc flowlog --instance i-web1 2>/dev/null)
skip=$(awk '$14 == "SKIPDATA" { n++; p += $9 } END { print n + 0, p + 0 }' <<<"$fl")
recs=$(awk '$13 == "REJECT" && $7 == 9 { n++; p += $9 } END { print n + 0, p + 0 }' <<<"$fl")
echo "# flowlog: REJECT records to :9 (records packets) $recs, SKIPDATA (records packets) $skip"
expect "one SKIPDATA record" 1 "${skip%% *}"
expect "records + skipped = the rejected packets" 3000 \
	$((${recs##* } + ${skip##* }))
ncpu=$(nproc)
[ "${recs%% *}" -le $((256 * ncpu * 4)) ] && ok=yes || ok=no
expect "records bounded by the budget" yes $ok
lab_finish
