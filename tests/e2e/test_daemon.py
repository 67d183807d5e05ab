#!/usr/bin/env python3
"""The periodic agent (`cmgdiag run`), the pre-upgrade gate (`validate`) and the helpdesk reference
of `selftest --ticket`, end to end: cycles with short intervals and jitter, a second instance
refused, stop within 5 s in the middle of a slow CMG probe (the CMG double's slow drip), reload on
SIGHUP, a hanging check cut at its deadline, an extra cycle after a network change, and validate
against lab setups built to pass and to fail.

    test_daemon.py BINARY            (POSIX signals; the Windows service has its own tier)"""
import glob
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import test_cli
from test_cli import run, schema_errors
from test_cmgprobe import start_cmg_lab, stop_cmg_lab

HERE = os.path.dirname(os.path.abspath(__file__))
LAB = os.path.join(HERE, "..", "lab")
DATA = os.path.join(HERE, "..", "data")
FAKE = os.environ.get("CMGDIAG_FAKE_DSREGCMD")
LAB_DIR = PORTS = None
MP = "72057594037927939"


def setUpModule():
    global LAB_DIR, PORTS
    LAB_DIR, PORTS = start_cmg_lab()


def tearDownModule():
    stop_cmg_lab(LAB_DIR)


def probe(case="good", mp=MP, **kw):
    port = PORTS[case]
    c = {"url": "https://cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (port, mp),
         "resolve": ["cmg.lab.test:%d:127.0.0.1" % port], "ca_file": PORTS["root"]}
    c.update(kw)
    return c


