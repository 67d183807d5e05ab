#!/usr/bin/env python3
"""The security suite: cmgdiag runs as root (SYSTEM on Windows); these tests play the hostile local
user (`nobody`) against it, one test (or a few) per finding of docs/security.md. Each of them failed
on the code before the fixes.

    test_security.py BINARY FAULTSERVER

Run as root (the agent's real context): the hostile steps run as `nobody` in a forked child."""
import gzip
import json
import os
import pwd
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

BIN = None
FAULTSERVER = None
NOBODY = None


def run(*args, env=None, stdin=None, timeout=120, limit_as=None):
    e = dict(os.environ)
    if env:
        e.update(env)

    def pre():
        if limit_as:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    p = subprocess.run([BIN] + list(args), capture_output=True, env=e, timeout=timeout,
                       input=stdin, preexec_fn=pre)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), p.stdout


def as_nobody(fn):
    """Runs fn() in a child process with the uid and gid of `nobody`; returns its exit status."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(NOBODY.pw_gid)
            os.setuid(NOBODY.pw_uid)
            fn()
            os._exit(0)
        except BaseException as ex:  # noqa: BLE001 - report anything to the parent
            sys.stderr.write("as_nobody: %r\n" % ex)
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def give_to_nobody(path, mode):
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    os.chmod(path, mode)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Base(unittest.TestCase):
    def setUp(self):
        # A private root-owned folder (mkdtemp: 0700) under /tmp, whose sticky bit is allowed above.
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-sec-")
        os.chmod(self.tmp, 0o755)  # root's, not writable by others; `nobody` may look inside
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")
        self.marker = os.path.join(self.tmp, "pwned")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_cfg(self, checks=None, outputs=None, top=None, path=None, mode=0o600):
        base = {"spool": {"dir": os.path.join(self.tmp, "spool")},
                "log": {"file": os.path.join(self.tmp, "logs", "cmgdiag.log")},
                "state_dir": os.path.join(self.tmp, "state"),
                "checks": {n: {"enabled": False} for n in
                           ("aadjoin", "mpcandidates", "netenv", "clientlogs", "cmgprobe", "exec")},
                "outputs": outputs or []}
        for k, v in (checks or {}).items():
            base["checks"][k] = v
        base.update(top or {})
        path = path or self.cfg
        with open(path, "w", encoding="utf-8") as f:
            json.dump(base, f)
        os.chmod(path, mode)
        return path

    def check_json(self, name, *extra, env=None):
        rc, out, err, _ = run("-c", self.cfg, "check", name, "--json", *extra, env=env)
        self.assertTrue(out.strip(), "no JSON from check %s (rc %d): %s" % (name, rc, err))
        return rc, json.loads(out)


class ExecFindings(Base):
    """exec: links in folders a user owns, the start of exactly the verified file, the child's
    environment and descriptors, secrets in its output."""

    def user_folder(self):
        d = os.path.join(self.tmp, "userbin")
        os.mkdir(d)
        give_to_nobody(d, 0o755)
        return d

    def exec_cfg(self, argv, **kw):
        cmd = {"name": "t", "argv": argv}
        cmd.update(kw)
        return self.write_cfg({"exec": {"commands": [cmd]}})

    def test_link_in_a_user_folder_is_refused(self):
        d = self.user_folder()
        link = os.path.join(d, "tool")
        self.assertEqual(as_nobody(lambda: os.symlink("/usr/bin/id", link)), 0)
        self.exec_cfg([link])
        rc, r = self.check_json("exec")
        self.assertEqual(r["status"], "fail", r)
        self.assertEqual(r["code"], "EXEC_REFUSED", r)
        self.assertIn(d, r["summary"])

    def test_link_switched_between_check_and_start_never_runs_user_code(self):
        d = self.user_folder()
        link = os.path.join(d, "tool")
        evil = os.path.join(d, "evil.sh")

        def plant():
            with open(evil, "w") as f:
                f.write("#!/bin/sh\ntouch %s\n" % self.marker)
            os.chmod(evil, 0o755)
            os.symlink("/usr/bin/true", link)
        self.assertEqual(as_nobody(plant), 0)
        self.exec_cfg([link])
        # The user flips the link as fast as it can while the agent checks and starts it.
        pid = os.fork()
        if pid == 0:
            os.setgroups([])
            os.setgid(NOBODY.pw_gid)
            os.setuid(NOBODY.pw_uid)
            tmpl = link + ".new"
            i = 0
            while True:
                try:
                    os.symlink(evil if i % 2 else "/usr/bin/true", tmpl)
                    os.replace(tmpl, link)
                except OSError:
                    pass
                i += 1
        try:
            for _ in range(40):
                self.check_json("exec")
        finally:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        self.assertFalse(os.path.exists(self.marker), "the user's script ran as root")

    def test_link_in_an_admin_folder_still_runs(self):
        d = os.path.join(self.tmp, "adminbin")
        os.mkdir(d, 0o755)
        os.symlink("/usr/bin/id", os.path.join(d, "tool"))
        self.exec_cfg([os.path.join(d, "tool"), "-u"])
        rc, r = self.check_json("exec")
        self.assertEqual(r["status"], "pass", r)
        self.assertEqual(r["facts"]["commands"][0]["stdout"].strip(), "0")

    def test_a_script_is_started_from_the_verified_file(self):
        d = os.path.join(self.tmp, "adminbin")
        os.mkdir(d, 0o755)
        script = os.path.join(d, "check.sh")
        with open(script, "w") as f:
            f.write('#!/bin/sh\necho \'{"status":"pass","code":"OK","summary":"script ran"}\'\n')
        os.chmod(script, 0o755)
        self.exec_cfg([script])
        rc, r = self.check_json("exec")
        self.assertEqual(r["status"], "pass", r)
        self.assertIn("script ran", r["summary"])

    def test_child_environment_is_minimal(self):
        self.exec_cfg(["/usr/bin/env"])
        rc, r = self.check_json("exec", env={"CMGDIAG_PROBE_VAR": "leaked-value", "LD_PRELOAD": "",
                                            "PATH": "/tmp/evil:" + os.environ.get("PATH", "")})
        out = r["facts"]["commands"][0]["stdout"]
        self.assertNotIn("CMGDIAG_PROBE_VAR", out)
        self.assertNotIn("LD_PRELOAD", out)
        self.assertIn("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", out)
        self.assertNotIn("/tmp/evil", out)

    def test_child_inherits_no_descriptor_of_the_agent(self):
        self.exec_cfg(["/bin/ls", "/proc/self/fd"])
        rc, r = self.check_json("exec")
        fds = set(r["facts"]["commands"][0]["stdout"].split())
        # 0-2 are its standard streams, 3 the folder ls itself opened to list
        self.assertTrue(fds <= {"0", "1", "2", "3"}, "the child holds the agent's descriptors: %s" % sorted(fds))

    def test_secrets_in_the_child_output_are_redacted(self):
        self.exec_cfg(["/bin/sh", "-c", 'echo "$https_proxy"; echo "$MY_API_TOKEN"; '
                                        'echo "run --api-key=K3yV4lue token=T0kenV4lue"'])
        rc, r = self.check_json("exec", env={"https_proxy": "http://svc:Pr0xyPassw0rd@127.0.0.1:9",
                                            "MY_API_TOKEN": "xyzzy-secret-token"})
        text = json.dumps(r)
        for secret in ("Pr0xyPassw0rd", "K3yV4lue", "T0kenV4lue"):
            self.assertNotIn(secret, text)
        self.assertNotIn("xyzzy-secret-token", text)  # not passed to the child at all


class ConfigFindings(Base):
    """A configuration that non-administrators can write is not trusted with commands."""

    def planted_exec(self, mode, folder_owner_nobody=False):
        if folder_owner_nobody:
            d = os.path.join(self.tmp, "conf")
            os.mkdir(d)
            self.cfg = os.path.join(d, "cmgdiag.json")
        self.write_cfg({"exec": {"commands": [{"name": "t", "argv": ["/usr/bin/touch", self.marker]}]}}, mode=mode)
        if folder_owner_nobody:
            give_to_nobody(os.path.dirname(self.cfg), 0o755)

    def test_world_writable_configuration_runs_no_command(self):
        self.planted_exec(0o666)
        rc, r = self.check_json("agent")
        self.assertEqual((r["status"], r["code"]), ("fail", "AGENT_CONFIG_INSECURE"), r)
        self.assertIn("writable by every user", r["summary"])
        rc, r = self.check_json("exec")
        self.assertEqual(r["code"], "EXEC_CONFIG_INSECURE", r)
        self.assertFalse(os.path.exists(self.marker))

    def test_configuration_in_a_user_owned_folder_runs_no_command(self):
        self.planted_exec(0o644, folder_owner_nobody=True)
        rc, r = self.check_json("agent")
        self.assertEqual(r["code"], "AGENT_CONFIG_INSECURE", r)
        rc, r = self.check_json("exec")
        self.assertEqual(r["code"], "EXEC_CONFIG_INSECURE", r)
        self.assertFalse(os.path.exists(self.marker))

    def test_a_named_file_a_user_owns_is_reported_and_not_read(self):
        # a private configuration that names a CA bundle and a token file a user owns: the agent check and
        # `config check` name them; the http output does not open (nothing read, nothing sent)
        ca, tok = os.path.join(self.tmp, "user-ca.pem"), os.path.join(self.tmp, "user-token")
        for f in (ca, tok):
            with open(f, "w") as fh:
                fh.write("x\n")
            give_to_nobody(f, 0o644)
        self.write_cfg(outputs=[{"type": "http", "url": "https://127.0.0.1:9/in", "ca_file": ca,
                                 "bearer_token_file": tok}])
        rc, r = self.check_json("agent")
        self.assertEqual((r["status"], r["code"]), ("fail", "AGENT_FILE_INSECURE"), r)
        self.assertIn("outputs[0].ca_file = " + ca, r["facts"]["files_not_admin_only"])
        self.assertIn("outputs[0].bearer_token_file = " + tok, r["facts"]["files_not_admin_only"])
        p = subprocess.run([BIN, "-c", self.cfg, "config", "check"], capture_output=True, text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)  # the output cannot open: a configuration error that names the file
        self.assertIn("bearer_token_file (%s) is not read" % tok, p.stdout + p.stderr)
        p = subprocess.run([BIN, "-c", self.cfg, "selftest", "--only", "agent"], capture_output=True, text=True,
                           timeout=120)
        self.assertIn("is not read", p.stdout + p.stderr)

    def test_private_configuration_is_trusted(self):
        self.planted_exec(0o600)
        rc, r = self.check_json("agent")
        self.assertNotEqual(r["code"], "AGENT_CONFIG_INSECURE", r)
        rc, r = self.check_json("exec")
        self.assertEqual(r["status"], "pass", r)
        self.assertTrue(os.path.exists(self.marker))


class ReferencedFiles(Base):
    """Round 3: every file the configuration refers to is read only when no one but an administrator
    can change it (and the configuration); what the command line names is the caller's own."""

    def user_file(self, name, text="x\n"):
        f = os.path.join(self.tmp, name)
        with open(f, "w") as fh:
            fh.write(text)
        give_to_nobody(f, 0o644)
        return f

    def test_a_trust_root_a_user_owns_is_not_read_by_a_check(self):
        # attack 2 (round 3): checks.cmgprobe.ca_file / netenv.ca_file / clientlogs.signatures_file were
        # read whoever owned them (a user's CA intercepts the probe; a user's signatures change verdicts)
        ca = self.user_file("user-ca.pem")
        sig = self.user_file("user-signatures.json", "{}")
        self.write_cfg({"cmgprobe": {"enabled": True, "ca_file": ca},
                        "netenv": {"enabled": True, "ca_file": ca},
                        "clientlogs": {"enabled": True, "signatures_file": sig}})
        for check, key, path in (("cmgprobe", "ca_file", ca), ("netenv", "ca_file", ca),
                                 ("clientlogs", "signatures_file", sig)):
            rc, r = self.check_json(check)
            self.assertEqual((r["status"], r["code"]), ("error", check.upper() + "_CONFIG"), r)
            self.assertIn("%s (%s) is not read" % (key, path), r["summary"])
        rc, r = self.check_json("agent")
        self.assertEqual(r["code"], "AGENT_FILE_INSECURE", r)
        self.assertIn("checks.netenv.ca_file = " + ca, r["facts"]["files_not_admin_only"])

    def test_a_capture_the_configuration_names_is_read_only_when_admin_only(self):
        data = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "aadjoin",
                            "01-entra-joined-win11.txt")
        with open(data, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        cap = self.user_file("user-capture.txt", text)
        self.write_cfg({"aadjoin": {"enabled": True, "input": cap}})
        rc, r = self.check_json("aadjoin")
        self.assertEqual((r["status"], r["code"]), ("error", "AADJOIN_CONFIG"), r)
        self.assertIn("input (%s) is not read" % cap, r["summary"])
        # control: the same file named on the command line is the caller's own and is read
        rc, r = self.check_json("aadjoin", "--input", cap)
        self.assertEqual(r["facts"].get("source"), "input", r)
        # control: an admin-only capture named by the configuration is read
        os.chown(cap, 0, 0)
        rc, r = self.check_json("aadjoin")
        self.assertEqual(r["facts"].get("source"), "input", r)

    def test_dsregcmd_path_is_started_with_the_small_environment(self):
        # attack 2 (round 3): dsregcmd_path ran with the agent's whole environment
        fixture = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "aadjoin",
                               "01-entra-joined-win11.txt")
        seen = os.path.join(self.tmp, "env-seen")
        prog = os.path.join(self.tmp, "dsregcmd")
        with open(prog, "w") as f:
            f.write("#!/bin/sh\nenv > %s\ncat %s\n" % (seen, os.path.abspath(fixture)))
        os.chmod(prog, 0o700)
        self.write_cfg({"aadjoin": {"enabled": True, "dsregcmd_path": prog}})
        rc, r = self.check_json("aadjoin", env={"AGENT_ONLY_TOKEN": "s3cr3t-agent-value"})
        self.assertEqual(r["facts"].get("source"), "dsregcmd", r)
        with open(seen) as f:
            env = f.read()
        self.assertNotIn("s3cr3t-agent-value", env)
        self.assertIn("PATH=", env)


