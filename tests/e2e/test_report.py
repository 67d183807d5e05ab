#!/usr/bin/env python3
"""End-to-end tests of `cmgdiag report` on a generated fleet (tests/tools/make_fleet.py): the
root cause and device count of each injected fault, in the CSV and the HTML; bad inputs counted
and listed, never fatal; bundles of older agents diagnosed here; --since; bundle text that is
hostile to HTML or to Excel; an Azure Blob container of the lab's Azurite (listed and downloaded
through the Blob REST API with a list+read SAS, which never shows); and the page in a real
headless Chromium: the DOM it dumps (counts, root causes, the filter script ran) and a screenshot
that is not blank.

    test_report.py BINARY [--wine]"""
import base64
import csv
import glob
import gzip
import html as html_lib
import hashlib
import io
import json
import random
import os
import re
import shutil
import socket
import ssl
import time
import struct
import subprocess
import sys
import tempfile
import unittest
import urllib.parse
import urllib.request
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
LAB = os.path.join(ROOT, "tests", "lab")
BINARY = None
WINE = False
LAB_DIR = AZ_PORT = None


def run(*args, stdin=None):
    env = dict(os.environ, WINEDEBUG="-all")
    p = subprocess.run((["wine"] if WINE else []) + [BINARY, *args], capture_output=True, input=stdin, timeout=300,
                       env=env, text=True, encoding="utf-8", errors="replace")
    return p.returncode, p.stdout.replace("\r\n", "\n"), p.stderr.replace("\r\n", "\n")


def nat(p):
    """A path as the binary sees it (wine: a Windows path on the Z: drive)."""
    return "Z:" + os.path.abspath(p).replace("/", "\\") if WINE else p


def make_fleet(out, *extra):
    subprocess.run([sys.executable, os.path.join(ROOT, "tests", "tools", "make_fleet.py"), out, *extra], check=True)
    with open(out + ".expected.json") as f:
        return json.load(f)


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def chromium():
    for name in ("chromium", "chromium-browser"):
        p = shutil.which(name)
        if p:
            return p
    return None


