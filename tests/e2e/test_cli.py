#!/usr/bin/env python3
"""End-to-end tests of the real cmgdiag binary: commands, exit codes, JSON shapes, config errors,
the bundle, `show`, the CMTrace log and colour handling.

    test_cli.py BINARY [--wine]

With --wine the binary is a cross-built cmgdiag.exe run under wine (paths stay Unix paths: wine's
Z: drive maps /)."""
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import zipfile

BIN = None
WINE = False

CMTRACE = re.compile(
    r'<!\[LOG\[(?P<msg>.*?)\]LOG\]!><time="(?P<time>\d\d:\d\d:\d\d\.\d{3}[+-]\d{3})"\s+date="(?P<date>\d\d-\d\d-\d{4})"'
    r'\s+component="(?P<comp>[^"]*)"\s+context="(?P<ctx>[^"]*)"\s+type="(?P<type>\d)"\s+thread="(?P<tid>\d+)"'
    r'\s+file="(?P<file>[^"]*)">', re.S)
UUID4 = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')
RFC3339 = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$')


def run(*args, env=None):
    cmd = (["wine", BIN] if WINE else [BIN]) + list(args)
    e = dict(os.environ)
    e.setdefault("WINEDEBUG", "-all")
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, env=e, timeout=120)
    if WINE and not p.stdout.strip() and not p.stderr.strip() and p.returncode != 0:
        # wine on a loaded machine has been seen to end a process before it wrote a word (exit 1, no
        # output at all): run it once more, and say so, rather than fail on wine's account
        sys.stderr.write("note: cmgdiag.exe under wine exited %d without any output; running it again\n"
                         % p.returncode)
        p = subprocess.run(cmd, capture_output=True, env=e, timeout=120)
    out = p.stdout.decode("utf-8", "replace").replace("\r\n", "\n")
    err = p.stderr.decode("utf-8", "replace").replace("\r\n", "\n")
    if "--json" in args:
        assert_plain(out)
    return p.returncode, out, err