class EdgeRedaction(Base):
    """Round 3, attack 3: a check's own text (a log line with a SAS signature or a proxy password)
    reached the person and the served stream unredacted; only bundles were redacted."""

    def test_check_output_is_redacted_in_json_and_for_a_person(self):
        src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "clientlogs", "cmg-forbidden",
                           "CcmMessaging.log")
        with open(src, "rb") as f:
            text = f.read().decode("utf-8")
        text = text.replace("https://CMG.CONTOSO.COM/", "https://svc:Spring;2026@CMG.CONTOSO.COM/", 1)
        text = text.replace("Text=CCM_E_BAD_HTTP_STATUS_CODE", "Text=CCM_E_BAD_HTTP_STATUS_CODE ?sv=1&sig=TOPSECRETSIG")
        cap = os.path.join(self.tmp, "logs")
        os.mkdir(cap)
        with open(os.path.join(cap, "CcmMessaging.log"), "w", newline="") as f:
            f.write(text)
        self.write_cfg()
        for extra in (["--json"], []):
            rc, out, err, _ = run("-c", self.cfg, "check", "clientlogs", "--input", cap, *extra)
            self.assertTrue(out.strip(), err)
            self.assertNotIn("TOPSECRETSIG", out + err)
            self.assertNotIn("Spring;2026", out + err)
        self.assertIn("<redacted>", run("-c", self.cfg, "check", "clientlogs", "--input", cap, "--json")[1])


