#!/usr/bin/env python3
"""The supervisor's memory: `cmgdiag run` keeps no TLS and no checks in its own process; each cycle
runs in a worker. Starts the agent on a lab configuration (the cmgprobe check against the CMG double
and a file output), waits for the first cycle, and prints the supervisor's resident memory while it
idles between cycles next to the worker's peak (what the supervisor logs from wait4).

    tests/bench/supervisor.py BINARY        (a Release build: tests/bench/run.sh makes one)"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from test_cmgprobe import start_cmg_lab, stop_cmg_lab  # noqa: E402


def rss_kb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def main():
    binary = os.path.abspath(sys.argv[1])
    lab, ports = start_cmg_lab()
    tmp = tempfile.mkdtemp(prefix="cmgdiag-bench-sup-")
    try:
        log = os.path.join(tmp, "cmgdiag.log")
        os.makedirs(os.path.join(tmp, "share"))
        port = ports["good"]
        cfg = {"spool": {"dir": os.path.join(tmp, "spool")}, "state_dir": os.path.join(tmp, "state"),
               "log": {"file": log, "level": "debug"}, "interval_s": 3600, "jitter_s": 0, "start_delay_s": 0,
               "checks": {"aadjoin": {"enabled": False}, "mpcandidates": {"enabled": False},
                          "netenv": {"enabled": False}, "clientlogs": {"enabled": False},
                          "cmgprobe": {"url": "https://cmg.lab.test:%d/CCM_Proxy_MutualAuth/%s" % (port, ports["mp_id"]),
                                       "resolve": ["cmg.lab.test:%d:127.0.0.1" % port], "ca_file": ports["root"]}},
               "outputs": [{"type": "file", "dir": os.path.join(tmp, "share")}]}
        path = os.path.join(tmp, "cmgdiag.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.Popen([binary, "-c", path, "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 60
        text = ""
        while time.time() < end and "cycle 1 ended" not in text:
            time.sleep(0.1)
            text = open(log, encoding="utf-8", errors="replace").read() if os.path.exists(log) else ""
        time.sleep(2)  # idle between cycles
        idle = rss_kb(p.pid)
        hwm = rss_kb(p.pid, "VmHWM")
        m = re.search(r"cycle 1 ended in (\d+) ms: (\w+) \(worker: ([^,]+), peak (-?\d+) KB\)", text)
        p.terminate()
        p.wait(timeout=10)
        print("supervisor resident between cycles: %.1f MB (its peak %.1f MB)" % (idle / 1024, hwm / 1024))
        if m:
            print("worker of cycle 1: %s, %s in %s ms, peak %.1f MB" % (m.group(3), m.group(2), m.group(1),
                                                                        int(m.group(4)) / 1024))
        else:
            print("worker: no 'cycle 1 ended' line in the log")
    finally:
        stop_cmg_lab(lab)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
