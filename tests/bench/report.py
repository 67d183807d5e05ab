#!/usr/bin/env python3
"""Benchmark of `cmgdiag report` at fleet scale: generates DEVICES x DAYS bundles (default 100,000:
10,000 devices, 10 days; one bundle per device per day, each padded with the facts of a real
selftest bundle of this machine, about 5 KB of JSON, 1.9 KB gzip) with faults injected, runs the
report on 2 cores (taskset) with --html and --csv and its default threads, and prints the wall time
and the peak resident memory (wait4's usage of that child alone). Fails when the report takes more
than 60 s or 256 MB, or misses an injected fault.

The scaling test of the fleet issue is 1,000,000 bundles of 50,000 devices:
    report.py BINARY --devices 50000 --days 20 [--keep DIR]
(generating them takes about 5 minutes and 8 GB of disk; --keep DIR keeps them for another run).

    report.py BINARY [--devices N] [--days D] [--keep DIR]"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--devices", type=int, default=10000)
    ap.add_argument("--days", type=int, default=10)
    ap.add_argument("--keep")
    a = ap.parse_args()
    tmp = a.keep or tempfile.mkdtemp(prefix="cmgdiag-bench-report-")
    fleet = os.path.join(tmp, "fleet")
    os.makedirs(tmp, exist_ok=True)
    try:
        cfg = os.path.join(tmp, "empty.json")
        with open(cfg, "w") as f:
            f.write("{}")
        sample = os.path.join(tmp, "sample.json")
        with open(sample, "w") as f:
            subprocess.run([a.binary, "-c", cfg, "selftest", "--json", "--no-upload"], stdout=f, check=False)
        if not os.path.isdir(fleet):
            t0 = time.time()
            subprocess.run([sys.executable, os.path.join(HERE, "..", "tools", "make_fleet.py"), fleet, "--devices",
                            str(a.devices), "--days", str(a.days), "--pad", sample, "--bad"], check=True)
            print("generated %d bundles in %.1f s" % (a.devices * a.days, time.time() - t0))
        with open(fleet + ".expected.json") as f:
            expected = json.load(f)
        size = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(fleet) for n in ns)
        cores = ["taskset", "-c", "0,1"] if shutil.which("taskset") and os.cpu_count() >= 2 else []
        out_csv, out_html = os.path.join(tmp, "r.csv"), os.path.join(tmp, "r.html")
        t0 = time.time()
        err = open(os.path.join(tmp, "report.err"), "w+")
        p = subprocess.Popen(cores + [a.binary, "report", fleet, "--html", out_html, "--csv", out_csv],
                             stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)  # this child's own usage (taskset execs the report in place)
        wall = time.time() - t0
        rss_mb = ru.ru_maxrss / 1024.0
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            print(err.read())
            return 1
        with open(out_csv, encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        got = {}
        for r in rows:
            if r["root_cause"]:
                got[r["root_cause"]] = got.get(r["root_cause"], 0) + 1
        print("report: %d bundles (%.0f MB gzip on disk), %d devices on %s: %.1f s wall, %.1f s CPU, %.0f MB peak RSS"
              % (expected["bundles"], size / 1e6, len(rows), "2 cores" if cores else "all cores", wall,
                 ru.ru_utime + ru.ru_stime, rss_mb))
        ok = wall <= 60 and rss_mb <= 256 and got == expected["causes"] and len(rows) == expected["devices"]
        if got != expected["causes"]:
            print("root causes: got %s, expected %s" % (got, expected["causes"]))
        print("PASS" if ok else "FAIL: the goal is at most 60 s and 256 MB, every injected fault named")
        return 0 if ok else 1
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
