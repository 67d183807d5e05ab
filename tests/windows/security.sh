#!/usr/bin/env bash
# The security findings as far as wine can show them (tests/security/test_security.py is the full
# suite on Linux). Wine derives a file's DACL from its Unix mode and keeps no owner other than the
# wine user: "Everyone may write" is a 0777 folder here, and an owner set to a standard user is not
# kept (SetNamedSecurityInfo succeeds, the owner stays), so owner take-over is shown on Linux only.
# A Unix symbolic link to a folder is what wine reports as a reparse point (0x410), our junction.
#   tests/windows/security.sh CMGDIAG_EXE CHILD_HELPER_EXE MSI_DIR WORKDIR   (WINEPREFIX set by the caller)
set -u
exe=$1 helper=$2 msidir=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
fails=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
win() { winepath -w "$1" 2>/dev/null; }
esc() { printf '%s' "$1" | sed 's/\\/\\\\/g'; }
c() { timeout 120 wine "$exe" "$@" 2>&1 | tr -d '\r'; return "${PIPESTATUS[0]}"; }
h() { timeout 60 wine "$helper" "$@" 2>&1 | tr -d '\r'; }
base_cfg() { # FILE EXTRA_CHECKS_JSON
  cat > "$1" <<JSON
{"spool": {"dir": "$(esc "$(win "$work/spool")")"}, "log": {"file": "$(esc "$(win "$work/logs/cmgdiag.log")")"},
 "state_dir": "$(esc "$(win "$work/state")")",
 "checks": {"aadjoin": {"enabled": false}, "mpcandidates": {"enabled": false}, "netenv": {"enabled": false},
            "clientlogs": {"enabled": false}, "cmgprobe": {"enabled": false}$2}}
JSON
}
marker="$work/pwned"
touch_cmd=",\"exec\": {\"commands\": [{\"name\": \"t\", \"argv\": [\"C:\\\\windows\\\\system32\\\\cmd.exe\", \"/c\", \"echo x > $(esc "$(win "$marker")")\"]}]}"

# 1. A folder anyone may write, pre-created before setup, with a planted configuration: setup
#    restricts it (protected DACL: SYSTEM and Administrators) and sets the planted file aside.
pd="$work/programdata"
mkdir -p "$pd" && chmod 0777 "$pd"
base_cfg "$pd/cmgdiag.json" "$touch_cmd"
chmod 0666 "$pd/cmgdiag.json"
before=$(h sd-get "$(win "$pd")")
[[ $before == *"(A;OICI;0x1301ff;;;WD)"* ]] && ok "pre-created folder: Everyone may change it ($before)" || no "setup of the test: $before"
out=$(c -c "$(win "$pd/cmgdiag.json")" setup); rc=$?
after=$(h sd-get "$(win "$pd")")
# Wine keeps read access for Everyone (the Unix "other" bits it maps the DACL to); write is gone.
[ $rc -eq 0 ] && [[ $after != *"0x1301ff;;;WD)"* && $after != *"FA;;;WD)"* ]] &&
  ok "setup took write access away from Everyone: $after" || no "setup ($rc): $out / $after"
ls "$pd" | grep -q '^cmgdiag.json.untrusted-' && ! grep -q commands "$pd/cmgdiag.json" &&
  ok "the planted configuration was set aside" || no "planted config: $(ls "$pd") $out"

# 2. A junction (reparse point) planted as a subfolder: setup refuses, and so does the spool.
pd2="$work/programdata2"
mkdir -p "$pd2" "$work/elsewhere"
ln -s "$work/elsewhere" "$pd2/spool"
[ "$(h attrs "$(win "$pd2/spool")")" = "0x410" ] && ok "wine reports the link as a reparse point" || no "attrs: $(h attrs "$(win "$pd2/spool")")"
out=$(c -c "$(win "$pd2/cmgdiag.json")" setup); rc=$?
[ $rc -ne 0 ] && [[ $out == *"junction or link"* ]] && ok "setup refuses a reparse point below its folder" || no "setup with a junction ($rc): $out"
cfg="$work/cfg-junction/cmgdiag.json"
mkdir -p "$work/cfg-junction" "$work/target"
base_cfg "$cfg" ""
rm -rf "$work/spool" && ln -s "$work/target" "$work/spool"
out=$(c -c "$(win "$cfg")" check agent --json)
[[ $out == *AGENT_SPOOL_NOT_WRITABLE* && $out == *"junction or link"* ]] && ok "a spool folder that is a reparse point is refused" || no "spool junction: $out"
c -c "$(win "$cfg")" selftest >/dev/null
[ -z "$(ls "$work/target")" ] && ok "nothing was written through the junction" || no "written through: $(ls "$work/target")"
rm -f "$work/spool"

# 3. A configuration Everyone may change: no admin-defined command runs from it.
cfg="$work/cfg-open/cmgdiag.json"
mkdir -p "$work/cfg-open"
base_cfg "$cfg" "$touch_cmd"
chmod 0666 "$cfg"
out=$(c -c "$(win "$cfg")" check agent --json)
[[ $out == *AGENT_CONFIG_INSECURE* ]] && ok "AGENT_CONFIG_INSECURE for a configuration Everyone may change" || no "agent: $out"
out=$(c -c "$(win "$cfg")" check exec --json)
[[ $out == *EXEC_CONFIG_INSECURE* ]] && [ ! -e "$marker" ] && ok "its command was not run" || no "exec: $out"
chmod 0644 "$cfg"
out=$(c -c "$(win "$cfg")" check exec --json)
[[ $out == *'"status":	"pass"'* || $out == *'"status":"pass"'* ]] && [ -e "$marker" ] &&
  ok "the same command runs from an administrators-only configuration" || no "exec from a private config: $out"

