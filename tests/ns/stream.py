# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Traffic for tests/ns/test_reload.sh and test_fulltable.sh.

  stream.py server PORT...                  TCP echo on every port (dual stack)
  stream.py tcp ADDR PORT STATUS STOP       one long-lived TCP stream
  stream.py udp ADDR PORT STATUS STOP       one long-lived UDP exchange
  stream.py probe STATUS STOP ADDR:PORT...  a steady stream of new connections

Clients run until the file STOP exists and keep STATUS, a JSON object,
up to date (rewritten atomically a few times a second), so the test can
read byte counts while traffic flows and the outcome once it stopped.

A stream is ping-pong: a chunk goes out, the same bytes must come back
before the next one leaves. Any error, any wrong byte, or no progress for
STALL seconds ends it with "error" set; "max_gap" is the longest time
between two completed round trips.

The prober opens connections without blocking: a new one to every target
every INTERVAL seconds, each given DEADLINE seconds to connect and echo a
line. DEADLINE is below the kernel's 1 s initial SYN retransmission time,
so a connection that times out sent exactly one SYN: the test can match
time-outs against sgctl's drop counters one for one.
"""
import errno
import json
import os
import selectors
import socket
import sys
import time

STALL = 3.0  # seconds without progress: the stream is broken
CHUNK = 8192
PAUSE = 0.004  # between round trips: steady, but leaves CPU to the rest
DEADLINE = 0.9
INTERVAL = 0.02


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def write_status(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def server(ports):
    sel = selectors.DefaultSelector()
    for p in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", p))
        s.listen(1024)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if key.data is None:
                try:
                    c, _ = s.accept()
                except OSError:
                    continue
                c.setblocking(False)
                sel.register(c, selectors.EVENT_READ, b"")
                continue
            try:
                d = s.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                d = b""
            if not d:
                sel.unregister(s)
                s.close()
                continue
            # Echo synchronously: the peers are ping-pong, so the send
            # buffer always has room for what they sent.
            try:
                s.setblocking(True)
                s.sendall(d)
                s.setblocking(False)
            except OSError:
                sel.unregister(s)
                s.close()


def tcp_stream(addr, port, status, stop):
    st = {"bytes": 0, "rounds": 0, "max_gap": 0.0, "error": None,
          "lport": 0, "done": False}
    n = 0
    try:
        s = socket.socket(family(addr), socket.SOCK_STREAM)
        s.settimeout(STALL)
        s.connect((addr, port))
        st["lport"] = s.getsockname()[1]
    except OSError as e:
        st["error"] = "connect: " + str(e)
        st["done"] = True
        write_status(status, st)
        return
    last = time.monotonic()
    written = 0.0
    while not os.path.exists(stop):
        chunk = bytes((n + i) & 0xFF for i in range(256)) * (CHUNK // 256)
        n += 1
        try:
            s.sendall(chunk)
            got = b""
            while len(got) < len(chunk):
                d = s.recv(len(chunk) - len(got))
                if not d:
                    raise EOFError("closed by peer")
                got += d
        except (OSError, EOFError) as e:
            st["error"] = "round %d: %s" % (st["rounds"], e or "timeout")
            break
        if got != chunk:
            st["error"] = "round %d: wrong bytes" % st["rounds"]
            break
        now = time.monotonic()
        st["max_gap"] = max(st["max_gap"], now - last)
        last = now
        st["bytes"] += 2 * len(chunk)
        st["rounds"] += 1
        if now - written > 0.2:
            write_status(status, st)
            written = now
        time.sleep(PAUSE)
    s.close()
    st["done"] = True
    write_status(status, st)


def udp_stream(addr, port, status, stop):
    st = {"bytes": 0, "rounds": 0, "lost": 0, "max_gap": 0.0,
          "error": None, "lport": 0, "done": False}
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.settimeout(1.0)
    s.connect((addr, port))
    st["lport"] = s.getsockname()[1]
    last = time.monotonic()
    written = 0.0
    seq = 0
    while not os.path.exists(stop):
        msg = b"%08d" % seq + b"u" * 1000
        seq += 1
        try:
            s.send(msg)
            while True:
                d = s.recv(65536)
                if d == msg:
                    break  # a late echo of an earlier datagram: skip it
        except (socket.timeout, TimeoutError):
            st["lost"] += 1
            continue
        except OSError as e:
            st["error"] = str(e)
            break
        now = time.monotonic()
        st["max_gap"] = max(st["max_gap"], now - last)
        last = now
        st["bytes"] += 2 * len(msg)
        st["rounds"] += 1
        if now - written > 0.2:
            write_status(status, st)
            written = now
        time.sleep(PAUSE * 5)
    st["done"] = True
    write_status(status, st)


def probe(status, stop, targets):
    """Outcomes per target: connected / timeout / refused / stalled / error."""
    sel = selectors.DefaultSelector()
    tg = []
    for t in targets:
        a, p = t.rsplit(":", 1)
        tg.append((a.strip("[]"), int(p), t))
    res = {t: {"connected": 0, "timeout": 0, "refused": 0, "stalled": 0,
               "error": 0} for _, _, t in tg}
    live = {}  # socket -> [target, deadline, phase]
    nxt = time.monotonic()
    written = 0.0

    def finish(s, outcome):
        sel.unregister(s)
        res[live.pop(s)[0]][outcome] += 1
        s.close()

    while True:
        now = time.monotonic()
        stopping = os.path.exists(stop)
        if stopping and not live:
            break
        if not stopping and now >= nxt:
            nxt = now + INTERVAL
            for a, p, t in tg:
                s = socket.socket(family(a), socket.SOCK_STREAM)
                s.setblocking(False)
                e = s.connect_ex((a, p))
                if e not in (0, errno.EINPROGRESS):
                    res[t]["error"] += 1
                    s.close()
                    continue
                live[s] = [t, now + DEADLINE, "connect"]
                sel.register(s, selectors.EVENT_WRITE)
        for key, ev in sel.select(timeout=0.005):
            s = key.fileobj
            st = live[s]
            if st[2] == "connect":
                e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if e == errno.ECONNREFUSED:
                    finish(s, "refused")
                    continue
                if e:
                    finish(s, "error")
                    continue
                try:
                    s.send(b"probe\n")
                except OSError:
                    finish(s, "stalled")
                    continue
                st[2] = "echo"
                st[1] = time.monotonic() + 2.0
                sel.modify(s, selectors.EVENT_READ)
            else:
                try:
                    d = s.recv(64)
                except OSError:
                    d = b""
                finish(s, "connected" if d == b"probe\n" else "stalled")
        now = time.monotonic()
        for s in [s for s, st in live.items() if now > st[1]]:
            finish(s, "timeout" if live[s][2] == "connect" else "stalled")
        if now - written > 0.5:
            write_status(status, {"targets": res, "done": False})
            written = now
    write_status(status, {"targets": res, "done": True})


def main():
    cmd = sys.argv[1]
    if cmd == "server":
        server([int(p) for p in sys.argv[2:]])
    elif cmd == "tcp":
        tcp_stream(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "udp":
        udp_stream(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "probe":
        probe(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit("usage: stream.py server|tcp|udp|probe ...")


if __name__ == "__main__":
    main()
