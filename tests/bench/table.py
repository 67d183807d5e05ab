#!/usr/bin/env python3
"""The benchmark table of docs/performance.md, every figure measured in one
run against the local lab: the CMG double (tests/lab/cmg-lab.sh) and Azurite (tests/lab/azurite.sh).
Each timing is the median of RUNS runs.

    table.py BUILD_DIR [--runs N] [--windows-exe PATH] [--drain-bundles N]

A full cycle = `cmgdiag selftest` with every check on (aadjoin, mpcandidates and clientlogs from
healthy captures, cmgprobe against the CMG double) shipping its bundle to Azurite over HTTPS."""
import argparse
import gzip
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
LAB = os.path.join(ROOT, "tests", "lab")
DATA = os.path.join(ROOT, "tests", "data")
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, HERE)
from test_cmgprobe import start_cmg_lab, stop_cmg_lab  # noqa: E402

ENTRA = ["login.microsoftonline.com", "device.login.microsoftonline.com", "enterpriseregistration.windows.net"]
import shipping  # noqa: E402

MP = "72057594037927939"
RSS_HELPER = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
              "r = subprocess.run(sys.argv[1:], capture_output=True); u = resource.getrusage(resource.RUSAGE_CHILDREN); "
              "print(u.ru_maxrss, (u.ru_utime + u.ru_stime) * 1000, (time.perf_counter() - t) * 1000, r.returncode)")


