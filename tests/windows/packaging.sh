#!/usr/bin/env bash
# The Windows packaging: cmgdiag.msi built with wixl and checked table by table (msiinfo, msiextract),
# the Group Policy template against what the agent reads, and the policy override under wine's
# registry (HKLM\SOFTWARE\Policies\cmgdiag wins over cmgdiag.json).
#   tests/windows/packaging.sh CMGDIAG_EXE WORKDIR      (WINEPREFIX set by the caller)
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
exe=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
fails=0
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
for t in wixl msiinfo msiextract; do
  command -v $t >/dev/null || { echo "SKIP: $t is not installed (tests/install-deps.sh all)"; exit 77; }
done
bash "$src/packaging/windows/build-msi.sh" "$exe" "$work" >/dev/null 2>"$work/wixl.log" && [ -f "$work/cmgdiag.msi" ] &&
  ok "wixl built cmgdiag.msi ($(stat -c %s "$work/cmgdiag.msi") bytes)" || { no "wixl: $(tail -3 "$work/wixl.log")"; exit 1; }
msi="$work/cmgdiag.msi"
# in the work folder: exporting a table with streams (Binary) writes them to ./Binary/
t() { (cd "$work" && msiinfo export "$msi" "$1" 2>/dev/null | tr -d '\r' | tail -n +4); }
version=$(sed -n 's/^project(cmgdiag VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
[ "$(t Property | awk -F'\t' '$1=="ProductVersion"{print $2}')" = "$version" ] && ok "ProductVersion $version" || no "ProductVersion: $(t Property | grep ProductVersion)"
[ "$(t Property | awk -F'\t' '$1=="MsiHiddenProperties"{print $2}')" = "SAS_URL;Setup" ] &&
  ok "SAS_URL and the Setup action's data hidden from the MSI log" || no "MsiHiddenProperties"
msiinfo suminfo "$msi" | grep -q "Template: x64;1033" && ok "x64 package" || no "template: $(msiinfo suminfo "$msi" | grep Template)"
t File | grep -q $'^cmgdiag.exe\tAgent\tcmgdiag.exe\t' && ok "File table: cmgdiag.exe" || no "File: $(t File)"
t Directory | grep -q $'^INSTALLDIR\tProgramFiles64Folder\tcmgdiag' && ok "installs under Program Files\\cmgdiag" || no "Directory: $(t Directory)"
env=$(t Environment)
seq=$(t InstallExecuteSequence)
[ "$env" = "$(printf 'Path\t=-*PATH\t[~];[INSTALLDIR]\tAgent')" ] && echo "$seq" | grep -q "^WriteEnvironmentStrings" &&
  echo "$seq" | grep -q "^RemoveEnvironmentStrings" &&
  ok "Environment: the install folder joins the system PATH, and leaves it at uninstall" || no "Environment: $env"
svc=$(t ServiceInstall)
# Name DisplayName ServiceType StartType ErrorControl LoadOrderGroup Dependencies StartName Password Arguments Component_
echo "$svc" | awk -F'\t' '$2=="cmgdiag" && $4==16 && $5==2 && $9=="LocalSystem" && $11=="service run" && $12=="Agent" {f=1} END {exit !f}' &&
  ok "ServiceInstall: cmgdiag, own process, automatic, LocalSystem, 'service run'" || no "ServiceInstall: $svc"
sc=$(t ServiceControl)
# Name Event Arguments Wait Component_: start on install (1), stop on install+uninstall (2|32), delete on uninstall (128)
echo "$sc" | awk -F'\t' '$2=="cmgdiag" && $3==163 && $5==1 {f=1} END {exit !f}' &&
  ok "ServiceControl: started on install, stopped and removed on uninstall" || no "ServiceControl: $sc"
ca=$(t CustomAction)
# Setup: 1 (DLL from the Binary table) + 0x400 deferred + 0x800 no impersonation (SYSTEM) + 0x2000 HideTarget;
# SetupData: 51 (set the Setup property, its CustomActionData) + 0x2000. No SAS on any command line.
echo "$ca" | grep -q $'^Setup\t11265\tSetupCa\tCmgdiagSetup' &&
  ok "custom action Setup: DLL, deferred, as SYSTEM, target hidden" || no "CustomAction Setup: $ca"
echo "$ca" | grep -q $'^SetupData\t8243\tSetup\t\[#cmgdiag.exe\]' && echo "$ca" | grep -q '\[SAS_URL_FILE\]' && echo "$ca" | grep -q '\[OriginalDatabase\]' &&
  ok "custom action SetupData: hands exe path, CMG_URL, SAS_URL, SAS_URL_FILE and the MSI's path as hidden CustomActionData" || no "CustomAction SetupData: $ca"
! echo "$ca" | grep -q -- '--sas-url' && ok "no command line carries the SAS" || no "a command line names the SAS: $ca"
t Binary | grep -q '^SetupCa' && ok "Binary table: the custom action DLL" || no "Binary: $(t Binary)"
echo "$ca" | grep -q $'^Purge\t3154\tcmgdiag.exe\tsetup --purge' && ok "custom action Purge" || no "CustomAction: $ca"
seq=$(t InstallExecuteSequence)
n() { echo "$seq" | awk -F'\t' -v a="$1" '$1==a {print $3}'; }
echo "$seq" | grep -q $'^Purge\tREMOVE="ALL" AND PURGE="1"\t' && ok "Purge only with PURGE=1 on uninstall" || no "Purge condition"
[ "$(n InstallInitialize)" -lt "$(n SetupData)" ] && [ "$(n SetupData)" -lt "$(n Setup)" ] && [ "$(n InstallServices)" -lt "$(n Setup)" ] && [ "$(n Setup)" -lt "$(n StartServices)" ] &&
  ok "Setup runs after InstallServices and before StartServices" || no "sequence: $(n InstallServices) $(n Setup) $(n StartServices)"
t Upgrade | grep -q "{6F0C2B4E-7A51-4C3E-9D8B-2A61E5C4B0F7}" && ok "major upgrade by UpgradeCode" || no "Upgrade: $(t Upgrade)"
(cd "$work" && msiextract -C extract "$msi" >/dev/null 2>&1)
x=$(find "$work/extract" -name cmgdiag.exe | head -1)
[ -n "$x" ] && cmp -s "$x" "$exe" && ok "msiextract: the packaged cmgdiag.exe is the built one" || no "msiextract: $x"

# The Group Policy template: well-formed, and names exactly the values the agent reads.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" - "$src/packaging/windows/policy" "$src" <<'PY' && ok "ADMX/ADML: every policy value is read by the agent, every string is defined" || no "ADMX/ADML"
import glob, re, sys, xml.etree.ElementTree as ET
d, src = sys.argv[1], sys.argv[2]
ns = {"p": "http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions"}
admx = ET.parse(d + "/cmgdiag.admx").getroot()
adml = ET.parse(d + "/en-US/cmgdiag.adml").getroot()
values = {e.get("valueName") for e in admx.iter() if e.get("valueName")}
# the core's own values (policy.c) and those the plugins declare (struct cg_policy_value tables)
core = open(src + "/agent/core/policy.c").read()
read = set(re.search(r'core_names\[\] = \{([^}]*)\}', core).group(1).replace('"', '').replace(' ', '').split(','))
for f in glob.glob(src + "/plugins/*/*/*.c"):
    t = open(f).read()
    for table in re.findall(r'struct cg_policy_value \w+\[\] = \{(.*?)\{NULL, NULL\}\};', t, re.S):
        read |= set(re.findall(r'\{"([A-Za-z]+)", "[a-z_]+"\}', table))
strings = {s.get("id") for s in adml.iter("{%s}string" % ns["p"])}
pres = {s.get("id") for s in adml.iter("{%s}presentation" % ns["p"])}
used = set(re.findall(r'\$\(string\.([^)]+)\)', open(d + "/cmgdiag.admx").read()))
usedp = set(re.findall(r'\$\(presentation\.([^)]+)\)', open(d + "/cmgdiag.admx").read()))
keys = {p.get("key") for p in admx.iter("{%s}policy" % ns["p"])}
# every policy says what the agent needs: Windows 10 / Server 2016 or later (Windows.admx's definition)
supported = {s.get("ref") for s in admx.iter("{%s}supportedOn" % ns["p"])}
ok = supported == {"windows:SUPPORTED_Windows_10_0"} and values == read and used <= strings and usedp <= pres and keys == {r"SOFTWARE\Policies\cmgdiag"}
if not ok:
    print("supportedOn", supported, "values", sorted(values), "read", sorted(read), "missing strings", used - strings, "missing presentations", usedp - pres, keys)
sys.exit(0 if ok else 1)
PY

# Policy override under wine's registry
cfg="$work/cmgdiag.json"
printf '{"interval_s": 3600, "log": {"file": "%s"}, "spool": {"dir": "%s"}}\n' \
  "$(winepath -w "$work/l.log" | sed 's/\\/\\\\/g')" "$(winepath -w "$work/spool" | sed 's/\\/\\\\/g')" > "$cfg"
wcfg=$(winepath -w "$cfg")
reg() { timeout 60 wine reg "$@" >/dev/null 2>&1; }
K='HKLM\SOFTWARE\Policies\cmgdiag'
reg delete "$K" /f
reg add "$K" /v IntervalSeconds /t REG_DWORD /d 120 /f
reg add "$K" /v CmgUrl /t REG_SZ /d 'https://cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927939' /f
reg add "$K" /v SasUrl /t REG_SZ /d 'https://acct.blob.core.windows.net/bundles?sv=2022-11-02&sp=cw&sig=POLICYSECRET' /f
reg add "$K" /v ConfigJson /t REG_SZ /d '{"jitter_s": 5, "checks": {"cmgprobe": {"crl_unreachable_fails": false}}}' /f
out=$(timeout 60 wine "$exe" -c "$wcfg" config check 2>&1 | tr -d '\r')
[[ $out == *"Group Policy (HKLM\\SOFTWARE\\Policies\\cmgdiag) overrides: ConfigJson, IntervalSeconds, CmgUrl, SasUrl"* ]] &&
  ok "config check names the policy values in effect" || no "config check: $(echo "$out" | head -3)"
[[ $out == *'"interval_s":	120'* && $out == *'"jitter_s":	5'* && $out == *'"crl_unreachable_fails":	false'* ]] &&
  ok "policy wins over the file (interval 120, ConfigJson merged)" || no "values: $out"
[[ $out == *'"url":	"https://cmg.contoso.com/CCM_Proxy_MutualAuth/72057594037927939"'* && $out == *'"type":	"azblob"'* ]] &&
  ok "CmgUrl and SasUrl applied" || no "urls: $out"
[[ $out != *POLICYSECRET* ]] && ok "the policy's SAS signature is redacted" || no "secret shown"
reg add "$K" /v IntervalSeconds /t REG_SZ /d 'often' /f
timeout 60 wine "$exe" -c "$wcfg" config check > "$work/out" 2>&1; rc=$?
out=$(tr -d '\r' < "$work/out")
[ $rc -eq 3 ] && [[ $out == *'policy HKLM\SOFTWARE\Policies\cmgdiag\IntervalSeconds has the wrong type (want REG_DWORD)'* ]] &&
  ok "a wrong policy type is an error naming the value" || no "wrong type ($rc): $out"
reg delete "$K" /f
out=$(timeout 60 wine "$exe" -c "$wcfg" config check 2>&1 | tr -d '\r')
[[ $out != *"Group Policy"* && $out == *'"interval_s":	3600'* ]] && ok "without policy the file rules" || no "no policy: $out"
echo "packaging: $fails failed"
[ $fails -eq 0 ]
