#!/usr/bin/env python3
"""Shipping figures, measured against the lab (tests/lab/azurite.sh):

  * bundle size, raw JSON and gzip (the configured level, 6), of a healthy device and of a
    worst-case one, built from the checks' real-world fixtures (tests/data/);
  * drain rate: N bundles spooled while the collection point was down, then `cmgdiag flush` to
    Azurite over HTTPS; bundles per second, median of RUNS drains of the same spool copy.

    shipping.py BINARY [--bundles N] [--runs R]"""
import argparse
import gzip
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
LAB = os.path.join(ROOT, "tests", "lab")
DATA = os.path.join(ROOT, "tests", "data")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sh(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def config(path, tmp, checks, outputs, **extra):
    c = {"spool": {"dir": os.path.join(tmp, "spool"), "max_files": 100000, "max_bytes": 1 << 30},
         "state_dir": os.path.join(tmp, "state"), "log": {"file": os.path.join(tmp, "cmgdiag.log")},
         "checks": checks, "outputs": outputs}
    c.update(extra)
    with open(path, "w") as f:
        json.dump(c, f)


def bundle_size(binary, tmp, aad, mp, logs, probe=None):
    """Raw and gzip size of a selftest bundle from captures; `probe` is the cmgprobe config (None:
    off, as without a CMG double)."""
    cfg = os.path.join(tmp, "size.json")
    config(cfg, tmp, {"aadjoin": {"input": os.path.join(DATA, "aadjoin", aad)},
                      "mpcandidates": {"input": os.path.join(DATA, "mpcandidates", mp)},
                      "clientlogs": {"input": os.path.join(DATA, "clientlogs", logs)},
                      "cmgprobe": probe or {"enabled": False}}, [])
    out = subprocess.run([binary, "-c", cfg, "selftest", "--json", "--no-upload"], capture_output=True).stdout
    b = json.loads(out)
    # As the agent ships it: compact JSON, gzip level 6 (delivery.gzip_level).
    raw = json.dumps(b, separators=(",", ":"), ensure_ascii=False).encode()
    return len(raw), len(gzip.compress(raw, 6)), b["overall"], [c["code"] for c in b["checks"]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--bundles", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    tmp = tempfile.mkdtemp(prefix="cmgdiag-bench-ship-")
    try:
        for label, args in (("healthy", ("01-entra-joined-win11.txt", "02-single-cmg-serverauth-ps51-utf16le.json", "clean")),
                            ("worst case", ("25-hybrid-several-warnings.txt", "01-get-ciminstance-convertto-json-ps7.json",
                                            "variants"))):
            raw, gz, overall, codes = bundle_size(binary, tmp, *args)
            print("bundle size, %-10s  %6d bytes JSON, %5d bytes gzip  (overall %s: %s)"
                  % (label, raw, gz, overall, ", ".join(codes)))
        drain(a, binary, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def drain(a, binary, tmp):
    lab = os.path.join(tmp, "lab")
    port = free_port()
    sh("bash", os.path.join(LAB, "azurite.sh"), "start", lab, str(port))
    try:
        # Spool N real selftest bundles while nothing listens (one attempt each).
        seed = os.path.join(tmp, "seed")
        cfg = os.path.join(tmp, "spool.json")
        off = {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False}, "clientlogs": {"enabled": False}}
        os.makedirs(seed)
        config(cfg, seed, off, [{"type": "http", "url": "http://127.0.0.1:%d/x" % free_port()}],
               delivery={"max_attempts": 1, "max_bundles": 1})
        t0 = time.time()
        for _ in range(a.bundles):
            subprocess.run([binary, "-c", cfg, "selftest"], capture_output=True)
        n = len([f for f in os.listdir(os.path.join(seed, "spool")) if f.endswith(".json.gz")])
        if n != a.bundles:
            sys.exit("spooled %d bundles, wanted %d" % (n, a.bundles))
        spool_s = time.time() - t0
        rates = []
        for r in range(a.runs):
            run = os.path.join(tmp, "run%d" % r)
            shutil.copytree(seed, run)
            sas = sh("bash", os.path.join(LAB, "azurite.sh"), "sas", lab, str(port), "drain%d" % r).strip()
            cfg = os.path.join(run, "flush.json")
            config(cfg, run, off, [{"type": "azblob", "sas_url": sas, "ca_file": os.path.join(lab, "pki", "ca.pem")}],
                   delivery={"max_bundles": 100000, "drain_budget_s": 3600})
            t0 = time.time()
            p = subprocess.run([binary, "-c", cfg, "flush"], capture_output=True, text=True)
            took = time.time() - t0
            m = re.search(r"Shipped (\d+) bundle", p.stdout)
            if p.returncode != 0 or not m or int(m.group(1)) != a.bundles:
                sys.exit("flush failed: %s %s" % (p.stdout, p.stderr))
            rates.append(a.bundles / took)
        listed = json.loads(sh("bash", os.path.join(LAB, "azurite.sh"), "list", lab, str(port), "drain0"))
        if len(listed) != a.bundles:
            sys.exit("Azurite holds %d blobs, wanted %d" % (len(listed), a.bundles))
        print("drain to Azurite: %d bundles (%.0f bytes gzip each) in a median %.2f s = %.0f bundles/s "
              "(runs: %s; spooling them took %.1f s)"
              % (a.bundles, statistics.mean(b["size"] for b in listed), a.bundles / statistics.median(rates),
                 statistics.median(rates), ", ".join("%.0f" % r for r in rates), spool_s))
    finally:
        subprocess.run(["bash", os.path.join(LAB, "azurite.sh"), "stop", lab])


if __name__ == "__main__":
    main()
