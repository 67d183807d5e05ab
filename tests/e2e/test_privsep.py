#!/usr/bin/env python3
"""Privilege separation on Linux (docs/security.md): the network checks run in a process of their own
without root's privilege. While a cycle holds its TCP connection to the CMG double, the test finds
the process that holds it by its socket (/proc/net/tcp, then /proc/PID/fd) and reads its uid and
NoNewPrivs; in `selftest` and in the periodic agent (`run`). A crash of that process (SIGSEGV, sent
while it reads the CMG's slow answer) ends that check with <CHECK>_WORKER_CRASHED, the bundle says
so, and the cycle and the agent go on.

    test_privsep.py BINARY        (as root; the worker's account is `nobody`)"""
import glob
import gzip
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import test_cli
from holders import holders
from test_cmgprobe import start_cmg_lab, stop_cmg_lab

LAB_DIR = PORTS = None
MP = "72057594037927939"
NOBODY = None


def setUpModule():
    global LAB_DIR, PORTS, NOBODY
    if os.geteuid() != 0:
        raise unittest.SkipTest("privilege separation needs root to give it up")
    NOBODY = pwd.getpwnam("nobody").pw_uid
    LAB_DIR, PORTS = start_cmg_lab()


def tearDownModule():
    stop_cmg_lab(LAB_DIR)


def session(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[3])


def field(status, name):
    m = re.search(r"^%s:[ \t]*(.*)$" % name, status, re.M)
    return m.group(1).split() if m else []