def assert_plain(out):
    """Every check sentence in a --json output (one result or a bundle) is for reading aloud."""
    try:
        j = json.loads(out)
    except ValueError:
        return
    results = j.get("checks", [j]) if isinstance(j, dict) else []
    for r in results if isinstance(results, list) else []:
        tech = plain_words(r.get("summary")) if isinstance(r, dict) else None
        if tech:
            raise AssertionError("%s: %r is not for reading aloud (it belongs on the detail line): %s"
                                 % (r.get("check"), tech, r["summary"]))


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-e2e-")
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")
        self.log = os.path.join(self.tmp, "logs", "cmgdiag.log")
        self.write_cfg({})

    def write_cfg(self, extra, raw=None):
        # Only the agent check here: the other checks have their own tests and data sources.
        base = {"spool": {"dir": os.path.join(self.tmp, "spool")}, "log": {"file": self.log},
                "checks": {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False}, "netenv": {"enabled": False},
                           "clientlogs": {"enabled": False}, "cmgprobe": {"enabled": False},
                           "exec": {"enabled": False}, "clientauth": {"enabled": False},
                           "device": {"enabled": False}, "content": {"enabled": False}}}
        for k, v in (extra or {}).items():
            if isinstance(v, dict) and isinstance(base.get(k), dict):
                base[k] = dict(base[k], **v)
            else:
                base[k] = v
        with open(self.cfg, "w", encoding="utf-8") as f:
            f.write(raw if raw is not None else json.dumps(base))

    def test_version_lists_plugins_and_libraries(self):
        rc, out, _ = run("version")
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"cmgdiag \d+\.\d+\.\d+")
        self.assertIn("checks:  agent, aadjoin, mpcandidates, clientauth, device, cmgprobe, content, clientlogs", out)
        for lib in ("curl 7.", "OpenSSL 3.", "zlib 1.", "cJSON 1."):
            self.assertIn(lib, out)
        self.assertEqual(run("--version")[1], out)

    def test_help_and_usage_errors(self):
        rc, out, _ = run("--help")
        self.assertEqual(rc, 0)
        for word in ("selftest", "check NAME", "config check", "show FILE", "Exit codes", "  aadjoin ", "  agent "):
            self.assertIn(word, out)
        self.assertEqual(run()[0], 3)
        rc, _, err = run("frobnicate")
        self.assertEqual(rc, 3)
        self.assertIn("unknown command 'frobnicate'", err)
        rc, _, err = run("selftest", "--bogus")
        self.assertEqual(rc, 3)
        self.assertIn("'--bogus' is not an option of 'selftest'", err)
        self.assertEqual(run("-c")[0], 3)

    def test_options_as_admins_write_them(self):
        # --opt=value and --opt value, global options before or after the command, in any order
        big = "min_free_mb=1048576"  # 1 TB: the agent check then fails on disk space
        for args in (["-c", self.cfg, "check", "agent", "--json", "--set", big],
                     ["check", "agent", "--set=" + big, "--json", "-c", self.cfg],
                     ["--json", "check", "--config=" + self.cfg, "agent", "--set=" + big]):
            rc, out, err = run(*args)
            self.assertEqual(json.loads(out)["code"], "AGENT_LOW_DISK", (args, err))
        # help anywhere; /? on Windows only (elsewhere it may be a path)
        rc, out, _ = run("selftest", "--help")
        self.assertEqual((rc, "check NAME" in out), (0, True))
        rc, out, err = run("/?")
        if WINE:
            self.assertEqual((rc, "check NAME" in out), (0, True))
        else:
            self.assertEqual(rc, 3)
            self.assertIn("unknown command '/?'", err)
        # every usage error exits 3 and says what is wrong
        for args, text in ((["check", "agent", "--input"], "option --input needs a value"),
                           (["check", "agent", "--json=yes"], "option --json takes no value"),
                           (["report", "x", "--since=0"], "--since takes a number from 1 to 3650"),
                           (["report", "x", "--jobs", "99"], "--jobs takes a number from 1 to 16"),
                           (["config"], "usage: cmgdiag config check"),
                           (["show", "a", "b"], "'b' is not an option of 'show'"),
                           (["run", "--ticket", "X"], "'--ticket' is not an option of 'run'")):
            rc, out, err = run(*args)
            self.assertEqual(rc, 3, (args, out, err))
            self.assertIn(text, err)
        rc, out, err = run("-c", self.cfg, "check", "aadjoin", "--input", os.path.join(self.tmp, "missing.txt"))
        self.assertEqual(rc, 3, (out, err))
        self.assertIn("does not exist", err)

    def test_run_validate_service_usage(self):
        for cmd, text in ((["validate"], "usage: cmgdiag validate --profile NAME"),
                          (["validate", "--profile"], "option --profile needs a value"),
                          (["service"], "usage: cmgdiag service install|uninstall|start|stop"),
                          (["service", "frob"], "unknown service command 'frob'"),
                          (["run", "--bogus"], "'--bogus' is not an option of 'run'")):
            rc, out, err = run(*cmd)
            self.assertEqual(rc, 3, cmd)
            self.assertIn(text, err)
        if not WINE:
            rc, out, err = run("service", "install")
            self.assertEqual(rc, 3)
            self.assertIn("exists on Windows only", err)

    def test_check_agent_json_is_one_contract_object(self):
        rc, out, err = run("-c", self.cfg, "check", "agent", "--json")
        self.assertEqual(rc, 0, err)
        obj = json.loads(out)
        self.assertEqual(list(obj.keys()),
                         ["check", "status", "code", "summary", "remediation", "facts", "duration_ms"])
        self.assertEqual(obj["check"], "agent")
        self.assertEqual(obj["status"], "pass")
        self.assertEqual(obj["code"], "AGENT_OK")
        self.assertEqual(obj["remediation"], "")
        self.assertIsInstance(obj["duration_ms"], (int, float))
        f = obj["facts"]
        self.assertTrue(f["config_found"])
        self.assertTrue(f["spool_writable"])
        self.assertTrue(f["log_writable"])
        self.assertGreater(f["disk_free_bytes"], 0)
        self.assertIn("agent", f["plugins"])

    def test_config_unknown_key_names_file_and_key(self):
        self.write_cfg({"intervall_s": 60})
        rc, out, err = run("-c", self.cfg, "check", "agent", "--json")
        self.assertEqual(rc, 3)
        self.assertEqual(out, "")
        self.assertIn(self.cfg, err)
        self.assertIn("'intervall_s'", err)
        self.assertIn("did you mean 'interval_s'", err)
        self.write_cfg({"checks": {"agent": {"min_free_mb": "lots"}}})
        rc, _, err = run("-c", self.cfg, "selftest", "--no-upload")
        self.assertEqual(rc, 3)
        self.assertIn(self.cfg, err)
        self.assertIn("'checks.agent.min_free_mb' must be a whole number, not a string", err)

    def test_config_syntax_and_missing_file(self):
        self.write_cfg(None, raw='{\n "interval_s": 60,\n}\n')
        rc, _, err = run("-c", self.cfg, "config", "check")
        self.assertEqual(rc, 3)
        self.assertIn("not valid JSON near line 3", err)
        rc, _, err = run("-c", os.path.join(self.tmp, "absent.json"), "config", "check")
        self.assertEqual(rc, 3)
        self.assertIn("absent.json", err)

    def test_config_check_prints_effective_config(self):
        rc, out, err = run("-c", self.cfg, "config", "check")
        self.assertEqual(rc, 0, err)
        self.assertIn("Configuration OK: " + self.cfg, out)
        eff = json.loads(out[out.index("{"):])
        self.assertEqual(eff["interval_s"], 3600)
        self.assertEqual(eff["log"]["max_bytes"], 250000)
        self.assertEqual(eff["checks"]["agent"]["enabled"], True)
        self.assertEqual(eff["checks"]["aadjoin"]["timeout_ms"], 60000)
        self.assertEqual(eff["outputs"], [])

    def test_config_check_warns_about_a_cmg_url_without_a_management_point(self):
        self.write_cfg({"checks": {"cmgprobe": {"url": "https://cmg.contoso.com"}}})
        rc, out, err = run("-c", self.cfg, "config", "check")
        self.assertEqual(rc, 0, err)
        self.assertIn("Warning: checks.cmgprobe.url: the CMG URL https://cmg.contoso.com has no management point id", out)
        self.assertIn("cmg-usable and cmg-answers cannot pass", out)
        self.write_cfg({"checks": {"cmgprobe": {"url": "https://cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927939",
                                                "resolve": ["cmg.contoso.com:443:10.0.0.1", "cmg6.contoso.com:443:[2001:db8::1]"],
                                                "enabled": True},
                                   "aadjoin": {"expected_tenant_id": "11111111-2222-3333-4444-555555555555"}}})
        rc, out, err = run("-c", self.cfg, "config", "check")
        self.assertEqual(rc, 0, err)
        self.assertNotIn("Warning: checks.cmgprobe.url", out)

    def test_config_check_refuses_what_cannot_work_and_names_the_key(self):
        sig = "c2lnbmF0dXJlLXNlY3JldA%3D%3D"
        bad = [
            ({"checks": {"cmgprobe": {"url": "http://cmg.contoso.com/CCM_Proxy_MutualAuth/1"}}},
             "'checks.cmgprobe.url'", "not https://"),
            ({"checks": {"cmgprobe": {"url": "cmg.contoso.com"}}}, "'checks.cmgprobe.url'", "is not a URL"),
            ({"outputs": [{"type": "azblob", "sas_url": "https://a.blob.core.windows.net/c?sv=2022-11-02&sp=rl"
                           "&se=2099-01-01&sig=" + sig}]}, "'outputs[0].sas_url'", "neither create nor write"),
            ({"outputs": [{"type": "azblob", "sas_url": "https://a.blob.core.windows.net/c?sv=2022-11-02&sp=cw"
                           "&se=2021-01-01&sig=" + sig}]}, "'outputs[0].sas_url'", "expired on 2021-01-01"),
            ({"outputs": [{"type": "azblob", "sas_url": "https://a.blob.core.windows.net/c"}]},
             "'outputs[0].sas_url'", "no SAS"),
            ({"outputs": [{"type": "azblob", "sas_url": "notaurl"}]}, "'outputs[0].sas_url'", "is not a URL"),
            ({"outputs": [{"type": "http", "url": "http://collector.contoso.com/in"}]}, "'outputs[0].url'",
             "not https://"),
            ({"checks": {"exec": {"enabled": True, "commands": [{"name": "x", "argv": ["check.exe"]}]}}},
             "'checks.exec.commands[0].argv'", "not a full path"),
            ({"checks": {"exec": {"enabled": True, "commands": [{"name": "x", "argv": ["/opt/none/check.sh"]}]}}},
             "check exec", "does not exist on this device"),
            ({"checks": {"content": {"urls": ["ftp://dp.contoso.com/x"]}}}, "'checks.content.urls'", "not https://"),
            # what otherwise breaks a whole fleet quietly
            ({"checks": {"cmgprobe": {"url": "https://cmg.contoso.com:99999/CCM_Proxy_MutualAuth/1"}}},
             "'checks.cmgprobe.url'", "port that is not a number from 1 to 65535"),
            ({"checks": {"cmgprobe": {"resolve": ["cmg.contoso.com:443"]}}}, "'checks.cmgprobe.resolve'",
             "is not HOST:PORT:ADDRESS"),
            ({"checks": {"cmgprobe": {"resolve": ["cmg.contoso.com:0:10.0.0.1"]}}}, "'checks.cmgprobe.resolve'",
             "a port from 1 to 65535"),
            ({"checks": {"aadjoin": {"expected_tenant_id": "contoso.onmicrosoft.com"}}},
             "'checks.aadjoin.expected_tenant_id'", "not its domain name"),
            ({"outputs": [{"type": "azblob", "sas_url": "https://a.blob.core.windows.net/c?sv=2022-11-02&sp=cw"
                           "&se=2027-01-01T0000Z&sig=" + sig}]}, "'outputs[0].sas_url'", "is not a date and time"),
            ({"outputs": [{"type": "azblob", "sas_url": "https://a.blob.core.windows.net/c?sv=2022-11-02&amp;sp=cw"
                           "&amp;se=2099-01-01&amp;sig=" + sig}]}, "'outputs[0].sas_url'", "HTML-escaped"),
        ]
        for extra, key, why in bad:
            self.write_cfg(extra)
            rc, out, err = run("-c", self.cfg, "config", "check")
            self.assertEqual(rc, 3, (extra, out))
            self.assertIn(key, err)
            self.assertIn(why, err)
            self.assertNotIn(sig, err)
            self.assertNotIn("Configuration OK", out)
        # the agent itself runs on: the check concerned says it in its result
        self.write_cfg({"checks": {"cmgprobe": {"enabled": True, "url": "http://cmg.contoso.com/x"}}})
        rc, out, err = run("-c", self.cfg, "check", "cmgprobe", "--json")
        self.assertEqual(json.loads(out)["code"], "CMG_BAD_URL", err)
        # loopback http stays allowed for a local relay
        self.write_cfg({"outputs": [{"type": "http", "url": "http://127.0.0.1:8080/in"}]})
        rc, out, err = run("-c", self.cfg, "config", "check")
        self.assertEqual(rc, 0, err)

    def test_check_set_and_input(self):
        rc, out, err = run("-c", self.cfg, "check", "agent", "--set", "min_free_mb=1048576", "--json")
        self.assertEqual(rc, 1, err)
        self.assertEqual(json.loads(out)["code"], "AGENT_LOW_DISK")
        rc, _, err = run("-c", self.cfg, "check", "agent", "--set", "min_fre_mb=1")
        self.assertEqual(rc, 3)
        self.assertIn("did you mean 'min_free_mb'", err)
        rc, _, err = run("-c", self.cfg, "check", "agent", "--input", self.tmp)
        self.assertEqual(rc, 3)
        self.assertIn("no data source", err)
        rc, _, err = run("-c", self.cfg, "check", "agnet")
        self.assertEqual(rc, 3)
        self.assertIn("did you mean 'agent'", err)

    def test_unwritable_spool_fails_with_exit_2(self):
        blocker = os.path.join(self.tmp, "blocker")
        open(blocker, "w").close()
        self.write_cfg({"spool": {"dir": os.path.join(blocker, "spool")}})
        rc, out, _ = run("-c", self.cfg, "check", "agent")
        self.assertEqual(rc, 2)
        self.assertIn("FAIL  agent", out)
        self.assertIn("What to do:", out)
        self.assertIn("[AGENT_SPOOL_NOT_WRITABLE]", out)

    def test_verdict_changes_give_events(self):
        # each change of a check's verdict, and of the device's, is one event (Windows Event Log) and
        # one line in the agent's log; the last verdicts are kept in the state folder
        state = os.path.join(self.tmp, "state")
        low = {"checks": {"agent": {"min_free_mb": 1048576}}}  # 1 TB: the agent check warns

        def cycle(*extra):
            rc, out, err = run("-c", self.cfg, "selftest", "--no-upload", *extra)
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return rc, [m.group("msg") for m in CMTRACE.finditer(f.read()) if m.group("msg").startswith("event ")]

        self.write_cfg({"state_dir": state})
        rc, events = cycle()
        self.assertEqual((rc, events), (0, []), "a first result that passes says nothing")
        with open(os.path.join(state, "verdicts.json")) as f:
            self.assertEqual(json.load(f), {"checks": {"agent": "pass AGENT_OK"}, "overall": "pass"})
        self.write_cfg(dict(low, state_dir=state))
        rc, events = cycle()
        self.assertEqual(rc, 1)
        self.assertEqual(len(events), 2, events)
        self.assertRegex(events[0], r"^event 201: check agent is now warn \(was pass AGENT_OK\): .+ \[AGENT_LOW_DISK\]$")
        self.assertRegex(events[1], r"^event 101: the device is now warn \(was pass\); why: .+")
        self.assertEqual(cycle()[1], events, "the same verdict again is no news")
        self.write_cfg({"state_dir": state})
        rc, events = cycle("--only", "agent")
        self.assertEqual(len(events), 3, "--only judges its checks, not the device: %r" % events)
        self.assertRegex(events[2], r"^event 200: check agent is now pass \(was warn AGENT_LOW_DISK\): .+ \[AGENT_OK\]$")
        rc, events = cycle()
        self.assertEqual(events[3:], ["event 100: the device is now pass (was warn); why: (none)"])
        # a record that is not the agent's is started again, not trusted
        with open(os.path.join(state, "verdicts.json"), "w") as f:
            f.write("[1, 2")
        self.write_cfg(dict(low, state_dir=state))
        rc, events = cycle()
        self.assertRegex(events[-2], r"^event 201: check agent is now warn \(was unknown \(first result\)\)")
        self.assertRegex(events[-1], r"^event 101: the device is now warn \(was unknown \(first result\)\)")

    def test_the_collection_points_sas_lifetime(self):
        import datetime
        def sas(days):
            se = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
            return "https://acct.blob.core.windows.net/bundles?sv=2021-08-06&sp=cw&se=%s&sig=SECRETSIG" % se
        for days, status, code in ((10.5, "warn", "AGENT_SAS_EXPIRING"), (-2, "fail", "AGENT_SAS_EXPIRED"),
                                   (200, "pass", "AGENT_OK")):
            self.write_cfg({"outputs": [{"type": "azblob", "sas_url": sas(days)}]})
            rc, out, err = run("-c", self.cfg, "check", "agent", "--json")
            r = json.loads(out)
            self.assertEqual((r["status"], r["code"]), (status, code), r["summary"])
            self.assertNotIn("SECRETSIG", out + err)
        self.write_cfg({"outputs": [{"type": "azblob", "sas_url": sas(10.5)}]})
        rc, out, err = run("-c", self.cfg, "selftest", "--json", "--no-upload")
        b = json.loads(out)
        self.assertEqual(b["outputs"][0]["type"], "azblob")
        self.assertRegex(b["outputs"][0]["sas_expires_at"], r"^\d{4}-\d\d-\d\dT")
        self.assertNotIn("SECRETSIG", out)

    def test_a_pending_restart_is_readiness_not_the_cmg_verdict(self):
        data = own_capture(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "device",
                                        "02-reboot-pending"), self.tmp)
        self.write_cfg({"state_dir": os.path.join(self.tmp, "state"),
                        "checks": {"device": {"enabled": True, "input": native_path(data),
                                              "evaluate_at": "2026-11-25T00:00:00Z"}}})
        rc, out, err = run("-c", self.cfg, "selftest", "--json", "--no-upload")
        b = json.loads(out)
        self.assertEqual((b["overall"], b["readiness"]), ("pass", "fail"), [(c["check"], c["code"]) for c in b["checks"]])
        self.assertEqual(b["diagnosis"]["root_causes"], [])  # nothing to fix about the CMG
        self.assertEqual(rc, 0)

    def test_only_never_runs_a_check_the_administrator_turned_off(self):
        marker = os.path.join(self.tmp, "ran")
        self.write_cfg({"checks": {"exec": {"enabled": False,
                                            "commands": [{"name": "touch", "argv": ["/usr/bin/touch", marker]}]}}})
        for args in (("selftest", "--only", "exec", "--json", "--no-upload"), ("check", "exec", "--json")):
            rc, out, err = run("-c", self.cfg, *args)
            r = json.loads(out)
            r = [c for c in r["checks"] if c["check"] == "exec"][0] if "checks" in r else r
            self.assertEqual((r["status"], r["code"]), ("skip", "EXEC_DISABLED"), r)
            self.assertFalse(os.path.exists(marker), "a disabled command ran")

    def test_the_detail_line_is_redacted_like_the_sentence(self):
        url = "http://admin:Secr3t@cmg.invalid/CCM_Proxy_MutualAuth/72057594037927939"
        for extra in ((), ("--json",)):
            rc, out, err = run("-c", self.cfg, "check", "cmgprobe", "--set", "enabled=true", "--set", "url=" + url, *extra)
            self.assertIn("<redacted>", out)
            self.assertNotIn("Secr3t", out + err)
        self.assertIn("Detail: got", run("-c", self.cfg, "check", "cmgprobe", "--set", "enabled=true", "--set", "url=" + url)[1])

    def test_every_command_of_exec_is_said(self):
        if WINE:
            self.skipTest("POSIX programs")
        warn = 'echo \'{"status": "warn", "code": "LOW", "summary": "Disk is low"}\''
        self.write_cfg({"checks": {"exec": {"enabled": True, "commands": [
            {"name": "ok", "argv": ["/bin/true"]},
            {"name": "disk", "argv": ["/bin/sh", "-c", warn]},
            {"name": "bitlocker", "argv": ["/bin/false"]}]}}})
        rc, out, err = run("-c", self.cfg, "check", "exec", "--json")
        r = json.loads(out)
        self.assertEqual(r["status"], "fail", r)
        self.assertTrue(r["summary"].startswith("bitlocker: "), r["summary"])
        self.assertIn(" Also (a warning): disk: Disk is low. The other 1 passes.", r["summary"])

    def test_a_partial_run_says_so_and_is_not_the_device_state(self):
        rc, out, err = run("-c", self.cfg, "selftest", "--json", "--no-upload", "--only", "agent")
        b = json.loads(out)
        self.assertIs(b["partial"], True)
        self.assertEqual(b["checks_requested"], ["agent"])
        rc, out, err = run("-c", self.cfg, "selftest", "--json", "--no-upload")
        b = json.loads(out)
        self.assertIs(b["partial"], False)
        self.assertEqual(b["checks_requested"], [])

    def test_selftest_report_and_bundle(self):
        rc, out, err = run("-c", self.cfg, "selftest", "--no-upload")
        self.assertEqual(rc, 0, err)
        self.assertIn("selftest on ", out)
        self.assertIn("PASS  agent", out)
        self.assertIn("Overall: PASS (1 pass, 0 warn, 0 fail, 0 skip, 0 error)", out)
        rc, out, err = run("-c", self.cfg, "selftest", "--json", "--no-upload", "--ticket", "INC123")
        self.assertEqual(rc, 0, err)
        b = json.loads(out)
        self.assertEqual(b["schema"], "cmgdiag.bundle/1")
        self.assertRegex(b["bundle_id"], UUID4)
        self.assertRegex(b["created_at"], RFC3339)
        self.assertEqual(b["trigger"], "selftest")
        self.assertEqual(b["ticket"], "INC123")
        self.assertEqual(b["overall"], "pass")
        self.assertIn("agent", b["agent"]["plugins"])
        self.assertTrue(b["device"]["hostname"])
        self.assertIsNone(b["device"]["aad_device_id"])
        self.assertEqual([c["check"] for c in b["checks"]], ["agent"])
        self.assertEqual(b["spool"], {"pending": 0, "dropped_total": 0})
        rc, _, err = run("-c", self.cfg, "selftest", "--only", "agnet")
        self.assertEqual(rc, 3)
        self.assertIn("did you mean 'agent'", err)
        self.write_cfg({"checks": {"agent": {"enabled": False}}})
        rc, out, _ = run("-c", self.cfg, "selftest", "--no-upload")
        self.assertEqual(rc, 0)
        self.assertIn("Overall: PASS (0 pass", out)

    def test_show_reads_gzip_and_json_bundles(self):
        _, out, _ = run("-c", self.cfg, "selftest", "--json", "--no-upload", "--ticket", "INC9")
        bundle = json.loads(out)
        plain = os.path.join(self.tmp, "b.json")
        gz = os.path.join(self.tmp, bundle["bundle_id"] + ".json.gz")
        with open(plain, "w") as f:
            f.write(out)
        with gzip.open(gz, "wb") as f:
            f.write(out.encode())
        for path in (plain, gz):
            rc, text, err = run("show", path)
            self.assertEqual(rc, 0, err)
            self.assertIn("Bundle " + bundle["bundle_id"], text)
            self.assertIn("ticket INC9", text)
            self.assertIn("PASS  agent", text)
        rc, text, _ = run("show", gz, "--json")
        self.assertEqual(rc, 0)
        self.assertEqual(json.loads(text), bundle)
        with open(gz, "rb") as f:
            data = f.read()
        bad = os.path.join(self.tmp, "truncated.json.gz")
        with open(bad, "wb") as f:
            f.write(data[: len(data) // 2])
        rc, _, err = run("show", bad)
        self.assertEqual(rc, 3)
        self.assertIn("corrupt or truncated", err)
        rc, _, err = run("show", self.cfg)
        self.assertEqual(rc, 3)
        self.assertIn("not a cmgdiag bundle", err)

    def test_log_is_cmtrace(self):
        run("-c", self.cfg, "selftest", "--no-upload")
        with open(self.log, "rb") as f:
            data = f.read().decode("utf-8")
        entries = data.split("\r\n")
        self.assertEqual(entries[-1], "")
        self.assertGreaterEqual(len(entries) - 1, 2)
        for e in entries[:-1]:
            m = CMTRACE.fullmatch(e)
            self.assertIsNotNone(m, e)
            self.assertIn(m["type"], "0123")
            self.assertRegex(m["file"], r"^[a-z_]+\.c:\d+$")
        self.assertIn("check agent: pass AGENT_OK", data)

    def test_cmtrace_highlights_warnings_and_failures(self):
        # CMTrace paints type 2 yellow and type 3 red: a failing check must stand out in the log
        self.write_cfg({"checks": {"cmgprobe": {"enabled": True, "url": "http://cmg.contoso.com/x"},
                                   "agent": {"min_free_mb": 1048576}}})
        run("-c", self.cfg, "selftest", "--no-upload")
        with open(self.log, "rb") as f:
            entries = [CMTRACE.fullmatch(e) for e in f.read().decode("utf-8").split("\r\n")[:-1]]
        kinds = {m["msg"].split(":")[0]: (m["msg"], m["type"]) for m in entries if m["msg"].startswith("check ")}
        self.assertEqual(kinds["check cmgprobe"], ("check cmgprobe: fail CMG_BAD_URL", "3"))
        self.assertEqual(kinds["check agent"][1], "2", kinds["check agent"])
        self.assertIn(": warn ", kinds["check agent"][0])

    def test_verbose_echoes_log(self):
        rc, _, err = run("-v", "-c", self.cfg, "check", "agent")
        self.assertEqual(rc, 0)
        self.assertIn("cmgdiag: debug: check agent starting", err)

    def test_colour_only_on_tty_and_no_color(self):
        if WINE or os.name != "posix":
            self.skipTest("needs a POSIX pseudo-terminal")
        import pty
        def tty_out(extra_env, args=("check", "agent")):
            env = dict(os.environ, **extra_env)
            env.pop("NO_COLOR", None) if "NO_COLOR" not in extra_env else None
            pid, fd = pty.fork()
            if pid == 0:
                os.execve(BIN, [BIN, "-c", self.cfg, *args], env)
            chunks = b""
            while True:
                try:
                    d = os.read(fd, 4096)
                except OSError:
                    break
                if not d:
                    break
                chunks += d
            os.waitpid(pid, 0)
            return chunks.decode()
        self.assertIn("\033[32mPASS", tty_out({}))
        self.assertNotIn("\033[", tty_out({"NO_COLOR": "1"}))
        _, out, _ = run("-c", self.cfg, "check", "agent")  # a pipe: no colour
        self.assertNotIn("\033[", out)
        # selftest on a console: what runs now while the checks run; the report when all are done, so that
        # "Why:" (the root cause, when there is one) comes before every check line
        live = tty_out({"NO_COLOR": "1"}, ("selftest", "--no-upload"))
        self.assertIn("running agent... (0 done)", live)
        self.assertLess(live.rindex("running "), live.index("PASS  agent"))
        self.assertLess(live.index("PASS  agent"), live.index("Overall:"))
        self.assertEqual(live.count("PASS  agent"), 1)  # not printed twice at the end
        _, out, _ = run("-c", self.cfg, "selftest", "--no-upload")  # redirected: no progress
        self.assertNotIn("running", out)
        self.assertNotIn("\r", out)


DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "aadjoin")
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "agent", "schema", "bundle.schema.json")


