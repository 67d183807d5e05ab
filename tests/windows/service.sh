#!/usr/bin/env bash
# The Windows service under wine's Service Control Manager: install (registry entries), start
# (RUNNING, cycles in the log), stop (STOPPED within 5 s, "agent stopped"), uninstall; plus
# `run --once` and a second `run` refused while the service holds the instance lock.
#   tests/windows/service.sh CMGDIAG_EXE WORKDIR      (WINEPREFIX set by the caller)
# Also the self-test for a standard user through the service's named pipe (owner, access list, the
# report streamed back).
# Wine stores the service's type, start mode, account, command line and description; it does not
# keep the delayed-start flag or the failure actions (ChangeServiceConfig2 accepts them).
set -u
exe=$1 work=$2
rm -rf "$work" && mkdir -p "$work/share"
win() { winepath -w "$1" 2>/dev/null; }
cfg="$work/cmgdiag.json"
wcfg=$(win "$cfg")
esc() { printf '%s' "$1" | sed 's/\\/\\\\/g'; }
# aadjoin with a dsregcmd stand-in: the service runs it (collect) and its restricted worker parses the
# output (judge); the stand-in reads "fake-mode" beside itself (tests/unit/fake_dsregcmd.c)
mkdir -p "$work/dsreg"
cp "$(dirname "$exe")/tests/fake_dsregcmd.exe" "$work/dsreg/dsregcmd.exe"
printf '%s' "$(win "$(cd "$(dirname "$0")/.." && pwd)/data/aadjoin/01-entra-joined-win11.txt")" > "$work/dsreg/fake-mode"
chmod 700 "$work/dsreg" "$work/dsreg/dsregcmd.exe"
cat > "$cfg" <<JSON
{"spool": {"dir": "$(esc "$(win "$work/spool")")"}, "log": {"file": "$(esc "$(win "$work/cmgdiag.log")")", "level": "debug"},
 "state_dir": "$(esc "$(win "$work/state")")", "outputs": [{"type": "file", "dir": "$(esc "$(win "$work/share")")"}], "interval_s": 1, "jitter_s": 0, "start_delay_s": 0,
 "checks": {"aadjoin": {"dsregcmd_path": "$(esc "$(win "$work/dsreg/dsregcmd.exe")")"}, "mpcandidates": {"enabled": false}, "netenv": {"enabled": false}, "clientlogs": {"enabled": false},
            "cmgprobe": {"enabled": false}, "clientauth": {"enabled": false}}}
JSON
# Wine ends its services (system processes) as soon as no other wine program runs: alone, the service
# died between two of this suite's commands and was started again by the next one. A cmd.exe waiting
# on its input keeps a wine program running for the whole suite, as the other suites did by chance.
mkfifo "$work/keep"
timeout 900 wine cmd.exe < "$work/keep" > /dev/null 2>&1 &
sleep 900 > "$work/keep" &
keep=$!
trap 'kill $keep 2>/dev/null' EXIT
fails=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
c() { timeout 60 wine "$exe" "$@" 2>&1 | tr -d '\r'; return "${PIPESTATUS[0]}"; }
log() { tr -d '\r' < "$work/cmgdiag.log" 2>/dev/null; }

c service uninstall >/dev/null 2>&1
out=$(c -c "$wcfg" service install); rc=$?
[ $rc -eq 0 ] && [[ $out == *"installed the service cmgdiag"* ]] && ok "service install" || no "service install ($rc): $out"
reg=$(timeout 30 wine reg query 'HKLM\SYSTEM\CurrentControlSet\Services\cmgdiag' 2>&1 | tr -d '\r')
[[ $reg == *"ObjectName    REG_SZ    LocalSystem"* ]] && ok "runs as LocalSystem" || no "ObjectName: $reg"
[[ $reg == *"Start    REG_DWORD    0x2"* ]] && ok "automatic start" || no "Start: $reg"
[[ $reg == *"service run"* && $reg == *"$wcfg"* ]] && ok "command line names 'service run' and the config" || no "ImagePath: $reg"
[[ $reg == *"Description    REG_SZ    Checks that this device"* ]] && ok "description" || no "Description: $reg"
ev=$(timeout 30 wine reg query 'HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\cmgdiag' 2>&1 | tr -d '\r')
[[ $ev == *"EventMessageFile    REG_EXPAND_SZ    "*"cmgdiag.exe"* ]] && ok "Event Log source names cmgdiag.exe as its message file" ||
  no "EventMessageFile: $ev"
