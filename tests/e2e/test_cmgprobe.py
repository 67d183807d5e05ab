#!/usr/bin/env python3
"""`cmgdiag check cmgprobe` against the CMG double (tests/lab/cmg-lab.sh): nginx with a real PKI
(root, intermediate, leaf variants, CRLs over HTTP), one port per certificate case, the CMG's
answers by management point id, and cmg-backend.py behind nginx for status texts, a skewed Date,
a slow drip and a reset. Every case asserts the code and that the check ended within its deadline.

    test_cmgprobe.py BINARY [--wine]"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import test_cli
import transcripts
from test_cli import native_path, own_capture, run

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "lab")
DATA = os.path.join(HERE, "..", "data")
LAB_DIR = None
PORTS = None
MP = "72057594037927939"
DEADLINE_MS = 6000


def free_base(n=26):
    for _ in range(200):
        base = random.randrange(20000, 32000)  # below the ephemeral ports (32768-60999)
        ok = True
        for p in range(base, base + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", p))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free port range")


def start_cmg_lab():
    """Starts the CMG double on free ports; returns (folder, ports from lab.json). Suites run side by
    side (tests/windows/run.sh): two may find the same ports free before either binds them, so a
    start that fails is tried again on other ports (cmg-lab.sh stops what it started)."""
    d = tempfile.mkdtemp(prefix="cmgdiag-cmglab-")
    for attempt in range(4):
        p = subprocess.run(["bash", os.path.join(LAB, "cmg-lab.sh"), "start", d, str(free_base())])
        if p.returncode == 0:
            break
        if attempt == 3:
            raise RuntimeError("the CMG double did not start (4 attempts)")
    with open(os.path.join(d, "lab.json")) as f:
        return d, json.load(f)


def stop_cmg_lab(d):
    if d:
        subprocess.run(["bash", os.path.join(LAB, "cmg-lab.sh"), "stop", d])
        shutil.rmtree(d, ignore_errors=True)


def setUpModule():
    global LAB_DIR, PORTS
    LAB_DIR, PORTS = start_cmg_lab()


def tearDownModule():
    stop_cmg_lab(LAB_DIR)


class Probe(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-probe-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def probe(self, case="good", mp=MP, host="cmg.lab.test", ca=True, extra=None, url=None, only=None):
        port = PORTS[case]
        c = {"url": url if url is not None else "https://%s:%d/CCM_Proxy_MutualAuth/%s" % (host, port, mp),
             "resolve": ["%s:%d:127.0.0.1" % (host, port)], "timeout_ms": DEADLINE_MS, "connect_timeout_ms": 2000}
        if ca:
            c["ca_file"] = native_path(PORTS["root"])
        c.update(extra or {})
        cfg = os.path.join(self.tmp, "cmgdiag.json")
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "spool"))},
                       "state_dir": native_path(os.path.join(self.tmp, "state")),
                       "log": {"file": native_path(os.path.join(self.tmp, "cmgdiag.log"))},
                       "checks": {"cmgprobe": c}}, f)
        t0 = time.time()
        rc, out, err = run("-c", native_path(cfg), "check", "cmgprobe", "--json")
        if test_cli.WINE and not out.strip():
            # wine under heavy load has been seen to end a process without a word: once more, and say so
            print("note: no output from cmgdiag.exe under wine (exit %d); running it again" % rc, file=sys.stderr)
            t0 = time.time()
            rc, out, err = run("-c", native_path(cfg), "check", "cmgprobe", "--json")
        took = time.time() - t0
        self.assertTrue(out.strip(), "exit %d, stderr: %s" % (rc, err))
        r = json.loads(out)
        self.assertLess(r["duration_ms"], DEADLINE_MS + 1500, "the check overran its deadline")
        self.assertLess(took, DEADLINE_MS / 1000 + 15)
        self.assertEqual(rc, {"pass": 0, "warn": 1, "fail": 2, "skip": 0, "error": 2}[r["status"]], r)
        if r["status"] != "pass":
            self.assertTrue(r["remediation"], "a non-pass result needs a remediation")
        self.assertIsNone(test_cli.plain_words(r["summary"]), "not for reading aloud: " + r["summary"])
        transcripts.record(run, cfg, self.id(), r)
        return r

    def expect(self, code, status="fail", **kw):
        r = self.probe(**kw)
        self.assertEqual((r["code"], r["status"]), (code, status), json.dumps(r, indent=1)[:3000])
        return r

    # --- healthy ------------------------------------------------------------------------------------

    def test_healthy_cmg_shows_mps_timings_chain_and_revocation(self):
        r = self.expect("CMG_OK", "pass")
        f = r["facts"]
        self.assertEqual(f["url"], "https://cmg.lab.test:%d/CCM_Proxy_ServerAuth/%s" % (PORTS["good"], MP))
        self.assertEqual([m["fqdn"] for m in f["mplist"]], ["mp01.corp.contoso.com", "mp02.corp.contoso.com"])
        self.assertEqual(f["mplist"][0], {"name": "MP01.CORP.CONTOSO.COM", "fqdn": "mp01.corp.contoso.com",
                                                     "site_code": "PS1", "version": "9128", "ssl_state": "0"})
        req = f["requests"][0]
        self.assertEqual((req["path"], req["status"]), ("SMS_MP/.sms_aut?mplist", 200))
        self.assertGreaterEqual(req["timings"]["connect_ms"], 0)  # a loopback connect can round to 0.0
        for k in ("tls_ms", "ttfb_ms", "total_ms"):
            self.assertGreater(req["timings"][k], 0, k)
        self.assertEqual(f["requests"][1]["path"], "SMS_MP/.sms_aut?mpcert")
        self.assertIn(f["tls"]["version"], ("TLSv1.2", "TLSv1.3"))
        self.assertTrue(f["tls"]["cipher"])
        self.assertEqual(len(f["tls"]["chain"]), 3)  # leaf, intermediate, root
        leaf = f["tls"]["chain"][0]
        self.assertIn("cmg.lab.test", leaf["sans"])
        self.assertEqual(leaf["ekus"], ["serverAuth (1.3.6.1.5.5.7.3.1)"])
        self.assertEqual(leaf["key"], "RSA 2048")
        self.assertEqual(len(leaf["sha256"]), 64)
        self.assertTrue(leaf["crl_urls"][0].endswith("/crl/intermediate.crl"))
        self.assertEqual(leaf["ocsp_urls"], ["http://127.0.0.1:%d/" % PORTS["ocsp"]])
        self.assertEqual([x["status"] for x in f["revocation"]], ["good", "good"])
        # CRL and OCSP are reported apart: the leaf has both, the intermediate a CRL only
        self.assertEqual([(x["crl"]["status"], x["ocsp"]["status"]) for x in f["revocation"]],
                         [("good", "good"), ("good", "no_cdp")])
        self.assertTrue(f["crl_check"]["effective"])
        self.assertTrue(f["crl_check"]["inferred"])
        self.assertIn("plan-for-certificates", f["crl_check"]["reference"])
        # the bytes through the CMG: two requests on one TLS connection
        self.assertGreater(f["traffic"]["bytes_sent"], 300)
        self.assertGreater(f["traffic"]["bytes_received"], f["http"]["bytes"])
        self.assertTrue(f["traffic"]["reached_management_point"])
        self.assertTrue(f["reference"].startswith("https://learn.microsoft.com/"))
        self.assertTrue(f["tls"]["name_match"])
        self.assertEqual(f["tls"]["verify_result"], "ok")
        self.assertGreater(f["tls"]["days_to_expiry"], 300)
        self.assertGreater(f["tls"]["handshake_ms"], 0)
        self.assertGreaterEqual(f["connect_ms"], 0)
        self.assertEqual(f["dns"]["addresses"], ["127.0.0.1"])
        self.assertEqual((f["http"]["status"], f["http"]["status_text"]), (200, "OK"))
        self.assertGreater(f["http"]["bytes"], 300)
        self.assertTrue(f["http"]["date"].endswith("GMT"))
        self.assertLess(abs(f["clock_skew_s"]), 5)

    def test_windows_own_verdict(self):
        # CryptoAPI's verdict beside OpenSSL's: on Windows (here: wine's crypt32, which is shown but
        # does not decide); elsewhere a fact that says it is not available.
        cases = {"good": "CMG_OK", "wrongname": "CMG_CERT_NAME_MISMATCH", "expired": "CMG_CERT_EXPIRED",
                 "leafonly": "CMG_CERT_CHAIN_AIA", "crlunreach": "CMG_CRL_UNREACHABLE"}
        got = {}
        for case, code in cases.items():
            r = self.probe(case=case)
            self.assertEqual(r["code"], code)
            got[case] = r["facts"]["windows_trust"]
        if not test_cli.WINE:
            for w in got.values():
                self.assertEqual(w, {"available": False, "detail": "CryptoAPI exists on Windows only"})
            return
        for w in got.values():
            self.assertEqual((w["available"], w["engine"], w["decides"]), (True, "wine crypt32", False))
        self.assertEqual((got["good"]["trusted"], got["good"]["chain_length"]), (True, 3))
        self.assertEqual(got["wrongname"]["error_name"], "CERT_E_CN_NO_MATCH")
        self.assertEqual(got["expired"]["error_name"], "CERT_E_EXPIRED")
        self.assertIn("not_time_valid", got["expired"]["trust_flags"])
        # wine's crypt32 fetches the missing intermediate from AIA too, and reports the CRL offline
        self.assertEqual((got["leafonly"]["trusted"], got["leafonly"]["chain_length"]), (True, 3))
        self.assertFalse(got["crlunreach"]["trusted"])
        self.assertIn("revocation_offline", got["crlunreach"]["trust_flags"])
        # Where the two disagree, CryptoAPI decides (on Windows; here forced for wine, whose crypt32
        # accepts the partial chain of a leaf-only server without AIA, where OpenSSL refuses):
        r = self.probe(case="noaia", extra={"windows_verdict_decides_under_wine": True})
        self.assertEqual(r["facts"]["verdicts_disagree"]["decides"], "windows")
        self.assertTrue(r["facts"]["windows_trust"]["request_on_its_verdict"])
        self.assertEqual(r["code"], "CMG_OK")  # the request went ahead on Windows' verdict
        self.assertEqual(r["facts"]["mplist"][0]["fqdn"], "mp01.corp.contoso.com")
        # ... OpenSSL's handshake accepts what Windows refuses for revocation: the probe's own CRL and
        # OCSP check names it, with its URL; a client that does not check gets no revocation verdict
        r = self.probe(case="crlunreach", extra={"windows_verdict_decides_under_wine": True, "crl_check": "on"})
        self.assertEqual(r["code"], "CMG_CRL_UNREACHABLE")
        self.assertEqual(r["facts"]["verdicts_disagree"]["windows"], "refused")
        r = self.probe(case="crlunreach", extra={"windows_verdict_decides_under_wine": True, "crl_check": "off"})
        self.assertEqual(r["code"], "CMG_OK")
        self.assertFalse(r["facts"]["windows_trust"]["revocation_checked"])

    def test_azure_deployment_names(self):
        r = self.expect("CMG_OK", "pass", host="cmglab.westus.cloudapp.azure.com")
        self.assertEqual(r["facts"]["service_name_kind"], "azure_vmss")
        r = self.expect("CMG_NAME_RULES", "warn", host="cmg-lab.westus.cloudapp.azure.com")
        self.assertIn("other than letters and digits", r["facts"]["name_rule_violations"][0])
        # DNS names are case-insensitive: Microsoft's own examples write GraniteFalls.WestUS.CloudApp.Azure.Com
        r = self.expect("CMG_OK", "pass", host="CMGLAB.WestUS.CloudApp.Azure.Com")
        self.assertEqual(r["facts"]["name_rule_violations"], [])

    def test_cname_chain_of_a_custom_service_name(self):
        # A custom service name is a CNAME to the Azure deployment name; the lab's dnsmasq holds both.
        if test_cli.WINE:
            self.skipTest("Windows: DnsQuery_A asks port-53 servers only, and the lab's DNS listens on a high port")
        self.assertTrue(PORTS["dns"], "dnsmasq is not installed (tests/install-deps.sh all)")
        r = self.expect("CMG_OK", "pass", extra={"dns_server": PORTS["dns"]})
        d = r["facts"]["dns"]
        self.assertEqual(d["cname_chain"], ["cmglab.westus.cloudapp.azure.com"])
        self.assertEqual((r["facts"]["service_name_kind"], r["facts"]["deployment_name"]),
                         ("custom_domain", "cmglab.westus.cloudapp.azure.com"))
        # ... and the deployment name it leads to is judged by the naming rules.
        r = self.expect("CMG_NAME_RULES", "warn", host="cmg-bad.lab.test", ca=True,
                        extra={"dns_server": PORTS["dns"]}, case="good")
        self.assertIn("cmg-lab.westus.cloudapp.azure.com", r["summary"])

    # --- certificates ---------------------------------------------------------------------------------

    def test_expired(self):
        r = self.expect("CMG_CERT_EXPIRED", case="expired")
        self.assertEqual(r["facts"]["client_would_log"], "12037 ERROR_WINHTTP_SECURE_CERT_DATE_INVALID (0x80072F05)")
        self.assertLess(r["facts"]["tls"]["chain"][0]["days_left"], 0)
        self.assertEqual(r["facts"]["requests"][0].get("status"), None, "no request over a failed handshake")

    def test_not_yet_valid(self):
        self.expect("CMG_CERT_NOT_YET_VALID", case="notyet")

    def test_wrong_name(self):
        r = self.expect("CMG_CERT_NAME_MISMATCH", case="wrongname")
        self.assertFalse(r["facts"]["tls"]["name_match"])
        self.assertEqual(r["facts"]["tls"]["chain"][0]["sans"], ["other.lab.test"])

    def test_self_signed(self):
        r = self.expect("CMG_CERT_UNTRUSTED", case="selfsigned")
        self.assertIn("self-signed", r["summary"])
        self.assertTrue(r["facts"]["tls"]["chain"][0]["self_signed"])

    def test_root_not_trusted(self):
        r = self.expect("CMG_CERT_UNTRUSTED", ca=False)
        self.assertEqual(r["facts"]["client_would_log"], "12045 ERROR_WINHTTP_SECURE_INVALID_CA (0x80072F0D)")
        self.assertEqual(r["facts"]["tls"]["certificates_sent"], 2)

    def test_leaf_without_intermediate_completed_from_aia(self):
        # Windows fetches the intermediate from the AIA URL: a warning that names it, not a failure
        r = self.expect("CMG_CERT_CHAIN_AIA", "warn", case="leafonly")
        url = "http://127.0.0.1:%d/aia/intermediate.cer" % PORTS["crl"]
        self.assertIn(url, r["summary"])
        self.assertEqual(r["facts"]["aia"], {"url": url, "fetched": 1})
        self.assertEqual(r["facts"]["tls"]["certificates_sent"], 1)
        self.assertEqual(len(r["facts"]["tls"]["chain"]), 3)  # built with the fetched intermediate
        self.assertEqual(r["facts"]["mplist"][0]["fqdn"], "mp01.corp.contoso.com")  # and the MP list came

    def test_leaf_without_intermediate_and_no_aia(self):
        r = self.expect("CMG_CERT_CHAIN_INCOMPLETE", case="noaia")
        self.assertIn("no AIA address", r["summary"])
        self.assertEqual(r["facts"]["tls"]["certificates_sent"], 1)

    def test_leaf_without_intermediate_and_aia_unreachable(self):
        r = self.expect("CMG_CERT_CHAIN_INCOMPLETE", case="aiadown")
        self.assertIn("http://127.0.0.1:9/intermediate.cer", r["summary"])
        self.assertEqual(r["facts"]["aia"]["fetched"], 0)

    def test_revoked(self):
        r = self.expect("CMG_CERT_REVOKED", case="revoked")
        self.assertEqual(r["facts"]["revocation"][0]["status"], "revoked")
        self.assertIn("revoked on", r["summary"])

    def test_revoked_by_ocsp_and_crl(self):
        r = self.expect("CMG_CERT_REVOKED", case="revoked")
        x = r["facts"]["revocation"][0]
        self.assertEqual((x["crl"]["status"], x["ocsp"]["status"]), ("revoked", "revoked"))
        self.assertIn("(OCSP)", x["ocsp"]["detail"])

    def test_crl_unreachable_is_its_own_failure(self):
        r = self.expect("CMG_CRL_UNREACHABLE", case="crlunreach")
        self.assertIn("Publish the CRL", r["remediation"])
        self.assertIn("/NoCRLCheck", r["remediation"])
        self.assertEqual(r["facts"]["client_would_log"], "12057 ERROR_WINHTTP_SECURE_CERT_REV_FAILED (0x80072F19)")
        self.assertEqual([x["status"] for x in r["facts"]["revocation"]], ["unreachable", "good"])

    def test_crl_unreachable_is_no_failure_for_a_client_that_does_not_check(self):
        for extra in ({"crl_check": "off"}, {"crl_unreachable_fails": False}):
            r = self.expect("CMG_OK", "pass", case="crlunreach", extra=extra)
            self.assertEqual(r["facts"]["revocation"][0]["status"], "unreachable")
            self.assertFalse(r["facts"]["crl_check"]["effective"])
        r = self.expect("CMG_CRL_UNREACHABLE", case="crlunreach", extra={"crl_check": "on"})
        self.assertEqual(r["facts"]["crl_check"]["source"], "the cmgprobe.crl_check setting")

    def test_expiring_within_30_days_warns(self):
        r = self.expect("CMG_CERT_EXPIRING", "warn", case="expiring")
        self.assertIn(r["facts"]["tls"]["days_to_expiry"], (9, 10))

    def test_no_tls12(self):
        self.expect("CMG_TLS_PROTOCOL", case="tls10")

    # --- network --------------------------------------------------------------------------------------

    def test_connection_refused(self):
        self.expect("CMG_CONNECT_REFUSED", case="refused")

    def test_connection_timeout(self):
        r = self.expect("CMG_CONNECT_TIMEOUT", case="blackhole", extra={"connect_timeout_ms": 1500})
        self.assertLess(r["duration_ms"], 4000)

    def test_tcp_accepted_then_silent_is_a_tls_handshake_timeout(self):
        r = self.expect("CMG_TLS_HANDSHAKE_TIMEOUT", case="silent", extra={"connect_timeout_ms": 1500})
        self.assertIn("accepted the TCP connection", r["summary"])
        elapsed = float(r["summary"].split("gave up after ")[1].split(" ms")[0])
        self.assertGreaterEqual(elapsed, 1400)  # the time that really went by, not a setting
        self.assertLess(r["duration_ms"], 4000)

    def test_a_url_without_mp_id_is_reachable_not_proven(self):
        # ServiceMetadata answers without a management point behind it: reachability only
        r = self.expect("CMG_REACHABLE_UNPROVEN", "warn", url="https://cmg.lab.test:%d" % PORTS["good"])
        self.assertEqual(r["facts"]["requests"][0]["path"], "/CCM_Proxy_ServerAuth/ServiceMetadata")
        self.assertEqual(r["facts"]["requests"][0]["status"], 200)
        self.assertIs(r["facts"]["mp_list_answered"], False)
        self.assertIn("not proven", r["summary"])
        self.assertIs(self.expect("CMG_OK", "pass")["facts"]["mp_list_answered"], True)

    def test_mp_requests_once_a_day_in_scheduled_cycles(self):
        # `run --once` is a scheduled kind of cycle: the first asks the MP, the next one within
        # mp_probe_interval_s only does the TLS handshake
        port = PORTS["good"]
        c = {"url": "https://cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (port, MP),
             "resolve": ["cmg.lab.test:%d:127.0.0.1" % port], "timeout_ms": DEADLINE_MS,
             "ca_file": native_path(PORTS["root"])}
        out = os.path.join(self.tmp, "bundles")
        os.makedirs(out)
        cfg = os.path.join(self.tmp, "sched.json")
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "spool"))},
                       "state_dir": native_path(os.path.join(self.tmp, "state")),
                       "log": {"file": native_path(os.path.join(self.tmp, "cmgdiag.log"))},
                       "outputs": [{"type": "file", "dir": native_path(out)}],
                       "checks": {k: {"enabled": False} for k in ("aadjoin", "clientlogs", "mpcandidates", "netenv",
                                                                    "clientauth", "content", "device", "exec", "agent")}
                       | {"cmgprobe": c}}, f)
        seen = []
        for _ in range(2):
            rc, o, e = run("-c", native_path(cfg), "run", "--once")
            self.assertIn(rc, (0, 1, 2), e)
        import gzip
        for root, _, files in os.walk(out):
            for n in sorted(files):
                with gzip.open(os.path.join(root, n)) as f:
                    b = json.load(f)
                seen += [(b["created_at"], c2) for c2 in b["checks"] if c2["check"] == "cmgprobe"]
        seen.sort(key=lambda x: x[0])
        self.assertEqual([x[1]["code"] for x in seen], ["CMG_OK", "CMG_TLS_OK"], [x[1]["summary"] for x in seen])
        first, second = seen[0][1]["facts"], seen[1][1]["facts"]
        self.assertTrue(first["traffic"]["reached_management_point"])
        self.assertFalse(second["traffic"]["reached_management_point"])
        self.assertIn("min ago", second["mp_requests_skipped"])
        self.assertLess(second["traffic"]["bytes_sent"], first["traffic"]["bytes_sent"])
        # the light cycle, recorded as one for the data set (the transcript says its trigger)
        transcripts.record(run, cfg, self.id(), seen[1][1], trigger="schedule")
        # ... but a selftest always asks
        rc, o, e = run("-c", native_path(cfg), "check", "cmgprobe", "--json")
        self.assertEqual(json.loads(o)["code"], "CMG_OK")

    def test_dns_failure(self):
        self.expect("CMG_DNS_FAILURE", url="https://cmg.invalid/CCM_Proxy_MutualAuth/" + MP)

    # --- answers ----------------------------------------------------------------------------------------

    def test_empty_mp_list(self):
        r = self.expect("CMG_MPLIST_EMPTY", mp="1001")
        self.assertIn("Allow Configuration Manager cloud management gateway traffic", r["remediation"])

    def test_html_instead_of_mp_list(self):
        r = self.expect("CMG_MPLIST_INVALID", mp="1002")
        self.assertIn("not <MPList>", r["summary"])

    def test_entity_bomb_is_refused_not_expanded(self):
        r = self.expect("CMG_MPLIST_INVALID", mp="1700")
        self.assertIn("DOCTYPE", r["summary"])

    def test_status_texts(self):
        for mp, code, text, meaning in (
                ("1401", "CMG_HTTP_401", "CMGService_Invalid_Token", "bulk registration token expired"),
                ("1402", "CMG_HTTP_401", "CMGConnector_Unauthorized", "CCM_STS"),
                ("1403", "CMG_HTTP_403", "CMGConnector_Forbidden", "IIS HTTPS binding"),
                ("1404", "CMG_HTTP_403", "CMGConnector_Clientcertificaterequired", "client authentication certificate")):
            r = self.expect(code, mp=mp)
            self.assertEqual(r["facts"]["requests"][0]["status_text"], text)
            self.assertIn(meaning, r["summary"])

    def test_5xx(self):
        r = self.expect("CMG_HTTP_5XX", mp="1500")
        self.assertIn("HTTP 500", r["summary"])
        r = self.expect("CMG_HTTP_5XX", mp="1503")
        self.assertIn("HTTP 503", r["summary"])

    def test_unknown_mp_id(self):
        self.expect("CMG_HTTP_UNEXPECTED", mp="999")

    def test_too_large(self):
        r = self.expect("CMG_RESPONSE_TOO_LARGE", mp="1100", extra={"max_body_bytes": 65536})
        self.assertTrue(r["facts"]["requests"][0]["too_large"])

    def test_slow_drip_is_cut_at_the_deadline(self):
        r = self.expect("CMG_SLOW_RESPONSE", mp="1200", extra={"timeout_ms": 3000})
        self.assertLess(r["duration_ms"], 4500)

    def test_reset_mid_body(self):
        self.expect("CMG_CONNECTION_RESET", mp="1300")

    def test_clock_skew(self):
        r = self.expect("CMG_CLOCK_SKEW", "warn", mp="1600")
        self.assertGreater(r["facts"]["clock_skew_s"], 850)

    # --- hostile servers: each ends within the deadline, with the right code, in bounded memory ---

    def peak_rss_kb(self, case, mp, extra=None):
        """The check in a child of a helper process, so ru_maxrss is the check's own peak."""
        if test_cli.WINE:
            return None
        r = self.probe(case=case, mp=mp, extra=extra)
        cfg = os.path.join(self.tmp, "cmgdiag.json")
        helper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
                  "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        out = subprocess.run([sys.executable, "-c", helper, test_cli.BIN, "-c", cfg, "check", "cmgprobe"],
                             capture_output=True, text=True).stdout
        return r, int(out.strip())

    def test_hostile_server_matrix(self):
        for case, mp, code, extra in (
                ("hostile", "1800", "CMG_RESPONSE_TOO_LARGE", None),      # endless body
                ("hostile", "2000", "CMG_RESPONSE_TOO_LARGE", None),      # 10 MB header
                ("hostile", "1900", "CMG_HTTP_REDIRECT", None),           # redirect loop
                ("hostile", "2100", "CMG_UNREACHABLE", None),             # another protocol, not HTTP
                ("hostile", "2200", "CMG_PARTIAL", None),                 # the MP list, then a dropped request
                ("tlsreset", MP, "CMG_TLS_HANDSHAKE_FAILED", None),       # reset mid-TLS
                ("good", "1200", "CMG_SLOW_RESPONSE", {"timeout_ms": 3000}),  # slow drip
                ("wrongname", MP, "CMG_CERT_NAME_MISMATCH", None)):       # wrong certificate
            with self.subTest(case=case, mp=mp):
                r = self.expect(code, "warn" if code == "CMG_PARTIAL" else "fail", case=case, mp=mp, extra=extra)
                got = self.peak_rss_kb(case, mp, extra)
                if got:
                    self.assertEqual(got[0]["code"], code)
                    self.assertLess(got[1], 40 * 1024, "peak memory %d KB" % got[1])
                    print("hostile %s/%s: %s, peak RSS %d KB" % (case, mp, code, got[1]), file=sys.stderr)

    def test_a_proxy_that_does_not_resolve(self):
        # the configured proxy (as SYSTEM's would be) has a name nothing resolves: the proxy is named, not the CMG
        r = self.expect("CMG_PROXY_FAILED", extra={"proxy": "http://no-such-proxy.invalid:3128"})
        self.assertIn("no-such-proxy.invalid", r["summary"])
        self.assertEqual(r["facts"]["traffic"]["bytes_sent"], 0)

    # --- target ---------------------------------------------------------------------------------------------

    def test_bad_url_and_no_target(self):
        self.expect("CMG_BAD_URL", url="http://cmg.lab.test/CCM_Proxy_MutualAuth/1")
        self.expect("CMG_BAD_URL", url="https://cmg.lab.test/CCM_Proxy_MutualAuth/abc")
        cfg = os.path.join(self.tmp, "c.json")
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "s"))},
                       "log": {"file": native_path(os.path.join(self.tmp, "l.log"))}}, f)
        rc, out, _ = run("-c", native_path(cfg), "check", "cmgprobe", "--json")
        r = json.loads(out)
        self.assertEqual((rc, r["status"], r["code"]), (0, "skip", "CMG_NO_TARGET"))

    def selftest_entra(self, tenant, extra=None):
        """selftest with an Entra client (clientauth and aadjoin from a capture, its TenantId set)."""
        src = os.path.join(DATA, "clientauth", "03-hybrid-entra-ps7")
        cap = os.path.join(tempfile.mkdtemp(dir=self.tmp), "entra")
        shutil.copytree(src, cap)
        p = os.path.join(cap, "dsreg.txt")
        with open(p, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-16") if raw[:2] == b"\xff\xfe" else raw.decode("utf-8-sig")
        import re
        text = re.sub(r"(TenantId\s*:\s*)\S+", lambda m: m.group(1) + tenant, text)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        port = PORTS["good"]
        c = {"url": "https://cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (port, MP),
             "resolve": ["cmg.lab.test:%d:127.0.0.1" % port], "timeout_ms": DEADLINE_MS,
             "ca_file": native_path(PORTS["root"])}
        c.update(extra or {})
        cfg = os.path.join(self.tmp, "entra.json")
        off = {k: {"enabled": False} for k in ("clientlogs", "mpcandidates", "netenv", "content", "device", "exec")}
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "spool"))},
                       "state_dir": native_path(os.path.join(self.tmp, "state")),
                       "log": {"file": native_path(os.path.join(self.tmp, "cmgdiag.log"))},
                       "checks": off | {"clientauth": {"input": native_path(cap)},
                                        "aadjoin": {"input": native_path(p)}, "cmgprobe": c}}, f)
        rc, out, err = run("-c", native_path(cfg), "selftest", "--json", "--no-upload")
        b = json.loads(out)
        self.last_bundle, self.last_cfg = b, cfg
        auth = [x for x in b["checks"] if x["check"] == "clientauth"][0]
        self.assertEqual(auth["facts"].get("mode"), "entra", auth["summary"])
        r = [x for x in b["checks"] if x["check"] == "cmgprobe"][0]
        transcripts.record(run, cfg, self.id(), r)
        return r

    def test_entra_client_whose_tenant_the_cmg_knows(self):
        r = self.selftest_entra(PORTS["tenant"])
        self.assertEqual((r["code"], r["facts"]["tenant"]), ("CMG_OK", {"tenant_id": PORTS["tenant"], "onboarded": True}))
        self.assertEqual(r["facts"]["proxy_kind"], "ServerAuth")  # an Entra client uses the ServerAuth path
        self.assertIn("/CCM_Proxy_ServerAuth/", r["facts"]["url"])
        self.assertIn("/CCM_Proxy_ServerAuth/AADAuthInfo?TenantID=" + PORTS["tenant"],
                      [q["path"] for q in r["facts"]["requests"]])

    def test_entra_client_whose_tenant_is_not_onboarded(self):
        other = "99999999-8888-7777-6666-555555555555"
        r = self.selftest_entra(other)
        self.assertEqual((r["status"], r["code"]), ("fail", "CMG_TENANT_NOT_ONBOARDED"), r["summary"])
        self.assertNotIn(other, r["summary"])  # read aloud: the tenant ID is on the detail line
        self.assertIn(other, r["detail"])
        self.assertFalse(r["facts"]["tenant"]["onboarded"])
        self.assertIn("azure-ccmsetup", r["facts"]["reference"])
        # one root cause, read aloud first by the self-test
        d = self.last_bundle["diagnosis"]
        self.assertEqual([c["code"] for c in d["root_causes"]], ["TENANT_NOT_ONBOARDED"], d)
        self.assertIn("cmgprobe:CMG_TENANT_NOT_ONBOARDED", d["root_causes"][0]["evidence"])
        self.assertIn("not set up in Configuration Manager", d["why"])
        rc, out, err = run("-c", native_path(self.last_cfg), "selftest", "--no-upload")
        # the title, then the root cause before any check line, though the checks ran first
        self.assertRegex(out, r"\Acmgdiag \S+ selftest on \S+\n\nWhy: The device's Entra tenant is not set up")
        self.assertIn("First step: In the console", out)
        self.assertLess(out.index("First step:"), out.index("FAIL  cmgprobe"))
        self.assertRegex(out, r"FAIL  cmgprobe .*\n(?: {20}.*\n)*? {20}Detail: tenant ID " + other)
        r = self.selftest_entra(other, {"check_tenant": False})
        self.assertEqual(r["code"], "CMG_OK")
        self.assertEqual(self.last_bundle["diagnosis"]["root_causes"], [])
        self.assertIsNone(self.last_bundle["diagnosis"]["why"])

    def test_every_candidate_is_probed_and_one_that_works_is_enough(self):
        good, refused = PORTS["good"], PORTS["refused"]
        caps = os.path.join(self.tmp, "mp.json")
        with open(caps, "w") as f:  # two CMGs in the client's MP list: the first refuses, the second works
            json.dump([{"MP": "cmg-bad.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (refused, MP), "Type": "Internet",
                        "Index": 1, "Version": 9128, "Capabilities": ""},
                       {"MP": "cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (good, MP), "Type": "Internet",
                        "Index": 2, "Version": 9128, "Capabilities": ""}], f)
        cfg = os.path.join(self.tmp, "cand.json")
        off = {k: {"enabled": False} for k in ("clientlogs", "aadjoin", "clientauth", "netenv", "content", "device", "exec")}
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "spool"))},
                       "state_dir": native_path(os.path.join(self.tmp, "state")),
                       "log": {"file": native_path(os.path.join(self.tmp, "cmgdiag.log"))},
                       "checks": off | {"mpcandidates": {"input": native_path(caps)},
                                        "cmgprobe": {"resolve": ["cmg-bad.lab.test:%d:127.0.0.1" % refused,
                                                                 "cmg.lab.test:%d:127.0.0.1" % good],
                                                     "timeout_ms": 8000, "ca_file": native_path(PORTS["root"])}}}, f)
        rc, out, err = run("-c", native_path(cfg), "selftest", "--json", "--no-upload")
        b = json.loads(out)
        mpc = [x for x in b["checks"] if x["check"] == "mpcandidates"][0]
        r = [x for x in b["checks"] if x["check"] == "cmgprobe"][0]
        self.assertEqual(len(r["facts"].get("candidates", [])), 2, (mpc["summary"], r["summary"]))
        self.assertEqual([c["code"] for c in r["facts"]["candidates"]], ["CMG_CONNECT_REFUSED", "CMG_OK"])
        self.assertEqual((r["status"], r["code"]), ("warn", "CMG_SOME_CANDIDATES_FAIL"))
        transcripts.record(run, cfg, self.id(), r)
        self.assertIn("cmg.lab.test", r["summary"])
        self.assertIn("cmg-bad.lab.test", r["summary"])
        self.assertIsNone(test_cli.plain_words(r["summary"]), r["summary"])  # the URL and its MP id: the detail
        self.assertIn("https://cmg-bad.lab.test:%d/" % refused, r["detail"])

    def test_target_from_the_clients_mp_list(self):
        # No url: the CMG the mpcandidates check found (a capture here) is probed, as ServerAuth.
        cfg = os.path.join(self.tmp, "c.json")
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "s"))},
                       "log": {"file": native_path(os.path.join(self.tmp, "l.log"))},
                       "checks": {"aadjoin": {"enabled": False}, "clientlogs": {"enabled": False},
                                  "mpcandidates": {"input": native_path(own_capture(os.path.join(
                                      DATA, "mpcandidates", "01-get-ciminstance-convertto-json-ps7.json"), self.tmp))},
                                  "cmgprobe": {"resolve": ["cmg.contoso.com:443:127.0.0.1"], "timeout_ms": 5000}}}, f)
        rc, out, err = run("-c", native_path(cfg), "selftest", "--json", "--no-upload")
        b = json.loads(out)
        r = [c for c in b["checks"] if c["check"] == "cmgprobe"][0]
        self.assertEqual(r["facts"]["target_source"], "mpcandidates")
        self.assertEqual(r["facts"]["url"], "https://cmg.contoso.com/CCM_Proxy_ServerAuth/" + MP)
        self.assertEqual(r["code"], "CMG_CONNECT_REFUSED")
        # --only cmgprobe still gets the URL: the runner adds the check that provides it, first
        rc, out, err = run("-c", native_path(cfg), "selftest", "--only", "cmgprobe", "--json", "--no-upload")
        b = json.loads(out)
        names = [c["check"] for c in b["checks"]]
        self.assertLess(names.index("mpcandidates"), names.index("cmgprobe"), names)
        mp = [c for c in b["checks"] if c["check"] == "mpcandidates"][0]
        self.assertEqual(mp["facts"]["ran_for"], "the hand-over to a check of --only")
        r = [c for c in b["checks"] if c["check"] == "cmgprobe"][0]
        self.assertEqual(r["facts"]["target_source"], "mpcandidates")
        # a provider that is disabled is not run, and the check says what it lacks
        with open(cfg) as f:
            c2 = json.load(f)
        c2["checks"]["mpcandidates"]["enabled"] = False
        with open(cfg, "w") as f:
            json.dump(c2, f)
        rc, out, err = run("-c", native_path(cfg), "selftest", "--only", "cmgprobe", "--json", "--no-upload")
        r = [c for c in json.loads(out)["checks"] if c["check"] == "cmgprobe"][0]
        self.assertEqual(r["code"], "CMG_NO_TARGET")
        self.assertIn("cmg_urls: mpcandidates is disabled", r["facts"]["handover_missing"])