class ReportBounds(Base):
    """Round 3, attack 8: a container whose List Blobs answers repeat their continuation marker kept
    the report fetching for ever (840 MB in 30 s)."""

    def test_a_container_that_repeats_its_marker_is_not_listed_for_ever(self):
        port = free_port()
        log = os.path.join(self.tmp, "fault.log")
        srv = subprocess.Popen([sys.executable, FAULTSERVER, str(port), log, ",".join(["loop"] * 50)])
        try:
            end = time.time() + 10
            while time.time() < end:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            t0 = time.time()
            sas = os.path.join(self.tmp, "sas.txt")
            with open(sas, "w") as f:
                f.write("http://127.0.0.1:%d/bundles?sv=2022-11-02&sp=rl&sig=SECRETSIG\n" % port)
            os.chmod(sas, 0o600)
            rc, out, err, _ = run("report", "--container-sas-file", sas, timeout=60)
            self.assertEqual(rc, 3, out + err)
            self.assertIn("same continuation marker twice", err)
            self.assertNotIn("SECRETSIG", out + err)
            self.assertLess(time.time() - t0, 20)
            with open(log) as f:
                lists = [json.loads(line) for line in f if "comp=list" in line]
            self.assertLessEqual(len(lists), 2, "it kept listing")
        finally:
            srv.kill()
            srv.wait()


