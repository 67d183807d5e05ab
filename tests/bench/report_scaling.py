#!/usr/bin/env python3
"""`cmgdiag report` is linear in distinct root causes and in devices: N and 4N bundles, each of its
own device with a root cause of its own; 4N may take at most 6 times as long as N (best of 3 runs,
so a busy moment does not decide). Before the causes had a hash index this was quadratic.

    report_scaling.py BINARY [N]"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def fleet(d, n):
    os.makedirs(d)
    for i in range(n):
        b = {"schema": "cmgdiag.bundle/1", "bundle_id": str(i), "created_at": "2026-11-30T08:00:00Z",
             "trigger": "schedule", "agent": {"version": "0.1.0"}, "device": {"hostname": "PC%06d" % i},
             "overall": "fail", "checks": [], "spool": {"pending": 0, "dropped_total": 0},
             "diagnosis": {"root_causes": [{"code": "CAUSE_%06d" % i, "say": "cause %d" % i, "first_step": "s",
                                            "source": "docs/diagnosis.md", "basis": "inferred",
                                            "evidence": ["x:y"], "explains": []}]}}
        with open(os.path.join(d, "%06d.json" % i), "w") as f:
            json.dump(b, f)


def best(binary, d):
    t = []
    for _ in range(3):
        t0 = time.monotonic()
        p = subprocess.run([binary, "report", d, "--jobs", "2"], capture_output=True, text=True)
        t.append(time.monotonic() - t0)
        if p.returncode != 0:
            sys.exit("report failed: %s" % p.stderr)
    return min(t)


def main():
    binary, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2500
    tmp = tempfile.mkdtemp(prefix="cmgdiag-report-scaling-")
    try:
        fleet(os.path.join(tmp, "a"), n)
        fleet(os.path.join(tmp, "b"), 4 * n)
        ta, tb = best(binary, os.path.join(tmp, "a")), best(binary, os.path.join(tmp, "b"))
        ratio = tb / ta if ta > 0 else 99
        print("report: %d distinct causes %.2f s, %d: %.2f s, ratio %.1f" % (n, ta, 4 * n, tb, ratio))
        if ratio > 6:
            sys.exit("FAIL: report time is not linear in distinct root causes (ratio %.1f)" % ratio)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
