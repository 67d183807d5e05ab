#!/usr/bin/env bash
# Builds cmgdiag.msi with wixl from a cross-built cmgdiag.exe.
#   packaging/windows/build-msi.sh CMGDIAG_EXE OUTDIR      -> OUTDIR/cmgdiag.msi
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
exe=$(readlink -f "${1:?usage: build-msi.sh CMGDIAG_EXE OUTDIR}")
out=${2:?usage: build-msi.sh CMGDIAG_EXE OUTDIR}
command -v wixl >/dev/null || { echo "build-msi: wixl is not installed (tests/install-deps.sh all)" >&2; exit 1; }
version=$(sed -n 's/^project(cmgdiag VERSION \([0-9.]*\).*/\1/p' "$here/../../CMakeLists.txt")
mkdir -p "$out"
out=$(readlink -f "$out")
# wixl takes Source paths relative to the folder it runs in
sed -e "s|@VERSION@|$version|g" -e "s|@EXE@|$(basename "$exe")|g" "$here/cmgdiag.wxs" > "$out/cmgdiag.wxs"
(cd "$(dirname "$exe")" && wixl -a x64 -o "$out/cmgdiag.msi" "$out/cmgdiag.wxs")
echo "build-msi: $out/cmgdiag.msi ($(stat -c %s "$out/cmgdiag.msi") bytes, version $version)"