class PurgeFindings(Base):
    """setup --purge removes what the agent wrote, by name, and nothing else."""

    def test_purge_keeps_what_it_did_not_create(self):
        home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(home, "logs"))
        os.makedirs(os.path.join(home, "data"))
        others = [os.path.join(home, "notes.txt"), os.path.join(home, "other.json"),
                  os.path.join(home, "logs", "syslog"), os.path.join(home, "data", "photo.jpg")]
        for p in others:
            with open(p, "w") as f:
                f.write("not the agent's\n")
        self.cfg = os.path.join(home, "cmgdiag.json")
        # a share that is not there: the bundle stays in the spool
        self.write_cfg(top={"spool": {"dir": os.path.join(home, "data")},
                            "log": {"file": os.path.join(home, "logs", "agent.log")},
                            "state_dir": os.path.join(home, "data")},
                       outputs=[{"type": "file", "dir": os.path.join(self.tmp, "no-such-share")}])
        rc, out, err, _ = run("-c", self.cfg, "selftest")
        self.assertIn(rc, (0, 1, 2), err)
        self.assertTrue(any(n.endswith(".json.gz") for n in os.listdir(os.path.join(home, "data"))))
        self.assertTrue(os.path.exists(os.path.join(home, "logs", "agent.log")))
        rc, out, err, _ = run("-c", self.cfg, "setup", "--purge")
        self.assertEqual(rc, 0, err)
        for p in others:
            self.assertTrue(os.path.exists(p), "purge deleted %s" % p)
        self.assertFalse(os.path.exists(self.cfg))
        self.assertFalse(os.path.exists(os.path.join(home, "logs", "agent.log")))
        self.assertFalse([n for n in os.listdir(os.path.join(home, "data")) if n.endswith(".json.gz")])

    def test_purge_leaves_a_system_log_that_log_file_names(self):
        logs = os.path.join(self.tmp, "varlog")
        os.mkdir(logs)
        victim = os.path.join(logs, "messages")
        with open(victim, "w") as f:
            f.write("Nov 30 10:00:00 host kernel: a system log line\n")
        self.write_cfg(top={"log": {"file": victim}})
        rc, out, err, _ = run("-c", self.cfg, "setup", "--purge")
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.exists(victim))

    def test_purge_does_not_follow_a_linked_spool(self):
        target = os.path.join(self.tmp, "elsewhere")
        os.mkdir(target)
        bundle_like = os.path.join(target, "1764500000000-%s.json.gz" % uuid.uuid4())
        open(bundle_like, "wb").close()
        os.symlink(target, os.path.join(self.tmp, "spool"))
        self.write_cfg()
        rc, out, err, _ = run("-c", self.cfg, "setup", "--purge")
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.exists(bundle_like))