out=$(c -c "$wcfg" service install); rc=$?
[ $rc -eq 3 ] && [[ $out == *"already installed"* ]] && ok "second install refused" || no "second install ($rc): $out"

out=$(c service start); rc=$?
[ $rc -eq 0 ] && ok "service start" || no "service start ($rc): $out"
st=$(timeout 30 wine sc query cmgdiag 2>&1 | tr -d '\r')
[[ $st == *"RUNNING"* ]] && ok "SCM says RUNNING" || no "sc query: $st"
for _ in $(seq 600); do [ "$(log | grep -c 'cycle [0-9]* ended')" -ge 3 ] && break; sleep 0.1; done
[ "$(log | grep -c 'cycle [0-9]* ended')" -ge 3 ] && ok "three cycles under the SCM" || no "cycles: $(log | tail -5)"
[[ $(log) == *"Windows service"* ]] && ok "log says it runs as the Windows service" || no "log: $(log | head -3)"
# the cycles' network check (content) runs in the worker with a restricted token (docs/security.md);
# what wine makes of that token is pinned in test_mutual_tls.py
[[ $(log) == *"check content starting, as restricted token without privilege"* ]] &&
  ok "the service's cycles start the content check in the restricted worker" ||
  no "no restricted worker in the log: $(log | grep -i 'privilege' | tail -3)"
w=$(python3 - "$work/share" <<'PY'
import glob, gzip, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/**/*.json.gz", recursive=True)):
    b = json.load(gzip.open(f))
    c = {r["check"]: r for r in b["checks"]}
    if "content" in c and b.get("trigger") != "selftest":
        a = c["aadjoin"]
        print(c["content"]["facts"].get("worker", {}).get("user"),
              c["agent"]["facts"]["privilege_separation"].get("account"),
              "|", a["code"], a["facts"].get("source"), a["facts"].get("worker", {}).get("user"),
              a["facts"].get("system_context"))
        break
PY
)
[ "${w% *}" = "restricted token restricted token | AAD_OK dsregcmd restricted token" ] &&
  ok "a cycle's bundle: content ran in the worker, the agent check says so; the service ran dsregcmd (as SYSTEM) and the worker judged its output" ||
  no "a cycle's bundle says: '$w'"
# device is collect + judge too: the service read the disk, power and registry, the worker judged them
d=$(python3 - "$work/share" <<'PY'
import glob, gzip, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/**/*.json.gz", recursive=True)):
    b = json.load(gzip.open(f))
    c = {r["check"]: r for r in b["checks"]}
    if "device" in c and b.get("trigger") != "selftest":
        d = c["device"]["facts"]
        print(d.get("worker", {}).get("user"), [x["name"] for x in d.get("collected", [])][:1],
              d.get("system_free_mb") is not None)
        break
PY
)
[ "$d" = "restricted token ['device.json'] True" ] &&
  ok "a cycle's device check: read by the service, judged by the restricted worker" ||
  no "a cycle's device facts say: '$d'"
# self-test for a standard user: the service serves it over its pipe (wine has no standard user;
# --service asks the service as the automatic fallback of a user who may not read the configuration)
acl=$(timeout 30 wine "$(dirname "$exe")/tests/pipe_acl.exe" 2>&1 | tr -d '\r')
[[ $acl == O:BA* && $acl == *"D:P"* && $acl == *";;;SY)"* && $acl == *";;;BA)"* && $acl == *";;;IU)"* &&
   $acl != *";;;WD)"* && $acl != *";;;AU)"* && $acl != *";;;NU)"* && $acl != *";;;AN)"* ]] &&
  ok "pipe owned by Administrators, open to SYSTEM, Administrators and interactive users only: $acl" ||
  no "pipe access list: $acl"
