#!/usr/bin/env bash
# The release artefacts in one command, on Debian 12 as root:
#   packaging/release.sh [OUTDIR]         (default dist/)
# -> cmgdiag.exe (static, MinGW-w64), cmgdiag.msi (wixl), cmgdiag_VERSION_amd64.deb (CPack),
#    the Group Policy template (cmgdiag-admx.tar.gz) and SHA256SUMS over all of them.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-$src/dist}" && cd "${1:-$src/dist}" && pwd)
cd "$src"
bash tests/install-deps.sh all >/dev/null
jobs=$(nproc 2>/dev/null || echo 2)
rm -f "$out"/cmgdiag.exe "$out"/cmgdiag.msi "$out"/cmgdiag_*.deb "$out"/cmgdiag-admx.tar.gz "$out"/SHA256SUMS
bash packaging/windows/build.sh "$src/build-release/windows" >/dev/null
cp build-release/windows/cmgdiag.exe "$out/"
bash packaging/windows/build-msi.sh "$src/build-release/windows/cmgdiag.exe" "$src/build-release/msi" >/dev/null
cp build-release/msi/cmgdiag.msi "$out/"
cmake -S . -B build-release/linux -DCMAKE_BUILD_TYPE=Release -DCMGDIAG_TESTS=OFF >/dev/null
cmake --build build-release/linux -j"$jobs" --target cmgdiag >/dev/null
(cd build-release/linux && rm -f cmgdiag_*.deb && cpack -G DEB >/dev/null && cp cmgdiag_*.deb "$out/")
tar -C packaging/windows/policy -czf "$out/cmgdiag-admx.tar.gz" cmgdiag.admx en-US/cmgdiag.adml
(cd "$out" && sha256sum cmgdiag.exe cmgdiag.msi cmgdiag_*.deb cmgdiag-admx.tar.gz > SHA256SUMS)
echo "release artefacts in $out:"
(cd "$out" && ls -l cmgdiag.exe cmgdiag.msi cmgdiag_*.deb cmgdiag-admx.tar.gz | awk '{printf "  %-34s %9d bytes\n", $9, $5}')
cat "$out/SHA256SUMS"
