#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The console part of `make bench` (issue 15 §5): API latency and memory of
`sgctl console` on a VPC of 1,000 groups and 10,000 instances.

The config is `sgctl bench gen cp` (G groups of R rules, N instances with one
group each, every 50th also in sg-hub); the first 64 instances name an
interface, so this host enforces them and the rest only lend their
addresses (as the control-plane bench does). It is loaded into a private
--pin-dir (no attach), then `sgctl console` listens on a free loopback port.
Each endpoint is asked REQUESTS times (one keep-alive connection, as a
browser does) after one warm-up request:
  GET /api/groups              (the first page, default limit)
  GET /api/groups/ID           (a different group each time)
  GET /api/instances           (the first page)
  GET /api/flowlogs            (a page; empty: no traffic here)
  GET /api/map                 (instances summarised per group)
  GET /api/check               (a path between two instances)
The first request of all (the console reads and validates the config) is
timed on its own. The console's VmRSS and VmHWM are read after the run.
Prints one JSON object per line: console_setup, console_api (one per
endpoint), console_mem.
usage: console.py SGCTL [GROUPS INSTANCES RULES REQUESTS]   (root: pins)
"""
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SGCTL = os.path.abspath(sys.argv[1])
GROUPS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
INSTANCES = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
RULES = int(sys.argv[4]) if len(sys.argv) > 4 else 60
REQUESTS = int(sys.argv[5]) if len(sys.argv) > 5 else 200
LOCAL = 64  # instances enforced here (name an interface)

tmp = tempfile.mkdtemp(prefix="sgctl-bench-console.")
pin = f"/sys/fs/bpf/sgctl-bench-console-{os.getpid()}"
procs = []


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    if os.path.exists(pin):
        subprocess.run([SGCTL, "--pin-dir", pin, "unload"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)


def die(msg):
    raise SystemExit("console bench: " + msg)


def sgctl(*args):
    r = subprocess.run([SGCTL, *args], capture_output=True, text=True)
    if r.returncode:
        die(f"sgctl {' '.join(args)}: {r.stderr.strip()[:500]}")
    return r.stdout


def local_instances(text, n):
    """The first n instances name an interface: this host enforces them."""
    out, k = [], 0
    for line in text.splitlines():
        out.append(line)
        if k < n and line.startswith("  i-") and line.endswith(":"):
            out.append(f"    interface: vb{k}")
            k += 1
    return "\n".join(out) + "\n"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Client:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, port):
        self.port = port
        self.c = None

    def get(self, path):
        for attempt in range(2):
            if self.c is None:
                self.c = http.client.HTTPConnection("127.0.0.1", self.port,
                                                    timeout=30)
            try:
                t0 = time.perf_counter()
                self.c.request("GET", path)
                r = self.c.getresponse()
                body = r.read()
                dt = time.perf_counter() - t0
                if r.getheader("Connection", "").lower() == "close":
                    self.c.close()
                    self.c = None
                return r.status, body, dt
            except (http.client.HTTPException, OSError):
                self.c.close()
                self.c = None
                if attempt:
                    raise
        return None


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs))) - 1))]


def main():
    shape = ["--groups", str(GROUPS), "--rules", str(RULES), "--instances",
             str(INSTANCES), "--per-instance", "1"]
    cfg = f"{tmp}/console.yaml"
    with open(cfg, "w") as f:
        f.write(local_instances(sgctl("bench", "gen", "cp", *shape), LOCAL))
    t0 = time.time()
    sgctl("--pin-dir", pin, "load", cfg)
    load_s = time.time() - t0

    port = free_port()
    log = open(f"{tmp}/console.out", "w")
    p = subprocess.Popen([SGCTL, "console", "--listen", f"127.0.0.1:{port}",
                          "--pin-dir", pin], stdout=log, stderr=log)
    procs.append(p)
    cl = Client(port)
    for _ in range(300):
        if p.poll() is not None:
            die("console exited: " + open(log.name).read()[-500:])
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    else:
        die("console did not listen")
    rss_idle = proc_status(p.pid, "VmRSS")
    # The first data request: the console reads the loaded config.
    st, body, cold = cl.get("/api/groups")
    if st != 200:
        die(f"GET /api/groups: {st} {body[:300]!r}")
    groups = json.loads(body)
    total = groups.get("total")
    print(json.dumps({
        "kind": "console_setup", "groups": GROUPS, "rules": RULES,
        "instances": INSTANCES, "enforced_here": LOCAL,
        "requests": REQUESTS, "load_s": round(load_s, 2),
        "groups_total": total, "cold_ms": round(cold * 1e3, 1),
        "rss_kib_idle": rss_idle,
        "cmd": "python3 tests/bench/console.py SGCTL %d %d %d %d" % (
            GROUPS, INSTANCES, RULES, REQUESTS)}), flush=True)

    ids = [f"sg-g{i}" for i in range(GROUPS)]
    insts = [f"i-{i}" for i in range(INSTANCES)]
    random.seed(15)
    ends = [
        ("GET /api/groups (first page)", lambda i: "/api/groups"),
        ("GET /api/groups/ID", lambda i: "/api/groups/" + random.choice(ids)),
        ("GET /api/instances (first page)", lambda i: "/api/instances"),
        ("GET /api/flowlogs (a page)", lambda i: "/api/flowlogs?limit=500"),
        ("GET /api/map", lambda i: "/api/map"),
        ("GET /api/check (a path)", lambda i: "/api/check?from=" + random.choice(insts) + "&to=" + random.choice(insts) + "&protocol=tcp&port=443"),
    ]
    for name, path in ends:
        st, body, _ = cl.get(path(0))  # warm-up
        if st != 200:
            die(f"{name}: {st} {body[:300]!r}")
        lat, size = [], 0
        for i in range(REQUESTS):
            st, body, dt = cl.get(path(i))
            if st != 200:
                die(f"{name}: {st} {body[:300]!r}")
            lat.append(dt * 1e3)
            size = max(size, len(body))
        items = None
        try:
            d = json.loads(body)
            for k in ("groups", "records", "rules", "instances"):
                if isinstance(d.get(k), list):
                    items = len(d[k])
                    break
        except ValueError:
            pass
        print(json.dumps({
            "kind": "console_api", "endpoint": name, "n": REQUESTS,
            "median_ms": round(pct(lat, 50), 2), "p99_ms": round(pct(lat, 99), 2),
            "max_ms": round(max(lat), 2), "bytes": size, "items": items}),
            flush=True)
    print(json.dumps({"kind": "console_mem",
                      "rss_kib": proc_status(p.pid, "VmRSS"),
                      "hwm_kib": proc_status(p.pid, "VmHWM")}), flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    try:
        main()
    finally:
        cleanup()
