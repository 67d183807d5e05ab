#!/usr/bin/env python3
"""Writes a fleet of cmgdiag bundles (.json.gz) as a collection point holds them
(yyyy/mm/dd/HOST/ID.json.gz), with known faults injected, and expected.json saying what
`cmgdiag report` must find: the devices, and per root cause how many devices have it.

    make_fleet.py OUT_DIR [--expected FILE] [--devices N] [--days D] [--seed S] [--bad] [--pad BUNDLE]

Each device sends one bundle a day. A faulty device shows its fault in its latest bundle only
(earlier days were healthy, so the report must take the latest). A quarter of the devices run an
agent before 0.2, whose bundles have no diagnosis (the report works it out), a quarter 0.2 and half
this agent (0.3: the small members first, "checks" and "diagnosis" last, as the agent writes them
now); the others carry the diagnosis their agent made. --bad adds a corrupt, a truncated and a foreign file."""
import argparse
import gzip
import json
import multiprocessing
import os
import random
import uuid

NOW = "2026-11-30T08:00:00Z"


def res(check, status, code, summary=None, rem="Do what the check says.", facts=None):
    return {"check": check, "status": status, "code": code, "summary": summary or "%s: %s." % (check, code),
            "remediation": "" if status == "pass" else rem, "facts": facts or {}, "duration_ms": 3}


def log(code, sev="fail"):
    return {"code": code, "severity": sev, "state": "active", "count": 2, "log": "LocationServices.log"}


def probe(status, code, cmg, ms, days):
    return res("cmgprobe", status, code, facts={
        "host": cmg, "url": "https://%s/CCM_Proxy_MutualAuth/72057594037927940" % cmg,
        "tls": {"days_to_expiry": days, "version": "TLSv1.3"},
        "requests": [{"path": "/CCM_Proxy_MutualAuth/72057594037927940/SMS_MP/.sms_aut?MPLIST", "status": 200,
                      "timings": {"connect_ms": ms * 0.3, "tls_ms": ms * 0.6, "total_ms": ms}}]})


def healthy(cmg, ms, days):
    return [res("agent", "pass", "AGENT_OK"), res("mpcandidates", "pass", "MP_CMG_PRESENT"),
            res("clientauth", "pass", "CLIENTAUTH_PKI_OK"), probe("pass", "CMG_OK", cmg, ms, days),
            res("netenv", "pass", "NETENV_OK"), res("clientlogs", "pass", "LOG_OK"),
            res("device", "pass", "DEVICE_READY")]


def replace(checks, *new):
    names = {n["check"] for n in new}
    return [c for c in checks if c["check"] not in names] + list(new)


# fault -> (root cause code, sentence the agent would have said, how it shows in the checks)
FAULTS = {
    "SYSTEM_NO_PROXY": lambda c, cmg, ms, d: replace(c, res("netenv", "warn", "NETENV_SYSTEM_NO_PROXY"),
                                                     res("cmgprobe", "fail", "CMG_CONNECT_TIMEOUT", facts={"host": cmg}),
                                                     res("clientlogs", "fail", "LOG_CANNOT_CONNECT",
                                                         facts={"findings": [log("LOG_CANNOT_CONNECT")]})),
    "CMG_CRL_UNREACHABLE": lambda c, cmg, ms, d: replace(c, probe("fail", "CMG_CRL_UNREACHABLE", cmg, ms, d),
                                                         res("clientlogs", "fail", "LOG_TLS_REVOCATION_FAILED",
                                                             facts={"findings": [log("LOG_TLS_REVOCATION_FAILED"),
                                                                                 log("LOG_CMG_MPLIST_FAILED")]})),
    "NO_ENTRA_DEVICE_TOKEN": lambda c, cmg, ms, d: replace(c, res("aadjoin", "fail", "AAD_HYBRID_JOIN_PENDING"),
                                                           res("clientauth", "fail", "CLIENTAUTH_ENTRA_UNUSABLE"),
                                                           probe("fail", "CMG_HTTP_401", cmg, ms, d)),
    "NO_CMG_IN_MP_LIST": lambda c, cmg, ms, d: replace(c, res("mpcandidates", "fail", "MP_NO_CMG"),
                                                       res("cmgprobe", "fail", "CMG_NO_TARGET")),
    "DEVICE_LOW_DISK": lambda c, cmg, ms, d: replace(c, res("device", "fail", "DEVICE_LOW_DISK",
                                                            "Only 9000 MB are free on the system volume.",
                                                            "Free space on the system drive.")),
}
SAY = {"SYSTEM_NO_PROXY": "SYSTEM has no way through this network's proxy.",
       "CMG_CRL_UNREACHABLE": "The revocation list of the CMG's certificate cannot be downloaded.",
       "NO_ENTRA_DEVICE_TOKEN": "This laptop cannot get an Entra ID device token.",
       "NO_CMG_IN_MP_LIST": "The client has never been given the CMG.",
       "DEVICE_LOW_DISK": "Only 9000 MB are free on the system volume."}
SHARE = [("SYSTEM_NO_PROXY", 0.20), ("CMG_CRL_UNREACHABLE", 0.12), ("NO_ENTRA_DEVICE_TOKEN", 0.08),
         ("NO_CMG_IN_MP_LIST", 0.05), ("DEVICE_LOW_DISK", 0.03)]


