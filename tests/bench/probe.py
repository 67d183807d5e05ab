#!/usr/bin/env python3
"""CPU and wall time of one `cmgdiag check cmgprobe` against the lab's healthy CMG double, next to
the curl command-line tool fetching the same MP list URL (same trust, same --resolve). Medians.

    probe.py BINARY [--runs N]"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "lab")


def measure(cmd, runs):
    cpu, wall = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True)
        wall.append((time.perf_counter() - t0) * 1000)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
        if r.returncode not in (0,):
            raise SystemExit("%s failed: %s" % (cmd[0], r.stdout[-500:] + r.stderr[-500:]))
    return statistics.median(cpu), statistics.median(wall)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--runs", type=int, default=21)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="cmgdiag-bench-probe-")
    base = 0
    for _ in range(50):
        import random
        base = random.randrange(20000, 32000)  # below the ephemeral ports
        try:
            for p in range(base, base + 26):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
            break
        except OSError:
            continue
    subprocess.run(["bash", os.path.join(LAB, "cmg-lab.sh"), "start", os.path.join(tmp, "lab"), str(base)], check=True)
    try:
        port = base + 1
        root = os.path.join(tmp, "lab", "pki", "root.pem")
        url = "https://cmg.lab.test:%d/CCM_Proxy_ServerAuth/72057594037927939/SMS_MP/.sms_aut?mplist" % port
        resolve = "cmg.lab.test:%d:127.0.0.1" % port
        rows = []
        for label, rev in (("cmgdiag check cmgprobe (2 requests + 2 CRL fetches)", True),
                           ("cmgdiag check cmgprobe, check_revocation off (2 requests)", False)):
            cfg = os.path.join(tmp, "c%d.json" % rev)
            with open(cfg, "w") as f:
                json.dump({"spool": {"dir": os.path.join(tmp, "spool")}, "log": {"file": os.path.join(tmp, "l.log")},
                           "state_dir": os.path.join(tmp, "state"),
                           "checks": {"cmgprobe": {"url": url.split("/SMS_MP")[0], "resolve": [resolve], "ca_file": root,
                                                   "check_revocation": rev}}}, f)
            rows.append((label,) + measure([os.path.abspath(a.binary), "-c", cfg, "check", "cmgprobe"], a.runs))
        rows.append(("curl -s --cacert ROOT --resolve ... MPLIST_URL (1 request)",) +
                    measure(["curl", "-s", "-o", "/dev/null", "--cacert", root, "--resolve", resolve, url], a.runs))
        for label, cpu, wall in rows:
            print("%-62s CPU %6.1f ms   wall %6.1f ms" % (label, cpu, wall))
        print("probe CPU / curl CPU: %.2f (median of %d runs each)" % (rows[0][1] / rows[2][1], a.runs))
    finally:
        subprocess.run(["bash", os.path.join(LAB, "cmg-lab.sh"), "stop", os.path.join(tmp, "lab")])
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