# 4. The child's environment: the system's variables, not the agent's.
cfg="$work/cfg-env/cmgdiag.json"
mkdir -p "$work/cfg-env"
base_cfg "$cfg" ",\"exec\": {\"commands\": [{\"name\": \"env\", \"argv\": [\"C:\\\\windows\\\\system32\\\\cmd.exe\", \"/c\", \"set\"]}]}"
out=$(CMGDIAG_PROBE_VAR=leaked MY_SECRET_TOKEN=hunter2 timeout 120 wine "$exe" -c "$(win "$cfg")" check exec --json 2>&1 | tr -d '\r')
[[ $out == *SystemRoot=* && $out != *CMGDIAG_PROBE_VAR* && $out != *hunter2* ]] &&
  ok "exec children get the system's variables only" || no "environment: $(echo "$out" | head -c 600)"

# 5. The MSI: the SAS reaches the configuration through the custom action's standard input.
if [ -f "$msidir/cmgdiag.msi" ]; then
  sas='https://acct.blob.core.windows.net/c?sv=2022-11-02&sp=cw&se=2099-01-01&sig=MSISECRETSIG'
  pdata=$(winepath -u 'C:\ProgramData' 2>/dev/null)
  rm -rf "$pdata/cmgdiag"
  (cd "$msidir" && timeout 300 wine msiexec /i cmgdiag.msi /qn "SAS_URL=$sas" "CMG_URL=https://cmg.contoso.com" /l*v "$work/msi.log" >/dev/null 2>&1)
  grep -q 'sig=MSISECRETSIG' "$pdata/cmgdiag/cmgdiag.json" 2>/dev/null && ok "msiexec: setup wrote the SAS from the custom action's data" ||
    no "msiexec: no SAS in $pdata/cmgdiag ($(ls "$pdata/cmgdiag" 2>&1))"
  grep -a -q 'cmgdiag: setup completed' "$work/msi.log" && ok "msiexec: the custom action ran setup" || no "msiexec log: $(grep -a -i cmgdiag "$work/msi.log" | head -3)"
  ! grep -a -q -- '--sas-url ' "$work/msi.log" && ok "msiexec: no command line with the SAS in the log" || no "a --sas-url command line in the MSI log"
  envkey='HKLM\System\CurrentControlSet\Control\Session Manager\Environment'
  timeout 60 wine reg query "$envkey" /v PATH 2>/dev/null | tr -d '\r' | grep -qi 'cmgdiag' &&
    ok "msiexec: the install folder is on the system PATH" || no "PATH: $(timeout 60 wine reg query "$envkey" /v PATH 2>&1 | tr -d '\r' | tail -2)"
  grep -a -q 'warning: SAS_URL on an install line is stored' "$work/msi.log" &&
    ok "msiexec: SAS_URL on the install line is warned about in the MSI log" || no "no SAS_URL warning in the MSI log"
  # wine's msi writes every property at the end of a verbose log; Windows Installer leaves out
  # those named in MsiHiddenProperties (SAS_URL;Setup), which packaging.sh checks in the tables.
  timeout 300 wine msiexec /x "$msidir/cmgdiag.msi" /qn >/dev/null 2>&1
  rm -rf "$pdata/cmgdiag"
  # SAS_URL_FILE: a file beside the MSI (saved as UTF-16 by Notepad or PowerShell 5.1), read by setup
  # where it is; the install line names the file only
  printf '%s\r\n' "${sas/MSISECRETSIG/FILESECRETSIG}" | iconv -f UTF-8 -t UTF-16 > "$msidir/sas.txt"
  (cd "$msidir" && timeout 300 wine msiexec /i cmgdiag.msi /qn "SAS_URL_FILE=sas.txt" \
    "CMG_URL=https://cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927939" /l*v "$work/msi-file.log" >/dev/null 2>&1)
  grep -q 'sig=FILESECRETSIG' "$pdata/cmgdiag/cmgdiag.json" 2>/dev/null &&
    ok "msiexec SAS_URL_FILE=sas.txt: setup read the SAS from the file beside the MSI" ||
    no "SAS_URL_FILE: no SAS in $pdata/cmgdiag ($(grep -a -i 'cmgdiag' "$work/msi-file.log" | head -3))"
  ! grep -a -q 'FILESECRETSIG' "$work/msi-file.log" && ok "SAS_URL_FILE: the SAS is nowhere in the MSI log" ||
    no "the SAS from the file is in the MSI log"
  [ -f "$msidir/sas.txt" ] && [ -z "$(find "$pdata/cmgdiag" -name 'sas.txt' 2>/dev/null)" ] &&
    ok "SAS_URL_FILE: the file stays where it is, and is copied nowhere" || no "sas.txt moved or copied"
  rm -f "$msidir/sas.txt"
  timeout 300 wine msiexec /x "$msidir/cmgdiag.msi" /qn >/dev/null 2>&1
  ! timeout 60 wine reg query "$envkey" /v PATH 2>/dev/null | tr -d '\r' | grep -qi 'cmgdiag' &&
    ok "msiexec /x: the install folder has left the PATH" || no "PATH after uninstall still names cmgdiag"
  rm -rf "$pdata/cmgdiag"
else
  no "no cmgdiag.msi in $msidir (packaging.sh builds it first)"
fi

echo "windows security: $fails failed"
[ $fails -eq 0 ]
