#!/usr/bin/env bash
# Cross-build cmgdiag.exe for 64-bit Windows on Debian 12.
#
#   packaging/windows/build.sh [OUTDIR]          (default OUTDIR: build-windows/)
#
# OpenSSL, curl and cJSON are built from Debian *source* packages (apt-get source) with the
# MinGW-w64 toolchain, zlib comes from libz-mingw-w64-dev. The dependency build is cached outside
# the repository in $CMGDIAG_WINDEPS_CACHE (default ~/.cache/cmgdiag-windeps), keyed by the source
# package versions, the compiler version and this script, so a second run takes seconds. Builds on
# one machine (two checkouts at once) share it under a lock ($cache/.lock, flock): one builds, the
# other waits and uses the result; an entry another build used within a day is never cleaned away.
# The result is a statically linked OUTDIR/cmgdiag.exe (plus the cross-built unit tests, which
# `ctest --test-dir OUTDIR` runs under wine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
out=${1:-build-windows}
jobs=$(nproc 2>/dev/null || echo 2)
host=x86_64-w64-mingw32
log() { printf 'windows-build: %s\n' "$*" >&2; }

need_pkgs=()
command -v ${host}-gcc >/dev/null || need_pkgs+=(mingw-w64)
[ -f /usr/${host}/lib/libz.a ] || need_pkgs+=(libz-mingw-w64-dev)
command -v cmake >/dev/null || need_pkgs+=(cmake)
command -v make >/dev/null || need_pkgs+=(make)
command -v dpkg-source >/dev/null || need_pkgs+=(dpkg-dev)
command -v perl >/dev/null || need_pkgs+=(perl)
command -v patch >/dev/null || need_pkgs+=(patch)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  log "installing ${need_pkgs[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# apt-get source needs a deb-src entry; derive it from the system's binary sources.
if ! grep -rqs '^Types:.*deb-src\|^deb-src ' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding deb-src entries"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    sed 's/^Types: deb$/Types: deb-src/' "$f" > "/etc/apt/sources.list.d/cmgdiag-src-$(basename "$f")"
  done
  apt-get update -q >/dev/null
fi

newest() { apt-cache showsrc "$1" | awk '/^Version:/{print $2}' | sort -V | tail -n 1; }
v_openssl=$(newest openssl); v_curl=$(newest curl); v_cjson=$(newest cjson)
[ -n "$v_openssl" ] && [ -n "$v_curl" ] && [ -n "$v_cjson" ] || { log "apt-cache showsrc found no versions (apt-get update?)"; exit 1; }
gccv=$(${host}-gcc -dumpversion)
key=$(printf '%s\n' "$v_openssl" "$v_curl" "$v_cjson" "$gccv" "$(sed -n '/^# --- deps/,/^# --- end deps/p' "$0")" | sha256sum | cut -c1-16)
cache=${CMGDIAG_WINDEPS_CACHE:-$HOME/.cache/cmgdiag-windeps}
prefix="$cache/$key"

