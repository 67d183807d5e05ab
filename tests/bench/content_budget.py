#!/usr/bin/env python3
"""The content check never reads more than its byte budget: it downloads the lab's 64 MB object
(unthrottled) with budgets from 64 KiB to 32 MiB and prints, for each, what the check kept, what
nginx reports it sent for that request, and the wall time. Exit 1 when the check kept more than its
budget. nginx's figure can be a little higher: bytes already in flight when the check stopped.

    content_budget.py BINARY"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from test_cmgprobe import start_cmg_lab, stop_cmg_lab  # noqa: E402


def main():
    binary = os.path.abspath(sys.argv[1])
    lab, ports = start_cmg_lab()
    tmp = tempfile.mkdtemp(prefix="cmgdiag-budget-")
    cfg = os.path.join(tmp, "c.json")
    with open(cfg, "w") as f:
        json.dump({"spool": {"dir": os.path.join(tmp, "spool")}, "log": {"file": os.path.join(tmp, "l.log")}}, f)
    access = os.path.join(lab, "logs", "access.log")
    bad = 0
    print("%-10s %14s %16s %8s" % ("budget", "check kept", "nginx sent", "seconds"))
    try:
        for budget in (65536, 1 << 20, 8 << 20, 32 << 20):
            before = os.path.getsize(access) if os.path.exists(access) else 0
            t0 = time.monotonic()
            out = subprocess.run([binary, "-c", cfg, "check", "content", "--json",
                                  "--set", "urls=https://cmg.lab.test:%d/content/fast" % ports["good"],
                                  "--set", "resolve=cmg.lab.test:%d:127.0.0.1" % ports["good"],
                                  "--set", "ca_file=%s" % ports["root"], "--set", "max_bytes=%d" % budget],
                                 capture_output=True, text=True).stdout
            dt = time.monotonic() - t0
            kept = json.loads(out)["facts"]["urls"][0]["bytes"]
            time.sleep(0.2)  # nginx logs the request when it ends
            with open(access) as f:
                f.seek(before)
                lines = [l for l in f.read().splitlines() if "/content/fast" in l]
            sent = int(lines[-1].split('"')[2].split()[1]) if lines else -1
            bad += kept > budget
            print("%-10d %14d %16d %8.2f%s" % (budget, kept, sent, dt, "  OVER BUDGET" if kept > budget else ""))
    finally:
        stop_cmg_lab(lab)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
