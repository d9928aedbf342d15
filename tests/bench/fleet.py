#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
"""The fleet part of `make bench`: edit-to-enforcement time on every agent.

A private etcd on loopback (free ports, temporary data dir), N agents
(default 10), each with its own pin dir and --host, no interfaces: every
instance is placed on one of the hosts (host-K), so each agent compiles and
slots its share and lends the rest's addresses. Measured:
  - one membership change (`sgctl instance set-groups ... --etcd`): from the
    edit command's start to the last agent's applied_at;
  - 1,000 changes in one push (every instance joins sg-hub);
  - each agent's apply_ms and entries written/deleted for the change;
  - agents at idle: RSS and CPU ticks over a few seconds.
Prints one JSON object per line (kind fleet_change / fleet_idle).
usage: fleet.py SGCTL [AGENTS]     (root: pins under /sys/fs/bpf)
"""
import json, os, random, shutil, signal, socket, subprocess, sys, tempfile, time

SGCTL = os.path.abspath(sys.argv[1])
NAGENTS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
SHAPES = [  # name, groups, rules, instances, groups per instance
    ("lab", 10, 5, 30, 2),
    ("1000-instances", 100, 60, 1000, 3),
]
tmp = tempfile.mkdtemp(prefix="sgctl-bench-fleet.")
pins = [f"/sys/fs/bpf/sgctl-bench-fleet-{os.getpid()}-{i}" for i in range(NAGENTS)]
procs = []


def free_port():
    while True:
        p = random.randint(23000, 29998)
        ok = True
        for q in (p, p + 1):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", q))
                except OSError:
                    ok = False
        if ok:
            return p