def bundle(host, day, checks, version, diag_code, rng=random):
    overall = "fail" if any(c["status"] == "fail" for c in checks) else \
        "warn" if any(c["status"] == "warn" for c in checks) else "pass"
    b = {"schema": "cmgdiag.bundle/1", "bundle_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
         "created_at": "2026-11-%02dT%02d:%02d:00Z" % (day, rng.randrange(24), rng.randrange(60)),
         "trigger": "schedule", "ticket": None,
         "agent": {"version": version, "platform": "windows", "plugins": []},
         "device": {"hostname": host, "aad_device_id": None, "tenant_id": None, "site_code": "P01",
                    "cmg_host": None, "os": "Microsoft Windows 11 Enterprise 10.0.26100"},
         "overall": overall, "checks": checks,
         "spool": {"pending": rng.choice([0, 0, 0, 0, 2, 15]), "dropped_total": 0}}
    if version >= "0.3":
        # this agent's order: every small member first ("partial" among them), "checks" and "diagnosis" last
        checks = b.pop("checks")
        b["partial"] = False
        b["checks_requested"] = []
        b["checks"] = checks
    if version >= "0.2":
        b["diagnosis"] = {"root_causes": [] if not diag_code else [
            {"code": diag_code, "rank": 10, "say": SAY[diag_code], "first_step": "Fix it.", "source": "docs/diagnosis.md",
             "basis": "documented", "evidence": ["x:Y"], "explains": []}],
            "why": SAY.get(diag_code), "first_step": "Fix it." if diag_code else None, "not_checked": []}
    return b


CMGS = ["cmg.contoso.com", "cmg2.contoso.com"]
PAD = {}  # check -> its facts as JSON text, from --pad (set in each worker by init())


def init(pad):
    PAD.clear()
    PAD.update(pad)


def write_device(job):
    """Writes one device's bundles. The padding facts are serialised once (PAD) and spliced into each
    bundle's text, which keeps a million-bundle fleet to minutes."""
    out, seed, i, days, fault = job
    rng = random.Random(seed * 1000003 + i)
    host = "LAPTOP-%05d" % i
    version = ("0.1.0", "0.2.0", "0.3.0", "0.3.0")[i % 4]  # half the fleet on older agents
    cmg = CMGS[i % 2]
    days_left = 200 if cmg == CMGS[0] else 21
    for k in range(days):
        back = days - 1 - k  # days before 2026-11-30 (30-day months: a fleet of at most 330 days)
        day, month = 30 - back % 30, 11 - back // 30
        ms = round(rng.uniform(40, 400), 1)
        checks = healthy(cmg, ms, days_left)
        latest = k == days - 1
        if fault and latest:
            checks = FAULTS[fault](checks, cmg, ms, days_left)
        for c in checks:
            if not c["facts"] and c["check"] in PAD:
                c["facts"] = "\x00PAD:" + c["check"]
        b = bundle(host, day, checks, version, fault if latest else None, rng)
        b["created_at"] = b["created_at"].replace("2026-11-", "2026-%02d-" % month)
        text = json.dumps(b, separators=(",", ":"))
        for name, facts in PAD.items():
            text = text.replace('"\\u0000PAD:%s"' % name, facts)
        d = os.path.join(out, "2026", "%02d" % month, "%02d" % day, host)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, b["bundle_id"] + ".json.gz"), "wb") as f:
            f.write(gzip.compress(text.encode(), compresslevel=1, mtime=0))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--devices", type=int, default=60)
    ap.add_argument("--days", type=int, default=3, help="one bundle a day, back from 2026-11-30 (at most 330)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bad", action="store_true")
    ap.add_argument("--pad", help="a real bundle: checks without facts here get its checks' facts (realistic size)")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1, help="processes writing bundles")
    ap.add_argument("--expected", help="where expected.json goes (default: beside OUT_DIR, OUT_DIR.expected.json)")
    a = ap.parse_args()
    random.seed(a.seed)
    pad = {}
    if a.pad:
        with open(a.pad) as f:
            pad = {c["check"]: json.dumps(c["facts"], separators=(",", ":")) for c in json.load(f)["checks"]}
    expected = {"devices": a.devices, "bundles": a.devices * a.days, "causes": {}, "fail": 0, "bad": 0}
    plan = []
    for code, share in SHARE:
        plan += [code] * max(1, int(a.devices * share))
    plan += [None] * (a.devices - len(plan))
    jobs = [(a.out, a.seed, i, a.days, plan[i]) for i in range(a.devices)]
    if a.procs > 1 and a.devices > 100:
        with multiprocessing.Pool(a.procs, initializer=init, initargs=(pad,)) as pool:
            for _ in pool.imap_unordered(write_device, jobs, chunksize=64):
                pass
    else:
        init(pad)
        for j in jobs:
            write_device(j)
    for fault in plan:
        if fault:
            expected["causes"][fault] = expected["causes"].get(fault, 0) + 1
            expected["fail"] += 1
    if a.bad:
        d = os.path.join(a.out, "2026", "11", "30", "broken")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "corrupt.json.gz"), "wb") as f:
            f.write(b"\x1f\x8b\x08\x00garbage that is not deflate")
        good = gzip.compress(json.dumps(bundle("LAPTOP-X", 30, [], "0.1.0", None)).encode())
        with open(os.path.join(d, "truncated.json.gz"), "wb") as f:
            f.write(good[: len(good) // 2])
        with open(os.path.join(d, "foreign.json"), "w") as f:
            json.dump({"hello": "not a bundle"}, f)
        expected["bad"] = 3
    with open(a.expected or a.out.rstrip("/") + ".expected.json", "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
