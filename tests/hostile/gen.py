#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Writes tests/hostile/corpus.txt: hostile packets and the verdict the
datapath must give each one, under the fixed policy of
tests/datapath/test_hostile.c. Deterministic: same script, same corpus.

Corpus format (one case = a short sequence of frames run in order on a
clean conntrack/fragment state):

  case NAME
  # what the case proves
  # > human description of the next frame
  pkt PROGRAM VERDICT COUNTER HEX...
  ct SLOT N          conntrack entries of SLOT at this point
  end

PROGRAM: nic-xdp (slot 0 inbound), nic-tc (slot 0 outbound), host-xdp
(slot 1 outbound, host side, source check on), host-tc (slot 1 inbound).
VERDICT: PASS or DROP. COUNTER: the one counter the frame must bump.
HEX: the frame; spaces separate the layers and carry no meaning.

usage: gen.py [OUTPUT]   (default: corpus.txt next to this script)
"""
import ipaddress
import os
import struct
import sys

# ---- the fixed policy's addresses (see test_hostile.c) ----
ME4, ME6 = "10.0.0.1", "2001:db8::1"  # slot 0 (NIC mode)
HS4, HS6 = "10.0.0.2", "2001:db8::2"  # slot 1 (host side)
PEER4, PEER6 = "192.0.2.10", "2001:db8:ff::10"  # inbound rules' peers
STR4, STR6 = "198.51.100.7", "2001:db8:bad::7"  # no rule at all
OUT4, OUT6 = "203.0.113.5", "2001:db8:beef::5"  # outbound all traffic
RTR4, RTR6 = "198.51.100.1", "2001:db8:bad::1"  # a router sending errors

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 1, 2, 4, 8, 16, 32, 64, 128
FLAG_NAMES = [(FIN, "F"), (SYN, "S"), (RST, "R"), (PSH, "P"), (ACK, "A"),
              (URG, "U"), (ECE, "E"), (CWR, "C")]


def flags_str(f):
    return "".join(n for b, n in FLAG_NAMES if f & b) or "none"


def addr(a):
    return ipaddress.ip_address(a).packed


def v6(a):
    return ":" in a


# ---- layer builders: each returns bytes ----

def eth(ethertype=None, vlans=0, tags=None):
    b = bytes.fromhex("020000000002") + bytes.fromhex("020000000001")
    if tags is None:
        tags = []
        for i in range(vlans):
            tags.append(0x88A8 if i == 0 and vlans >= 2 else 0x8100)
    for i, t in enumerate(tags):
        b += struct.pack("!HH", t, 100 + i)
    if ethertype is not None:
        b += struct.pack("!H", ethertype)
    return b


def tcp(sport, dport, flags, doff=5, opts=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, doff << 4,
                       flags, 65535, 0, 0) + opts


def udp(sport, dport, payload_len=0):
    return struct.pack("!HHHH", sport, dport, 8 + payload_len, 0)


def icmp(t, code, ident=0x4242, seq=1):
    return struct.pack("!BBHHH", t, code, 0, ident, seq)


def ipv4(src, dst, proto, payload_len, ihl=5, tot=None, ver=4, frag=0,
         mf=False, ident=0x1234, df=False):
    fo = (frag & 0x1FFF) | (0x2000 if mf else 0) | (0x4000 if df else 0)
    if tot is None:
        tot = ihl * 4 + payload_len
    hdr = struct.pack("!BBHHHBBH4s4s", (ver << 4) | (ihl & 0xF), 0,
                      tot & 0xFFFF, ident, fo, 64, proto, 0, addr(src),
                      addr(dst))
    return hdr + b"\x01" * max(0, ihl * 4 - 20)  # NOP options


def ipv6(src, dst, nh, payload_len, plen=None, ver=6):
    if plen is None:
        plen = payload_len
    return struct.pack("!IHBB16s16s", ver << 28, plen & 0xFFFF, nh, 64,
                       addr(src), addr(dst))


def v6opt(nh, hdrlen=0):
    """A hop-by-hop/routing/destination-options header of (hdrlen+1)*8."""
    body = bytes([nh, hdrlen, 1, 4]) + bytes(4) + bytes(8 * hdrlen)
    return body


def v6ah(nh, hdrlen=1):
    """Authentication header: (hdrlen + 2) * 4 bytes."""
    return bytes([nh, hdrlen]) + bytes((hdrlen + 2) * 4 - 2)


def v6frag(nh, offset, more, ident):
    return struct.pack("!BBHI", nh, 0, (offset << 3) | (1 if more else 0),
                       ident)


def frame(*layers, pad=True):
    """Joins layers; pads to the Ethernet minimum (beyond the IP length,
    as a NIC would) unless pad is False."""
    out = [bytes(x) for x in layers]
    total = sum(len(x) for x in out)
    if pad and total < 60:
        out.append(bytes(60 - total))
    return " ".join(x.hex() for x in out if x)


def pkt4(src, dst, l4, proto, **kw):
    """A whole IPv4 frame: (eth, ip, l4) as one list of layers."""
    vlans = kw.pop("vlans", 0)
    payload = kw.pop("payload", b"")
    return [eth(0x0800, vlans), ipv4(src, dst, proto, len(l4) + len(payload),
                                     **kw), l4, payload]


def pkt6(src, dst, l4, proto, ext=None, **kw):
    vlans = kw.pop("vlans", 0)
    payload = kw.pop("payload", b"")
    ext = ext or []
    chain = b""
    # ext: list of (kind, args) built back to front so next headers chain
    nh = proto
    for kind, arg in reversed(ext):
        if kind == "opt":
            code, hdrlen = arg
            chain = v6opt(nh, hdrlen) + chain
            nh = code
        elif kind == "ah":
            chain = v6ah(nh, arg) + chain
            nh = 51
        elif kind == "frag":
            off, more, ident = arg
            chain = v6frag(nh, off, more, ident) + chain
            nh = 44
    return [eth(0x86DD, vlans), ipv6(src, dst, nh,
                                     len(chain) + len(l4) + len(payload),
                                     **kw), chain, l4, payload]


def tcp4(src, dst, sport, dport, flags, **kw):
    return pkt4(src, dst, tcp(sport, dport, flags), 6, **kw)


def tcp6(src, dst, sport, dport, flags, **kw):
    return pkt6(src, dst, tcp(sport, dport, flags), 6, **kw)


def udp4(src, dst, sport, dport, **kw):
    return pkt4(src, dst, udp(sport, dport), 17, **kw)


def icmp4(src, dst, t, code, **kw):
    return pkt4(src, dst, icmp(t, code), 1, **kw)


def quote4(src, dst, proto, sport, dport, ihl=5, frag=0, l4len=8):
    """The IP header and first bytes of the L4 header an ICMP error quotes."""
    if proto in (6, 17):
        l4 = struct.pack("!HHI", sport, dport, 1000)
    else:
        l4 = icmp(sport, dport)
    l4 = l4[:l4len]
    return ipv4(src, dst, proto, 40, ihl=ihl, frag=frag) + l4


def quote6(src, dst, proto, sport, dport, l4len=8):
    if proto in (6, 17):
        l4 = struct.pack("!HHI", sport, dport, 1000)
    else:
        l4 = icmp(sport, dport)
    return ipv6(src, dst, proto, 40) + l4[:l4len]


# ---- the corpus ----

cases = []


class Case:
    def __init__(self, name, why):
        self.name, self.why, self.lines = name, why, []
        cases.append(self)

    def pkt(self, prog, verdict, counter, layers, desc, pad=True):
        self.lines.append("# > " + desc)
        self.lines.append("pkt %s %s %s %s" % (prog, verdict, counter,
                                               frame(*layers, pad=pad)))
        return self

    def ct(self, slot, n):
        self.lines.append("ct %d %d" % (slot, n))
        return self


MAL, NORULE = "drop_malformed", "drop_no_rule"


def eth_vlan_cases():
    Case("eth-only-ipv4-ethertype", "an IPv4 ethertype and no IP header") \
        .pkt("nic-xdp", "DROP", MAL, [eth(0x0800)], "14 bytes, 0x0800",
             pad=False)
    Case("eth-only-ipv6-ethertype", "an IPv6 ethertype and no IP header") \
        .pkt("nic-xdp", "DROP", MAL, [eth(0x86DD)], "14 bytes, 0x86dd",
             pad=False)
    Case("vlan-tag-truncated", "a VLAN ethertype with half a tag") \
        .pkt("nic-xdp", "DROP", MAL, [eth(None), b"\x81\x00\x00\x64"],
             "0x8100, tag cut after the TCI", pad=False)
    Case("qinq-inner-tag-truncated", "QinQ whose inner tag is cut") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(None, tags=[0x88A8]), b"\x81\x00\x00\x65"],
             "0x88a8 tag, then 0x8100 cut", pad=False)
    Case("vlan-ipv4-header-truncated", "one tag, then 12 bytes of IPv4") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800, 1), ipv4(PEER4, ME4, 6, 20)[:12]],
             "vlan, ipv4 cut at 12 bytes", pad=False)
    Case("three-vlan-tags-allowed-flow",
         "a third tag is refused, not passed as non-IP; the inner packet "
         "would be allowed") \
        .pkt("nic-xdp", "DROP", MAL, tcp4(PEER4, ME4, 40000, 22, SYN,
                                          vlans=3),
             "3 tags, ipv4 192.0.2.10 > 10.0.0.1 tcp 22 [S]")
    Case("three-vlan-tags-ipv6", "a third tag before IPv6 is refused") \
        .pkt("nic-tc", "DROP", MAL, tcp6(ME6, OUT6, 40000, 443, SYN,
                                         vlans=3),
             "3 tags, ipv6 out tcp 443 [S]")
    Case("vlan-ipv4-denied-port", "rules apply to the packet inside a tag") \
        .pkt("nic-xdp", "DROP", NORULE, tcp4(PEER4, ME4, 40000, 23, SYN,
                                             vlans=1),
             "vlan, tcp 23 [S] from an allowed peer")
    Case("qinq-ipv4-stranger", "rules apply to the packet inside QinQ") \
        .pkt("nic-xdp", "DROP", NORULE, tcp4(STR4, ME4, 40000, 22, SYN,
                                             vlans=2),
             "qinq, tcp 22 [S] from a stranger")
    Case("qinq-ipv6-denied-port", "QinQ IPv6 to a port no rule allows") \
        .pkt("nic-xdp", "DROP", NORULE, tcp6(PEER6, ME6, 40000, 23, SYN,
                                             vlans=2),
             "qinq, ipv6 tcp 23 [S]")
    Case("qinq-ipv4-control", "control: an allowed flow inside QinQ passes") \
        .pkt("nic-xdp", "PASS", "accept_new", tcp4(PEER4, ME4, 40000, 22,
                                                   SYN, vlans=2),
             "qinq, tcp 22 [S] from an allowed peer").ct(0, 1)
    Case("vlan-8021q-outer-then-88a8-inner",
         "tags in the unusual order are still walked") \
        .pkt("nic-xdp", "DROP", NORULE,
             [eth(0x0800, tags=[0x8100, 0x88A8]),
              ipv4(STR4, ME4, 6, 20), tcp(40000, 22, SYN)],
             "0x8100 then 0x88a8, tcp 22 [S] from a stranger")


def ipv4_cases():
    ok = tcp(40000, 22, SYN)  # what an allowed peer may send
    Case("ipv4-header-19-bytes", "an IPv4 header one byte short") \
        .pkt("nic-xdp", "DROP", MAL, [eth(0x0800), ipv4(PEER4, ME4, 6,
                                                        20)[:19]],
             "ipv4 header cut at 19 bytes", pad=False)
    for ihl in (0, 1, 4):
        Case("ipv4-ihl-%d" % ihl, "IHL %d (< 5) on an allowed flow" % ihl) \
            .pkt("nic-xdp", "DROP", MAL,
                 [eth(0x0800), ipv4(PEER4, ME4, 6, 20, ihl=ihl,
                                    tot=40), ok],
                 "ipv4 ihl=%d tot=40, tcp 22 [S]" % ihl)
    Case("ipv4-ihl-15-beyond-frame", "IHL 15 (60 bytes) in a 42-byte frame") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 17, 8, tot=28), udp(5000, 53)],
             "ipv4 ihl=15 (patched below), udp 53", pad=False)
    # patch the IHL of the last frame: version/IHL byte is at offset 14
    c = cases[-1]
    h = c.lines[-1].split(" ")
    # tokens: pkt prog verdict counter eth ip udp
    h[5] = "4f" + h[5][2:]
    c.lines[-1] = " ".join(h)
    Case("ipv4-ihl-beyond-total-length",
         "IHL 15 but the total length says 40: options past the datagram") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 6, 20, ihl=15, tot=40), ok],
             "ipv4 ihl=15 tot=40")
    Case("ipv4-options-cut-by-frame", "IHL 6, frame ends inside the option") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 6, 20, ihl=6)[:22]],
             "ipv4 ihl=6, 22 header bytes", pad=False)
    for ver in (0, 6, 15):
        Case("ipv4-version-%d" % ver, "version %d under the IPv4 ethertype"
             % ver) \
            .pkt("nic-xdp", "DROP", MAL,
                 [eth(0x0800), ipv4(PEER4, ME4, 6, 20, ver=ver), ok],
                 "version %d, tcp 22 [S]" % ver)
    for tot, why in ((0, "zero"), (19, "shorter than the header"),
                     (1500, "longer than the frame"),
                     (65535, "the maximum, frame of 54")):
        Case("ipv4-total-length-%d" % tot, "total length %s" % why) \
            .pkt("nic-xdp", "DROP", MAL,
                 [eth(0x0800), ipv4(PEER4, ME4, 6, 20, tot=tot), ok],
                 "ipv4 tot=%d, tcp 22 [S]" % tot)
    Case("ipv4-total-length-cuts-tcp",
         "the frame holds a TCP header, the IP length only 19 bytes of it") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 6, 20, tot=39), ok],
             "ipv4 tot=39, tcp 22 [S]")
    Case("ipv4-total-length-cuts-udp", "UDP header 7 bytes per the IP length") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 17, 8, tot=27), udp(5000, 53)],
             "ipv4 tot=27, udp 53")
    Case("ipv4-total-length-cuts-icmp", "ICMP header 7 bytes per IP length") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 1, 8, tot=27), icmp(8, 0)],
             "ipv4 tot=27, icmp echo")
    Case("tcp-header-cut-by-frame", "10 bytes of TCP, lengths consistent") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 6, 10), ok[:10]],
             "ipv4 tot=30, tcp cut at 10 bytes", pad=False)
    Case("udp-header-cut-by-frame", "4 bytes of UDP") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 17, 4), udp(5000, 53)[:4]],
             "ipv4 tot=24, udp cut at 4 bytes", pad=False)
    Case("icmp-header-cut-by-frame", "4 bytes of ICMP") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(PEER4, ME4, 1, 4), icmp(8, 0)[:4]],
             "ipv4 tot=24, icmp cut at 4 bytes", pad=False)
    for doff in (0, 4):
        Case("tcp-doff-%d" % doff, "TCP data offset %d (< 5)" % doff) \
            .pkt("nic-xdp", "DROP", MAL,
                 pkt4(PEER4, ME4, tcp(40000, 22, SYN, doff=doff), 6),
                 "tcp 22 [S] doff=%d" % doff)
    Case("tcp-doff-15-beyond-segment", "TCP options past the IP length") \
        .pkt("nic-xdp", "DROP", MAL,
             pkt4(PEER4, ME4, tcp(40000, 22, SYN, doff=15), 6),
             "tcp 22 [S] doff=15, segment of 20 bytes")
    Case("tcp-outbound-truncated", "malformed is dropped outbound too") \
        .pkt("nic-tc", "DROP", MAL,
             [eth(0x0800), ipv4(ME4, OUT4, 6, 20, tot=30),
              tcp(40000, 443, SYN)], "out, ipv4 tot=30, tcp 443 [S]")
    Case("proto-gre-stranger", "a rule allows GRE only from the peer") \
        .pkt("nic-xdp", "DROP", NORULE, pkt4(STR4, ME4, bytes(8), 47),
             "ipv4 proto 47 from a stranger")
    Case("proto-gre-peer-control", "control: GRE from the peer, tracked") \
        .pkt("nic-xdp", "PASS", "accept_new", pkt4(PEER4, ME4, bytes(8), 47),
             "ipv4 proto 47 from the peer").ct(0, 1)
    for proto in (0, 255, 4, 41):
        Case("proto-%d-from-peer" % proto,
             "protocol %d has no rule (IP-in-IP and IPv6-in-IPv4 are not "
             "unwrapped)" % proto) \
            .pkt("nic-xdp", "DROP", NORULE,
                 pkt4(PEER4, ME4, bytes(40), proto),
                 "ipv4 proto %d from the peer" % proto).ct(0, 0)


def ipv6_cases():
    ok = tcp(40000, 22, SYN)
    Case("ipv6-header-39-bytes", "an IPv6 header one byte short") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x86DD), ipv6(PEER6, ME6, 6, 20)[:39]],
             "ipv6 header cut at 39 bytes", pad=False)
    Case("ipv6-version-4", "version 4 under the IPv6 ethertype") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x86DD), ipv6(PEER6, ME6, 6, 20, ver=4), ok],
             "ipv6 version 4, tcp 22 [S]")
    Case("ipv6-payload-length-beyond-frame", "payload length 1000, 20 sent") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x86DD), ipv6(PEER6, ME6, 6, 20, plen=1000), ok],
             "ipv6 plen=1000, tcp 22 [S]")
    Case("ipv6-payload-length-cuts-tcp", "payload length 10 < TCP header") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x86DD), ipv6(PEER6, ME6, 6, 20, plen=10), ok],
             "ipv6 plen=10, tcp 22 [S]")
    Case("ipv6-ext-8-allowed-control",
         "control: 8 extension headers are walked, the flow is allowed") \
        .pkt("nic-xdp", "PASS", "accept_new",
             pkt6(PEER6, ME6, ok, 6, ext=[("opt", (60, 0))] * 8),
             "ipv6, 8 destination-options headers, tcp 22 [S]").ct(0, 1)
    Case("ipv6-ext-8-denied-port",
         "the real L4 port is judged after 8 headers") \
        .pkt("nic-xdp", "DROP", NORULE,
             pkt6(PEER6, ME6, tcp(40000, 23, SYN), 6,
                  ext=[("opt", (60, 0))] * 8),
             "ipv6, 8 dst-opts headers, tcp 23 [S]")
    for n in (9, 12, 20):
        Case("ipv6-ext-chain-%d" % n, "%d extension headers: over the "
             "limit of 8" % n) \
            .pkt("nic-xdp", "DROP", "drop_ipv6_header_chain",
                 pkt6(PEER6, ME6, ok, 6, ext=[("opt", (60, 0))] * n),
                 "ipv6, %d dst-opts headers, tcp 22 [S]" % n)
    Case("ipv6-ext-chain-9-mixed",
         "hop-by-hop, routing, AH, dst-opts, fragment: 9 in all") \
        .pkt("nic-xdp", "DROP", "drop_ipv6_header_chain",
             pkt6(PEER6, ME6, ok, 6,
                  ext=[("opt", (0, 0)), ("opt", (43, 0)), ("ah", 1),
                       ("opt", (60, 0)), ("opt", (60, 0)), ("opt", (60, 0)),
                       ("opt", (60, 0)), ("opt", (60, 0)),
                       ("frag", (0, False, 7))]),
             "ipv6, hbh rt ah dst*5 frag, tcp 22 [S]")
    Case("ipv6-ext-chain-outbound-9", "the limit holds outbound too") \
        .pkt("nic-tc", "DROP", "drop_ipv6_header_chain",
             pkt6(ME6, OUT6, tcp(40000, 443, SYN), 6,
                  ext=[("opt", (60, 0))] * 9),
             "out ipv6, 9 dst-opts headers, tcp 443 [S]")
    Case("ipv6-ext-hdrlen-beyond-payload",
         "a destination-options header claiming 2048 bytes") \
        .pkt("nic-xdp", "DROP", MAL,
             pkt6(PEER6, ME6, ok, 6, ext=[("opt", (60, 0))]),
             "ipv6, dst-opts hdrlen=255 (patched), tcp 22 [S]")
    c = cases[-1]
    h = c.lines[-1].split(" ")
    # layers: pkt prog verdict counter eth ip chain l4 [pad]
    h[6] = h[6][:2] + "ff" + h[6][4:]
    c.lines[-1] = " ".join(h)
    Case("ipv6-ext-cut-by-frame", "next header says dst-opts, frame ends") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x86DD), ipv6(PEER6, ME6, 60, 0, plen=0), b"\x06"],
             "ipv6 plen=0 (frame length), nexthdr 60, 1 byte", pad=False)
    Case("ipv6-ah-length-lies", "an AH header claiming more than the packet") \
        .pkt("nic-xdp", "DROP", MAL,
             pkt6(PEER6, ME6, ok, 6, ext=[("ah", 60)])[:2] +
             [v6ah(6, 1), ok],
             "ipv6 plen for AH(60) but AH(1) sent")
    # the line above claims a 248-byte AH with a 12-byte one: fix plen
    c = cases[-1]
    layers = [eth(0x86DD), ipv6(PEER6, ME6, 51, 32), v6ah(6, 1)[:1] +
              bytes([60]) + v6ah(6, 1)[2:], ok]
    c.lines[-1] = "pkt nic-xdp DROP %s %s" % (MAL, frame(*layers))
    Case("ipv6-hbh-routing-denied", "hop-by-hop and routing, tcp 23") \
        .pkt("nic-xdp", "DROP", NORULE,
             pkt6(PEER6, ME6, tcp(40000, 23, SYN), 6,
                  ext=[("opt", (0, 0)), ("opt", (43, 1))]),
             "ipv6 hbh rt(16), tcp 23 [S]")
    Case("ipv6-no-next-header", "protocol 59 has no rule") \
        .pkt("nic-xdp", "DROP", NORULE, pkt6(PEER6, ME6, bytes(16), 59),
             "ipv6 nexthdr 59 from the peer")
    Case("ipv6-stranger-tcp", "IPv6 from a stranger to an allowed port") \
        .pkt("nic-xdp", "DROP", NORULE, tcp6(STR6, ME6, 40000, 22, SYN),
             "ipv6 tcp 22 [S] from a stranger")
    Case("ipv6-jumbo-zero-length-denied",
         "payload length 0 reads as the frame: still judged") \
        .pkt("nic-xdp", "DROP", NORULE,
             [eth(0x86DD), ipv6(STR6, ME6, 6, 20, plen=0),
              tcp(40000, 22, SYN)], "ipv6 plen=0, tcp 22 [S] from a stranger")
    Case("icmpv4-type-135-is-not-nd",
         "ND is IPv6 only: ICMPv4 type 135 is filtered") \
        .pkt("nic-xdp", "DROP", NORULE, icmp4(STR4, ME4, 135, 0),
             "icmp type 135 from a stranger")
    Case("udp-sport-68-to-ssh", "a DHCP source port opens nothing") \
        .pkt("nic-xdp", "DROP", NORULE, udp4(STR4, ME4, 68, 22),
             "udp 68 > 22 from a stranger")
    Case("udp6-sport-547-to-dns", "a DHCPv6 source port opens nothing") \
        .pkt("nic-xdp", "DROP", NORULE,
             pkt6(STR6, ME6, udp(547, 53), 17), "udp 547 > 53 ipv6")
    Case("tcp-dhcp-ports", "DHCP ports over TCP are filtered") \
        .pkt("nic-xdp", "DROP", NORULE, tcp4(STR4, ME4, 68, 67, SYN),
             "tcp 68 > 67 [S] from a stranger")


def frag_cases():
    syn22 = tcp(40000, 22, SYN)
    later = bytes([0xAB]) * 64

    def first4(src, dst, l4, ident, proto=6, tot=None):
        return [eth(0x0800), ipv4(src, dst, proto, len(l4), mf=True,
                                  ident=ident, tot=tot), l4]

    def later4(src, dst, ident, off=185, mf=True, proto=6, payload=later):
        return [eth(0x0800), ipv4(src, dst, proto, len(payload), frag=off,
                                  mf=mf, ident=ident), payload]

    Case("frag4-later-without-first", "a later fragment, no first seen") \
        .pkt("nic-xdp", "DROP", "drop_fragment", later4(PEER4, ME4, 0x100),
             "ipv4 frag off=1480 id=0x100 from the peer")
    Case("frag4-last-without-first", "the last fragment (MF=0), no first") \
        .pkt("nic-xdp", "DROP", "drop_fragment",
             later4(STR4, ME4, 0x101, mf=False),
             "ipv4 frag off=1480 MF=0 from a stranger")
    Case("frag4-first-denied-then-later",
         "a denied first fragment does not let its later ones through") \
        .pkt("nic-xdp", "DROP", NORULE,
             first4(PEER4, ME4, tcp(40000, 23, SYN), 0x102),
             "first frag tcp 23 [S] id=0x102") \
        .pkt("nic-xdp", "DROP", "drop_fragment", later4(PEER4, ME4, 0x102),
             "later frag id=0x102")
    Case("frag4-later-other-id",
         "an allowed first fragment admits its own datagram only") \
        .pkt("nic-xdp", "PASS", "accept_new", first4(PEER4, ME4, syn22,
                                                     0x103),
             "first frag tcp 22 [S] id=0x103") \
        .pkt("nic-xdp", "PASS", "accept_fragment", later4(PEER4, ME4, 0x103),
             "later frag id=0x103 (control)") \
        .pkt("nic-xdp", "DROP", "drop_fragment", later4(PEER4, ME4, 0x104),
             "later frag id=0x104")
    Case("frag4-later-other-protocol",
         "same id, another protocol: another datagram") \
        .pkt("nic-xdp", "PASS", "accept_new", first4(PEER4, ME4, syn22,
                                                     0x105),
             "first frag tcp 22 [S] id=0x105") \
        .pkt("nic-xdp", "DROP", "drop_fragment",
             later4(PEER4, ME4, 0x105, proto=17), "later frag udp id=0x105")
    Case("frag4-later-other-source",
         "same id from another source: another datagram") \
        .pkt("nic-xdp", "PASS", "accept_new", first4(PEER4, ME4, syn22,
                                                     0x106),
             "first frag tcp 22 [S] id=0x106") \
        .pkt("nic-xdp", "DROP", "drop_fragment", later4(STR4, ME4, 0x106),
             "later frag id=0x106 from a stranger")
    Case("frag4-tiny-first-splits-tcp",
         "a first fragment with 8 bytes of TCP (ports, no flags): the "
         "header must be whole in the first fragment") \
        .pkt("nic-xdp", "DROP", MAL, first4(PEER4, ME4, syn22[:8], 0x107),
             "first frag, 8 bytes of tcp 22") \
        .pkt("nic-xdp", "DROP", "drop_fragment",
             later4(PEER4, ME4, 0x107, off=1, payload=syn22[8:]),
             "later frag off=8 with the rest of the header")
    Case("frag4-first-no-l4", "a first fragment carrying no L4 byte") \
        .pkt("nic-xdp", "DROP", MAL, first4(PEER4, ME4, b"", 0x108),
             "first frag, empty")
    Case("frag4-second-first-rewrites-port",
         "an overlapping offset-0 fragment is judged on its own ports") \
        .pkt("nic-xdp", "PASS", "accept_new", first4(PEER4, ME4, syn22,
                                                     0x109),
             "first frag tcp 22 [S] id=0x109") \
        .pkt("nic-xdp", "DROP", NORULE,
             first4(PEER4, ME4, tcp(40000, 23, SYN), 0x109),
             "offset-0 frag id=0x109 now to tcp 23")
    Case("frag4-overlap-offset-8",
         "an offset-8 overlap reaches the TCP flags, never the ports: it "
         "follows the first fragment's verdict") \
        .pkt("nic-xdp", "PASS", "accept_new", first4(PEER4, ME4, syn22,
                                                     0x10A),
             "first frag tcp 22 [S] id=0x10a") \
        .pkt("nic-xdp", "PASS", "accept_fragment",
             later4(PEER4, ME4, 0x10A, off=1, payload=bytes(16)),
             "later frag off=8 id=0x10a")
    Case("frag4-udp-denied-first-port-in-later",
         "a UDP first fragment to a denied port, its later part sent alone") \
        .pkt("nic-xdp", "DROP", NORULE,
             first4(PEER4, ME4, udp(5000, 54, 100), 0x10B, proto=17),
             "first frag udp 54 id=0x10b") \
        .pkt("nic-xdp", "DROP", "drop_fragment",
             later4(PEER4, ME4, 0x10B, off=2, proto=17),
             "later frag udp id=0x10b")
    Case("frag4-verdict-not-across-directions",
         "an inbound first fragment's verdict does not serve the other "
         "direction") \
        .pkt("nic-xdp", "PASS", "accept_new", first4(PEER4, ME4, syn22,
                                                     0x10C),
             "in: first frag tcp 22 [S] id=0x10c") \
        .pkt("nic-tc", "DROP", "drop_fragment", later4(ME4, PEER4, 0x10C),
             "out: later frag id=0x10c back to the peer")
    Case("frag4-verdict-not-across-instances",
         "one instance's fragment verdict does not serve another") \
        .pkt("nic-xdp", "PASS", "accept_new", first4(PEER4, ME4, syn22,
                                                     0x10D),
             "slot 0 in: first frag tcp 22 [S] id=0x10d") \
        .pkt("host-tc", "DROP", "drop_fragment", later4(PEER4, ME4, 0x10D),
             "slot 1 in: later frag id=0x10d")
    Case("frag4-vlan-later-without-first", "later fragment inside a tag") \
        .pkt("nic-xdp", "DROP", "drop_fragment",
             [eth(0x0800, 1)] + later4(PEER4, ME4, 0x10E)[1:],
             "vlan, later frag id=0x10e")

    def first6(src, dst, l4, ident, proto=6):
        return pkt6(src, dst, l4, proto, ext=[("frag", (0, True, ident))])

    def later6(src, dst, ident, proto=6, off=185, ext=None):
        return pkt6(src, dst, later, proto,
                    ext=(ext or []) + [("frag", (off, True, ident))])

    Case("frag6-later-without-first", "IPv6 later fragment, no first seen") \
        .pkt("nic-xdp", "DROP", "drop_fragment", later6(PEER6, ME6, 0x200),
             "ipv6 frag off=1480 id=0x200")
    Case("frag6-first-denied-then-later", "IPv6 denied first, then later") \
        .pkt("nic-xdp", "DROP", NORULE,
             first6(PEER6, ME6, tcp(40000, 23, SYN), 0x201),
             "ipv6 first frag tcp 23 [S]") \
        .pkt("nic-xdp", "DROP", "drop_fragment", later6(PEER6, ME6, 0x201),
             "ipv6 later frag id=0x201")
    Case("frag6-tiny-first-splits-tcp", "IPv6 first fragment, 8 TCP bytes") \
        .pkt("nic-xdp", "DROP", MAL, first6(PEER6, ME6, syn22[:8], 0x202),
             "ipv6 first frag, 8 bytes of tcp 22")
    Case("frag6-first-chain-split",
         "the header chain continues past the first fragment's end") \
        .pkt("nic-xdp", "DROP", MAL,
             [eth(0x86DD), ipv6(PEER6, ME6, 44, 8), v6frag(60, 0, True,
                                                           0x203)],
             "ipv6 first frag, next header dst-opts, nothing after")
    Case("frag6-atomic-denied", "an atomic fragment (offset 0, M=0) is "
         "judged as a whole packet") \
        .pkt("nic-xdp", "DROP", NORULE,
             pkt6(STR6, ME6, syn22, 6, ext=[("frag", (0, False, 0x204))]),
             "ipv6 atomic frag tcp 22 [S] from a stranger")
    Case("frag6-nd-as-later-fragment",
         "ICMPv6 ND is never filtered, but not as a later fragment") \
        .pkt("nic-xdp", "DROP", "drop_fragment",
             later6(STR6, ME6, 0x205, proto=58), "ipv6 later frag icmpv6")
    Case("frag6-later-other-id", "IPv6 allowed first admits only its id") \
        .pkt("nic-xdp", "PASS", "accept_new", first6(PEER6, ME6, syn22,
                                                     0x206),
             "ipv6 first frag tcp 22 [S] id=0x206") \
        .pkt("nic-xdp", "DROP", "drop_fragment", later6(PEER6, ME6, 0x207),
             "ipv6 later frag id=0x207")
    Case("frag6-later-after-8-headers",
         "a later fragment behind a long chain is still a later fragment") \
        .pkt("nic-xdp", "DROP", "drop_fragment",
             later6(PEER6, ME6, 0x208, ext=[("opt", (60, 0))] * 7),
             "ipv6 7 dst-opts, later frag")


def tcp_flag_cases():
    """Every combination of FIN SYN RST PSH ACK URG, plus ECE/CWR forms."""
    combos = list(range(64)) + [SYN | ECE | CWR, ACK | ECE, SYN | ACK | ECE,
                                0xFF]
    for f in combos:
        opens = (f & (SYN | ACK | RST | FIN)) == SYN
        sport = 40000 + f
        c = Case("tcp-flags-%s" % flags_str(f),
                 "flags %s: from a stranger it is dropped and tracks "
                 "nothing; from the allowed peer it %s" %
                 (flags_str(f), "opens a tracked flow (bare SYN)" if opens
                  else "passes by the rule untracked, and the instance's "
                  "reply is not let out"))
        c.pkt("nic-xdp", "DROP", NORULE, tcp4(STR4, ME4, sport, 22, f),
              "stranger > tcp 22 [%s]" % flags_str(f))
        c.ct(0, 0)
        c.pkt("nic-tc", "DROP", NORULE, tcp4(ME4, STR4, 22, sport,
                                            RST | ACK),
              "instance's reply [RA] to the stranger")
        c.pkt("nic-xdp", "PASS", "accept_new" if opens else
              "accept_untracked", tcp4(PEER4, ME4, sport, 22, f),
              "peer > tcp 22 [%s]" % flags_str(f))
        c.ct(0, 1 if opens else 0)
        c.pkt("nic-tc", "PASS" if opens else "DROP",
              "accept_established" if opens else NORULE,
              tcp4(ME4, PEER4, 22, sport, SYN | ACK if opens else RST | ACK),
              "instance's reply to the peer")


def conn_cases():
    Case("synack-from-outside-opens-nothing",
         "a SYN-ACK to a closed port: no entry, the RST reply stays in") \
        .pkt("nic-xdp", "DROP", NORULE, tcp4(PEER4, ME4, 443, 23,
                                             SYN | ACK),
             "peer > tcp 23 [SA]").ct(0, 0) \
        .pkt("nic-tc", "DROP", NORULE, tcp4(ME4, PEER4, 23, 443, RST),
             "instance [R] back")
    Case("ack-from-outside-reply-allowed-by-rule",
         "control: a reply no flow carries passes when a rule allows it "
         "(outbound to 203.0.113.0/24), untracked") \
        .pkt("nic-xdp", "DROP", NORULE, tcp4(OUT4, ME4, 443, 40000, ACK),
             "203.0.113.5 > tcp 40000 [A]").ct(0, 0) \
        .pkt("nic-tc", "PASS", "accept_untracked",
             tcp4(ME4, OUT4, 40000, 443, RST), "instance [R] back").ct(0, 0)
    Case("syn-then-stranger-reply",
         "a flow's reply from another port of the remote is a new flow") \
        .pkt("nic-tc", "PASS", "accept_new", tcp4(ME4, OUT4, 40000, 443, SYN),
             "instance > 203.0.113.5 tcp 443 [S]").ct(0, 1) \
        .pkt("nic-xdp", "DROP", NORULE, tcp4(OUT4, ME4, 444, 40000,
                                             SYN | ACK),
             "[SA] from port 444") \
        .pkt("nic-xdp", "DROP", NORULE, tcp4(RTR4, ME4, 443, 40000,
                                             SYN | ACK),
             "[SA] from another host") \
        .pkt("nic-xdp", "PASS", "accept_established",
             tcp4(OUT4, ME4, 443, 40000, SYN | ACK), "the real [SA]")
    Case("flow-of-another-instance",
         "slot 0's flow does not admit its reply into slot 1") \
        .pkt("nic-tc", "PASS", "accept_new", tcp4(ME4, OUT4, 40001, 443, SYN),
             "slot 0 > 203.0.113.5 tcp 443 [S]") \
        .pkt("host-tc", "DROP", NORULE, tcp4(OUT4, ME4, 443, 40001,
                                             SYN | ACK),
             "the reply on slot 1's inbound").ct(1, 0)
    Case("udp-reply-from-other-port", "UDP: the reply must match the flow") \
        .pkt("nic-tc", "PASS", "accept_new", udp4(ME4, OUT4, 5353, 53),
             "instance > 203.0.113.5 udp 53") \
        .pkt("nic-xdp", "DROP", NORULE, udp4(OUT4, ME4, 54, 5353),
             "udp from port 54") \
        .pkt("nic-xdp", "PASS", "accept_established",
             udp4(OUT4, ME4, 53, 5353), "the real reply")
    Case("echo-reply-unsolicited", "no echo request went out") \
        .pkt("nic-xdp", "DROP", NORULE, icmp4(STR4, ME4, 0, 0),
             "echo reply from a stranger") \
        .pkt("nic-xdp", "DROP", NORULE, icmp4(PEER4, ME4, 0, 0),
             "echo reply from the peer (only echo requests allowed)") \
        .ct(0, 0)
    Case("echo-reply-wrong-id-and-reverse-request",
         "an echo flow admits only its own replies") \
        .pkt("nic-tc", "PASS", "accept_new",
             pkt4(ME4, OUT4, icmp(8, 0, ident=77), 1), "echo id 77 out") \
        .pkt("nic-xdp", "DROP", NORULE, pkt4(OUT4, ME4, icmp(0, 0, ident=78),
                                             1), "echo reply id 78") \
        .pkt("nic-xdp", "DROP", NORULE, pkt4(OUT4, ME4, icmp(8, 0, ident=77),
                                             1),
             "echo request id 77 from the remote") \
        .pkt("nic-xdp", "PASS", "accept_established",
             pkt4(OUT4, ME4, icmp(0, 0, ident=77), 1), "echo reply id 77")
    Case("icmpv6-echo-reply-unsolicited", "IPv6: no request went out") \
        .pkt("nic-xdp", "DROP", NORULE, pkt6(STR6, ME6, icmp(129, 0), 58),
             "icmpv6 echo reply from a stranger")
    # host side: the instance may not borrow an address
    Case("host-spoofed-source-v4", "host side: a source not the instance's") \
        .pkt("host-xdp", "DROP", "drop_spoofed_source",
             tcp4("10.0.0.99", OUT4, 40000, 443, SYN),
             "slot 1 out from 10.0.0.99")
    Case("host-spoofed-source-peer-address",
         "host side: borrowing slot 0's address") \
        .pkt("host-xdp", "DROP", "drop_spoofed_source",
             tcp4(ME4, OUT4, 40000, 443, SYN), "slot 1 out from 10.0.0.1")
    Case("host-spoofed-source-v6", "host side, IPv6") \
        .pkt("host-xdp", "DROP", "drop_spoofed_source",
             tcp6("2001:db8::99", OUT6, 40000, 443, SYN),
             "slot 1 out from 2001:db8::99")
    Case("host-spoofed-source-qinq", "host side, spoof inside QinQ") \
        .pkt("host-xdp", "DROP", "drop_spoofed_source",
             tcp4("10.0.0.99", OUT4, 40000, 443, SYN, vlans=2),
             "qinq, slot 1 out from 10.0.0.99")
    Case("host-spoofed-later-fragment",
         "host side: the source check comes before the fragment check") \
        .pkt("host-xdp", "DROP", "drop_spoofed_source",
             [eth(0x0800), ipv4("10.0.0.99", OUT4, 6, 64, frag=185, mf=True,
                                ident=0x300), bytes(64)],
             "later frag from 10.0.0.99")
    Case("host-source-control", "control: the instance's own address") \
        .pkt("host-xdp", "PASS", "accept_new",
             tcp4(HS4, OUT4, 40000, 443, SYN), "slot 1 out from 10.0.0.2") \
        .ct(1, 1)
    Case("host-malformed-outbound", "host side, truncated outbound IPv4") \
        .pkt("host-xdp", "DROP", MAL,
             [eth(0x0800), ipv4(HS4, OUT4, 6, 20, ihl=3), tcp(1, 443, SYN)],
             "ihl=3")
    Case("host-inbound-bare-ack", "host side inbound: a bare ACK") \
        .pkt("host-tc", "DROP", NORULE, tcp4(STR4, HS4, 443, 22, ACK),
             "stranger > slot 1 tcp 22 [A]").ct(1, 0)
    Case("host-inbound-denied-port", "host side inbound, port 23") \
        .pkt("host-tc", "DROP", NORULE, tcp4(PEER4, HS4, 40000, 23, SYN),
             "peer > slot 1 tcp 23 [S]")


def icmp_error_cases():
    def err4(src, dst, t, code, quote):
        return [eth(0x0800), ipv4(src, dst, 1, 8 + len(quote)),
                icmp(t, code, 0, 0), quote]

    def err6(src, dst, t, code, quote):
        return [eth(0x86DD), ipv6(src, dst, 58, 8 + len(quote)),
                icmp(t, code, 0, 0), quote]

    flow = quote4(ME4, OUT4, 6, 40000, 443)
    Case("icmp-unreach-no-flow", "frag-needed quoting a flow that never was") \
        .pkt("nic-xdp", "DROP", NORULE, err4(RTR4, ME4, 3, 4, flow),
             "icmp 3/4 quoting 10.0.0.1:40000 > 203.0.113.5:443")
    Case("icmp-unreach-no-flow-from-peer",
         "from the peer (echo allowed only): errors are not echo") \
        .pkt("nic-xdp", "DROP", NORULE, err4(PEER4, ME4, 3, 3,
                                             quote4(ME4, PEER4, 17, 5000, 53)),
             "icmp 3/3 quoting udp to the peer")
    Case("icmp-time-exceeded-no-flow", "time exceeded, no flow") \
        .pkt("nic-xdp", "DROP", NORULE, err4(RTR4, ME4, 11, 0, flow),
             "icmp 11/0")
    Case("icmp-param-problem-no-flow", "parameter problem, no flow") \
        .pkt("nic-xdp", "DROP", NORULE, err4(RTR4, ME4, 12, 0, flow),
             "icmp 12/0")

    def live(name, why):
        return Case(name, why).pkt(
            "nic-tc", "PASS", "accept_new", tcp4(ME4, OUT4, 40000, 443, SYN),
            "instance > 203.0.113.5 tcp 443 [S]")

    live("icmp-unreach-related-control",
         "control: an error quoting the live flow passes (PMTUD)") \
        .pkt("nic-xdp", "PASS", "accept_related",
             err4(RTR4, ME4, 3, 4, flow), "icmp 3/4 quoting the flow")
    live("icmp-unreach-other-port", "an error quoting another source port") \
        .pkt("nic-xdp", "DROP", NORULE,
             err4(RTR4, ME4, 3, 4, quote4(ME4, OUT4, 6, 40001, 443)),
             "quote 10.0.0.1:40001 > 203.0.113.5:443")
    live("icmp-unreach-other-protocol", "the quote says UDP, the flow is TCP") \
        .pkt("nic-xdp", "DROP", NORULE,
             err4(RTR4, ME4, 3, 4, quote4(ME4, OUT4, 17, 40000, 443)),
             "quote udp")
    live("icmp-unreach-quote-reversed",
         "the quote travels the wrong way (remote > instance)") \
        .pkt("nic-xdp", "DROP", NORULE,
             err4(RTR4, ME4, 3, 4, quote4(OUT4, ME4, 6, 443, 40000)),
             "quote 203.0.113.5:443 > 10.0.0.1:40000")
    live("icmp-unreach-outer-dst-mismatch",
         "the error is addressed elsewhere than the quote's source") \
        .pkt("nic-xdp", "DROP", NORULE, err4(RTR4, "10.0.0.9", 3, 4, flow),
             "icmp to 10.0.0.9 quoting 10.0.0.1's flow")
    live("icmp-redirect-quoting-flow", "a redirect is not an error we admit") \
        .pkt("nic-xdp", "DROP", NORULE, err4(RTR4, ME4, 5, 1, flow),
             "icmp 5/1 quoting the flow")
    live("icmp-source-quench-quoting-flow", "type 4 is not admitted") \
        .pkt("nic-xdp", "DROP", NORULE, err4(RTR4, ME4, 4, 0, flow),
             "icmp 4/0 quoting the flow")
    live("icmp-unreach-quote-truncated", "the quote lacks the L4 ports") \
        .pkt("nic-xdp", "DROP", NORULE,
             err4(RTR4, ME4, 3, 4, quote4(ME4, OUT4, 6, 40000, 443,
                                          l4len=4)[:24]),
             "quote: ip header + 4 bytes", pad=False)
    live("icmp-unreach-quote-ihl-3", "the quoted header has IHL 3") \
        .pkt("nic-xdp", "DROP", NORULE,
             err4(RTR4, ME4, 3, 4, quote4(ME4, OUT4, 6, 40000, 443, ihl=3)),
             "quote ihl=3")
    live("icmp-unreach-quote-later-fragment",
         "a quoted later fragment has no ports to trust") \
        .pkt("nic-xdp", "DROP", NORULE,
             err4(RTR4, ME4, 3, 4, quote4(ME4, OUT4, 6, 40000, 443,
                                          frag=185)),
             "quote frag off=1480")
    live("icmp-unreach-quote-other-instance",
         "slot 1 gets an error quoting slot 0's flow") \
        .pkt("host-tc", "DROP", NORULE, err4(RTR4, ME4, 3, 4, flow),
             "slot 1 inbound, icmp 3/4 quoting 10.0.0.1's flow")
    live("icmp-unreach-quote-icmp-error",
         "an error quoting an error is never related") \
        .pkt("nic-xdp", "DROP", NORULE,
             err4(RTR4, ME4, 3, 4, quote4(ME4, OUT4, 1, 3, 4)),
             "quote icmp 3/4")
    Case("icmp-unreach-quote-echo-no-flow", "quoting an echo never sent") \
        .pkt("nic-xdp", "DROP", NORULE,
             err4(RTR4, ME4, 3, 1, quote4(ME4, OUT4, 1, 8, 0)),
             "quote icmp echo")
    Case("icmp-unreach-vlan-no-flow", "inside a tag, no flow") \
        .pkt("nic-xdp", "DROP", NORULE,
             [eth(0x0800, 1)] + err4(RTR4, ME4, 3, 4, flow)[1:],
             "vlan, icmp 3/4")
    flow6 = quote6(ME6, OUT6, 6, 40000, 443)
    for t, code in ((1, 4), (2, 0), (3, 0), (4, 1)):
        Case("icmpv6-error-%d-no-flow" % t,
             "ICMPv6 type %d quoting a flow that never was" % t) \
            .pkt("nic-xdp", "DROP", NORULE, err6(RTR6, ME6, t, code, flow6),
                 "icmpv6 %d/%d quoting 2001:db8::1:40000 > :443" % (t, code))
    Case("icmpv6-too-big-related-control",
         "control: packet too big quoting a live IPv6 flow") \
        .pkt("nic-tc", "PASS", "accept_new", tcp6(ME6, OUT6, 40000, 443, SYN),
             "instance > 2001:db8:beef::5 tcp 443 [S]") \
        .pkt("nic-xdp", "PASS", "accept_related",
             err6(RTR6, ME6, 2, 0, flow6), "icmpv6 2/0 quoting it")
    Case("icmpv6-too-big-wrong-port", "packet too big quoting another port") \
        .pkt("nic-tc", "PASS", "accept_new", tcp6(ME6, OUT6, 40000, 443, SYN),
             "instance > 2001:db8:beef::5 tcp 443 [S]") \
        .pkt("nic-xdp", "DROP", NORULE,
             err6(RTR6, ME6, 2, 0, quote6(ME6, OUT6, 6, 40000, 444)),
             "icmpv6 2/0 quoting port 444")
    Case("icmp-error-outbound-no-flow",
         "the instance's own error about a flow it never saw (outbound to "
         "a stranger)") \
        .pkt("nic-tc", "DROP", NORULE,
             err4(ME4, STR4, 3, 3, quote4(STR4, ME4, 17, 5000, 9999)),
             "icmp 3/3 out to 198.51.100.7")


def main():
    eth_vlan_cases()
    ipv4_cases()
    ipv6_cases()
    frag_cases()
    conn_cases()
    icmp_error_cases()
    tcp_flag_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus.txt")
    with open(out, "w") as f:
        f.write("# Hostile packets for sgctl's datapath. GENERATED by "
                "tests/hostile/gen.py:\n# do not edit, regenerate. "
                "Format and policy: see gen.py and "
                "tests/datapath/test_hostile.c.\n")
        f.write("# %d cases, %d frames\n" % (
            len(cases), sum(1 for c in cases for l in c.lines
                            if l.startswith("pkt "))))
        for c in cases:
            f.write("\ncase %s\n# %s\n" % (c.name, c.why))
            for line in c.lines:
                f.write(line + "\n")
            f.write("end\n")


if __name__ == "__main__":
    main()