class SetupFindings(Base):
    """setup makes the folder root's and sets aside a configuration it did not write."""

    def test_precreated_folder_is_taken_over_and_planted_config_set_aside(self):
        d = os.path.join(self.tmp, "programdata")
        os.mkdir(d)
        give_to_nobody(d, 0o777)
        self.cfg = os.path.join(d, "cmgdiag.json")
        planted = {"checks": {"exec": {"commands": [{"name": "x", "argv": ["/usr/bin/touch", self.marker]}]}}}

        def plant():
            with open(self.cfg, "w") as f:
                json.dump(planted, f)
        self.assertEqual(as_nobody(plant), 0)
        rc, out, err, _ = run("-c", self.cfg, "setup", "--cmg-url", "https://cmg.contoso.com")
        self.assertEqual(rc, 0, err)
        st = os.stat(d)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o700))
        self.assertIn("set aside", err)
        self.assertTrue([n for n in os.listdir(d) if n.startswith("cmgdiag.json.untrusted-")])
        with open(self.cfg) as f:
            self.assertNotIn("commands", f.read())
        self.assertEqual(os.stat(self.cfg).st_uid, 0)

    def test_a_linked_subfolder_is_refused(self):
        d = os.path.join(self.tmp, "programdata")
        os.mkdir(d)
        target = os.path.join(self.tmp, "target")
        os.mkdir(target)
        os.symlink(target, os.path.join(d, "spool"))
        self.cfg = os.path.join(d, "cmgdiag.json")
        rc, out, err, _ = run("-c", self.cfg, "setup")
        self.assertNotEqual(rc, 0)
        self.assertIn("symbolic link", err)

    def test_sas_comes_from_a_file_or_standard_input(self):
        sas = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=cw&se=2099-01-01&sig=S1gnatur3"
        f = os.path.join(self.tmp, "sas.txt")
        with open(f, "w") as fh:
            fh.write(sas + "\n")
        rc, out, err, _ = run("-c", self.cfg, "setup", "--sas-url-file", f)
        self.assertEqual(rc, 0, err)
        self.assertNotIn("S1gnatur3", out + err)
        with open(self.cfg) as fh:
            self.assertEqual(json.load(fh)["outputs"][0]["sas_url"], sas)
        os.remove(self.cfg)
        rc, out, err, _ = run("-c", self.cfg, "setup", "--sas-url-file", "-", stdin=(sas + "\r\n").encode())
        self.assertEqual(rc, 0, err)
        with open(self.cfg) as fh:
            self.assertEqual(json.load(fh)["outputs"][0]["sas_url"], sas)
        # saved as UTF-16 (Notepad's "Unicode", Windows PowerShell 5.1's Out-File), with its BOM
        os.remove(self.cfg)
        with open(f, "wb") as fh:
            fh.write(b"\xff\xfe" + (sas + "\r\n").encode("utf-16-le"))
        rc, out, err, _ = run("-c", self.cfg, "setup", "--sas-url-file", f)
        self.assertEqual(rc, 0, err)
        with open(self.cfg) as fh:
            self.assertEqual(json.load(fh)["outputs"][0]["sas_url"], sas)
        rc, out, err, _ = run("-c", self.cfg, "setup", "--sas-url", sas)
        self.assertIn("--sas-url-file", err)  # the old form warns

    def test_setup_refuses_what_cannot_work_and_keeps_the_old_configuration(self):
        good = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=cw&se=2099-01-01&sig=S1gnatur3"
        f = os.path.join(self.tmp, "sas.txt")
        with open(f, "w") as fh:
            fh.write(good)
        rc, out, err, _ = run("-c", self.cfg, "setup", "--sas-url-file", f)
        self.assertEqual(rc, 0, err)
        with open(self.cfg) as fh:
            before = fh.read()
        cases = [("https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=rl&se=2099-01-01&sig=S1gnatur3",
                  "neither create nor write"), ("notaurl", "is not a URL")]
        for sas, why in cases:
            with open(f, "w") as fh:
                fh.write(sas)
            rc, out, err, _ = run("-c", self.cfg, "setup", "--sas-url-file", f)
            self.assertEqual(rc, 3, (sas, out, err))
            self.assertIn("outputs[0].sas_url", err)
            self.assertIn(why, err)
            self.assertNotIn("S1gnatur3", out + err)
        for url, why in (("http://cmg.contoso.com", "not https://"), ("cmg.contoso.com", "is not a URL")):
            rc, out, err, _ = run("-c", self.cfg, "setup", "--cmg-url", url)
            self.assertEqual(rc, 3, (url, out, err))
            self.assertIn("checks.cmgprobe.url", err)
            self.assertIn(why, err)
        with open(self.cfg) as fh:
            self.assertEqual(fh.read(), before)  # nothing written that cannot work
        # a CMG URL without a management point id works, but no gate can pass: said at once
        rc, out, err, _ = run("-c", self.cfg, "setup", "--cmg-url", "https://cmg.contoso.com")
        self.assertEqual(rc, 0, err)
        self.assertIn("warning: the CMG URL https://cmg.contoso.com has no management point id", err)
        rc, out, err, _ = run("-c", self.cfg, "setup", "--cmg-url",
                              "https://cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927939")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("no management point id", err)

    def test_config_check_warns_about_a_broad_or_expiring_sas(self):
        soon = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5 * 86400))
        self.write_cfg(outputs=[{"type": "azblob", "sas_url": "https://a.blob.core.windows.net/c?sp=racwdl&se=%s"
                                 "&sv=2022-11-02&sig=S1gnatur3" % soon}])
        rc, out, err, _ = run("-c", self.cfg, "config", "check")
        self.assertEqual(rc, 0, err)
        self.assertIn("Warning: outputs[0].sas_url", out)
        self.assertIn("'rdl' beyond create/write", out)
        self.assertIn("in 4 day(s)", out)
        self.assertNotIn("S1gnatur3", out)