class PrivSep(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-privsep-")
        os.chmod(self.tmp, 0o700)  # nothing in here is the worker's to read: it gets copies
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")
        self.log = os.path.join(self.tmp, "cmgdiag.log")
        self.share = os.path.join(self.tmp, "share")
        os.makedirs(self.share)
        self.ca = os.path.join(self.tmp, "root.pem")
        shutil.copy(PORTS["root"], self.ca)
        os.chmod(self.ca, 0o600)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, mp=MP, user="nobody", timeout_ms=20000, checks=None, **kw):
        """Writes the configuration (the lab's CMG, `user` as the worker's account; `checks` replaces
        those checks' settings) and returns it."""
        port = PORTS["good"]
        c = {"spool": {"dir": os.path.join(self.tmp, "spool")}, "state_dir": os.path.join(self.tmp, "state"),
             "log": {"file": self.log, "level": "debug", "max_bytes": 50000000},
             "interval_s": 1, "jitter_s": 0, "start_delay_s": 0, "check_timeout_s": 30, "heartbeat_s": 0,
             "unprivileged_user": user,
             "checks": {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False},
                        "clientlogs": {"enabled": False}, "content": {"enabled": False},
                        "cmgprobe": {"url": "https://cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (port, mp),
                                     "resolve": ["cmg.lab.test:%d:127.0.0.1" % port], "ca_file": self.ca,
                                     "timeout_ms": timeout_ms}},
             "outputs": [{"type": "file", "dir": self.share}]}
        c["checks"].update(checks or {})
        c.update(kw)
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        return c

    def logtext(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def the_holder(self, owner_pid, timeout=20):
        """The process holding the probe's connection while the CMG double drips its answer."""
        end = time.time() + timeout
        while time.time() < end:
            for pid, status in holders(PORTS["good"]).items():
                if pid != owner_pid and field(status, "PPid") and "cmgdiag" in field(status, "Name")[0]:
                    return pid, status
            time.sleep(0.05)
        self.fail("no cmgdiag process held a connection to the CMG double; log:\n" + self.logtext()[-3000:])

    def bundles(self):
        out = []
        for f in glob.glob(os.path.join(self.share, "**", "*.json.gz"), recursive=True):
            with open(f, "rb") as fh:
                out.append(json.loads(gzip.decompress(fh.read())))
        return sorted(out, key=lambda b: b["created_at"])

    def check(self, results, name):
        return [r for r in results if r["check"] == name][0]

    # ------------------------------------------------------------------------------------------------

    def test_the_probe_runs_without_privilege_and_gives_the_same_verdict(self):
        # same lab, same settings: with the worker and without it the verdict and code are the same;
        # the worker read a trust root only root can read (a copy), and its hand-over reached netenv
        verdicts = {}
        for user in ("nobody", None):
            self.write(user=user)
            rc, stdout, err = test_cli.run("-c", self.cfg, "selftest", "--json")  # (held to plain words)
            out = json.loads(stdout)
            probe = self.check(out["checks"], "cmgprobe")
            verdicts[user] = (probe["status"], probe["code"])
            ps = self.check(out["checks"], "agent")["facts"]["privilege_separation"]
            self.assertEqual(ps, {"active": True, "account": "nobody"} if user else
                             {"active": False, "why_not": "unprivileged_user is null"})
            netenv = self.check(out["checks"], "netenv")
            self.assertIn("cmgprobe_proxy", netenv["facts"], "the hand-over from the worker reached netenv")
            if user:
                self.assertEqual(probe["facts"]["worker"]["uid"], NOBODY)
                self.assertEqual(probe["facts"]["worker"]["user"], "nobody")
            else:
                self.assertNotIn("worker", probe["facts"])
        self.assertEqual(verdicts["nobody"], verdicts[None])
        self.assertEqual(verdicts["nobody"][1], "CMG_OK", verdicts)
        # its state lives in a folder of its own, and its copies of the files are gone
        wdir = os.path.join(self.tmp, "state", "unprivileged")
        self.assertEqual(os.stat(wdir).st_uid, NOBODY)
        self.assertEqual(os.stat(wdir).st_mode & 0o777, 0o700)
        self.assertEqual([n for n in os.listdir(wdir) if n.startswith("files-")], [])

    def test_dsregcmd_runs_with_privilege_and_its_output_is_parsed_without(self):
        # aadjoin is collect + judge: the agent runs dsregcmd as root and parses none of it; the worker
        # (nobody, confined) parses and judges those bytes. The stand-in notes who ran it.
        who = os.path.join(self.tmp, "dsregcmd-ran-as")
        fixture = os.path.join(self.tmp, "dsreg.txt")
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "aadjoin",
                            "01-entra-joined-win11.txt")
        shutil.copyfile(data, fixture)
        dsreg = os.path.join(self.tmp, "dsregcmd")
        with open(dsreg, "w") as f:
            f.write("#!/bin/sh\nid -u > '%s'\nexec cat '%s'\n" % (who, fixture))
        os.chmod(dsreg, 0o700)
        got = {}
        for user in ("nobody", None):
            c = self.write(user=user, checks={"aadjoin": {"dsregcmd_path": dsreg}})
            rc, stdout, err = test_cli.run("-c", self.cfg, "selftest", "--only", "aadjoin", "--json")
            aad = self.check(json.loads(stdout)["checks"], "aadjoin")
            got[user] = (aad["status"], aad["code"], aad["facts"]["tenant_id"], aad["facts"]["source"])
            with open(who) as f:
                self.assertEqual(f.read().strip(), "0", "dsregcmd is run by the agent, with its privilege")
            self.assertEqual(aad["facts"]["collected"], [{"name": "dsreg.txt", "bytes": os.path.getsize(fixture)}])
            self.assertEqual(aad["facts"]["dsregcmd_exit_code"], 0)
            if user:
                self.assertEqual(aad["facts"]["worker"]["uid"], NOBODY, aad)
            else:
                self.assertNotIn("worker", aad["facts"])
            os.remove(who)
        self.assertEqual(got["nobody"], got[None])
        self.assertEqual(got["nobody"][1:2] + got["nobody"][3:], ("AAD_OK", "dsregcmd"))
        self.assertIn("check aadjoin reading the device", self.logtext())
        # a capture the configuration names is judged as one: dsregcmd is not run in its place
        c["checks"]["aadjoin"] = {"input": fixture, "dsregcmd_path": dsreg}
        c["unprivileged_user"] = "nobody"
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        rc, stdout, err = test_cli.run("-c", self.cfg, "selftest", "--only", "aadjoin", "--json")
        aad = self.check(json.loads(stdout)["checks"], "aadjoin")
        self.assertEqual((aad["code"], aad["facts"]["source"]), ("AAD_OK", "input"), aad)
        self.assertFalse(os.path.exists(who), "dsregcmd ran although a capture was given")

    def test_client_logs_are_read_with_privilege_and_parsed_without(self):
        # clientlogs is collect + judge: the agent reads the logs (in a folder only root can enter) and
        # parses none of them; the worker scans the entries and keeps the read positions in its folder
        logs = os.path.join(self.tmp, "CCM-Logs")
        os.makedirs(logs, mode=0o700)
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "clientlogs", "cmg-forbidden")
        shutil.copyfile(os.path.join(data, "CcmMessaging.log"), os.path.join(logs, "CcmMessaging.log"))
        got = {}
        for user in ("nobody", None):
            shutil.rmtree(os.path.join(self.tmp, "state"), ignore_errors=True)
            self.write(user=user, checks={"clientlogs": {"log_dirs": [logs], "max_age_hours": 0}})
            runs = []
            for _ in range(2):
                rc, stdout, err = test_cli.run("-c", self.cfg, "selftest", "--only", "clientlogs", "--json")
                runs.append(self.check(json.loads(stdout)["checks"], "clientlogs"))
            first, second = runs
            got[user] = (first["status"], first["code"], second["code"])
            self.assertEqual(first["facts"]["source"], "live")
            self.assertEqual(sorted(x["name"] for x in first["facts"]["collected"]),
                             ["clientlogs-reads.bin", "clientlogs-reads.json"])
            self.assertGreater(sum(x["entries_new"] for x in first["facts"]["logs"]), 0)
            self.assertEqual(sum(x["entries_new"] for x in second["facts"]["logs"]), 0, "positions were not kept")
            state = first["facts"]["state_file"]
            if user:
                self.assertEqual(first["facts"]["worker"]["uid"], NOBODY, first)
                self.assertEqual(state, os.path.join(self.tmp, "state", "unprivileged", "clientlogs-state.json"))
                self.assertEqual(os.stat(state).st_uid, NOBODY)
            else:
                self.assertNotIn("worker", first["facts"])
                self.assertEqual(state, os.path.join(self.tmp, "state", "clientlogs-state.json"))
        self.assertEqual(got["nobody"], got[None])
        self.assertEqual(got["nobody"][1:], ("LOG_CMG_FORBIDDEN", "LOG_CMG_FORBIDDEN"), got)

    def test_network_settings_and_device_state_are_read_with_privilege_and_judged_without(self):
        # netenv is collect + judge: the agent reads the registry and WinHTTP's proxy (nothing of either
        # on Linux) and chooses SYSTEM's proxy per URL, contacting nothing; the worker reaches the
        # endpoints with a trust root only root can read (a copy) and judges
        base = "https://cmg.lab.test:%d/" % PORTS["good"]
        got = {}
        for user in ("nobody", None):
            c = self.write(user=user, checks={
                "cmgprobe": {"enabled": False},
                "netenv": {"endpoints": [base], "root_update_urls": [], "ca_file": self.ca,
                           "resolve": ["cmg.lab.test:%d:127.0.0.1" % PORTS["good"]]}})
            rc, stdout, err = test_cli.run("-c", self.cfg, "selftest", "--only", "netenv", "--json")
            ne = self.check(json.loads(stdout)["checks"], "netenv")
            got[user] = (ne["status"], ne["code"], [r["reachable"] for r in ne["facts"]["reachability"]])
            # nothing of the registry or WinHTTP on Linux; the proxy for each URL, chosen by the agent
            self.assertEqual((ne["facts"]["source"], [x["name"] for x in ne["facts"]["collected"]]),
                             ("live", ["proxy-choices.json"]), ne)
            if user:
                self.assertEqual(ne["facts"]["worker"]["uid"], NOBODY, ne)
            else:
                self.assertNotIn("worker", ne["facts"])
        self.assertEqual(got["nobody"], got[None])
        self.assertEqual(got["nobody"], ("pass", "NETENV_OK", [True]), got)
        # while it waits for an endpoint's answer (the double drips it), the process holding the
        # connection is the worker, without privilege; its crash is the check's, not the agent's
        c["unprivileged_user"] = "nobody"
        c["checks"]["netenv"].update(endpoints=[base + "CCM_Proxy_MutualAuth/1200/x"], timeout_ms=30000)
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        p = subprocess.Popen([test_cli.BIN, "-c", self.cfg, "selftest", "--only", "netenv", "--json"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(p)
        pid, status = self.the_holder(p.pid)
        self.assertEqual(field(status, "Uid"), [str(NOBODY)] * 4)
        self.assertEqual(field(status, "NoNewPrivs"), ["1"])
        os.kill(pid, signal.SIGSEGV)
        out, err = p.communicate(timeout=60)
        ne = self.check(json.loads(out)["checks"], "netenv")
        self.assertEqual((ne["status"], ne["code"]), ("error", "NETENV_WORKER_CRASHED"), ne)
        # device too: the agent reads the disk (and on Windows the registry, power, WMI), the worker judges
        rc, stdout, err = test_cli.run("-c", self.cfg, "selftest", "--only", "device", "--json")
        dev = self.check(json.loads(stdout)["checks"], "device")
        self.assertEqual(dev["facts"]["worker"]["uid"], NOBODY, dev)
        self.assertEqual([x["name"] for x in dev["facts"]["collected"]], ["device.json"])
        free = shutil.disk_usage("/").free // (1024 * 1024)
        self.assertLess(abs(dev["facts"]["system_free_mb"] - free), 1024, "read live, by the agent")
        self.assertEqual(dev["code"], "DEVICE_READY")

    def test_the_admins_commands_run_with_privilege_and_their_output_is_read_without(self):
        # exec is collect + judge: the agent runs the administrator's command as root (it notes who ran
        # it) and reads nothing of what it printed; the worker reads its JSON result and judges. A
        # secret of the command's environment (a proxy's password) is gone before the worker sees it.
        who = os.path.join(self.tmp, "exec-ran-as")
        prog = os.path.join(self.tmp, "fleet-check.sh")
        with open(prog, "w") as f:
            f.write("#!/bin/sh\nid -u > '%s'\necho \"proxy=$https_proxy\" >&2\n"
                    "echo '{\"status\": \"warn\", \"code\": \"disk_low\", \"summary\": \"12 GB free\"}'\n" % who)
        os.chmod(prog, 0o700)
        got = {}
        for user in ("nobody", None):
            self.write(user=user, checks={"exec": {"commands": [{"name": "disk", "argv": [prog]}]}})
            p = subprocess.run([test_cli.BIN, "-c", self.cfg, "selftest", "--only", "exec", "--json"],
                               capture_output=True, timeout=120,
                               env=dict(os.environ, https_proxy="http://svc:hunter2-exec-secret@proxy.invalid:3128"))
            ex = self.check(json.loads(p.stdout)["checks"], "exec")
            got[user] = (ex["status"], ex["code"], ex["summary"])
            with open(who) as f:
                self.assertEqual(f.read().strip(), "0", "the command is run by the agent, with its privilege")
            self.assertEqual(sorted(x["name"] for x in ex["facts"]["collected"]), ["exec-output.bin", "exec.json"])
            self.assertEqual(ex["facts"]["commands"][0]["result_from"], "json")
            self.assertNotIn("hunter2-exec-secret", json.dumps(ex))
            self.assertIn("<redacted>", ex["facts"]["commands"][0]["stderr"])
            if user:
                self.assertEqual(ex["facts"]["worker"]["uid"], NOBODY, ex)
            else:
                self.assertNotIn("worker", ex["facts"])
            os.remove(who)
        self.assertEqual(got["nobody"], got[None])
        self.assertEqual(got["nobody"][:2], ("warn", "EXEC_DISK_LOW"), got)

    def test_a_snapshots_captures_are_judged_without_privilege(self):
        # another device's snapshot (attached to a ticket) is parsed by the worker: the agent reads the
        # check's files (regular files only, never through a link) and sends their bytes
        fixture = os.path.join(self.tmp, "dsreg.txt")
        shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "aadjoin",
                                     "01-entra-joined-win11.txt"), fixture)
        dsreg = os.path.join(self.tmp, "dsregcmd")
        with open(dsreg, "w") as f:
            f.write("#!/bin/sh\nexec cat '%s'\n" % fixture)
        os.chmod(dsreg, 0o700)
        self.write(checks={"aadjoin": {"dsregcmd_path": dsreg}})
        snap = os.path.join(self.tmp, "snap")
        rc, out, err = test_cli.run("-c", self.cfg, "collect", "--only", "aadjoin", "--out", snap, "--json")
        self.assertEqual(rc, 0, err)
        # planted in the snapshot: a link to a file only root may read
        secret = os.path.join(self.tmp, "root-only.txt")
        with open(secret, "w") as f:
            f.write("TOPSECRET\n")
        os.chmod(secret, 0o600)
        os.symlink(secret, os.path.join(snap, "aadjoin", "zz-link.txt"))
        rc, out, err = test_cli.run("-c", self.cfg, "selftest", "--input", snap, "--json")
        aad = self.check(json.loads(out)["checks"], "aadjoin")
        self.assertEqual(aad["code"], "AAD_OK", aad)
        self.assertEqual(aad["facts"]["worker"]["uid"], NOBODY, aad)
        # what it says of the files it read, it says of the snapshot's, not of the worker's copies
        self.assertEqual(aad["facts"]["snapshot"]["path"], snap)
        self.assertEqual(aad["facts"]["input"]["path"], os.path.join(snap, "aadjoin"), aad["facts"]["input"])
        self.assertNotIn("snap-", json.dumps(aad))
        names = [f["name"] for f in aad["facts"]["input"]["files"]]
        self.assertIn("dsreg.txt", names)
        self.assertNotIn("zz-link.txt", names)  # the link was not followed, nor its target handed over
        self.assertNotIn("TOPSECRET", out)
        # a snapshot stuffed past what is sent is still judged by the worker, never by the agent instead
        for i in range(70):
            with open(os.path.join(snap, "aadjoin", "zz-junk-%02d.txt" % i), "w") as f:
                f.write("junk\n")
        rc, out, err = test_cli.run("-c", self.cfg, "selftest", "--input", snap, "--json")
        aad = self.check(json.loads(out)["checks"], "aadjoin")
        self.assertEqual((aad["code"], aad["facts"]["worker"]["uid"]), ("AAD_OK", NOBODY), aad)
        self.assertIn("is not judged (past 64 files or 64 MiB for one check)", self.logtext())
        # one capture a user sent (check NAME --input FILE, or a capture folder) is judged by the worker too
        sent = os.path.join(self.tmp, "sent")
        os.makedirs(sent)
        shutil.copyfile(fixture, os.path.join(sent, "dsreg-from-user.txt"))
        for given in (os.path.join(sent, "dsreg-from-user.txt"), sent):
            rc, out, err = test_cli.run("-c", self.cfg, "check", "aadjoin", "--input", given, "--json")
            one = json.loads(out)
            self.assertEqual((one["code"], one["facts"]["worker"]["uid"]), ("AAD_OK", NOBODY), one)
            self.assertEqual(one["facts"]["input"]["path"], given, one["facts"]["input"])
            self.assertNotIn("snap-", out)
        # without a worker the same verdict
        self.write(user=None, checks={"aadjoin": {"dsregcmd_path": dsreg}})
        rc, out, err = test_cli.run("-c", self.cfg, "selftest", "--input", snap, "--json")
        self.assertEqual(self.check(json.loads(out)["checks"], "aadjoin")["code"], "AAD_OK")

    def test_the_worker_judges_with_the_other_checks_settings_it_reads(self):
        # aadjoin's verdict depends on clientauth's mode (a fleet that relies on Entra): the worker is
        # given that setting (plugin.h, other_settings), live and on a capture, and no other check's
        failed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "aadjoin",
                              "03-hybrid-join-failed-discover.txt")
        dsreg = os.path.join(self.tmp, "dsregcmd")
        with open(dsreg, "w") as f:
            f.write("#!/bin/sh\nexec cat '%s'\n" % os.path.abspath(failed))
        os.chmod(dsreg, 0o700)
        for mode, want in (("entra", "AAD_HYBRID_JOIN_FAILED"), ("auto", "AAD_NOT_NEEDED")):
            self.write(checks={"aadjoin": {"dsregcmd_path": dsreg}, "clientauth": {"mode": mode}})
            rc, out, err = test_cli.run("-c", self.cfg, "selftest", "--only", "aadjoin", "--json")
            aad = self.check(json.loads(out)["checks"], "aadjoin")
            self.assertEqual((aad["code"], aad["facts"]["worker"]["uid"]), (want, NOBODY), (mode, aad["summary"]))
            rc, out, err = test_cli.run("-c", self.cfg, "check", "aadjoin", "--input", failed, "--json")
            one = json.loads(out)
            self.assertEqual((one["code"], one["facts"]["worker"]["uid"]), (want, NOBODY), (mode, one["summary"]))

    def test_the_worker_judges_only_what_the_agent_collected(self):
        # the worker's side of a collect + judge check, fed requests directly: it never reads the
        # device itself, and what it is handed must be plain file names within the bytes that came
        def ask(request, body=b""):
            p = subprocess.run([test_cli.BIN, "__worker", "check"], input=json.dumps(request).encode() + b"\n" + body,
                               capture_output=True, timeout=60, cwd=self.tmp)
            return json.loads(p.stdout.decode().strip() or "{}")
        aad = {"check": "aadjoin", "settings": {}}
        self.assertIn("error", ask(aad))  # nothing collected: no dsregcmd run by the worker
        for bad in ({"name": "../dsreg.txt", "bytes": 3}, {"name": ".hidden", "bytes": 3},
                    {"name": "dsreg.txt", "bytes": 30}, {"name": "dsreg.txt", "bytes": -1}):
            self.assertIn("error", ask(dict(aad, collected={"files": [bad]}), b"abc"), bad)
        got = ask(dict(aad, collected={"as_system": True, "files": [{"name": "dsreg.txt", "bytes": 3}]}), b"abc")
        self.assertEqual(got["result"]["code"], "AAD_UNPARSEABLE", got)
        # a request without a log level is still read (it crashed the worker once); cmgprobe too is handed
        # what the agent chose (the proxies), and refused without it
        self.assertIn("error", ask({"check": "cmgprobe", "settings": {}}))
        self.assertEqual(ask({"check": "cmgprobe", "settings": {}, "collected": {"files": []}})["result"]["code"],
                         "CMG_NO_TARGET")

    def test_the_proxy_is_the_one_the_agent_chose(self):
        # a PAC script or WPAD is run by WinHTTP for the account that asks, and the worker is not SYSTEM:
        # cmgprobe and netenv take the proxy the agent's half chose for each URL (proxy-choices.json)
        def ask(request, body=b""):
            p = subprocess.run([test_cli.BIN, "__worker", "check"], input=json.dumps(request).encode() + b"\n" + body,
                               capture_output=True, timeout=60, cwd=self.tmp)
            return json.loads(p.stdout.decode().strip() or "{}")
        chosen = {"proxy": "http://127.0.0.1:9", "curl_default": False, "source": "wininet_pac",
                  "shown": "http://127.0.0.1:9", "detail": "from the PAC script"}
        url = "https://cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (PORTS["good"], MP)
        body = json.dumps({url: chosen}).encode()
        got = ask({"check": "cmgprobe", "settings": {"url": url, "proxy_kind": "as_given", "timeout_ms": 5000},
                   "collected": {"files": [{"name": "proxy-choices.json", "bytes": len(body)}]}}, body)
        facts = got["result"]["facts"]
        self.assertEqual(facts["proxy_used"]["source"], "wininet_pac", facts)
        self.assertIn("127.0.0.1 port 9", facts["requests"][0]["error"], "the request went to the chosen proxy")
        endpoint = "https://login.example.test/"
        body = json.dumps({endpoint: chosen}).encode()
        got = ask({"check": "netenv", "settings": {"endpoints": [endpoint], "root_update_urls": []},
                   "collected": {"files": [{"name": "proxy-choices.json", "bytes": len(body)}]}}, body)
        reach = got["result"]["facts"]["reachability"][0]
        self.assertEqual((reach["proxy_used"]["source"], reach["reachable"]), ("wininet_pac", False), reach)

    def test_a_worker_that_cannot_start_is_not_a_verdict(self):
        # the worker's folder is a link (refused before anything starts): nothing of the request was
        # read, so the check runs in the agent's process with the same verdict, and says why
        os.makedirs(os.path.join(self.tmp, "state"), mode=0o700)
        elsewhere = os.path.join(self.tmp, "elsewhere")
        os.mkdir(elsewhere)
        os.symlink(elsewhere, os.path.join(self.tmp, "state", "unprivileged"))
        self.write(user="nobody")
        rc, stdout, err = test_cli.run("-c", self.cfg, "selftest", "--json")
        probe = self.check(json.loads(stdout)["checks"], "cmgprobe")
        self.assertEqual((probe["status"], probe["code"]), ("pass", "CMG_OK"), probe)
        self.assertNotIn("worker", probe["facts"])
        self.assertIn("unprivileged", probe["facts"]["worker_not_started"])
        self.assertIn("its unprivileged worker could not be started", self.logtext())
        self.assertEqual(os.listdir(elsewhere), [], "nothing was written through the link")

    def test_selftest_holds_the_cmg_connection_without_privilege_and_survives_its_crash(self):
        self.write(mp="1200", timeout_ms=25000)  # the CMG double drips this answer a byte a second
        p = subprocess.Popen([test_cli.BIN, "-c", self.cfg, "selftest", "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=dict(os.environ, CMGDIAG_PRIVSEP_MARK="1"))
        self.procs.append(p)
        pid, status = self.the_holder(p.pid)
        self.assertNotEqual(pid, p.pid, "the selftest process itself holds no connection to the CMG")
        self.assertEqual(field(status, "Uid"), [str(NOBODY)] * 4)
        self.assertNotIn("0", field(status, "Gid"))
        self.assertEqual(field(status, "NoNewPrivs"), ["1"])
        self.assertEqual(field(status, "CapEff"), ["0000000000000000"])
        self.assertEqual(field(status, "Groups"), [])
        # a fresh program with nothing of the agent's: its own session, no terminal, no log or lock or
        # configuration open, none of the agent's environment
        fds = {fd: os.readlink("/proc/%d/fd/%s" % (pid, fd)) for fd in os.listdir("/proc/%d/fd" % pid)}
        self.assertEqual(fds["2"], "/dev/null")
        for fd, target in fds.items():
            self.assertTrue(target == "/dev/null" or target.split(":")[0] in ("pipe", "socket", "anon_inode"),
                            "the worker holds %s as %s" % (target, fd))
        self.assertEqual(session(pid), pid)
        self.assertNotEqual(session(pid), session(p.pid))
        with open("/proc/%d/environ" % pid, "rb") as f:
            self.assertNotIn(b"CMGDIAG_PRIVSEP_MARK", f.read())
        # confined: no new process or program (a seccomp filter), and not dumpable, so another process
        # of the same account reads nothing of it through /proc (its folder, its request, its memory)
        self.assertEqual(field(status, "Seccomp"), ["2"])
        if shutil.which("setpriv"):
            for what in ("cwd/", "fd/0", "environ", "mem"):
                q = subprocess.run(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                                    "ls" if what.endswith("/") else "head", "-c1" if what == "mem" else "--",
                                    "/proc/%d/%s" % (pid, what)], capture_output=True)
                self.assertNotEqual(q.returncode, 0, "the account read /proc/%d/%s: %r" % (pid, what, q.stdout))
        os.kill(pid, signal.SIGSEGV)  # a crash while it parses what the CMG sends
        out, err = p.communicate(timeout=60)
        res = json.loads(out)
        probe = self.check(res["checks"], "cmgprobe")
        self.assertEqual(probe["code"], "CMGPROBE_WORKER_CRASHED", probe)
        self.assertEqual(probe["status"], "error")
        self.assertIn("Segmentation fault", probe["summary"] + probe.get("detail", ""))
        self.assertEqual(probe["facts"]["worker"]["pid"], pid)
        # the rest of the cycle ran
        self.assertEqual(self.check(res["checks"], "agent")["status"], "pass")
        self.assertIn("its unprivileged worker ended without a verdict", self.logtext())
        # the copies the crashed worker left are gone once the next worker has run
        self.write()
        rc, out, err = test_cli.run("-c", self.cfg, "selftest", "--json")
        self.assertEqual(self.check(json.loads(out)["checks"], "cmgprobe")["code"], "CMG_OK")
        wdir = os.path.join(self.tmp, "state", "unprivileged")
        self.assertEqual([n for n in os.listdir(wdir) if n.startswith("files-")], [])

    def test_the_worker_ends_with_the_agent_and_at_its_deadline(self):
        self.write(mp="1200", timeout_ms=25000)
        p = subprocess.Popen([test_cli.BIN, "-c", self.cfg, "selftest", "--json"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        pid, _ = self.the_holder(p.pid)
        p.kill()  # kill -9 of the agent's process: its worker must not live on
        p.wait()
        end = time.time() + 5
        while time.time() < end and os.path.exists("/proc/%d" % pid):
            time.sleep(0.05)
        self.assertFalse(os.path.exists("/proc/%d" % pid), "the worker outlived the agent")
        # at its deadline (check_timeout_s) the worker is killed and the check says so
        self.write(mp="1200", timeout_ms=25000, check_timeout_s=3)
        t0 = time.time()
        rc, out, err = test_cli.run("-c", self.cfg, "selftest", "--json")
        probe = self.check(json.loads(out)["checks"], "cmgprobe")
        self.assertEqual(probe["code"], "CMGPROBE_DEADLINE", probe)
        self.assertLess(time.time() - t0, 15)
        self.assertEqual(holders(PORTS["good"]), {}, "nothing holds the CMG connection after the deadline")

    def test_with_only_the_capabilities_the_systemd_unit_keeps(self):
        # packaging/debian/cmgdiag.service: root with CAP_SETUID, CAP_SETGID, CAP_CHOWN and CAP_KILL only
        if not shutil.which("setpriv"):
            self.skipTest("needs setpriv (util-linux)")
        self.write()
        p = subprocess.run(["setpriv", "--bounding-set=-all,+setuid,+setgid,+chown,+kill", test_cli.BIN, "-c",
                            self.cfg, "selftest", "--json"], capture_output=True, timeout=120)
        probe = self.check(json.loads(p.stdout)["checks"], "cmgprobe")
        self.assertEqual(probe["code"], "CMG_OK", probe)
        self.assertEqual(probe["facts"]["worker"]["uid"], NOBODY)
        # and a second time, in the folder the first run made the account's
        p = subprocess.run(["setpriv", "--bounding-set=-all,+setuid,+setgid,+chown,+kill", test_cli.BIN, "-c",
                            self.cfg, "selftest", "--json"], capture_output=True, timeout=120)
        self.assertEqual(self.check(json.loads(p.stdout)["checks"], "cmgprobe")["code"], "CMG_OK")

    def test_run_cycles_hold_the_connection_without_privilege_and_the_bundle_says_it_crashed(self):
        self.write(mp="1200", timeout_ms=25000, interval_s=1)
        p = subprocess.Popen([test_cli.BIN, "-c", self.cfg, "run"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        self.procs.append(p)
        pid, status = self.the_holder(p.pid)
        self.assertEqual(field(status, "Uid"), [str(NOBODY)] * 4)
        self.assertEqual(field(status, "NoNewPrivs"), ["1"])
        os.kill(pid, signal.SIGSEGV)
        end = time.time() + 60
        while time.time() < end and not self.bundles():
            time.sleep(0.1)
        self.assertIsNone(p.poll(), "the agent outlives its worker")
        first = self.bundles()[0]
        probe = self.check(first["checks"], "cmgprobe")
        self.assertEqual(probe["code"], "CMGPROBE_WORKER_CRASHED")
        self.assertEqual(probe["status"], "error")
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=30)

    def start_served(self, user, pub):
        endpoint = os.path.join(pub, "run", "selftest.sock")
        env = dict(os.environ, CMGDIAG_SELFTEST_ENDPOINT=endpoint, NO_COLOR="1")
        self.write(mp="1200", timeout_ms=25000, user=user, start_delay_s=3600, interval_s=3600,
                   service_selftest={"min_gap_s": 0, "user_min_gap_s": 0})
        agent = subprocess.Popen([test_cli.BIN, "-c", self.cfg, "run"], env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        self.procs.append(agent)
        end = time.time() + 20
        while time.time() < end and "self-tests for standard users" not in self.logtext():
            time.sleep(0.05)
        return agent, endpoint, env

    def test_a_standard_users_request_is_read_without_privilege(self):
        # the request's bytes are read and parsed by a child of the agent that gave up root: a
        # connection that sends nothing keeps that child waiting, where the test can look at it
        daemon = pwd.getpwnam("daemon").pw_uid
        pub = tempfile.mkdtemp(prefix="cmgdiag-privsep-served-")
        self.addCleanup(shutil.rmtree, pub, True)
        agent, endpoint, env = self.start_served("daemon", pub)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(endpoint)
        reader = None
        end = time.time() + 4
        while time.time() < end and not reader:
            for st in glob.glob("/proc/[0-9]*/status"):
                try:
                    with open(st) as f:
                        text = f.read()
                except OSError:
                    continue
                if field(text, "PPid") == [str(agent.pid)] and field(text, "Uid") == [str(daemon)] * 4:
                    reader = text
            time.sleep(0.05)
        self.assertIsNotNone(reader, "no child of the agent read the request as daemon")
        self.assertEqual(field(reader, "NoNewPrivs"), ["1"])
        self.assertEqual(field(reader, "CapEff"), ["0000000000000000"])
        # what it parsed is what the service acts on: garbage is refused with the parser's sentence
        s.sendall(b'{"ticket": "INC 42"}\n')
        s.settimeout(10)
        said = b""
        try:
            while b"\n" not in said:
                chunk = s.recv(4096)
                if not chunk:
                    break
                said += chunk
        finally:
            s.close()
        self.assertIn(b"a ticket is 1 to", said)
        self.assertIsNone(agent.poll())

    def test_the_served_selftest_holds_the_connection_without_privilege(self):
        # a standard user (nobody) asks the running agent for a self-test; the agent's worker account is
        # another one (daemon), so the process holding the CMG connection is told apart from the client
        if not shutil.which("setpriv"):
            self.skipTest("needs setpriv (util-linux) to play a standard user")
        daemon = pwd.getpwnam("daemon").pw_uid
        pub = tempfile.mkdtemp(prefix="cmgdiag-privsep-client-")
        self.addCleanup(shutil.rmtree, pub, True)
        os.chmod(pub, 0o755)
        client = os.path.join(pub, "cmgdiag")
        shutil.copy2(test_cli.BIN, client)
        os.chmod(client, 0o755)
        agent, endpoint, env = self.start_served("daemon", pub)
        user = subprocess.Popen(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups",
                                 client, "-c", self.cfg, "selftest", "--only", "cmgprobe"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.procs.append(user)
        pid, status = self.the_holder(agent.pid, timeout=30)
        self.assertEqual(field(status, "Uid"), [str(daemon)] * 4)
        self.assertEqual(field(status, "NoNewPrivs"), ["1"])
        ancestors, p = [], pid
        while p > 1:
            with open("/proc/%d/status" % p) as f:
                p = int(field(f.read(), "PPid")[0])
            ancestors.append(p)
        self.assertIn(agent.pid, ancestors, "the worker is the agent's, not the user's client")
        os.kill(pid, signal.SIGSEGV)
        out, err = user.communicate(timeout=60)
        self.assertIn("CMGPROBE_WORKER_CRASHED", out.decode(), out.decode() + err.decode())
        self.assertIsNone(agent.poll(), "the agent keeps serving")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_privsep.py BINARY")
    test_cli.BIN = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0]] + sys.argv[2:], verbosity=2)
