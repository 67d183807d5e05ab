#!/usr/bin/env bash
# Benchmarks: installs what is missing, builds a release tree (build-bench/) and the Windows
# cmgdiag.exe (when MinGW-w64 is there), starts the lab and prints the table of docs/performance.md
# ("Performance and reliability"). Not part of the test suite: numbers vary with the machine.
#   tests/bench/run.sh [--runs N]        (BENCH_DRAIN_BUNDLES=1000 by default)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
bash tests/install-deps.sh all >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc 2>/dev/null || echo 2)" --target bench_parsers cmgdiag cmgdiag-agent >/dev/null
win=()
if command -v x86_64-w64-mingw32-gcc >/dev/null; then
  bash packaging/windows/build.sh "$src/build-bench/windows" >/dev/null && win=(--windows-exe "$src/build-bench/windows/cmgdiag.exe")
fi
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" tests/bench/table.py build-bench "${win[@]}" --drain-bundles "${BENCH_DRAIN_BUNDLES:-1000}" "$@"
echo; echo "content check byte budget:"; "$py" tests/bench/content_budget.py build-bench/cmgdiag
echo; echo "the supervisor and its worker:"; "$py" tests/bench/supervisor.py build-bench/cmgdiag
echo; echo "the fleet report at 100,000 bundles:"; "$py" tests/bench/report.py build-bench/cmgdiag