# What a helpdesk cannot read aloud (docs/commands.md "Two voices"); agent/core/voice.c is the same list
TECHNICAL = re.compile(
    r"(?<![0-9A-Za-z])(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|[0-9a-fA-F]{16,}|S-1-\d|0[xX][0-9a-fA-F]{5,}|(?i:curl error)|(?i:error \d)|(?i:winhttp \d)|AADSTS\d"
    r"|(?i:correlation id)|(?i:trace id)|\d+ (?i:bytes?)(?![A-Za-z0-9])|\d{4,} [MK]B(?![0-9A-Za-z]))|\\x[0-9a-fA-F]{2}",
    re.ASCII)


def plain_words(sentence):
    """The technical token in a sentence meant to be read aloud, or None."""
    m = TECHNICAL.search(sentence or "")
    return m.group(0) if m else None


def schema_errors(bundle):
    """Every violation of the committed bundle JSON Schema (an empty list when valid), and every check
    sentence that is not plain words (its technical part belongs on the detail line)."""
    import jsonschema  # Debian's python3-jsonschema; tests/install-deps.sh installs it
    with open(SCHEMA) as f:
        validator = jsonschema.Draft202012Validator(json.load(f))
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(bundle)]
    for i, r in enumerate(bundle.get("checks") or [] if isinstance(bundle, dict) else []):
        tech = plain_words(r.get("summary")) if isinstance(r, dict) else None
        if tech:
            errors.append(f"checks/{i}/summary: {tech!r} is not for reading aloud: {r['summary']}")
    return errors