class FolderFindings(Base):
    """Files the agent creates: never through a link, never in a folder a user controls."""

    def victim(self):
        v = os.path.join(self.tmp, "victim")
        with open(v, "w") as f:
            f.write("precious\n")
        return v

    def assert_intact(self, v):
        with open(v) as f:
            self.assertEqual(f.read(), "precious\n")

    def test_log_file_that_is_a_link_is_not_written(self):
        v = self.victim()
        os.makedirs(os.path.join(self.tmp, "logs"), mode=0o700)
        os.symlink(v, os.path.join(self.tmp, "logs", "cmgdiag.log"))
        self.write_cfg()
        run("-c", self.cfg, "selftest", "--no-upload")
        self.assert_intact(v)

    def test_log_folder_a_user_owns_is_not_used(self):
        v = self.victim()
        logs = os.path.join(self.tmp, "logs")
        os.mkdir(logs)
        give_to_nobody(logs, 0o755)
        self.write_cfg()
        rc, out, err, _ = run("-c", self.cfg, "selftest", "--no-upload")
        self.assertIn("not writing the log", err)
        self.assertFalse(os.path.exists(os.path.join(logs, "cmgdiag.log")))
        self.assert_intact(v)

    def test_spool_folder_a_user_owns_is_refused(self):
        spool = os.path.join(self.tmp, "spool")
        os.mkdir(spool)
        give_to_nobody(spool, 0o777)
        target = os.path.join(self.tmp, "target")
        os.mkdir(target)
        self.assertEqual(as_nobody(lambda: os.symlink(target, os.path.join(spool, "quarantine"))), 0)
        self.write_cfg()
        rc, r = self.check_json("agent")
        self.assertEqual(r["code"], "AGENT_SPOOL_NOT_WRITABLE", r)
        run("-c", self.cfg, "selftest")
        self.assertEqual(os.listdir(target), [])
        self.assertFalse([n for n in os.listdir(spool) if n.endswith(".json.gz")])

    def test_lock_file_that_is_a_link_is_not_truncated(self):
        v = self.victim()
        os.makedirs(os.path.join(self.tmp, "state"), mode=0o700)
        os.symlink(v, os.path.join(self.tmp, "state", "cmgdiag.lock"))
        self.write_cfg()
        rc, out, err, _ = run("-c", self.cfg, "run", "--once")
        self.assertEqual(rc, 3)
        self.assertIn("lock file", err)
        self.assert_intact(v)