class Daemon(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-daemon-")
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")
        self.log = os.path.join(self.tmp, "cmgdiag.log")
        self.share = os.path.join(self.tmp, "share")
        os.makedirs(self.share)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, **kw):
        c = {"spool": {"dir": os.path.join(self.tmp, "spool")}, "state_dir": os.path.join(self.tmp, "state"),
             "log": {"file": self.log, "level": "debug", "max_bytes": 50000000},
             "interval_s": 1, "jitter_s": 1, "start_delay_s": 0, "check_timeout_s": 20, "heartbeat_s": 0,
             "checks": {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False}, "netenv": {"enabled": False},
                        "clientlogs": {"enabled": False}, "cmgprobe": {"enabled": False}},
             "outputs": [{"type": "file", "dir": self.share}]}
        for k, v in kw.items():
            if k == "checks":
                c["checks"].update(v)
            else:
                c[k] = v
        with open(self.cfg, "w") as f:
            json.dump(c, f)

    def start(self, env=None):
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen([test_cli.BIN, "-c", self.cfg, "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=e)
        self.procs.append(p)
        return p

    def logtext(self):
        if not os.path.exists(self.log):
            return ""
        with open(self.log, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, count=1, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if len(re.findall(pattern, self.logtext())) >= count:
                return True
            time.sleep(0.05)
        self.fail("the log never showed %r %d time(s):\n%s" % (pattern, count, self.logtext()[-3000:]))

    def stop(self, p, limit=5.0):
        t0 = time.time()
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        took = time.time() - t0
        self.assertLess(took, limit, "the agent took %.1f s to stop" % took)
        return rc, took

    def bundles(self):
        out = []
        for f in glob.glob(os.path.join(self.share, "**", "*.json.gz"), recursive=True):
            with open(f, "rb") as fh:
                out.append(json.loads(gzip.decompress(fh.read())))
        return out

    # ------------------------------------------------------------------------------------------------

    def test_cycles_with_interval_and_jitter_ship_each_bundle(self):
        self.write()
        p = self.start()
        self.wait_log(r"cycle \d+ ended", 4, timeout=15)
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)
        text = self.logtext()
        starts = [m for m in re.finditer(r'cycle (\d+) starts \(timer\)\]LOG\]!><time="(\d\d):(\d\d):(\d\d)\.(\d{3})', text)]
        self.assertGreaterEqual(len(starts), 4)
        t = [int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4)) + int(m.group(5)) / 1000 for m in starts]
        gaps = [b - a for a, b in zip(t, t[1:])]
        for g in gaps:  # interval 1 s + jitter in [0, 1] s (+ the cycle itself)
            self.assertGreaterEqual(g, 0.95, gaps)
            self.assertLess(g, 2.6, gaps)
        self.assertIn("agent stopped", text)
        got = self.bundles()
        self.assertGreaterEqual(len(got), 4)
        for b in got:
            self.assertEqual(b["trigger"], "schedule")
            self.assertEqual(schema_errors(b), [])

    def test_an_unchanged_device_ships_on_its_heartbeat_and_a_change_at_once(self):
        # scheduled cycles (run --once) of an unchanged device: one bundle, then the next only when
        # heartbeat_s has gone by or the state changed
        self.write(heartbeat_s=21600, checks={"device": {"enabled": False}, "clientauth": {"enabled": False},
                                               "content": {"enabled": False}, "exec": {"enabled": False}})
        for _ in range(10):
            rc, out, err = run("-c", self.cfg, "run", "--once")
            self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.bundles()), 1)
        with open(self.log, encoding="utf-8", errors="replace") as f:
            self.assertIn("has not changed since the last bundle shipped", f.read())
        # the agent check now warns (a 1 TB free-space rule): a change ships at once
        self.write(heartbeat_s=21600, checks={"device": {"enabled": False}, "clientauth": {"enabled": False},
                                               "content": {"enabled": False}, "exec": {"enabled": False},
                                               "agent": {"min_free_mb": 1048576}})
        rc, out, err = run("-c", self.cfg, "run", "--once")
        got = self.bundles()
        self.assertEqual(len(got), 2)
        self.assertIn("warn", [b["overall"] for b in got])
        # a self-test always ships
        rc, out, err = run("-c", self.cfg, "selftest")
        self.assertEqual(len(self.bundles()), 3)

    def test_second_instance_is_refused_and_the_lock_survives_kill_9(self):
        self.write(interval_s=60)
        p = self.start()
        self.wait_log(r"cycle 1 ended")
        rc, out, err = run("-c", self.cfg, "run")
        self.assertEqual(rc, 3)
        self.assertIn("another cmgdiag agent is running", err)
        p.kill()  # a crash: nothing cleans the lock file up
        p.wait()
        rc, out, err = run("-c", self.cfg, "run", "--once")
        self.assertEqual(rc, 0, err)

    def test_stop_within_5_s_in_the_middle_of_a_slow_probe(self):
        # The CMG double drips its answer one byte a second; the probe would wait up to 60 s.
        self.write(interval_s=60, checks={"cmgprobe": probe(mp="1200", timeout_ms=60000)})
        p = self.start()
        self.wait_log(r"check cmgprobe starting")
        time.sleep(1.0)
        rc, took = self.stop(p)
        self.assertEqual(rc, 0)
        self.stop_latency = took
        print("stop latency during a slow probe: %.0f ms" % (took * 1000), file=sys.stderr)
        self.assertIn("agent stopped", self.logtext())

    def worker_pid(self, cycle):
        """The process id of a cycle's worker, from the supervisor's debug line."""
        self.wait_log(r"cycle %d runs in worker process \d+" % cycle)
        return int(re.findall(r"cycle %d runs in worker process (\d+)" % cycle, self.logtext())[-1])

    def agent_results(self):
        return [c for b in sorted(self.bundles(), key=lambda b: b["created_at"]) for c in b["checks"]
                if c["check"] == "agent"]

    def test_a_worker_killed_mid_cycle_is_reported_by_the_next_bundle(self):
        # the supervisor survives the crash of a cycle (here kill -9 during a slow probe), and the next
        # cycle's bundle says what happened
        self.write(interval_s=1, jitter_s=0, checks={"cmgprobe": probe(mp="1200", timeout_ms=60000)})
        p = self.start()
        pid = self.worker_pid(1)
        self.wait_log(r"check cmgprobe starting")
        os.kill(pid, signal.SIGKILL)
        self.wait_log(r"cycle 1: the worker crashed \(signal 9")
        self.write(interval_s=1, jitter_s=0)  # the next cycle is quick
        p.send_signal(signal.SIGHUP)
        self.wait_log(r"cycle 2 ended", timeout=30)
        self.assertIsNone(p.poll(), "the supervisor must outlive its worker")
        crashed = [r for r in self.agent_results() if r["code"] == "AGENT_WORKER_CRASHED"]
        self.assertEqual(len(crashed), 1, [r["code"] for r in self.agent_results()])
        self.assertEqual(crashed[0]["status"], "warn")
        self.assertIn("signal 9", crashed[0]["summary"])
        self.assertEqual(crashed[0]["facts"]["last_worker"]["signal"], 9)
        # ... once: the cycle after that is healthy again
        self.wait_log(r"cycle 3 ended", timeout=30)
        self.assertEqual(self.agent_results()[-1]["code"], "AGENT_OK")
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)

    def test_the_supervisor_carries_no_tls_and_each_cycle_is_a_worker(self):
        if test_cli.WINE:
            self.skipTest("Linux: cmgdiag-agent")
        self.write(interval_s=1, jitter_s=0)
        p = self.start()
        w1, w2 = self.worker_pid(1), self.worker_pid(2)
        self.assertNotEqual(w1, w2)  # a process per cycle
        exe = os.readlink("/proc/%d/exe" % p.pid)
        self.assertTrue(exe.endswith("cmgdiag-agent"), exe)  # `cmgdiag run` handed over to it
        with open("/proc/%d/maps" % p.pid) as f:
            maps = f.read()
        for lib in ("libcurl", "libssl", "libcrypto"):
            self.assertNotIn(lib, maps)
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)

    def test_a_worker_that_hangs_is_killed_at_the_cycle_deadline(self):
        self.write(interval_s=1, jitter_s=0, cycle_timeout_s=10,
                   checks={"cmgprobe": probe(mp="1200", timeout_ms=60000)}, check_timeout_s=60)
        p = self.start()
        t0 = time.time()
        self.wait_log(r"cycle 1: the worker did not finish within 10s and was killed", timeout=30)
        self.assertLess(time.time() - t0, 20)
        self.write(interval_s=1, jitter_s=0)
        p.send_signal(signal.SIGHUP)
        self.wait_log(r"cycle 2 ended", timeout=30)
        crashed = [r for r in self.agent_results() if r["code"] == "AGENT_WORKER_CRASHED"]
        self.assertEqual(len(crashed), 1)
        self.assertIn("hung and was killed", crashed[0]["summary"])
        self.assertEqual(crashed[0]["facts"]["last_worker"]["how"], "hung")
        rc, _ = self.stop(p)
        self.assertEqual(rc, 0)

    def test_reload_picks_up_a_changed_interval(self):
        self.write(interval_s=300, jitter_s=0)
        p = self.start()
        self.wait_log(r"cycle 1 ended")
        self.write(interval_s=1, jitter_s=0)
        p.send_signal(signal.SIGHUP)
        self.wait_log(r"configuration reloaded from .*: interval 1s")
        self.wait_log(r"cycle 3 ended", timeout=10)
        # a broken file on reload keeps the running configuration
        with open(self.cfg, "w") as f:
            f.write("{ broken")
        p.send_signal(signal.SIGHUP)
        self.wait_log(r"reload refused, the running configuration stays")
        n = len(re.findall(r"cycle \d+ ended", self.logtext()))
        self.wait_log(r"cycle \d+ ended", n + 1, timeout=10)
        self.stop(p)

    def test_a_hanging_check_is_cut_at_its_deadline_and_backs_off(self):
        if not FAKE:
            self.skipTest("CMGDIAG_FAKE_DSREGCMD not set (run through ctest)")
        with open(os.path.join(self.tmp, "fake-mode"), "w") as f:
            f.write("hang")
        fake = os.path.join(self.tmp, os.path.basename(FAKE))  # reads fake-mode beside itself (small environment)
        shutil.copyfile(FAKE, fake)
        os.chmod(fake, 0o700)
        self.write(check_timeout_s=1, interval_s=1, jitter_s=0,
                   checks={"aadjoin": {"enabled": True, "dsregcmd_path": fake, "timeout_ms": 60000}})
        p = self.start()
        self.wait_log(r"cycle 3 ended", timeout=20)
        self.stop(p)
        text = self.logtext()
        self.assertIn("check aadjoin did not finish within its deadline of 1 s", text)
        for m in re.finditer(r"cycle (\d+) ended in (\d+) ms", text):
            self.assertLess(int(m.group(2)), 3000, "a hanging check stalled the cycle")
        got = sorted(self.bundles(), key=lambda b: b["created_at"])
        first = [c for c in got[0]["checks"] if c["check"] == "aadjoin"][0]
        self.assertEqual((first["status"], first["code"]), ("error", "AADJOIN_DEADLINE"))
        # the same error again: logged once as a warning, then the check rests
        self.assertEqual(text.count("check aadjoin: AADJOIN_DEADLINE"), 1)
        rested = [c for b in got for c in b["checks"] if c["check"] == "aadjoin" and c["facts"].get("backed_off")]
        self.assertTrue(rested, "the failing check was not backed off")

    def test_long_outage_spool_stays_in_cap_drops_counted_then_delivered(self):
        # A collection point down for "a week": CMGDIAG_OUTAGE_CYCLES cycles (30 in CI; the
        # reliability harness runs 168, an hourly agent's week) one second apart.
        cycles = int(os.environ.get("CMGDIAG_OUTAGE_CYCLES", "30"))
        down = os.path.join(self.tmp, "share-not-mounted")
        self.write(jitter_s=0, spool={"dir": os.path.join(self.tmp, "spool"), "max_files": 10},
                   outputs=[{"type": "file", "dir": down}], delivery={"max_attempts": 1})
        p = self.start()
        spool = os.path.join(self.tmp, "spool")
        most = 0
        while len(re.findall(r"cycle \d+ ended", self.logtext())) < cycles:
            if os.path.isdir(spool):
                most = max(most, len([f for f in os.listdir(spool) if f.endswith(".json.gz")]))
            self.assertIsNone(p.poll())
            time.sleep(0.1)
        self.stop(p)
        made = re.findall(r"spooled bundle ([0-9a-f-]{36})", self.logtext())
        self.assertGreaterEqual(len(made), cycles)
        self.assertLessEqual(most, 10, "the spool grew past max_files")
        self.assertEqual(len([f for f in os.listdir(spool) if f.endswith(".json.gz")]), 10)
        # the share is back: flush delivers what the spool kept, the newest 10
        os.makedirs(down)
        rc, out, _ = run("-c", self.cfg, "flush")
        self.assertEqual(rc, 0, out)
        self.assertIn("Shipped 10 bundle(s)", out)
        got = [f for f in glob.glob(os.path.join(down, "**", "*.json.gz"), recursive=True)]
        self.assertEqual(sorted(os.path.basename(f)[:36] for f in got), sorted(made[-10:]))
        rc, out, _ = run("-c", self.cfg, "selftest")
        self.assertEqual(rc, 0, out)
        bid = re.search(r"Bundle ([0-9a-f-]{36}) shipped", out).group(1)
        f = glob.glob(os.path.join(down, "**", bid + ".json.gz"), recursive=True)[0]
        with open(f, "rb") as fh:
            b = json.loads(gzip.decompress(fh.read()))
        self.assertEqual(b["spool"], {"pending": 0, "dropped_total": len(made) - 10})
        print("outage: %d cycles down, spool peak %d files, %d dropped and counted, 10 delivered after"
              % (len(made), most, len(made) - 10), file=sys.stderr)

    def test_network_change_runs_an_extra_debounced_cycle(self):
        ip = shutil.which("ip") or "/usr/sbin/ip"
        if os.geteuid() != 0 or not os.path.exists(ip):
            self.skipTest("needs root and iproute2 to add an address (tests/install-deps.sh all)")
        self.write(interval_s=600, network_debounce_s=1, network_min_gap_s=0)
        p = self.start()
        self.wait_log(r"cycle 1 ended")
        addr = "127.0.%d.%d/32" % (os.getpid() % 250 + 1, 77)
        subprocess.run([ip, "addr", "add", addr, "dev", "lo"], check=True)
        try:
            self.wait_log(r"network change; an extra cycle in 1s", timeout=15)
            self.wait_log(r"cycle 2 starts \(network change\)", timeout=10)
        finally:
            subprocess.run([ip, "addr", "del", addr, "dev", "lo"])
        self.stop(p)