class BundleSchema(unittest.TestCase):
    """Every bundle the agent makes must be valid against agent/schema/bundle.schema.json."""

    def setUp(self):
        try:
            import jsonschema  # noqa: F401
        except ImportError:
            self.skipTest("python3-jsonschema is not installed (tests/install-deps.sh all installs it)")
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-schema-")
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")
        base = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data")
        with open(self.cfg, "w") as f:
            json.dump({"spool": {"dir": os.path.join(self.tmp, "spool")}, "state_dir": os.path.join(self.tmp, "state"),
                       "log": {"file": os.path.join(self.tmp, "cmgdiag.log")},
                       "checks": {name: {"input": native_path(own_capture(os.path.join(base, name, capture), self.tmp))}
                                  for name, capture in (("aadjoin", "03-hybrid-join-failed-discover.txt"),
                                                        ("mpcandidates", "folder-capture"),
                                                        ("clientlogs", "cmg-forbidden"),
                                                        ("netenv", "01-system-direct-user-pac"))}}, f)

    def test_selftest_bundle_is_valid(self):
        rc, out, err = run("-c", self.cfg, "selftest", "--json", "--no-upload", "--ticket", "INC0042")
        self.assertEqual(rc, 2, err)
        bundle = json.loads(out)
        self.assertEqual(schema_errors(bundle), [])
        self.assertEqual([c["check"] for c in bundle["checks"]], ["agent", "aadjoin", "mpcandidates", "clientauth", "device", "cmgprobe", "content", "clientlogs",
                                                                  "netenv", "exec"])
        self.assertEqual(bundle["device"]["site_code"], "PS1")
        self.assertEqual(bundle["overall"], "fail")

    def test_schema_rejects_broken_bundles(self):
        _, out, _ = run("-c", self.cfg, "selftest", "--json", "--no-upload")
        good = json.loads(out)
        for mutate in (lambda b: b.pop("bundle_id"), lambda b: b.update(overall="skip"),
                       lambda b: b["checks"][0].update(status="maybe"), lambda b: b["checks"][0].pop("facts"),
                       lambda b: b.update(schema="cmgdiag.bundle/2"), lambda b: b["spool"].update(pending=-1)):
            bad = json.loads(json.dumps(good))
            mutate(bad)
            self.assertNotEqual(schema_errors(bad), [], "the schema accepted a broken bundle")