class InputFindings(Base):
    """Hostile input: a FIFO, inputs that made parsers quadratic, a bundle bomb."""

    def test_input_that_is_a_fifo_is_refused_at_once(self):
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        self.write_cfg()
        rc, out, err, _ = run("-c", self.cfg, "check", "aadjoin", "--input", fifo, timeout=30)
        self.assertEqual(rc, 3)
        self.assertIn("not a regular file", err)

    def test_wrapped_dsregcmd_of_4_mib_is_read_without_hanging(self):
        # Before the fix: 1 MiB took 17 s and 4 MiB over 2 minutes (a value grown by copying).
        cap = os.path.join(self.tmp, "dsreg.txt")
        with open(cap, "w") as f:
            f.write("+" + "-" * 70 + "+\n| Device State" + " " * 57 + "|\n+" + "-" * 70 + "+\n")
            f.write("      DeviceCertificateValidity : " + "A" * 70 + "\n")
            line = "A" * 75 + "\n"
            f.write(line * (((4 << 20) - 65536) // len(line)))  # just under the 4 MiB input cap
        self.write_cfg()
        # 20 ms now; the bound is a hang guard 400 times wider, not a performance goal (tests/bench)
        rc, out, err, _ = run("-c", self.cfg, "check", "aadjoin", "--input", cap, "--json", timeout=8)
        self.assertIn(rc, (0, 1, 2), err)
        json.loads(out)

    def test_cmtrace_openers_of_4_mib_are_read_without_hanging(self):
        # Before the fix: 4 MiB of "<![LOG[" took 38 s (a search to the end per opener).
        logs = os.path.join(self.tmp, "ccmlogs")
        os.mkdir(logs)
        with open(os.path.join(logs, "LocationServices.log"), "w") as f:
            f.write("<![LOG[" * (((4 << 20) - 65536) // 7) + "]LOG]!><time=\"08:48:00.831+240\" date=\"11-24-2026\">\n")
        self.write_cfg()
        # 20 ms now, 11 s before on this machine; the bound is a hang guard, not a performance goal
        rc, out, err, _ = run("-c", self.cfg, "check", "clientlogs", "--input", logs, "--json", timeout=8)
        self.assertIn(rc, (0, 1, 2), err)
        json.loads(out)

    def test_a_bundle_of_millions_of_empty_checks_is_refused_within_memory(self):
        text = b'{"schema":"cmgdiag.bundle/1","checks":[' + b"{}," * 5_500_000 + b"{}]}"
        bomb = os.path.join(self.tmp, "bomb.json.gz")
        with open(bomb, "wb") as f:
            f.write(gzip.compress(text, 9))
        self.assertLess(os.path.getsize(bomb), 64 * 1024)
        rc, out, err, _ = run("show", bomb, limit_as=512 << 20, timeout=60)
        self.assertEqual(rc, 3, err)
        self.assertIn("more than 200000 JSON values", err)


class OutputFindings(Base):
    """Secrets and control characters never reach a person's screen, the log or a bundle."""

    def test_credentials_in_the_configuration_are_redacted_by_config_check(self):
        self.write_cfg(checks={"cmgprobe": {"enabled": True, "url": "https://admin:Pr0beP4ss@cmg.contoso.com",
                                            "proxy": "socks5://u:S0cksP4ss@10.0.0.1:1080"}},
                       outputs=[{"type": "http", "url": "https://collector.example/ingest?code=Funct10nK3y&token=T0k3n",
                                 "proxy": "http://u:HttpPr0xyP4ss@proxy:8080"}])
        rc, out, err, _ = run("-c", self.cfg, "config", "check")
        self.assertEqual(rc, 0, err)
        for secret in ("Pr0beP4ss", "S0cksP4ss", "Funct10nK3y", "T0k3n", "HttpPr0xyP4ss"):
            self.assertNotIn(secret, out)
        self.assertIn("socks5://<redacted>@10.0.0.1:1080", out)

    def test_escape_sequences_from_a_bundle_do_not_reach_the_terminal(self):
        b = {"schema": "cmgdiag.bundle/1", "bundle_id": str(uuid.uuid4()), "created_at": "2026-11-30T10:00:00Z",
             "trigger": "selftest", "ticket": "\x1b]0;owned\x07", "agent": {"version": "1", "platform": "linux"},
             "device": {"hostname": "pc\x1b[2J", "os": "x"}, "overall": "fail",
             "checks": [{"check": "agent\x1b[31m", "status": "fail", "code": "X\x1b[0m",
                         "summary": "evil \x1b[2J\x1b]0;title\x07\u009b31m text", "remediation": "\x1b[1Afix",
                         "facts": {}}]}
        p = os.path.join(self.tmp, "evil.json")
        with open(p, "w") as f:
            json.dump(b, f)
        rc, out, err, raw = run("show", p)
        self.assertEqual(rc, 0, err)
        self.assertIn("evil", out)
        self.assertNotIn(b"\x1b", raw)
        self.assertNotIn("\u009b".encode(), raw)

    def start_faults(self, actions):
        port = free_port()
        log = os.path.join(self.tmp, "faults.jsonl")
        proc = subprocess.Popen([sys.executable, FAULTSERVER, str(port), log, actions])
        self.addCleanup(proc.kill)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        return port

    def test_escape_sequences_from_a_server_do_not_reach_the_console_or_log(self):
        port = self.start_faults("esc,esc,esc")
        self.write_cfg(outputs=[{"type": "http", "url": "http://127.0.0.1:%d/ingest" % port}])
        run("-c", self.cfg, "selftest")
        rc, out, err, raw = run("-c", self.cfg, "flush")
        self.assertIn("403", out + err)
        self.assertNotIn("\x1b", out + err)
        with open(os.path.join(self.tmp, "logs", "cmgdiag.log"), "rb") as f:
            log = f.read()
        self.assertIn(b"Denied", log)
        self.assertNotIn(b"\x1b", log)

    def test_a_host_that_only_starts_with_127_is_not_loopback(self):
        self.write_cfg(outputs=[{"type": "http", "url": "http://127.0.0.1.nip.example/ingest"}])
        rc, out, err, _ = run("-c", self.cfg, "selftest")
        self.assertIn("must start with https://", out + err)

    def test_uploads_refuse_tls_below_1_2(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl is not installed")
        key, crt = os.path.join(self.tmp, "k.pem"), os.path.join(self.tmp, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"],
                       check=True, capture_output=True)
        # A configuration that lets OpenSSL speak TLS 1.1 (Debian's own sets 1.2 as the floor), for the
        # server and for the agent: what stops the agent must be the agent.
        conf = os.path.join(self.tmp, "openssl.cnf")
        with open(conf, "w") as f:
            f.write("openssl_conf = d\n[d]\nssl_conf = s\n[s]\nsystem_default = p\n[p]\n"
                    "MinProtocol = TLSv1\nCipherString = DEFAULT@SECLEVEL=0\n")
        port = free_port()
        srv = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-key", key, "-cert", crt,
                                "-tls1_1", "-www", "-cipher", "DEFAULT@SECLEVEL=0"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=dict(os.environ, OPENSSL_CONF=conf))
        self.addCleanup(srv.kill)
        time.sleep(0.5)
        self.write_cfg(outputs=[{"type": "http", "url": "https://localhost:%d/ingest" % port, "ca_file": crt}])
        rc, out, err, _ = run("-c", self.cfg, "selftest", env={"OPENSSL_CONF": conf})
        rc, out, err, _ = run("-c", self.cfg, "flush", env={"OPENSSL_CONF": conf})
        self.assertRegex(out + err, r"(?i)version|protocol|alert|ssl|tls")
        self.assertTrue([n for n in os.listdir(os.path.join(self.tmp, "spool")) if n.endswith(".json.gz")],
                        "the bundle left the spool over TLS 1.1")


class SpoolFindings(Base):
    """The quarantine is bounded and purged; the file output cleans its interrupted writes; a
    bundle's created_at never steers where a file is written."""

    def fake_bundle(self, created_at="2026-11-30T10:00:00.000Z", corrupt=False):
        bid = str(uuid.uuid4())
        name = "%013d-%s.json.gz" % (int(time.time() * 1000), bid)
        body = {"schema": "cmgdiag.bundle/1", "bundle_id": bid, "created_at": created_at, "trigger": "schedule",
                "ticket": None, "agent": {"version": "0", "platform": "linux", "plugins": []},
                "device": {"hostname": "pc1", "os": "x"}, "overall": "pass", "checks": [],
                "spool": {"pending": 0, "dropped_total": 0}}
        data = b"not gzip at all" if corrupt else gzip.compress(json.dumps(body).encode())
        spool = os.path.join(self.tmp, "spool")
        os.makedirs(spool, mode=0o700, exist_ok=True)
        with open(os.path.join(spool, name), "wb") as f:
            f.write(data)
        return bid, name

    def test_quarantine_stays_bounded_and_purge_empties_it(self):
        for _ in range(80):
            self.fake_bundle(corrupt=True)
            time.sleep(0.002)
        share = os.path.join(self.tmp, "share")
        os.mkdir(share)
        self.write_cfg(outputs=[{"type": "file", "dir": share}])
        run("-c", self.cfg, "flush")
        q = os.path.join(self.tmp, "spool", "quarantine")
        self.assertLessEqual(len(os.listdir(q)), 50)
        self.assertGreater(len(os.listdir(q)), 0)
        rc, out, err, _ = run("-c", self.cfg, "setup", "--purge")
        self.assertFalse(os.path.exists(q))

    def test_file_output_removes_its_interrupted_write_on_the_retry(self):
        bid, _ = self.fake_bundle()
        share = os.path.join(self.tmp, "share")
        folder = os.path.join(share, "2026", "11", "30", "pc1")
        os.makedirs(folder)
        stale = os.path.join(folder, bid + ".json.gz.tmp.4242.0")
        with open(stale, "wb") as f:
            f.write(b"half a bundle")
        self.write_cfg(outputs=[{"type": "file", "dir": share}])
        rc, out, err, _ = run("-c", self.cfg, "flush")
        self.assertTrue(os.path.exists(os.path.join(folder, bid + ".json.gz")), out + err)
        self.assertFalse(os.path.exists(stale))

    def test_created_at_cannot_steer_the_file_output_out_of_its_folder(self):
        self.fake_bundle(created_at="../.-..-..T00:00:00Z")
        share = os.path.join(self.tmp, "a", "b", "share")
        os.makedirs(share)
        self.write_cfg(outputs=[{"type": "file", "dir": share}])
        run("-c", self.cfg, "flush")
        written = [os.path.join(r, n) for r, _, ns in os.walk(self.tmp) for n in ns
                   if n.endswith(".json.gz") and "spool" not in r]
        for p in written:
            self.assertTrue(os.path.realpath(p).startswith(os.path.realpath(share) + os.sep), p)
        # and it is set aside for a person to look at, not retried forever
        self.assertEqual(len(os.listdir(os.path.join(self.tmp, "spool", "quarantine"))), 1)


def main():
    global BIN, FAULTSERVER, NOBODY
    if len(sys.argv) < 3:
        sys.exit("usage: test_security.py BINARY FAULTSERVER")
    BIN, FAULTSERVER = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    del sys.argv[1:3]
    if os.geteuid() != 0:
        print("SKIP: the security suite plays a local user against an agent running as root; run it as root")
        sys.exit(77)
    NOBODY = pwd.getpwnam("nobody")
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
