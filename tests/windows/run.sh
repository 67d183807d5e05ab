#!/usr/bin/env bash
# The `windows` test tier: cross-build cmgdiag.exe and the C tests with MinGW-w64, then run the
# unit and plugin tests, the CLI end-to-end tests, the TLS trust tests and the shipping tests under wine.
#   tests/windows/run.sh [WORKDIR]     (default build/windows)
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(readlink -f "${1:-$src/build/windows}")
for tool in x86_64-w64-mingw32-gcc wine python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (tests/install-deps.sh all installs it)"; exit 77; }
done
# Wine shows a folder Everyone may change where Unix has one (it knows no sticky bit), and the agent
# rightly distrusts a configuration or a program below such a folder. So the tier's folders (build,
# wine prefix, temporary folders) must not be below /tmp: a checkout that is (a clone made with
# mktemp -d) works in a folder of its own under $HOME/.cache instead.
below_world_writable() {
  local d=$1
  while [ "$d" != / ]; do
    d=$(dirname "$d")
    [ -n "$(find "$d" -maxdepth 0 -perm -0002 2>/dev/null)" ] && return 0
  done
  return 1
}
if below_world_writable "$work"; then
  work="${HOME:-/root}/.cache/cmgdiag-windows-tests/$(printf %s "$work" | sha256sum | cut -c1-16)"
  below_world_writable "$work" && echo "windows: warning: $work is below a folder anyone may change"
fi
echo "windows: working in $work"
mkdir -p "$work"
export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR" && chmod 0755 "$TMPDIR"
export WINEDEBUG=-all WINEPREFIX="$work/wineprefix" WINEDLLOVERRIDES="mscoree,mshtml="
# One wineserver for the whole tier: each wine start then takes a fraction of a second.
wineserver -p 2>/dev/null || true
trap 'wineserver -k 2>/dev/null' EXIT
start=$(date +%s)
bash "$src/packaging/windows/build.sh" "$work/build" || { echo "FAIL: cross-build"; exit 1; }
echo "windows: cross-build took $(( $(date +%s) - start )) s; cmgdiag.exe is $(stat -c %s "$work/build/cmgdiag.exe") bytes"
wine "$work/build/cmgdiag.exe" version || { echo "FAIL: cmgdiag.exe does not start under wine"; exit 1; }
rc=0
# two checkouts building at once: the dependency cache's lock (a second build of the same folder)
bash "$src/tests/packaging/cache_lock.sh" "$work/build" || rc=1
ctest --test-dir "$work/build" --output-on-failure || rc=1
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3 # Debian's, with python3-jsonschema
# The suites mostly wait on wine and the lab's servers: run them side by side, each with its own
# folders and ports, and print each one's output when all have ended.
mkdir -p "$work/logs"
reruns=${CMGDIAG_RERUNS_FILE:-$work/logs/reruns.txt} # run-all.sh repeats it even when the tier passed
rm -f "$reruns"
declare -A cmds
suite() { # NAME COMMAND...
  local name=$1; shift
  cmds[$name]=$(printf '%q ' "$@")
  ( "$@" > "$work/logs/$name.log" 2>&1; echo $? > "$work/logs/$name.rc" ) &
}
suite cli env CMGDIAG_FAKE_DSREGCMD="$work/build/tests/fake_dsregcmd.exe" \
  "$py" "$src/tests/e2e/test_cli.py" "$work/build/cmgdiag.exe" --wine
