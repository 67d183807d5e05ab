#!/usr/bin/env bash
# The release artefacts in one command, on Debian 12 as root:
#   packaging/release.sh [OUTDIR]         (default dist/)
# -> cmgdiag.exe (static, MinGW-w64), cmgdiag.msi (wixl), cmgdiag_VERSION_amd64.deb (CPack),
#    the Group Policy template (cmgdiag-admx.tar.gz) and SHA256SUMS over all of them.
# With a code-signing certificate, cmgdiag.exe, the MSI's custom-action DLL and the MSI are
# Authenticode-signed, timestamped and verified (packaging/windows/sign.sh, osslsigncode):
#   CMGDIAG_SIGN_PFX=cert.pfx CMGDIAG_SIGN_PASSWORD_FILE=pass.txt packaging/release.sh
# (CMGDIAG_SIGN_TIMESTAMP_URL, CMGDIAG_SIGN_CAFILE: see sign.sh). Without it they are not signed.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/dist}" && cd "${1:-$src/dist}" && pwd)
cd "$src"
bash tests/install-deps.sh all >/dev/null
jobs=$(nproc 2>/dev/null || echo 2)
rm -f "$out"/cmgdiag.exe "$out"/cmgdiag.msi "$out"/cmgdiag_*.deb "$out"/cmgdiag-admx.tar.gz "$out"/SHA256SUMS
bash packaging/windows/build.sh "$src/build-release/windows" >/dev/null
if [ -n "${CMGDIAG_SIGN_PFX:-}" ]; then
  # signed before the MSI is built: the MSI carries the signed program and custom action
  bash packaging/windows/sign.sh build-release/windows/cmgdiag.exe build-release/windows/cmgdiag-setup-ca.dll
else
  echo "release: not signed (no CMGDIAG_SIGN_PFX)" >&2
fi
cp build-release/windows/cmgdiag.exe "$out/"
bash packaging/windows/build-msi.sh "$src/build-release/windows/cmgdiag.exe" "$src/build-release/msi" >/dev/null
[ -n "${CMGDIAG_SIGN_PFX:-}" ] && bash packaging/windows/sign.sh build-release/msi/cmgdiag.msi
cp build-release/msi/cmgdiag.msi "$out/"
cmake -S . -B build-release/linux -DCMAKE_BUILD_TYPE=Release -DCMGDIAG_TESTS=OFF >/dev/null
cmake --build build-release/linux -j"$jobs" --target cmgdiag >/dev/null
(cd build-release/linux && rm -f cmgdiag_*.deb && cpack -G DEB >/dev/null && cp cmgdiag_*.deb "$out/")
tar -C packaging/windows/policy -czf "$out/cmgdiag-admx.tar.gz" cmgdiag.admx en-US/cmgdiag.adml
(cd "$out" && sha256sum cmgdiag.exe cmgdiag.msi cmgdiag_*.deb cmgdiag-admx.tar.gz > SHA256SUMS)
echo "release artefacts in $out:"
(cd "$out" && ls -l cmgdiag.exe cmgdiag.msi cmgdiag_*.deb cmgdiag-admx.tar.gz | awk '{printf "  %-34s %9d bytes\n", $9, $5}')
cat "$out/SHA256SUMS"
