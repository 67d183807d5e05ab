#!/usr/bin/env python3
"""Every cause and fix cmgdiag states comes from a source, recorded next to it in the data:
- every built-in clientlogs signature has a "source" (a Microsoft Learn URL, or a docs/ page of
  this repository where Microsoft is silent), and a docs/ page it names exists;
- every code the cmgprobe sources can report is in classify.c's source table, with a source;
- every diagnosis rule (agent/diagnosis/rules.json) has a source and names codes its checks report;
- every fix of the Intune remediation script (packaging/intune/remediate.ps1) has a source and
  fixes a code a check reports.
A signature or a code added without a source fails here.

    test_sources.py REPO_ROOT"""
import json
import os
import re
import sys
import unittest

ROOT = None


def codes_by_check(root):
    """Every code each check's sources (.c, .json) can report: {check: {code, ...}}."""
    emitted = {}
    base = os.path.join(root, "plugins", "checks")
    for check in sorted(os.listdir(base)):
        codes = set()
        for dirpath, _, names in os.walk(os.path.join(base, check)):
            for n in names:
                if n.endswith((".c", ".json")):
                    with open(os.path.join(dirpath, n), encoding="utf-8") as f:
                        codes |= set(re.findall(r'"([A-Z][A-Z0-9]*_[A-Z0-9_]+)"', f.read()))
        emitted[check] = codes
    return emitted


def valid_source(s):
    if s.startswith("https://learn.microsoft.com/"):
        return True
    if s.startswith("docs/"):
        return os.path.isfile(os.path.join(ROOT, s.split("#")[0]))
    return False


class Sources(unittest.TestCase):
    def test_every_clientlogs_signature_has_a_source(self):
        with open(os.path.join(ROOT, "plugins/checks/clientlogs/signatures.json"), encoding="utf-8") as f:
            sigs = json.load(f)["signatures"]
        self.assertGreater(len(sigs), 30)
        for s in sigs:
            self.assertIn("source", s, s["code"])
            self.assertTrue(valid_source(s["source"]), "%s: %s" % (s["code"], s["source"]))

    def test_the_three_cmg_answers_say_what_microsoft_says(self):
        with open(os.path.join(ROOT, "plugins/checks/clientlogs/signatures.json"), encoding="utf-8") as f:
            sigs = {s["code"]: s for s in json.load(f)["signatures"]}
        self.assertIn("connection point", sigs["LOG_CMG_CLIENT_CERT_REQUIRED"]["summary"])
        self.assertIn("443", sigs["LOG_CMG_FORBIDDEN"]["summary"])
        self.assertIn("30 days", sigs["LOG_CMG_INVALID_TOKEN"]["summary"])
        self.assertIn("content", sigs["LOG_CONTENT_DOWNLOAD_FAILED"]["summary"].lower())
        self.assertEqual(sigs["LOG_CONTENT_DOWNLOAD_FAILED"]["severity"], "fail")
        self.assertIn("0x801901", sigs["LOG_BITS_HTTP_ERROR"]["any"])

    def test_every_cmgprobe_code_has_a_source(self):
        d = os.path.join(ROOT, "plugins/checks/cmgprobe")
        with open(os.path.join(d, "classify.c"), encoding="utf-8") as f:
            classify = f.read()
        table = dict(re.findall(r'\{"(CMG_[A-Z0-9_]+)", ([A-Z0-9_]+|"[^"]+")\}', classify))
        macros = dict(re.findall(r'#define (MS_[A-Z0-9_]+) "([^"]+)"', classify))
        used = set()
        for n in os.listdir(d):
            if n.endswith(".c"):
                with open(os.path.join(d, n), encoding="utf-8") as f:
                    used |= set(re.findall(r'"(CMG_[A-Z0-9_]+)"', f.read()))
        self.assertGreater(len(used), 30)
        for code in sorted(used):
            self.assertIn(code, table, "%s has no source in classify.c" % code)
            src = table[code]
            src = macros.get(src, src.strip('"'))
            self.assertTrue(valid_source(src), "%s: %s" % (code, src))

    def test_every_diagnosis_rule_has_a_source_and_names_real_codes(self):
        with open(os.path.join(ROOT, "agent/diagnosis/rules.json"), encoding="utf-8") as f:
            rules = json.load(f)["rules"]
        self.assertGreaterEqual(len(rules), 10)
        emitted = codes_by_check(ROOT)
        ids = set()
        for r in rules:
            self.assertNotIn(r["id"], ids, "two rules with id %s" % r["id"])
            ids.add(r["id"])
            self.assertTrue(valid_source(r["source"]), "%s: %s" % (r["id"], r["source"]))
            self.assertIn(r.get("basis"), ("documented", "inferred"), r["id"])
            for p in r["cause"] + r["explains"]:
                check, code = p.split(":", 1)
                self.assertIn(check, emitted, "%s names the unknown check %s" % (r["id"], check))
                if not code.endswith("*"):
                    self.assertIn(code, emitted[check], "%s: %s never reports %s" % (r["id"], check, code))

    def test_every_intune_remediation_has_a_source_and_a_real_code(self):
        # packaging/intune/remediate.ps1 fixes only codes a check reports, each with its source
        with open(os.path.join(ROOT, "packaging/intune/remediate.ps1"), encoding="utf-8") as f:
            text = f.read()
        fixes = re.findall(r"@\{ Code = '([A-Z0-9_]+)'; Does = '[^']+'\s+Source = '([^']+)'", text)
        self.assertGreaterEqual(len(fixes), 3, "no fix table found")
        emitted = set().union(*codes_by_check(ROOT).values())
        for code, src in fixes:
            self.assertIn(code, emitted, "remediate.ps1 fixes %s, which no check reports" % code)
            self.assertTrue(valid_source(src), "%s: %s" % (code, src))
        self.assertEqual(text.count("@{ Code = "), len(fixes), "a fix without its source")
        with open(os.path.join(ROOT, "packaging/intune/detect.ps1"), encoding="utf-8") as f:
            detect = f.read()
        self.assertIn("validate --profile pre-upgrade", detect)


if __name__ == "__main__":
    ROOT = os.path.abspath(sys.argv[1])
    unittest.main(argv=sys.argv[:1], verbosity=2)
