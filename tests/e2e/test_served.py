#!/usr/bin/env python3
"""Self-test for a standard user, through the running agent (agent/app/served.h): a user who may not
read the configuration runs `cmgdiag selftest` and the agent, running as root, runs it and streams
the report back over its Unix socket; the bundle ships as usual. Also: no agent (a plain sentence,
exit 3), requests that are garbage, too long, too slow or ask for something unknown (refused, the
agent keeps serving), the least gap between two, turned off by the administrator, and a socket
served by someone else (the client refuses to talk to it).

    test_served.py BINARY     (as root: the standard user is `nobody`, through setpriv)

The Windows named pipe has its own test under wine (tests/windows/service.sh)."""
import glob
import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

BIN = None
NOBODY = 65534


def as_nobody(argv):
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups"] + argv


class Served(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0 or not shutil.which("setpriv"):
            self.skipTest("needs root and setpriv (util-linux) to play a standard user")
        # readable by everyone except the configuration: the way Windows ACLs leave a standard user
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-served-")
        os.chmod(self.tmp, 0o755)
        self.client = os.path.join(self.tmp, "cmgdiag")
        shutil.copy2(BIN, self.client)
        os.chmod(self.client, 0o755)
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")
        self.log = os.path.join(self.tmp, "cmgdiag.log")
        self.share = os.path.join(self.tmp, "share")
        os.makedirs(self.share)
        self.endpoint = os.path.join(self.tmp, "run", "selftest.sock")
        self.env = dict(os.environ, CMGDIAG_SELFTEST_ENDPOINT=self.endpoint, NO_COLOR="1")
        self.procs = []
        self.write()

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write(self, **served):
        c = {"spool": {"dir": os.path.join(self.tmp, "spool")}, "state_dir": os.path.join(self.tmp, "state"),
             "log": {"file": self.log, "level": "debug"}, "start_delay_s": 3600, "interval_s": 3600,
             "service_selftest": dict({"min_gap_s": 0, "user_min_gap_s": 0}, **served),
             "checks": {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False}, "netenv": {"enabled": False},
                        "clientlogs": {"enabled": False}, "cmgprobe": {"enabled": False}, "content": {"enabled": False},
                        "clientauth": {"enabled": False}, "device": {"min_free_gb": 0}},
             "outputs": [{"type": "file", "dir": self.share}]}
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        os.chmod(self.cfg, 0o600)

    def start(self):
        p = subprocess.Popen([BIN, "-c", self.cfg, "run"], env=self.env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        end = time.time() + 20
        while time.time() < end and "self-tests for standard users" not in self.logtext():
            time.sleep(0.05)
        return p

    def logtext(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def user(self, *args):
        p = subprocess.run(as_nobody([self.client, "-c", self.cfg] + list(args)), capture_output=True,
                           env=self.env, timeout=120)
        return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")

    def bundles(self):
        out = []
        for f in glob.glob(os.path.join(self.share, "**", "*.json.gz"), recursive=True):
            with open(f, "rb") as fh:
                out.append(json.loads(gzip.decompress(fh.read())))
        return out

    def raw(self, data, wait=15):
        """What the agent answers to raw bytes (as root: the agent does not look at who asks)."""
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(wait)
        s.connect(self.endpoint)
        if data:
            s.sendall(data)
        got = b""
        try:
            while True:
                b = s.recv(65536)
                if not b:
                    break
                got += b
                if b"\x1eexit " in got and got.endswith(b"\n"):
                    break
        finally:
            s.close()
        return got.decode("utf-8", "replace")

    # --------------------------------------------------------------------------------------------------

    def test_standard_user_gets_the_report_and_the_bundle_ships(self):
        self.start()
        rc, out, err = self.user("selftest", "--ticket", "INC0042", "--only", "agent")
        self.assertIn(rc, (0, 1), out + err)
        self.assertIn("selftest on", out)
        self.assertIn("for ticket INC0042", out)
        self.assertIn("agent", out)
        self.assertIn("Reference for the helpdesk:", out)
        self.assertIn("(ticket INC0042), sent to file", out)
        self.assertNotIn("\x1e", out + err, "records are the client's business, never printed")
        b = [x for x in self.bundles() if x["ticket"] == "INC0042"]
        self.assertEqual(len(b), 1, self.bundles())
        self.assertEqual(b[0]["trigger"], "selftest")
        self.assertIn("asked by user %d" % NOBODY, self.logtext())
        # what the user was told is what root would be told: the same report, run as root
        self.assertNotIn("access denied", (out + err).lower())

    def test_json_through_the_service(self):
        self.start()
        rc, out, err = self.user("selftest", "--json", "--no-upload", "--only", "agent")
        self.assertIn(rc, (0, 1), err)
        b = json.loads(out)
        self.assertEqual(b["trigger"], "selftest")
        self.assertEqual([c["check"] for c in b["checks"]], ["agent"])
        self.assertEqual(self.bundles(), [], "--no-upload shipped a bundle")

    def test_exit_code_is_the_selftests(self):
        self.start()
        rc, out, err = self.user("selftest", "--no-upload", "--only", "nosuchcheck")
        self.assertEqual(rc, 3, out + err)
        self.assertIn("nosuchcheck", out + err)

    def test_no_service_says_run_elevated_or_start_it(self):
        rc, out, err = self.user("selftest", "--ticket", "INC1")
        self.assertEqual(rc, 3)
        self.assertIn("may not read cmgdiag's configuration", err)
        self.assertIn("elevated prompt", err)
        self.assertIn("start the service", err)

    def test_a_standard_users_check_and_gate_say_elevate_not_fix_the_configuration(self):
        # nothing is wrong with the configuration: the account may not read it
        for args in (["check", "agent"], ["validate", "--profile", "pre-upgrade"], ["config", "check"]):
            rc, out, err = self.user(*args)
            self.assertEqual(rc, 3, (args, out, err))
            self.assertIn("this account may not read the configuration (%s)" % self.cfg, err)
            self.assertIn("run it elevated", err)
            self.assertIn("'cmgdiag selftest', which the service runs for you", err)
            self.assertNotIn("Fix the configuration", out + err)
            if args[0] == "validate":  # the gate's one line says it too (Intune keeps stdout only)
                self.assertIn("COULD NOT RUN (pre-upgrade): this account may not read the configuration", out)

    def test_turned_off_by_the_administrator(self):
        self.write(enabled=False)
        self.start()
        self.assertIn("turned off", self.logtext())
        self.assertFalse(os.path.exists(self.endpoint), "a turned-off agent still listens")
        rc, out, err = self.user("selftest")
        self.assertEqual(rc, 3)
        self.assertIn("start the service", err)

    def test_least_gap_between_two(self):
        self.write(min_gap_s=3600)
        self.start()
        rc, out, err = self.user("selftest", "--no-upload", "--only", "agent")
        self.assertIn(rc, (0, 1), out + err)
        rc, out, err = self.user("selftest", "--no-upload", "--only", "agent")
        self.assertEqual(rc, 3)
        self.assertIn("runs at most one every 3600 s", err)
        self.assertIn("try again in", err)

    def test_bad_requests_are_refused_and_the_agent_keeps_serving(self):
        self.start()
        cases = [(b"not json\n", "not one JSON object"),
                 (b'{"ticket": "INC1; rm -rf /"}\n', "a ticket is"),
                 (b'{"ticket": "--config=/etc/shadow"}\n', "a ticket is"),
                 (b'{"only": "agent --json"}\n', "\"only\""),
                 (b'{"json": "yes"}\n', "must be true or false"),
                 (b'{"config": "/tmp/x.json"}\n', "unknown key \"config\""),
                 (b'{"ticket": "' + b"A" * 65 + b'"}\n', "a ticket is"),
                 (b"{" + b" " * 5000, "longer than 4 KiB"),
                 (b'{"ticket": "\xff\xfe"}\n', "a ticket is"),
                 (b"", "no request within 5 seconds")]
        for data, want in cases:
            got = self.raw(data)
            self.assertIn("\x1erefused ", got, data[:40])
            self.assertIn(want, got, data[:40])
            self.assertTrue(got.endswith("\x1eexit 3\n"), got)
        self.assertEqual(self.bundles(), [], "a refused request ran a self-test")
        rc, out, err = self.user("selftest", "--only", "agent")
        self.assertIn(rc, (0, 1), out + err)
        self.assertIn("shipped", out)

    def silent(self, as_user=True):
        """A connection that says nothing (as `nobody` when as_user), held open until closed."""
        holder = ("import socket,sys,time\ns=socket.socket(socket.AF_UNIX);s.connect(%r)\n"
                  "sys.stdout.write('up\\n');sys.stdout.flush();time.sleep(30)\n") % self.endpoint
        argv = [sys.executable, "-c", holder]
        p = subprocess.Popen(as_nobody(argv) if as_user else argv, stdout=subprocess.PIPE)
        self.procs.append(p)
        self.assertEqual(p.stdout.readline(), b"up\n")
        return p

    def test_a_silent_connection_holds_nobody_up(self):
        # attack 6 (round 3): one silent connection made every other user wait for it
        self.start()
        hold = self.silent()
        t0 = time.time()
        rc, out, err = self.user("selftest", "--no-upload", "--only", "agent")
        took = time.time() - t0
        self.assertIn(rc, (0, 1), out + err)
        self.assertLess(took, 4.5, "the self-test waited for the silent connection")
        hold.kill()

    def test_one_account_cannot_hold_every_connection(self):
        # a third connection of the same account is refused at once; another account is still served
        self.start()
        holds = [self.silent(), self.silent()]
        t0 = time.time()
        rc, out, err = self.user("selftest", "--no-upload", "--only", "agent")
        self.assertEqual(rc, 3, out + err)
        self.assertIn("already has self-test requests open", err)
        self.assertLess(time.time() - t0, 2.0, "a refusal was not at once")
        r = subprocess.run([BIN, "-c", self.cfg, "selftest", "--service", "--no-upload", "--only", "agent"],
                           capture_output=True, env=self.env, timeout=60)
        self.assertIn(r.returncode, (0, 1), r.stderr)
        for h in holds:
            h.kill()

    def test_least_gap_for_the_same_account(self):
        self.write(user_min_gap_s=3600)
        self.start()
        rc, out, err = self.user("selftest", "--no-upload", "--only", "agent")
        self.assertIn(rc, (0, 1), out + err)
        rc, out, err = self.user("selftest", "--no-upload", "--only", "agent")
        self.assertEqual(rc, 3)
        self.assertIn("for the same account (service_selftest.user_min_gap_s)", err)
        # another account (root, through the service) is not held up by that user's gap
        r = subprocess.run([BIN, "-c", self.cfg, "selftest", "--service", "--no-upload", "--only", "agent"],
                           capture_output=True, env=self.env, timeout=60)
        self.assertIn(r.returncode, (0, 1), r.stderr)

    def test_a_service_that_never_answers_is_given_up(self):
        # the client's side: a root-owned socket that accepts and says nothing; the client gives up
        sock = os.path.join(self.tmp, "mute.sock")
        server = ("import socket,time\ns=socket.socket(socket.AF_UNIX);s.bind(%r);s.listen(4)\n"
                  "open(%r+'.ready','w').close()\nc,_=s.accept();time.sleep(60)\n") % (sock, sock)
        p = subprocess.Popen([sys.executable, "-c", server])
        self.procs.append(p)
        end = time.time() + 10
        while time.time() < end and not os.path.exists(sock + ".ready"):
            time.sleep(0.05)
        t0 = time.time()
        r = subprocess.run([BIN, "selftest", "--service", "--no-upload"], capture_output=True, timeout=90,
                           env=dict(self.env, CMGDIAG_SELFTEST_ENDPOINT=sock))
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"did not answer within 30 seconds", r.stderr)
        self.assertLess(time.time() - t0, 40)

    def test_a_socket_served_by_someone_else_is_not_used(self):
        # someone (here nobody) serves the endpoint; root's selftest --service must not talk to it
        d = os.path.join(self.tmp, "squat")
        os.makedirs(d)
        os.chown(d, NOBODY, NOBODY)
        sock = os.path.join(d, "s.sock")
        got = os.path.join(d, "got")
        server = ("import socket,os\ns=socket.socket(socket.AF_UNIX);s.bind(%r);s.listen(1)\n"
                  "open(%r+'.ready','w').close()\nc,_=s.accept();c.settimeout(5)\n"
                  "try:\n d=c.recv(4096)\nexcept Exception:\n d=b''\n"
                  "open(%r,'wb').write(d);c.sendall(b'fake report\\n\\x1eexit 0\\n')\n") % (sock, got, got)
        p = subprocess.Popen(as_nobody([sys.executable, "-c", server]))
        self.procs.append(p)
        end = time.time() + 10
        while time.time() < end and not os.path.exists(got + ".ready"):
            time.sleep(0.05)
        r = subprocess.run([BIN, "selftest", "--service", "--ticket", "INC9"], capture_output=True, timeout=60,
                           env=dict(self.env, CMGDIAG_SELFTEST_ENDPOINT=sock))
        p.wait(timeout=20)
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"not by the service", r.stderr)
        self.assertNotIn(b"fake report", r.stdout)
        with open(got, "rb") as f:
            self.assertEqual(f.read(), b"", "the request (with its ticket) went to a stranger")

    def test_stop_removes_the_socket_it_created(self):
        p = self.start()
        self.assertTrue(os.path.exists(self.endpoint))
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=15)
        self.assertFalse(os.path.exists(self.endpoint), "the socket it created stayed behind")


if __name__ == "__main__":
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
