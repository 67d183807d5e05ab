#!/usr/bin/env python3
"""The request a PKI client makes: `cmgdiag check cmgprobe` with `client_cert`/`client_key` against
the CMG double's mutual-TLS paths (tests/lab/cmg-lab.sh ports mtls, mtls_alert and inspect):

  mtls        nginx, ssl_verify_client on: refuses with HTTP 400 and a sentence
  mtls_alert  Python's ssl (OpenSSL), CERT_REQUIRED: refuses with a TLS alert after the handshake
  inspect     a TLS-inspecting forwarder re-signing the CMG's names with its own CA (trusted here,
              as an inspection root is on the devices behind it), asking for no client certificate

Client certificates (tests/lab/pki-cmg.sh): client-good (its CA uploaded to the CMG, CRL published),
client-other (another organisation's CA), client-expired, client-revoked, client-nocrl (a CA whose
CRL nobody can fetch). Every case asserts the code, the words an admin acts on, and the facts.

    test_mutual_tls.py BINARY [--wine]"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import test_cli
import transcripts
from test_cli import native_path, own_capture, run
from test_cmgprobe import DATA, MP, start_cmg_lab, stop_cmg_lab

LAB_DIR = None
PORTS = None
DEADLINE_MS = 8000
REFUSING = ("mtls", "mtls_alert")  # the two forms of refusal a server can take


def wine_deadline():
    """The probe's deadline: under wine beside the Windows tier's other suites on two cores, 8 s was
    seen to pass before a healthy answer (CMG_SLOW_RESPONSE); no test here is about the deadline."""
    return DEADLINE_MS * 3 if test_cli.WINE else DEADLINE_MS


def setUpModule():
    global LAB_DIR, PORTS
    LAB_DIR, PORTS = start_cmg_lab()


def tearDownModule():
    stop_cmg_lab(LAB_DIR)


class MutualTls(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-mtls-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def pki(self, name):
        return os.path.join(PORTS["pki"], name)

    def config(self, case, cert=None, roots=("root.pem",), extra=None, checks=None):
        port = PORTS[case]
        ca = os.path.join(self.tmp, "trust.pem")
        with open(ca, "w") as f:
            for r in roots:
                with open(self.pki(r)) as g:
                    f.write(g.read())
        c = {"url": "https://cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (port, MP),
             "resolve": ["cmg.lab.test:%d:127.0.0.1" % port], "timeout_ms": wine_deadline(), "connect_timeout_ms": 2000,
             "ca_file": native_path(own_capture(ca, self.tmp))}
        if cert:
            c["client_cert"] = native_path(own_capture(self.pki(cert + ".pem"), self.tmp))
            c["client_key"] = native_path(own_capture(self.pki(cert + ".key"), self.tmp))
        c.update(extra or {})
        cfg = os.path.join(self.tmp, "cmgdiag.json")
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "spool"))},
                       "state_dir": native_path(os.path.join(self.tmp, "state")),
                       "log": {"file": native_path(os.path.join(self.tmp, "cmgdiag.log"))},
                       "checks": (checks or {}) | {"cmgprobe": c}}, f)
        return cfg

    def probe(self, case, cert=None, code=None, status="fail", **kw):
        cfg = self.config(case, cert, **kw)
        rc, out, err = run("-c", native_path(cfg), "check", "cmgprobe", "--json")
        self.assertTrue(out.strip(), "exit %d, stderr: %s" % (rc, err))
        r = json.loads(out)
        transcripts.record(run, cfg, self.id(), r)
        if code:
            self.assertEqual((r["code"], r["status"]), (code, status), json.dumps(r, indent=1)[:4000])
        self.assertEqual(rc, {"pass": 0, "warn": 1, "fail": 2}[r["status"]])
        if r["status"] != "pass":
            self.assertTrue(r["remediation"])
        self.assertTrue(r["facts"].get("reference"), "every code carries its source")
        return r

    # --- the certificate the CMG trusts -------------------------------------------------------------

    def test_trusted_certificate_gets_the_mp_list_through_mutualauth(self):
        for case in REFUSING:
            with self.subTest(case):
                r = self.probe(case, "client-good", "CMG_OK", "pass")
                f = r["facts"]
                self.assertIn("/CCM_Proxy_MutualAuth/", f["url"])
                self.assertIn("client certificate", r["summary"])
                self.assertEqual([m["fqdn"] for m in f["mplist"]][0], "mp01.corp.contoso.com")
                a, an = f["authenticated"], f["anonymous"]
                self.assertEqual((a["made"], a["status"], a["client_certificate_requested"]), (True, 200, True))
                self.assertIn("LAPTOP01.corp.contoso.com", a["client_certificate"]["subject"])
                # the anonymous request is reported apart: refused for want of a certificate
                self.assertTrue(an["refused_for_certificate"], an)
                # traffic counts both connections
                self.assertGreater(f["traffic"]["bytes_sent"], 1500)

    def test_a_cmg_that_asks_for_no_certificate_still_passes_with_one(self):
        # the plain CMG double does not ask for a client certificate: presenting one changes nothing
        r = self.probe("good", "client-good", "CMG_OK", "pass")
        self.assertFalse(r["facts"]["authenticated"]["client_certificate_requested"])
        self.assertNotIn("inspection_evidence", r["facts"]["authenticated"])

    def test_a_chain_completed_from_aia_stays_completed_for_the_certificate_request(self):
        # the anonymous handshake needed the intermediate from AIA: the request with the certificate too
        r = self.probe("leafonly", "client-good", "CMG_CERT_CHAIN_AIA", "warn")
        self.assertEqual(r["facts"]["authenticated"]["status"], 200)

    def test_a_key_that_does_not_fit_is_not_blamed_on_the_cmg(self):
        # a local mistake (the certificate and another key): nothing was asked of the CMG
        cfg = self.config("mtls", "client-good")
        with open(cfg) as f:
            c = json.load(f)
        c["checks"]["cmgprobe"]["client_key"] = native_path(own_capture(self.pki("good.key"), self.tmp))
        with open(cfg, "w") as f:
            json.dump(c, f)
        rc, out, err = run("-c", native_path(cfg), "check", "cmgprobe", "--json")
        r = json.loads(out)
        self.assertEqual((r["code"], r["status"]), ("CMG_AUTH_NOT_TESTED", "warn"), r["summary"])
        self.assertIn("could not use the client certificate", r["summary"])

    # --- what the CMG refuses ----------------------------------------------------------------------

    def test_another_cas_certificate_names_the_certificate_and_the_upload(self):
        for case in REFUSING:
            with self.subTest(case):
                r = self.probe(case, "client-other", "CMG_CLIENT_CERT_UNTRUSTED")
                self.assertIn("LAPTOP01.corp.contoso.com", r["summary"])
                self.assertIn("Other Corp Root CA", r["summary"])
                self.assertIn("upload its issuing CA to the CMG", r["summary"])
                self.assertIn("Certificates", r["remediation"])
                self.assertIn("configure-authentication", r["facts"]["reference"])

    def test_expired_certificate_is_named(self):
        for case in REFUSING:
            with self.subTest(case):
                r = self.probe(case, "client-expired", "CMG_CLIENT_CERT_EXPIRED")
                self.assertIn("LAPTOP01.corp.contoso.com", r["summary"])
                self.assertIn("expired on", r["summary"])

    def test_revoked_certificate_is_named_with_its_crl(self):
        for case in REFUSING:
            with self.subTest(case):
                r = self.probe(case, "client-revoked", "CMG_CLIENT_CERT_REVOKED")
                self.assertIn("revoked", r["summary"])
                self.assertIn("/crl/clientca.crl", r["summary"])
                self.assertEqual(r["facts"]["authenticated"]["client_certificate_revocation"], "revoked")

    def test_a_crl_nobody_can_fetch_is_the_cmgs_revocation_check(self):
        for case in REFUSING:
            with self.subTest(case):
                r = self.probe(case, "client-nocrl", "CMG_CLIENT_CERT_REVOCATION_UNCHECKED")
                self.assertIn("inferred", r["summary"])
                self.assertIn("127.0.0.1:9", r["summary"])
                self.assertIn("Verify client certificate revocation", r["remediation"])

    def test_no_certificate_for_a_pki_path_fails(self):
        for case in REFUSING:
            with self.subTest(case):
                r = self.probe(case, None, "CMG_CLIENT_CERT_MISSING", extra={"proxy_kind": "MutualAuth"})
                self.assertFalse(r["facts"]["authenticated"]["made"])
                self.assertIn("requires a client certificate", r["summary"])

    def test_a_pki_client_whose_certificate_cmgdiag_cannot_present_is_not_tested(self):
        # clientauth (from a capture) says PKI; no client_cert: a warning, never a failure
        cap = own_capture(os.path.join(DATA, "clientauth", "01-pki-domain-joined-ps51"), self.tmp)
        off = {k: {"enabled": False} for k in ("clientlogs", "mpcandidates", "netenv", "content", "device", "exec",
                                                "aadjoin")}
        cfg = self.config("mtls", None, checks=off | {"clientauth": {"input": native_path(cap)}})
        rc, out, err = run("-c", native_path(cfg), "selftest", "--json", "--no-upload")
        b = json.loads(out)
        r = [x for x in b["checks"] if x["check"] == "cmgprobe"][0]
        self.assertEqual((r["code"], r["status"]), ("CMG_AUTH_NOT_TESTED", "warn"), r["summary"])
        self.assertFalse(r["facts"]["authenticated"]["made"])

    def test_turned_off_is_not_tested_either(self):
        r = self.probe("mtls", "client-good", "CMG_AUTH_NOT_TESTED", "warn", extra={"authenticated": "off"})
        self.assertFalse(r["facts"]["authenticated"]["made"])

    # --- TLS inspection on the path -----------------------------------------------------------------

    def test_an_inspecting_forwarder_is_named(self):
        r = self.probe("inspect", "client-good", "CMG_TLS_INSPECTION", roots=("root.pem", "inspect-root.pem"))
        self.assertIn("TLS-inspecting", r["summary"])
        self.assertIn("cmgdiag Lab TLS Inspection CA", r["summary"])
        self.assertIn("bypass", r["remediation"])
        self.assertFalse(r["facts"]["authenticated"]["client_certificate_requested"])
        self.assertIn("tls_inspection", r["facts"])

    # --- the client's own stack (Windows build, under wine) -------------------------------------------

    def machine_cert(self, name):
        """The certificate put into LocalMachine\\My (tests/unit/machine_cert_win32.c); its thumbprint."""
        pfx = os.path.join(self.tmp, name + ".pfx")
        subprocess.run(["openssl", "pkcs12", "-export", "-in", self.pki(name + ".pem"), "-inkey",
                        self.pki(name + ".key"), "-out", pfx, "-passout", "pass:lab", "-certpbe", "PBE-SHA1-3DES",
                        "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"], check=True)
        tool = os.path.join(os.path.dirname(test_cli.BIN), "tests", "machine_cert.exe")
        p = subprocess.run(["wine", tool, native_path(pfx), "lab"], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, WINEDEBUG="-all"))
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def test_winhttp_off_windows_says_so(self):
        if test_cli.WINE:
            self.skipTest("the Windows build has WinHTTP")
        r = self.probe("good", "client-good", "CMG_OK", "pass")
        self.assertEqual(r["facts"]["winhttp"]["available"], False)

    def test_winhttp_request_runs_against_the_lab_with_its_facts(self):
        if not test_cli.WINE:
            self.skipTest("WinHTTP is the Windows build's (run with --wine)")
        r = self.probe("good", None, "CMG_OK", "pass")
        w = r["facts"]["winhttp"]
        self.assertEqual((w["available"], w["engine"], w["proxy"]), (True, "wine winhttp", "direct"))
        self.assertEqual((w["status"], w["management_points"]), (200, 2))
        self.assertEqual(w["first_management_point"], "mp01.corp.contoso.com")
        self.assertFalse(w["decides"])  # wine's winhttp is not Windows'
        # the probe ran in the worker with a restricted token (worker_win32.c); wine starts it with the
        # agent's own token all the same (docs/security.md says what wine does not enforce): pinned
        self.assertEqual(r["facts"]["worker"]["user"], "restricted token", r["facts"].get("worker"))
        self.assertEqual(r["facts"]["worker"]["token"], "not restricted, integrity High")
        self.assertNotIn("privileged_because", r["facts"])
        # what wine lacks, pinned: no WINHTTP_OPTION_SECURITY_INFO (protocol and cipher)
        self.assertIn("WINHTTP_OPTION_SECURITY_INFO is not available", w["protocol_detail"])
        self.assertNotIn("protocol", w)

    def test_winhttp_presents_the_machine_certificate(self):
        if not test_cli.WINE:
            self.skipTest("WinHTTP is the Windows build's (run with --wine)")
        thumb = self.machine_cert("client-good")
        for case in REFUSING:
            with self.subTest(case):
                # wine's verdict is shown, not used: OpenSSL had no certificate to present
                r = self.probe(case, None, "CMG_AUTH_NOT_TESTED", "warn", extra={"client_cert_thumbprint": thumb})
                # the machine's private key is SYSTEM's: the probe runs in the worker, and the agent makes
                # that one request for it (the collect half allowed it) and hands the answer over unparsed
                self.assertEqual(r["facts"]["worker"]["user"], "restricted token", r["facts"].get("worker"))
                self.assertNotIn("privileged_because", r["facts"])
                w = r["facts"]["winhttp"]
                self.assertIn("the agent, with its privilege (the machine's key)", w["made_by"])
                # the MP list in its bytes was read by the worker
                self.assertEqual(w["first_management_point"], "mp01.corp.contoso.com", w)
                self.assertEqual((w["client_certificate_presented"], w["status"]), (True, 200), w)
                # not the same request as OpenSSL's (which had no certificate): shown, not compared
                self.assertIn("WinHTTP presented a client certificate", w["compared"])
                self.assertNotIn("stacks_disagree", r["facts"])
                # where WinHTTP decides (Windows; here the test setting), its answer is the client's
                r = self.probe(case, None, "CMG_OK", "pass",
                               extra={"client_cert_thumbprint": thumb, "winhttp_decides_under_wine": True})
                self.assertIn("mp01.corp.contoso.com", r["summary"])
                self.assertIn("client certificate", r["summary"])

    def test_winhttp_refused_certificate_fails_where_it_decides(self):
        if not test_cli.WINE:
            self.skipTest("WinHTTP is the Windows build's (run with --wine)")
        thumb = self.machine_cert("client-other")
        r = self.probe("mtls", None, "CMG_WINHTTP_FAILED",
                       extra={"client_cert_thumbprint": thumb, "winhttp_decides_under_wine": True})
        self.assertIn("HTTP 400", r["summary"])
        self.assertIn("WinHTTP", r["summary"])

    def test_unknown_thumbprint_is_said(self):
        if not test_cli.WINE:
            self.skipTest("WinHTTP is the Windows build's (run with --wine)")
        r = self.probe("mtls", None, "CMG_AUTH_NOT_TESTED", "warn", extra={"client_cert_thumbprint": "00" * 20})
        self.assertIn("no certificate with thumbprint", r["facts"]["winhttp"]["client_certificate_error"])
        self.assertFalse(r["facts"]["winhttp"]["client_certificate_presented"])

    # --- cost: the authenticated request follows mp_probe_interval_s --------------------------------

    def test_scheduled_handshake_cycles_stay_anonymous(self):
        out = os.path.join(self.tmp, "bundles")
        os.makedirs(out)
        cfg = self.config("mtls", "client-good")
        with open(cfg) as f:
            c = json.load(f)
        c["outputs"] = [{"type": "file", "dir": native_path(out)}]
        c["checks"] |= {k: {"enabled": False} for k in ("aadjoin", "clientlogs", "mpcandidates", "netenv",
                                                        "clientauth", "content", "device", "exec", "agent")}
        with open(cfg, "w") as f:
            json.dump(c, f)
        seen = []
        for _ in range(2):
            rc, _, err = run("-c", native_path(cfg), "run", "--once")
            self.assertIn(rc, (0, 1), err)
        for root, _, files in os.walk(out):
            for n in files:
                with gzip.open(os.path.join(root, n)) as g:
                    b = json.load(g)
                p = [x for x in b["checks"] if x["check"] == "cmgprobe"][0]
                seen.append((b["created_at"], p["code"], "authenticated" in p["facts"]))
        seen = [x[1:] for x in sorted(seen)]
        self.assertEqual(seen, [("CMG_OK", True), ("CMG_TLS_OK", False)])

    def test_certificate_without_key_is_a_configuration_error(self):
        cfg = self.config("mtls", "client-good")
        with open(cfg) as f:
            c = json.load(f)
        del c["checks"]["cmgprobe"]["client_key"]
        with open(cfg, "w") as f:
            json.dump(c, f)
        rc, out, err = run("-c", native_path(cfg), "check", "cmgprobe", "--json")
        r = json.loads(out)
        self.assertEqual((rc, r["status"], r["code"]), (2, "error", "CMGPROBE_CONFIG"))
        self.assertIn("client_cert and client_key go together", r["summary"])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_mutual_tls.py BINARY [--wine]")
    test_cli.BIN = os.path.abspath(sys.argv[1])
    test_cli.WINE = "--wine" in sys.argv[2:]
    argv = [sys.argv[0]] + [a for a in sys.argv[2:] if a != "--wine"]
    unittest.main(argv=argv, verbosity=2)