def cleanup():
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
    for pin in pins:
        if os.path.exists(pin):
            subprocess.run([SGCTL, "--pin-dir", pin, "unload"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(tmp, ignore_errors=True)


def sgctl(*args, check=True):
    r = subprocess.run([SGCTL, *args], capture_output=True, text=True)
    if check and r.returncode:
        raise SystemExit(f"fleet bench: sgctl {' '.join(args)}: {r.stderr.strip()}")
    return r


def placed(text, n):
    """Every instance gets host: host-(K mod n)."""
    out, k = [], 0
    for line in text.splitlines():
        out.append(line)
        if line.startswith("  i-") and line.endswith(":"):
            out.append(f"    host: host-{k % n}")
            k += 1
    return "\n".join(out) + "\n"


def all_join_hub(text):
    return "\n".join(
        l.replace("]", ", sg-hub]") if l.startswith("    security_groups:")
        and "sg-hub" not in l else l for l in text.splitlines()) + "\n"


class Agent:
    def __init__(self, i, url):
        self.out = open(f"{tmp}/agent-{i}.out", "w+")
        self.p = subprocess.Popen(
            [SGCTL, "agent", "--etcd", url, "--host", f"host-{i}", "--vpc",
             "vpc-bench", "--pin-dir", pins[i], "-j"],
            stdout=self.out, stderr=subprocess.DEVNULL)
        procs.append(self.p)
        self.pos, self.seen = 0, []

    def lines(self):
        self.out.flush()
        with open(self.out.name) as f:
            f.seek(self.pos)
            data = f.read()
        # Only whole lines.
        cut = data.rfind("\n") + 1
        self.pos += cut
        for l in data[:cut].splitlines():
            try:
                o = json.loads(l)
            except ValueError:
                continue
            if "revision" in o and "applied_at" in o:
                self.seen.append(o)
        return self.seen

    def applied(self, rev):
        for o in self.lines():
            if o["revision"] >= rev:
                return o
        return None


def wait_all(agents, rev, limit=120):
    end = time.time() + limit
    while time.time() < end:
        got = [a.applied(rev) for a in agents]
        if all(got):
            return got
        time.sleep(0.005)
    raise SystemExit(f"fleet bench: not every agent applied revision {rev}")


def idle(agents, seconds=5):
    def ticks(pid):
        with open(f"/proc/{pid}/stat") as f:
            v = f.read().rsplit(")", 1)[1].split()
        return int(v[11]) + int(v[12])

    def rss(pid):
        with open(f"/proc/{pid}/status") as f:
            for l in f:
                if l.startswith("VmRSS:"):
                    return int(l.split()[1])
        return 0
    t0 = [ticks(a.p.pid) for a in agents]
    time.sleep(seconds)
    t1 = [ticks(a.p.pid) for a in agents]
    return {"idle_s": seconds,
            "cpu_ticks": sum(b - a for a, b in zip(t0, t1)),
            "rss_kib_max": max(rss(a.p.pid) for a in agents)}


def main():
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    etcd = subprocess.Popen(
        ["etcd", "--name", "bench", "--data-dir", f"{tmp}/etcd",
         "--listen-client-urls", url, "--advertise-client-urls", url,
         "--listen-peer-urls", f"http://127.0.0.1:{port + 1}",
         "--initial-advertise-peer-urls", f"http://127.0.0.1:{port + 1}",
         "--initial-cluster", f"bench=http://127.0.0.1:{port + 1}",
         "--max-txn-ops", "100000", "--quota-backend-bytes", str(4 << 30)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(etcd)
    for _ in range(100):
        if subprocess.run(["etcdctl", "--endpoints", url, "endpoint", "health"],
                          capture_output=True,
                          env={**os.environ, "ETCDCTL_API": "3"}).returncode == 0:
            break
        time.sleep(0.1)
    agents = None
    for name, g, r, n, k in SHAPES:
        shape = ["--groups", str(g), "--rules", str(r), "--instances", str(n),
                 "--per-instance", str(k)]
        base = placed(sgctl("bench", "gen", "cp", *shape).stdout, NAGENTS)
        with open(f"{tmp}/{name}.yaml", "w") as f:
            f.write(base)
        rev = json.loads(sgctl("push", f"{tmp}/{name}.yaml", "--etcd", url, "-j").stdout)["revision"]
        if agents is None:
            agents = [Agent(i, url) for i in range(NAGENTS)]
        wait_all(agents, rev, 600)
        time.sleep(1)
        print(json.dumps({"kind": "fleet_idle", "shape": name, "agents": NAGENTS,
                          "instances": n, **idle(agents)}), flush=True)
        # One membership change: i-0 joins sg-hub, as an edit command.
        t0 = time.time()
        out = sgctl("instance", "set-groups", "i-0",
                    *[f"sg-g{j % g}" for j in range(k)], "sg-hub",
                    "--etcd", url, "--vpc", "vpc-bench", "-j").stdout
        rev = json.loads(out)["revision"]
        got = wait_all(agents, rev)
        report(name, "1 change (instance set-groups)", 1, t0, got, n)
        # 1,000 changes in one push (every instance joins sg-hub; the
        # lab shape has fewer instances: all of them).
        with open(f"{tmp}/{name}-all.yaml", "w") as f:
            f.write(all_join_hub(base))
        t0 = time.time()
        rev = json.loads(sgctl("push", f"{tmp}/{name}-all.yaml", "--etcd", url, "-j").stdout)["revision"]
        got = wait_all(agents, rev, 600)
        report(name, f"{n - 1} changes (one push)", n - 1, t0, got, n)


def report(shape, what, changes, t0, got, n):
    lat = [o["applied_at"] - t0 for o in got]
    print(json.dumps({
        "kind": "fleet_change", "shape": shape, "instances": n, "change": what,
        "changes": changes, "agents": len(got),
        "edit_to_all_ms": round(max(lat) * 1000, 1),
        "edit_to_first_ms": round(min(lat) * 1000, 1),
        "apply_ms_median": sorted(o.get("apply_ms", 0) for o in got)[len(got) // 2],
        "entries_written_max": max(o.get("entries_written", 0) for o in got),
        "entries_deleted_max": max(o.get("entries_deleted", 0) for o in got),
        "incremental": sum(1 for o in got if o.get("incremental")),
    }), flush=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(130))
    try:
        main()
    finally:
        cleanup()