def own_capture(src, folder):
    """A copy of a capture (file or folder) in a subfolder of `folder`, the test's own. A capture the
    configuration names is read only when it is admin-only, every folder above it too: under wine a
    checkout below /tmp is not (wine knows no sticky bit), and on Linux a folder made right in /tmp
    is not either."""
    dst = os.path.join(folder, "captures", os.path.basename(os.path.normpath(src)))
    if os.path.isdir(src):
        shutil.copytree(src, dst, dirs_exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
    return dst


def own_stand_in(fake, folder):
    """A copy of the dsregcmd stand-in in `folder`: the agent starts an admin-set dsregcmd_path with
    the small environment (no CMGDIAG_FAKE_DIR), so the stand-in reads its fake-mode beside itself."""
    copy = os.path.join(folder, os.path.basename(fake))
    shutil.copyfile(fake, copy)
    os.chmod(copy, 0o700)
    return copy


def native_path(p):
    """A path as the binary under test sees it (wine: a Windows path on the Z: drive)."""
    if not WINE:
        return p
    # wine's Z: drive is / (what winepath -w gives for any absolute path); computed here rather than
    # by running winepath, which has been seen to print a ShellExecuteEx error instead under load
    return "Z:" + os.path.abspath(p).replace("/", "\\")


class CheckCase(unittest.TestCase):
    """One check run through the CLI with a private config (spool, state and log in a temp folder)."""
    CHECK = None

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="cmgdiag-%s-" % self.CHECK)
        self.cfg = os.path.join(self.tmp, "cmgdiag.json")
        with open(self.cfg, "w") as f:
            json.dump({"spool": {"dir": os.path.join(self.tmp, "spool")}, "state_dir": os.path.join(self.tmp, "state"),
                       "log": {"file": os.path.join(self.tmp, "cmgdiag.log")}}, f)

    def run_check(self, *extra, env=None):
        rc, out, err = run("-c", self.cfg, "check", self.CHECK, *extra, "--json", env=env)
        self.assertTrue(out.strip(), err)
        return rc, json.loads(out)