# --- deps (changes here invalidate the cache)
fetch() { # PKG VERSION DEST -> unpacks the source into DEST, prints how
  local pkg=$1 ver=$2 dest=$3 dir="$cache/src/$1-$2" dsc tarball
  mkdir -p "$dir"
  if ! ls "$dir"/*.orig.tar.* >/dev/null 2>&1; then
    # The archive may serve the .orig tarball of a security update but 404 its .dsc; the upstream
    # tarball is all a static build needs, so accept a partial download if the tarball arrived.
    (cd "$dir" && apt-get source -q --download-only "$pkg=$ver" >"$dir/fetch.log" 2>&1) ||
      log "apt-get source $pkg=$ver reported an error (see $dir/fetch.log); checking for the tarball"
  fi
  rm -rf "$dest"
  dsc=$(ls "$dir"/*.dsc 2>/dev/null | head -n 1)
  # With the .dsc, unpack the Debian way so Debian's security patches are applied too.
  if [ -n "$dsc" ] && dpkg-source --no-check -x "$dsc" "$dest" >"$dir/unpack.log" 2>&1; then
    echo "$pkg $ver (Debian source package, patches applied)"
    return 0
  fi
  tarball=$(ls "$dir"/*.orig.tar.* 2>/dev/null | grep -v '\.asc$' | head -n 1)
  [ -n "$tarball" ] || { log "no source for $pkg $ver"; return 1; }
  mkdir -p "$dest" && tar -xf "$tarball" -C "$dest" --strip-components=1
  echo "$pkg $ver (upstream tarball of the Debian source package; the .dsc was not served)"
}
build_deps() {
  local work="$cache/work-$key"
  # Installed straight into the final prefix (exported CMake files hold absolute paths); the
  # VERSIONS file, written last, is what marks the cache entry complete.
  rm -rf "$work" "$prefix"; mkdir -p "$work" "$prefix"
  cat > "$work/toolchain.cmake" <<TC
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_C_COMPILER ${host}-gcc)
set(CMAKE_RC_COMPILER ${host}-windres)
set(CMAKE_FIND_ROOT_PATH /usr/${host} $prefix)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
TC
  fetch openssl "$v_openssl" "$work/openssl" >>"$work/SOURCES" || return 1
  log "building OpenSSL $v_openssl"
  (cd "$work/openssl" &&
    ./Configure mingw64 --cross-compile-prefix=${host}- --prefix="$prefix" --libdir=lib \
      no-shared no-tests no-module >"$work/openssl.log" 2>&1 &&
    make -j"$jobs" build_libs >>"$work/openssl.log" 2>&1 &&
    make install_dev >>"$work/openssl.log" 2>&1) || { tail -n 30 "$work/openssl.log"; return 1; }

  fetch curl "$v_curl" "$work/curl" >>"$work/SOURCES" || return 1
  log "building curl $v_curl"
  (cmake -S "$work/curl" -B "$work/curl-build" -DCMAKE_TOOLCHAIN_FILE="$work/toolchain.cmake" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=OFF \
      -DCURL_USE_OPENSSL=ON -DOPENSSL_ROOT_DIR="$prefix" -DOPENSSL_USE_STATIC_LIBS=ON \
      -DZLIB_LIBRARY=/usr/${host}/lib/libz.a -DZLIB_INCLUDE_DIR=/usr/${host}/include \
      -DBUILD_CURL_EXE=OFF -DBUILD_TESTING=OFF -DCURL_DISABLE_LDAP=ON -DUSE_LIBIDN2=OFF \
      -DCURL_USE_LIBSSH2=OFF -DCURL_USE_LIBPSL=OFF -DCURL_BROTLI=OFF -DCURL_ZSTD=OFF \
      -DUSE_NGHTTP2=OFF >"$work/curl.log" 2>&1 &&
    cmake --build "$work/curl-build" -j"$jobs" >>"$work/curl.log" 2>&1 &&
    cmake --install "$work/curl-build" >>"$work/curl.log" 2>&1) || { tail -n 30 "$work/curl.log"; return 1; }
  grep -q 'HAVE_LIBZ 1' "$work/curl-build/lib/curl_config.h" || { log "curl was built without zlib"; return 1; }

  fetch cjson "$v_cjson" "$work/cjson" >>"$work/SOURCES" || return 1
  log "building cJSON $v_cjson"
  (cmake -S "$work/cjson" -B "$work/cjson-build" -DCMAKE_TOOLCHAIN_FILE="$work/toolchain.cmake" \
      -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_SHARED_LIBS=OFF \
      -DBUILD_SHARED_AND_STATIC_LIBS=OFF -DENABLE_CJSON_TEST=OFF -DENABLE_CJSON_UTILS=OFF \
      -DENABLE_CUSTOM_COMPILER_FLAGS=OFF -DENABLE_TARGET_EXPORT=ON >"$work/cjson.log" 2>&1 &&
    cmake --build "$work/cjson-build" -j"$jobs" >>"$work/cjson.log" 2>&1 &&
    cmake --install "$work/cjson-build" >>"$work/cjson.log" 2>&1) || { tail -n 30 "$work/cjson.log"; return 1; }

  { cat "$work/SOURCES"
    printf 'zlib %s (libz-mingw-w64-dev)\nmingw-gcc %s\n' \
      "$(dpkg-query -W -f='${Version}' libz-mingw-w64-dev 2>/dev/null || echo unknown)" "$gccv"
  } > "$prefix/VERSIONS.tmp" && mv "$prefix/VERSIONS.tmp" "$prefix/VERSIONS"
  rm -rf "$work"
}
# --- end deps

# Two builds on one machine (two checkouts) share the cache: one builds or cleans it at a time
# (flock), the other waits and then uses what the first built.
mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -n 9; then
  log "waiting for another build that holds $cache/.lock"
  flock 9
fi
if [ -f "$prefix/VERSIONS" ]; then
  log "using cached dependencies $prefix"
else
  start=$(date +%s)
  build_deps || { flock -u 9; exit 1; }
  log "dependencies built in $(( $(date +%s) - start )) s"
fi
touch "$prefix/.used" # a build uses this entry: another build's clean-up leaves it for a day
sed 's/^/windows-build:   /' "$prefix/VERSIONS" >&2

# Dependencies from other keys are stale: drop them so the cache does not grow without bound, but
# not one another build (another checkout) used within the last day.
for d in "$cache"/*/; do
  case "$(basename "$d")" in
    src|"$key") ;;
    *) [ -n "$(find "$d" -maxdepth 1 -name .used -mmin -1440 2>/dev/null)" ] || rm -rf "$d" ;;
  esac
done
flock -u 9
mkdir -p "$out"
# A build folder configured against another dependency prefix has stale find_package results.
if [ -f "$out/CMakeCache.txt" ] && ! grep -qx "CMGDIAG_WINDEPS_PREFIX:UNINITIALIZED=$prefix\|CMGDIAG_WINDEPS_PREFIX:STRING=$prefix\|CMGDIAG_WINDEPS_PREFIX:PATH=$prefix" "$out/CMakeCache.txt"; then
  rm -rf "$out/CMakeCache.txt" "$out/CMakeFiles"
fi
cmake -S "$src" -B "$out" -DCMAKE_TOOLCHAIN_FILE="$here/mingw-w64-x86_64.cmake" \
  -DCMGDIAG_WINDEPS_PREFIX="$prefix" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
  -DCMGDIAG_STATIC=ON -DCMAKE_EXE_LINKER_FLAGS_RELEASE=-s >"$out/configure.log" 2>&1 || { cat "$out/configure.log"; exit 1; }
cmake --build "$out" -j"$jobs"
cp "$prefix/VERSIONS" "$out/DEPENDENCY-VERSIONS"
log "built $out/cmgdiag.exe ($(stat -c %s "$out/cmgdiag.exe") bytes)"
