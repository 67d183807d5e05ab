#!/usr/bin/env bash
# Every parser must run in linear time: 4 MiB of hostile input may take at most 5 times as long as
# 1 MiB (tests/bench/scaling.c). Wall time screens every parser and pattern; a pattern whose time
# ratio is over 5 is judged again by instruction count under valgrind (callgrind), which caches and
# page faults do not blur. A parser that needs over 5 s for 1 MiB fails outright.
#   tests/bench/scaling.sh BUILD_DIR
set -u
dir=${1:?usage: scaling.sh BUILD_DIR}/tests
rc=0
for t in config bundle text dsreg mpparse cmtrace mplist netparse certjson fleet bloblist served worker transcript; do
  out=$("$dir/scale_$t")
  printf '%s\n' "$out" | grep -v '^parser ' 
  if printf '%s\n' "$out" | grep -q 'over 5 s'; then rc=1; fi
  for idx in $(printf '%s\n' "$out" | sed -n 's/.*SLOW: pattern \([0-9]*\)$/\1/p'); do
    if ! command -v valgrind >/dev/null; then
      echo "FAIL: $t pattern $idx is slow by wall time and valgrind is not installed to count instructions"; rc=1; continue
    fi
    ir() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$dir/scale_$t" --once "$idx" "$1" 2>&1 |
             sed -n 's/.*refs: *\([0-9,]*\).*/\1/p' | tr -d ,; }
    i1=$(ir 1) i4=$(ir 4)
    ratio=$(awk -v a="$i1" -v b="$i4" 'BEGIN { printf "%.2f", (a > 0 ? b / a : 99) }')
    if awk -v r="$ratio" 'BEGIN { exit !(r <= 5.0) }'; then
      echo "  $t pattern $idx: instructions $i1 -> $i4, ratio $ratio: linear (the wall time is cache and page faults)"
    else
      echo "FAIL: $t pattern $idx: instructions $i1 -> $i4, ratio $ratio: not linear"; rc=1
    fi
  done
done
# the fleet report: linear in distinct root causes and in devices
python3 "$(dirname "$0")/report_scaling.py" "${1}/cmgdiag" 2500 || rc=1
[ $rc -eq 0 ] && echo "scaling: every parser linear (4 MiB within 5x of 1 MiB), the report linear in causes"
exit $rc