class Device(CheckCase):
    CHECK = "device"

    def power(self, online, capacity):
        d = os.path.join(self.tmp, "power_supply")
        for name, typ, f, v in (("AC", "Mains", "online", online), ("BAT0", "Battery", "capacity", capacity)):
            os.makedirs(os.path.join(d, name), exist_ok=True)
            with open(os.path.join(d, name, "type"), "w") as fh:
                fh.write(typ + "\n")
            with open(os.path.join(d, name, f), "w") as fh:
                fh.write("%d\n" % v)
        return {"CMGDIAG_POWER_SUPPLY_DIR": d}

    def test_linux_live_reads_disk_and_power_and_says_what_does_not_apply(self):
        if WINE:
            self.skipTest("the Linux power supply folder (tests/windows/device.sh covers Windows)")
        rc, r = self.run_check("--set", "min_free_gb=0", env=self.power(0, 15))
        # a low battery is readiness for an upgrade, not the CMG verdict
        self.assertEqual((r["status"], r["code"]), ("pass", "DEVICE_NOT_READY"), r)
        self.assertEqual((r["facts"]["readiness"]["verdict"], r["facts"]["readiness"]["code"]), ("fail", "DEVICE_ON_BATTERY"))
        self.assertEqual((r["facts"]["on_ac"], r["facts"]["battery_percent"]), (False, 15))
        self.assertGreater(r["facts"]["system_free_mb"], 0)
        self.assertIn("reboot_pending", r["facts"]["not_applicable"])
        self.assertIsNone(r["facts"]["reboot_pending"])
        rc, r = self.run_check("--set", "min_free_gb=0", env=self.power(1, 15))
        self.assertEqual((rc, r["code"]), (0, "DEVICE_READY"), r)
        self.assertIn("on mains power", r["summary"])
        self.assertNotIn("no restart pending", r["summary"])  # not applicable here, never claimed


