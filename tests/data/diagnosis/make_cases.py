#!/usr/bin/env python3
"""Writes the diagnosis fixtures that pair each rule with what it must NOT explain (and the
positive case of CMG_CONNECTION_FAILED). Run from anywhere; rewrites the files it names.
A case in expected.json with "must_not_explain": {RULE: [check:CODE, ...]} fails when RULE is a
root cause that explains one of them; tests/unit/test_diagnosis.c fails when a rule has none."""
import json
import os
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CMG = "cmg.contoso.com"


def result(check, status, code, **facts):
    return {"check": check, "status": status, "code": code, "summary": "%s says %s." % (check, code),
            "remediation": "" if status == "pass" else "Do the thing the check says.", "facts": facts,
            "duration_ms": 1}


def log(code, target=CMG, severity="fail"):
    return {"code": code, "severity": severity, "state": "active", "count": 3, "log": "LocationServices.log",
            "target": target}


def bundle(name, checks):
    return {"schema": "cmgdiag.bundle/1", "bundle_id": "00000000-0000-4000-8000-%012d" % zlib.crc32(name.encode()),
            "created_at": "2026-11-30T08:00:00Z", "trigger": "schedule", "ticket": None,
            "agent": {"version": "0.1.0", "platform": "windows", "plugins": []},
            "device": {"hostname": name, "aad_device_id": None, "tenant_id": None, "site_code": "P01",
                       "os": "Windows 11"},
            "overall": "fail",
            "checks": [c for c in (result("agent", "pass", "AGENT_OK"), result("mpcandidates", "pass", "MP_CMG_PRESENT"))
                       if c["check"] not in {x["check"] for x in checks}] + checks}


def probe(status, code, **facts):
    return result("cmgprobe", status, code, host=CMG, **facts)


