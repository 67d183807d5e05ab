#!/usr/bin/env bash
# clientauth live under wine: CryptoAPI enumerates LocalMachine\My, reads each certificate's EKU and
# private key, and builds its chain. A root and two client certificates (one from that root, one
# from a root this device does not trust) are put into wine's machine stores; the check must pick the
# trusted one, as the ConfigMgr client does, and call the other one untrusted.
#   tests/windows/clientauth.sh CMGDIAG_EXE CHILD_HELPER_EXE WORKDIR   (WINEPREFIX set by the caller)
set -u
exe=$(readlink -f "$1") helper=$(readlink -f "$2") work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
win() { winepath -w "$1" 2>/dev/null; }
q() { openssl "$@" >/dev/null 2>&1; }
# PKCS#12 with the SHA-1/3DES protection every Windows (and wine) imports
pfx() { openssl pkcs12 -export -in "$1.pem" -inkey "$1.key" -out "$1.pfx" -passout pass:test \
          -keypbe PBE-SHA1-3DES -certpbe PBE-SHA1-3DES -macalg sha1 >/dev/null 2>&1; }
leaf() { # NAME ISSUER DAYS
  q req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$1.corp.contoso.com"
  printf 'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature,keyEncipherment\n' > "$1.ext"
  q x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days "$3" -out "$1.pem" -extfile "$1.ext"
  pfx "$1"
}
for ca in root other; do
  q req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem -days 30 -subj "/CN=Contoso $ca CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
done
leaf laptop root 20
leaf stranger other 400
q x509 -in root.pem -outform der -out root.der
h() { timeout 60 wine "$helper" "$@" 2>&1 | tr -d '\r'; }
h cert-root "$(win root.der)" >/dev/null && ok "root added to LocalMachine\\Root" || no "cert-root"
for c in laptop stranger; do
  out=$(h cert-my "$(win $c.pfx)" test) && ok "$c imported into LocalMachine\\My with its key" || no "cert-my $c: $out"
done
# a ConfigMgr client (2403) for the check to judge: without one it is not applicable; its selection
# criterion (CCMCERTSEL SubjectStr:) selects both certificates, so the chain decides
K='HKLM\SOFTWARE\Microsoft\SMS\Mobile Client'
timeout 60 wine reg add "$K" /v ProductVersion /t REG_SZ /d 5.00.9132.1011 /f >/dev/null 2>&1
trap 'timeout 60 wine reg delete "$K" /f >/dev/null 2>&1' EXIT
cat > cfg.json <<JSON
{"spool": {"dir": "$(win "$work/spool" | sed 's/\\/\\\\/g')"}, "log": {"file": "$(win "$work/l.log" | sed 's/\\/\\\\/g')"},
 "state_dir": "$(win "$work/state" | sed 's/\\/\\\\/g')",
 "checks": {"clientauth": {"cert_selection": "SubjectStr:corp.contoso.com"}}}
JSON
out=$(timeout 120 wine "$exe" -c "$(win cfg.json)" check clientauth --json 2>/dev/null | tr -d '\r')
echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
certs = {c["subject"]: c for c in r["facts"]["candidates"]["pki"]["certificates"]}
def say(ok, text):
    print(("ok   " if ok else "FAIL ") + text)
    return 0 if ok else 1
f = 0
lap = next((c for s, c in certs.items() if "laptop" in s), None)
stg = next((c for s, c in certs.items() if "stranger" in s), None)
f += say(r["facts"]["mode"] == "pki" and r["code"] in ("CLIENTAUTH_PKI_EXPIRING", "CLIENTAUTH_PKI_OK"),
         "live store: mode pki, %s: %s" % (r["code"], r["summary"]))
f += say(r["code"] == "CLIENTAUTH_PKI_EXPIRING", "the chosen certificate expires in 20 days: a warning")
f += say(lap is not None and lap["usable"] and lap["chain"] == "trusted" and lap["has_private_key"] is True,
         "CryptoAPI: the laptop certificate has its key and a trusted chain (%s)" % (lap and lap["chain"]))
# its issuer is in no store at all: Windows (and wine) say the chain is incomplete
f += say(stg is not None and not stg["usable"] and "CERT_TRUST status" in stg.get("why", ""),
         "CryptoAPI: the certificate from an unknown CA is not usable (%s)" % (stg and stg.get("why")))
f += say(r["facts"]["source"] == "live", "read live, not from a capture")
sys.exit(f)' || fails=$((fails + 1))
[ -n "$out" ] || no "no output from check clientauth: $(timeout 120 wine "$exe" -c "$(win cfg.json)" check clientauth --json 2>&1 | head -5)"
echo "windows clientauth: $fails failed"
[ $fails -eq 0 ]
