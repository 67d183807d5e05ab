#!/usr/bin/env python3
"""The red team's sixteen attacks of round 3 (docs/security.md, "The red team's sixteen attacks"),
one test each, in the security tier. An attack's replay lives where its fixtures are: most in
test_security.py beside this file, some with the running service, the collection-point lab, the
fleet report's hostile bundles or the C units. Each test here runs exactly the replays of its attack
(Python tests by name, the C tests and the report's scaling bench as programs) and fails when any of
them fails, or when a replay it names no longer exists, so an attack cannot drop out of the tier
unnoticed.

    test_attacks.py BINARY BUILD_DIR FAULTSERVER      (as root: the hostile user is `nobody`)"""
import io
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
E2E = os.path.join(HERE, "..", "e2e")
BENCH = os.path.join(HERE, "..", "bench")
sys.path[:0] = [HERE, E2E]

BIN = BUILD = FAULTSERVER = None

# attack -> its replays: "module.Class.test" (Python) or ("c", test binary) or ("bench", script)
ATTACKS = {
    1: ["test_cli.Cli.test_only_never_runs_a_check_the_administrator_turned_off"],
    2: ["test_cli.Cli.test_a_partial_run_says_so_and_is_not_the_device_state",
        "test_report.Hostile.test_a_helpdesk_run_never_decides_the_device"],
    3: ["test_cli.AadJoin.test_dsregcmd_path_from_a_configuration_others_can_change_is_not_run",
        "test_security.ReferencedFiles.test_dsregcmd_path_is_started_with_the_small_environment"],
    4: ["test_security.ConfigFindings.test_a_named_file_a_user_owns_is_reported_and_not_read",
        "test_shipping.HttpsNginx.test_a_secret_file_is_read_only_when_it_and_the_configuration_are_admin_only"],
    5: ["test_security.ReferencedFiles.test_a_trust_root_a_user_owns_is_not_read_by_a_check",
        "test_security.ReferencedFiles.test_a_capture_the_configuration_names_is_read_only_when_admin_only"],
    6: ["test_shipping.HttpsNginx.test_the_label_shows_scheme_host_and_port_only"],
    7: ["test_security.EdgeRedaction.test_check_output_is_redacted_in_json_and_for_a_person"],
    8: [("c", "test_proc"), "test_served.Served.test_json_through_the_service"],
    9: ["test_report.Hostile.test_a_bundle_from_the_future_does_not_decide_its_device"],
    10: [("c", "test_aia")],
    11: [("c", "test_aia")],
    12: ["test_served.Served.test_a_silent_connection_holds_nobody_up",
         "test_served.Served.test_one_account_cannot_hold_every_connection",
         "test_served.Served.test_least_gap_for_the_same_account",
         "test_served.Served.test_a_service_that_never_answers_is_given_up", ("c", "test_relay")],
    13: [("c", "test_fs"), "test_security.EdgeRedaction.test_check_output_is_redacted_in_json_and_for_a_person"],
    14: [("bench", "report_scaling.py")],
    15: ["test_security.ReportBounds.test_a_container_that_repeats_its_marker_is_not_listed_for_ever"],
    16: ["test_report.Hostile.test_c1_controls_never_reach_the_terminal",
          "test_report.Folder.test_the_page_references_nothing_outside_itself"],
}


def configure_modules():
    """Each replay's module reads its binary from its own globals, as its __main__ would set them."""
    import test_cli
    import test_report
    import test_security
    import test_served
    test_cli.BIN, test_cli.WINE = BIN, False
    test_report.BINARY, test_report.WINE = BIN, False
    test_served.BIN = BIN
    test_security.BIN, test_security.FAULTSERVER = BIN, FAULTSERVER
    import pwd
    test_security.NOBODY = pwd.getpwnam("nobody")


class Attacks(unittest.TestCase):
    def replay(self, n):
        ran = []
        for r in ATTACKS[n]:
            if isinstance(r, tuple) and r[0] == "c":
                exe = os.path.join(BUILD, "tests", r[1])
                self.assertTrue(os.path.exists(exe), "attack %d: %s is not built" % (n, exe))
                p = subprocess.run([exe, os.path.join(BUILD, "tests", "tmp", "attack-%d" % n)], capture_output=True,
                                   text=True, timeout=600)
                self.assertEqual(p.returncode, 0, "attack %d: %s failed:\n%s" % (n, r[1], p.stderr[-3000:]))
                ran.append(r[1])
            elif isinstance(r, tuple):
                p = subprocess.run([sys.executable, os.path.join(BENCH, r[1]), BIN, "2500"], capture_output=True,
                                   text=True, timeout=900)
                self.assertEqual(p.returncode, 0, "attack %d: %s failed:\n%s" % (n, r[1], (p.stdout + p.stderr)[-3000:]))
                ran.append(r[1])
            else:
                suite = unittest.defaultTestLoader.loadTestsFromName(r)
                self.assertEqual(suite.countTestCases(), 1, "attack %d: %s is not one test" % (n, r))
                out = io.StringIO()
                res = unittest.TextTestRunner(stream=out, verbosity=2).run(suite)
                self.assertTrue(res.testsRun == 1 and res.wasSuccessful() and not res.skipped,
                                "attack %d: %s did not pass:\n%s" % (n, r, out.getvalue()[-4000:]))
                ran.append(r.rsplit(".", 1)[1])
        print("attack %d replayed by %s" % (n, ", ".join(ran)), file=sys.stderr)


def add(n):
    setattr(Attacks, "test_attack_%02d" % n, lambda self: self.replay(n))


for _n in ATTACKS:
    add(_n)


def main():
    global BIN, BUILD, FAULTSERVER
    if len(sys.argv) < 4:
        sys.exit("usage: test_attacks.py BINARY BUILD_DIR FAULTSERVER")
    BIN, BUILD, FAULTSERVER = (os.path.abspath(a) for a in sys.argv[1:4])
    del sys.argv[1:4]
    if os.geteuid() != 0:
        print("SKIP: the attacks are played by a local user against an agent running as root; run it as root")
        sys.exit(77)
    configure_modules()
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
