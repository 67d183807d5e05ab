#!/usr/bin/env python3
"""`netenv` and `exec`, end to end.

netenv: the captured-settings fixtures (tests/data/netenv) through the CLI; live, against the
Entra double of the CMG lab (nginx with the lab PKI answering as login.microsoftonline.com,
device.login.microsoftonline.com and enterpriseregistration.windows.net), directly and through a
real forward proxy (tinyproxy), with a wrong trust store, a proxy that is down, a black hole and
a Date 15 minutes behind. exec: real scripts (JSON result, exit code map, hang killed at the
deadline, output cap, secrets in output, world-writable program or folder refused and not run).

    test_netenv.py BINARY [--wine]"""
import json
import re
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import unittest

import test_cli
from test_cli import native_path, run
from test_cmgprobe import start_cmg_lab, stop_cmg_lab

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "data", "netenv")
NAMES = ["login.microsoftonline.com", "device.login.microsoftonline.com", "enterpriseregistration.windows.net"]
LAB_DIR = None
PORTS = None
PROXY = None  # (process, port, folder)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_tinyproxy():
    exe = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
    if not os.path.exists(exe):
        return None
    d = tempfile.mkdtemp(prefix="cmgdiag-proxy-")
    port = free_port()
    conf = os.path.join(d, "tinyproxy.conf")
    with open(conf, "w") as f:
        f.write("Port %d\nListen 127.0.0.1\nTimeout 30\nAllow 127.0.0.1\nLogFile \"%s/tinyproxy.log\"\n"
                "LogLevel Connect\nMaxClients 20\n" % (port, d))
    p = subprocess.Popen([exe, "-d", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p, port, d
        except OSError:
            time.sleep(0.05)
    p.kill()
    return None


def setUpModule():
    global LAB_DIR, PORTS, PROXY
    LAB_DIR, PORTS = start_cmg_lab()
    PROXY = start_tinyproxy()


def tearDownModule():
    stop_cmg_lab(LAB_DIR)
    if PROXY:
        PROXY[0].kill()
        PROXY[0].wait()
        shutil.rmtree(PROXY[2], ignore_errors=True)


def run_json(*args, env=None):
    rc, out, err = run(*args, env=env)
    if test_cli.WINE and not out.strip():
        print("note: no output from cmgdiag.exe under wine (exit %d); running it again" % rc, file=sys.stderr)
        rc, out, err = run(*args, env=env)
    if not out.strip():
        raise AssertionError("exit %d, no output; stderr: %s" % (rc, err))
    return rc, json.loads(out), err


def pasteable(cmd):
    """What keeps a command from working as typed in PowerShell or cmd: doubled backslashes (escaped
    twice on the way), unbalanced quotes, a $ or a backtick inside double quotes (PowerShell expands
    them), a placeholder left in capitals."""
    found = []
    if "\\\\" in cmd.lstrip("\\"):
        found.append("a doubled backslash")
    for q in "\"'":
        if cmd.count(q) % 2:
            found.append("unbalanced %s" % q)
    for part in cmd.split('"')[1::2]:
        if "$" in part or "`" in part:
            found.append("PowerShell would expand %r" % part)
    if re.search(r"\b(PROXY|PORT|HOST|NAME)\b", cmd):
        found.append("a placeholder")
    return found


class Fixtures(unittest.TestCase):
    """The issue's two machines, explained from captures alone."""

    def check(self, case):
        return run_json("check", "netenv", "--input", native_path(os.path.join(DATA, case)), "--json")

    def test_system_direct_user_pac(self):
        rc, r, _ = self.check("01-system-direct-user-pac")
        self.assertEqual((rc, r["status"], r["code"]), (1, "warn", "NETENV_SYSTEM_NO_PROXY"))
        self.assertIn("http://pac.contoso.com/proxy.pac", r["summary"])
        self.assertIn("SYSTEM connects directly", r["summary"])
        # the fix names the users' own script, never an example proxy
        self.assertIn("AutoConfigURL to http://pac.contoso.com/proxy.pac", r["remediation"])
        self.assertNotIn("proxy.contoso.com:8080", r["remediation"])
        self.assertEqual(r["facts"]["proxies"]["users"][0]["pac"], "http://pac.contoso.com/proxy.pac")
        self.assertIsNone(r["facts"]["reachability"])

    def test_the_fix_is_the_users_own_proxy_as_a_command_to_paste(self):
        cap = os.path.join(tempfile.mkdtemp(), "static-user")
        shutil.copytree(os.path.join(DATA, "01-system-direct-user-pac"), cap)
        with open(os.path.join(cap, "user.reg"), "w", encoding="utf-8") as f:
            f.write("Windows Registry Editor Version 5.00\r\n\r\n"
                    "[HKEY_USERS\\S-1-5-21-1-2-3-1013\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings]\r\n"
                    "\"ProxyEnable\"=dword:00000001\r\n\"ProxyServer\"=\"proxy.fabrikam.net:3128\"\r\n"
                    "\"ProxyOverride\"=\"<local>;*.fabrikam.net\"\r\n")
        try:
            rc, r, _ = run_json("check", "netenv", "--input", native_path(cap), "--json")
        finally:
            shutil.rmtree(os.path.dirname(cap), ignore_errors=True)
        self.assertEqual(r["code"], "NETENV_SYSTEM_NO_PROXY", r["summary"])
        cmd = 'netsh winhttp set proxy proxy.fabrikam.net:3128 "<local>;*.fabrikam.net"'
        self.assertIn(cmd, r["remediation"])
        self.assertEqual(pasteable(cmd), [])

    def test_capture_commands_print_as_typed(self):
        # the PowerShell lines the helpdesk copies: one backslash where PowerShell wants one
        d = tempfile.mkdtemp()
        try:
            bad = os.path.join(d, "x.json")
            with open(bad, "w") as f:
                f.write("garbage")
            for check, cmd in (("mpcandidates", "Get-CimInstance -Namespace root\\ccm\\LocationServices -ClassName "
                                                "SMS_ActiveMPCandidate"),
                               ("clientauth", "Get-ChildItem Cert:\\LocalMachine\\My")):
                rc, r, _ = run_json("check", check, "--input", native_path(bad), "--json")
                self.assertIn(cmd, r["remediation"], check)
                self.assertEqual(pasteable(r["remediation"].split(": ", 1)[1].split(" (")[0]), [], check)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_tls12_disabled(self):
        rc, r, _ = self.check("02-tls12-disabled-schannel")
        self.assertEqual((rc, r["code"]), (2, "NETENV_TLS12_DISABLED"))
        self.assertIn("Enabled=1 and DisabledByDefault=0", r["remediation"])
        self.assertEqual(r["facts"]["tls_policy"]["tls12"], "disabled")

    def test_human_report_reads_aloud(self):
        rc, out, _ = run("check", "netenv", "--input", native_path(os.path.join(DATA, "01-system-direct-user-pac")))
        self.assertEqual(rc, 1)
        self.assertIn("proxy script", out)

    def test_garbage_is_a_clear_error(self):
        rc, r, _ = self.check("09-garbage")
        self.assertEqual((rc, r["status"]), (2, "error"))
        self.assertIn("random.bin", r["summary"])


class Live(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-netenv-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def netenv(self, port=None, paths=None, ca=True, extra=None, env=None, checks=None, selftest=False):
        port = port or PORTS["entra"]
        c = {"endpoints": ["https://%s:%d/%s" % (n, port, p) for n, p in zip(NAMES, paths or ["", "", ""])],
             "resolve": ["%s:%d:127.0.0.1" % (n, port) for n in NAMES], "timeout_ms": 2000,
             "root_update_urls": ["http://127.0.0.1:%d/aia/root.cer" % PORTS["crl"]]}
        if ca:
            c["ca_file"] = native_path(PORTS["root"])
        c.update(extra or {})
        cfg = os.path.join(self.tmp, "cmgdiag.json")
        all_checks = {"netenv": c}
        all_checks.update(checks or {})
        with open(cfg, "w") as f:
            json.dump({"spool": {"dir": native_path(os.path.join(self.tmp, "spool"))},
                       "state_dir": native_path(os.path.join(self.tmp, "state")),
                       "log": {"file": native_path(os.path.join(self.tmp, "cmgdiag.log"))}, "checks": all_checks}, f)
        e = {"https_proxy": "", "HTTPS_PROXY": "", "all_proxy": "", "ALL_PROXY": "", "no_proxy": "", "NO_PROXY": ""}
        e.update(env or {})
        t0 = time.time()
        if selftest:
            rc, b, err = run_json("-c", native_path(cfg), "selftest", "--json", "--no-upload", env=e)
            r = [x for x in b["checks"] if x["check"] == "netenv"][0]
        else:
            rc, r, err = run_json("-c", native_path(cfg), "check", "netenv", "--json", env=e)
        return rc, r, time.time() - t0

    def test_reaches_entra_double(self):
        rc, r, _ = self.netenv()
        self.assertEqual((rc, r["code"]), (0, "NETENV_OK"), r["summary"])
        reach = r["facts"]["reachability"]
        self.assertEqual([x["reachable"] for x in reach], [True, True, True])
        self.assertEqual(reach[0]["status"], 200)
        self.assertEqual(len(r["facts"]["clock"]["sources"]), 3)
        self.assertLessEqual(abs(r["facts"]["clock"]["skew_s"]), 5)
        self.assertIn("directly", r["summary"])

    def test_windows_root_update_reachable_or_a_warning(self):
        rc, r, _ = self.netenv()
        self.assertEqual(r["facts"]["root_update"][0]["reachable"], True)
        self.assertEqual(r["facts"]["root_update"][0]["status"], 200)
        rc, r, _ = self.netenv(extra={"root_update_urls": ["http://127.0.0.1:%d/authrootstl.cab" % PORTS["refused"]]})
        self.assertEqual((r["status"], r["code"]), ("warn", "NETENV_ROOT_UPDATE_UNREACHABLE"), r["summary"])
        self.assertIn("authrootstl.cab", r["summary"])
        self.assertIn("ctldl.windowsupdate.com", r["remediation"])

    def test_through_a_real_proxy(self):
        if not PROXY or test_cli.WINE:
            self.skipTest("tinyproxy is not installed (tests/install-deps.sh all)" if not PROXY
                          else "under wine the proxy comes from WinHTTP (tests/windows/netenv.sh)")
        # The proxy resolves names itself (the lab's resolve entries are the agent's only), so the
        # Entra double is named by address here; its certificate carries IP:127.0.0.1 for this.
        url = "http://127.0.0.1:%d" % PROXY[1]
        rc, r, _ = self.netenv(env={"https_proxy": url}, extra={"endpoints": ["https://127.0.0.1:%d/" % PORTS["entra"]]})
        self.assertEqual((rc, r["code"]), (0, "NETENV_OK"), r["summary"])
        used = r["facts"]["reachability"][0]["proxy_used"]
        self.assertEqual((used["proxy"], used["source"]), (url, "environment"))
        self.assertIn("through " + url, r["summary"])
        with open(os.path.join(PROXY[2], "tinyproxy.log")) as f:
            log = f.read()
        self.assertIn("CONNECT 127.0.0.1:%d" % PORTS["entra"], log)  # it really went through the proxy

    def test_proxy_credentials_never_shown(self):
        rc, r, _ = self.netenv(extra={"proxy": "http://user:S3cretPass@127.0.0.1:%d" % free_port()})
        self.assertEqual((rc, r["code"]), (2, "NETENV_ENTRA_UNREACHABLE"))
        self.assertNotIn("S3cretPass", json.dumps(r))
        self.assertIn("127.0.0.1", r["summary"])

    def test_wrong_trust_store(self):
        # the refusal is a TLS verdict, not a timeout: time enough for wine's certificate store under load
        rc, r, _ = self.netenv(ca=False, extra={"timeout_ms": 8000})
        self.assertEqual((rc, r["code"]), (2, "NETENV_ENTRA_UNREACHABLE"))
        self.assertIn("certificate", (r["summary"] + r.get("detail", "")).lower())

    def test_black_hole_bounded(self):
        rc, r, took = self.netenv(port=PORTS["blackhole"], extra={"timeout_ms": 1000})
        self.assertEqual((rc, r["code"]), (2, "NETENV_ENTRA_UNREACHABLE"))
        self.assertLess(r["duration_ms"], 3 * 1000 + 1500)
        self.assertLess(took, 10)

    def test_clock_behind(self):
        rc, r, _ = self.netenv(paths=["skewed/", "", ""])
        self.assertEqual((rc, r["code"]), (2, "NETENV_CLOCK_SKEW"), r["summary"])
        self.assertGreater(r["facts"]["clock"]["skew_s"], 800)
        self.assertIn("ahead of login.microsoftonline.com", r["summary"])
        rc, r, _ = self.netenv(paths=["skewed/", "", ""], extra={"clock_fail_s": 1200})
        self.assertEqual((rc, r["code"]), (1, "NETENV_CLOCK_DRIFT"))

    def test_selftest_uses_cmg_date_and_proxy(self):
        port = PORTS["good"]
        probe = {"url": "https://cmg.lab.test:%d/CCM_Proxy_ServerAuth/72057594037927939" % port,
                 "resolve": ["cmg.lab.test:%d:127.0.0.1" % port], "ca_file": native_path(PORTS["root"])}
        rc, r, _ = self.netenv(selftest=True, checks={"cmgprobe": probe, "aadjoin": {"enabled": False},
                                                       "mpcandidates": {"enabled": False},
                                                       "clientlogs": {"enabled": False}})
        self.assertEqual(r["code"], "NETENV_OK", r["summary"])
        self.assertIn("cmg", [s["from"] for s in r["facts"]["clock"]["sources"]])
        self.assertIn(r["facts"]["cmgprobe_proxy"]["source"], ("none", "direct"))

    def test_bad_endpoint_is_a_config_error(self):
        cfg = os.path.join(self.tmp, "c.json")
        with open(cfg, "w") as f:
            json.dump({"checks": {"netenv": {"endpoints": ["http://login.microsoftonline.com/"]}}}, f)
        rc, r, _ = run_json("-c", native_path(cfg), "check", "netenv", "--json")
        self.assertEqual((rc, r["status"], r["code"]), (2, "error", "NETENV_CONFIG"))
        self.assertIn("https://", r["summary"])


class Exec(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-exec-")
        os.chmod(self.tmp, 0o755)
        self.marker = os.path.join(self.tmp, "ran")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def script(self, name, body, mode=0o755, folder=None):
        d = folder or self.tmp
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write("#!/bin/sh\n" + body)
        os.chmod(p, mode)
        return p

    def exec_check(self, commands):
        cfg = os.path.join(self.tmp, "cmgdiag.json")
        with open(cfg, "w") as f:
            json.dump({"log": {"file": os.path.join(self.tmp, "cmgdiag.log")},
                       "checks": {"exec": {"commands": commands}}}, f)
        os.chmod(cfg, 0o600)
        t0 = time.time()
        rc, r, err = run_json("-c", cfg, "check", "exec", "--json")
        return rc, r, time.time() - t0

    def setUpClass_skip(self):
        if test_cli.WINE:
            self.skipTest("exec under wine: tests/windows/netenv.sh")

    def test_json_result(self):
        self.setUpClass_skip()
        p = self.script("bitlocker.sh", "echo '{\"status\": \"warn\", \"code\": \"bitlocker_off\", \"summary\": "
                        "\"BitLocker is off on C:\", \"facts\": {\"volume\": \"C:\"}}'\n")
        rc, r, _ = self.exec_check([{"name": "bitlocker", "argv": [p]}])
        self.assertEqual((rc, r["status"], r["code"]), (1, "warn", "EXEC_BITLOCKER_OFF"))
        self.assertEqual(r["summary"], "bitlocker: BitLocker is off on C:")
        c = r["facts"]["commands"][0]
        self.assertEqual((c["result_from"], c["code"], c["facts"]), ("json", "BITLOCKER_OFF", {"volume": "C:"}))

    def test_exit_code_map_and_cwd(self):
        self.setUpClass_skip()
        p = self.script("disk.sh", "pwd\necho low disk >&2\nexit 3\n")
        rc, r, _ = self.exec_check([{"name": "disk", "argv": [p, "--arg with space"], "cwd": "/",
                                     "exit_codes": "0=pass,3=warn,*=fail"}])
        self.assertEqual((rc, r["code"]), (1, "EXEC_EXIT_3"))
        c = r["facts"]["commands"][0]
        self.assertEqual((c["exit_code"], c["stdout"], c["stderr"]), (3, "/\n", "low disk\n"))
        rc, r, _ = self.exec_check([{"name": "disk", "argv": [p]}])
        self.assertEqual((rc, r["status"]), (2, "fail"))

    def test_pass(self):
        self.setUpClass_skip()
        p = self.script("ok.sh", "echo fine\n")
        rc, r, _ = self.exec_check([{"name": "ok", "argv": [p]}, {"name": "ok2", "argv": [p]}])
        self.assertEqual((rc, r["code"]), (0, "EXEC_OK"))
        self.assertEqual(r["remediation"], "")

    def test_hang_killed_at_deadline(self):
        self.setUpClass_skip()
        p = self.script("hang.sh", "sleep 60 &\necho $! > %s/child\nwait\n" % self.tmp)
        rc, r, took = self.exec_check([{"name": "hang", "argv": [p], "timeout_ms": 700}])
        self.assertEqual((rc, r["code"]), (2, "EXEC_TIMEOUT"))
        self.assertLess(took, 5)
        with open(os.path.join(self.tmp, "child")) as f:
            child = int(f.read())
        time.sleep(0.2)
        try:  # what it started is gone too (or a zombie waiting for init to reap it)
            with open("/proc/%d/stat" % child) as f:
                self.assertEqual(f.read().rsplit(")", 1)[1].split()[0], "Z")
        except FileNotFoundError:
            pass

    def test_output_capped_and_secrets_redacted(self):
        self.setUpClass_skip()
        p = self.script("chatty.sh", "echo 'https://x.blob.core.windows.net/c?sv=1&sig=SECRETSIG123'\n"
                        "head -c 3000000 /dev/zero | tr '\\0' a\nexit 0\n")
        rc, r, _ = self.exec_check([{"name": "chatty", "argv": [p], "max_output_bytes": 4096}])
        self.assertEqual(rc, 0)
        c = r["facts"]["commands"][0]
        self.assertTrue(c["stdout_truncated"])
        self.assertLessEqual(len(c["stdout"]), 1100)
        self.assertNotIn("SECRETSIG123", json.dumps(r))

    def test_world_writable_refused_and_not_run(self):
        self.setUpClass_skip()
        p = self.script("ww.sh", "touch %s\n" % self.marker, mode=0o777)
        rc, r, _ = self.exec_check([{"name": "ww", "argv": [p]}])
        self.assertEqual((rc, r["code"]), (2, "EXEC_REFUSED"))
        self.assertIn("writable by every user", r["summary"])
        self.assertFalse(os.path.exists(self.marker))

    def test_writable_folder_refused(self):
        self.setUpClass_skip()
        d = os.path.join(self.tmp, "drop")
        os.mkdir(d)
        os.chmod(d, 0o777 | stat.S_ISVTX)
        p = self.script("x.sh", "touch %s\n" % self.marker, folder=d)
        rc, r, _ = self.exec_check([{"name": "x", "argv": [p]}])
        self.assertEqual((rc, r["code"]), (2, "EXEC_REFUSED"))
        self.assertIn(d, r["summary"])
        self.assertFalse(os.path.exists(self.marker))

    def test_missing_and_relative(self):
        self.setUpClass_skip()
        rc, r, _ = self.exec_check([{"name": "gone", "argv": [os.path.join(self.tmp, "nope.sh")]}])
        self.assertEqual((rc, r["code"]), (2, "EXEC_NOT_FOUND"))
        cfg = os.path.join(self.tmp, "c.json")
        with open(cfg, "w") as f:
            json.dump({"checks": {"exec": {"commands": [{"name": "rel", "argv": ["sh", "-c", "id"]}]}}}, f)
        rc, r, _ = run_json("-c", cfg, "check", "exec", "--json")
        self.assertEqual((rc, r["code"]), (2, "EXEC_CONFIG"))
        self.assertIn("full path", r["summary"])
        with open(cfg, "w") as f:
            json.dump({"checks": {"exec": {"commands": [{"name": "x", "argv": ["/bin/true"], "exit_codes": "0=ok"}]}}}, f)
        rc, r, _ = run_json("-c", cfg, "check", "exec", "--json")
        self.assertEqual((rc, r["code"]), (2, "EXEC_CONFIG"))
        self.assertIn("exit_codes", r["summary"])


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_netenv.py BINARY [--wine]")
    test_cli.BIN = os.path.abspath(sys.argv[1])
    test_cli.WINE = "--wine" in sys.argv[2:]
    argv = [sys.argv[0]] + [a for a in sys.argv[2:] if a != "--wine"]
    unittest.main(argv=argv, verbosity=2)
