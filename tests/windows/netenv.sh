#!/usr/bin/env bash
# netenv and exec from cmgdiag.exe under wine, against wine's real WinHTTP and registry: the WinHTTP
# default proxy (the WinHttpSettings value WinHttpGetDefaultProxyConfiguration reads), SCHANNEL's
# TLS 1.2 switch, a signed-in user's PAC URL under HKEY_USERS, the Entra double reached through a
# real forward proxy (tinyproxy) because WinHTTP says so; exec's ACL check on wine's security
# descriptors (wine derives them from the Unix mode: a 0777 file grants Everyone write).
# Changes HKLM of the wine prefix: run alone, not beside other cmgdiag.exe suites.
#   tests/windows/netenv.sh CMGDIAG_EXE CHILD_HELPER_EXE WORKDIR
set -euo pipefail
exe=$(readlink -f "$1"); helper=$(readlink -f "$2"); work=$(readlink -f "$3")
src=$(cd "$(dirname "$0")/../.." && pwd)
py=python3; [ -x /usr/bin/python3 ] && py=/usr/bin/python3
command -v tinyproxy >/dev/null || { echo "SKIP: tinyproxy is not installed (tests/install-deps.sh all)"; exit 77; }
rm -rf "$work"; mkdir -p "$work/bin" "$work/ww"; chmod 755 "$work" "$work/bin"
lab="$work/lab"; mkdir -p "$lab"
base=$("$py" -c "import sys; sys.path.insert(0, '$src/tests/e2e'); from test_cmgprobe import free_base; print(free_base())")
bash "$src/tests/lab/cmg-lab.sh" start "$lab" "$base" >/dev/null
entra=$((base + 17)); pport=$("$py" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
printf 'Port %s\nListen 127.0.0.1\nAllow 127.0.0.1\nLogFile "%s/tinyproxy.log"\nLogLevel Connect\n' "$pport" "$work" > "$work/tinyproxy.conf"
tinyproxy -d -c "$work/tinyproxy.conf" >/dev/null 2>&1 & tp=$!
cleanup() {
  kill "$tp" 2>/dev/null || true
  bash "$src/tests/lab/cmg-lab.sh" stop "$lab" >/dev/null 2>&1 || true
  wine reg delete 'HKLM\Software\Microsoft\Windows\CurrentVersion\Internet Settings\Connections' /v WinHttpSettings /f >/dev/null 2>&1 || true
  wine reg delete 'HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client' /f >/dev/null 2>&1 || true
  wine reg delete 'HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings' /v AutoConfigURL /f >/dev/null 2>&1 || true
}
trap cleanup EXIT
# WinHttpSettings: size 0x18, counter, flags 3 (named proxy), length + proxy, length + bypass
proxy="127.0.0.1:$pport"
blob=$("$py" -c "
import struct; p=b'$proxy'; b=struct.pack('<IIII',0x18,0,3,len(p))+p+struct.pack('<I',0)
print(','.join('%02x'%x for x in b))")
cat > "$work/settings.reg" <<REG
REGEDIT4

[HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]
"WinHttpSettings"=hex:$blob

[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client]
"Enabled"=dword:00000000

[HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings]
"AutoConfigURL"="http://pac.lab.test/proxy.pac"
REG
wine reg import "$(winepath -w "$work/settings.reg")" >/dev/null 2>&1
w() { winepath -w "$1"; }
cat > "$work/cmgdiag.json" <<JSON
{"log": {"file": "$(w "$work/cmgdiag.log" | sed 's/\\/\\\\/g')"},
 "checks": {"netenv": {"endpoints": ["https://127.0.0.1:$entra/"], "root_update_urls": ["http://127.0.0.1:$base/aia/root.cer"], "ca_file": "$(w "$lab/pki/root.pem" | sed 's/\\/\\\\/g')",
                       "timeout_ms": 5000}}}
JSON
out=$(wine "$exe" -c "$(w "$work/cmgdiag.json")" check netenv --json) || true
[ -n "$out" ] || out=$(wine "$exe" -c "$(w "$work/cmgdiag.json")" check netenv --json) || true
PROXY=$proxy ENTRA=$entra LOG="$work/tinyproxy.log" "$py" - "$out" <<'PY'
import json, os, sys
r = json.loads(sys.argv[1]); f = r["facts"]; bad = []
def want(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond: bad.append(what)
want(f["proxies"]["winhttp"]["proxy"] == os.environ["PROXY"], "WinHttpGetDefaultProxyConfiguration returns the proxy set in the registry")
want(f["proxies"]["winhttp"]["source"] == "WinHttpGetDefaultProxyConfiguration", "read through the WinHTTP API")
want(f["system_path"] == "winhttp_proxy", "SYSTEM goes out through the WinHTTP proxy")
want(f["tls_policy"]["schannel_tls12_client"]["Enabled"] == 0 and r["code"] == "NETENV_TLS12_DISABLED", "SCHANNEL TLS 1.2 Enabled=0 read from the registry: " + r["code"])
want(any(u.get("pac") == "http://pac.lab.test/proxy.pac" for u in f["proxies"]["users"]), "the signed-in user's PAC URL under HKEY_USERS\\S-1-5-21-...")
e = f["reachability"][0]
want(e["reachable"] and e["proxy_used"]["source"] == "winhttp_default", "the Entra double reached through the WinHTTP proxy: %s" % e.get("error", "ok"))
u = f["root_update"][0]
want(u["reachable"] and u["proxy_used"]["source"] == "winhttp_default", "the root update URL (ctldl's stand-in) reached as SYSTEM would: %s" % u.get("error", "ok"))
log = open(os.environ["LOG"]).read()
want("CONNECT 127.0.0.1:%s" % os.environ["ENTRA"] in log, "tinyproxy saw the CONNECT")
sys.exit(1 if bad else 0)
PY
# exec: a program in an administrators-only folder runs; the same program made writable by
# everyone (chmod 777: wine's DACL then grants Everyone write) is refused and not run.
cp "$helper" "$work/bin/helper.exe"; chmod 755 "$work/bin/helper.exe"
cp "$helper" "$work/ww/helper.exe"; chmod 777 "$work/ww/helper.exe"
hb=$(w "$work/bin/helper.exe" | sed 's/\\/\\\\/g'); hw=$(w "$work/ww/helper.exe" | sed 's/\\/\\\\/g')
cat > "$work/exec.json" <<JSON
{"log": {"file": "$(w "$work/cmgdiag.log" | sed 's/\\/\\\\/g')"},
 "checks": {"exec": {"commands": [
   {"name": "json", "argv": ["$hb", "echo", "{\\"status\\": \\"warn\\", \\"code\\": \\"FLEET_X\\", \\"summary\\": \\"from a fleet script\\"}"]},
   {"name": "exit", "argv": ["$hb", "exit", "3"], "exit_codes": "0=pass,3=warn"},
   {"name": "hang", "argv": ["$hb", "sleep", "30000"], "timeout_ms": 1500},
   {"name": "ww", "argv": ["$hw", "echo", "should not run"]}]}}}
JSON
out=$(wine "$exe" -c "$(w "$work/exec.json")" check exec --json) || true
[ -n "$out" ] || out=$(wine "$exe" -c "$(w "$work/exec.json")" check exec --json) || true
"$py" - "$out" <<'PY'
import json, sys
r = json.loads(sys.argv[1]); c = {x["name"]: x for x in r["facts"]["commands"]}; bad = []
def want(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond: bad.append(what)
want(c["json"]["status"] == "warn" and c["json"].get("code") == "FLEET_X", "a JSON result is the command's result")
want(c["exit"]["status"] == "warn" and c["exit"]["exit_code"] == 3, "exit code 3 maps to warn")
want(c["hang"]["code"] == "EXEC_TIMEOUT" and c["hang"]["duration_ms"] < 5000, "a hanging command is killed at its deadline (%s ms)" % c["hang"].get("duration_ms"))
want(c["ww"]["code"] == "EXEC_REFUSED" and "Everyone" in c["ww"]["summary"] and "stdout" not in c["ww"], "a program Everyone can change is refused: " + c["ww"]["summary"])
want(r["code"] == "EXEC_REFUSED", "the check's verdict names the refusal")
sys.exit(1 if bad else 0)
PY
echo "windows netenv/exec: all passed"