def measure(cmd, runs, ok=(0,)):
    """Median peak RSS (KB), CPU (ms), wall (ms) of `cmd`, each run in its own helper process."""
    rss, cpu, wall = [], [], []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", RSS_HELPER] + cmd, capture_output=True, text=True).stdout.split()
        if int(out[3]) not in ok:
            raise SystemExit("%s exited %s" % (" ".join(cmd[:4]), out[3]))
        rss.append(int(out[0]))
        cpu.append(float(out[1]))
        wall.append(float(out[2]))
    return statistics.median(rss), statistics.median(cpu), statistics.median(wall)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--windows-exe")
    ap.add_argument("--drain-bundles", type=int, default=1000)
    a = ap.parse_args()
    binary = os.path.abspath(os.path.join(a.build, "cmgdiag"))
    tmp = tempfile.mkdtemp(prefix="cmgdiag-table-")
    cmg_dir, ports = start_cmg_lab()
    az = os.path.join(tmp, "azurite")
    az_port = shipping.free_port()
    shipping.sh("bash", os.path.join(LAB, "azurite.sh"), "start", az, str(az_port))
    rows = []
    try:
        sas = shipping.sh("bash", os.path.join(LAB, "azurite.sh"), "sas", az, str(az_port), "bench").strip()
        az_ca = os.path.join(az, "pki", "ca.pem")
        port = ports["good"]
        cmg_url = "https://cmg.lab.test:%d/CCM_Proxy_ServerAuth/%s/SMS_MP/.sms_aut?mplist" % (port, MP)
        resolve = "cmg.lab.test:%d:127.0.0.1" % port
        cfg = os.path.join(tmp, "cycle.json")
        base = {"spool": {"dir": os.path.join(tmp, "spool")}, "state_dir": os.path.join(tmp, "state"),
                "log": {"file": os.path.join(tmp, "cmgdiag.log")}, "start_delay_s": 0,
                "checks": {"aadjoin": {"input": os.path.join(DATA, "aadjoin", "01-entra-joined-win11.txt")},
                           "mpcandidates": {"input": os.path.join(DATA, "mpcandidates",
                                                                  "02-single-cmg-serverauth-ps51-utf16le.json")},
                           "clientlogs": {"input": os.path.join(DATA, "clientlogs", "clean")},
                           "cmgprobe": {"url": cmg_url.split("/SMS_MP")[0], "resolve": [resolve],
                                        "ca_file": ports["root"]},
                           # the Entra double of the lab, as SYSTEM's reachability test would see Entra
                           "netenv": {"endpoints": ["https://%s:%d/" % (n, ports["entra"]) for n in ENTRA],
                                      "resolve": ["%s:%d:127.0.0.1" % (n, ports["entra"]) for n in ENTRA],
                                      "ca_file": ports["root"]}},
                "outputs": [{"type": "azblob", "sas_url": sas, "ca_file": az_ca}]}
        with open(cfg, "w") as f:
            json.dump(base, f)
        c_rss, c_cpu, c_wall = measure([binary, "-c", cfg, "selftest"], a.runs)
        curl_get = ["curl", "-s", "-o", "/dev/null", "--cacert", ports["root"], "--resolve", resolve, cmg_url]
        g_rss, g_cpu, g_wall = measure(curl_get, a.runs)
        # the same bundle uploaded by curl (a fresh blob name each run: If-None-Match would refuse a second)
        bundle = subprocess.run([binary, "-c", cfg, "selftest", "--json", "--no-upload"], capture_output=True).stdout
        gz = os.path.join(tmp, "bundle.json.gz")
        with open(gz, "wb") as f:
            f.write(gzip.compress(json.dumps(json.loads(bundle), separators=(",", ":")).encode(), 6))
        container, query = sas.split("?", 1)
        up_cpu = []
        for i in range(a.runs):
            put = ["curl", "-s", "-o", "/dev/null", "--cacert", az_ca, "-X", "PUT", "-T", gz,
                   "-H", "x-ms-blob-type: BlockBlob", "-H", "x-ms-version: 2021-08-06", "-H", "Content-Encoding: gzip",
                   "-H", "Content-Type: application/json", "%s/curl/%d-%d.json.gz?%s" % (container, os.getpid(), i, query)]
            up_cpu.append(measure(put, 1)[1])
        u_cpu = statistics.median(up_cpu)
        # idle RSS of run between cycles
        rcfg = os.path.join(tmp, "run.json")
        rb = dict(base, interval_s=3600, log={"file": os.path.join(tmp, "run.log")},
                  state_dir=os.path.join(tmp, "runstate"))
        with open(rcfg, "w") as f:
            json.dump(rb, f)
        p = subprocess.Popen([binary, "-c", rcfg, "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        idle = None
        for _ in range(300):
            time.sleep(0.1)
            if os.path.exists(rb["log"]["file"]) and "cycle 1 ended" in open(rb["log"]["file"], errors="replace").read():
                time.sleep(1)
                with open("/proc/%d/status" % p.pid) as f:
                    idle = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
                break
        t0 = time.perf_counter()
        p.terminate()
        p.wait()
        stop_ms = (time.perf_counter() - t0) * 1000
        rows.append(("Peak RSS, one full cycle (selftest)", "%.1f MB" % (c_rss / 1024),
                     "curl fetching the MP list: %.1f MB (ratio %.2f)" % (g_rss / 1024, c_rss / g_rss)))
        rows.append(("Idle RSS of `run` between cycles", "%.1f MB" % (idle / 1024) if idle else "not measured",
                     "stop (SIGTERM) took %.0f ms" % stop_ms))
        rows.append(("CPU (user+sys), one full cycle", "%.1f ms" % c_cpu,
                     "curl fetch %.1f ms + curl upload %.1f ms = %.1f ms (ratio %.2f)"
                     % (g_cpu, u_cpu, g_cpu + u_cpu, c_cpu / (g_cpu + u_cpu))))
        rows.append(("Wall time, one full cycle against the lab", "%.0f ms" % c_wall,
                     "7 checks, 2 CMG requests, 3 Entra requests, 2 CRL fetches, 1 upload"))
        expired = dict(base["checks"]["cmgprobe"], url="https://cmg.lab.test:%d/CCM_Proxy_ServerAuth/%s"
                       % (ports["crlunreach"], MP), resolve=["cmg.lab.test:%d:127.0.0.1" % ports["crlunreach"]])
        for label, args, probe in (("healthy", ("01-entra-joined-win11.txt", "02-single-cmg-serverauth-ps51-utf16le.json",
                                                "clean"), base["checks"]["cmgprobe"]),
                                   ("worst case", ("25-hybrid-several-warnings.txt",
                                                   "01-get-ciminstance-convertto-json-ps7.json", "variants"), expired)):
            raw, gzl, overall, _ = shipping.bundle_size(binary, tmp, *args, probe=probe)
            rows.append(("Bundle size, %s device" % label, "%d B JSON, %d B gzip" % (raw, gzl), "overall %s" % overall))
        par = subprocess.run([os.path.join(a.build, "tests", "bench_parsers"), os.path.join(DATA, "aadjoin"), "500"],
                             capture_output=True, text=True).stdout
        for name, pat in (("dsregcmd /status", r"dsregcmd /status.*?([\d.]+) MB/s"),
                          ("MP candidates (ConvertTo-Json)", r"MP candidates.*?([\d.]+) MB/s"),
                          ("CMTrace client logs (parse + 31 signatures)", r"client logs.*?([\d.]+) MB/s"),
                          ("MP list XML", r"MP list XML.*?([\d.]+) MB/s")):
            m = re.search(pat, par)
            rows.append(("Parser throughput: " + name, "%s MB/s" % (m.group(1) if m else "?"), "median of 7"))
        drained = drain_rate(binary, tmp, az, az_port, a.drain_bundles)
        rows.append(("Spool drain rate to Azurite (HTTPS)", "%.0f bundles/s" % drained[0],
                     "%d bundles, one connection, median of 3" % a.drain_bundles))
        v = [measure([binary, "version"], 1)[2] for _ in range(max(a.runs, 21))]
        rows.append(("Start-up, `cmgdiag version`", "%.1f ms" % statistics.median(v), "wall, median of %d" % len(v)))
        rows.append(("Binary size, Linux (dynamic, stripped: %s)" % ("no" if has_symbols(binary) else "yes"),
                     "%d KB" % (os.path.getsize(binary) // 1024), "links libcurl, OpenSSL, cJSON, zlib"))
        if a.windows_exe and os.path.exists(a.windows_exe):
            rows.append(("Binary size, Windows cmgdiag.exe (static)", "%d KB" % (os.path.getsize(a.windows_exe) // 1024),
                         "OpenSSL, curl, cJSON, zlib inside"))
        else:
            rows.append(("Binary size, Windows cmgdiag.exe (static)", "not measured",
                         "no MinGW-w64 here: tests/install-deps.sh all"))
    finally:
        subprocess.run(["bash", os.path.join(LAB, "azurite.sh"), "stop", az])
        stop_cmg_lab(cmg_dir)
        shutil.rmtree(tmp, ignore_errors=True)
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = re.search(r"model name\s*:\s*(.*)", f.read()).group(1)
    except (OSError, AttributeError):
        pass
    print("\nMeasured %s on %s, %d CPU(s), %s; median of %d runs unless said.\n"
          % (time.strftime("%Y-%m-%d"), cpu, os.cpu_count(), platform.platform(), a.runs))
    print("| figure | cmgdiag | next to |")
    print("|---|---|---|")
    for r in rows:
        print("| %s | %s | %s |" % r)


def has_symbols(path):
    out = subprocess.run(["file", path], capture_output=True, text=True).stdout if shutil.which("file") else ""
    return "not stripped" in out


def drain_rate(binary, tmp, az, az_port, n):
    """Spools n bundles while nothing listens, then flushes copies of that spool to Azurite 3 times."""
    seed = os.path.join(tmp, "seed")
    os.makedirs(seed)
    cfg = os.path.join(tmp, "seed.json")
    off = {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False}, "clientlogs": {"enabled": False},
           "cmgprobe": {"enabled": False}}
    shipping.config(cfg, seed, off, [{"type": "http", "url": "http://127.0.0.1:%d/x" % shipping.free_port()}],
                    delivery={"max_attempts": 1, "max_bundles": 1})
    for _ in range(n):
        subprocess.run([binary, "-c", cfg, "selftest"], capture_output=True)
    rates = []
    for r in range(3):
        run = os.path.join(tmp, "drain%d" % r)
        shutil.copytree(seed, run)
        sas = shipping.sh("bash", os.path.join(LAB, "azurite.sh"), "sas", az, str(az_port), "drain%d" % r).strip()
        c = os.path.join(run, "flush.json")
        shipping.config(c, run, off, [{"type": "azblob", "sas_url": sas, "ca_file": os.path.join(az, "pki", "ca.pem")}],
                        delivery={"max_bundles": 1000000, "drain_budget_s": 3600})
        t0 = time.perf_counter()
        p = subprocess.run([binary, "-c", c, "flush"], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit("flush failed: " + p.stdout + p.stderr)
        rates.append(n / (time.perf_counter() - t0))
    return statistics.median(rates), rates


if __name__ == "__main__":
    main()