class Validate(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-validate-")
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, aad, mp, cmg, profiles=None, auth="01-pki-domain-joined-ps51", extra=None, device="01-ready-laptop"):
        c = {"spool": {"dir": os.path.join(self.tmp, "spool")}, "state_dir": os.path.join(self.tmp, "state"),
             "log": {"file": os.path.join(self.tmp, "l.log")},
             "checks": {"aadjoin": {"input": os.path.join(DATA, "aadjoin", aad)},
                        "mpcandidates": {"input": os.path.join(DATA, "mpcandidates", mp)},
                        "clientauth": {"input": os.path.join(DATA, "clientauth", auth),
                                       "evaluate_at": "2026-11-25T00:00:00Z"},
                        "device": {"input": os.path.join(DATA, "device", device), "evaluate_at": "2026-11-25T00:00:00Z"},
                        "clientlogs": {"input": os.path.join(DATA, "clientlogs", "clean")},
                        "cmgprobe": cmg}}
        c.update(extra or {})
        if profiles:
            c["profiles"] = profiles
        with open(self.cfg, "w") as f:
            json.dump(c, f)

    def test_ready_device(self):
        # a domain-joined PKI laptop: Entra plays no part, and the line does not mention it
        self.write("04-domain-joined-hybrid-pending.txt", "02-single-cmg-serverauth-ps51-utf16le.json", probe())
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade")
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count("\n"), 1)
        self.assertTrue(out.startswith("READY (pre-upgrade): all 15 blocking requirement(s) met; CMG cmg.lab.test."), out)
        self.assertNotIn("Entra", out)

    def test_expired_only_client_certificate_is_named(self):
        # the client records the expired certificate as its own: a recorded PKI client, so the gate blocks
        self.write("04-domain-joined-hybrid-pending.txt", "02-single-cmg-serverauth-ps51-utf16le.json", probe(),
                   auth="11-recorded-pki-expired")
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade")
        self.assertEqual(rc, 1, out + err)
        self.assertTrue(out.startswith("NOT READY (pre-upgrade): 1 of 15 blocking requirement(s) not met: the client "
                                       "cannot authenticate to the CMG: the client-authentication certificate it selects, "
                                       "CN=LAPTOP-042.corp.contoso.com (thumbprint 3F2A9C4D1B7E8A06C5D2F19E4B3A7C8D9E0F1A2B), "
                                       "expired on 2026-10-01 (fail CLIENTAUTH_PKI_UNUSABLE)."), out)
        self.assertNotIn("Entra", out)
        # the same certificate without the record: inferred, a warning of clientauth, and the gate does not block
        self.write("04-domain-joined-hybrid-pending.txt", "02-single-cmg-serverauth-ps51-utf16le.json", probe(),
                   auth="04-expired-client-cert")
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade")
        self.assertEqual(rc, 0, out + err)

    def test_a_pending_restart_low_disk_and_battery_are_named(self):
        self.write("04-domain-joined-hybrid-pending.txt", "02-single-cmg-serverauth-ps51-utf16le.json", probe(),
                   device="02-reboot-pending")
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("1 of 15 blocking requirement(s) not met: a restart is pending (component servicing (CBS "
                      "RebootPending), pending file renames (PendingFileRenameOperations))", out)
        self.write("04-domain-joined-hybrid-pending.txt", "02-single-cmg-serverauth-ps51-utf16le.json", probe(),
                   device="03-low-disk-on-battery")
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("2 of 15 blocking requirement(s) not met: the system volume has less than 20 GB free (device "
                      "system_free_mb 9000); the device runs on a low battery (plug it in) (device power_ok false)", out)
        # no content URL: said, not blocking
        self.assertIn("could not tell whether the upgrade content comes through the CMG in time: The content path was "
                      "not checked", out)

    def test_not_ready_device_names_every_blocking_reason(self):
        self.write("05-workgroup-not-joined.txt", "08-intranet-only-no-cmg.json", probe(case="expired"),
                   auth="06-empty-store-no-client")
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade")
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out.count("\n"), 1, "one line only")
        # nothing on standard error unless it could not run: PowerShell 5.1 under 'Stop' ends a
        # script at a native program's first standard-error line (docs/deployment.md)
        self.assertEqual(err.strip(), "")
        self.assertLessEqual(len(out.rstrip("\n")), 2048)
        self.assertTrue(out.startswith("NOT READY (pre-upgrade): "), out)
        for reason in ("the client cannot authenticate to the CMG: no PKI client certificate, no Entra join, no site token",
                       "no CMG in its management point list", "the CMG cannot be used from here (a management point request through it must return an MP list) (fail CMG_CERT_EXPIRED)"):
            self.assertIn(reason, out)
        # the count says how many it lists
        listed = out.split(" not met: ", 1)[1].split(" Warnings: ")[0].rstrip(".\n").split("; ")
        self.assertEqual(int(re.search(r": (\d+) of \d+ blocking", out).group(1)), len(listed), out)
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade", "--json")
        self.assertEqual(rc, 1)
        b = json.loads(out)
        self.assertEqual(b["trigger"], "validate")
        self.assertEqual(schema_errors(b), [])
        # one JSON object on stdout, the gate inside it; nothing on stderr
        self.assertEqual(err.strip(), "")
        self.assertEqual(b["gate"]["verdict"], "not ready")
        self.assertEqual(b["gate"]["profile"], "pre-upgrade")
        ids = [x["id"] for x in b["gate"]["blocking"]]
        self.assertIn("auth", ids)
        self.assertIn("cmg-known", ids)
        self.assertTrue(all(x["sentence"] for x in b["gate"]["blocking"] + b["gate"]["warnings"]))

    def test_what_does_not_block_is_a_warning_inside_the_line(self):
        # the agent's own backlog and a CMG certificate renewal weeks away (the intranet case: test_validate.c)
        spool = os.path.join(self.tmp, "spool")
        os.makedirs(spool)
        self.write("04-domain-joined-hybrid-pending.txt", "08-intranet-only-no-cmg.json", probe(),
                   profiles={"pre-upgrade": {"extends": "pre-upgrade", "drop": ["cmg-known"],
                                             "require": [{"id": "cmg-cert-renewal", "severity": "warn", "check": "cmgprobe",
                                                          "fact": "tls.days_to_expiry", "min": 100000,
                                                          "why": "the CMG certificate is due for renewal"}]}},
                   extra={"outputs": [{"type": "file", "dir": os.path.join(self.tmp, "share-not-mounted")}]})
        for i in range(12):
            bid = "00000000-0000-4000-8000-%012d" % i
            with open(os.path.join(spool, "%013d-%s.json.gz" % (1764000000000 + i, bid)), "wb") as f:
                f.write(gzip.compress(json.dumps({"schema": "cmgdiag.bundle/1", "bundle_id": bid,
                                                  "created_at": "2026-11-25T10:00:00.000Z",
                                                  "device": {"hostname": "PC01"}, "checks": []}).encode()))
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade")
        self.assertEqual(rc, 0, out + err)
        self.assertTrue(out.startswith("READY (pre-upgrade): all 14 blocking requirement(s) met"), out)
        for w in ("Warnings: ", "the CMG certificate is due for renewal", "wait in its spool"):
            self.assertIn(w, out)

    def test_validate_list_and_a_configuration_error_on_stdout(self):
        self.write("01-entra-joined-win11.txt", "02-single-cmg-serverauth-ps51-utf16le.json", probe(),
                   profiles={"probe-only": {"description": "just the probe", "require": [{"check": "cmgprobe", "status": ["pass"]}]},
                             "strict": {"extends": "pre-upgrade", "require": [{"check": "aadjoin", "status": ["pass"]}]}})
        rc, out, _ = run("-c", self.cfg, "validate", "--list")
        self.assertEqual(rc, 0)
        self.assertIn("pre-upgrade (built in): 15 blocking, 7 warning requirement(s)", out)
        self.assertIn("probe-only (configuration): 1 blocking, 0 warning requirement(s)", out)
        self.assertIn("strict (configuration, extends pre-upgrade): 16 blocking, 7 warning requirement(s)", out)
        with open(self.cfg, "w") as f:
            f.write('{"interval_s": "often"}')
        rc, out, err = run("-c", self.cfg, "validate", "--profile", "pre-upgrade")
        self.assertEqual(rc, 3)
        self.assertEqual(out.count("\n"), 1)
        self.assertTrue(out.startswith("COULD NOT RUN (pre-upgrade): configuration error: "), out)
        self.assertIn("interval_s", out)

    def test_profiles_from_the_config_and_the_2048_limit(self):
        reqs = [{"check": "cmgprobe", "fact": "tls.days_to_expiry", "min": 400 + i,
                 "why": "requirement %d: the certificate must be valid for a long time " % i + "x" * 80}
                for i in range(40)]
        self.write("01-entra-joined-win11.txt", "02-single-cmg-serverauth-ps51-utf16le.json", probe(),
                   profiles={"long-cert": {"description": "t", "require": reqs},
                             "probe-only": {"require": [{"check": "cmgprobe", "status": ["pass"]}]}})
        rc, out, _ = run("-c", self.cfg, "validate", "--profile", "probe-only")
        self.assertEqual((rc, out.strip()), (0, "READY (probe-only): all 1 blocking requirement(s) met; CMG cmg.lab.test."))
        rc, out, _ = run("-c", self.cfg, "validate", "--profile", "long-cert")
        self.assertEqual(rc, 1)
        line = out.rstrip("\n")
        self.assertLessEqual(len(line), 2048)
        self.assertGreater(len(line), 1800)
        more = re.search(r" and (\d+) more\.$", line)
        self.assertTrue(more, line[-80:])
        listed = line.split(" not met: ", 1)[1].split("; ")
        self.assertEqual(len(listed) + int(more.group(1)), 40)  # listed, and the ones "and N more" counts
        self.assertTrue(line.startswith("NOT READY (long-cert): 40 of 40 blocking requirement(s) not met: "))
        rc, out, _ = run("-c", self.cfg, "validate", "--profile", "nope")
        self.assertEqual(rc, 3)
        self.assertIn("no such profile 'nope'; known: pre-upgrade, long-cert, probe-only", out)