for _ in 1 2 3; do
  out=$(c selftest --service --ticket INC7 --only agent); rc=$?
  [[ $out == *"running a self-test for someone else"* ]] || break
  sleep 1
done
[ $rc -le 1 ] && [[ $out == *"selftest on"*"for ticket INC7"* && $out == *"agent "*"[AGENT_"* && $out == *"Overall:"* ]] &&
  ok "selftest through the service's pipe returns the report (exit $rc)" || no "selftest --service ($rc): $out"
[[ $out == *"Reference for the helpdesk: "*"(ticket INC7), sent to file "* ]] &&
  ok "the bundle ships as from any self-test: $(grep -o 'Reference for the helpdesk.*' <<<"$out")" ||
  no "no helpdesk reference: $out"
[ -n "$(find "$work/share" -name '*.json.gz' -exec zgrep -l '"ticket":"INC7"' {} + 2>/dev/null)" ] &&
  ok "the bundle with ticket INC7 is in the share" || no "no bundle with ticket INC7 in $work/share"
[[ $out != *$'\x1e'* ]] && ok "no record byte reaches the user" || no "records printed: $out"
[[ $(log) == *"the request was read without privilege, by a worker (relayed through a pipe)"* ]] &&
  ok "the request was parsed by the restricted worker, relayed by the service through a pipe" ||
  no "the request was not read by a worker: $(log | grep served | tail -3)"
# garbage from anyone: refused with the parser's own sentence, which only the worker's parser says
said=$(timeout 60 wine "$(dirname "$exe")/tests/pipe_acl.exe" --send '{"ticket": "INC 42"}' 2>&1 | tr -d '\r')
[[ $said == *"a ticket is 1 to"* ]] && ok "a request with a bad ticket is refused with the worker parser's sentence" ||
  no "bad ticket: $said"
[ "$(log | grep -c 'the request was read without privilege, by a worker (relayed through a pipe)')" -ge 2 ] &&
  ok "that request was parsed by the worker too" || no "the bad request was not read by a worker: $(log | grep served | tail -3)"
[[ $(log) == *"self-test for ticket INC7 asked by process"* ]] && ok "the service logs who asked" ||
  no "log: $(log | grep served | tail -3)"
out=$(c -c "$wcfg" run --once); rc=$?
[ $rc -eq 3 ] && [[ $out == *"another cmgdiag agent is running"* ]] && ok "run refused while the service runs" || no "second instance ($rc): $out"

t0=$(date +%s%N)
out=$(c service stop); rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc -eq 0 ] && [ $ms -lt 5000 ] && ok "service stop in $ms ms" || no "service stop ($rc, $ms ms): $out"
for _ in $(seq 30); do
  st=$(timeout 30 wine sc query cmgdiag 2>&1 | tr -d '\r')
  [[ $st == *"STOPPED"* ]] && break
  sleep 0.5
done
[[ $st == *"STOPPED"* ]] && ok "SCM says STOPPED" || no "sc query: $st"
[[ $(log) == *"agent stopped"* ]] && ok "stopped cleanly (log)" || no "log: $(log | tail -3)"
# the process ends a moment after it reported STOPPED; its instance lock goes with it
for _ in $(seq 30); do
  out=$(c -c "$wcfg" run --once); rc=$?
  [[ $out == *"another cmgdiag agent is running"* ]] || break
  sleep 0.5
done
[ $rc -eq 0 ] && ok "run --once after the service stopped" || no "run --once ($rc): $out"

out=$(c service uninstall); rc=$?
[ $rc -eq 0 ] && ok "service uninstall" || no "service uninstall ($rc): $out"
out=$(c service start); rc=$?
[ $rc -eq 3 ] && [[ $out == *"not installed"* ]] && ok "start after uninstall says not installed" || no "start ($rc): $out"
[ -d "$work/spool" ] && ok "spool kept after uninstall" || no "spool gone"
echo "service: $fails failed"
[ $fails -eq 0 ]
