#!/usr/bin/env bash
# The reliability harness. CI runs the short tier as part of tests/run-all.sh (the kill -9 loop
# with 200 iterations, a 30-cycle outage, every libFuzzer target for 60 s under ASan+UBSan, the
# hostile-server matrix); this script runs them at full length:
#   tests/bench/reliability.sh [--full]
#     --full: 10,000 kill -9 iterations, a 168-cycle outage (an hourly agent's week), 10 minutes
#             per fuzz target; without it, the CI lengths.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
full=false
[ "${1:-}" = "--full" ] && full=true
bash tests/install-deps.sh all >/dev/null || exit 1
iterations=200 cycles=30 fuzz=60
$full && { iterations=10000; cycles=168; fuzz=600; }
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null && cmake --build build -j"$(nproc)" >/dev/null || exit 1
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
rc=0
echo "== kill -9 loop: $iterations iterations"
"$py" tests/e2e/crash_test.py build/cmgdiag --iterations "$iterations" || rc=1
echo "== collection point down for $cycles cycles"
CMGDIAG_OUTAGE_CYCLES=$cycles "$py" tests/e2e/test_daemon.py build/cmgdiag \
  Daemon.test_long_outage_spool_stays_in_cap_drops_counted_then_delivered 2>&1 | grep -E "outage:|^OK|FAIL|Error" || rc=1
echo "== hostile servers (each within its deadline, peak memory under 40 MB)"
"$py" tests/e2e/test_cmgprobe.py build/cmgdiag Probe.test_hostile_server_matrix 2>&1 | grep -E "hostile |^OK|FAIL|Error" || rc=1
echo "== libFuzzer, $fuzz s per target (ASan+UBSan)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMGDIAG_FUZZ=ON -DCMGDIAG_FUZZ_SECONDS="$fuzz" >/dev/null &&
  cmake --build build-fuzz -j"$(nproc)" >/dev/null || rc=1
ctest --test-dir build-fuzz -L '^fuzz$' -j"$(nproc)" --output-on-failure | grep -E "Test +#|tests passed" || rc=1
exit $rc
