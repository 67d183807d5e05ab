#!/usr/bin/env python3
"""The device snapshot (docs/checks/captures.md, "Snapshots"): `cmgdiag collect --out FOLDER` on the
lab, then `selftest --input FOLDER` gives every check the verdict and code of the live selftest
(network timings aside), judged as of the capture's time; the checks whose captures reproduce the
device are judged from their files (a changed file changes the verdict), the others are shown as
recorded; nothing of a judged snapshot is shipped or becomes this device's state; collect never
writes into a folder it did not make empty.

    test_snapshot.py BINARY"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

from test_cmgprobe import start_cmg_lab, stop_cmg_lab

BIN = None
SECRET = "Zm9vYmFyc2VjcmV0c2lnbmF0dXJlMTIzNDU2Nzg5MA%3D%3D"
LAB_DIR = PORTS = None
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "aadjoin")
LOGS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "clientlogs")


def setUpModule():
    global LAB_DIR, PORTS
    LAB_DIR, PORTS = start_cmg_lab()


def tearDownModule():
    stop_cmg_lab(LAB_DIR)


def verdicts(bundle):
    return {c["check"]: (c["status"], c["code"]) for c in bundle["checks"]}


class Snapshot(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-snapshot-")
        os.chmod(self.tmp, 0o700)
        self.share = os.path.join(self.tmp, "share")
        os.makedirs(self.share)
        # an admin-set dsregcmd stand-in: prints a real capture, so aadjoin reads "the device" live
        self.dsreg = os.path.join(self.tmp, "dsregcmd")
        fixture = os.path.join(self.tmp, "dsreg-fixture.txt")
        shutil.copyfile(os.path.join(DATA, "01-entra-joined-win11.txt"), fixture)
        with open(self.dsreg, "w") as f:
            f.write("#!/bin/sh\nexec cat '%s'\n" % fixture)
        os.chmod(self.dsreg, 0o700)
        # an admin's command that prints a secret: no file of the snapshot may hold it (the manifest is
        # redacted as a bundle is, and exec redacts its output at the source)
        self.leaky = os.path.join(self.tmp, "leaky")
        with open(self.leaky, "w") as f:
            f.write("#!/bin/sh\necho 'upload to https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=cw&sig=%s'\n" % SECRET)
        os.chmod(self.leaky, 0o700)
        # the client's logs: one as the client writes most, one UTF-16 log longer than what is read of it
        self.logs = os.path.join(self.tmp, "CCM-Logs")
        os.makedirs(self.logs)
        shutil.copyfile(os.path.join(LOGS, "cmg-forbidden", "CcmMessaging.log"), os.path.join(self.logs, "CcmMessaging.log"))
        with open(os.path.join(LOGS, "clean", "LocationServices.log"), encoding="utf-8") as f:
            text = f.read()
        with open(os.path.join(self.logs, "LocationServices.log"), "wb") as f:
            f.write(b"\xff\xfe" + (text * 12).encode("utf-16-le"))
        ca = os.path.join(self.tmp, "root.pem")
        shutil.copy(PORTS["root"], ca)
        port = PORTS["good"]
        resolve = ["cmg.lab.test:%d:127.0.0.1" % port]
        c = {"spool": {"dir": os.path.join(self.tmp, "spool")}, "state_dir": os.path.join(self.tmp, "state"),
             "log": {"file": os.path.join(self.tmp, "cmgdiag.log"), "level": "debug"},
             "checks": {"aadjoin": {"dsregcmd_path": self.dsreg},
                        "cmgprobe": {"url": "https://cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (port, PORTS["mp_id"]),
                                     "resolve": resolve, "ca_file": ca},
                        "content": {"urls": ["https://cmg.lab.test:%d/content/object" % port], "resolve": resolve,
                                    "ca_file": ca, "max_bytes": 1048576},
                        "exec": {"commands": [{"name": "leaky", "argv": [self.leaky]}]},
                        "clientlogs": {"log_dirs": [self.logs], "max_age_hours": 0, "max_bytes_per_file": 4096}},
             "outputs": [{"type": "file", "dir": self.share}]}
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        os.chmod(self.cfg, 0o600)
        self.snap = os.path.join(self.tmp, "snap")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def cmg(self, *args):
        p = subprocess.run([BIN, "-c", self.cfg] + list(args), capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    def collect(self):
        rc, out, err = self.cmg("collect", "--out", self.snap, "--json")
        self.assertEqual(rc, 0, err)
        return json.loads(out)

    def judge(self, *more):
        rc, out, err = self.cmg("selftest", "--input", self.snap, "--json", *more)
        self.assertIn(rc, (0, 1, 2), err)
        return rc, json.loads(out)

    def test_collect_then_selftest_input_gives_the_live_verdicts(self):
        rc_live, out, err = self.cmg("selftest", "--no-upload", "--json")
        live = json.loads(out)
        with open(os.path.join(self.tmp, "state", "clientlogs-state.json"), "rb") as f:
            positions = f.read()
        with open(os.path.join(self.logs, "CcmMessaging.log"), "a") as f:  # the client writes on
            f.write('<![LOG[Idle.]LOG]!><time="10:00:00.000+000" date="11-24-2026" component="CcmMessaging" '
                    'context="" type="1" thread="1" file="x.cpp:1">\n')
        m = self.collect()
        rc, judged = self.judge()
        self.assertEqual(verdicts(judged), verdicts(live))
        self.assertEqual(rc, rc_live)
        self.assertEqual(judged["overall"], live["overall"])
        self.assertEqual(verdicts(live)["cmgprobe"], ("pass", "CMG_OK"))
        self.assertEqual(verdicts(live)["aadjoin"][1], "AAD_OK")
        if os.geteuid() == 0:
            # judged again where the checks run without privilege: the same verdicts, each check judged
            # from its captures by the worker (docs/checks/captures.md, "Judged without privilege")
            with open(self.cfg) as f:
                c = json.load(f)
            c["unprivileged_user"] = "nobody"
            with open(self.cfg, "w") as f:
                json.dump(c, f)
            rc2, judged2 = self.judge()
            self.assertEqual(verdicts(judged2), verdicts(live))
            by_worker = sorted(r["check"] for r in judged2["checks"]
                               if r["facts"].get("worker", {}).get("uid") == pwd.getpwnam("nobody").pw_uid)
            self.assertEqual(by_worker, sorted(k for k, v in m["checks"].items() if v["judged_from"] == "capture"),
                             [(r["check"], r["facts"].get("worker_not_started")) for r in judged2["checks"]])
            self.assertNotIn("snap-", json.dumps(judged2))
        self.assertEqual(os.stat(self.snap).st_mode & 0o777, 0o700)  # administrators' only, as the bundle's spool
        # the manifest: when, where, which agent, and per check how it is judged
        self.assertEqual(m["schema"], "cmgdiag.snapshot/1")
        self.assertEqual(m["host"], live["device"]["hostname"])
        with open(os.path.join(self.snap, "captured-at.txt")) as f:
            self.assertEqual(f.read(), m["taken_at"])
        self.assertEqual(m["checks"]["aadjoin"]["judged_from"], "capture")
        self.assertEqual(m["checks"]["device"]["judged_from"], "capture")
        self.assertEqual(verdicts(live)["clientlogs"], ("fail", "LOG_CMG_FORBIDDEN"))
        self.assertEqual(m["checks"]["clientlogs"]["judged_from"], "capture", m["checks"]["clientlogs"])
        # the part of each log the check read: a cut UTF-16 log keeps its byte order mark
        with open(os.path.join(self.snap, "clientlogs", "LocationServices.log"), "rb") as f:
            cut = f.read()
        self.assertEqual((cut[:2], len(cut)), (b"\xff\xfe", 2 + 4096))
        with open(os.path.join(self.logs, "LocationServices.log"), "rb") as f:
            self.assertTrue(f.read().endswith(cut[2:]))
        # and the agent's read positions are left as they were: collect reads from scratch
        with open(os.path.join(self.tmp, "state", "clientlogs-state.json"), "rb") as f:
            self.assertEqual(f.read(), positions)
        for net in ("content", "agent"):
            self.assertEqual(m["checks"][net]["judged_from"], "recorded")
        # cmgprobe from its transcript: every answer the probe was given, in the order it asked
        self.assertEqual(m["checks"]["cmgprobe"]["judged_from"], "capture")
        with open(os.path.join(self.snap, "cmgprobe", "transcript.json")) as f:
            kinds = [e["kind"] for e in json.load(f)["events"]]
        self.assertIn("http", kinds)
        self.assertIn("crl", kinds)
        files = {f["name"]: f for f in m["checks"]["aadjoin"]["files"]}
        with open(os.path.join(self.snap, "aadjoin", "dsreg.txt"), "rb") as f:
            data = f.read()
        with open(os.path.join(DATA, "01-entra-joined-win11.txt"), "rb") as f:
            self.assertEqual(data, f.read())  # what dsregcmd printed, byte for byte
        self.assertEqual(files["dsreg.txt"]["bytes"], len(data))
        self.assertEqual(len(files["dsreg.txt"]["sha256"]), 64)
        # judged from the files, as of the capture's time; the others say they are a record
        by = {c["check"]: c for c in judged["checks"]}
        self.assertEqual(by["aadjoin"]["facts"]["source"], "input")
        self.assertEqual(by["aadjoin"]["facts"]["judged_as_of"], m["taken_at"])
        self.assertIn("when the capture was taken", by["device"]["summary"])
        self.assertEqual(by["cmgprobe"]["facts"]["source"], "transcript")
        self.assertEqual(by["cmgprobe"]["facts"]["judged_as_of"][:10], m["taken_at"][:10])  # the probe's own time
        self.assertEqual(by["content"]["facts"]["source"], "recorded")
        self.assertIn("Recorded on %s at %s" % (m["host"], m["taken_at"]), by["content"]["summary"])
        self.assertEqual(judged["snapshot"]["taken_at"], m["taken_at"])
        for root, _, names in os.walk(self.snap):
            for n in names:
                with open(os.path.join(root, n), "rb") as f:
                    self.assertNotIn(SECRET.encode(), f.read(), n)
        self.assertIn("<redacted>", json.dumps(m["checks"]["exec"]))
        # a judged snapshot is not this device's bundle: nothing shipped or spooled by it
        shipped = sorted(os.listdir(self.share))
        self.judge()
        self.assertEqual(sorted(os.listdir(self.share)), shipped)

    def test_a_check_is_judged_from_its_files(self):
        self.collect()
        _, before = self.judge()
        self.assertEqual(verdicts(before)["aadjoin"], ("pass", "AAD_OK"))
        # the same snapshot with another device's dsregcmd output: the verdict follows the file
        shutil.copyfile(os.path.join(DATA, "05-workgroup-not-joined.txt"), os.path.join(self.snap, "aadjoin", "dsreg.txt"))
        _, after = self.judge()
        self.assertNotEqual(verdicts(after)["aadjoin"], ("pass", "AAD_OK"))
        self.assertEqual(verdicts(after)["cmgprobe"], verdicts(before)["cmgprobe"])

    def test_judged_with_the_device_settings_on_another_machine(self):
        self.collect()
        _, here = self.judge()
        # a helpdesk PC: another configuration, whose settings would judge this device otherwise
        other = os.path.join(self.tmp, "other.json")
        with open(other, "w") as f:
            json.dump({"log": {"file": os.path.join(self.tmp, "other.log")},
                       "checks": {"device": {"min_free_gb": 10000},
                                  "aadjoin": {"expected_tenant_id": "00000000-0000-0000-0000-000000000000"}}}, f)
        p = subprocess.run([BIN, "-c", other, "selftest", "--input", self.snap, "--json"], capture_output=True,
                           text=True, timeout=120)
        there = json.loads(p.stdout)
        self.assertEqual(verdicts(there), verdicts(here))
        by = {c["check"]: c for c in there["checks"]}
        self.assertEqual(by["aadjoin"]["facts"]["snapshot"]["settings"], "the device's, from the snapshot")
        # the device's files are not this machine's: a CA file or a dsregcmd named by the snapshot is
        # neither vetted nor read here (gone here, the verdicts stay)
        os.rename(self.dsreg, self.dsreg + ".gone")
        os.rename(os.path.join(self.tmp, "root.pem"), os.path.join(self.tmp, "root.gone"))
        p = subprocess.run([BIN, "-c", other, "selftest", "--input", self.snap, "--json"], capture_output=True,
                           text=True, timeout=120)
        self.assertEqual(verdicts(json.loads(p.stdout)), verdicts(here))
        # the person's own --set still wins over the snapshot's settings
        p = subprocess.run([BIN, "-c", other, "check", "device", "--input", self.snap, "--set", "min_free_gb=10000",
                            "--json"], capture_output=True, text=True, timeout=120)
        self.assertEqual(json.loads(p.stdout)["facts"]["readiness"]["code"], "DEVICE_LOW_DISK")
        # settings a snapshot holds that are no settings: this machine's are used, and the result says why
        with open(os.path.join(self.snap, "manifest.json")) as f:
            m = json.load(f)
        m["settings"]["aadjoin"]["timeout_ms"] = "soon"
        with open(os.path.join(self.snap, "manifest.json"), "w") as f:
            json.dump(m, f)
        p = subprocess.run([BIN, "-c", other, "selftest", "--input", self.snap, "--json"], capture_output=True,
                           text=True, timeout=120)
        by = {c["check"]: c for c in json.loads(p.stdout)["checks"]}
        self.assertEqual(by["aadjoin"]["facts"]["snapshot"]["settings"], "this machine's")
        self.assertIn("timeout_ms", by["aadjoin"]["facts"]["snapshot"]["settings_why"])
        self.assertNotEqual(by["aadjoin"]["code"], "AAD_OK")  # the expected tenant of this machine's settings

    def test_validate_and_check_take_the_snapshot(self):
        rc_live, live_line, _ = self.cmg("validate", "--profile", "pre-upgrade")
        self.collect()
        rc, line, err = self.cmg("validate", "--profile", "pre-upgrade", "--input", self.snap)
        self.assertEqual(rc, rc_live, err)
        self.assertEqual(line.split(":")[0], live_line.split(":")[0])
        rc, out, err = self.cmg("check", "aadjoin", "--input", self.snap, "--json")
        self.assertEqual((rc, json.loads(out)["code"]), (0, "AAD_OK"), err)

    def test_only_some_checks(self):
        rc, out, err = self.cmg("collect", "--out", self.snap, "--only", "device", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(json.loads(out)["checks"]), ["device"])
        _, judged = self.judge()
        self.assertEqual(verdicts(judged), {"device": ("pass", "DEVICE_READY")})
        self.assertTrue(judged["partial"])  # as the collect of one check was: never the device's whole state
        _, judged = self.judge("--only", "cmgprobe")
        self.assertEqual(verdicts(judged)["cmgprobe"], ("skip", "CMGPROBE_NOT_IN_SNAPSHOT"))

    def test_out_must_be_a_new_or_empty_folder(self):
        os.makedirs(self.snap)
        keep = os.path.join(self.snap, "keep.txt")
        with open(keep, "w") as f:
            f.write("mine")
        rc, out, err = self.cmg("collect", "--out", self.snap)
        self.assertEqual(rc, 3)
        self.assertIn("not empty", err)
        self.assertEqual(os.listdir(self.snap), ["keep.txt"])
        link = os.path.join(self.tmp, "link")
        empty = os.path.join(self.tmp, "empty")
        os.makedirs(empty)
        os.symlink(empty, link)
        rc, out, err = self.cmg("collect", "--out", link)
        self.assertEqual(rc, 3)
        self.assertEqual(os.listdir(empty), [])
        # an empty folder another user may write in: a link planted there would be written through
        os.chmod(empty, 0o777)
        rc, out, err = self.cmg("collect", "--out", empty)
        self.assertEqual(rc, 3)
        self.assertIn("writable by other users", err)
        self.assertEqual(os.listdir(empty), [])
        os.chmod(empty, 0o700)
        rc, out, err = self.cmg("collect", "--out", empty, "--only", "device")
        self.assertEqual(rc, 0, err)
        self.assertIn("manifest.json", os.listdir(empty))

    def test_one_zip_file_for_the_ticket(self):
        _, here = self.cmg("selftest", "--no-upload", "--json")[:2]
        zpath = os.path.join(self.tmp, "INC123.zip")
        rc, out, err = self.cmg("collect", "--out", zpath)
        self.assertEqual(rc, 0, err)
        self.assertIn("Attach %s to the ticket" % zpath, out)
        self.assertFalse(os.path.exists(zpath + ".partial"))  # the folder it was collected in is gone
        with zipfile.ZipFile(zpath) as z:
            self.assertIsNone(z.testzip())  # every entry's CRC checks out
            names = z.namelist()
            self.assertIn("manifest.json", names)
            self.assertIn("aadjoin/dsreg.txt", names)
            self.assertIn("clientlogs/CcmMessaging.log", names)
            z.extractall(self.snap)
        _, judged = self.judge()
        self.assertEqual(verdicts(judged), verdicts(json.loads(here)))
        # the zip itself is not judged: said how to, and nothing is written over an existing file
        rc, out, err = self.cmg("selftest", "--input", zpath)
        self.assertEqual(rc, 3)
        self.assertIn("extract it first", err)
        before = os.path.getsize(zpath)
        rc, out, err = self.cmg("collect", "--out", zpath)
        self.assertEqual(rc, 3)
        self.assertIn("exists", err)
        self.assertEqual(os.path.getsize(zpath), before)

    def test_a_standard_user_judges_a_snapshot(self):
        """This machine's configuration is administrators' only (an installed agent): a helpdesk
        user without elevation still judges a snapshot, with the built-in defaults and the device's
        settings, and logs nothing."""
        etc = "/etc/cmgdiag"
        if os.path.exists(etc):
            self.skipTest("%s exists on this machine (an installed agent): not touched by a test" % etc)
        self.collect()
        _, here = self.judge()
        shared = os.path.join(self.tmp, "shared")
        shutil.copytree(self.snap, shared)
        for root, dirs, files in os.walk(shared):
            for n in dirs + files:
                os.chmod(os.path.join(root, n), 0o755 if n in dirs else 0o644)
        os.chmod(shared, 0o755)
        os.chmod(self.tmp, 0o755)
        os.makedirs(etc, mode=0o700)
        try:
            with open(os.path.join(etc, "cmgdiag.json"), "w") as f:
                f.write("{}")
            os.chmod(os.path.join(etc, "cmgdiag.json"), 0o600)
            p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", BIN, "selftest",
                                "--input", shared, "--json"], capture_output=True, text=True, timeout=120)
        finally:
            os.remove(os.path.join(etc, "cmgdiag.json"))
            os.rmdir(etc)
        self.assertIn(p.returncode, (0, 1, 2), p.stderr)
        self.assertEqual(verdicts(json.loads(p.stdout)), verdicts(here))

    def test_not_a_snapshot(self):
        os.makedirs(self.snap)
        rc, out, err = self.cmg("selftest", "--input", self.snap)
        self.assertEqual(rc, 3)
        self.assertIn("is not a snapshot", err)
        with open(os.path.join(self.snap, "manifest.json"), "w") as f:
            f.write('{"schema": "cmgdiag.snapshot/9", "checks": {}}')
        rc, out, err = self.cmg("selftest", "--input", self.snap)
        self.assertEqual(rc, 3)
        self.assertIn("newer format", err)
        with open(os.path.join(self.snap, "manifest.json"), "w") as f:
            f.write('{"checks": ')
        rc, out, err = self.cmg("selftest", "--input", self.snap)
        self.assertEqual(rc, 3)
        self.assertIn("not the manifest", err)


if __name__ == "__main__":
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
