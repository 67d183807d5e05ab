#!/usr/bin/env python3
"""cmgprobe judged offline, curl-style (docs/checks/cmgprobe.md, "Transcripts"): each folder of
tests/data/cmgprobe holds a transcript recorded against the lab's CMG double (transcript.json:
every answer, handshake, fetch and verdict the probe was given) and what it gave there
(expected.json: status, code, and the settings it ran with). Replayed with `cmgdiag check cmgprobe
--input`, each must give the same status and code, with no network and at any date (the probe's
clock is the transcript's). Also: every code a transcript gives is one the probe knows, and the
list of the probe's codes without a transcript is printed.

    test_cmgprobe_data.py BINARY DATA_DIR SOURCE_ROOT"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

BIN = DATA = ROOT = None


def probe_codes():
    """The codes cmgprobe gives, from the table of their sources (classify.c)."""
    with open(os.path.join(ROOT, "plugins", "checks", "cmgprobe", "classify.c")) as f:
        return set(re.findall(r'\{"(CMG_[A-Z0-9_]+)",', f.read()))


class Transcripts(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-transcripts-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def replay(self, case):
        with open(os.path.join(DATA, case, "expected.json")) as f:
            want = json.load(f)
        cfg = os.path.join(self.tmp, "cmgdiag.json")
        with open(cfg, "w") as f:
            json.dump({"state_dir": os.path.join(self.tmp, "state"), "log": {"file": os.path.join(self.tmp, "log")},
                       "checks": {"cmgprobe": want["settings"]}}, f)
        # the files the settings named were the lab's: the transcript answers for them
        sets = []
        for k in want.get("files", []):
            sets += ["--set", "%s=%s" % (k, os.path.join(self.tmp, "recorded-" + k))]
        p = subprocess.run([BIN, "-c", cfg, "check", "cmgprobe", "--input", os.path.join(DATA, case, "transcript.json"),
                            "--json"] + sets, capture_output=True, text=True, timeout=60)
        self.assertTrue(p.stdout.strip(), "%s: %s" % (case, p.stderr))
        return want, json.loads(p.stdout)

    def test_every_transcript_gives_its_verdict(self):
        cases = sorted(d for d in os.listdir(DATA) if os.path.isfile(os.path.join(DATA, d, "transcript.json")))
        self.assertGreater(len(cases), 20, "the data set is missing (tests/data/cmgprobe/record.sh makes it)")
        known, seen = probe_codes(), set()
        for case in cases:
            with self.subTest(case=case):
                want, got = self.replay(case)
                self.assertEqual((got["status"], got["code"]), (want["status"], want["code"]), got["summary"])
                self.assertEqual(got["facts"]["source"], "transcript")
                self.assertIn(want["code"], known | {"CMG_OK", "CMG_TLS_OK"}, "not a code of the probe")
                seen.add(want["code"])
        print("cmgprobe codes with a transcript: %d of %d; without one: %s" %
              (len(seen & known), len(known), ", ".join(sorted(known - seen)) or "none"), file=sys.stderr)

    def test_a_transcript_of_another_probe_is_not_judged(self):
        case = sorted(d for d in os.listdir(DATA) if os.path.isdir(os.path.join(DATA, d)))[0]
        with open(os.path.join(DATA, case, "transcript.json")) as f:
            t = json.load(f)
        for name, mutate in (("an answer missing", lambda t: t["events"].pop()),
                             ("another URL", lambda t: [e.update(url="https://other.example/x") for e in t["events"]
                                                         if e["kind"] == "http"]),
                             ("an event of another kind", lambda t: t["events"].insert(0, {"kind": "now", "ms": 0}))):
            with self.subTest(name):
                bad = json.loads(json.dumps(t))
                mutate(bad)
                path = os.path.join(self.tmp, "bad.json")
                with open(path, "w") as f:
                    json.dump(bad, f)
                with open(os.path.join(DATA, case, "expected.json")) as f:
                    want = json.load(f)
                cfg = os.path.join(self.tmp, "cmgdiag.json")
                with open(cfg, "w") as f:
                    json.dump({"log": {"file": os.path.join(self.tmp, "log")}, "checks": {"cmgprobe": want["settings"]}}, f)
                p = subprocess.run([BIN, "-c", cfg, "check", "cmgprobe", "--input", path, "--json"], capture_output=True,
                                   text=True, timeout=60)
                r = json.loads(p.stdout)
                self.assertEqual((r["status"], r["code"]), ("error", "CMGPROBE_TRANSCRIPT_MISMATCH"), r["summary"])
        for text in ("", "{", '{"schema": "x"}', "[]", '{"schema": "cmgdiag.cmgprobe-transcript/1"}'):
            with self.subTest(text=text):
                path = os.path.join(self.tmp, "garbage.json")
                with open(path, "w") as f:
                    f.write(text)
                p = subprocess.run([BIN, "check", "cmgprobe", "--input", path, "--json"], capture_output=True,
                                   text=True, timeout=60)
                r = json.loads(p.stdout)
                self.assertEqual(r["code"], "CMGPROBE_UNPARSEABLE", r["summary"])


if __name__ == "__main__":
    BIN, DATA, ROOT = (os.path.abspath(a) for a in sys.argv[1:4])
    unittest.main(argv=sys.argv[:1] + sys.argv[4:], verbosity=2)
