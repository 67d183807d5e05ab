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


def check_evidence(tc, what, claim):
    """basis is documented or inferred; a documented claim carries the source's sentence (quote) and
    cites a Microsoft page; an inferred one may cite this repository's docs."""
    tc.assertIn(claim.get("basis"), ("documented", "inferred"), "%s has no basis" % what)
    if claim["basis"] == "documented":
        q = claim.get("quote", "")
        tc.assertTrue(isinstance(q, str) and len(q) >= 20 and q.strip() == q,
                      "%s is documented but carries no quote of its source" % what)
        tc.assertTrue(claim["source"].startswith("https://learn.microsoft.com/"),
                      "%s is documented by %s, not a Microsoft page" % (what, claim["source"]))


# Codes that are an HTTP answer: TLS worked for them, so no TLS, CRL or trust cause explains them.
HTTP_ANSWERS = {"content:CONTENT_HTTP_ERROR", "cmgprobe:CMG_PARTIAL", "cmgprobe:CMG_HTTP_401",
                "cmgprobe:CMG_HTTP_403", "cmgprobe:CMG_HTTP_5XX", "cmgprobe:CMG_HTTP_UNEXPECTED",
                "cmgprobe:CMG_MPLIST_EMPTY", "cmgprobe:CMG_MPLIST_INVALID", "clientlogs:LOG_BAD_HTTP_STATUS",
                "clientlogs:LOG_CMG_FORBIDDEN", "clientlogs:LOG_CMG_CLIENT_CERT_REQUIRED",
                "clientlogs:LOG_CMG_UNAUTHORIZED", "clientlogs:LOG_CMG_INVALID_TOKEN", "clientlogs:LOG_BITS_HTTP_ERROR"}
# The device's own credentials: the anonymous probe sends none, so its answers are never theirs.
CREDENTIAL_RULES = {"NO_ENTRA_DEVICE_TOKEN", "NO_CLIENT_CERTIFICATE", "SITE_TOKEN_EXPIRED", "TENANT_NOT_ONBOARDED"}
TLS_RULES = {"CMG_CRL_UNREACHABLE", "CMG_CERT_NOT_TRUSTED", "TLS12_OFF"}


class Sources(unittest.TestCase):
    def test_every_claim_carries_its_evidence(self):
        with open(os.path.join(ROOT, "plugins/checks/clientlogs/signatures.json"), encoding="utf-8") as f:
            for sig in json.load(f)["signatures"]:
                check_evidence(self, "signature " + sig["code"], sig)
        with open(os.path.join(ROOT, "agent/diagnosis/rules.json"), encoding="utf-8") as f:
            for r in json.load(f)["rules"]:
                check_evidence(self, "rule " + r["id"], r)
        d = os.path.join(ROOT, "plugins/checks/cmgprobe")
        with open(os.path.join(d, "evidence.json"), encoding="utf-8") as f:
            ev = json.load(f)["codes"]
        with open(os.path.join(d, "classify.c"), encoding="utf-8") as f:
            classify = f.read()
        table = dict(re.findall(r'\{"(CMG_[A-Z0-9_]+)", ([A-Z0-9_]+|"[^"]+")\}', classify))
        macros = dict(re.findall(r'#define (MS_[A-Z0-9_]+) "([^"]+)"', classify))
        self.assertEqual(sorted(ev), sorted(table), "evidence.json and classify.c's table list other codes")
        for code, src in table.items():
            self.assertEqual(ev[code]["source"], macros.get(src, src.strip('"')), "%s: two sources" % code)
            check_evidence(self, "probe code " + code, ev[code])

    def test_a_documented_claim_without_a_quote_fails_here(self):
        with self.assertRaises(AssertionError):
            check_evidence(self, "x", {"basis": "documented", "source": "https://learn.microsoft.com/x"})
        with self.assertRaises(AssertionError):
            check_evidence(self, "x", {"basis": "documented", "source": "docs/x.md", "quote": "a sentence long enough"})
        check_evidence(self, "x", {"basis": "inferred", "source": "docs/x.md"})

    def test_rules_explain_only_what_they_can_cause(self):
        with open(os.path.join(ROOT, "agent/diagnosis/rules.json"), encoding="utf-8") as f:
            rules = {r["id"]: r for r in json.load(f)["rules"]}
        for rid in CREDENTIAL_RULES:
            probe = [x for x in rules[rid]["explains"] if x.startswith("cmgprobe:CMG_HTTP_")]
            self.assertEqual(probe, [], "%s explains the anonymous probe's answer" % rid)
        for rid in TLS_RULES:
            http = sorted(set(rules[rid]["explains"]) & HTTP_ANSWERS)
            self.assertEqual(http, [], "%s (a TLS, CRL or trust cause) explains an HTTP answer" % rid)
        clock = rules["CLOCK_WRONG"]
        self.assertNotIn("clientlogs:LOG_CMG_INVALID_TOKEN", clock["explains"], "the server decides a token's lifetime")
        for x in clock["explains"]:
            self.assertIn(x, clock.get("explains_when", {}), "CLOCK_WRONG explains %s whatever the skew" % x)
        self.assertEqual(rules["SITE_TOKEN_EXPIRED"].get("when"), "token_client")

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
        # 0x87D00454 is CCM_E_NO_CLIENT_PKI_CERT, not "content is not on the CMG"
        self.assertIn("0x87d00454", sigs["LOG_CLIENT_CERT_NEEDED"]["any"])
        self.assertNotIn("0x87d00454", sigs["LOG_CONTENT_DOWNLOAD_FAILED"].get("any", []))
        self.assertNotIn("not allowed on the management point", sigs["LOG_BAD_HTTP_STATUS"]["remediation"])
        # a success written inside a failure is no success
        self.assertIn("queued event", sigs["LOG_REQUEST_OK"]["none"])
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
