#!/usr/bin/env bash
# Installs what cmgdiag needs on Debian 12 and skips what is already there.
#   tests/install-deps.sh build     compiler, CMake, libcurl, OpenSSL, cJSON, zlib, and the lab: the CMG
#                                   double (nginx, python3, the openssl tool for its PKI) and the
#                                   collection point (Node.js + npm for Azurite)
#   tests/install-deps.sh all       + python3-jsonschema, dnsmasq (the lab's DNS), iproute2 (network change test), clang with libFuzzer, clang-format, the MinGW-w64 cross toolchain, wine, wixl, osslsigncode (signing), valgrind (parser scaling), chromium (the fleet report in a real browser)
set -euo pipefail
what=${1:-all}
pkgs=(gcc libc6-dev make cmake pkg-config libcurl4-openssl-dev libssl-dev libcjson-dev zlib1g-dev ca-certificates
  openssl nginx python3)
if [ "$what" = all ]; then
  pkgs+=(python3-jsonschema dnsmasq-base tinyproxy iproute2 clang clang-format libclang-rt-14-dev mingw-w64 libz-mingw-w64-dev wine wine64 wixl msitools osslsigncode file curl dpkg-dev patch xz-utils valgrind chromium)
fi
missing=()
# Node.js may come from Debian (nodejs + npm) or from NodeSource (npm inside nodejs): ask for the commands.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: everything is installed"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || { echo "install-deps: missing ${missing[*]}; run as root to install them" >&2; exit 1; }
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