class Ticket(unittest.TestCase):
    def test_selftest_ticket_ends_with_a_reference(self):
        tmp = tempfile.mkdtemp(prefix="cmgdiag-ticket-")
        try:
            share = os.path.join(tmp, "share")
            os.makedirs(share)
            cfg = os.path.join(tmp, "c.json")
            with open(cfg, "w") as f:
                json.dump({"spool": {"dir": os.path.join(tmp, "spool")}, "log": {"file": os.path.join(tmp, "l.log")},
                           "checks": {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False}, "netenv": {"enabled": False},
                                      "clientlogs": {"enabled": False}, "cmgprobe": {"enabled": False}},
                           "outputs": [{"type": "file", "dir": share}]}, f)
            rc, out, _ = run("-c", cfg, "selftest", "--ticket", "INC123")
            self.assertEqual(rc, 0, out)
            bid = re.search(r"Bundle ([0-9a-f-]{36}) shipped", out).group(1)
            self.assertIn("Reference for the helpdesk: %s (ticket INC123), sent to file %s." % (bid[:8], share), out)
            f = glob.glob(os.path.join(share, "**", bid + ".json.gz"), recursive=True)[0]
            with open(f, "rb") as fh:
                self.assertEqual(json.loads(gzip.decompress(fh.read()))["ticket"], "INC123")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_daemon.py BINARY")
    test_cli.BIN = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
