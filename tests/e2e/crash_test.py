#!/usr/bin/env python3
"""The kill -9 test: cmgdiag creates and ships bundles to Azurite (tests/lab/azurite.sh) and is
killed with SIGKILL at random moments — while checks run, while the bundle is spooled, in the middle
of an upload, while the spool is cleaned. Then it is left to recover (`cmgdiag flush` without a kill)
and the test proves:

  * every bundle id ever reported as created (log line "spooled bundle <id>") is in Azurite,
    exactly once, as a valid object (gzip, JSON, the bundle schema, the object name of its id);
  * nothing is left behind: no bundle and no half-written file in the spool, an empty quarantine
    (an atomic write never leaves a corrupt bundle).

    crash_test.py BINARY [--iterations N] [--seed S] [--max-delay-ms MS]

Exit 0 on success; prints one line with the iteration, kill and bundle counts."""
import argparse
import gzip
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "lab")
sys.path.insert(0, HERE)
from test_cli import schema_errors  # noqa: E402
from test_shipping import free_port  # noqa: E402


def sh(*args):
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--max-delay-ms", type=int, default=0,
                    help="kill within this many ms of the start (default: the measured length of a selftest)")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    binary = os.path.abspath(a.binary)
    lab = tempfile.mkdtemp(prefix="cmgdiag-crash-")
    port = free_port()
    sh("bash", os.path.join(LAB, "azurite.sh"), "start", lab, str(port))
    try:
        return run(a, rnd, binary, lab, port)
    finally:
        subprocess.run(["bash", os.path.join(LAB, "azurite.sh"), "stop", lab])
        shutil.rmtree(lab, ignore_errors=True)


def run(a, rnd, binary, lab, port):
    sas = sh("bash", os.path.join(LAB, "azurite.sh"), "sas", lab, str(port), "crash").strip()
    spool, log = os.path.join(lab, "spool"), os.path.join(lab, "cmgdiag.log")
    cfg = os.path.join(lab, "cmgdiag.json")
    with open(cfg, "w") as f:
        json.dump({"spool": {"dir": spool}, "log": {"file": log, "level": "debug", "max_bytes": 1073741824},
                   "state_dir": os.path.join(lab, "state"),
                   "checks": {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False}, "netenv": {"enabled": False},
                              "clientlogs": {"enabled": False}},
                   "delivery": {"retry_base_ms": 50, "retry_cap_ms": 500},
                   "outputs": [{"type": "azblob", "sas_url": sas, "ca_file": os.path.join(lab, "pki", "ca.pem")}]},
                  f)
    # Calibrate: kills spread over the whole life of a run, a little past its usual end.
    if not a.max_delay_ms:
        took = []
        for _ in range(3):
            t0 = time.time()
            subprocess.run([binary, "-c", cfg, "selftest"], capture_output=True)
            took.append(time.time() - t0)
        a.max_delay_ms = max(20, int(sorted(took)[1] * 1000 * 1.5))
    kills = 0
    for i in range(a.iterations):
        cmd = "selftest" if rnd.random() < 0.75 else "flush"
        p = subprocess.Popen([binary, "-c", cfg, cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0, a.max_delay_ms / 1000.0))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            kills += 1
        p.wait()
    # Recovery: the next undisturbed run ships whatever waits.
    for _ in range(3):
        r = subprocess.run([binary, "-c", cfg, "flush"], capture_output=True, text=True)
        if r.returncode == 0:
            break
    else:
        print(r.stdout, r.stderr)
        return fail("flush did not empty the spool after the kills")

    with open(log, encoding="utf-8", errors="replace") as f:
        created = set(re.findall(r"spooled bundle ([0-9a-f-]{36})", f.read()))
    dl = os.path.join(lab, "dl")
    got = json.loads(sh("bash", os.path.join(LAB, "azurite.sh"), "list", lab, str(port), "crash", dl))
    seen = {}
    for b in got:
        with open(b["file"], "rb") as f:
            raw = f.read()
        try:
            bundle = json.loads(gzip.decompress(raw))
        except (OSError, EOFError, ValueError) as e:
            return fail("blob %s is not a valid gzip JSON bundle: %s" % (b["name"], e))
        errs = schema_errors(bundle)
        if errs:
            return fail("blob %s breaks the schema: %s" % (b["name"], errs[:3]))
        if not b["name"].endswith("/%s.json.gz" % bundle["bundle_id"]):
            return fail("blob %s holds bundle %s" % (b["name"], bundle["bundle_id"]))
        if b["content_encoding"] != "gzip":
            return fail("blob %s lacks Content-Encoding: gzip" % b["name"])
        seen.setdefault(bundle["bundle_id"], []).append(b["name"])
    twice = {k: v for k, v in seen.items() if len(v) > 1}
    if twice:
        return fail("bundles stored more than once: %s" % twice)
    missing = created - set(seen)
    if missing:
        return fail("%d bundle(s) reported as created never arrived: %s" % (len(missing), sorted(missing)[:5]))
    left = [f for f in os.listdir(spool) if f != "quarantine" and f != "spool-state.json"]
    if left:
        return fail("left in the spool after recovery: %s" % left[:10])
    quarantined = os.listdir(os.path.join(spool, "quarantine"))
    if quarantined:
        return fail("corrupt files were quarantined: %s" % quarantined[:10])
    print("crash test: %d iterations, %d killed with SIGKILL, %d bundles reported created, %d in Azurite "
          "(each exactly once, all valid); kills within %d ms, seed %d"
          % (a.iterations, kills, len(created), len(seen), a.max_delay_ms, a.seed))
    return 0


def fail(msg):
    print("crash test FAILED: " + msg)
    return 1


if __name__ == "__main__":
    sys.exit(main())