def png_colours(path):
    """Distinct colours of an RGB(A) 8-bit PNG (what Chromium writes), decoded here with zlib."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            bpp = {2: 3, 6: 4}[ctype]
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, colours = zlib.decompress(idat), w * bpp, None, set()
    for y in range(h):
        ftype, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i] if prev else 0
            c = prev[i - bpp] if prev and i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        if y % 8 == 0:
            for x in range(0, stride, bpp * 4):
                colours.add(bytes(line[x:x + 3]))
    return colours


class Folder(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        cls.fleet = os.path.join(cls.tmp, "fleet")
        cls.expected = make_fleet(cls.fleet, "--bad")
        cls.html, cls.csv = os.path.join(cls.tmp, "r.html"), os.path.join(cls.tmp, "r.csv")
        cls.rc, cls.out, cls.err = run("report", nat(cls.fleet), "--html", nat(cls.html), "--csv", nat(cls.csv))
        with open(cls.html, encoding="utf-8") as f:
            cls.page = f.read()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_each_injected_fault_is_named_with_its_device_count(self):
        self.assertEqual(self.rc, 0, self.err)
        rows = read_csv(self.csv)
        self.assertEqual(len(rows), self.expected["devices"])
        self.assertEqual(list(rows[0].keys())[:5], ["device", "last_seen", "overall", "root_cause", "summary"])
        got = {}
        for r in rows:
            if r["root_cause"]:
                got[r["root_cause"]] = got.get(r["root_cause"], 0) + 1
        self.assertEqual(got, self.expected["causes"])
        self.assertEqual(sum(r["overall"] == "fail" for r in rows), self.expected["fail"])
        # the latest bundle decides: every device's row is its day-30 bundle
        self.assertTrue(all(r["last_seen"].startswith("2026-11-30") for r in rows))
        for code, n in self.expected["causes"].items():
            self.assertRegex(self.out, r"\b%d\s+%s\b" % (n, code))
            row = re.search(r'<tr class="cause"><td><code>%s</code></td><td class="num devices">(\d+)</td>' % code,
                            self.page)
            self.assertTrue(row, code)
            self.assertEqual(int(row.group(1)), n)

    def test_older_agents_are_diagnosed_here(self):
        rows = {r["device"]: r for r in read_csv(self.csv)}
        # LAPTOP-00000 runs 0.1.0 (no diagnosis in its bundles) and has the first injected fault
        self.assertEqual(rows["LAPTOP-00000"]["agent_version"], "0.1.0")
        self.assertEqual(rows["LAPTOP-00000"]["root_cause"], "SYSTEM_NO_PROXY")
        self.assertIn("SYSTEM", rows["LAPTOP-00000"]["summary"])
        self.assertRegex(self.page, r"\d+ device\(s\) had bundles of an agent before 0.2")

    def test_bad_inputs_are_counted_and_listed_never_fatal(self):
        m = re.search(r'<p id="bad">(\d+) input', self.page)
        self.assertEqual(int(m.group(1)), self.expected["bad"])
        for name in ("corrupt.json.gz", "truncated.json.gz", "foreign.json"):
            self.assertIn(name, self.page)
        self.assertIn("3 input(s) could not be read", self.out)

    def test_the_page_references_nothing_outside_itself(self):
        self.assertNotRegex(self.page, r"(?i)<(link|img|iframe|object|embed|base|audio|video|source)\b")
        self.assertNotRegex(self.page, r"(?i)\b(src|href|action|formaction|srcset|poster)\s*=")
        css = "".join(re.findall(r"(?is)<style>(.*?)</style>", self.page) +
                      re.findall(r'(?i)\sstyle\s*=\s*"([^"]*)"', self.page))
        self.assertNotRegex(css, r"(?i)url\s*\(|@import")
        self.assertIn("default-src 'none'", self.page)
        self.assertIn("@media print", self.page)

    def test_cmg_latency_certificates_agents(self):
        self.assertRegex(self.page, r'<p id="latency">.*median \d+ ms, 90th percentile \d+ ms, 99th percentile')
        self.assertIn("cmg2.contoso.com", self.page)
        self.assertIn("21 day(s) (renew it now)", self.page)
        self.assertIn("200 day(s)", self.page)
        self.assertRegex(self.page, r"<td>0\.3\.0</td><td class=\"num\">30</td>")  # half on this agent's format
        self.assertRegex(self.page, r"<td>0\.1\.0</td><td class=\"num\">15</td>")
        self.assertRegex(self.page, r'<p id="spool">Spool backlog')

    @unittest.skipUnless(chromium(), "Debian's chromium package is not installed")
    def test_in_headless_chromium(self):
        if WINE:
            self.skipTest("the page is the same from cmgdiag.exe; Chromium reads it in the native tier")
        base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=" + os.path.join(self.tmp, "chrome"),
                "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,1800"]
        url = "file://" + self.html
        dom = subprocess.run(base + ["--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        self.assertIn('id="n-devices">%d<' % self.expected["devices"], dom)
        self.assertIn('id="n-fail">%d<' % self.expected["fail"], dom)
        for code, n in self.expected["causes"].items():
            self.assertRegex(dom, r'<code>%s</code></td><td class="num devices">%d</td>' % (code, n))
        # the filter script ran in the browser: it wrote how many rows it shows
        self.assertIn("%d of %d shown" % (self.expected["devices"], self.expected["devices"]), dom)
        shot = os.path.join(self.tmp, "r.png")
        subprocess.run(base + ["--screenshot=" + shot, url], capture_output=True, timeout=120)
        self.assertTrue(os.path.exists(shot))
        colours = png_colours(shot)
        self.assertGreater(len(colours), 8, "the screenshot is blank")
        self.assertIn(bytes([0xc5, 0x0f, 0x1f]), colours)  # the red of failing devices was drawn


    @unittest.skipUnless(chromium(), "Debian's chromium package is not installed")
    def test_sorting_the_checks_inline_and_no_overflow_at_1280_px(self):
        if WINE:
            self.skipTest("the page is the same from cmgdiag.exe; Chromium reads it in the native tier")
        # a probe script added to the page, allowed by its own hash next to the page's: the page's CSP
        # stays as it is, so this also proves the page's script runs under it
        probe = ("(function(){var o={},t=document.getElementById('devices'),h=t.tHead.rows[0].cells,c=-1;"
                 "for(var k=0;k<h.length;k++)if(h[k].textContent==='Verdict')c=k;"
                 "function col(){var a=[];for(var k=0;k<t.tBodies[0].rows.length;k++)"
                 "a.push(t.tBodies[0].rows[k].cells[c].textContent);return a;}"
                 "h[c].click();o.asc=col();h[c].click();o.desc=col();o.aria=h[c].getAttribute('aria-sort');"
                 "var d=document.querySelectorAll('#devices details');for(var k=0;k<d.length;k++)d[k].open=true;"
                 "o.details=d.length;o.items=document.querySelectorAll('#devices ul.checks li').length;"
                 "o.first=d.length?d[0].textContent:'';"
                 "o.sw=document.documentElement.scrollWidth;o.cw=document.documentElement.clientWidth;o.iw=window.innerWidth;"
                 "var p=document.createElement('pre');p.id='probe';p.textContent=JSON.stringify(o);"
                 "document.body.appendChild(p);})();")
        digest = base64.b64encode(hashlib.sha256(probe.encode()).digest()).decode()
        page = re.sub(r"script-src ('sha256-[^']+')", r"script-src \1 'sha256-%s'" % digest, self.page, count=1)
        self.assertIn(digest, page)
        page = page.replace("</body>", "<script>%s</script></body>" % probe)
        path = os.path.join(self.tmp, "probe.html")
        with open(path, "w", encoding="utf-8") as f:
            f.write(page)
        base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--user-data-dir=" + os.path.join(self.tmp, "chrome2"),
                "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1280,900"]
        dom = subprocess.run(base + ["--dump-dom", "file://" + path], capture_output=True, text=True,
                             timeout=120).stdout
        m = re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)
        self.assertTrue(m, "the probe did not run")
        o = json.loads(html_lib.unescape(m.group(1)))
        n = self.expected["devices"]
        rank = {"fail": 0, "warn": 1, "pass": 2}
        self.assertEqual(len(o["asc"]), n)
        self.assertEqual([rank[v] for v in o["asc"]], sorted(rank[v] for v in o["asc"]))
        self.assertEqual([rank[v] for v in o["desc"]], sorted((rank[v] for v in o["desc"]), reverse=True))
        self.assertNotEqual(o["asc"], o["desc"])
        self.assertEqual(o["aria"], "descending")
        # every device opens its checks in place, each with a verdict, a check and a code
        self.assertEqual(o["details"], n)
        self.assertGreaterEqual(o["items"], n)
        self.assertRegex(o["first"], r"\d+ check\(s\), \d+ not passing")
        # no horizontal scroll bar at 1280 px, with every device's checks open
        self.assertLessEqual(o["iw"], 1280)
        self.assertGreater(o["iw"], 1000)
        self.assertLessEqual(o["sw"], o["cw"], "the page is %d px wide in a %d px window" % (o["sw"], o["cw"]))


class Hostile(unittest.TestCase):
    def test_bundle_text_cannot_become_markup_or_a_formula(self):
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            b = {"schema": "cmgdiag.bundle/1", "bundle_id": "x", "created_at": "2026-11-30T08:00:00Z",
                 "trigger": "schedule", "agent": {"version": "<b>0.1</b>"},
                 "device": {"hostname": "=HYPERLINK(\"http://evil\")<script>alert(1)</script>"},
                 "overall": "fail", "checks": [{"check": "device", "status": "fail", "code": "DEVICE_LOW_DISK",
                                                "summary": "\"><img src=x onerror=alert(1)>", "remediation": "r",
                                                "facts": {}}],
                 "spool": {"pending": 0, "dropped_total": 0}}
            with gzip.open(os.path.join(tmp, "b.json.gz"), "wt") as f:
                json.dump(b, f)
            html, out = os.path.join(tmp, "r.html"), os.path.join(tmp, "r.csv")
            rc, _, err = run("report", nat(tmp), "--html", nat(html), "--csv", nat(out))
            self.assertEqual(rc, 0, err)
            with open(html, encoding="utf-8") as f:
                page = f.read()
            self.assertNotIn("<script>alert", page)
            self.assertNotIn("<img", page)
            self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)
            self.assertEqual(page.count("<script>"), 1)  # only the page's own filter
            row = read_csv(out)[0]
            self.assertTrue(row["device"].startswith("'="), row["device"])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_devices_count_under_their_primary_cause(self):
        # device A: a dead connection to the CMG first, a clock problem second; device B: the clock only
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            def bundle(host, causes):
                return {"schema": "cmgdiag.bundle/1", "bundle_id": host, "created_at": "2026-11-30T08:00:00Z",
                        "trigger": "schedule", "agent": {"version": "0.1.0"}, "device": {"hostname": host},
                        "overall": "fail", "readiness": "fail" if host == "A" else "pass", "checks": [],
                        "spool": {"pending": 0, "dropped_total": 0},
                        "diagnosis": {"root_causes": [{"code": c, "say": "%s says." % c, "first_step": "s",
                                                       "source": "docs/diagnosis.md", "basis": "inferred",
                                                       "evidence": ["x:y"], "explains": []} for c in causes]}}
            for host, causes in (("A", ["CMG_CONNECTION_FAILED", "CLOCK_WRONG"]), ("B", ["CLOCK_WRONG"]),
                                 ("C", ["CMG_CONNECTION_FAILED"])):
                with gzip.open(os.path.join(tmp, host + ".json.gz"), "wt") as f:
                    json.dump(bundle(host, causes), f)
            html, csvf = os.path.join(tmp, "r.html"), os.path.join(tmp, "r.csv")
            rc, out, err = run("report", nat(tmp), "--html", nat(html), "--csv", nat(csvf))
            # readiness for an upgrade is its own column, never the verdict
            self.assertEqual({r["device"]: r["readiness"] for r in read_csv(csvf)}, {"A": "fail", "B": "pass", "C": "pass"})
            self.assertEqual(rc, 0, err)
            self.assertRegex(out, r"\n\s+2\s+CMG_CONNECTION_FAILED")
            self.assertRegex(out, r"\n\s+1 \+1\s+CLOCK_WRONG")
            with open(html, encoding="utf-8") as f:
                page = f.read()
            self.assertIn('<code>CLOCK_WRONG</code></td><td class="num devices">1</td><td class="num secondary">1</td>',
                          page)
            self.assertRegex(page, r'<td class="fail"[^>]*>fail</td><td class="warn">not ready</td>')
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_a_helpdesk_run_never_decides_the_device(self):
        # A failed the full cycle; a helpdesk `selftest --only agent` passed afterwards: A stays failing
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            def bundle(host, created, overall, partial):
                return {"schema": "cmgdiag.bundle/1", "bundle_id": host + created, "created_at": created,
                        "trigger": "selftest", "agent": {"version": "0.1.0"}, "device": {"hostname": host},
                        "overall": overall, "partial": partial, "checks": [],
                        "spool": {"pending": 0, "dropped_total": 0}}
            for i, (host, created, overall, partial) in enumerate((
                    ("A", "2026-11-30T08:00:00Z", "fail", False), ("A", "2026-11-30T09:00:00Z", "pass", True),
                    ("B", "2026-11-30T09:00:00Z", "pass", True))):
                with gzip.open(os.path.join(tmp, "%d.json.gz" % i), "wt") as f:
                    json.dump(bundle(host, created, overall, partial), f)
            csvf = os.path.join(tmp, "r.csv")
            rc, out, err = run("report", nat(tmp), "--csv", nat(csvf))
            self.assertEqual(rc, 0, err)
            rows = {r["device"]: r for r in read_csv(csvf)}
            self.assertEqual((rows["A"]["overall"], rows["A"]["helpdesk_runs"]), ("fail", "1"))
            self.assertEqual((rows["B"]["overall"], rows["B"]["helpdesk_runs"]), ("", "1"))
            self.assertIn("1 fail, 0 warn, 0 pass", out)
            self.assertIn("1 with helpdesk runs only", out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_an_older_bundle_is_read_up_to_its_checks(self):
        # this agent writes "checks" and "diagnosis" last: of a bundle that cannot decide its device only
        # the head is inflated (docs/report.md "Scale"); what the head says still counts (its day's
        # verdict, a gate), a cut in its checks goes unnoticed, the same cut in the newest is refused
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            def write(host, day, overall, gate=None, cut=False):
                b = {"schema": "cmgdiag.bundle/1", "bundle_id": host + day, "created_at": "2026-11-%sT09:00:00Z" % day,
                     "trigger": "validate" if gate else "schedule", "agent": {"version": "0.3.0"},
                     "device": {"hostname": host}, "overall": overall, "spool": {"pending": 0, "dropped_total": 0},
                     "partial": False, "checks_requested": []}
                if gate:
                    b["gate"] = {"profile": "pre-upgrade", "verdict": gate, "blocking": [], "warnings": [],
                                 "not_checked": [], "line": gate}
                words = random.Random(host + day).getrandbits(160000).to_bytes(20000, "big").hex()  # 40 KB, no repeats
                b["checks"] = [{"check": "exec", "status": overall, "code": "EXEC_X", "summary": words,
                                "remediation": "", "facts": {}, "duration_ms": 1}]
                raw = gzip.compress(json.dumps(b).encode())
                d = os.path.join(tmp, "2026", "11", day, host)
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, b["bundle_id"] + ".json.gz"), "wb") as f:
                    f.write(raw[: len(raw) * 2 // 3] if cut else raw)
            write("D", "30", "pass")
            write("D", "29", "fail", gate="not ready", cut=True)
            write("E", "30", "fail", cut=True)
            write("E", "29", "warn")
            csvf = os.path.join(tmp, "r.csv")
            rc, out, err = run("report", nat(tmp), "--csv", nat(csvf))
            rows = {r["device"]: r for r in read_csv(csvf)}
            self.assertEqual(rows["D"]["overall"], "pass")
            self.assertEqual(rows["D"]["gate"], "not ready", rows["D"])  # from the head of the older bundle
            self.assertEqual(rows["E"]["overall"], "warn")  # its newest is cut: refused, the older decides
            self.assertIn("3 bundle(s) read, 2 device(s)", out)
            self.assertIn("1 input(s) could not be read", out)  # E's newest, not D's older one
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_a_bundle_from_the_future_does_not_decide_its_device(self):
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            def bundle(created, overall):
                return {"schema": "cmgdiag.bundle/1", "bundle_id": created, "created_at": created, "trigger": "schedule",
                        "agent": {"version": "0.1.0"}, "device": {"hostname": "PC7"}, "overall": overall,
                        "checks": [], "spool": {"pending": 0, "dropped_total": 0}}
            b = bundle("2026-11-30T08:00:00Z", "fail")
            b["checks"] = [{"check": "cmgprobe", "status": "fail", "code": "CMG_CERT_EXPIRED", "summary": "s",
                            "remediation": "r", "facts": {"host": "cmg.contoso.com", "tls": {"days_to_expiry": -10}}}]
            with gzip.open(os.path.join(tmp, "now.json.gz"), "wt") as f:
                json.dump(b, f)
            with gzip.open(os.path.join(tmp, "future.json.gz"), "wt") as f:
                json.dump(bundle("2099-01-01T00:00:00Z", "pass"), f)
            csvf, html = os.path.join(tmp, "r.csv"), os.path.join(tmp, "r.html")
            rc, out, err = run("report", nat(tmp), "--csv", nat(csvf), "--html", nat(html))
            self.assertEqual(rc, 0, err)
            self.assertEqual([(r["device"], r["overall"]) for r in read_csv(csvf)], [("PC7", "fail")])
            row = read_csv(csvf)[0]
            # numbers are numbers: a negative one gets no formula guard, and an age is a count of hours
            self.assertEqual(row["cmg_cert_days_left"], "-10")
            self.assertGreaterEqual(int(row["age_hours"]), 24)
            with open(csvf, encoding="utf-8-sig") as f:
                self.assertNotIn("'-10", f.read())
            # the bundle is days old: the device is not reporting
            self.assertIn("1 not reporting", out)
            with open(html, encoding="utf-8") as f:
                page = f.read()
            self.assertIn("suspect: dated 2099-01-01T00:00:00Z", page)
            self.assertIn("future.json.gz", page)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_one_certificate_is_one_value_in_the_cmg_table(self):
        # devices that bundled on different days saw the same certificate: counted from the report's now by
        # its date, it is one line, and the device that still saw the old (expired) one is a line of its own
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            now = time.time()
            iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            new_na, old_na = iso(now + 100.5 * 86400), iso(now - 3.5 * 86400)
            for i, (age_days, na) in enumerate(((0.1, new_na), (1.2, new_na), (2.3, new_na), (5.0, old_na))):
                created = iso(now - age_days * 86400)
                b = {"schema": "cmgdiag.bundle/1", "bundle_id": "b%d" % i, "created_at": created,
                     "trigger": "schedule", "agent": {"version": "0.1.0"}, "device": {"hostname": "PC%d" % i},
                     "overall": "pass", "spool": {"pending": 0, "dropped_total": 0},
                     "checks": [{"check": "cmgprobe", "status": "pass", "code": "CMG_OK", "summary": "s",
                                 "facts": {"host": "cmg.contoso.com", "cert_not_after": na,
                                           "tls": {"days_to_expiry": int((100.5 if na == new_na else -3.5) + age_days)}}}]}
                with gzip.open(os.path.join(tmp, "%d.json.gz" % i), "wt") as f:
                    json.dump(b, f)
            html = os.path.join(tmp, "r.html")
            rc, out, err = run("report", nat(tmp), "--html", nat(html))
            self.assertEqual(rc, 0, err)
            with open(html, encoding="utf-8") as f:
                row = re.search(r"<table id=\"certs\">.*?</table>", f.read(), re.S).group(0)
            self.assertIn("100 day(s)</span>: 3 devices", row)
            self.assertIn("expired 4 day(s) ago</span>: 1 device", row)
            self.assertEqual(row.count("day(s)</span>"), 1, row)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_c1_controls_never_reach_the_terminal(self):
        # U+009B (CSI) and U+009D (OSC) are one character each in UTF-8 (C2 9B, C2 9D): a terminal acts on them
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            b = {"schema": "cmgdiag.bundle/1", "bundle_id": "c1", "created_at": "2026-11-30T08:00:00Z",
                 "trigger": "schedule", "agent": {"version": "0.3.0"}, "device": {"hostname": "PC\u009b2J"},
                 "overall": "fail", "checks": [], "spool": {"pending": 0, "dropped_total": 0},
                 "diagnosis": {"root_causes": [{"code": "EVIL\u009b31m", "rank": 1,
                                                "say": "Look \u009d0;owned\u0007 here.", "first_step": "x",
                                                "source": "s", "basis": "documented", "evidence": [], "explains": []}]}}
            with gzip.open(os.path.join(tmp, "b.json.gz"), "wt", encoding="utf-8") as f:
                json.dump(b, f, ensure_ascii=False)
            rc, out, err = run("report", nat(tmp))
            self.assertEqual(rc, 0, err)
            self.assertIn("EVIL", out)
            for c1 in ("\u009b", "\u009d", "\x07", "\x1b"):
                self.assertNotIn(c1, out + err)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_the_newest_gate_stays_with_its_device(self):
        # a validate bundle said "not ready"; the scheduled bundle after it decides the verdict but carries
        # no gate: the gate column keeps the newest gate, with its profile and time
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            def bundle(created, gate=None):
                b = {"schema": "cmgdiag.bundle/1", "bundle_id": created, "created_at": created, "trigger": "schedule",
                     "agent": {"version": "0.3.0"}, "device": {"hostname": "PC9"}, "overall": "pass",
                     "readiness": "fail", "spool": {"pending": 0, "dropped_total": 0},
                     "checks": [{"check": "device", "status": "warn", "code": "DEVICE_LOW_BATTERY",
                                 "summary": "The battery is at 12 percent.", "facts": {}},
                                {"check": "clock", "status": "pass", "code": "CLOCK_OK", "summary": "ok", "facts": {}}]}
                if gate:
                    b["trigger"] = "validate"
                    b["gate"] = {"profile": "pre-upgrade", "verdict": gate, "blocking": [], "warnings": [],
                                 "not_checked": []}
                return b
            for i, b in enumerate((bundle("2026-11-30T08:00:00Z", "ready"), bundle("2026-11-30T09:00:00Z", "not ready"),
                                   bundle("2026-11-30T10:00:00Z"))):
                with gzip.open(os.path.join(tmp, "%d.json.gz" % i), "wt") as f:
                    json.dump(b, f)
            csvf, html = os.path.join(tmp, "r.csv"), os.path.join(tmp, "r.html")
            rc, out, err = run("report", nat(tmp), "--csv", nat(csvf), "--html", nat(html))
            self.assertEqual(rc, 0, err)
            row = read_csv(csvf)[0]
            self.assertEqual((row["last_seen"], row["gate"], row["gate_profile"], row["gate_at"]),
                             ("2026-11-30T10:00:00Z", "not ready", "pre-upgrade", "2026-11-30T09:00:00Z"))
            with open(html, encoding="utf-8") as f:
                page = f.read()
            self.assertIn('not ready <span class="muted">(pre-upgrade, 2026-11-30T09:00:00Z)</span>', page)
            # the checks open in place: the warning with its sentence, the pass without one
            self.assertIn("2 check(s), 1 not passing", page)
            self.assertIn('<span class="warn">warn</span> device <code>DEVICE_LOW_BATTERY</code>: The battery is at '
                          '12 percent.</li>', page)
            self.assertIn('<span class="pass">pass</span> clock <code>CLOCK_OK</code></li>', page)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_the_entra_device_id_is_the_identity(self):
        # two laptops both called PC1 (hostnames are self-reported), and one renamed: the Entra device ID decides
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            def bundle(host, aad, created, overall):
                return {"schema": "cmgdiag.bundle/1", "bundle_id": host + created, "created_at": created,
                        "trigger": "schedule", "agent": {"version": "0.1.0"},
                        "device": {"hostname": host, "aad_device_id": aad}, "overall": overall, "checks": [],
                        "spool": {"pending": 0, "dropped_total": 0}}
            a, b = "1b1e5e3c-7d2a-4c52-9a07-3c0b7d4f1e2a", "2c2e5e3c-7d2a-4c52-9a07-3c0b7d4f1e2b"
            for i, x in enumerate((("PC1", a, "2026-11-30T08:00:00Z", "fail"), ("PC1", b, "2026-11-30T09:00:00Z", "pass"),
                                   ("PC1-RENAMED", a, "2026-11-30T10:00:00Z", "warn"))):
                with gzip.open(os.path.join(tmp, "%d.json.gz" % i), "wt") as f:
                    json.dump(bundle(*x), f)
            csvf = os.path.join(tmp, "r.csv")
            rc, out, err = run("report", nat(tmp), "--csv", nat(csvf))
            self.assertEqual(rc, 0, err)
            self.assertEqual(sorted((r["device"], r["overall"]) for r in read_csv(csvf)),
                             [("PC1", "pass"), ("PC1-RENAMED", "warn")])
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_nothing_readable_is_exit_3(self):
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            with open(os.path.join(tmp, "x.json"), "w") as f:
                f.write("{not json")
            rc, out, err = run("report", nat(tmp), "--csv", nat(os.path.join(tmp, "r.csv")))
            self.assertEqual(rc, 3)
            self.assertIn("no bundle could be read", err)
            self.assertIn("x.json", err)
            rc, _, err = run("report", nat(os.path.join(tmp, "missing")))
            self.assertEqual(rc, 3)
            rc, _, err = run("report")
            self.assertEqual(rc, 3)
            self.assertIn("usage: cmgdiag report", err)
            rc, _, err = run("report", nat(tmp), "--since", "zero")
            self.assertEqual(rc, 3)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_since_leaves_older_bundles_out(self):
        tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        try:
            fleet = os.path.join(tmp, "fleet")
            make_fleet(fleet, "--devices", "10", "--days", "3")
            # the bundles were made for November 2026: 3650 days keeps all, and the count says so
            rc, out, err = run("report", nat(fleet), "--since", "3650")
            self.assertIn("30 bundle(s) read, 10 device(s)", out)
            self.assertNotIn("left out", out)
            # a fleet laid out in YYYY/MM/DD folders: --since reads only the folders of those days (the
            # November fleet has none in the last day), as a container lists only those prefixes
            rc, out, err = run("report", nat(fleet), "--since", "1")
            self.assertEqual(rc, 3, out + err)
            self.assertIn("no bundle of the last 1 day(s)", err)
            # bundles outside day folders are read and filtered by their date, as before
            flat = os.path.join(tmp, "flat")
            os.makedirs(flat)
            for i, p in enumerate(glob.glob(os.path.join(fleet, "**", "*.json.gz"), recursive=True)):
                shutil.copy(p, os.path.join(flat, "%d.json.gz" % i))
            rc, out, err = run("report", nat(flat), "--since", "1")
            self.assertEqual(rc, 0, err)
            m = re.search(r"(\d+) device\(s\).*; (\d+) older than 1 days left out", out)
            self.assertTrue(m, out)
            self.assertGreaterEqual(int(m.group(2)), 10)  # day 28 at least, on any day from 2026-11-30 on
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lab(*args):
    return subprocess.run(["bash", os.path.join(LAB, "azurite.sh"), *args], check=True, capture_output=True,
                          text=True).stdout.strip()


class Container(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global LAB_DIR, AZ_PORT
        LAB_DIR = tempfile.mkdtemp(prefix="cmgdiag-lab-")
        AZ_PORT = free_port()
        lab("start", LAB_DIR, str(AZ_PORT))
        cls.tmp = tempfile.mkdtemp(prefix="cmgdiag-report-")
        cls.fleet = os.path.join(cls.tmp, "fleet")
        cls.expected = make_fleet(cls.fleet, "--devices", "30", "--days", "2", "--bad")
        cls.ca = os.path.join(LAB_DIR, "pki", "ca.pem")
        write = lab("sas", LAB_DIR, str(AZ_PORT), "fleet", "--perm", "racwl")
        ctx = ssl.create_default_context(cafile=cls.ca)
        base, q = write.split("?", 1)
        for d, _, names in os.walk(cls.fleet):
            for n in names:
                rel = os.path.relpath(os.path.join(d, n), cls.fleet).replace(os.sep, "/")
                with open(os.path.join(d, n), "rb") as f:
                    req = urllib.request.Request("%s/%s?%s" % (base, urllib.parse.quote(rel), q), data=f.read(),
                                                 method="PUT", headers={"x-ms-blob-type": "BlockBlob"})
                urllib.request.urlopen(req, context=ctx).read()

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["bash", os.path.join(LAB, "azurite.sh"), "stop", LAB_DIR])
        shutil.rmtree(LAB_DIR, ignore_errors=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_listed_and_downloaded_with_a_list_and_read_sas(self):
        url = lab("sas", LAB_DIR, str(AZ_PORT), "fleet", "--perm", "rl", "--no-create")
        sig = re.search(r"[?&]sig=([^&]+)", url).group(1)
        out_csv = os.path.join(self.tmp, "c.csv")
        rc, out, err = run("report", "--container-sas-file", "-", "--ca-file", nat(self.ca), "--csv", nat(out_csv),
                           "--jobs", "8", stdin=url + "\n")
        self.assertEqual(rc, 0, err)
        rows = read_csv(out_csv)
        self.assertEqual(len(rows), self.expected["devices"])
        got = {}
        for r in rows:
            if r["root_cause"]:
                got[r["root_cause"]] = got.get(r["root_cause"], 0) + 1
        self.assertEqual(got, self.expected["causes"])
        self.assertIn("3 input(s) could not be read", out)
        for text in (out, err):
            self.assertNotIn(sig, text)
            self.assertNotIn(urllib.parse.unquote(sig), text)

    def test_since_lists_only_the_prefixes_of_those_days(self):
        # one bundle under today's prefix; the fleet's November ones are not listed, not read
        import datetime
        today = datetime.datetime.now(datetime.timezone.utc)
        write = lab("sas", LAB_DIR, str(AZ_PORT), "fleet", "--perm", "racwl")
        base, q = write.split("?", 1)
        b = {"schema": "cmgdiag.bundle/1", "bundle_id": "today", "created_at": today.strftime("%Y-%m-%dT%H:%M:%SZ"),
             "trigger": "schedule", "agent": {"version": "0.1.0"}, "device": {"hostname": "TODAY-PC"},
             "overall": "pass", "checks": [], "spool": {"pending": 0, "dropped_total": 0}}
        rel = today.strftime("%Y/%m/%d") + "/TODAY-PC/today.json.gz"
        req = urllib.request.Request("%s/%s?%s" % (base, rel, q), data=gzip.compress(json.dumps(b).encode()),
                                     method="PUT", headers={"x-ms-blob-type": "BlockBlob"})
        urllib.request.urlopen(req, context=ssl.create_default_context(cafile=self.ca)).read()
        url = lab("sas", LAB_DIR, str(AZ_PORT), "fleet", "--perm", "rl", "--no-create")
        out_csv = os.path.join(self.tmp, "since.csv")
        rc, out, err = run("report", "--container-sas-file", "-", "--ca-file", nat(self.ca), "--csv", nat(out_csv),
                           "--since", "1", stdin=url + "\n")
        self.assertEqual(rc, 0, err)
        self.assertIn("1 bundle(s) read, 1 device(s)", out)
        self.assertEqual([r["device"] for r in read_csv(out_csv)], ["TODAY-PC"])
        # the November bundles were neither read nor left out after reading: not listed at all
        self.assertNotIn("left out", out)

    def test_a_sas_without_list_says_so_and_shows_no_secret(self):
        url = lab("sas", LAB_DIR, str(AZ_PORT), "fleet", "--perm", "r", "--no-create")
        sig = re.search(r"[?&]sig=([^&]+)", url).group(1)
        rc, out, err = run("report", "--container-sas-file", "-", "--ca-file", nat(self.ca), stdin=url)
        self.assertEqual(rc, 3)
        self.assertIn("cannot list the container 127.0.0.1:%d/devstoreaccount1/fleet: 403" % AZ_PORT, err)
        self.assertNotIn(sig, out + err)

    def test_on_the_command_line_it_works_and_warns(self):
        url = lab("sas", LAB_DIR, str(AZ_PORT), "fleet", "--perm", "rl", "--no-create")
        rc, out, err = run("report", url, "--ca-file", nat(self.ca))
        self.assertEqual(rc, 0, err)
        self.assertIn("process list", err)
        self.assertIn("%d device(s)" % self.expected["devices"], out)


if __name__ == "__main__":
    BINARY = os.path.abspath(sys.argv[1])
    WINE = "--wine" in sys.argv[2:]
    unittest.main(argv=sys.argv[:1], verbosity=2)
