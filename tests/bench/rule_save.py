#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""Latency of the rule editor's save and preview on a big VPC.

The config is `sgctl bench gen cp` (GROUPS groups of RULES rules,
INSTANCES instances), loaded into a private --pin-dir (no attach); then
`sgctl console` on a free loopback port is asked, REQUESTS times each:
  POST /api/groups/ID/rules          2 adds
  POST /api/groups/ID/rules          1 delete + 1 add (a changed row)
  POST /api/groups/ID/rules/preview  2 adds
Prints one JSON object per line with the median and max in ms.
usage: rule_save.py SGCTL [GROUPS INSTANCES RULES REQUESTS]   (root: pins)
"""
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SGCTL = os.path.abspath(sys.argv[1])
GROUPS = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
INSTANCES = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
RULES = int(sys.argv[4]) if len(sys.argv) > 4 else 10
REQUESTS = int(sys.argv[5]) if len(sys.argv) > 5 else 5

tmp = tempfile.mkdtemp(prefix="sgctl-bench-save.")
pin = f"/sys/fs/bpf/sgctl-bench-save-{os.getpid()}"


def sgctl(*args):
    r = subprocess.run([SGCTL, *args], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"sgctl {' '.join(args)}: {r.stderr.strip()[:500]}")
    return r.stdout


def main():
    cfg = f"{tmp}/big.yaml"
    with open(cfg, "w") as f:
        f.write(sgctl("bench", "gen", "cp", "--groups", str(GROUPS),
                      "--rules", str(RULES), "--instances", str(INSTANCES),
                      "--per-instance", "1"))
    sgctl("--pin-dir", pin, "load", cfg)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    con = subprocess.Popen([SGCTL, "console", "--listen", f"127.0.0.1:{port}",
                            "--pin-dir", pin], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        run(port)
    finally:
        con.terminate()
        con.wait(10)


def run(port):
    c = None
    for _ in range(100):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            c.request("GET", "/api/session")
            csrf = json.loads(c.getresponse().read())["csrf_token"]
            break
        except OSError:
            time.sleep(0.1)
    hdr = {"X-CSRF-Token": csrf, "Origin": f"http://127.0.0.1:{port}",
           "Content-Type": "application/json"}

    def call(method, path, body=None):
        t0 = time.perf_counter()
        c.request(method, path, body=json.dumps(body) if body else None,
                  headers=hdr)
        r = c.getresponse()
        data = r.read()
        dt = time.perf_counter() - t0
        if r.status != 200:
            raise SystemExit(f"{method} {path}: {r.status} {data[:300]}")
        return json.loads(data), dt

    groups, _ = call("GET", "/api/groups?limit=1")
    gid = groups["groups"][0]["id"]
    url = f"/api/groups/{gid}/rules"

    def row(n):
        return {"type": "Custom TCP", "protocol": "tcp",
                "port_range": str(20000 + n), "peer": "198.51.100.0/24"}

    times = {"save_2_adds": [], "save_delete_add": [], "preview_2_adds": []}
    n = 0
    for _ in range(REQUESTS):
        ans, dt = call("POST", url + "/preview",
                       {"direction": "inbound", "add": [row(n), row(n + 1)]})
        times["preview_2_adds"].append(dt)
        ans, dt = call("POST", url,
                       {"direction": "inbound", "add": [row(n), row(n + 1)]})
        times["save_2_adds"].append(dt)
        ans, dt = call("POST", url, {"direction": "inbound",
                                     "delete": [ans["added"][0]],
                                     "add": [row(n + 2)]})
        times["save_delete_add"].append(dt)
        n += 3
    for k, v in times.items():
        print(json.dumps({"bench": k, "groups": GROUPS, "instances": INSTANCES,
                          "rules": RULES, "requests": len(v),
                          "median_ms": round(statistics.median(v) * 1e3, 1),
                          "max_ms": round(max(v) * 1e3, 1)}))


try:
    main()
finally:
    if os.path.exists(pin):
        subprocess.run([SGCTL, "--pin-dir", pin, "unload"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)