CASES = [
    # the clock is 6 minutes behind; the CMG certificate expired 10 days ago: the certificate is the cause
    ("neg-clock-behind-cert-expired.json",
     [result("netenv", "fail", "NETENV_CLOCK_SKEW", clock={"skew_s": -360}),
      probe("fail", "CMG_CERT_EXPIRED", clock_skew_s=-360, tls={"expired_for_s": 864000, "valid_in_s": 0})],
     ["CMG_CERT_NOT_TRUSTED", "CLOCK_WRONG"], {"CLOCK_WRONG": ["cmgprobe:CMG_CERT_EXPIRED"]}),
    # the server decides a token's lifetime: CMGService_Invalid_Token is never the device clock's doing
    ("neg-invalid-token-with-skew.json",
     [result("clientauth", "pass", "CLIENTAUTH_TOKEN_OK", mode="token"),
      result("netenv", "warn", "NETENV_CLOCK_DRIFT", clock={"skew_s": 400}),
      probe("warn", "CMG_CLOCK_SKEW", clock_skew_s=400, tls={"expired_for_s": 0, "valid_in_s": 0}),
      result("clientlogs", "fail", "LOG_CMG_INVALID_TOKEN", findings=[log("LOG_CMG_INVALID_TOKEN")])],
     ["SITE_TOKEN_EXPIRED"], {"CLOCK_WRONG": ["clientlogs:LOG_CMG_INVALID_TOKEN"]}),
    # a client older than 2002 (5.00.8913) cannot hold a site token
    ("neg-old-client-no-token-cause.json",
     [result("clientauth", "pass", "CLIENTAUTH_PKI_OK", mode="pki", client_version="5.00.8913.1000"),
      result("clientlogs", "fail", "LOG_CMG_INVALID_TOKEN", findings=[log("LOG_CMG_INVALID_TOKEN")])],
     ["LOG_CMG_INVALID_TOKEN"], {"SITE_TOKEN_EXPIRED": ["clientlogs:LOG_CMG_INVALID_TOKEN"]}),
    # an untrusted CMG and a content 404: TLS worked for the content, so two causes
    ("neg-untrusted-cmg-and-content-404.json",
     [probe("fail", "CMG_CERT_UNTRUSTED"),
      result("content", "fail", "CONTENT_HTTP_ERROR", urls=[{"host": CMG, "path": "/test.bin", "status": 404}])],
     ["CMG_CERT_NOT_TRUSTED", "CONTENT_HTTP_ERROR"], {"CMG_CERT_NOT_TRUSTED": ["content:CONTENT_HTTP_ERROR"]}),
    ("neg-crl-and-content-403.json",
     [probe("fail", "CMG_CRL_UNREACHABLE"),
      result("content", "fail", "CONTENT_HTTP_ERROR", urls=[{"host": CMG, "path": "/test.bin", "status": 403}])],
     ["CMG_CRL_UNREACHABLE", "CONTENT_HTTP_ERROR"], {"CMG_CRL_UNREACHABLE": ["content:CONTENT_HTTP_ERROR"]}),
    # the anonymous probe's 401 is not about this device's credentials
    ("neg-anonymous-401-not-credentials.json",
     [result("aadjoin", "fail", "AAD_NOT_JOINED"),
      result("clientauth", "fail", "CLIENTAUTH_PKI_UNUSABLE", mode="pki"),
      probe("fail", "CMG_HTTP_401")],
     ["NO_ENTRA_DEVICE_TOKEN", "NO_CLIENT_CERTIFICATE", "CMG_HTTP_401"],
     {"NO_ENTRA_DEVICE_TOKEN": ["cmgprobe:CMG_HTTP_401"], "NO_CLIENT_CERTIFICATE": ["cmgprobe:CMG_HTTP_401"]}),
    ("neg-tenant-and-anonymous-401.json",
     [probe("fail", "CMG_TENANT_NOT_ONBOARDED", findings=[{"status": "fail", "code": "CMG_HTTP_401"}])],
     ["TENANT_NOT_ONBOARDED", "CMG_HTTP_401"], {"TENANT_NOT_ONBOARDED": ["cmgprobe:CMG_HTTP_401"]}),
    # a dead connection to the CMG explains content and log failures to that host, not to another
    ("connection-failed.json",
     [probe("fail", "CMG_CONNECT_TIMEOUT"),
      result("content", "fail", "CONTENT_UNREACHABLE", urls=[{"host": CMG, "path": "/test.bin"}]),
      result("clientlogs", "fail", "LOG_CANNOT_CONNECT", findings=[log("LOG_CANNOT_CONNECT")])],
     ["CMG_CONNECTION_FAILED"], {}),
    ("neg-connection-failed-other-host.json",
     [probe("fail", "CMG_CONNECT_TIMEOUT"),
      result("content", "fail", "CONTENT_UNREACHABLE", urls=[{"host": "cdp.contoso.com", "path": "/test.bin"}])],
     ["CMG_CONNECTION_FAILED", "CONTENT_UNREACHABLE"], {"CMG_CONNECTION_FAILED": ["content:CONTENT_UNREACHABLE"]}),
    ("neg-dns-other-host.json",
     [probe("fail", "CMG_DNS_FAILURE"),
      result("clientlogs", "fail", "LOG_NAME_NOT_RESOLVED", findings=[log("LOG_NAME_NOT_RESOLVED", "mp01.corp.contoso.com")])],
     ["CMG_NAME_NOT_RESOLVED", "LOG_NAME_NOT_RESOLVED"], {"CMG_NAME_NOT_RESOLVED": ["clientlogs:LOG_NAME_NOT_RESOLVED"]}),
    # the client thinks it is on the intranet and its intranet MP does not answer: it never tries the CMG
    ("false-intranet.json",
     [result("mpcandidates", "fail", "LOCATION_FALSE_INTRANET", false_intranet=True),
      result("clientlogs", "fail", "LOG_MP_NOT_FOUND", findings=[log("LOG_MP_NOT_FOUND", "")]),
      result("device", "warn", "DEVICE_POLICY_OLD")],
     ["LOCATION_FALSE_INTRANET"], {}),
    ("neg-false-intranet-not-the-cmg-certificate.json",
     [result("mpcandidates", "fail", "LOCATION_FALSE_INTRANET", false_intranet=True), probe("fail", "CMG_CERT_UNTRUSTED")],
     ["LOCATION_FALSE_INTRANET", "CMG_CERT_NOT_TRUSTED"],
     {"LOCATION_FALSE_INTRANET": ["cmgprobe:CMG_CERT_UNTRUSTED"]}),
    # device-wide causes that must not take an HTTP answer of the server side
    ("neg-proxy-not-a-403.json",
     [result("netenv", "warn", "NETENV_SYSTEM_NO_PROXY"), probe("fail", "CMG_HTTP_403")],
     ["CMG_HTTP_403"], {"SYSTEM_NO_PROXY": ["cmgprobe:CMG_HTTP_403"]}),
    ("neg-tls12-not-a-403.json",
     [result("netenv", "fail", "NETENV_TLS12_DISABLED"), probe("fail", "CMG_HTTP_403")],
     ["TLS12_OFF", "CMG_HTTP_403"], {"TLS12_OFF": ["cmgprobe:CMG_HTTP_403"]}),
    ("neg-no-cmg-not-a-tls-failure.json",
     [result("mpcandidates", "fail", "MP_NO_CMG"),
      result("clientlogs", "fail", "LOG_TLS_UNTRUSTED_CA", findings=[log("LOG_TLS_UNTRUSTED_CA")])],
     ["NO_CMG_IN_MP_LIST", "LOG_TLS_UNTRUSTED_CA"], {"NO_CMG_IN_MP_LIST": ["clientlogs:LOG_TLS_UNTRUSTED_CA"]}),
    ("neg-server-side-403-not-tls.json",
     [result("clientlogs", "fail", "LOG_CMG_FORBIDDEN",
             findings=[log("LOG_CMG_FORBIDDEN"), log("LOG_CMG_CLIENT_CERT_REQUIRED"), log("LOG_TLS_UNTRUSTED_CA")])],
     ["CMG_CONNECTION_POINT_CERT", "MP_BINDING_WRONG", "LOG_TLS_UNTRUSTED_CA"],
     {"MP_BINDING_WRONG": ["clientlogs:LOG_TLS_UNTRUSTED_CA"],
      "CMG_CONNECTION_POINT_CERT": ["clientlogs:LOG_TLS_UNTRUSTED_CA"]}),
    ("neg-mp-down-not-dns.json",
     [probe("fail", "CMG_HTTP_5XX"),
      result("clientlogs", "fail", "LOG_NAME_NOT_RESOLVED", findings=[log("LOG_NAME_NOT_RESOLVED")])],
     ["MP_BEHIND_CMG_DOWN", "LOG_NAME_NOT_RESOLVED"], {"MP_BEHIND_CMG_DOWN": ["clientlogs:LOG_NAME_NOT_RESOLVED"]}),
]

if __name__ == "__main__":
    exp_path = os.path.join(HERE, "expected.json")
    with open(exp_path) as f:
        exp = json.load(f)
    names = {c[0] for c in CASES}
    exp["cases"] = [c for c in exp["cases"] if c["file"] not in names]
    for name, checks, roots, nots in CASES:
        with open(os.path.join(HERE, name), "w") as f:
            json.dump(bundle(name[:-5], checks), f, indent=1)
            f.write("\n")
        case = {"file": name, "root_causes": roots, "explains": []}
        if nots:
            case["must_not_explain"] = nots
        exp["cases"].append(case)
    with open(exp_path, "w") as f:
        json.dump(exp, f, indent=1, ensure_ascii=False)
        f.write("\n")
