#!/usr/bin/env bash
# The Debian package: built with CPack from BUILD_DIR, its contents checked, installed with dpkg,
# `cmgdiag version` and one agent cycle run from it, then purged.
#   tests/packaging/deb.sh BUILD_DIR      (installs into this system: needs root)
set -u
build=$(readlink -f "$1")
[ "$(id -u)" -eq 0 ] || { echo "SKIP: installing a package needs root"; exit 77; }
for t in dpkg-shlibdeps file; do # CPack's dependency list needs both
  command -v $t >/dev/null || { echo "SKIP: $t is not installed (tests/install-deps.sh all)"; exit 77; }
done
fails=0
# the package leaves its account behind on purge (Debian's way); the test removes it when it made it,
# so that this machine's later runs are as before
had_account=0
getent passwd cmgdiag >/dev/null && had_account=1
trap '[ $had_account = 1 ] || userdel cmgdiag 2>/dev/null; getent group cmgdiag >/dev/null && [ $had_account = 0 ] && groupdel cmgdiag 2>/dev/null; true' EXIT
ok() { echo "ok   $1"; }
no() { echo "FAIL $1"; fails=$((fails + 1)); }
rm -f "$build"/cmgdiag_*.deb
(cd "$build" && cpack -G DEB > "$build/cpack.log" 2>&1)
deb=$(ls "$build"/cmgdiag_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && ok "cpack built $(basename "$deb") ($(stat -c %s "$deb") bytes)" || { no "cpack: $(tail -n 15 "$build/cpack.log")"; exit 1; }
c=$(dpkg -c "$deb")
for f in ./usr/bin/cmgdiag ./usr/bin/cmgdiag-agent ./usr/lib/systemd/system/cmgdiag.service ./etc/cmgdiag/cmgdiag.json; do
  [[ $c == *" $f"* ]] && ok "contains $f" || no "missing $f"
done
[[ $(echo "$c" | grep ' ./etc/cmgdiag/cmgdiag.json') == -rw-------* ]] && ok "the configuration is root-only (0600)" || no "config mode"
[ "$(dpkg-deb -f "$deb" Version)" = "$(sed -n 's/^project(cmgdiag VERSION \([0-9.]*\).*/\1/p' "$(dirname "$0")/../../CMakeLists.txt")" ] &&
  ok "version from the project" || no "version $(dpkg-deb -f "$deb" Version)"
[[ $(dpkg-deb -f "$deb" Depends) == *libcurl4* ]] && ok "dependencies from dpkg-shlibdeps: $(dpkg-deb -f "$deb" Depends)" || no "Depends"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles 2>/dev/null | grep -qx /etc/cmgdiag/cmgdiag.json && ok "cmgdiag.json is a conffile" || no "conffiles"
unit=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/lib/systemd/system/cmgdiag.service)
for k in "ProtectSystem=strict" "NoNewPrivileges=yes" "StateDirectory=cmgdiag" "LogsDirectory=cmgdiag" "CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_CHOWN CAP_KILL" \
         "RuntimeDirectory=cmgdiag" "RuntimeDirectoryMode=0755" "IPAddressDeny=169.254.0.0/16 fe80::/10" \
         "ExecReload=/bin/kill -HUP \$MAINPID" "ExecStart=/usr/bin/cmgdiag -c /etc/cmgdiag/cmgdiag.json run"; do
  grep -qxF "$k" <<<"$unit" && ok "unit: $k" || no "unit lacks $k"
done
if command -v systemd-analyze >/dev/null; then
  d=$(mktemp -d); printf '%s\n' "$unit" > "$d/cmgdiag.service"
  systemd-analyze verify "$d/cmgdiag.service" 2>&1 | grep -v "not executable\|No such file" | grep -q . && no "systemd-analyze: $(systemd-analyze verify "$d/cmgdiag.service" 2>&1 | head -3)" || ok "systemd-analyze verify"
  rm -rf "$d"
else
  echo "note systemd-analyze is not installed here: the unit is checked key by key only"
fi
dpkg -P cmgdiag >/dev/null 2>&1
if DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" >/dev/null 2>&1; then
  ok "dpkg -i"
  out=$(/usr/bin/cmgdiag version 2>&1) && [[ $out == "cmgdiag "* ]] && ok "installed: $(echo "$out" | head -1)" || no "cmgdiag version: $out"
  [ "$(stat -c %a /etc/cmgdiag)" = 700 ] && [ "$(stat -c %a /etc/cmgdiag/cmgdiag.json)" = 600 ] && ok "postinst: /etc/cmgdiag 0700, cmgdiag.json 0600" || no "modes"
  u=$(getent passwd cmgdiag) && [[ $u == *:/nonexistent:/usr/sbin/nologin ]] && [ "$(echo "$u" | cut -d: -f3)" != 0 ] &&
    ok "postinst: the system account cmgdiag for the network checks" || no "no cmgdiag account: $u"
  /usr/bin/cmgdiag -c /etc/cmgdiag/cmgdiag.json config check >/dev/null 2>&1 && ok "the packaged configuration is valid" || no "config check"
  /usr/bin/cmgdiag -c /etc/cmgdiag/cmgdiag.json run --once >/dev/null 2>&1; rc=$?
  [ $rc -le 2 ] && [ -f /var/log/cmgdiag/cmgdiag.log ] && ok "one cycle from the package (exit $rc), log in /var/log/cmgdiag" || no "run --once ($rc)"
  [ "$(stat -c %U:%a /var/lib/cmgdiag/state/unprivileged 2>&1)" = cmgdiag:700 ] &&
    ok "the network checks ran as cmgdiag, in /var/lib/cmgdiag/state/unprivileged" || no "worker folder: $(stat -c %U:%a /var/lib/cmgdiag/state/unprivileged 2>&1)"
  dpkg -P cmgdiag >/dev/null 2>&1 && [ ! -e /usr/bin/cmgdiag ] && [ ! -e /var/lib/cmgdiag ] && ok "dpkg -P removes it all" || no "purge"
else
  no "dpkg -i: $(DEBIAN_FRONTEND=noninteractive dpkg -i "$deb" 2>&1 | tail -3)"
fi
echo "deb: $fails failed"
[ $fails -eq 0 ]
