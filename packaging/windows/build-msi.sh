#!/usr/bin/env bash
# Builds cmgdiag.msi with wixl from a cross-built cmgdiag.exe.
#   packaging/windows/build-msi.sh CMGDIAG_EXE OUTDIR      -> OUTDIR/cmgdiag.msi
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exe=$(readlink -f "${1:?usage: build-msi.sh CMGDIAG_EXE OUTDIR}")
out=${2:?usage: build-msi.sh CMGDIAG_EXE OUTDIR}
for t in wixl msibuild; do
  command -v $t >/dev/null || { echo "build-msi: $t is not installed (tests/install-deps.sh all)" >&2; exit 1; }
done
version=$(sed -n 's/^project(cmgdiag VERSION \([0-9.]*\).*/\1/p' "$here/../../CMakeLists.txt")
mkdir -p "$out"
out=$(readlink -f "$out")
# wixl takes Source paths relative to the folder it runs in
# the custom action DLL is built beside cmgdiag.exe (CMakeLists.txt, target cmgdiag-setup-ca)
ca="$(dirname "$exe")/cmgdiag-setup-ca.dll"
[ -f "$ca" ] || { echo "build-msi: $ca is missing (build the cmgdiag-setup-ca target)" >&2; exit 1; }
sed -e "s|@VERSION@|$version|g" -e "s|@EXE@|$(basename "$exe")|g" -e "s|@CADLL@|$(basename "$ca")|g" \
  "$here/cmgdiag.wxs" > "$out/cmgdiag.wxs"
(cd "$(dirname "$exe")" && wixl -a x64 -o "$out/cmgdiag.msi" "$out/cmgdiag.wxs")
# wixl 0.101 writes HideTarget as 0x800 (that is msidbCustomActionTypeNoImpersonate) instead of
# msidbCustomActionTypeHideTarget, 0x2000: set the types the actions need by hand.
#   SetupData: 51 (set a property) + 0x2000 = 8243
#   Setup:      1 (DLL in the Binary table) + 0x400 (deferred) + 0x800 (as SYSTEM) + 0x2000 = 11265
msibuild "$out/cmgdiag.msi" -q "UPDATE \`CustomAction\` SET \`Type\` = 8243 WHERE \`Action\` = 'SetupData'" \
  -q "UPDATE \`CustomAction\` SET \`Type\` = 11265 WHERE \`Action\` = 'Setup'"
# The install folder on the system PATH (so a helpdesk call can type `cmgdiag selftest`), removed
# at uninstall: wixl 0.101 knows no <Environment>, so the table and its two standard actions are
# added here. Name "=-*PATH": set at install, removed at uninstall, system-wide; "[~];" appends.
msibuild "$out/cmgdiag.msi" \
  -q 'CREATE TABLE `Environment` (`Environment` CHAR(72) NOT NULL, `Name` CHAR(255) NOT NULL LOCALIZABLE, `Value` CHAR(255) LOCALIZABLE, `Component_` CHAR(72) NOT NULL PRIMARY KEY `Environment`)' \
  -q "INSERT INTO \`Environment\` (\`Environment\`, \`Name\`, \`Value\`, \`Component_\`) VALUES ('Path', '=-*PATH', '[~];[INSTALLDIR]', 'Agent')" \
  -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('RemoveEnvironmentStrings', 3300)" \
  -q "INSERT INTO \`InstallExecuteSequence\` (\`Action\`, \`Sequence\`) VALUES ('WriteEnvironmentStrings', 5200)"
echo "build-msi: $out/cmgdiag.msi ($(stat -c %s "$out/cmgdiag.msi") bytes, version $version)"
