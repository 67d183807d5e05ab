#!/usr/bin/env bash
# Benchmarks: builds a release tree (build-bench/) and prints the figures. Not part of the test
# suite: numbers vary with the machine; the README quotes what they measured.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
bash tests/install-deps.sh build >/dev/null
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-bench -j"$(nproc 2>/dev/null || echo 2)" --target bench_parsers cmgdiag >/dev/null
./build-bench/tests/bench_parsers tests/data/aadjoin "${BENCH_ITERATIONS:-2000}"
# Bundle sizes and the spool drain rate to Azurite (starts the lab's Azurite; needs Node.js/npm).
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" tests/bench/shipping.py build-bench/cmgdiag --bundles "${BENCH_DRAIN_BUNDLES:-1000}"
# The CMG probe's CPU and wall time next to curl fetching the same MP list (starts the CMG double).
"$py" tests/bench/probe.py build-bench/cmgdiag
