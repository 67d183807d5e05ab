#!/usr/bin/env bash
# The last result under wine's registry: each cycle replaces HKLM\SOFTWARE\cmgdiag\LastResult
# (overall, time, bundle id, root cause, one value per check), where CMPivot, hardware inventory and
# a Configuration Baseline read it; a check that no longer ran leaves no value behind; a partial run
# (--only) changes nothing there.
#   tests/windows/lastresult.sh CMGDIAG_EXE WORKDIR    (WINEPREFIX set by the caller)
set -u
exe=$(readlink -f "$1") work=$2
rm -rf "$work" && mkdir -p "$work"
fails=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
win() { winepath -w "$1" 2>/dev/null | sed 's/\\/\\\\/g'; }
KEY='HKLM\SOFTWARE\cmgdiag\LastResult'
trap 'timeout 60 wine reg delete "HKLM\SOFTWARE\cmgdiag" /f >/dev/null 2>&1' EXIT
cat > "$work/cfg.json" <<JSON
{"spool": {"dir": "$(win "$work/spool")"}, "log": {"file": "$(win "$work/l.log")"},
 "state_dir": "$(win "$work/state")",
 "checks": {"device": {"min_free_gb": 0}, "aadjoin": {"enabled": false}, "mpcandidates": {"enabled": false},
            "clientlogs": {"enabled": false}, "cmgprobe": {"enabled": false}, "netenv": {"enabled": false},
            "content": {"enabled": false}, "clientauth": {"enabled": false}}}
JSON
query() { timeout 60 wine reg query "$KEY" 2>/dev/null | tr -d '\r'; }
value() { query | awk -v n="$1" '$1 == n { $1 = ""; $2 = ""; sub(/^ +/, ""); print }'; }
timeout 180 wine "$exe" -c "$(winepath -w "$work/cfg.json")" selftest --no-upload >"$work/out1.txt" 2>&1
[ "$(value Overall)" = pass ] || [ "$(value Overall)" = warn ] || [ "$(value Overall)" = fail ] &&
  ok "Overall written ($(value Overall))" || no "Overall: $(query)"
value BundleId | grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-' && ok "BundleId is the bundle's id" || no "BundleId: $(query)"
value Time | grep -Eq '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' && ok "Time is the bundle's created_at" || no "Time: $(query)"
value Check_agent | grep -Eq '^(pass|warn|fail) AGENT_' && ok "one value per check: Check_agent = $(value Check_agent)" ||
  no "Check_agent: $(query)"
[ -n "$(value Check_device)" ] && ok "Check_device = $(value Check_device)" || no "Check_device: $(query)"
[ "$(value Trigger)" = selftest ] && ok "Trigger selftest" || no "Trigger: $(query)"
first=$(value BundleId)
# a partial run (--only) is not the device's state: it leaves the last result as it was
timeout 180 wine "$exe" -c "$(winepath -w "$work/cfg.json")" selftest --no-upload --only agent >"$work/out2.txt" 2>&1
[ "$(value BundleId)" = "$first" ] && [ -n "$(value Check_device)" ] && ok "a partial run (--only) leaves it as it was" ||
  no "changed by --only: $(query)"
[ -n "$(value Readiness)" ] && ok "Readiness written ($(value Readiness))" || no "Readiness: $(query)"
# the next full cycle replaces it; a check turned off since leaves no value behind
sed 's/"device": {"min_free_gb": 0}/"device": {"enabled": false}/' "$work/cfg.json" > "$work/cfg2.json"
timeout 180 wine "$exe" -c "$(winepath -w "$work/cfg2.json")" selftest --no-upload >"$work/out3.txt" 2>&1
[ "$(value BundleId)" != "$first" ] && ok "the next cycle replaces it" || no "not replaced: $(query)"
[ -z "$(value Check_device)" ] && ok "a check that did not run leaves no value behind" || no "stale Check_device: $(query)"
exit $((fails > 0))