class AadJoin(CheckCase):
    CHECK = "aadjoin"

    def run_check(self, *extra, env=None):
        return super().run_check("--set", "evaluate_at=2026-11-25T00:00:00Z", *extra, env=env)

    def test_captures(self):
        rc, r = self.run_check("--input", native_path(os.path.join(DATA, "01-entra-joined-win11.txt")))
        self.assertEqual((rc, r["status"], r["code"]), (0, "pass", "AAD_OK"))
        self.assertEqual(r["facts"]["join_type"], "entra_joined")
        self.assertEqual(r["facts"]["device_id"], "1b1e5e3c-7d2a-4c52-9a07-3c0b7d4f1e2a")
        rc, r = self.run_check("--input", native_path(os.path.join(DATA, "02-hybrid-joined-ps51-utf16le.txt")))
        self.assertEqual((rc, r["facts"]["join_type"], r["facts"]["input_encoding"]), (0, "hybrid_joined", "UTF-16LE"))
        # not Entra joined: not needed by the client (PKI or site token), the hybrid failure said all the same
        rc, r = self.run_check("--input", native_path(os.path.join(DATA, "03-hybrid-join-failed-discover.txt")))
        self.assertEqual((rc, r["status"], r["code"]), (0, "skip", "AAD_NOT_NEEDED"))
        self.assertIn("failed in the discover phase", r["summary"])
        self.assertIn("0x801c001d", r["detail"])  # the error number is for the administrator
        # a fleet that relies on Entra: the same capture fails
        with open(self.cfg) as f:
            c = json.load(f)
        c["checks"] = {"clientauth": {"mode": "entra"}}
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        rc, r = self.run_check("--input", native_path(os.path.join(DATA, "03-hybrid-join-failed-discover.txt")))
        self.assertEqual((rc, r["code"]), (2, "AAD_HYBRID_JOIN_FAILED"))
        self.assertIn("0x801c001d", r["detail"])
        c["checks"] = {}
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        rc, r = self.run_check("--input", native_path(os.path.join(DATA, "19-garbage-binary.bin")))
        self.assertEqual((rc, r["status"], r["code"]), (2, "error", "AAD_UNPARSEABLE"))
        self.assertIn("\\x89PNG", json.dumps(r["detail"]))  # raw bytes: the detail line

    def test_no_dsregcmd_is_a_skip(self):
        rc, r = self.run_check()
        self.assertEqual((rc, r["status"], r["code"]), (0, "skip", "AAD_NO_DSREGCMD"))

    def test_live_source_with_stand_in(self):
        fake = os.environ.get("CMGDIAG_FAKE_DSREGCMD")
        if not fake:
            self.skipTest("CMGDIAG_FAKE_DSREGCMD not set")
        fake = own_stand_in(fake, self.tmp)  # started with the small environment, it reads fake-mode beside itself
        env = {}
        mode = os.path.join(self.tmp, "fake-mode")
        with open(mode, "w") as f:
            f.write(native_path(os.path.join(DATA, "12-system-context-prt-not-visible.txt")))
        rc, r = self.run_check("--set", "dsregcmd_path=" + native_path(fake), env=env)
        self.assertEqual((rc, r["code"], r["facts"]["source"]), (0, "AAD_OK", "dsregcmd"))
        self.assertIsNone(r["facts"]["prt"])
        with open(mode, "w") as f:
            f.write("hang")
        rc, r = self.run_check("--set", "dsregcmd_path=" + native_path(fake), "--set", "timeout_ms=1500", env=env)
        self.assertEqual((rc, r["code"]), (2, "AAD_DSREGCMD_TIMEOUT"))
        self.assertLess(r["duration_ms"], 8000)


    def test_dsregcmd_path_from_a_configuration_others_can_change_is_not_run(self):
        fake = os.environ.get("CMGDIAG_FAKE_DSREGCMD")
        if not fake or WINE:
            self.skipTest("needs the stand-in and POSIX modes (the Windows access list is tested with exec)")
        fake = own_stand_in(fake, self.tmp)
        with open(os.path.join(self.tmp, "fake-mode"), "w") as f:
            f.write("hang")  # were it run, it would hang until the timeout
        os.chmod(self.cfg, 0o666)
        try:
            rc, r = self.run_check("--set", "dsregcmd_path=" + fake, "--set", "timeout_ms=5000")
        finally:
            os.chmod(self.cfg, 0o600)
        self.assertEqual((rc, r["status"], r["code"]), (2, "error", "AAD_DSREGCMD_REFUSED"), r)
        self.assertIn("was not run", r["summary"])
        self.assertLess(r["duration_ms"], 2000)


