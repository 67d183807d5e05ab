#!/usr/bin/env bash
# Two builds on one machine share the Windows dependency cache (packaging/windows/build.sh): while
# another build holds the cache's lock, a build waits for it and then uses the cached dependencies;
# an entry another checkout used within the last day is never cleaned away, a stale one is.
#   tests/packaging/cache_lock.sh OUTDIR     (OUTDIR: a folder build.sh already built, so this is quick)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=$1
cache=${CMGDIAG_WINDEPS_CACHE:-$HOME/.cache/cmgdiag-windeps}
[ -f "$out/cmgdiag.exe" ] || { echo "cache_lock: $out has no cmgdiag.exe (build it first)"; exit 1; }
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

recent="$cache/zz-cache-lock-test-recent" stale="$cache/zz-cache-lock-test-stale"
mkdir -p "$recent" "$stale"
touch "$recent/.used"
touch -d '2 days ago' "$stale/.used"
trap 'rm -rf "$recent" "$stale"' EXIT

# another build holds the lock for 5 s
( exec 9>"$cache/.lock"; flock 9; sleep 5 ) &
holder=$!
sleep 0.5
start=$(date +%s)
log=$(mktemp)
if bash "$src/packaging/windows/build.sh" "$out" >"$log" 2>&1; then ok "the build finished after the other released the lock"
else bad "the build failed while another held the lock: $(tail -n 5 "$log")"; fi
took=$(( $(date +%s) - start ))
wait "$holder"
grep -q "waiting for another build" "$log" && ok "it said it waits for another build" || bad "it did not wait: $(head -n 5 "$log")"
[ "$took" -ge 3 ] && ok "it waited ($took s)" || bad "it did not wait for the lock (took $took s)"
grep -q "using cached dependencies" "$log" && ok "it used the cached dependencies" || bad "it rebuilt the dependencies"
[ -d "$recent" ] && ok "an entry another build used today is kept" || bad "an entry used today was removed"
[ -d "$stale" ] && bad "an entry unused for two days was kept" || ok "an entry unused for two days was cleaned away"
rm -f "$log"
[ $fail = 0 ] && echo "cache_lock: all passed" || echo "cache_lock: FAILED"
exit $fail