class OneCmgTwoNames(unittest.TestCase):
    """The MP list names HOST/CCM_Proxy_MutualAuth/<id>, CMGFQDNs the bare https://HOST (another case):
    one CMG, probed through its management point, and `check cmgprobe` finds it as selftest does."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-names-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def capture(self, mp_id):
        port = PORTS["good"]
        d = os.path.join(self.tmp, "capture")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "candidates.json"), "w") as f:
            json.dump([{"MP": "cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (port, mp_id), "Type": "Internet",
                        "Index": 1, "Version": 9128, "Capabilities": ""}], f)
        reg = ('Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\CCM]\r\n'
               '"CMGFQDNs"="https://CMG.LAB.TEST:%d"\r\n' % port)
        with open(os.path.join(d, "client-state.reg"), "wb") as f:
            f.write(b"\xff\xfe" + reg.encode("utf-16-le"))
        cfg = os.path.join(self.tmp, "c.json")
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "s"))},
                       "state_dir": native_path(os.path.join(self.tmp, "state")),
                       "log": {"file": native_path(os.path.join(self.tmp, "l.log"))},
                       "checks": {"aadjoin": {"enabled": False}, "clientauth": {"enabled": False},
                                  "mpcandidates": {"input": native_path(d)},
                                  "cmgprobe": {"resolve": ["cmg.lab.test:%d:127.0.0.1" % port], "timeout_ms": DEADLINE_MS,
                                               "ca_file": native_path(PORTS["root"])}}}, f)
        return cfg

    def check(self, cfg):
        rc, out, err = run("-c", native_path(cfg), "check", "cmgprobe", "--json")
        self.assertTrue(out.strip(), "exit %d, stderr: %s" % (rc, err))
        return rc, json.loads(out)

    def test_check_cmgprobe_takes_its_cmg_from_the_mp_list_once(self):
        rc, r = self.check(self.capture(MP))
        self.assertEqual(r["facts"]["target_source"], "mpcandidates")
        self.assertEqual(len(r["facts"]["discovered_urls"]), 1, r["facts"]["discovered_urls"])
        self.assertRegex(r["facts"]["url"], "/CCM_Proxy_(Mutual|Server)Auth/" + MP + "$")  # the MP list's, with its id
        self.assertNotIn("candidates", r["facts"])  # one CMG, not two
        self.assertEqual((rc, r["code"]), (0, "CMG_OK"))
        self.assertIs(r["facts"]["mp_list_answered"], True)

    def test_a_cmg_that_refuses_every_mp_request_is_a_failure(self):
        # the lab answers 403 CMGConnector_Forbidden for this id; ServiceMetadata still answers 200
        rc, r = self.check(self.capture("1403"))
        self.assertEqual((rc, r["status"], r["code"]), (2, "fail", "CMG_HTTP_403"), r["summary"])
        self.assertEqual(len(r["facts"]["discovered_urls"]), 1)
        self.assertIs(r["facts"].get("mp_list_answered"), False)
        self.assertNotIn("can use", r["summary"])


class FalseIntranet(unittest.TestCase):
    """The client believes it is on the intranet (ClientInfo.InInternet false). Its intranet MP is the
    lab's nginx (up) or a port where nothing listens (down)."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-intranet-")
        self.cap = os.path.join(self.tmp, "capture")  # not right in /tmp: a capture must be admin-only above it too
        os.mkdir(self.cap)
        with open(os.path.join(self.cap, "candidates.json"), "w") as f:
            json.dump([{"MP": "MP01.corp.lab.test", "Type": "Assigned", "Index": 1, "Version": 9128,
                        "Capabilities": "<Capabilities SchemaVersion=\"1.0\"><Property Name=\"SSLState\" Value=\"63\"/></Capabilities>"},
                       {"MP": "cmg.lab.test/CCM_Proxy_MutualAuth/" + MP, "Type": "Internet", "Index": 1,
                        "Version": 9128, "Capabilities": ""}], f)
        with open(os.path.join(self.cap, "clientinfo.json"), "w") as f:
            json.dump({"InInternet": False}, f)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def check(self, port):
        cfg = os.path.join(self.tmp, "c.json")
        with open(cfg, "w") as f:
            json.dump({"log": {"file": native_path(os.path.join(self.tmp, "l.log"))},
                       "state_dir": native_path(os.path.join(self.tmp, "state")),
                       "checks": {"mpcandidates": {"input": native_path(self.cap), "intranet_probe": "on",
                                                   "mp_https_port": port, "intranet_timeout_ms": 2000,
                                                   "intranet_resolve": ["MP01.corp.lab.test:%d:127.0.0.1" % port]}}}, f)
        rc, out, err = run("-c", native_path(cfg), "check", "mpcandidates", "--json")
        self.assertTrue(out.strip(), err)
        return json.loads(out)

    def test_intranet_mp_up_is_where_the_client_thinks_it_is(self):
        r = self.check(PORTS["good"])
        self.assertEqual((r["status"], r["code"]), ("pass", "MP_CMG_PRESENT"), r["summary"])
        self.assertIs(r["facts"]["location"]["intranet_mp_reachable"], True)
        self.assertIs(r["facts"]["false_intranet"], False)

    def test_intranet_mp_down_is_a_false_intranet(self):
        with socket.socket() as sk:  # a port nothing listens on
            sk.bind(("127.0.0.1", 0))
            down = sk.getsockname()[1]
        r = self.check(down)
        self.assertEqual((r["status"], r["code"]), ("fail", "LOCATION_FALSE_INTRANET"), r["summary"])
        self.assertIn("mp01.corp.lab.test port %d" % down, r["summary"] + r.get("detail", ""))
        self.assertIs(r["facts"]["false_intranet"], True)
        self.assertTrue(r["remediation"])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_cmgprobe.py BINARY [--wine]")
    test_cli.BIN = os.path.abspath(sys.argv[1])
    test_cli.WINE = "--wine" in sys.argv[2:]
    argv = [sys.argv[0]] + [a for a in sys.argv[2:] if a != "--wine"]
    unittest.main(argv=argv, verbosity=2)