class MpCandidates(CheckCase):
    CHECK = "mpcandidates"
    DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "mpcandidates")

    def test_capture_forms(self):
        for name in ("01-get-ciminstance-convertto-json-ps7.json", "04-get-wmiobject-convertto-json-ps51-utf16le.json",
                     "05-get-wmiobject-format-list.txt", "06-format-table-mp-type-index.txt", "folder-capture"):
            rc, r = self.run_check("--input", native_path(os.path.join(self.DATA, name)))
            self.assertEqual((rc, r["code"]), (0, "MP_CMG_PRESENT"), name)
            cmg = [c for c in r["facts"]["candidates"] if c["is_cmg"]][0]
            self.assertEqual((cmg["cmg_host"], cmg["proxy_kind"], cmg["mp_id"]),
                             ("cmg.contoso.com", "MutualAuth", "72057594037927939"), name)
        rc, r = self.run_check("--input", native_path(os.path.join(self.DATA, "10-garbage.bin")))
        self.assertEqual((rc, r["status"], r["code"]), (2, "error", "MP_UNPARSEABLE"))

    def test_live_source(self):
        rc, r = self.run_check()
        if WINE:
            # wine has WMI but no ConfigMgr client: the namespace is missing
            self.assertEqual((rc, r["status"], r["code"]), (0, "skip", "MP_CLIENT_NOT_INSTALLED"))
            self.assertIn("0x8004100E", r["detail"])  # the WMI error is for the administrator
            rc, r = self.run_check("--set", "client_expected=true")
            self.assertEqual((rc, r["status"], r["code"]), (2, "fail", "MP_CLIENT_NOT_INSTALLED"))
        else:
            self.assertEqual((rc, r["status"], r["code"]), (0, "skip", "MP_NO_WMI"))


class ClientLogs(CheckCase):
    CHECK = "clientlogs"
    DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "clientlogs")

    def test_folders(self):
        for folder, rc_want, code in (("cmg-forbidden", 2, "LOG_CMG_FORBIDDEN"), ("clean", 0, "LOG_OK"),
                                      ("token-failure-utf16", 2, "LOG_WAM_TOKEN_FAILED")):
            rc, r = self.run_check("--input", native_path(os.path.join(self.DATA, folder)))
            self.assertEqual((rc, r["code"]), (rc_want, code), folder)
        rc, r = self.run_check("--input", native_path(os.path.join(self.DATA, "cmg-forbidden")))
        f = [x for x in r["facts"]["findings"] if x["code"] == "LOG_CMG_FORBIDDEN"][0]
        self.assertEqual((f["count"], f["http_status"], f["last_seen"][:19]), (3, {"403": 3}, "2026-11-24T13:02:00"))

    def test_live_without_client(self):
        rc, r = self.run_check()
        self.assertEqual((rc, r["status"], r["code"]), (0, "skip", "LOG_NO_CLIENT_LOGS"))


class SnapshotOfThisMachine(CheckCase):
    """collect, then selftest --input, on this machine's own reading (wine: its registry and WinHTTP
    proxy; tests/e2e/test_snapshot.py has the lab's network checks): the same verdicts, and the
    checks that wrote captures judged from them."""
    CHECK = "snapshot"

    def test_collect_then_judge(self):
        ca = os.path.join(self.tmp, "ca.pem")  # a file of the device's settings, gone when judged
        with open(ca, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n")
        checks = {"cmgprobe": {"enabled": False}, "content": {"enabled": False},
                  "netenv": {"endpoints": [], "ca_file": native_path(ca)},
                  "device": {"min_free_gb": 0, "min_battery_percent": 0}}
        fake = os.environ.get("CMGDIAG_FAKE_DSREGCMD")
        if fake:
            fake = own_stand_in(fake, self.tmp)
            with open(os.path.join(self.tmp, "fake-mode"), "w") as f:
                f.write(native_path(os.path.join(DATA, "01-entra-joined-win11.txt")))
            checks["aadjoin"] = {"dsregcmd_path": native_path(fake)}
        with open(self.cfg) as f:
            c = json.load(f)
        c["checks"] = checks
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        rc_live, out, err = run("-c", self.cfg, "selftest", "--no-upload", "--json")
        live = json.loads(out)
        snap = os.path.join(self.tmp, "snap")
        rc, out, err = run("-c", self.cfg, "collect", "--out", native_path(snap), "--json")
        self.assertEqual(rc, 0, err)
        m = json.loads(out)
        # judged where the device's CA file is not, with a configuration that names none
        os.remove(ca)
        del c["checks"]["netenv"]["ca_file"]
        with open(self.cfg, "w") as f:
            json.dump(c, f)
        rc, out, err = run("-c", self.cfg, "selftest", "--input", native_path(snap), "--json")
        judged = json.loads(out)
        pairs = lambda b: {x["check"]: (x["status"], x["code"]) for x in b["checks"]}
        self.assertEqual(pairs(judged), pairs(live))
        self.assertEqual(rc, rc_live)
        self.assertEqual(m["checks"]["device"]["judged_from"], "capture")
        if fake:
            self.assertEqual((m["checks"]["aadjoin"]["judged_from"], pairs(judged)["aadjoin"][1]), ("capture", "AAD_OK"))
        if WINE:
            # Windows' own reading written down: the proxy values and WinHTTP's setting, judged from them
            self.assertEqual(m["checks"]["netenv"]["judged_from"], "capture", m["checks"]["netenv"])
            names = sorted(f["name"] for f in m["checks"]["netenv"]["files"])
            self.assertEqual(names, ["netsh-winhttp.txt", "registry.reg"])
            by = {x["check"]: x for x in judged["checks"]}
            self.assertEqual(by["netenv"]["facts"]["source"], "input")
            # another device's captures are judged by the restricted worker, and named as the snapshot's
            for name in ("netenv", "device"):
                self.assertEqual(by[name]["facts"]["worker"]["user"], "restricted token", by[name]["facts"])
                self.assertTrue(by[name]["facts"]["input"]["path"].endswith(name), by[name]["facts"]["input"])
        else:
            self.assertEqual(m["checks"]["netenv"]["judged_from"], "recorded")  # no registry off Windows
        # one file for the ticket: a zip any unzip reads, the folder it was collected in removed
        zpath = os.path.join(self.tmp, "INC1.zip")
        rc, out, err = run("-c", self.cfg, "collect", "--out", native_path(zpath))
        self.assertEqual(rc, 0, err)
        self.assertFalse(os.path.exists(zpath + ".partial"))
        with zipfile.ZipFile(zpath) as z:
            self.assertIsNone(z.testzip())
            self.assertIn("device/device.json", z.namelist())


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: test_cli.py BINARY [--wine]")
    BIN = os.path.abspath(sys.argv[1])
    WINE = "--wine" in sys.argv[2:]
    argv = [sys.argv[0]] + [a for a in sys.argv[2:] if a != "--wine"]
    unittest.main(argv=argv, verbosity=2)
