#!/usr/bin/env bash
# cmgdiag's events under wine: a verdict that changes is reported with ReportEventW under the ID the
# message file declares (severity in the top bits, the event type to match), and that ID's text in
# cmgdiag.exe's message table, formatted with the event's insertions as Event Viewer does, reads as
# documented. Wine keeps no event log: its ReportEventW prints the call (ID, type) and the strings,
# which is what is read here.
#   tests/windows/events.sh CMGDIAG_EXE EVENT_MESSAGE_EXE WORKDIR    (WINEPREFIX set by the caller)
set -u
exe=$(readlink -f "$1") msg=$(readlink -f "$2") work=$3
rm -rf "$work" && mkdir -p "$work"
fails=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
win() { winepath -w "$1" 2>/dev/null | sed 's/\\/\\\\/g'; }
config() { # MIN_FREE_MB
  cat > "$work/cfg.json" <<JSON
{"spool": {"dir": "$(win "$work/spool")"}, "log": {"file": "$(win "$work/l.log")"}, "state_dir": "$(win "$work/state")",
 "checks": {"agent": {"min_free_mb": $1}, "device": {"enabled": false}, "aadjoin": {"enabled": false},
            "mpcandidates": {"enabled": false}, "clientlogs": {"enabled": false}, "cmgprobe": {"enabled": false},
            "netenv": {"enabled": false}, "content": {"enabled": false}, "clientauth": {"enabled": false},
            "exec": {"enabled": false}}}
JSON
}
# the ReportEventW calls of one selftest: "TYPE ID|string|string..." per event
events() {
  WINEDEBUG=fixme+advapi,warn+eventlog,err+eventlog,trace+eventlog timeout 180 \
    wine "$exe" -c "$(winepath -w "$work/cfg.json")" selftest --no-upload 2>&1 >/dev/null | tr -d '\r' |
    python3 -c '
import re, sys
ev = None
for line in sys.stdin:
    m = re.search(r"ReportEventW \([0-9A-Fa-f]+,0x([0-9a-f]{4}),0x[0-9a-f]{4},0x([0-9a-f]{8}),", line)
    if m:
        if ev: print("|".join(ev))
        ev = [m.group(1) + " " + m.group(2)]
        continue
    m = re.search(r":eventlog:ReportEventW L\"(.*)\"$", line)
    if m and ev is not None:
        ev.append(m.group(1).encode().decode("unicode_escape"))
if ev: print("|".join(ev))'
}
config 0
first=$(events)
[ -z "$first" ] && ok "a first result that passes reports no event" || no "events on a passing first result: $first"
config 1048576 # 1 TB: the agent check warns
second=$(events)
check=$(grep '^0002 800000c9|agent|warn|pass AGENT_OK|AGENT_LOW_DISK|' <<<"$second")
[ -n "$check" ] && ok "check agent warns: event 201 (0x800000C9), type warning, with check, verdicts, code, summary" ||
  no "no event 201: $second"
device=$(grep '^0002 80000065|warn|pass|agent warn (AGENT_LOW_DISK)|' <<<"$second")
[ -n "$device" ] && ok "the device warns: event 101 (0x80000065), type warning" || no "no event 101: $second"
[ "$(wc -l <<<"$second")" -eq 2 ] && ok "two events, no more" || no "events: $second"
# what Event Viewer shows: the message file's text with these insertions
if [ -n "$check" ]; then
  IFS='|' read -r -a f <<<"$check"
  text=$(timeout 60 wine "$msg" "$exe" "0x${f[0]#* }" "${f[@]:1}" 2>/dev/null | tr -d '\r')
  [[ $text == "cmgdiag check agent now warns (was pass AGENT_OK): Only "*" "[GM]"B are free on the volume"*"[AGENT_LOW_DISK]" ]] &&
    ok "message 201 from cmgdiag.exe: $text" || no "message 201: $text"
fi
if [ -n "$device" ]; then
  IFS='|' read -r -a f <<<"$device"
  text=$(timeout 60 wine "$msg" "$exe" "0x${f[0]#* }" "${f[@]:1}" 2>/dev/null | tr -d '\r')
  [[ $text == "cmgdiag found warnings on this device (now warn, was pass)."*"Why: agent warn (AGENT_LOW_DISK)"*"First step: "*"Bundle "* ]] &&
    ok "message 101 from cmgdiag.exe: $(tr '\n' ' ' <<<"$text")" || no "message 101: $text"
fi
third=$(events)
[ -z "$third" ] && ok "the same verdict again reports nothing" || no "repeated events: $third"
# every documented ID is in the message table with its severity (docs/operations.md, "Events")
for id in 40000001 80000002 C0000003 40000064 80000065 C0000066 4000006E 8000006F 80000070 400000C8 800000C9 C00000CA 800000CB 400000CC; do
  text=$(timeout 60 wine "$msg" "$exe" "0x$id" a b c d e 2>/dev/null | tr -d '\r')
  [[ -n $text && $text != FAIL* ]] || no "message 0x$id: $text"
done
[ $fails -eq 0 ] && ok "all 14 documented IDs have their message"
exit $((fails > 0))
