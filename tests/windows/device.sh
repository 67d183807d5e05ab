#!/usr/bin/env bash
# The device check live under wine: the restart sources and the client's provisioning mode written
# to wine's registry come back, the client version is read, a missing CcmExec service is unknown
# (null) rather than "stopped", and the system volume's free space and the power state are read
# through the Win32 API. Wine reports mains power and no battery; it has no WMI classes of the
# ConfigMgr client, so the cache size and the policy age stay null, as they would without a client.
#   tests/windows/device.sh CMGDIAG_EXE WORKDIR    (WINEPREFIX set by the caller)
set -u
exe=$(readlink -f "$1") work=$2
rm -rf "$work" && mkdir -p "$work"
fails=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
win() { winepath -w "$1" 2>/dev/null; }
reg() { timeout 60 wine reg "$@" >/dev/null 2>&1; }
CBS='HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
MOB='HKLM\SOFTWARE\Microsoft\SMS\Mobile Client'
EXEC='HKLM\SOFTWARE\Microsoft\CCM\CcmExec'
cleanup() { reg delete "$CBS" /f; reg delete "$MOB" /f; reg delete "$EXEC" /f; }
trap cleanup EXIT
cleanup
cat > "$work/cfg.json" <<JSON
{"spool": {"dir": "$(win "$work/spool" | sed 's/\\/\\\\/g')"}, "log": {"file": "$(win "$work/l.log" | sed 's/\\/\\\\/g')"},
 "state_dir": "$(win "$work/state" | sed 's/\\/\\\\/g')", "checks": {"device": {"min_free_gb": 0}}}
JSON
chk() { timeout 120 wine "$exe" -c "$(win "$work/cfg.json")" check device --json 2>/dev/null | tr -d '\r'; }
field() { python3 -c 'import json,sys; r=json.load(sys.stdin); v=r
for k in sys.argv[1].split("."): v=v[k]
print(json.dumps(v))' "$1"; }
out=$(chk)
[ "$(echo "$out" | field facts.reboot_pending)" = "false" ] && ok "no restart source: reboot_pending false" || no "clean: $out"
[ "$(echo "$out" | field facts.ccmexec_running)" = "null" ] && ok "no CcmExec service: unknown, not stopped" || no "ccmexec: $out"
[ "$(echo "$out" | field facts.system_free_mb)" != "null" ] && ok "free space of the system volume read" || no "disk: $out"
echo "$out" | field facts.on_ac | grep -qv null && ok "power state read (on_ac $(echo "$out" | field facts.on_ac))" || no "power: $out"
reg add "$CBS" /v Pending /t REG_DWORD /d 1 /f
reg add "$MOB" /v ProductVersion /t REG_SZ /d 5.00.9132.1011 /f
reg add "$EXEC" /v ProvisioningMode /t REG_SZ /d true /f
out=$(chk)
[ "$(echo "$out" | field facts.reboot_pending)" = "true" ] && echo "$out" | field facts.reboot_sources | grep -q "component servicing" &&
  ok "CBS RebootPending in wine's registry: a restart is pending" || no "cbs: $out"
[ "$(echo "$out" | field facts.provisioning_mode)" = "true" ] && ok "ProvisioningMode true read" || no "provisioning: $out"
[ "$(echo "$out" | field facts.client_version)" = '"5.00.9132.1011"' ] && ok "client version read" || no "version: $out"
# provisioning mode is the CMG verdict; the pending restart is readiness for an upgrade
[ "$(echo "$out" | field code)" = '"DEVICE_PROVISIONING_MODE"' ] && ok "verdict DEVICE_PROVISIONING_MODE" || no "code: $out"
[ "$(echo "$out" | field facts.readiness.code)" = '"DEVICE_REBOOT_PENDING"' ] && ok "readiness DEVICE_REBOOT_PENDING" ||
  no "readiness: $out"
echo "windows device: $fails failed"
[ $fails -eq 0 ]