suite tls bash "$src/tests/e2e/tls_trust.sh" "$work/build/tests/tls_fetch.exe" --wine
# The CMG probe from cmgdiag.exe (OpenSSL with the Windows certificate store) against the CMG double.
suite cmgprobe "$py" "$src/tests/e2e/test_cmgprobe.py" "$work/build/cmgdiag.exe" --wine
# The request a PKI client makes, with client_cert/client_key (OpenSSL in cmgdiag.exe), under wine.
suite mutual_tls "$py" "$src/tests/e2e/test_mutual_tls.py" "$work/build/cmgdiag.exe" --wine
# The Windows service under wine's Service Control Manager.
suite service bash "$src/tests/windows/service.sh" "$work/build/cmgdiag.exe" "$work/service"
# Shipping from cmgdiag.exe to the lab's Azurite, nginx (mTLS) and fault server, all on Linux loopback.
suite shipping "$py" "$src/tests/e2e/test_shipping.py" "$work/build/cmgdiag.exe" --wine
# netenv from captures and against the Entra double, with wine's (empty) proxy settings.
suite netenv "$py" "$src/tests/e2e/test_netenv.py" "$work/build/cmgdiag.exe" --wine
# The content path from cmgdiag.exe: the CMG double's rate-limited object, 403/404, tinyproxy.
suite content "$py" "$src/tests/e2e/test_content.py" "$work/build/cmgdiag.exe" --wine
# The fleet report from cmgdiag.exe: folders walked with the Win32 API, Azurite's container.
suite report "$py" "$src/tests/e2e/test_report.py" "$work/build/cmgdiag.exe" --wine
wait
for name in cli tls cmgprobe mutual_tls service shipping netenv content report; do
  echo "---- windows: $name"
  cat "$work/logs/$name.log"
  [ "$(cat "$work/logs/$name.rc" 2>/dev/null)" = 0 ] && continue
  # Nine suites side by side on two cores load wine far beyond what one device sees: a suite that
  # failed there runs once more alone. It passes only if it passes alone, and the output says so.
  echo "windows: suite $name failed side by side with the others; running it once more alone"
  if eval "${cmds[$name]}" > "$work/logs/$name.alone.log" 2>&1; then
    echo "note: windows suite $name FAILED under the tier's load and PASSED alone (flaky under load; the failure is above)" |
      tee -a "$reruns"
    # ctest shows a passing tier's output to nobody: the first failure's own words go with the note
    { grep -E -A14 '^(FAIL|ERROR):|^Traceback' "$work/logs/$name.log" | head -n 60 | sed 's/^/    | /'; } >> "$reruns"
  else
    cat "$work/logs/$name.alone.log"
    echo "FAIL: windows suite $name (also alone)"; rc=1
  fi
done
# The MSI (wixl), the Group Policy template and the policy override under wine's registry: alone,
# since a policy in HKLM would change the configuration of every other cmgdiag.exe running.
bash "$src/tests/windows/packaging.sh" "$work/build/cmgdiag.exe" "$work/packaging" || rc=1
# The security findings as wine can show them (ACLs from Unix modes, reparse points, the MSI's
# custom action with msiexec): after packaging.sh, which built the MSI; alone, it installs it.
bash "$src/tests/windows/security.sh" "$work/build/cmgdiag.exe" "$work/build/tests/child_helper.exe" \
  "$work/packaging" "$work/security" || rc=1
# clientauth against wine's machine certificate stores (CryptoAPI): alone, it writes LocalMachine\My.
bash "$src/tests/windows/clientauth.sh" "$work/build/cmgdiag.exe" "$work/build/tests/child_helper.exe" \
  "$work/clientauth" || rc=1
# device against wine's registry (restart sources, provisioning mode) and Win32 power/disk: alone.
bash "$src/tests/windows/device.sh" "$work/build/cmgdiag.exe" "$work/device" || rc=1
# the last result in wine's registry (HKLM\SOFTWARE\cmgdiag\LastResult): alone, it writes HKLM.
bash "$src/tests/windows/lastresult.sh" "$work/build/cmgdiag.exe" "$work/lastresult" || rc=1
# events when a verdict changes: ReportEventW's ID and strings, the message table's text.
bash "$src/tests/windows/events.sh" "$work/build/cmgdiag.exe" "$work/build/tests/event_message.exe" "$work/events" || rc=1
# WinHTTP's proxy, SCHANNEL and HKEY_USERS as netenv reads them, and exec's ACL check: alone too.
bash "$src/tests/windows/netenv.sh" "$work/build/cmgdiag.exe" "$work/build/tests/child_helper.exe" "$work/netenv" || rc=1
echo "windows: tier took $(( $(date +%s) - start )) s"
exit $rc
