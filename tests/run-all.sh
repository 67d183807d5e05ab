#!/usr/bin/env bash
# The full test suite: installs what is missing, builds, runs every tier.
#   unit, plugin, e2e, security, windows, package  in build/   (RelWithDebInfo)
#   unit, plugin                in build-asan/   (AddressSanitizer + UndefinedBehaviorSanitizer)
# Ends with one line "N passed, M failed" over all tiers; exits non-zero if anything failed.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
cd "$src"
t0=$(date +%s)
bash tests/install-deps.sh all || exit 1
jobs=$(nproc 2>/dev/null || echo 2)
total_pass=0 total_fail=0 summary="" failures=""

build() { # DIR CMAKE_ARGS...
  local dir=$1; shift
  mkdir -p "$dir"
  cmake -S . -B "$dir" "$@" >"$dir/configure.log" 2>&1 || { cat "$dir/configure.log"; return 1; }
  cmake --build "$dir" -j"$jobs" 2>&1 | grep -E 'error|warning' ; return "${PIPESTATUS[0]}"
}

tier() { # NAME DIR LABEL-REGEX [CTEST-ARGS...]
  local name=$1 dir=$2 label=$3 start out pass fail
  shift 3
  start=$(date +%s)
  out=$(ctest --test-dir "$dir" -L "$label" --output-on-failure "$@" 2>&1)
  printf '%s\n' "$out"
  # "100% tests passed, 0 tests failed out of 7"
  fail=$(printf '%s\n' "$out" | sed -n 's/.* tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\1/p' | tail -n 1)
  all=$(printf '%s\n' "$out" | sed -n 's/.* tests passed, \([0-9]*\) tests\{0,1\} failed out of \([0-9]*\).*/\2/p' | tail -n 1)
  [ -n "$all" ] || { all=0; fail=1; }
  pass=$((all - fail))
  total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail))
  # CI shows the head and the tail of this output: the lines that name a failure are repeated at
  # the end, so a failed suite deep inside a tier (the windows tier's are minutes long) is named.
  [ "$fail" -eq 0 ] || failures="$failures
---- $name: $(printf '%s\n' "$out" | grep -E '^(FAIL|ERROR)\b|FAIL:|\*\*\*(Failed|Timeout)|Error:|^note:|^not ok' | head -n 40)"
  summary="$summary$(printf '\n  %-16s %3d passed, %d failed  (%d s)' "$name" "$pass" "$fail" $(( $(date +%s) - start )))"
}

mkdir -p build build-asan
# The Windows dependency build (OpenSSL, curl, cJSON from Debian source packages; minutes on a new
# machine, cached after) runs in the background while the native tiers run; the windows tier waits.
prebuild=""
if command -v x86_64-w64-mingw32-gcc >/dev/null; then
  mkdir -p build/windows
  bash packaging/windows/build.sh build/windows/build > build/windows/prebuild.log 2>&1 &
  prebuild=$!
fi
if build build -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  tier unit build '^unit$'
  tier plugin build '^plugin$'
  tier e2e build '^e2e$'
  tier security build '^security$'
  [ -n "$prebuild" ] && { wait "$prebuild" || tail -n 20 build/windows/prebuild.log; }
  export CMGDIAG_RERUNS_FILE="$src/build/windows-reruns.txt"
  rm -f "$CMGDIAG_RERUNS_FILE"
  tier windows build '^windows$'
  # a suite that passed only when run again alone is a pass, but not a silent one
  [ -s "$CMGDIAG_RERUNS_FILE" ] && cat "$CMGDIAG_RERUNS_FILE" &&
    failures="$failures
---- windows (passed): $(cat "$CMGDIAG_RERUNS_FILE")"
  tier package build '^package$'
else
  echo "FAIL: native build"; total_fail=$((total_fail + 1))
fi
if build build-asan -DCMAKE_BUILD_TYPE=Debug -DCMGDIAG_SANITIZE=ON; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    tier asan-unit+plugin build-asan '^(unit|plugin)$'
else
  echo "FAIL: sanitizer build"; total_fail=$((total_fail + 1))
fi
# The short reliability tier's fuzzing: every parser target for 45 s (clang, ASan+UBSan), two at a
# time; full length: tests/bench/reliability.sh --full.
mkdir -p build-fuzz
if CC=clang build build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMGDIAG_FUZZ=ON -DCMGDIAG_FUZZ_SECONDS=45; then
  tier fuzz build-fuzz '^fuzz$' -j"$jobs"
else
  echo "FAIL: fuzz build"; total_fail=$((total_fail + 1))
fi
echo
[ -z "$failures" ] || printf 'What failed, or passed only when run again (the lines that say so, from each tier above):%s\n\n' "$failures"
echo "Test tiers:$summary"
echo "  total time $(( $(date +%s) - t0 )) s"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
